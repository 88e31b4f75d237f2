//! Single sign-on in the browser (issue 14): `GET /sso/{provider_id}/start`
//! sends the browser to the school's provider (302) with a `kw_sso` cookie
//! that binds the sign-in to this browser; `GET /sso/callback` is where the
//! provider sends it back: signed in, the session cookie and on to `/home`
//! (or to keyward's own second step). Every refusal is a page that says what
//! went wrong and what to do, signs nobody in, and forgets the flow's cookie.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use keyward_core::i18n::Translate as _;

use keyward_core::accounts::SignInOutcome;
use keyward_core::error::{Code, CodedError};
use keyward_core::sso::{SsoCallback, SsoProviderId, SsoSignInError};

use super::second_step::signed_in_redirect;
use super::signin::second_step_redirect;
use super::{Nav, render_told};
use crate::error::AppError;
use crate::extract::{Client, Visitor, path_id};
use crate::shared::query::query_param;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "sso_problem.html")]
struct ProblemPage {
    nav: Option<Nav>,
    heading: &'static str,
    message: String,
    retry_href: Option<String>,
    status: u16,
    code: &'static str,
}

pub async fn start(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let id = path_id(path, SsoProviderId::parse)?;
    let ctx = state.ctx(&client);
    match state
        .kw
        .start_sso_sign_in(&ctx, &id, &*state.sso_http)
        .await
    {
        Ok(start) => {
            let jar = visitor.jar(&state).add(state.sso_cookie(&start.binding));
            let location = [(header::LOCATION, start.authorize_url.to_string())];
            Ok((StatusCode::FOUND, jar, location).into_response())
        }
        Err(SsoSignInError::ProviderNotFound) => Err(AppError::not_found()),
        Err(SsoSignInError::Internal(err)) => Err(AppError::internal(&err)),
        Err(err) => Ok(problem(
            &state,
            &visitor,
            &err,
            Some(format!("/sso/{id}/start")),
        )),
    }
}

pub async fn callback(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    cookies: CookieJar,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let callback = callback_of(query.as_deref());
    let binding = state.sso_binding(&cookies);
    let ctx = state.ctx(&client);
    let finished = state
        .kw
        .finish_sso_sign_in(&ctx, &callback, binding.as_ref(), &*state.sso_http)
        .await;
    let answer = match finished {
        Ok(SignInOutcome::Complete(signed_in)) => {
            signed_in_redirect(&state, &visitor, &signed_in, "")
        }
        Ok(SignInOutcome::SecondStep(pending)) => {
            second_step_redirect(&state, &visitor, &pending, "")
        }
        Err(SsoSignInError::Internal(err)) => return Err(AppError::internal(&err)),
        Err(err) => problem(&state, &visitor, &err, None),
    };
    // Used or refused, the flow is over: its cookie goes.
    Ok((CookieJar::new().add(state.expired_sso_cookie()), answer).into_response())
}

/// The callback's query as the provider sent it.
fn callback_of(query: Option<&str>) -> SsoCallback {
    let param = |key| Some(query_param(query, key)).filter(|v| !v.is_empty());
    SsoCallback {
        state: query_param(query, "state"),
        code: param("code"),
        error: param("error"),
        error_description: param("error_description"),
    }
}

/// The page of a refused single sign-on: what went wrong, what to do, the
/// code small.
fn problem(
    state: &AppState,
    visitor: &Visitor,
    err: &SsoSignInError,
    retry_href: Option<String>,
) -> Response {
    let app = AppError::from_coded(err);
    tracing::info!(code = err.code().as_str(), "single sign-on refused");
    let page = ProblemPage {
        nav: Nav::of(visitor),
        heading: heading(err.code()),
        message: super::words(err),
        retry_href,
        status: app.status.as_u16(),
        code: err.code().as_str(),
    };
    visitor.respond(state, render_told(app.status, app.retry_after_secs, &page))
}

/// The heading's message id.
fn heading(code: Code) -> &'static str {
    match code {
        Code::SsoProviderUnavailable => "sso-heading-provider-unavailable",
        Code::SsoProviderError => "sso-heading-provider-error",
        Code::SsoTokenInvalid => "sso-heading-token-invalid",
        Code::SsoUnknownPerson => "sso-heading-unknown-person",
        Code::SsoRoleNotAllowed => "sso-heading-role-not-allowed",
        Code::SsoProviderNotFound => "sso-heading-provider-not-found",
        Code::TooManyRequests => "sso-heading-too-many",
        _ => "sso-heading-other",
    }
}
