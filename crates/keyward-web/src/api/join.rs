//! Class codes through the JSON API (R-CODE-2): `POST /api/v1/join` (a new
//! learner joins a class), `POST /api/v1/me/classes` (a signed-in learner
//! joins another class), and a class's code for its teachers
//! (`/api/v1/classes/{id}/class-code`: show, regenerate, switch on or off).
//! The rules live in the core; this module only translates.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use keyward_core::activation::{ClassCodeInfo, JoinInput, JoinedClass};
use keyward_core::schools::SchoolError;
use keyward_core::types::{ClassId, Password, TypedCode};

use super::ErrorBody;
use super::users::UserBody;
use crate::error::{AppError, coded};
use crate::extract::{ApiJson, ApiSession, Client, path_id};
use crate::signed_in::ApiActor;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct JoinRequest {
    /// The class code from the board: any case, spaces ignored.
    pub class_code: String,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub password: String,
    /// When sent, must equal `password`.
    pub confirm_password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct JoinClassRequest {
    /// The class code from the board: any case, spaces ignored.
    pub class_code: String,
}

#[derive(Serialize, ToSchema)]
pub struct JoinedClassBody {
    pub class_id: String,
    pub class_name: String,
    /// `false` when you were already in the class.
    pub newly_enrolled: bool,
}

impl From<JoinedClass> for JoinedClassBody {
    fn from(joined: JoinedClass) -> Self {
        JoinedClassBody {
            class_id: joined.class_id.to_string(),
            class_name: joined.class_name,
            newly_enrolled: joined.newly_enrolled,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ClassCodeBody {
    pub class_id: String,
    pub class_name: String,
    /// `null` only for a class that never had a code.
    pub class_code: Option<String>,
    /// Whether learners can join with the code now.
    pub enabled: bool,
}

impl From<ClassCodeInfo> for ClassCodeBody {
    fn from(info: ClassCodeInfo) -> Self {
        ClassCodeBody {
            class_id: info.class_id.to_string(),
            class_name: info.class_name,
            class_code: info.code,
            enabled: info.enabled,
        }
    }
}

/// What to do with a class's code.
#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum ClassCodeAction {
    /// A new code; the old one stops working at once.
    Regenerate,
    /// Learners can join with the code.
    Enable,
    /// Nobody can join with the code (it is kept for switching on again).
    Disable,
}

#[derive(Deserialize, ToSchema)]
pub struct ClassCodeChange {
    pub action: ClassCodeAction,
}

fn class_id(path: Result<Path<String>, PathRejection>) -> Result<ClassId, AppError> {
    path_id(path, ClassId::parse)
}

/// Join a class as a new learner with its class code: makes an active
/// learner account in the class. Then sign in with it.
#[utoipa::path(
    post,
    operation_id = "join",
    path = "/join",
    tag = "users",
    request_body = JoinRequest,
    responses(
        (status = 201, description = "The learner's account, active and in the class", body = UserBody),
        (status = 404, description = "`code_unknown` (also for a switched-off code)", body = ErrorBody),
        (status = 409, description = "`username_taken`", body = ErrorBody),
        (status = 422, description = "`password_policy` (with `violations`), `invalid_name`, `username_*`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = ErrorBody),
        (status = 503, description = "`server_busy`", body = ErrorBody),
    ),
    security(())
)]
pub async fn join(
    State(state): State<AppState>,
    client: Client,
    ApiJson(body): ApiJson<JoinRequest>,
) -> Result<Response, AppError> {
    let input = JoinInput {
        class_code: TypedCode::from(body.class_code),
        first_name: body.first_name,
        last_name: body.last_name,
        username: body.username,
        password: body.password.into(),
        confirm_password: body.confirm_password.map(Password::from),
    };
    let account = state
        .kw
        .join_class_as_new_learner(&state.ctx(&client), &input)
        .await
        .map_err(coded)?;
    Ok((
        StatusCode::CREATED,
        Json(UserBody::of(&account, None, None)),
    )
        .into_response())
}

/// Join another class of your school with its class code (learners).
/// Joining a class you are already in succeeds and changes nothing.
#[utoipa::path(
    post,
    operation_id = "join_another_class",
    path = "/me/classes",
    tag = "users",
    request_body = JoinClassRequest,
    responses(
        (status = 200, description = "You are in the class", body = JoinedClassBody),
        (status = 403, description = "`forbidden` (only learners join classes)", body = ErrorBody),
        (status = 404, description = "`code_unknown`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn join_another_class(
    State(state): State<AppState>,
    client: Client,
    caller: ApiSession,
    ApiJson(body): ApiJson<JoinClassRequest>,
) -> Result<Json<JoinedClassBody>, AppError> {
    let actor = caller.session.account.actor();
    let joined = state
        .kw
        .join_class(
            &state.ctx(&client),
            &actor,
            &TypedCode::from(&body.class_code),
        )
        .await
        .map_err(coded)?;
    Ok(Json(joined.into()))
}

/// A class's code, for the teachers of the class and the lead teacher.
#[utoipa::path(
    get,
    operation_id = "show_class_code",
    path = "/classes/{id}/class-code",
    tag = "schools",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The class code", body = ClassCodeBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn show_class_code(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<ClassCodeBody>, AppError> {
    let class = class_id(path)?;
    let info = state
        .kw
        .class_code(&state.ctx(&client), &actor, &class)
        .await
        .map_err(coded)?;
    Ok(Json(info.into()))
}

/// Regenerate a class's code (the old one stops working at once), or switch
/// it off or on.
#[utoipa::path(
    post,
    operation_id = "change_class_code",
    path = "/classes/{id}/class-code",
    tag = "schools",
    params(("id" = String, Path)),
    request_body = ClassCodeChange,
    responses(
        (status = 200, description = "The class code now", body = ClassCodeBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_request` (unknown action)", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn change_class_code(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<ClassCodeChange>,
) -> Result<Json<ClassCodeBody>, AppError> {
    let class = class_id(path)?;
    let info = apply(&state, &client, &actor, &class, body.action)
        .await
        .map_err(coded)?;
    Ok(Json(info.into()))
}

/// Runs one class-code action.
async fn apply(
    state: &AppState,
    client: &Client,
    actor: &keyward_core::authz::Actor,
    class: &ClassId,
    action: ClassCodeAction,
) -> Result<ClassCodeInfo, SchoolError> {
    let ctx = state.ctx(client);
    match action {
        ClassCodeAction::Regenerate => state.kw.regenerate_class_code(&ctx, actor, class).await,
        ClassCodeAction::Enable => {
            state
                .kw
                .set_class_code_enabled(&ctx, actor, class, true)
                .await
        }
        ClassCodeAction::Disable => {
            state
                .kw
                .set_class_code_enabled(&ctx, actor, class, false)
                .await
        }
    }
}
