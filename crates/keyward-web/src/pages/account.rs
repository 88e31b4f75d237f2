//! **Account Settings**, reached from the navigation menu: who you are and
//! its sections, each with a line on what is there (two-step verification
//! says whether it is on; **API tokens** only for people holding a
//! permission a token could use), and its **Password** section (R-SET-1):
//! current password, new password and its confirmation, **Update Password**,
//! each problem next to its field. `/.well-known/change-password` leads here.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::accounts::{ChangePasswordError, CurrentSession};
use keyward_core::policy::{Hint, PolicyKind, Violation};

use super::field_errors::FieldErrors;
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
    /// The role's name (a message id).
    role_message: &'static str,
    email: Option<String>,
    /// SSO-only: the provider's name and where its sign-in starts.
    sso: Option<(String, String)>,
    /// Two-step verification with an authenticator app is on.
    mfa_on: bool,
    /// The person holds permissions an API token could carry.
    tokens: bool,
}

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    nav: Option<Nav>,
    csrf_token: String,
    username: String,
    hints: Vec<Hint>,
    errors: FieldErrors,
    /// What was done (a message id).
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
        visitor,
        session,
        actor,
        ..
    }: SignedIn<return_to::Account>,
) -> Result<Response, AppError> {
    let account = &session.account;
    let sso = state.kw.sso_only_sign_in(&account.id).await?;
    let mfa_on = state.kw.mfa_status(account).await?.totp;
    let page = AccountPage {
        nav: Nav::of(&visitor),
        display_name: account.display_name(),
        username: account.username.to_string(),
        role_message: super::role_message(account.role),
        email: account.email.as_ref().map(|e| e.as_str().to_owned()),
        sso: sso.map(|sso| (sso.provider_name.clone(), sso.start_path())),
        mfa_on,
        tokens: !actor.permissions().is_empty(),
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

async fn password_page(
    state: &AppState,
    visitor: &Visitor,
    session: &CurrentSession,
    errors: FieldErrors,
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
    let page = password_page(&state, &visitor, &session, FieldErrors::none(), None).await?;
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

/// What the page tells after **Update Password**, each problem at its
/// field; an internal error is an error page instead.
fn told(outcome: Result<(), ChangePasswordError>) -> Result<(Told, FieldErrors), AppError> {
    let field = |told: Told, field| {
        let errors = FieldErrors::at(field, told.errors.clone());
        (told, errors)
    };
    Ok(match outcome {
        Ok(()) => (Told::done("account-password-updated"), FieldErrors::none()),
        Err(ChangePasswordError::Internal(err)) => return Err(AppError::internal(&err)),
        Err(ChangePasswordError::PasswordPolicy { violations, policy }) => {
            let (mismatch, rules): (Vec<_>, Vec<_>) =
                violations.iter().partition(|v| **v == Violation::Mismatch);
            let words = |list: Vec<&Violation>| list.iter().map(|v| v.message(&policy)).collect();
            let errors = FieldErrors::at(Some("new_password"), words(rules))
                .and(FieldErrors::at(Some("confirm_password"), words(mismatch)));
            (Told::invalid(Vec::new()), errors)
        }
        Err(err @ ChangePasswordError::WrongCurrentPassword) => {
            field(Told::refused(&err), Some("current_password"))
        }
        Err(err) => field(Told::refused(&err), None),
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
    let (told, errors) = told(outcome)?;
    let page = password_page(&state, &visitor, &session, errors, told.notice).await?;
    let response = render_told(told.status, told.retry_after, &page);
    Ok(visitor.respond(&state, response))
}
