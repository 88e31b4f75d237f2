//! `POST /api/v1/schools/{id}/roster`: roster import (R-TCH-6) with the CSV
//! as the body. The answer lists every learner created with their codes, or
//! every problem of a refused file; the rules are the core's.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keyward_core::error::Code;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use keyward_core::classroom::roster::{
    ImportedLearner, MAX_ROSTER_BYTES, RosterError, RosterProblem, RosterReport,
};
use keyward_core::types::SchoolId;

use super::ErrorBody;
use crate::error::AppError;
use crate::extract::{Client, path_id};
use crate::shared::limits::ROSTER_BODY_LIMIT_BYTES;
use crate::signed_in::ApiActor;
use crate::state::AppState;

/// The route, with its own body limit (the server's default is far smaller).
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import))
        .layer(DefaultBodyLimit::max(ROSTER_BODY_LIMIT_BYTES))
}

#[derive(Serialize, ToSchema)]
pub struct ImportedLearnerBody {
    /// The learner's row in the file (the header is row 1).
    pub row: u64,
    pub user_id: String,
    pub first_name: String,
    pub last_name: String,
    /// The class the learner is enrolled in, as the school names it.
    pub class: String,
    /// The username the file gave, if any; the learner may keep it.
    pub username: Option<String>,
    /// For **Use a code**; valid 30 days, once. Staff can show it again.
    pub access_code: String,
    /// For the learner's parents. Staff can show it again.
    pub parent_access_code: String,
}

impl From<ImportedLearner> for ImportedLearnerBody {
    fn from(l: ImportedLearner) -> Self {
        ImportedLearnerBody {
            row: l.row,
            user_id: l.user_id.to_string(),
            first_name: l.first_name,
            last_name: l.last_name,
            class: l.class,
            username: l.username,
            access_code: l.access_code,
            parent_access_code: l.parent_access_code,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RosterImportedBody {
    pub school_id: String,
    /// How many learners were created (all of the file's).
    pub created: usize,
    /// Classes the file named that the school lacked, now created.
    pub new_classes: Vec<String>,
    /// In the order of the file.
    pub learners: Vec<ImportedLearnerBody>,
}

impl From<RosterReport> for RosterImportedBody {
    fn from(report: RosterReport) -> Self {
        RosterImportedBody {
            school_id: report.school.id.to_string(),
            created: report.learners.len(),
            new_classes: report.new_classes,
            learners: report.learners.into_iter().map(Into::into).collect(),
        }
    }
}

/// One problem of a refused roster.
#[derive(Serialize, ToSchema)]
pub struct RosterProblemBody {
    /// The row (the header is row 1); `null` for the whole file.
    pub row: Option<u64>,
    /// `first_name`, `last_name`, `class`, `username`, `email` or a header
    /// cell as written; `null` when no one cell is meant.
    pub column: Option<String>,
    /// `missing_value`, `value_invalid`, `formula_cell`, `username_duplicate`,
    /// `username_taken`, `username_*`, `email_invalid`, `class_ambiguous`,
    /// `cell_outside_columns`, `unknown_column`, `duplicate_column`,
    /// `missing_column`, `not_utf8`, `file_too_large`, `too_many_rows`,
    /// `empty_file`, `no_learners`, `malformed_csv`, `changed_meanwhile`.
    pub code: String,
    pub message: String,
}

impl From<&RosterProblem> for RosterProblemBody {
    fn from(p: &RosterProblem) -> Self {
        RosterProblemBody {
            row: p.row,
            column: p.column.clone(),
            code: p.code.to_owned(),
            message: p.message.clone(),
        }
    }
}

/// The 422 answer: nothing was imported.
#[derive(Serialize, ToSchema)]
pub struct RosterInvalidBody {
    /// `roster_invalid`.
    pub error: String,
    pub message: String,
    pub request_id: String,
    /// The problems, in the order of the file (at most 200).
    pub rows: Vec<RosterProblemBody>,
    /// How many problems there were in all.
    pub problem_count: usize,
}

fn roster_error(err: RosterError) -> AppError {
    match err {
        RosterError::Invalid(ref rejection) => {
            let rows: Vec<RosterProblemBody> = rejection.problems.iter().map(Into::into).collect();
            AppError::from_coded(&err)
                .with_detail("rows", serde_json::json!(rows))
                .with_detail("problem_count", serde_json::json!(rejection.problem_count))
        }
        other => AppError::from_coded(&other),
    }
}

/// A CSV request body: `Content-Type: text/csv` (UTF-8, if a charset is
/// named), within the roster body limit.
pub struct CsvBody(pub Bytes);

fn is_utf8_csv(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = value.split(';').map(str::trim);
    let is_csv = parts
        .next()
        .is_some_and(|mime| mime.eq_ignore_ascii_case("text/csv"));
    let utf8 = parts.all(|param| match param.split_once('=') {
        Some((name, charset)) if name.trim().eq_ignore_ascii_case("charset") => {
            let charset = charset.trim().trim_matches('"');
            charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("utf8")
        }
        _ => true,
    });
    is_csv && utf8
}

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_utf8_csv(req.headers()) {
            return Err(AppError::new(
                Code::UnsupportedMediaType,
                "Send the roster as UTF-8 CSV with Content-Type: text/csv.",
            ));
        }
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(CsvBody(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::new(
                    Code::PayloadTooLarge,
                    format!(
                        "The roster is larger than {} MB. Split it into several files.",
                        MAX_ROSTER_BYTES / (1024 * 1024)
                    ),
                ))
            }
            Err(_) => Err(AppError::new(
                Code::InvalidBody,
                "The request body could not be read.",
            )),
        }
    }
}

/// Import a roster: a CSV with a header row naming `first_name`,
/// `last_name`, `class` and optionally `username` and `email`. Every learner
/// is created pending with an access code and a parent access code, enrolled
/// in the class (created when the school lacks it) — or, when any row has a
/// problem, none is and every problem is listed.
#[utoipa::path(
    post,
    operation_id = "import_roster",
    path = "/schools/{school_id}/roster",
    tag = "schools",
    params(("school_id" = String, Path)),
    request_body(
        content = String,
        content_type = "text/csv",
        description = "UTF-8 CSV (RFC 4180), at most 5 MB and 10,000 learners; a byte order mark is allowed.",
        example = "first_name,last_name,class,username,email\nAda,Lovelace,Class 6,,\n"
    ),
    responses(
        (status = 201, description = "Every learner was created", body = RosterImportedBody),
        (status = 403, description = "`forbidden` (not a lead teacher of the school)", body = ErrorBody),
        (status = 404, description = "`not_found` (a school outside your scope)", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type` (not text/csv)", body = ErrorBody),
        (status = 422, description = "`roster_invalid`: nothing was imported", body = RosterInvalidBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn import(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
    CsvBody(body): CsvBody,
) -> Result<Response, AppError> {
    let school = path_id(path, SchoolId::parse)?;
    let report = state
        .kw
        .import_roster(&state.ctx(&client), &actor, &school, &body)
        .await
        .map_err(roster_error)?;
    Ok((StatusCode::CREATED, Json(RosterImportedBody::from(report))).into_response())
}
