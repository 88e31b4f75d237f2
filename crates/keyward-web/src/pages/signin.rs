//! Sign in as seed 000 shows it: a first screen with **Sign in** and **Use a
//! code**; then the username and **Next**; then the password, with
//! **Forgot password?**. The password step always follows the username step,
//! whether or not the account exists, so the pages reveal no usernames.
//! Both the first screen and the password step show the same **Sign in
//! with …** buttons (`sso_choices`), never ones chosen by the username.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::accounts::{PendingSignIn, SignInError, SignInOutcome};
use keyward_core::error::CodedError;
use keyward_core::i18n::{self, Message};
use keyward_core::types::{MAX_USERNAME_CHARS, Username, UsernameError};

use super::second_step::signed_in_redirect;
use super::sso_choices::{SsoButtons, sso_buttons};
use super::{Nav, render, safe_next};
use crate::error::{AppError, set_retry_after};
use crate::extract::{Client, PageForm, Visitor};
use crate::shared::query::query_param;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "signin_start.html")]
struct FirstScreen {
    nav: Option<Nav>,
    notice: Option<&'static str>,
    sign_in_href: String,
    /// **Sign in with a passkey** is offered (the server can be a relying party).
    passkeys: bool,
    /// Where a passkey sign-in goes.
    after_sign_in: &'static str,
    sso: SsoButtons,
}

#[derive(Template)]
#[template(path = "signin_username.html")]
struct UsernameStep {
    nav: Option<Nav>,
    csrf_token: String,
    username: String,
    error: Option<String>,
    next: &'static str,
}

#[derive(Template)]
#[template(path = "signin_password.html")]
struct PasswordStep {
    nav: Option<Nav>,
    csrf_token: String,
    username: String,
    forgot_href: String,
    error: Option<String>,
    next: &'static str,
    /// The same for every username, existing or not.
    sso: SsoButtons,
}

