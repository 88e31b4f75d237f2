//! `DELETE /api/v1/users/{id}/sso-links/{provider_id}` (issue 14.3): whoever
//! may manage the person removes their link to a single sign-on provider.
//! The person's links are listed by `GET /api/v1/users/{id}` (`sso_links`).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use keyward_core::sso::SsoProviderId;
use keyward_core::types::UserId;

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::Client;
use crate::signed_in::ApiActor;
use crate::state::AppState;

/// Unlink a person from a single sign-on provider: they can no longer sign
/// in with it, and their sessions end. Someone without a keyward password
/// and no other link is left without a way in: give them a temporary
/// password (`POST /users/{id}/temporary-password`).
#[utoipa::path(
    delete,
    operation_id = "unlink_sso",
    path = "/users/{id}/sso-links/{provider_id}",
    tag = "users",
    params(
        ("id" = String, Path, description = "The person"),
        ("provider_id" = String, Path, description = "The provider, as in the person's `sso_links`")
    ),
    responses(
        (status = 204, description = "Unlinked"),
        (status = 403, description = "`forbidden` (no users.manage over the person)", body = ErrorBody),
        (status = 404, description = "`not_found` (no such person you may see), or `sso_link_not_found` (not linked to that provider, or just unlinked)", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn unlink(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, AppError> {
    let Ok(Path((user, provider))) = path else {
        return Err(AppError::not_found());
    };
    let user = UserId::parse(&user).ok_or_else(AppError::not_found)?;
    let provider = SsoProviderId::parse(&provider)
        .ok_or_else(|| coded(keyward_core::sso::UnlinkError::NotFound))?;
    state
        .kw
        .unlink_sso(&state.ctx(&client), &actor, &user, &provider)
        .await
        .map_err(coded)?;
    Ok(StatusCode::NO_CONTENT)
}
