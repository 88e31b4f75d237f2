//! The second step of signing in (R-MFA-1): after the right password, a
//! person with two-step verification lands here and enters the 6-digit code
//! from their authenticator app — or, through **Use a recovery code**, one of
//! their recovery codes; or, for an account with passkeys, with **Use a
//! passkey** (`assets/passkeys.js` runs the ceremony through
//! `/api/v1/session/mfa/passkey/…`, which finishes the same pending step).
//! The pending sign-in lives in a short cookie; when it is gone or expired
//! the person starts again from the first screen.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::accounts::{PendingStep, SignedIn};
use keyward_core::mfa::{MfaError, SecondStepCode};

use super::{Nav, render_told, safe_next};
use crate::error::AppError;
use crate::extract::{Client, PageForm, Visitor};
use crate::shared::query::query_param;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "signin_verify.html")]
struct VerifyPage {
    nav: Option<Nav>,
    csrf_token: String,
    username: String,
    next: &'static str,
    with_recovery: bool,
    totp: bool,
    /// **Use a passkey** is offered: the account has passkeys.
    passkeys: bool,
    /// Where a passkey sign-in goes.
    after_sign_in: &'static str,
    app_href: String,
    recovery_href: String,
    error: Option<String>,
}

impl VerifyPage {
    fn new(
        visitor: &Visitor,
        pending: &PendingStep,
        next: &'static str,
        with_recovery: bool,
        error: Option<String>,
    ) -> VerifyPage {
        let href = |with: Option<&str>| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            if let Some(with) = with {
                query.append_pair("with", with);
            }
            if !next.is_empty() {
                query.append_pair("next", next);
            }
            let query = query.finish();
            if query.is_empty() {
                "/signin/verify".to_owned()
            } else {
                format!("/signin/verify?{query}")
            }
        };
        VerifyPage {
            nav: Nav::of(visitor),
            csrf_token: visitor.csrf_token(),
            username: pending.account.username.to_string(),
            next,
            with_recovery,
            totp: pending.second_factors.totp,
            passkeys: pending.second_factors.passkeys,
            after_sign_in: if next.is_empty() { "/home" } else { next },
            app_href: href(None),
            recovery_href: href(Some("recovery")),
            error,
        }
    }
}

/// Back to the first screen, saying the sign-in has to start again.
fn start_again(state: &AppState, visitor: &Visitor) -> Response {
    let jar = visitor.jar(state).add(state.expired_sign_in_step_cookie());
    (jar, Redirect::to("/signin?notice=step_expired")).into_response()
}

/// The pending sign-in this browser holds, if it is still alive.
async fn pending_of(
    state: &AppState,
    cookies: &CookieJar,
    client: &Client,
) -> Result<Option<PendingStep>, AppError> {
    let Some(token) = state.sign_in_step_token(cookies) else {
        return Ok(None);
    };
    Ok(state.kw.pending_sign_in(&state.ctx(client), &token).await?)
}

pub async fn form(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    cookies: CookieJar,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let Some(pending) = pending_of(&state, &cookies, &client).await? else {
        return Ok(start_again(&state, &visitor));
    };
    let next = safe_next(&query_param(query.as_deref(), "next")).unwrap_or("");
    let with_recovery = query_param(query.as_deref(), "with") == "recovery";
    let page = VerifyPage::new(&visitor, &pending, next, with_recovery, None);
    Ok(visitor.respond(&state, render_told(StatusCode::OK, None, &page)))
}

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    with: String,
    #[serde(default)]
    next: String,
}

pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    cookies: CookieJar,
    PageForm(form): PageForm<VerifyForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    let Some(pending) = pending_of(&state, &cookies, &client).await? else {
        return Ok(start_again(&state, &visitor));
    };
    let with_recovery = form.with == "recovery";
    let next = safe_next(&form.next).unwrap_or("");
    match verify(&state, &cookies, &client, &form.code, with_recovery).await {
        Ok(signed_in) => Ok(signed_in_redirect(&state, &visitor, &signed_in, next)),
        Err(MfaError::StepExpired) => Ok(start_again(&state, &visitor)),
        Err(MfaError::Internal(err)) => Err(AppError::internal(&err)),
        Err(err) => {
            let page = VerifyPage::new(&visitor, &pending, next, with_recovery, None);
            Ok(visitor.respond(&state, refused(page, &err)))
        }
    }
}

/// The page again, saying why the code was refused.
fn refused(mut page: VerifyPage, err: &MfaError) -> Response {
    let app = AppError::from_coded(err);
    page.error = Some(super::words(err));
    render_told(app.status, app.retry_after_secs, &page)
}

async fn verify(
    state: &AppState,
    cookies: &CookieJar,
    client: &Client,
    typed: &str,
    with_recovery: bool,
) -> Result<SignedIn, MfaError> {
    let code = if with_recovery {
        SecondStepCode::recovery(typed)?
    } else {
        SecondStepCode::app(typed)?
    };
    let token = state
        .sign_in_step_token(cookies)
        .ok_or(MfaError::StepExpired)?;
    state
        .kw
        .finish_sign_in_with_code(&state.ctx(client), &token, &code)
        .await
}

/// Signed in: the session and device cookies, the pending step forgotten,
/// and on to `next` or home.
pub fn signed_in_redirect(
    state: &AppState,
    visitor: &Visitor,
    signed_in: &SignedIn,
    next: &'static str,
) -> Response {
    let jar = visitor
        .jar(state)
        .add(state.session_cookie(&signed_in.session_token))
        .add(state.device_cookie(&signed_in.device_token))
        .add(state.expired_sign_in_step_cookie());
    let destination = if next.is_empty() { "/home" } else { next };
    (jar, Redirect::to(destination)).into_response()
}

#[derive(Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    csrf_token: String,
}

pub async fn cancel(
    State(state): State<AppState>,
    visitor: Visitor,
    cookies: CookieJar,
    PageForm(form): PageForm<CancelForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    if let Some(token) = state.sign_in_step_token(&cookies) {
        state.kw.cancel_sign_in(&token).await?;
    }
    let jar = visitor.jar(&state).add(state.expired_sign_in_step_cookie());
    Ok((jar, Redirect::to("/signin")).into_response())
}
