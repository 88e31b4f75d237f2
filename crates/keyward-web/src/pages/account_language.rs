//! Account Settings > **Language** (issue 15): the person chooses the
//! language of keyward's pages and of the emails sent to them, or to follow
//! their browser (`Accept-Language`). The choice is stored on the account
//! (`users.locale`) and read with the session on every page; it is saved
//! with a form post and then shown again (post/redirect/get), so the page
//! that answers is already in the new language.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::i18n::{self, Locale, Translate as _};
use serde::Deserialize;

use super::{Nav, render};
use crate::error::AppError;
use crate::extract::{PageForm, Visitor};
use crate::shared::query::query_param;
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

/// One language to choose.
struct Choice {
    code: &'static str,
    /// Its name in itself ("Español").
    name: String,
    chosen: bool,
}

#[derive(Template)]
#[template(path = "account_language.html")]
struct LanguagePage {
    nav: Option<Nav>,
    csrf_token: String,
    choices: Vec<Choice>,
    /// No language chosen: pages follow the browser.
    follows_browser: bool,
    /// The browser's language now, in itself.
    browser_language: String,
    saved: bool,
    error: Option<String>,
}

impl LanguagePage {
    fn new(visitor: &Visitor, chosen: Option<Locale>, headers: &HeaderMap) -> LanguagePage {
        LanguagePage {
            nav: Nav::of(visitor),
            csrf_token: visitor.csrf_token(),
            choices: (Locale::ALL.into_iter())
                .map(|locale| Choice {
                    code: locale.code(),
                    name: locale.own_name(),
                    chosen: chosen == Some(locale),
                })
                .collect(),
            follows_browser: chosen.is_none(),
            browser_language: browser_locale(headers).own_name(),
            saved: false,
            error: None,
        }
    }
}

/// The language the browser asks for, whatever the person chose.
fn browser_locale(headers: &HeaderMap) -> Locale {
    (headers.get(header::ACCEPT_LANGUAGE))
        .and_then(|v| v.to_str().ok())
        .map(Locale::from_accept_language)
        .unwrap_or_default()
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    SignedIn {
        visitor, session, ..
    }: SignedIn<return_to::AccountLanguage>,
) -> Response {
    let mut page = LanguagePage::new(&visitor, session.account.locale, &headers);
    page.saved = query_param(query.as_deref(), "saved") == "1";
    visitor.respond(&state, render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    csrf_token: String,
    /// A language's code, or empty to follow the browser.
    #[serde(default)]
    locale: String,
}

csrf_forms!(LanguageForm);

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn {
        visitor,
        session,
        form: PageForm(form),
        ..
    }: SignedIn<return_to::NoPage, PageForm<LanguageForm>>,
) -> Result<Response, AppError> {
    let locale = match form.locale.as_str() {
        "" => None,
        code => match Locale::parse(code) {
            Some(locale) => Some(locale),
            None => {
                let mut page = LanguagePage::new(&visitor, session.account.locale, &headers);
                page.error = Some(i18n::text("language-unknown"));
                let response = render(StatusCode::UNPROCESSABLE_ENTITY, &page);
                return Ok(visitor.respond(&state, response));
            }
        },
    };
    state.kw.set_own_locale(&session, locale).await?;
    Ok(Redirect::to("/account/language?saved=1").into_response())
}
