//! `/api/v1/tokens`: the caller's API tokens (issue 13) — create one (the
//! secret is in this answer only), list them (with `users.manage`, also the
//! tokens of the people one may manage), revoke one. These calls need a
//! session: a token never mints, lists or revokes tokens.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use keyward_core::authz::{Permission, PermissionSet};
use keyward_core::tokens::{ApiTokenId, NewToken, TokenError, TokenSummary};
use keyward_core::types::{SchoolId, UnixTime};

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::{ApiJson, Client, path_id};
use crate::signed_in::SessionActor;
use crate::state::AppState;

/// A new token.
#[derive(Deserialize, ToSchema)]
pub struct CreateTokenRequest {
    /// 1 to 64 characters, for you to recognise it.
    pub name: String,
    /// Permission names (`users.view`, …), each one you hold.
    pub permissions: Vec<String>,
    /// Platform admins only: the one school the token acts in.
    #[serde(default)]
    pub school_id: Option<String>,
    /// 1 to 365; 90 when left out.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

impl CreateTokenRequest {
    fn parse(self) -> Result<NewToken, AppError> {
        let mut permissions = PermissionSet::EMPTY;
        for name in &self.permissions {
            let permission = Permission::parse(name).ok_or_else(|| {
                AppError::new(
                    keyward_core::error::Code::TokenPermissionsInvalid,
                    format!(
                        "There is no permission called {:?}.",
                        name.chars().take(40).collect::<String>()
                    ),
                )
            })?;
            permissions = permissions.with(permission);
        }
        let school_id = match &self.school_id {
            Some(text) => {
                Some(SchoolId::parse(text).ok_or_else(|| coded(TokenError::SchoolNotFound))?)
            }
            None => None,
        };
        Ok(NewToken {
            name: self.name,
            permissions,
            school_id,
            expires_in_days: self.expires_in_days,
        })
    }
}

/// A token as listed: never its secret.
#[derive(Serialize, ToSchema)]
pub struct TokenBody {
    /// The token's public id (32 hex digits), for `DELETE /tokens/{id}`.
    pub id: String,
    pub name: String,
    pub owner_id: String,
    pub owner_username: String,
    pub permissions: Vec<String>,
    /// The one school the token acts in, when it is limited to one.
    pub school_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// Updated at most once a minute.
    pub last_used_at: Option<i64>,
    /// `active`, `expired` or `revoked`.
    pub status: String,
}

impl TokenBody {
    fn of(token: &TokenSummary, now: UnixTime) -> Self {
        TokenBody {
            id: token.id.to_string(),
            name: token.name.clone(),
            owner_id: token.owner_id.to_string(),
            owner_username: token.owner_username.clone(),
            permissions: token
                .permissions
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            school_id: token.school_id.as_ref().map(ToString::to_string),
            created_at: token.created_at.secs(),
            expires_at: token.expires_at.secs(),
            revoked_at: token.revoked_at.map(UnixTime::secs),
            last_used_at: token.last_used_at.map(UnixTime::secs),
            status: token.status(now).as_str().to_owned(),
        }
    }
}

/// A token just created, with its secret: shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedTokenBody {
    /// The secret, for `Authorization: Bearer …`. keyward keeps only its digest.
    pub token: String,
    #[serde(flatten)]
    pub details: TokenBody,
}

/// The caller's tokens, and those of the people they may manage.
#[derive(Serialize, ToSchema)]
pub struct TokenListBody {
    pub own: Vec<TokenBody>,
    /// With `users.manage`: the tokens of the people you may manage.
    pub managed: Vec<TokenBody>,
}

/// Create an API token for yourself.
#[utoipa::path(
    post,
    operation_id = "create_token",
    path = "/tokens",
    tag = "tokens",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "The token, with its secret (shown once)", body = CreatedTokenBody),
        (status = 403, description = "`forbidden` (a permission you do not hold) or `token_not_allowed` (called with a token)", body = ErrorBody),
        (status = 404, description = "`school_not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_name`, `token_permissions_invalid` or `token_expiry_invalid`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    client: Client,
    SessionActor(actor): SessionActor,
    ApiJson(body): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenBody>), AppError> {
    let ctx = state.ctx(&client);
    let created = state
        .kw
        .create_token(&ctx, &actor, &body.parse()?)
        .await
        .map_err(coded)?;
    let body = CreatedTokenBody {
        token: created.secret.expose().to_owned(),
        details: TokenBody::of(&created.summary, ctx.now),
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Your API tokens, and (with `users.manage`) those of the people you may manage.
#[utoipa::path(
    get,
    operation_id = "list_tokens",
    path = "/tokens",
    tag = "tokens",
    responses(
        (status = 200, description = "The tokens, newest first", body = TokenListBody),
        (status = 403, description = "`token_not_allowed` (called with a token)", body = ErrorBody),
    ),
    security(("session_cookie" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    client: Client,
    SessionActor(actor): SessionActor,
) -> Result<Json<TokenListBody>, AppError> {
    let now = state.ctx(&client).now;
    let lists = state.kw.list_tokens(&actor).await.map_err(coded)?;
    let bodies = |tokens: &[TokenSummary]| tokens.iter().map(|t| TokenBody::of(t, now)).collect();
    Ok(Json(TokenListBody {
        own: bodies(&lists.own),
        managed: bodies(&lists.managed),
    }))
}

/// Revoke a token: yours, or one of a person you may manage. Revoking a
/// revoked token changes nothing and answers the same.
#[utoipa::path(
    delete,
    operation_id = "revoke_token",
    path = "/tokens/{id}",
    tag = "tokens",
    params(("id" = String, Path, description = "The token's id")),
    responses(
        (status = 204, description = "The token is revoked: no call with it is let in any more"),
        (status = 403, description = "`forbidden` or `token_not_allowed` (called with a token)", body = ErrorBody),
        (status = 404, description = "`token_not_found`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn revoke(
    State(state): State<AppState>,
    client: Client,
    SessionActor(actor): SessionActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, AppError> {
    let id = path_id(path, ApiTokenId::parse).map_err(|_| coded(TokenError::NotFound))?;
    state
        .kw
        .revoke_token(&state.ctx(&client), &actor, &id)
        .await
        .map_err(coded)?;
    Ok(StatusCode::NO_CONTENT)
}
