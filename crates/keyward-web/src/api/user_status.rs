//! `POST /api/v1/users/{id}/disable` and `POST /api/v1/users/{id}/enable`
//! (R-ADM-4): an admin with `users.manage` over the person disables or
//! enables their account; the answer is the account as it now stands.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};

use keyward_core::types::UserId;

use super::ErrorBody;
use super::users::UserBody;
use crate::error::{AppError, coded};
use crate::extract::{Client, path_id};
use crate::signed_in::ApiActor;
use crate::state::AppState;

/// Disable an account: its sessions, sign-ins waiting for a second step,
/// reset links and unused codes end at once; signing in fails like a wrong
/// password until it is enabled.
#[utoipa::path(
    post,
    operation_id = "disable_user",
    path = "/users/{id}/disable",
    tag = "users",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Disabled", body = UserBody),
        (status = 403, description = "`forbidden` (no users.manage, yourself, or someone holding more than you)", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_disabled`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn disable(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<UserBody>, AppError> {
    let user = path_id(path, UserId::parse)?;
    let account = state
        .kw
        .disable_user(&state.ctx(&client), &actor, &user)
        .await
        .map_err(coded)?;
    Ok(Json(UserBody::of(&account, None, None)))
}

/// Enable a disabled account: `active` again when it has a password, else
/// `pending` (issue a new access code with `POST /users/{id}/access-code`).
#[utoipa::path(
    post,
    operation_id = "enable_user",
    path = "/users/{id}/enable",
    tag = "users",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Enabled", body = UserBody),
        (status = 403, description = "`forbidden` (no users.manage, yourself, or someone holding more than you)", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`not_disabled`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn enable(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<UserBody>, AppError> {
    let user = path_id(path, UserId::parse)?;
    let account = state
        .kw
        .enable_user(&state.ctx(&client), &actor, &user)
        .await
        .map_err(coded)?;
    Ok(Json(UserBody::of(&account, None, None)))
}
