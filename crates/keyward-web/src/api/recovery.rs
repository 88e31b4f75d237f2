//! `/api/v1/recovery`: request a reset email, check and use a link, trade
//! the emailed code for a reset token; and `/api/v1/me/password`.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, SchemaType, Type};

use keyward_core::recovery::{RecoveryInput, RecoveryRequestError, RedeemCodeError};
use keyward_core::types::TypedCode;

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::{ApiJson, ApiSession, Client, RECOVERY_COOKIE};
use crate::state::AppState;

/// The one answer to every well-formed request, whatever the account's state.
const ACCEPTED_MESSAGE: &str =
    "If an account matches and has an email address, we have sent it a link and a code.";

#[derive(Deserialize)]
pub struct RecoveryRequest {
    pub username: Option<String>,
    pub email: Option<String>,
}

/// At least one of `username` and `email`: which the server needs is the
/// deployment's `recovery.identify_by`, so the schema requires either.
impl utoipa::PartialSchema for RecoveryRequest {
    fn schema() -> RefOr<Schema> {
        // Either field may be null, except the one a branch requires.
        let with = |required: &str| {
            let text = |name: &str, description: &str| {
                let types = if name == required {
                    SchemaType::Type(Type::String)
                } else {
                    SchemaType::from_iter([Type::String, Type::Null])
                };
                ObjectBuilder::new()
                    .schema_type(types)
                    .description(Some(description))
            };
            ObjectBuilder::new()
                .property("username", text("username", "The account's username."))
                .property("email", text("email", "The account's email address."))
                .required(required)
        };
        AnyOfBuilder::new()
            .item(with("username"))
            .item(with("email"))
            .description(Some(
                "Which account. `recovery.identify_by` says which of the two are needed: \
                 `username` (the default) the username, `email` the email address, \
                 `email_and_username` both; one that is missing or blank is answered \
                 422 `username_missing` or `email_missing`.",
            ))
            .into()
    }
}

impl ToSchema for RecoveryRequest {}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    /// Always `accepted`.
    pub status: &'static str,
    pub message: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct PolicyRule {
    /// `min`, `lower`, `upper`, `digit`, `nospecial`, `username`, `common`.
    pub rule: &'static str,
    pub value: usize,
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct LinkStatus {
    /// Always `usable`.
    pub status: &'static str,
    /// Whether the reset must also carry the username (`recovery.confirm_username`).
    pub ask_username: bool,
    pub rules: Vec<PolicyRule>,
}

#[derive(Deserialize, ToSchema)]
pub struct ResetRequest {
    pub new_password: String,
    pub confirm_password: String,
    pub username: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Done {
    pub status: &'static str,
}

#[derive(Deserialize, ToSchema)]
pub struct CodeRequest {
    /// The 8 digits from the email.
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct CodeAccepted {
    /// Use with `GET`/`POST /api/v1/recovery/{token}`.
    pub reset_token: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
    pub confirm_password: String,
}

fn token_of(path: Result<Path<String>, PathRejection>) -> String {
    path.map(|Path(token)| token).unwrap_or_default()
}

/// Ask for a reset email. The answer is the same whatever the account's state.
#[utoipa::path(
    post,
    operation_id = "request_recovery",
    path = "/recovery",
    tag = "recovery",
    request_body = RecoveryRequest,
    responses(
        (status = 202, description = "Accepted; sets the `kw_recovery` cookie the code must come with", body = Accepted),
        (status = 422, description = "`username_missing`, `email_missing` or `input_too_long`", body = ErrorBody),
    ),
    security(())
)]
pub async fn request(
    State(state): State<AppState>,
    client: Client,
    ApiJson(body): ApiJson<RecoveryRequest>,
) -> Result<Response, AppError> {
    let input = RecoveryInput {
        username: body.username,
        email: body.email,
    };
    let ctx = state.ctx(&client);
    let asked = state.kw.request_recovery(&ctx, &input);
    match crate::pacing::no_sooner_than(crate::pacing::RECOVERY_ANSWER_FLOOR, asked).await {
        Ok(accepted) => {
            let jar = CookieJar::new().add(state.recovery_cookie(&accepted.handle));
            let answer = Accepted {
                status: "accepted",
                message: ACCEPTED_MESSAGE,
            };
            Ok((StatusCode::ACCEPTED, jar, Json(answer)).into_response())
        }
        Err(RecoveryRequestError::Internal(err)) => Err(AppError::internal(&err)),
        Err(err) => Err(AppError::from_coded(&err)),
    }
}

/// Whether a reset link can be used. Does not use it up.
#[utoipa::path(
    get,
    operation_id = "check_reset_link",
    path = "/recovery/{token}",
    tag = "recovery",
    params(("token" = String, Path, description = "The token from the emailed link")),
    responses(
        (status = 200, description = "Usable", body = LinkStatus),
        (status = 404, description = "`link_unknown`", body = ErrorBody),
        (status = 409, description = "`signs_in_with_sso`: the account has no keyward password; sign in with the provider (details provider and provider_id) at /sso/{provider_id}/start", body = ErrorBody),
        (status = 410, description = "`link_expired` or `link_used`", body = ErrorBody),
    ),
    security(())
)]
pub async fn check(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<LinkStatus>, AppError> {
    let link = state
        .kw
        .check_reset_link(&state.ctx(&client), &token_of(path))
        .await
        .map_err(coded)?;
    let rules = link
        .policy
        .hints()
        .into_iter()
        .map(|h| PolicyRule {
            rule: h.rule,
            value: h.value,
            text: h.text,
        })
        .collect();
    Ok(Json(LinkStatus {
        status: "usable",
        ask_username: link.ask_username,
        rules,
    }))
}

/// Reset the password with a link token. Every session of the account ends.
#[utoipa::path(
    post,
    operation_id = "reset_password_with_link",
    path = "/recovery/{token}",
    tag = "recovery",
    params(("token" = String, Path, description = "The token from the emailed link or from the code")),
    request_body = ResetRequest,
    responses(
        (status = 200, description = "The password is changed; sign in with it", body = Done),
        (status = 404, description = "`link_unknown`", body = ErrorBody),
        (status = 409, description = "`signs_in_with_sso`: the account has no keyward password; sign in with the provider (details provider and provider_id) at /sso/{provider_id}/start", body = ErrorBody),
        (status = 410, description = "`link_expired` or `link_used`", body = ErrorBody),
        (status = 422, description = "`password_policy` (with `violations`) or `username_mismatch`", body = ErrorBody),
    ),
    security(())
)]
pub async fn reset(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<ResetRequest>,
) -> Result<Json<Done>, AppError> {
    state
        .kw
        .reset_with_link(
            &state.ctx(&client),
            &token_of(path),
            body.new_password.into(),
            &body.confirm_password.into(),
            body.username.as_deref(),
        )
        .await
        .map_err(coded)?;
    Ok(Json(Done { status: "reset" }))
}

