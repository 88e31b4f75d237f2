//! `/api/v1/me/mfa`: the signed-in person's two-step verification — set up
//! an authenticator app (the password again, then the first code), new
//! recovery codes, turn it off (the password and a code), and where it stands;
//! and `/api/v1/schools/{id}/mfa`, the roles a school requires it of.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use keyward_core::error::Code;
use keyward_core::mfa::{MfaError, MfaStatus, RecoveryCodes, SecondStepCode, TotpCode};
use keyward_core::types::{Role, SchoolId};

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::{ApiJson, ApiSession, Client, path_id};
use crate::signed_in::ApiActor;
use crate::state::AppState;

/// Where the person's two-step verification stands.
#[derive(Serialize, ToSchema)]
pub struct MfaAnswer {
    /// An authenticator app is on: sign-in asks for a code.
    pub totp: bool,
    /// A set-up waits for its first code.
    pub enrolment_pending: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
}

impl From<MfaStatus> for MfaAnswer {
    fn from(status: MfaStatus) -> Self {
        MfaAnswer {
            totp: status.totp,
            enrolment_pending: status.enrolment_pending,
            recovery_codes_left: status.recovery_codes_left,
        }
    }
}

/// The password, typed again.
#[derive(Deserialize, ToSchema)]
pub struct PasswordAgain {
    pub password: String,
}

/// A started set-up: put this into the authenticator app.
#[derive(Serialize, ToSchema)]
pub struct TotpEnrolmentAnswer {
    /// The secret in base32, for typing into the app.
    pub secret: String,
    /// The `otpauth://totp/…` address (what the QR code holds).
    pub otpauth_uri: String,
    /// The address as a QR code, an SVG image.
    pub qr_svg: String,
}

/// The first code from the app.
#[derive(Deserialize, ToSchema)]
pub struct CodeRequest {
    pub code: String,
}

/// Recovery codes, shown this once.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodesAnswer {
    pub recovery_codes: Vec<String>,
}

impl From<RecoveryCodes> for RecoveryCodesAnswer {
    fn from(codes: RecoveryCodes) -> Self {
        RecoveryCodesAnswer {
            recovery_codes: codes.shown(),
        }
    }
}

/// The password and a code from the app (or a recovery code): to turn
/// two-step verification off, or to get new recovery codes.
#[derive(Deserialize, ToSchema)]
pub struct DisableRequest {
    pub password: String,
    pub code: String,
}

/// Where the signed-in person's two-step verification stands.
#[utoipa::path(
    get,
    operation_id = "mfa_status",
    path = "/me/mfa",
    tag = "mfa",
    responses(
        (status = 200, description = "Where it stands", body = MfaAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    ),
    security(("session_cookie" = []))
)]
pub async fn status(
    State(state): State<AppState>,
    caller: ApiSession,
) -> Result<Json<MfaAnswer>, AppError> {
    let status = state.kw.mfa_status(&caller.session.account).await?;
    Ok(Json(status.into()))
}

