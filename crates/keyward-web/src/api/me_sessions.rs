//! `/api/v1/me/sessions`: the caller's own sessions (R-ACC-4) — list them,
//! end one (`DELETE /me/sessions/{id}`), or end all but the calling one
//! (`DELETE /me/sessions`). Each session ended is audited by the core.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Serialize;
use utoipa::ToSchema;

use keyward_core::accounts::sessions::{EndSessionError, SessionId, SessionSummary};

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::{ApiSession, Client};
use crate::state::AppState;

/// One live session of the caller.
#[derive(Serialize, ToSchema)]
pub struct OwnSession {
    /// The session's public id (32 hex digits), for `DELETE /me/sessions/{id}`.
    pub id: String,
    /// The browser family read from the User-Agent, when known (`Chrome`, `Firefox`, …).
    pub browser: Option<String>,
    /// The operating system read from the User-Agent, when known (`Linux`, `iOS`, …).
    pub system: Option<String>,
    /// Both for people, for example `Chrome on Linux`.
    pub device: String,
    /// The User-Agent the session was opened with.
    pub user_agent: Option<String>,
    /// The address the session was opened from.
    pub client_addr: Option<String>,
    /// Unix seconds of the sign-in that opened the session.
    pub signed_in_at: i64,
    /// Unix seconds of the session's latest use (updated at most once a minute).
    pub last_seen_at: i64,
    /// True for the session making this call.
    pub current: bool,
}

impl OwnSession {
    fn of(session: SessionSummary) -> Self {
        OwnSession {
            id: session.id.to_string(),
            browser: session.device.browser.map(str::to_owned),
            system: session.device.system.map(str::to_owned),
            device: session.device.label(),
            user_agent: session.user_agent,
            client_addr: session.client_addr,
            signed_in_at: session.signed_in_at.secs(),
            last_seen_at: session.last_seen_at.secs(),
            current: session.current,
        }
    }
}

/// The caller's live sessions.
#[derive(Serialize, ToSchema)]
pub struct OwnSessions {
    /// The calling session first, then by latest use.
    pub sessions: Vec<OwnSession>,
}

/// How many sessions `DELETE /me/sessions` ended.
#[derive(Serialize, ToSchema)]
pub struct SessionsEnded {
    pub ended: usize,
}

/// The caller's live sessions: neither expired nor idle past the idle timeout.
#[utoipa::path(
    get,
    operation_id = "list_own_sessions",
    path = "/me/sessions",
    tag = "session",
    responses(
        (status = 200, description = "The caller's live sessions", body = OwnSessions),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    ),
    security(("session_cookie" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
) -> Result<Json<OwnSessions>, AppError> {
    let sessions = state
        .kw
        .own_sessions(&state.ctx(&client), &caller.session, &caller.token)
        .await?;
    let sessions = sessions.into_iter().map(OwnSession::of).collect();
    Ok(Json(OwnSessions { sessions }))
}

/// Sign out every other session of the caller; the calling one stays.
#[utoipa::path(
    delete,
    operation_id = "end_other_sessions",
    path = "/me/sessions",
    tag = "session",
    responses(
        (status = 200, description = "The other sessions have ended", body = SessionsEnded),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`csrf_failed`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn end_others(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
) -> Result<Json<SessionsEnded>, AppError> {
    let ended = state
        .kw
        .end_other_sessions(&state.ctx(&client), &caller.session, &caller.token)
        .await?;
    Ok(Json(SessionsEnded { ended }))
}

/// Sign out one of the caller's sessions. Ending the calling session signs
/// the caller out (the cookie is cleared).
#[utoipa::path(
    delete,
    operation_id = "end_own_session",
    path = "/me/sessions/{id}",
    tag = "session",
    params(("id" = String, Path, description = "The session's id, from `GET /me/sessions`")),
    responses(
        (status = 204, description = "The session has ended"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`csrf_failed`", body = ErrorBody),
        (status = 404, description = "`session_not_found`: no live session of yours has that id", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn end_one(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    // A malformed id names no session of the caller's, like an unknown one.
    let id = path
        .ok()
        .and_then(|Path(id)| SessionId::parse(&id))
        .ok_or_else(|| coded(EndSessionError::NotFound))?;
    let ended = state
        .kw
        .end_own_session(&state.ctx(&client), &caller.session, &caller.token, &id)
        .await
        .map_err(coded)?;
    let mut jar = CookieJar::new();
    if ended.was_current {
        jar = jar.add(state.expired_session_cookie());
    }
    Ok((jar, StatusCode::NO_CONTENT).into_response())
}
