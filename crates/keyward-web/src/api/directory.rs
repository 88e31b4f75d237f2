//! `GET /api/v1/users` (list and search), `GET /api/v1/classes/{id}/learners`
//! (class database) and `GET /api/v1/schools/{id}/learners` (student database).

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};

use keyward_core::admin::UserQuery;
use keyward_core::types::{ClassId, SchoolId};

use super::ErrorBody;
use super::users::UserBody;
use crate::error::{AppError, coded};
use crate::extract::{Client, path_id};
use crate::shared::query::query_param;
use crate::signed_in::ApiActor;
use crate::state::AppState;

/// List and search the users in your scope (`users.view`).
#[utoipa::path(
    get,
    operation_id = "list_users",
    path = "/users",
    tag = "users",
    params(
        ("q" = Option<String>, Query, description = "Part of a username or name"),
        ("school_id" = Option<String>, Query, description = "Platform admins: which school")
    ),
    responses(
        (status = 200, description = "At most 200 people", body = Vec<UserBody>),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found` (school_id is not a school in your scope)", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<UserBody>>, AppError> {
    let school_text = query_param(query.as_deref(), "school_id");
    let school = if school_text.is_empty() {
        None
    } else {
        Some(SchoolId::parse(&school_text).ok_or_else(AppError::not_found)?)
    };
    let query = UserQuery {
        text: query_param(query.as_deref(), "q"),
        school,
    };
    let users = state
        .kw
        .find_users(&state.ctx(&client), &actor, &query)
        .await
        .map_err(coded)?;
    Ok(Json(
        users.iter().map(|a| UserBody::of(a, None, None)).collect(),
    ))
}

/// The learners of a class (its teachers, the lead teacher).
#[utoipa::path(
    get,
    operation_id = "class_learners",
    path = "/classes/{id}/learners",
    tag = "schools",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Learners", body = Vec<UserBody>),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn class_learners(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<UserBody>>, AppError> {
    let class = path_id(path, ClassId::parse)?;
    let learners = state
        .kw
        .class_learners(&state.ctx(&client), &actor, &class)
        .await
        .map_err(coded)?;
    Ok(Json(
        learners
            .iter()
            .map(|a| UserBody::of(a, None, None))
            .collect(),
    ))
}

/// Every learner of a school (the student database; lead teachers).
#[utoipa::path(
    get,
    operation_id = "school_learners",
    path = "/schools/{id}/learners",
    tag = "schools",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Learners", body = Vec<UserBody>),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn school_learners(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<UserBody>>, AppError> {
    let school = path_id(path, SchoolId::parse)?;
    let learners = state
        .kw
        .school_learners(&state.ctx(&client), &actor, &school)
        .await
        .map_err(coded)?;
    Ok(Json(
        learners
            .iter()
            .map(|(a, _)| UserBody::of(a, None, None))
            .collect(),
    ))
}
