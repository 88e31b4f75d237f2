//! `/api/v1/session` and `/api/v1/me`: sign in, sign out, and who am I.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use keyward_core::accounts::{Account, SecondFactors, SignInOutcome, SignedIn};
use keyward_core::error::Code;
use keyward_core::mfa::{MfaError, MfaStatus, SecondStepCode};

use keyward_core::crypto::tokens::Token;
use keyward_core::passkeys::PasskeyError;

use super::ErrorBody;
use super::passkeys::{PasskeyAnswer, PasskeyCeremony};
use crate::error::{AppError, coded};
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
    /// Whether two-step verification with an authenticator app is on
    /// (absent where not looked up, as in the sign-in answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_enabled: Option<bool>,
    /// True when the session signed in with a temporary password from an
    /// administrator: only `POST /api/v1/me/password` works until it is
    /// replaced (other calls answer 403 `password_change_required`).
    /// Absent where not looked up, as in the sign-in answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_change_required: Option<bool>,
    /// The language the person chose for pages and emails (`en`, `es`);
    /// null: pages follow the browser, emails are in English. Set with
    /// `PUT /api/v1/me/locale`.
    pub locale: Option<String>,
}

impl Me {
    fn of(account: &Account, csrf_token: &str, mfa: Option<MfaStatus>) -> Me {
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
            mfa_enabled: mfa.map(|status| status.totp),
            password_change_required: None,
            locale: account.locale.map(|l| l.code().to_owned()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionAnswer {
    /// False: the session is open.
    pub mfa_required: bool,
    pub csrf_token: String,
    pub user: Me,
}

/// The password was right and a second step is needed: send a code to
/// `POST /api/v1/session/mfa` (with the cookie this answer set) within
/// `expires_in` seconds.
#[derive(Serialize, ToSchema)]
pub struct SecondStepAnswer {
    /// True: no session yet.
    pub mfa_required: bool,
    /// What the second step accepts: `totp` and `recovery_code` (with an
    /// authenticator app), `passkey`.
    pub methods: Vec<&'static str>,
    /// Seconds the pending sign-in waits.
    pub expires_in: u64,
}

/// The answer to a right password.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[expect(
    clippy::large_enum_variant,
    reason = "made once per answer and serialised at once"
)]
pub enum SignInAnswer {
    SignedIn(SessionAnswer),
    SecondStep(SecondStepAnswer),
}

impl SessionAnswer {
    fn of(signed_in: &SignedIn) -> SessionAnswer {
        SessionAnswer {
            mfa_required: false,
            csrf_token: signed_in.csrf_token.clone(),
            user: Me::of(&signed_in.account, &signed_in.csrf_token, None),
        }
    }
}

/// The cookies of an opened session: the session, the device, and the end
/// of a pending second step.
fn signed_in_cookies(state: &AppState, signed_in: &SignedIn) -> CookieJar {
    CookieJar::new()
        .add(state.session_cookie(&signed_in.session_token))
        .add(state.device_cookie(&signed_in.device_token))
        .add(state.expired_sign_in_step_cookie())
}

/// Sign in with username and password; sets the session cookie, or — for an
/// account with two-step verification — the cookie of the pending second step.
#[utoipa::path(
    post,
    operation_id = "sign_in",
    path = "/session",
    tag = "session",
    request_body = SignInRequest,
    responses(
        (status = 200, description = "Signed in (the session cookie is set), or `mfa_required` (the second step's cookie is set)", body = SignInAnswer),
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
    let ctx = state.ctx(&client);
    let outcome = state
        .kw
        .sign_in(&ctx, &request.username, request.password.into())
        .await
        .map_err(coded)?;
    Ok(match outcome {
        SignInOutcome::Complete(signed_in) => {
            let answer = SignInAnswer::SignedIn(SessionAnswer::of(&signed_in));
            (signed_in_cookies(&state, &signed_in), Json(answer)).into_response()
        }
        SignInOutcome::SecondStep(pending) => {
            let answer = SignInAnswer::SecondStep(SecondStepAnswer {
                mfa_required: true,
                methods: methods_of(pending.second_factors),
                expires_in: pending.expires_in.as_secs(),
            });
            let jar = CookieJar::new().add(state.sign_in_step_cookie(&pending));
            (jar, Json(answer)).into_response()
        }
    })
}

fn methods_of(factors: SecondFactors) -> Vec<&'static str> {
    let mut methods = Vec::new();
    if factors.totp {
        methods.extend(["totp", "recovery_code"]);
    }
    if factors.passkeys {
        methods.push("passkey");
    }
    methods
}

