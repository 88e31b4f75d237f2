//! **Account Settings**, reached from the navigation menu, with its
//! **Password** section (R-SET-1): current password, new password and its
//! confirmation, **Update Password**. `/.well-known/change-password` leads here.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use keyward_core::accounts::{ChangePasswordError, CurrentSession};
use keyward_core::policy::{Hint, PolicyKind};

use super::{Nav, render, sign_in_then};
use crate::error::{AppError, set_retry_after};
use crate::extract::{Client, PageForm, Visitor};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Option<Nav>,
    display_name: String,
    username: String,
    role_label: &'static str,
    email: Option<String>,
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
}

pub async fn well_known_change_password() -> Redirect {
    Redirect::to("/account/password")
}

pub async fn overview(State(state): State<AppState>, visitor: Visitor) -> Response {
    let Some(session) = &visitor.session else {
        return Redirect::to(&sign_in_then("/account")).into_response();
    };
    let account = &session.account;
    let page = AccountPage {
        nav: Nav::of(&visitor),
        display_name: account.display_name(),
        username: account.username.to_string(),
        role_label: account.role.label(),
        email: account.email.as_ref().map(|e| e.as_str().to_owned()),
    };
    visitor.respond(&state, render(StatusCode::OK, &page))
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
    Ok(PasswordPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        username: account.username.to_string(),
        hints: policy.hints(),
        errors,
        notice,
    })
}

pub async fn password_form(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, AppError> {
    let Some(session) = &visitor.session else {
        return Ok(Redirect::to(&sign_in_then("/account/password")).into_response());
    };
    let page = password_page(&state, &visitor, session, Vec::new(), None).await?;
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

pub async fn submit_password(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    let (Some(session), Some(token)) = (&visitor.session, &visitor.session_token) else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let outcome = state
        .kw
        .change_own_password(
            &state.ctx(&client),
            session,
            token,
            form.current_password,
            form.new_password,
            &form.confirm_password,
        )
        .await;
    let (status, errors, retry_after, notice) = match outcome {
        Ok(()) => (
            StatusCode::OK,
            Vec::new(),
            None,
            Some("Your password has been updated. Your other devices have been signed out."),
        ),
        Err(ChangePasswordError::Internal(err)) => return Err(AppError::internal(&err)),
        Err(ChangePasswordError::PasswordPolicy { violations, policy }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            violations.iter().map(|v| v.message(&policy)).collect(),
            None,
            None,
        ),
        Err(err) => {
            let app = AppError::from_coded(&err);
            (
                app.status,
                vec![err.to_string()],
                app.retry_after_secs,
                None,
            )
        }
    };
    let page = password_page(&state, &visitor, session, errors, notice).await?;
    let mut response = render(status, &page);
    set_retry_after(&mut response, retry_after);
    Ok(visitor.respond(&state, response))
}
