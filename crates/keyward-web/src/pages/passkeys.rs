//! Account Settings' **Passkeys** section: the person's passkeys with their
//! names and dates, **Add a passkey** (a name and the current password, then
//! the browser's passkey dialog: `assets/passkeys.js` drives the ceremony
//! through the JSON API, so adding needs JavaScript and the page says so
//! when it is off), and **Remove** (a confirm page asking for the password
//! again, a wrong one said next to it; a plain form, no JavaScript needed).

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::accounts::Account;
use keyward_core::passkeys::{PasskeyError, PasskeySummary};
use keyward_core::types::{PasskeyId, Password, UnixTime};

use super::field_errors::FieldErrors;
use super::{Nav, render, render_told};
use crate::error::AppError;
use crate::extract::{Client, PageForm, Visitor, path_id};
use crate::shared::query::query_param;
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

/// A passkey as the list shows it.
pub struct ListedPasskey {
    pub id: String,
    pub name: String,
    pub added: String,
    pub last_used: Option<String>,
}

/// A day as the list shows it: `2026-09-07` (UTC).
fn day(at: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(at.secs())
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

impl From<PasskeySummary> for ListedPasskey {
    fn from(p: PasskeySummary) -> Self {
        ListedPasskey {
            id: p.id.to_string(),
            name: p.name,
            added: day(p.created_at),
            last_used: p.last_used_at.map(day),
        }
    }
}

#[derive(Template)]
#[template(path = "account_passkeys.html")]
struct PasskeysPage {
    nav: Option<Nav>,
    csrf_token: String,
    username: String,
    passkeys: Vec<ListedPasskey>,
    /// Why this person cannot add passkeys here (none: they can).
    unavailable: Option<String>,
    /// What was done (a message id).
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "account_passkey_remove.html")]
struct RemovePage {
    nav: Option<Nav>,
    csrf_token: String,
    username: String,
    passkey: ListedPasskey,
    errors: FieldErrors,
}

/// What the list says after the script or the removal sent the person back
/// (a message id).
fn notice(name: &str) -> Option<&'static str> {
    match name {
        "added" => Some("account-passkey-added-notice"),
        "removed" => Some("account-passkey-removed-notice"),
        _ => None,
    }
}

async fn passkeys_page(
    state: &AppState,
    visitor: &Visitor,
    account: &Account,
    notice: Option<&'static str>,
) -> Result<PasskeysPage, AppError> {
    let passkeys = state.kw.list_passkeys(account).await?;
    let unavailable = match state.kw.passkeys_allowed(account).await {
        Ok(()) => None,
        Err(PasskeyError::Internal(internal)) => return Err(AppError::internal(&internal)),
        Err(err) => Some(super::words(&err)),
    };
    Ok(PasskeysPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        username: account.username.to_string(),
        passkeys: passkeys.into_iter().map(ListedPasskey::from).collect(),
        unavailable,
        notice,
    })
}

pub async fn list(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    SignedIn {
        visitor, session, ..
    }: SignedIn<return_to::AccountPasskeys>,
) -> Result<Response, AppError> {
    let told = notice(&query_param(query.as_deref(), "notice"));
    let page = passkeys_page(&state, &visitor, &session.account, told).await?;
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

/// One of the account's passkeys, for its removal page (404 for another's).
async fn own_passkey(
    state: &AppState,
    account: &Account,
    path: Result<Path<String>, PathRejection>,
) -> Result<(PasskeyId, ListedPasskey), AppError> {
    let id = path_id(path, PasskeyId::parse)?;
    let found = state
        .kw
        .list_passkeys(account)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(AppError::not_found)?;
    Ok((id, found.into()))
}

fn remove_page(visitor: &Visitor, account: &Account, passkey: ListedPasskey) -> RemovePage {
    RemovePage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        username: account.username.to_string(),
        passkey,
        errors: FieldErrors::none(),
    }
}

pub async fn remove_form(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    SignedIn {
        visitor, session, ..
    }: SignedIn<return_to::AccountPasskeys>,
) -> Result<Response, AppError> {
    let (_, passkey) = own_passkey(&state, &session.account, path).await?;
    let page = remove_page(&visitor, &session.account, passkey);
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    current_password: String,
}

csrf_forms!(RemoveForm);

pub async fn submit_remove(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn {
        visitor,
        session,
        form: PageForm(form),
        ..
    }: SignedIn<return_to::NoPage, PageForm<RemoveForm>>,
) -> Result<Response, AppError> {
    let account = &session.account;
    let (id, passkey) = own_passkey(&state, account, path).await?;
    let password = Password::from(form.current_password);
    let outcome = state
        .kw
        .remove_passkey(&state.ctx(&client), account, &id, &password)
        .await;
    let err = match outcome {
        Ok(()) => return Ok(Redirect::to("/account/passkeys?notice=removed").into_response()),
        Err(PasskeyError::Internal(internal)) => return Err(AppError::internal(&internal)),
        Err(err) => err,
    };
    let app = AppError::from_coded(&err);
    let mut page = remove_page(&visitor, account, passkey);
    let field = matches!(err, PasskeyError::WrongPassword).then_some("current_password");
    page.errors = FieldErrors::at(field, vec![super::words(&err)]);
    let response = render_told(app.status, app.retry_after_secs, &page);
    Ok(visitor.respond(&state, response))
}
