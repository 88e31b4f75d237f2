//! `GET /api/v1/classes/{id}/credentials.csv` and
//! `GET /api/v1/schools/{id}/credentials.csv` (R-TCH-5): the learners'
//! usernames, passwords when kept, access codes and parent access codes as
//! a CSV download. Who may download what, and the audit, are the core's.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;

use keyward_core::classroom::credentials::CredentialsOf;
use keyward_core::types::{ClassId, SchoolId};

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::{Client, path_id};
use crate::shared::download::csv_download;
use crate::signed_in::ApiActor;
use crate::state::AppState;

/// Download a class's credentials as CSV (its teachers, the lead teacher).
///
/// One row per learner of the class, by last and first name, with the
/// columns `school,class,first_name,last_name,username,password,
/// password_status,access_code,parent_access_code`. `password` is blank
/// unless a sealed copy is kept (`password_status` says why:
/// `retrievable`, `private`, `not_kept`, `pending`, or `sso` for a learner
/// who signs in only with single sign-on); `username` is blank and
/// `access_code` set while the account waits for its access code. RFC 4180
/// with CRLF line ends, UTF-8 without byte-order mark; a cell that a
/// spreadsheet would run as a formula starts with `'`. Every download is
/// audited.
#[utoipa::path(
    get,
    operation_id = "class_csv",
    path = "/classes/{id}/credentials.csv",
    tag = "schools",
    params(("id" = String, Path, description = "The class")),
    responses(
        (status = 200, description = "The CSV", content_type = "text/csv; charset=utf-8", body = String,
         headers(("Content-Disposition" = String, description = "attachment; filename=\"<school>-<class>-credentials.csv\""))),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` (not a teacher of the class)", body = ErrorBody),
        (status = 404, description = "`not_found` (no such class in your school)", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn class_csv(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let class = path_id(path, ClassId::parse)?;
    let csv = state
        .kw
        .export_credentials_csv(&state.ctx(&client), &actor, &CredentialsOf::Class(class))
        .await
        .map_err(coded)?;
    Ok(csv_download(csv))
}

/// Download the whole school's credentials as CSV (the lead teacher).
///
/// The columns of the class download; one row per learner and class, by
/// class then last and first name, learners in no class last with a blank
/// `class`. Every download is audited.
#[utoipa::path(
    get,
    operation_id = "school_csv",
    path = "/schools/{id}/credentials.csv",
    tag = "schools",
    params(("id" = String, Path, description = "The school")),
    responses(
        (status = 200, description = "The CSV", content_type = "text/csv; charset=utf-8", body = String,
         headers(("Content-Disposition" = String, description = "attachment; filename=\"<school>-credentials.csv\""))),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` (not the lead teacher)", body = ErrorBody),
        (status = 404, description = "`not_found` (not your school)", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn school_csv(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let school = path_id(path, SchoolId::parse)?;
    let csv = state
        .kw
        .export_credentials_csv(&state.ctx(&client), &actor, &CredentialsOf::School(school))
        .await
        .map_err(coded)?;
    Ok(csv_download(csv))
}
