//! **Account Settings**, reached from the navigation menu, with its
//! **Password** section (R-SET-1): current password, new password and its
//! confirmation, **Update Password**. `/.well-known/change-password` leads here.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::accounts::{ChangePasswordError, CurrentSession};
use keyward_core::policy::{Hint, PolicyKind};

use super::{Nav, Told, render, render_told};
use crate::error::AppError;
use crate::extract::{Client, PageForm, Visitor};
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Option<Nav>,
    display_name: String,
    username: String,
    role_label: &'static str,
    email: Option<String>,
    /// SSO-only: the provider's name and where its sign-in starts.
    sso: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    nav: Option<Nav>,
    csrf_token: String,
    username: String,
    hints: Vec<Hint>,
    errors: Vec<String>,
    notice: Option<&'static str>,
    /// Signed in with a temporary password from an administrator (R-ADM-3):
    /// the page says why everything else waits.
    must_change: bool,
    /// SSO-only: no keyward password to change (the provider's name).
    sso: Option<String>,
}

pub async fn well_known_change_password() -> Redirect {
    Redirect::to("/account/password")
}

pub async fn overview(
    State(state): State<AppState>,
    SignedIn {
        visitor, session, ..
    }: SignedIn<return_to::Account>,
) -> Result<Response, AppError> {
    let account = &session.account;
    let sso = state.kw.sso_only_sign_in(&account.id).await?;
    let page = AccountPage {
        nav: Nav::of(&visitor),
        display_name: account.display_name(),
        username: account.username.to_string(),
        role_label: account.role.label(),
        email: account.email.as_ref().map(|e| e.as_str().to_owned()),
        sso: sso.map(|sso| (sso.provider_name.clone(), sso.start_path())),
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

async fn password_page(
    state: &AppState,
    visitor: &Visitor,
    session: &CurrentSession,
    errors: Vec<String>,
    notice: Option<&'static str>,
) -> Result<PasswordPage, AppError> {
    let account = &session.account;
    let policy = state
        .kw
        .password_policy(account.school_id.as_ref(), PolicyKind::of(account.role))
        .await?;
    let sso = state.kw.sso_only_sign_in(&account.id).await?;
    Ok(PasswordPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        username: account.username.to_string(),
        hints: policy.hints(),
        errors,
        // Held by a temporary password, until a change succeeds (its notice).
        must_change: session.password_change_due && notice.is_none(),
        notice,
        sso: sso.map(|sso| sso.provider_name),
    })
}

pub async fn password_form(
    State(state): State<AppState>,
    SignedIn {
        visitor, session, ..
    }: SignedIn<return_to::AccountPassword>,
) -> Result<Response, AppError> {
    let page = password_page(&state, &visitor, &session, Vec::new(), None).await?;
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

csrf_forms!(PasswordForm);

/// What the page tells after **Update Password**; an internal error is an
/// error page instead.
fn told(outcome: Result<(), ChangePasswordError>) -> Result<Told, AppError> {
    Ok(match outcome {
        Ok(()) => {
            Told::done("Your password has been updated. Your other devices have been signed out.")
        }
        Err(ChangePasswordError::Internal(err)) => return Err(AppError::internal(&err)),
        Err(ChangePasswordError::PasswordPolicy { violations, policy }) => {
            Told::invalid(violations.iter().map(|v| v.message(&policy)).collect())
        }
        Err(err) => Told::refused(&err),
    })
}

pub async fn submit_password(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        session,
        token,
        form: PageForm(form),
        ..
    }: SignedIn<return_to::NoPage, PageForm<PasswordForm>>,
) -> Result<Response, AppError> {
    let outcome = state
        .kw
        .change_own_password(
            &state.ctx(&client),
            &session,
            &token,
            form.current_password.into(),
            form.new_password.into(),
            &form.confirm_password.into(),
        )
        .await;
    let told = told(outcome)?;
    let page = password_page(&state, &visitor, &session, told.errors, told.notice).await?;
    let response = render_told(told.status, told.retry_after, &page);
    Ok(visitor.respond(&state, response))
}
