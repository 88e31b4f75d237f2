//! Text in one place per language (issue 15): every word a person reads on
//! a translated page or in an email is a Fluent message in
//! `crates/keyward-core/locales/<language>/*.ftl`, English complete and the
//! fallback of every other language, embedded in the binary at compile time
//! by fluent-templates' `static_loader!`. This module owns the [`Locale`]
//! type (parsed at the edge: a person's own choice, else `Accept-Language`,
//! else English), looking messages up, and how templates reach them. It
//! decides nothing else and imports nothing from the rest of the core.
//!
//! **How a template says a message.** Askama turns `{{ t("signin-title") }}`
//! into `self.t("signin-title")`; [`Translate`] gives that method to every
//! template struct (a blanket impl), so no page struct carries a locale
//! field — the module that derives a `Template` only imports the trait
//! (`use keyward_core::i18n::Translate as _;`). Arguments follow as
//! `{{ t("recovery-sent-ttl").with("ttl", link_ttl) }}`.
//!
//! **Which language.** The locale of the work in hand is a tokio task-local,
//! not a global: the web's middleware runs each request inside
//! [`scope`] with the browser's `Accept-Language`, and the signed-in
//! person's own choice (`users.locale`) replaces it through [`choose`] once
//! the session is read; an email is rendered inside [`sync_scope`] with its
//! recipient's choice. Outside any scope (a test, the CLI) it is English.
//! A message missing from a language falls back to English; one missing
//! from English too (a bug `tests/i18n.rs` catches) is logged and shown as
//! its id.

mod accept_language;

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: the pages and emails
        // are left-to-right, and the marks would end up in plain-text mail.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static EN: LanguageIdentifier = langid!("en");
static ES: LanguageIdentifier = langid!("es");

/// A language keyward speaks. English is the default and the fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    En,
    Es,
}

