//! `GET /api/v1/users` (list, search, filter, page), `GET /api/v1/classes/{id}/learners`
//! (class database) and `GET /api/v1/schools/{id}/learners` (student database).

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};

use serde::Serialize;
use utoipa::ToSchema;

use keyward_core::types::{ClassId, SchoolId};

use super::ErrorBody;
use super::users::{AccountStatusName, MfaFilter, RoleName, UserBody};
use crate::error::{AppError, coded};
use crate::extract::{Client, path_id};
use crate::shared::user_query::parse_user_query;
use crate::signed_in::ApiActor;
use crate::state::AppState;

/// One page of the users list.
#[derive(Serialize, ToSchema)]
pub struct UserListBody {
    /// This page's people, by last name then first name.
    pub users: Vec<UserBody>,
    /// How many people match in all.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// List, search and filter the users in your scope (`users.view`), a page
/// at a time.
#[utoipa::path(
    get,
    operation_id = "list_users",
    path = "/users",
    tag = "users",
    params(
        ("q" = Option<String>, Query, description = "Part of a name, username or email address (case-insensitive; at most 64 characters are used)"),
        ("role" = Option<RoleName>, Query, description = "Only people of this built-in role"),
        ("class_id" = Option<String>, Query, description = "Only learners enrolled in, and teachers teaching, this class of the school"),
        ("status" = Option<AccountStatusName>, Query, description = "Only accounts in this status"),
        ("mfa" = inline(Option<MfaFilter>), Query, description = "`on`: an authenticator app or a passkey; `off`: neither"),
        ("school_id" = Option<String>, Query, description = "Platform admins: which school (default: every school)"),
        ("page" = Option<u32>, Query, description = "From 1 (default 1); past the last page the list is empty"),
        ("per_page" = Option<u32>, Query, description = "1 to 200 (default 50)")
    ),
    responses(
        (status = 200, description = "One page and the number of matches", body = UserListBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found` (school_id is not a school in your scope)", body = ErrorBody),
        (status = 422, description = "`invalid_filter`, with the refused parameter's name in \"field\"", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    RawQuery(query): RawQuery,
) -> Result<Json<UserListBody>, AppError> {
    let query = parse_user_query(query.as_deref()).map_err(coded)?;
    let page = state
        .kw
        .find_users(&state.ctx(&client), &actor, &query)
        .await
        .map_err(coded)?;
    Ok(Json(UserListBody {
        users: page.users.iter().map(UserBody::listed).collect(),
        total: page.total,
        page: page.paging.number(),
        per_page: page.paging.size(),
    }))
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
    Ok(Json(learners.iter().map(UserBody::learner).collect()))
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
            .map(|(learner, _)| UserBody::learner(learner))
            .collect(),
    ))
}
