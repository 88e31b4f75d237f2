//! A learner's password in staff hands (R-TCH-1, R-TCH-2, R-TCH-4):
//! `POST /api/v1/learners/{id}/password` (generate or set) and
//! `GET /api/v1/learners/{id}/password` (show the kept copy), and the school
//! switch `GET|PUT /api/v1/schools/{id}/settings`.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use keyward_core::authz::Actor;
use keyward_core::classroom::passwords::{IssuedPassword, NewPasswordChoice};
use keyward_core::types::{Password, SchoolId, UserId};

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::{ApiJson, Client, path_id};
use crate::signed_in::ApiActor;
use crate::state::AppState;

/// How to give a learner a new password: `generate` a readable one that
/// fits the policy, or `set` the one given.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // describes the document only; the handler reads the text
pub enum LearnerPasswordMode {
    Generate,
    Set,
}

/// How to give the learner a new password.
#[derive(Deserialize, ToSchema)]
pub struct NewLearnerPassword {
    /// Another mode is answered 422 `invalid_mode`.
    #[schema(value_type = LearnerPasswordMode)]
    pub mode: String,
    /// The password, for `set` (without it: 422 `password_missing`).
    #[serde(default)]
    pub password: Option<String>,
}

/// A learner's password, to tell them.
#[derive(Serialize, ToSchema)]
pub struct LearnerPassword {
    pub user_id: String,
    pub username: String,
    pub password: String,
    /// Whether a sealed copy is kept, so it can be shown again later.
    pub kept: bool,
}

impl LearnerPassword {
    fn of(learner: &UserId, issued: IssuedPassword) -> Self {
        LearnerPassword {
            user_id: learner.to_string(),
            username: issued.username,
            password: issued.password.expose().to_owned(),
            kept: issued.kept,
        }
    }
}

/// The school-wide switches of seed 002.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchoolSettings {
    /// Keep sealed copies of learner passwords staff set, so they can be shown again.
    pub learner_passwords_retrievable: bool,
    /// Let learners register and use passkeys (off unless switched on:
    /// learners' devices are shared). Switching off removes the passkeys
    /// learners registered. Always in the answer; when changing, left as it
    /// is if absent.
    #[serde(default)]
    pub learner_passkeys: Option<bool>,
}

fn learner_of(path: Result<Path<String>, PathRejection>) -> Result<UserId, AppError> {
    path_id(path, UserId::parse)
}

fn school_of(path: Result<Path<String>, PathRejection>) -> Result<SchoolId, AppError> {
    path_id(path, SchoolId::parse)
}

/// Give a learner a new password: `generate` one or `set` a chosen one.
#[utoipa::path(
    post,
    operation_id = "reset_learner_password",
    path = "/learners/{id}/password",
    tag = "learners",
    params(("id" = String, Path, description = "The learner's user id")),
    request_body = NewLearnerPassword,
    responses(
        (status = 200, description = "The new password, to tell the learner", body = LearnerPassword),
        (status = 403, description = "`forbidden`: not a learner of your classes", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`not_activated`: the learner has no account yet; `signs_in_with_sso`: the learner signs in only with single sign-on (provider names it, provider_id too) and has no keyward password", body = ErrorBody),
        (status = 422, description = "`invalid_mode`, `password_missing`, `password_policy` (with `violations`)", body = ErrorBody),
        (status = 503, description = "`server_busy`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn reset(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<NewLearnerPassword>,
) -> Result<Json<LearnerPassword>, AppError> {
    let learner = learner_of(path)?;
    let password = body.password.map(Password::from);
    let choice = NewPasswordChoice::parse(&body.mode, password).map_err(coded)?;
    let issued = state
        .kw
        .reset_learner_password(&state.ctx(&client), &actor, &learner, choice)
        .await
        .map_err(coded)?;
    Ok(Json(LearnerPassword::of(&learner, issued)))
}

/// Show a learner's existing password, when a sealed copy is kept. Audited.
#[utoipa::path(
    get,
    operation_id = "reveal_learner_password",
    path = "/learners/{id}/password",
    tag = "learners",
    params(("id" = String, Path, description = "The learner's user id")),
    responses(
        (status = 200, description = "The password", body = LearnerPassword),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`, or `not_retrievable` (with `password_status`: `private`, `not_kept` or `pending`)", body = ErrorBody),
        (status = 409, description = "`signs_in_with_sso`: the learner signs in only with single sign-on (provider names it, provider_id too) and has no keyward password", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn reveal(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    client: Client,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<LearnerPassword>, AppError> {
    let learner = learner_of(path)?;
    let shown = state
        .kw
        .reveal_learner_password(&state.ctx(&client), &actor, &learner)
        .await
        .map_err(coded)?;
    Ok(Json(LearnerPassword::of(&learner, shown)))
}

/// A school's settings for learner passwords.
#[utoipa::path(
    get,
    operation_id = "show_school_settings",
    path = "/schools/{id}/settings",
    tag = "schools",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The settings", body = SchoolSettings),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn settings(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<SchoolSettings>, AppError> {
    let school = school_of(path)?;
    settings_now(&state, &client, &actor, &school)
        .await
        .map(Json)
}

/// The school's settings as they stand.
async fn settings_now(
    state: &AppState,
    client: &Client,
    actor: &Actor,
    school: &SchoolId,
) -> Result<SchoolSettings, AppError> {
    let ctx = state.ctx(client);
    let kw = &state.kw;
    Ok(SchoolSettings {
        learner_passwords_retrievable: kw
            .learner_passwords_retrievable(&ctx, actor, school)
            .await
            .map_err(coded)?,
        learner_passkeys: Some(
            kw.learner_passkeys(&ctx, actor, school)
                .await
                .map_err(coded)?,
        ),
    })
}

/// Change a school's settings (lead teacher, platform admin). Switching
/// `learner_passwords_retrievable` off destroys every copy kept so far;
/// switching `learner_passkeys` off removes the passkeys learners registered.
#[utoipa::path(
    put,
    operation_id = "update_school_settings",
    path = "/schools/{id}/settings",
    tag = "schools",
    params(("id" = String, Path)),
    request_body = SchoolSettings,
    responses(
        (status = 200, description = "The settings now", body = SchoolSettings),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_request`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn update_settings(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<SchoolSettings>,
) -> Result<Json<SchoolSettings>, AppError> {
    let school = school_of(path)?;
    state
        .kw
        .set_learner_passwords_retrievable(
            &state.ctx(&client),
            &actor,
            &school,
            body.learner_passwords_retrievable,
        )
        .await
        .map_err(coded)?;
    if let Some(on) = body.learner_passkeys {
        state
            .kw
            .set_learner_passkeys(&state.ctx(&client), &actor, &school, on)
            .await
            .map_err(coded)?;
    }
    settings_now(&state, &client, &actor, &school)
        .await
        .map(Json)
}