impl Locale {
    /// Every language, English first (the order of the language page).
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Es];

    /// The language's code as stored, sent in the API and written in
    /// `<html lang>`: `en`, `es`.
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Es => "es",
        }
    }

    /// A language by its code exactly as [`Locale::code`] writes it (a
    /// person's choice, a stored value); anything else is `None`.
    pub fn parse(code: &str) -> Option<Locale> {
        Locale::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The language a browser asks for in `Accept-Language`: the supported
    /// language with the highest quality value (`es-ES;q=0.9` counts as
    /// `es`; `q=0` refuses), English when none is supported.
    pub fn from_accept_language(header: &str) -> Locale {
        accept_language::best(header).unwrap_or_default()
    }

    /// The language's own name ("English", "Español"), as its speakers read it.
    pub fn own_name(self) -> String {
        text_in(self, "language-own-name")
    }

    fn langid(self) -> &'static LanguageIdentifier {
        match self {
            Locale::En => &EN,
            Locale::Es => &ES,
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

tokio::task_local! {
    static CURRENT: Cell<Locale>;
}

/// Runs `work` with `locale` as the current language (the web's middleware
/// wraps each request in it).
pub fn scope<F: Future>(locale: Locale, work: F) -> impl Future<Output = F::Output> {
    CURRENT.scope(Cell::new(locale), work)
}

/// Runs `work` with `locale` as the current language, synchronously (an
/// email rendered for its recipient).
pub fn sync_scope<R>(locale: Locale, work: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(Cell::new(locale), work)
}

/// The language of the work in hand; English outside any scope.
pub fn current() -> Locale {
    CURRENT.try_with(Cell::get).unwrap_or_default()
}

/// Makes `locale` the current language for the rest of the scope (the
/// signed-in person's own choice, read with their session). Outside a
/// scope it does nothing.
pub fn choose(locale: Locale) {
    let _ = CURRENT.try_with(|current| current.set(locale));
}

/// A value given to a message: text, or a number (which picks the plural
/// form: `{ $count -> [one] … *[other] … }`).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Number(i64),
}

/// What can be given to a message as an argument.
pub trait ToArg {
    fn to_arg(&self) -> Arg;
}

impl ToArg for str {
    fn to_arg(&self) -> Arg {
        Arg::Text(self.to_owned())
    }
}

impl ToArg for String {
    fn to_arg(&self) -> Arg {
        Arg::Text(self.clone())
    }
}

impl<T: ToArg + ?Sized> ToArg for &T {
    fn to_arg(&self) -> Arg {
        (**self).to_arg()
    }
}

macro_rules! number_args {
    ($($t:ty),*) => {$(
        impl ToArg for $t {
            fn to_arg(&self) -> Arg {
                Arg::Number(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
number_args!(u8, u16, u32, u64, usize, i32, i64);

/// How an argument is marked in HTML ([`Message::html`]); plain text
/// shows every argument as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Markup {
    None,
    Strong,
    Code,
}

/// A message with its arguments, looked up in the current language when it
/// is written (`Display`), so a template escapes it like any other value.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    id: &'a str,
    args: Vec<(&'a str, Arg, Markup)>,
}

impl<'a> Message<'a> {
    pub fn new(id: &'a str) -> Message<'a> {
        Message {
            id,
            args: Vec::new(),
        }
    }

    /// The message with one more argument, `{ $name }` in the message.
    pub fn with(mut self, name: &'a str, value: impl ToArg) -> Message<'a> {
        self.args.push((name, value.to_arg(), Markup::None));
        self
    }

    /// An argument that [`Message::html`] shows in `<strong>`.
    pub fn with_strong(mut self, name: &'a str, value: impl ToArg) -> Message<'a> {
        self.args.push((name, value.to_arg(), Markup::Strong));
        self
    }

    /// An argument that [`Message::html`] shows in `<code>`.
    pub fn with_code(mut self, name: &'a str, value: impl ToArg) -> Message<'a> {
        self.args.push((name, value.to_arg(), Markup::Code));
        self
    }

    /// The message in `locale`, as plain text.
    pub fn in_locale(&self, locale: Locale) -> String {
        let args: Vec<_> = self.args.iter().map(|(n, v, _)| (*n, v.clone())).collect();
        lookup(locale, self.id, &args)
    }

    /// The message in the current language as HTML: its text escaped, and
    /// the arguments given `with_strong` / `with_code` in their element.
    /// Translations stay plain text; only keyward adds markup.
    pub fn html(&self) -> HtmlText {
        // Each marked argument stands in as a private-use placeholder while
        // the text is escaped, then becomes its element.
        let marker = |i: usize| format!("\u{E000}{i}\u{E001}");
        let args: Vec<_> = (self.args.iter().enumerate())
            .map(|(i, (name, value, markup))| match markup {
                Markup::None => (*name, value.clone()),
                _ => (*name, Arg::Text(marker(i))),
            })
            .collect();
        let mut out = escape_html(&lookup(current(), self.id, &args));
        for (i, (_, value, markup)) in self.args.iter().enumerate() {
            let tag = match markup {
                Markup::None => continue,
                Markup::Strong => "strong",
                Markup::Code => "code",
            };
            let value = match value {
                Arg::Text(text) => escape_html(text),
                Arg::Number(n) => n.to_string(),
            };
            out = out.replace(&marker(i), &format!("<{tag}>{value}</{tag}>"));
        }
        HtmlText(out)
    }
}

/// HTML made by [`Message::html`]: askama writes it as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlText(String);

impl fmt::Display for HtmlText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for HtmlText {}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.in_locale(current()))
    }
}

/// Gives every askama template `{{ t("id") }}` (see the module's comment).
pub trait Translate {
    fn t<'a>(&self, id: &'a str) -> Message<'a> {
        Message::new(id)
    }

    /// The current language's code, for `<html lang="{{ lang() }}">`.
    fn lang(&self) -> &'static str {
        current().code()
    }
}

impl<T: askama::Template + ?Sized> Translate for T {}

/// The message `id` in the current language.
pub fn text(id: &str) -> String {
    lookup(current(), id, &[])
}

/// The message `id` in `locale`.
pub fn text_in(locale: Locale, id: &str) -> String {
    lookup(locale, id, &[])
}

/// A duration as people say it, in the current language: "30 minutes",
/// "1 hour", "2 hours 30 minutes" (whole minutes; at least one).
pub fn duration_words(duration: std::time::Duration) -> String {
    let minutes = (duration.as_secs() / 60).max(1);
    let (h, m) = (minutes / 60, minutes % 60);
    let hours = Message::new("duration-hours").with("hours", h);
    let mins = Message::new("duration-minutes").with("minutes", m);
    match (h, m) {
        (0, _) => mins.to_string(),
        (_, 0) => hours.to_string(),
        _ => Message::new("duration-hours-minutes")
            .with("hours", hours.to_string())
            .with("minutes", mins.to_string())
            .to_string(),
    }
}

/// Whether `locale` itself (not its fallback) has the message `id`.
pub fn has(locale: Locale, id: &str) -> bool {
    // Looked up without its arguments, a message that takes some fails to
    // format but is there: only "no such message" (`MessageRetrieval`)
    // means absent. fluent-templates does not export its error type, so
    // its variant is read by name (the version is pinned; the tests of
    // `tests/i18n.rs` would fail if the name changed).
    match LOCALES.lookup_single_language::<&str>(locale.langid(), id, None) {
        Ok(_) => true,
        Err(err) => format!("{err:?}").starts_with("FluentError"),
    }
}

fn lookup(locale: Locale, id: &str, args: &[(&str, Arg)]) -> String {
    let args: HashMap<Cow<'static, str>, FluentValue<'_>> = args
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Arg::Text(text) => FluentValue::from(text.as_str()),
                Arg::Number(n) => FluentValue::from(*n),
            };
            (Cow::Owned((*name).to_owned()), value)
        })
        .collect();
    let args = (!args.is_empty()).then_some(&args);
    match LOCALES.try_lookup_complete(locale.langid(), id, args) {
        Some(text) => text,
        None => {
            tracing::warn!(id, locale = locale.code(), "no such message");
            id.to_owned()
        }
    }
}

#[cfg(test)]
mod tests;
