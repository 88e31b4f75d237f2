//! `/api/v1/me/passkeys`: the signed-in person's passkeys — start and finish
//! a registration (the password again first), list, rename, remove (the
//! password again). Account Settings' script uses these same calls.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use keyward_core::crypto::tokens::Token;
use keyward_core::passkeys::{PasskeyChallenge, PasskeyError, PasskeySummary};
use keyward_core::types::{PasskeyId, Password};

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::{ApiJson, ApiSession, Client, path_id};
use crate::state::AppState;

/// A passkey of the signed-in person.
#[derive(Serialize, ToSchema)]
pub struct PasskeyItem {
    pub id: String,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the latest sign-in with it.
    pub last_used_at: Option<i64>,
}

impl From<PasskeySummary> for PasskeyItem {
    fn from(p: PasskeySummary) -> Self {
        PasskeyItem {
            id: p.id.to_string(),
            name: p.name,
            created_at: p.created_at.secs(),
            last_used_at: p.last_used_at.map(|t| t.secs()),
        }
    }
}

/// A passkey ceremony started: pass `options.publicKey` (binary fields in
/// base64url) to `navigator.credentials.create()` or `.get()`, then send the
/// answer with `ceremony` within 5 minutes. A ceremony is finished once.
#[derive(Serialize, ToSchema)]
pub struct PasskeyCeremony {
    pub ceremony: String,
    /// `{"publicKey": PublicKeyCredentialCreationOptions | PublicKeyCredentialRequestOptions}`.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

impl From<PasskeyChallenge> for PasskeyCeremony {
    fn from(started: PasskeyChallenge) -> Self {
        PasskeyCeremony {
            ceremony: started.ceremony.expose().to_owned(),
            options: started.options,
        }
    }
}

/// A passkey ceremony finished with the browser's answer.
#[derive(Deserialize, ToSchema)]
pub struct PasskeyAnswer {
    pub ceremony: String,
    /// The `PublicKeyCredential` the browser gave, as JSON (binary fields in
    /// base64url). One that cannot be read is 422 `passkey_response_invalid`.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

impl PasskeyAnswer {
    /// The ceremony handle; one that cannot be ours is answered as unknown.
    pub fn ceremony(&self) -> Result<Token, AppError> {
        Token::from_client(&self.ceremony).ok_or_else(|| coded(PasskeyError::CeremonyExpired))
    }
}

#[derive(Deserialize, ToSchema)]
pub struct StartRegistration {
    /// What to call the passkey (1–64 characters).
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    pub current_password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct RenamePasskey {
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct RemovePasskey {
    pub current_password: String,
}

fn passkey_of(path: Result<Path<String>, PathRejection>) -> Result<PasskeyId, AppError> {
    path_id(path, PasskeyId::parse)
}

/// Your passkeys, oldest first.
#[utoipa::path(
    get,
    operation_id = "list_passkeys",
    path = "/me/passkeys",
    tag = "session",
    responses(
        (status = 200, description = "Your passkeys", body = [PasskeyItem]),
    ),
    security(("session_cookie" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiSession,
) -> Result<Json<Vec<PasskeyItem>>, AppError> {
    let listed = state.kw.list_passkeys(&caller.session.account).await?;
    Ok(Json(listed.into_iter().map(PasskeyItem::from).collect()))
}

/// Start adding a passkey: your password again and the passkey's name.
#[utoipa::path(
    post,
    operation_id = "start_passkey_registration",
    path = "/me/passkeys/registration",
    tag = "session",
    request_body = StartRegistration,
    responses(
        (status = 200, description = "Started: options for `navigator.credentials.create()`", body = PasskeyCeremony),
        (status = 403, description = "`passkeys_off`: a learner whose school has not switched passkeys on", body = ErrorBody),
        (status = 409, description = "`passkeys_unavailable` (the server's address is not a domain name) or `too_many_passkeys`", body = ErrorBody),
        (status = 422, description = "`invalid_name` or `wrong_current_password`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn start_registration(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
    ApiJson(body): ApiJson<StartRegistration>,
) -> Result<Json<PasskeyCeremony>, AppError> {
    let started = state
        .kw
        .start_passkey_registration(
            &state.ctx(&client),
            &caller.session.account,
            &body.name,
            &Password::from(body.current_password),
        )
        .await
        .map_err(coded)?;
    Ok(Json(started.into()))
}

/// Finish adding a passkey with the browser's answer.
#[utoipa::path(
    post,
    operation_id = "finish_passkey_registration",
    path = "/me/passkeys",
    tag = "session",
    request_body = PasskeyAnswer,
    responses(
        (status = 201, description = "Added", body = PasskeyItem),
        (status = 403, description = "`passkeys_off`", body = ErrorBody),
        (status = 409, description = "`passkey_taken`, `too_many_passkeys` or `passkeys_unavailable`", body = ErrorBody),
        (status = 410, description = "`passkey_ceremony_expired`: unknown, expired or already finished", body = ErrorBody),
        (status = 422, description = "`passkey_response_invalid`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn finish_registration(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
    ApiJson(body): ApiJson<PasskeyAnswer>,
) -> Result<(StatusCode, Json<PasskeyItem>), AppError> {
    let added = state
        .kw
        .finish_passkey_registration(
            &state.ctx(&client),
            &caller.session.account,
            &body.ceremony()?,
            &body.credential,
        )
        .await
        .map_err(coded)?;
    Ok((StatusCode::CREATED, Json(added.into())))
}

/// Rename one of your passkeys.
#[utoipa::path(
    patch,
    operation_id = "rename_passkey",
    path = "/me/passkeys/{id}",
    tag = "session",
    params(("id" = String, Path, description = "The passkey's id")),
    request_body = RenamePasskey,
    responses(
        (status = 200, description = "Renamed", body = PasskeyItem),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_name`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn rename(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<RenamePasskey>,
) -> Result<Json<PasskeyItem>, AppError> {
    let passkey = passkey_of(path)?;
    let renamed = state
        .kw
        .rename_passkey(
            &state.ctx(&client),
            &caller.session.account,
            &passkey,
            &body.name,
        )
        .await
        .map_err(coded)?;
    Ok(Json(renamed.into()))
}

/// Remove one of your passkeys: your password again.
#[utoipa::path(
    delete,
    operation_id = "remove_passkey",
    path = "/me/passkeys/{id}",
    tag = "session",
    params(("id" = String, Path, description = "The passkey's id")),
    request_body = RemovePasskey,
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`wrong_current_password`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn remove(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<RemovePasskey>,
) -> Result<StatusCode, AppError> {
    let passkey = passkey_of(path)?;
    state
        .kw
        .remove_passkey(
            &state.ctx(&client),
            &caller.session.account,
            &passkey,
            &Password::from(body.current_password),
        )
        .await
        .map_err(coded)?;
    Ok(StatusCode::NO_CONTENT)
}
