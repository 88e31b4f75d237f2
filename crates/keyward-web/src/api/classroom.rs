//! `/api/v1/schools` and `/api/v1/classes`: creating schools and classes, and
//! the class database of the signed-in teacher.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use keyward_core::schools::{Class, SchoolError};
use keyward_core::types::{SchoolId, UserId};

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::{ApiJson, Client, path_id};
use crate::shared::query::query_param;
use crate::signed_in::ApiActor;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct NewSchool {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct SchoolBody {
    pub id: String,
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct NewClass {
    pub name: String,
    /// Teachers or lead teachers of the school who teach the class.
    #[serde(default)]
    pub teacher_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ClassBody {
    pub id: String,
    pub school_id: String,
    pub name: String,
    /// The code learners type to join; `null` when switched off.
    pub class_code: Option<String>,
    pub learner_count: i64,
}

impl From<Class> for ClassBody {
    fn from(c: Class) -> Self {
        ClassBody {
            id: c.id.to_string(),
            school_id: c.school_id.to_string(),
            name: c.name,
            class_code: c.class_code.filter(|_| c.class_code_enabled),
            learner_count: c.learner_count,
        }
    }
}

/// Create a school (platform admins).
#[utoipa::path(
    post,
    operation_id = "create_school",
    path = "/schools",
    tag = "schools",
    request_body = NewSchool,
    responses(
        (status = 201, description = "Created", body = SchoolBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 422, description = "`invalid_name`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn create_school(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<NewSchool>,
) -> Result<Response, AppError> {
    let school = state
        .kw
        .create_school(&state.ctx(&client), &actor, &body.name)
        .await
        .map_err(coded)?;
    let body = SchoolBody {
        id: school.id.to_string(),
        name: school.name,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Create a class in a school, with a fresh class code.
#[utoipa::path(
    post,
    operation_id = "create_class",
    path = "/schools/{school_id}/classes",
    tag = "schools",
    params(("school_id" = String, Path)),
    request_body = NewClass,
    responses(
        (status = 201, description = "Created", body = ClassBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_name` or `invalid_teacher`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn create_class(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<NewClass>,
) -> Result<Response, AppError> {
    let school = path_id(path, SchoolId::parse)?;
    let mut teachers = Vec::with_capacity(body.teacher_ids.len());
    for id in &body.teacher_ids {
        teachers.push(
            UserId::parse(id).ok_or_else(|| AppError::from_coded(&SchoolError::InvalidTeacher))?,
        );
    }
    let class = state
        .kw
        .create_class(&state.ctx(&client), &actor, &school, &body.name, &teachers)
        .await
        .map_err(coded)?;
    Ok((StatusCode::CREATED, Json(ClassBody::from(class))).into_response())
}

/// The class database: the classes you teach (lead teachers: every class of
/// the school; platform admins: of `?school_id=`).
#[utoipa::path(
    get,
    operation_id = "class_database",
    path = "/classes",
    tag = "schools",
    params(("school_id" = Option<String>, Query, description = "Platform admins: which school")),
    responses(
        (status = 200, description = "Classes", body = Vec<ClassBody>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found` (platform admins: no such school, or none given)", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn class_database(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<ClassBody>>, AppError> {
    let school = query_param(query.as_deref(), "school_id");
    let school = SchoolId::parse(&school);
    let classes = state
        .kw
        .class_database(&state.ctx(&client), &actor, school.as_ref())
        .await
        .map_err(coded)?;
    Ok(Json(classes.into_iter().map(ClassBody::from).collect()))
}