pub async fn first_screen(
    State(state): State<AppState>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let next = safe_next(&query_param(query.as_deref(), "next")).unwrap_or("");
    let page = FirstScreen {
        nav: Nav::of(&visitor),
        notice: notice(&query_param(query.as_deref(), "notice")),
        sign_in_href: username_step_href(next),
        passkeys: state.kw.passkeys_available(),
        after_sign_in: if next.is_empty() { "/home" } else { next },
        sso: sso_buttons(&state).await?,
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

/// What the first screen says after another page sent the person here
/// (`?notice=`): the message id.
fn notice(name: &str) -> Option<&'static str> {
    match name {
        "password_reset" => Some("signin-notice-password-reset"),
        "activated" => Some("signin-notice-activated"),
        "joined" => Some("signin-notice-joined"),
        "step_expired" => Some("signin-notice-step-expired"),
        _ => None,
    }
}

/// The username step's address, passing on where to go afterwards.
fn username_step_href(next: &str) -> String {
    if next.is_empty() {
        "/signin/username".to_owned()
    } else {
        format!(
            "/signin/username?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        )
    }
}

pub async fn username_step(
    State(state): State<AppState>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Response {
    let username = query_param(query.as_deref(), "username");
    let next = safe_next(&query_param(query.as_deref(), "next")).unwrap_or("");
    let page = UsernameStep::new(&visitor, &username, None, next);
    visitor.respond(&state, render(StatusCode::OK, &page))
}

impl UsernameStep {
    fn new(
        visitor: &Visitor,
        username: &str,
        error: Option<String>,
        next: &'static str,
    ) -> UsernameStep {
        UsernameStep {
            nav: Nav::of(visitor),
            csrf_token: visitor.csrf_token(),
            username: username.chars().take(MAX_USERNAME_CHARS).collect(),
            error,
            next,
        }
    }
}

#[derive(Deserialize)]
pub struct UsernameForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    next: String,
}

pub async fn submit_username(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(form): PageForm<UsernameForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    // Only the shape is checked here; whether the account exists is never said.
    let shape_error = match Username::parse(&form.username) {
        Err(
            err @ (UsernameError::Empty | UsernameError::TooLong | UsernameError::BadCharacter),
        ) => Some(err),
        _ => None,
    };
    let next = safe_next(&form.next).unwrap_or("");
    if let Some(err) = shape_error {
        let page = UsernameStep::new(
            &visitor,
            &form.username,
            Some(super::words_for(err.code(), &err)),
            next,
        );
        return Ok(visitor.respond(&state, render(StatusCode::UNPROCESSABLE_ENTITY, &page)));
    }
    let step = password_step(&state, &visitor, form.username, next, None, StatusCode::OK);
    Ok(visitor.respond(&state, step.await?))
}

async fn password_step(
    state: &AppState,
    visitor: &Visitor,
    username: String,
    next: &'static str,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let forgot_href = format!(
        "/recovery?username={}",
        url::form_urlencoded::byte_serialize(username.as_bytes()).collect::<String>()
    );
    let page = PasswordStep {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        username,
        forgot_href,
        error,
        next,
        sso: sso_buttons(state).await?,
    };
    Ok(render(status, &page))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn submit_password(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    let username: String = form.username.chars().take(MAX_USERNAME_CHARS + 1).collect();
    let next = safe_next(&form.next).unwrap_or("");
    if form.password.is_empty() {
        let error = Some(i18n::text("signin-password-missing"));
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        let response = password_step(&state, &visitor, username, next, error, status).await?;
        return Ok(visitor.respond(&state, response));
    }
    match state
        .kw
        .sign_in(&state.ctx(&client), &username, form.password.into())
        .await
    {
        Ok(SignInOutcome::Complete(signed_in)) => {
            Ok(signed_in_redirect(&state, &visitor, &signed_in, next))
        }
        Ok(SignInOutcome::SecondStep(pending)) => {
            Ok(second_step_redirect(&state, &visitor, &pending, next))
        }
        Err(SignInError::Internal(err)) => Err(AppError::internal(&err)),
        Err(err) => refused(&state, &visitor, &err, username, next).await,
    }
}

/// The password was right and a second step is needed: its cookie, and on
/// to the page that asks for it (also after a single sign-on).
pub(super) fn second_step_redirect(
    state: &AppState,
    visitor: &Visitor,
    pending: &PendingSignIn,
    next: &'static str,
) -> Response {
    let jar = visitor.jar(state).add(state.sign_in_step_cookie(pending));
    let to = if next.is_empty() {
        "/signin/verify".to_owned()
    } else {
        format!(
            "/signin/verify?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        )
    };
    (jar, Redirect::to(&to)).into_response()
}

/// The password step again, saying why the sign-in was refused.
async fn refused(
    state: &AppState,
    visitor: &Visitor,
    err: &SignInError,
    username: String,
    next: &'static str,
) -> Result<Response, AppError> {
    let app = AppError::from_coded(err);
    let message = match err {
        SignInError::Throttled { retry_after_secs } | SignInError::Busy { retry_after_secs } => {
            Message::new("signin-try-again-in")
                .with("message", super::words(err))
                .with("seconds", *retry_after_secs)
                .to_string()
        }
        _ => super::words(err),
    };
    let step = password_step(state, visitor, username, next, Some(message), app.status);
    let mut response = step.await?;
    set_retry_after(&mut response, app.retry_after_secs);
    tracing::info!(code = err.code().as_str(), "sign-in refused");
    Ok(visitor.respond(state, response))
}

#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf_token: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    PageForm(form): PageForm<SignOutForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    if let Some(token) = &visitor.session_token {
        state.kw.sign_out(&state.ctx(&client), token).await?;
    }
    let jar = visitor.jar(&state).add(state.expired_session_cookie());
    Ok((jar, Redirect::to("/signin")).into_response())
}
