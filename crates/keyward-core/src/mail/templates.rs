//! Email templates: askama, always a pair — a plain-text `.txt` and an
//! `.html` with inline styles (mail clients ignore external CSS) — both
//! extending a layout that shows the product name and, when the recipient
//! belongs to one, the school's name. Templates live in `templates/mail/`;
//! their words are Fluent messages (`locales/*/mail.ftl`, `{{ t("…") }}`),
//! rendered in the recipient's language.

use askama::Template;

use super::RenderedEmail;
use crate::error::Internal;
use crate::i18n::{self, Locale, Message, Translate as _};

/// What every email's layout shows around its content.
#[derive(Debug, Clone, Default)]
pub(crate) struct MailFrame {
    /// The recipient's school, when they belong to one.
    pub school_name: Option<String>,
    /// The language the recipient chose (English when none).
    pub locale: Locale,
}

/// Renders the subject and the two parts of one email in the recipient's
/// language (`frame.locale`).
pub(crate) fn render_pair(
    to: &str,
    frame: &MailFrame,
    subject: Message<'_>,
    text: &impl Template,
    html: &impl Template,
) -> Result<RenderedEmail, Internal> {
    i18n::sync_scope(frame.locale, || {
        Ok(RenderedEmail {
            to: to.to_owned(),
            subject: subject.to_string(),
            text: text.render().map_err(Internal::new)?,
            html: html.render().map_err(Internal::new)?,
        })
    })
}

/// `mail.test`, plain text.
#[derive(Template)]
#[template(path = "mail/test.txt")]
pub(crate) struct TestText<'a> {
    pub frame: &'a MailFrame,
    pub public_url: &'a str,
}

/// `mail.test`, HTML.
#[derive(Template)]
#[template(path = "mail/test.html")]
pub(crate) struct TestHtml<'a> {
    pub frame: &'a MailFrame,
    pub public_url: &'a str,
}