/// The second step: a code from the authenticator app, or a recovery code.
#[derive(Deserialize, ToSchema)]
pub struct SecondStepRequest {
    /// The 6-digit code from the authenticator app.
    pub code: Option<String>,
    /// Or one of the recovery codes.
    pub recovery_code: Option<String>,
}

impl SecondStepRequest {
    fn parse(&self) -> Result<SecondStepCode, AppError> {
        match (&self.code, &self.recovery_code) {
            (Some(code), None) => SecondStepCode::app(code).map_err(coded),
            (None, Some(code)) => SecondStepCode::recovery(code).map_err(coded),
            _ => Err(AppError::new(
                Code::InvalidRequest,
                "Send either `code` or `recovery_code`.",
            )),
        }
    }
}

/// Finishes a sign-in that answered `mfa_required`; sets the session cookie.
#[utoipa::path(
    post,
    operation_id = "finish_sign_in_mfa",
    path = "/session/mfa",
    tag = "session",
    request_body = SecondStepRequest,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = SessionAnswer),
        (status = 400, description = "`invalid_json`", body = ErrorBody),
        (status = 401, description = "`sign_in_step_expired`: no pending sign-in, or it expired", body = ErrorBody),
        (status = 409, description = "`mfa_not_enabled`: the account has no authenticator app", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = ErrorBody),
        (status = 422, description = "`invalid_request`, `mfa_code_malformed`, `mfa_code_wrong` or `mfa_code_used`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`; see Retry-After", body = ErrorBody),
    ),
    security(("sign_in_step_cookie" = []))
)]
pub async fn finish_sign_in_mfa(
    State(state): State<AppState>,
    client: Client,
    jar: CookieJar,
    ApiJson(request): ApiJson<SecondStepRequest>,
) -> Result<Response, AppError> {
    let code = request.parse()?;
    let step = state
        .sign_in_step_token(&jar)
        .ok_or_else(|| coded(MfaError::StepExpired))?;
    let signed_in = state
        .kw
        .finish_sign_in_with_code(&state.ctx(&client), &step, &code)
        .await
        .map_err(coded)?;
    let answer = SessionAnswer::of(&signed_in);
    Ok((signed_in_cookies(&state, &signed_in), Json(answer)).into_response())
}

/// Start **Sign in with a passkey** (no username, no password): options for
/// `navigator.credentials.get()` that name no credential, so the browser
/// offers every passkey it holds for this site.
#[utoipa::path(
    post,
    operation_id = "start_passkey_sign_in",
    path = "/session/passkey/start",
    tag = "session",
    responses(
        (status = 200, description = "Started", body = PasskeyCeremony),
        (status = 409, description = "`passkeys_unavailable`: the server's address is not a domain name", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many started from this address", body = ErrorBody),
    ),
    security(())
)]
pub async fn start_passkey_sign_in(
    State(state): State<AppState>,
    client: Client,
) -> Result<Json<PasskeyCeremony>, AppError> {
    let started = state
        .kw
        .start_passkey_sign_in(&state.ctx(&client))
        .await
        .map_err(coded)?;
    Ok(Json(started.into()))
}

