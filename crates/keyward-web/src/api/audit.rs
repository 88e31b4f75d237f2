//! `GET /api/v1/audit` and `GET /api/v1/audit.csv` (R-AUD-1): the audit log
//! in the caller's scope, filtered, one keyset page at a time, or as a CSV
//! streamed row by row. Scope, filters and the audit of a download are the
//! core's.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use keyward_core::audit::{AuditQuery, AuditRecord, NamedPerson};
use keyward_core::audit_browse::AuditPage;

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::Client;
use crate::shared::download::audit_csv_download;
use crate::shared::query::audit_query_text;
use crate::signed_in::ApiActor;
use crate::state::AppState;

/// A person an audit row names. An id that names no user (a school, a
/// class, a removed account) has neither username nor name.
#[derive(Serialize, ToSchema)]
pub struct AuditPersonBody {
    pub id: String,
    /// `null` while a pending account has no username of its own.
    pub username: Option<String>,
    pub name: Option<String>,
}

impl AuditPersonBody {
    fn of(person: &NamedPerson) -> AuditPersonBody {
        AuditPersonBody {
            id: person.id.clone(),
            username: person.username.clone(),
            name: person.name.clone(),
        }
    }
}

/// One row of the audit log.
#[derive(Serialize, ToSchema)]
pub struct AuditEntryBody {
    pub id: i64,
    /// RFC 3339, UTC.
    #[schema(example = "2026-09-07T08:00:00Z")]
    pub at: String,
    /// Who acted; `null` for an anonymous visitor or the command line.
    pub actor: Option<AuditPersonBody>,
    /// What or whom it was done to.
    pub target: Option<AuditPersonBody>,
    /// The school whose auditors see the row; `null`: platform admins only.
    pub school_id: Option<String>,
    #[schema(example = "sign_in")]
    pub action: String,
    #[schema(example = "success")]
    pub outcome: String,
    pub client_addr: Option<String>,
    /// Extra facts (a reason, a count); never a secret.
    pub detail: Option<String>,
    /// The id of the API token the actor acted through; `null` for a session.
    pub api_token_id: Option<String>,
}

impl AuditEntryBody {
    fn of(record: &AuditRecord) -> AuditEntryBody {
        AuditEntryBody {
            id: record.id,
            at: record.at_rfc3339(),
            actor: record.actor.as_ref().map(AuditPersonBody::of),
            target: record.target.as_ref().map(AuditPersonBody::of),
            school_id: record.school_id.clone(),
            action: record.action.clone(),
            outcome: record.outcome.clone(),
            client_addr: record.client_addr.clone(),
            detail: record.detail.clone(),
            api_token_id: record.api_token_id.clone(),
        }
    }
}

/// One page of the audit log, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditPageBody {
    pub entries: Vec<AuditEntryBody>,
    /// Pass as `before` for the next older page; `null` on the oldest.
    pub next_before: Option<i64>,
    /// Pass as `after` for the next newer page; `null` on the newest.
    pub prev_after: Option<i64>,
}

impl AuditPageBody {
    fn of(page: &AuditPage) -> AuditPageBody {
        AuditPageBody {
            entries: page.entries.iter().map(AuditEntryBody::of).collect(),
            next_before: page.older,
            prev_after: page.newer,
        }
    }
}

/// Browse the audit log in your scope (`audit.view`).
///
/// A platform admin sees every row (or one school's with `school_id`); a
/// lead teacher or a custom role with `audit.view` sees the rows of their
/// own school. Rows are newest first, paged by id: follow `next_before`
/// (and `prev_after` back). Dates are whole days in UTC, both included.
#[utoipa::path(
    get,
    operation_id = "browse_audit",
    path = "/audit",
    tag = "audit",
    params(
        ("person" = Option<String>, Query, description = "A username or user id, as actor or target"),
        ("action" = Option<String>, Query, description = "An action's name (`sign_in`), or a prefix ending in a dot (`mfa.`)"),
        ("outcome" = Option<String>, Query, description = "An outcome (`success`, `failure`, `denied`, …)"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD (UTC)"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD (UTC), included"),
        ("school_id" = Option<String>, Query, description = "Platform admins: one school's rows"),
        ("before" = Option<i64>, Query, description = "Rows older than this id (`next_before`)"),
        ("after" = Option<i64>, Query, description = "Rows newer than this id (`prev_after`); not with `before`"),
        ("limit" = Option<u32>, Query, description = "Rows per page, 1 to 500 (default 50)")
    ),
    responses(
        (status = 200, description = "One page", body = AuditPageBody),
        (status = 403, description = "`forbidden` (no audit.view permission)", body = ErrorBody),
        (status = 404, description = "`not_found` (school_id is not a school in your scope)", body = ErrorBody),
        (status = 422, description = "`invalid_filter` (its field names the parameter)", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn browse(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    RawQuery(query): RawQuery,
) -> Result<Json<AuditPageBody>, AppError> {
    let query = AuditQuery::parse(&audit_query_text(query.as_deref())).map_err(coded)?;
    let page = state
        .kw
        .browse_audit(&state.ctx(&client), &actor, &query)
        .await
        .map_err(coded)?;
    Ok(Json(AuditPageBody::of(&page)))
}

/// Download the audit log in your scope as CSV (`audit.view`).
///
/// The filters of `GET /audit` (`before`, `after` and `limit` are ignored:
/// every matching row, newest first), streamed as the database reads them.
/// Columns `id,at,actor_id,actor_username,actor_name,target_id,
/// target_username,target_name,school_id,action,outcome,client_addr,detail,api_token_id`;
/// RFC 4180 with CRLF line ends, UTF-8 without byte-order mark; a cell that a
/// spreadsheet would run as a formula starts with `'`. Every download is
/// audited (`audit.export`).
#[utoipa::path(
    get,
    operation_id = "export_audit_csv",
    path = "/audit.csv",
    tag = "audit",
    params(
        ("person" = Option<String>, Query, description = "A username or user id, as actor or target"),
        ("action" = Option<String>, Query, description = "An action's name, or a prefix ending in a dot"),
        ("outcome" = Option<String>, Query, description = "An outcome"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD (UTC)"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD (UTC), included"),
        ("school_id" = Option<String>, Query, description = "Platform admins: one school's rows")
    ),
    responses(
        (status = 200, description = "The CSV", content_type = "text/csv; charset=utf-8", body = String,
         headers(("Content-Disposition" = String, description = "attachment; filename=\"audit-log-<YYYY-MM-DD>.csv\""))),
        (status = 403, description = "`forbidden` (no audit.view permission)", body = ErrorBody),
        (status = 404, description = "`not_found` (school_id is not a school in your scope)", body = ErrorBody),
        (status = 422, description = "`invalid_filter` (its field names the parameter)", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn export_csv(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let query = AuditQuery::parse(&audit_query_text(query.as_deref())).map_err(coded)?;
    let csv = state
        .kw
        .export_audit_csv(&state.ctx(&client), &actor, &query)
        .await
        .map_err(coded)?;
    Ok(audit_csv_download(csv))
}
