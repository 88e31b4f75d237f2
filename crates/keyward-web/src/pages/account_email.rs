//! **Email** in Account Settings (R-MFA-1): the current address, and a form
//! with the new address and the current password (asked again), button
//! **Update Email**; the page then says what happened, a problem next to its
//! field. Works without JavaScript.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::accounts::ChangeEmailError;
use keyward_core::types::EmailAddress;

use super::field_errors::FieldErrors;
use super::{Nav, Told, render, render_told};
use crate::error::AppError;
use crate::extract::{Client, PageForm, Visitor};
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "account_email.html")]
struct EmailPage {
    nav: Option<Nav>,
    csrf_token: String,
    username: String,
    /// The address the account has now.
    current: Option<String>,
    /// What was typed into the new-address field, shown again after a refusal.
    typed: String,
    errors: FieldErrors,
    /// What was done (a message id).
    notice: Option<&'static str>,
}

impl EmailPage {
    fn new(visitor: &Visitor, username: String, current: Option<&EmailAddress>) -> EmailPage {
        EmailPage {
            nav: Nav::of(visitor),
            csrf_token: visitor.csrf_token(),
            username,
            current: current.map(|e| e.as_str().to_owned()),
            typed: String::new(),
            errors: FieldErrors::none(),
            notice: None,
        }
    }
}

pub async fn form(
    State(state): State<AppState>,
    SignedIn {
        visitor, session, ..
    }: SignedIn<return_to::AccountEmail>,
) -> Response {
    let account = &session.account;
    let page = EmailPage::new(
        &visitor,
        account.username.to_string(),
        account.email.as_ref(),
    );
    visitor.respond(&state, render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    current_password: String,
}

csrf_forms!(EmailForm);

/// What the page tells after **Update Email**, and the address the account
/// has afterwards; an internal error is an error page instead.
fn told(
    outcome: Result<EmailAddress, ChangeEmailError>,
    before: Option<&EmailAddress>,
) -> Result<(Told, Option<EmailAddress>), AppError> {
    Ok(match outcome {
        Ok(now) if before.is_some() => (Told::done("account-email-updated"), Some(now)),
        Ok(now) => (Told::done("account-email-added"), Some(now)),
        Err(ChangeEmailError::Internal(err)) => return Err(AppError::internal(&err)),
        Err(err) => (Told::refused(&err), before.cloned()),
    })
}

pub async fn submit(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        session,
        form: PageForm(form),
        ..
    }: SignedIn<return_to::NoPage, PageForm<EmailForm>>,
) -> Result<Response, AppError> {
    let password = form.current_password.into();
    let outcome = state
        .kw
        .change_own_email(&state.ctx(&client), &session, &password, &form.email)
        .await;
    let field = match &outcome {
        Ok(_) => None,
        Err(ChangeEmailError::EmailInvalid | ChangeEmailError::EmailUnchanged) => Some("email"),
        Err(ChangeEmailError::WrongCurrentPassword) => Some("current_password"),
        Err(_) => None,
    };
    let refused = outcome.is_err();
    let (told, now) = told(outcome, session.account.email.as_ref())?;
    let mut page = EmailPage::new(&visitor, session.account.username.to_string(), now.as_ref());
    if refused {
        page.typed = form.email;
    }
    (page.errors, page.notice) = (FieldErrors::at(field, told.errors), told.notice);
    Ok(visitor.respond(&state, render_told(told.status, told.retry_after, &page)))
}