/// Start setting up an authenticator app (replaces a set-up that waits).
#[utoipa::path(
    post,
    operation_id = "start_totp_enrolment",
    path = "/me/mfa/totp",
    tag = "mfa",
    request_body = PasswordAgain,
    responses(
        (status = 200, description = "Put the secret into the app, then confirm with its first code", body = TotpEnrolmentAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`csrf_failed`", body = ErrorBody),
        (status = 409, description = "`mfa_already_enabled`", body = ErrorBody),
        (status = 422, description = "`wrong_current_password`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`; see Retry-After", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn start_totp(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
    ApiJson(body): ApiJson<PasswordAgain>,
) -> Result<Json<TotpEnrolmentAnswer>, AppError> {
    let enrolment = state
        .kw
        .start_totp_enrolment(
            &state.ctx(&client),
            &caller.session.account,
            &body.password.into(),
        )
        .await
        .map_err(coded)?;
    Ok(Json(TotpEnrolmentAnswer {
        secret: enrolment.secret,
        otpauth_uri: enrolment.otpauth_uri,
        qr_svg: enrolment.qr_svg,
    }))
}

/// Confirm the set-up with the app's first code; answers the recovery codes.
#[utoipa::path(
    post,
    operation_id = "confirm_totp_enrolment",
    path = "/me/mfa/totp/confirm",
    tag = "mfa",
    request_body = CodeRequest,
    responses(
        (status = 200, description = "Two-step verification is on; keep these codes", body = RecoveryCodesAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`csrf_failed`", body = ErrorBody),
        (status = 409, description = "`mfa_not_pending` or `mfa_already_enabled`", body = ErrorBody),
        (status = 422, description = "`mfa_code_malformed` or `mfa_code_wrong`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`; see Retry-After", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn confirm_totp(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
    ApiJson(body): ApiJson<CodeRequest>,
) -> Result<Json<RecoveryCodesAnswer>, AppError> {
    let code = TotpCode::parse(&body.code).ok_or_else(|| coded(MfaError::CodeMalformed))?;
    let codes = confirm(&state, &client, &caller, &code).await?;
    Ok(Json(codes.into()))
}

async fn confirm(
    state: &AppState,
    client: &Client,
    caller: &ApiSession,
    code: &TotpCode,
) -> Result<RecoveryCodes, AppError> {
    state
        .kw
        .confirm_totp_enrolment(&state.ctx(client), &caller.session.account, code)
        .await
        .map_err(coded)
}

/// A new set of recovery codes; the old ones stop working. Needs the
/// password and a code (from the app, or a recovery code).
#[utoipa::path(
    post,
    operation_id = "regenerate_recovery_codes",
    path = "/me/mfa/recovery-codes",
    tag = "mfa",
    request_body = DisableRequest,
    responses(
        (status = 200, description = "The new codes, shown this once", body = RecoveryCodesAnswer),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`csrf_failed`", body = ErrorBody),
        (status = 409, description = "`mfa_not_enabled`", body = ErrorBody),
        (status = 422, description = "`wrong_current_password`, `mfa_code_malformed`, `mfa_code_wrong` or `mfa_code_used`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`; see Retry-After", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn recovery_codes(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
    ApiJson(body): ApiJson<DisableRequest>,
) -> Result<Json<RecoveryCodesAnswer>, AppError> {
    let code = SecondStepCode::either(&body.code).map_err(coded)?;
    let (ctx, password) = (state.ctx(&client), body.password.into());
    let codes = state
        .kw
        .regenerate_recovery_codes(&ctx, &caller.session.account, &password, &code)
        .await
        .map_err(coded)?;
    Ok(Json(codes.into()))
}

/// Turn two-step verification with the app off (its recovery codes go too).
#[utoipa::path(
    delete,
    operation_id = "disable_mfa",
    path = "/me/mfa",
    tag = "mfa",
    request_body = DisableRequest,
    responses(
        (status = 204, description = "Off"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`csrf_failed`", body = ErrorBody),
        (status = 409, description = "`mfa_not_enabled`", body = ErrorBody),
        (status = 422, description = "`wrong_current_password`, `mfa_code_malformed`, `mfa_code_wrong` or `mfa_code_used`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`; see Retry-After", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn disable(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
    ApiJson(body): ApiJson<DisableRequest>,
) -> Result<StatusCode, AppError> {
    let code = SecondStepCode::either(&body.code).map_err(coded)?;
    state
        .kw
        .disable_totp(
            &state.ctx(&client),
            &caller.session.account,
            &body.password.into(),
            &code,
        )
        .await
        .map_err(coded)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The roles of a school whose people must use two-step verification.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SchoolMfaRule {
    /// Any of `lead_teacher`, `teacher`, `learner`, `parent`.
    #[schema(value_type = Vec<super::users::SchoolRoleName>)]
    pub required_roles: Vec<String>,
}

impl SchoolMfaRule {
    fn of(roles: &[Role]) -> SchoolMfaRule {
        SchoolMfaRule {
            required_roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
        }
    }

    fn roles(&self) -> Result<Vec<Role>, AppError> {
        self.required_roles
            .iter()
            .map(|name| {
                Role::parse(name).ok_or_else(|| {
                    AppError::new(Code::InvalidRequest, format!("`{name}` is not a role."))
                })
            })
            .collect()
    }
}

/// Which roles of a school must use two-step verification.
#[utoipa::path(
    get,
    operation_id = "show_school_mfa_rule",
    path = "/schools/{id}/mfa",
    tag = "schools",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The rule", body = SchoolMfaRule),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn school_rule(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<SchoolMfaRule>, AppError> {
    let school = path_id(path, SchoolId::parse)?;
    let roles = state
        .kw
        .school_mfa_required_roles(&state.ctx(&client), &actor, &school)
        .await
        .map_err(coded)?;
    Ok(Json(SchoolMfaRule::of(&roles)))
}

/// Set which roles of a school must use two-step verification (its lead
/// teacher, a platform admin). They are held at enrolment after their next
/// sign-in until it is on.
#[utoipa::path(
    put,
    operation_id = "set_school_mfa_rule",
    path = "/schools/{id}/mfa",
    tag = "schools",
    params(("id" = String, Path)),
    request_body = SchoolMfaRule,
    responses(
        (status = 200, description = "The rule now", body = SchoolMfaRule),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_request`: an unknown role, or one not of a school", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn set_school_rule(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<SchoolMfaRule>,
) -> Result<Json<SchoolMfaRule>, AppError> {
    let school = path_id(path, SchoolId::parse)?;
    let roles = body.roles()?;
    let now = state
        .kw
        .set_school_mfa_required_roles(&state.ctx(&client), &actor, &school, &roles)
        .await
        .map_err(coded)?;
    Ok(Json(SchoolMfaRule::of(&now)))
}
