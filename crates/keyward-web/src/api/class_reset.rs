//! `POST /api/v1/classes/{id}/password-reset` (R-TCH-3): every learner of a
//! class gets a new password, one shared or one each; the answer lists them
//! all, once.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use keyward_core::classroom::class_reset::{ClassReset, ClassResetMode, SkippedLearner};
use keyward_core::types::{ClassId, Password};

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::{ApiJson, Client, path_id};
use crate::signed_in::ApiActor;
use crate::state::AppState;

/// How a whole class is given new passwords: the `same` one for every
/// learner, or an `individual` one each.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // describes the document only; the handler reads the text
pub enum ClassResetModeName {
    Same,
    Individual,
}

/// How to reset the class.
#[derive(Deserialize, ToSchema)]
pub struct ClassResetRequest {
    /// Missing or another mode is answered 422 `invalid_mode`.
    #[serde(default)]
    #[schema(value_type = ClassResetModeName, required = true)]
    pub mode: Option<String>,
    /// For `same`: the password to give everyone (checked against the
    /// school's learner policy for every learner). Leave it out to have one
    /// generated. With `individual`: 422 `unexpected_password`.
    #[serde(default)]
    pub password: Option<String>,
}

/// One learner's new password, to tell them.
#[derive(Serialize, ToSchema)]
pub struct ClassResetLearner {
    pub user_id: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub password: String,
}

/// A learner left alone: one who has no password yet (they use their access
/// code), or one who signs in only with single sign-on.
#[derive(Serialize, ToSchema)]
pub struct ClassResetSkipped {
    pub user_id: String,
    pub first_name: String,
    pub last_name: String,
    /// In `skipped_sso`: the provider the learner signs in with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signs_in_with: Option<String>,
}

impl ClassResetSkipped {
    fn of(skipped: SkippedLearner) -> Self {
        ClassResetSkipped {
            user_id: skipped.user_id.to_string(),
            first_name: skipped.first_name,
            last_name: skipped.last_name,
            signs_in_with: skipped.sso.map(|sso| sso.provider_name),
        }
    }
}

/// The new passwords of a class. They are not stored in readable form
/// unless `passwords_kept`: note them now.
#[derive(Serialize, ToSchema)]
pub struct ClassResetAnswer {
    pub class_id: String,
    pub class_name: String,
    #[schema(value_type = ClassResetModeName)]
    pub mode: String,
    /// Whether sealed copies were kept, so each password can be shown again later.
    pub passwords_kept: bool,
    /// Every learner given a new password, in the order of the class list.
    pub learners: Vec<ClassResetLearner>,
    /// Learners still waiting for their access code, left alone.
    pub skipped_pending: Vec<ClassResetSkipped>,
    /// Learners who sign in only with single sign-on (no keyward password),
    /// left alone, each with `signs_in_with`.
    pub skipped_sso: Vec<ClassResetSkipped>,
}

impl From<ClassReset> for ClassResetAnswer {
    fn from(reset: ClassReset) -> Self {
        ClassResetAnswer {
            class_id: reset.class_id.to_string(),
            class_name: reset.class_name,
            mode: reset.mode.as_str().to_owned(),
            passwords_kept: reset.kept,
            learners: reset
                .learners
                .into_iter()
                .map(|l| ClassResetLearner {
                    user_id: l.user_id.to_string(),
                    username: l.username.to_string(),
                    first_name: l.first_name,
                    last_name: l.last_name,
                    password: l.password.expose().to_owned(),
                })
                .collect(),
            skipped_pending: reset
                .skipped_pending
                .into_iter()
                .map(ClassResetSkipped::of)
                .collect(),
            skipped_sso: reset
                .skipped_sso
                .into_iter()
                .map(ClassResetSkipped::of)
                .collect(),
        }
    }
}

/// Reset the password of every learner of a class who has one, all or none:
/// `same` gives everyone one password (the one given, or a generated one),
/// `individual` a new generated password each. Their sessions end.
#[utoipa::path(
    post,
    operation_id = "reset_class_passwords",
    path = "/classes/{id}/password-reset",
    tag = "learners",
    params(("id" = String, Path, description = "The class id")),
    request_body = ClassResetRequest,
    responses(
        (status = 200, description = "Every learner with their new password", body = ClassResetAnswer),
        (status = 403, description = "`forbidden`: not your class, or a learner holds a permission you lack", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`class_empty`: no learner has a password (none set up yet, or all sign in with single sign-on); `reset_in_progress`: another reset of this class is running", body = ErrorBody),
        (status = 422, description = "`invalid_mode`, `unexpected_password`, `password_policy` (with `violations`)", body = ErrorBody),
        (status = 503, description = "`server_busy`: nothing was changed", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn reset(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<ClassResetRequest>,
) -> Result<Json<ClassResetAnswer>, AppError> {
    let class = path_id(path, ClassId::parse)?;
    let password = body.password.map(Password::from);
    let mode = ClassResetMode::parse(body.mode.as_deref(), password).map_err(coded)?;
    let reset = state
        .kw
        .reset_class_passwords(&state.ctx(&client), &actor, &class, mode)
        .await
        .map_err(coded)?;
    Ok(Json(reset.into()))
}