/// Finish **Sign in with a passkey** with the browser's answer; sets the
/// session cookie.
#[utoipa::path(
    post,
    operation_id = "finish_passkey_sign_in",
    path = "/session/passkey/finish",
    tag = "session",
    request_body = PasskeyAnswer,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = SessionAnswer),
        (status = 401, description = "`passkey_rejected`: not a passkey of an active account here, or it did not verify", body = ErrorBody),
        (status = 409, description = "`passkeys_unavailable`", body = ErrorBody),
        (status = 410, description = "`passkey_ceremony_expired`", body = ErrorBody),
        (status = 422, description = "`passkey_response_invalid`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = ErrorBody),
    ),
    security(())
)]
pub async fn finish_passkey_sign_in(
    State(state): State<AppState>,
    client: Client,
    ApiJson(body): ApiJson<PasskeyAnswer>,
) -> Result<Response, AppError> {
    let signed_in = state
        .kw
        .finish_passkey_sign_in(&state.ctx(&client), &body.ceremony()?, &body.credential)
        .await
        .map_err(coded)?;
    let answer = SessionAnswer::of(&signed_in);
    Ok((signed_in_cookies(&state, &signed_in), Json(answer)).into_response())
}

/// The pending sign-in of the second step's cookie.
fn step_of(state: &AppState, jar: &CookieJar) -> Result<Token, AppError> {
    state
        .sign_in_step_token(jar)
        .ok_or_else(|| coded(PasskeyError::StepExpired))
}

/// Start the second step with a passkey, after an answer `mfa_required`
/// with `passkey` among its methods: options offering the account's own
/// passkeys.
#[utoipa::path(
    post,
    operation_id = "start_sign_in_mfa_passkey",
    path = "/session/mfa/passkey/start",
    tag = "session",
    responses(
        (status = 200, description = "Started", body = PasskeyCeremony),
        (status = 401, description = "`sign_in_step_expired`: no pending sign-in, or it expired", body = ErrorBody),
        (status = 403, description = "`passkeys_off`", body = ErrorBody),
        (status = 404, description = "`not_found`: the account has no passkey", body = ErrorBody),
        (status = 409, description = "`passkeys_unavailable`", body = ErrorBody),
    ),
    security(("sign_in_step_cookie" = []))
)]
pub async fn start_sign_in_mfa_passkey(
    State(state): State<AppState>,
    client: Client,
    jar: CookieJar,
) -> Result<Json<PasskeyCeremony>, AppError> {
    let step = step_of(&state, &jar)?;
    let started = state
        .kw
        .start_passkey_second_step(&state.ctx(&client), &step)
        .await
        .map_err(coded)?;
    Ok(Json(started.into()))
}

/// Finish the second step with a passkey; sets the session cookie.
#[utoipa::path(
    post,
    operation_id = "finish_sign_in_mfa_passkey",
    path = "/session/mfa/passkey/finish",
    tag = "session",
    request_body = PasskeyAnswer,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = SessionAnswer),
        (status = 401, description = "`sign_in_step_expired` or `passkey_rejected`", body = ErrorBody),
        (status = 409, description = "`passkeys_unavailable`", body = ErrorBody),
        (status = 410, description = "`passkey_ceremony_expired`", body = ErrorBody),
        (status = 422, description = "`passkey_response_invalid`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = ErrorBody),
    ),
    security(("sign_in_step_cookie" = []))
)]
pub async fn finish_sign_in_mfa_passkey(
    State(state): State<AppState>,
    client: Client,
    jar: CookieJar,
    ApiJson(body): ApiJson<PasskeyAnswer>,
) -> Result<Response, AppError> {
    let step = step_of(&state, &jar)?;
    let ctx = state.ctx(&client);
    let signed_in = state
        .kw
        .finish_sign_in_with_passkey(&ctx, &step, &body.ceremony()?, &body.credential)
        .await
        .map_err(coded)?;
    let answer = SessionAnswer::of(&signed_in);
    Ok((signed_in_cookies(&state, &signed_in), Json(answer)).into_response())
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
pub async fn me(State(state): State<AppState>, caller: ApiSession) -> Result<Json<Me>, AppError> {
    let account = &caller.session.account;
    let mfa = state.kw.mfa_status(account).await?;
    let mut me = Me::of(account, &caller.session.csrf_token, Some(mfa));
    me.password_change_required = Some(caller.session.password_change_due);
    Ok(Json(me))
}
