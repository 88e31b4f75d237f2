//! `/api/v1/session` and `/api/v1/me`: sign in, sign out, and who am I.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use keyward_core::accounts::{Account, SignInError};

use super::ErrorBody;
use crate::error::AppError;
use crate::extract::{ApiJson, ApiSession, Client};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
}

/// The signed-in user.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub username: String,
    #[schema(value_type = super::users::RoleName)]
    pub role: String,
    pub school_id: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    /// Unix seconds of the latest successful sign-in.
    pub last_sign_in_at: Option<i64>,
    /// Send this in `X-CSRF-Token` with every state-changing call.
    pub csrf_token: String,
}

impl Me {
    fn of(account: &Account, csrf_token: &str) -> Me {
        Me {
            id: account.id.to_string(),
            username: account.username.to_string(),
            role: account.role.as_str().to_owned(),
            school_id: account.school_id.as_ref().map(ToString::to_string),
            first_name: account.first_name.clone(),
            last_name: account.last_name.clone(),
            email: account.email.as_ref().map(|e| e.as_str().to_owned()),
            last_sign_in_at: account.last_sign_in_at.map(|t| t.secs()),
            csrf_token: csrf_token.to_owned(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionAnswer {
    /// True when a second factor is needed (then `POST /api/v1/session/mfa`).
    pub mfa_required: bool,
    pub csrf_token: String,
    pub user: Me,
}

/// Sign in with username and password; sets the session cookie.
#[utoipa::path(
    post,
    operation_id = "sign_in",
    path = "/session",
    tag = "session",
    request_body = SignInRequest,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = SessionAnswer),
        (status = 400, description = "`invalid_json`", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = ErrorBody),
        (status = 422, description = "`invalid_request` or `input_too_long`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`; see Retry-After", body = ErrorBody),
        (status = 503, description = "`server_busy`; see Retry-After", body = ErrorBody),
    ),
    security(())
)]
pub async fn sign_in(
    State(state): State<AppState>,
    client: Client,
    ApiJson(request): ApiJson<SignInRequest>,
) -> Result<Response, AppError> {
    let signed_in = state
        .kw
        .sign_in(
            &state.ctx(&client),
            &request.username,
            request.password.into(),
        )
        .await
        .map_err(|err| match err {
            SignInError::Internal(internal) => AppError::internal(&internal),
            other => AppError::from_coded(&other),
        })?;
    let answer = SessionAnswer {
        mfa_required: false,
        csrf_token: signed_in.csrf_token.clone(),
        user: Me::of(&signed_in.account, &signed_in.csrf_token),
    };
    let jar = CookieJar::new()
        .add(state.session_cookie(&signed_in.session_token))
        .add(state.device_cookie(&signed_in.device_token));
    Ok((jar, Json(answer)).into_response())
}

/// Sign out: ends the current session.
#[utoipa::path(
    delete,
    operation_id = "sign_out",
    path = "/session",
    tag = "session",
    responses(
        (status = 204, description = "Signed out; the cookie is cleared"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`csrf_failed`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn sign_out(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
) -> Result<Response, AppError> {
    state
        .kw
        .sign_out(&state.ctx(&client), &caller.token)
        .await?;
    let jar = CookieJar::new().add(state.expired_session_cookie());
    Ok((jar, StatusCode::NO_CONTENT).into_response())
}

/// The signed-in user, with the CSRF token for changes.
#[utoipa::path(
    get,
    operation_id = "me",
    path = "/me",
    tag = "session",
    responses(
        (status = 200, description = "The signed-in user", body = Me),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    ),
    security(("session_cookie" = []))
)]
pub async fn me(caller: ApiSession) -> Json<Me> {
    Json(Me::of(&caller.session.account, &caller.session.csrf_token))
}