/// Trade the emailed 8-digit code for a reset token. Needs the `kw_recovery`
/// cookie from the request; at most 5 wrong tries.
#[utoipa::path(
    post,
    operation_id = "redeem_recovery_code",
    path = "/recovery/code",
    tag = "recovery",
    request_body = CodeRequest,
    responses(
        (status = 200, description = "The code was right", body = CodeAccepted),
        (status = 410, description = "`code_expired` or `code_too_many_tries`", body = ErrorBody),
        (status = 422, description = "`code_wrong` or `code_no_request`", body = ErrorBody),
    ),
    security(())
)]
pub async fn code(
    State(state): State<AppState>,
    client: Client,
    jar: CookieJar,
    ApiJson(body): ApiJson<CodeRequest>,
) -> Result<Json<CodeAccepted>, AppError> {
    let handle = state
        .cookie_value(&jar, RECOVERY_COOKIE)
        .unwrap_or_default()
        .to_owned();
    let token = state
        .kw
        .redeem_recovery_code(&state.ctx(&client), &handle, &TypedCode::from(&body.code))
        .await
        .map_err(|err| match err {
            RedeemCodeError::Internal(internal) => AppError::internal(&internal),
            other => AppError::from_coded(&other),
        })?;
    Ok(Json(CodeAccepted {
        reset_token: token.expose().to_owned(),
    }))
}

/// Change your own password. Your other sessions end.
#[utoipa::path(
    post,
    operation_id = "change_password",
    path = "/me/password",
    tag = "session",
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Changed", body = Done),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`csrf_failed`", body = ErrorBody),
        (status = 409, description = "`signs_in_with_sso`: you sign in with your school's provider (details provider and provider_id) and have no keyward password", body = ErrorBody),
        (status = 422, description = "`password_policy` (with `violations`) or `wrong_current_password`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn change_password(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<Json<Done>, AppError> {
    state
        .kw
        .change_own_password(
            &state.ctx(&client),
            &caller.session,
            &caller.token,
            body.current_password.into(),
            body.new_password.into(),
            &body.confirm_password.into(),
        )
        .await
        .map_err(coded)?;
    Ok(Json(Done { status: "changed" }))
}
