//! An administrator's actions on another person's credentials (seed 001,
//! R-ADM-2 to R-ADM-4): `POST /api/v1/users/{id}/password-reset` (a reset
//! link by email), `/temporary-password` and `/mfa-reset`. Each needs the
//! action's permission, `users.view`, and a second factor on the caller's
//! own account (403 `mfa_required` with `enable_at`).

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use keyward_core::types::UserId;

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::{Client, path_id};
use crate::signed_in::ApiActor;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ResetLinkSentBody {
    /// Where the link went, masked: `a***@example.org`.
    pub sent_to: String,
    /// Seconds the link works (`recovery.link_ttl`).
    pub expires_in: u64,
}

#[derive(Serialize, ToSchema)]
pub struct TemporaryPasswordBody {
    /// Shown once: pass it on to the person, who must replace it at once.
    pub password: String,
    /// Unix seconds after which it no longer signs in (`admin.temporary_password_ttl`).
    pub expires_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct MfaResetBody {
    /// The authenticator app was removed.
    pub authenticator_app: bool,
    /// How many recovery codes were removed.
    pub recovery_codes: u64,
    /// How many passkeys were removed.
    pub passkeys: u64,
}

/// Send the person the forgot-password email with a reset link (seed 001's
/// **Reset Password**), marked as sent at your request. It counts against
/// the person's hourly link limit, shared with their own requests.
#[utoipa::path(
    post,
    operation_id = "send_password_reset",
    path = "/users/{id}/password-reset",
    tag = "users",
    params(("id" = String, Path)),
    responses(
        (status = 202, description = "The email is on its way", body = ResetLinkSentBody),
        (status = 403, description = "`forbidden`; `mfa_required` (turn on two-step verification on your own account; enable_at says where)", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`never_signed_in` (offer: access_code or temporary_password); `no_email_address`; `account_not_active`; `signs_in_with_sso` (no keyward password: unlink provider_id, or set a temporary password)", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: as many links as keyward sends the person in an hour (see Retry-After)", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn password_reset(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<(StatusCode, Json<ResetLinkSentBody>), AppError> {
    let user = path_id(path, UserId::parse)?;
    let sent = state
        .kw
        .send_password_reset(&state.ctx(&client), &actor, &user)
        .await
        .map_err(coded)?;
    let body = ResetLinkSentBody {
        sent_to: sent.sent_to,
        expires_in: sent.expires_in.as_secs(),
    };
    Ok((StatusCode::ACCEPTED, Json(body)))
}

/// Set a generated temporary password (R-ADM-3), shown once. The person's
/// sessions and reset links end; signed in with it, they can only replace
/// it (403 `password_change_required` elsewhere); after `expires_at` it no
/// longer signs in.
#[utoipa::path(
    post,
    operation_id = "set_temporary_password",
    path = "/users/{id}/temporary-password",
    tag = "users",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The temporary password", body = TemporaryPasswordBody),
        (status = 403, description = "`forbidden`; `mfa_required`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`never_signed_in` (a pending account: offer is access_code); `account_not_active`", body = ErrorBody),
        (status = 503, description = "`server_busy`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn temporary_password(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<TemporaryPasswordBody>, AppError> {
    let user = path_id(path, UserId::parse)?;
    let temporary = state
        .kw
        .set_temporary_password(&state.ctx(&client), &actor, &user)
        .await
        .map_err(coded)?;
    Ok(Json(TemporaryPasswordBody {
        password: temporary.password.expose().to_owned(),
        expires_at: temporary.expires_at.secs(),
    }))
}

/// Remove the person's two-step verification (R-ADM-4): authenticator app,
/// recovery codes and passkeys. Every session of theirs ends and they are
/// emailed; their password stays.
#[utoipa::path(
    post,
    operation_id = "reset_user_mfa",
    path = "/users/{id}/mfa-reset",
    tag = "users",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "What was removed", body = MfaResetBody),
        (status = 403, description = "`forbidden`; `mfa_required`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`mfa_not_enabled`: nothing to remove", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn mfa_reset(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<MfaResetBody>, AppError> {
    let user = path_id(path, UserId::parse)?;
    let removed = state
        .kw
        .reset_mfa(&state.ctx(&client), &actor, &user)
        .await
        .map_err(coded)?;
    Ok(Json(MfaResetBody {
        authenticator_app: removed.authenticator_app,
        recovery_codes: removed.recovery_codes,
        passkeys: removed.passkeys,
    }))
}
