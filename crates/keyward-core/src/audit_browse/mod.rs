//! Browsing the audit log (R-AUD-1): people with `audit.view` read the rows
//! of their scope — a platform admin every row (or one school's), anyone
//! else the rows of their own school — filtered by an [`AuditQuery`], one
//! keyset page at a time (newest first), or download them as CSV, streamed
//! row by row from the database so the whole log is never in memory. It
//! reads the trail; writing it is `audit`'s.

use futures_util::stream::{BoxStream, StreamExt};

use crate::Ctx;
use crate::Keyward;
use crate::audit::{
    self, AuditEntry, AuditQuery, AuditRecord, PageAt, PersonFilter, Selection, action,
};
use crate::authz::{Action, Actor, Denied, Target};
use crate::classroom::credentials::csv_record;
use crate::error::{Code, CodedError, Internal};
use crate::types::{SchoolId, UnixTime};

#[cfg(test)]
mod tests;

/// The columns of the audit CSV, in order.
pub const CSV_COLUMNS: [&str; 14] = [
    "id",
    "at",
    "actor_id",
    "actor_username",
    "actor_name",
    "target_id",
    "target_username",
    "target_name",
    "school_id",
    "action",
    "outcome",
    "client_addr",
    "detail",
    "api_token_id",
];

/// The CSV is sent in pieces of about this many bytes.
const CSV_CHUNK_BYTES: usize = 32 * 1024;
/// Pieces the database may run ahead of a slow download.
const CSV_CHUNKS_AHEAD: usize = 4;

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub entries: Vec<AuditRecord>,
    /// Where the next older page starts (`before=`), when there is one.
    pub older: Option<i64>,
    /// Where the next newer page starts (`after=`), when there is one.
    pub newer: Option<i64>,
}

/// The audit log as a CSV download: a header row, then every matching row,
/// newest first, each cell made safe for spreadsheets.
pub struct AuditCsv {
    /// `audit-log-<day>.csv`.
    pub file_name: String,
    /// The file in pieces; an error ends it early (the download is then
    /// incomplete, never silently short).
    pub body: BoxStream<'static, Result<Vec<u8>, Internal>>,
}

impl std::fmt::Debug for AuditCsv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditCsv")
            .field("file_name", &self.file_name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for AuditError {
    fn code(&self) -> Code {
        match self {
            AuditError::Denied(denied) => denied.code(),
            AuditError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AuditError::Denied(denied) => denied.retry_after_secs(),
            AuditError::Internal(internal) => internal.retry_after_secs(),
        }
    }
}

/// What a query selects once its person is looked up: rows, or nothing at
/// all (a username that names nobody).
enum Selected {
    Rows(Selection),
    Nothing,
}

impl Keyward {
    /// One page of the audit log in the actor's scope (R-AUD-1).
    pub async fn browse_audit(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        query: &AuditQuery,
    ) -> Result<AuditPage, AuditError> {
        let scope = self.audit_scope(ctx, actor, query).await?;
        let Selected::Rows(selection) = self.select_audit(scope.as_ref(), query).await? else {
            return Ok(AuditPage {
                entries: Vec::new(),
                older: None,
                newer: None,
            });
        };
        let (entries, more) = audit::page(&self.db, selection, query.page, query.limit).await?;
        let first = entries.first().map(|r| r.id);
        let last = entries.last().map(|r| r.id);
        let (older, newer) = match query.page {
            PageAt::Newest => (last.filter(|_| more), None),
            // Rows newer than this page exist: the page before showed them.
            PageAt::Before(id) => (last.filter(|_| more), first.or(id.checked_sub(1))),
            PageAt::After(id) => (last.or(id.checked_add(1)), first.filter(|_| more)),
        };
        Ok(AuditPage {
            entries,
            older,
            newer,
        })
    }

    /// The audit log in the actor's scope as CSV, with the filters of
    /// `query` (its page and size ignored: every matching row). The download
    /// itself is audited.
    pub async fn export_audit_csv(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        query: &AuditQuery,
    ) -> Result<AuditCsv, AuditError> {
        let scope = self.audit_scope(ctx, actor, query).await?;
        let selected = self.select_audit(scope.as_ref(), query).await?;
        let detail = describe(query);
        let school = scope.as_ref().map(SchoolId::as_str);
        let mut tx = self.db.begin_write().await?;
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
                target_id: school,
                school_id: school,
                action: action::AUDIT_EXPORT,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: (!detail.is_empty()).then_some(detail.as_str()),
                api_token: actor.api_token_id(),
            },
        )
        .await?;
        tx.commit().await.map_err(Internal::from)?;
        Ok(AuditCsv {
            file_name: format!("audit-log-{}.csv", day_of(ctx.now)),
            body: self.stream_csv(selected),
        })
    }

    /// Authorizes first (a refusal is audited), then gives the school whose
    /// rows the actor reads: the one asked for, else the actor's own; `None`
    /// (every row) only for a platform admin who named no school.
    async fn audit_scope(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        query: &AuditQuery,
    ) -> Result<Option<SchoolId>, Denied> {
        // A platform admin's token for one school reads that school's rows.
        let school = match query.school.clone() {
            school if actor.platform_wide() => school,
            Some(school) => Some(school),
            None => actor.scope_school().cloned(),
        };
        let target = match &school {
            Some(school) => Target::School(school),
            None => Target::Platform,
        };
        self.authorize_audited(ctx, actor, Action::ViewAudit, target)
            .await?;
        Ok(school)
    }

    async fn select_audit(
        &self,
        scope: Option<&SchoolId>,
        query: &AuditQuery,
    ) -> Result<Selected, Internal> {
        let person = match &query.person {
            None => None,
            Some(PersonFilter::Id(id)) => Some(id.as_str().to_owned()),
            Some(PersonFilter::Username(username)) => {
                match audit::user_id_by_username_key(&self.db, username.key()).await? {
                    Some(id) => Some(id),
                    None => return Ok(Selected::Nothing),
                }
            }
        };
        Ok(Selected::Rows(audit::select(
            scope,
            query,
            person.as_deref(),
        )))
    }

    /// The CSV, produced by a task that reads the database's row stream and
    /// hands pieces over a short channel: the download pulls, the task
    /// follows, and a download given up ends the task and its query.
    fn stream_csv(&self, selected: Selected) -> BoxStream<'static, Result<Vec<u8>, Internal>> {
        let (sender, receiver) = tokio::sync::mpsc::channel(CSV_CHUNKS_AHEAD);
        let db = self.db.clone();
        tokio::spawn(async move {
            let mut piece = match csv_record(CSV_COLUMNS) {
                Ok(header) => header,
                Err(err) => {
                    let _ = sender.send(Err(err)).await;
                    return;
                }
            };
            if let Selected::Rows(selection) = selected {
                let mut rows = audit::stream(db.pool(), selection);
                while let Some(row) = rows.next().await {
                    let line = row.and_then(|record| csv_line(&record));
                    match line {
                        Ok(line) => piece.extend_from_slice(&line),
                        Err(err) => {
                            tracing::error!(cause = %err.cause(), "audit CSV stopped");
                            let _ = sender.send(Err(err)).await;
                            return;
                        }
                    }
                    if piece.len() >= CSV_CHUNK_BYTES
                        && sender.send(Ok(std::mem::take(&mut piece))).await.is_err()
                    {
                        return; // The download was given up.
                    }
                }
            }
            if !piece.is_empty() {
                let _ = sender.send(Ok(piece)).await;
            }
        });
        futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|piece| (piece, receiver))
        })
        .boxed()
    }
}

/// One row of the audit CSV.
fn csv_line(record: &AuditRecord) -> Result<Vec<u8>, Internal> {
    let id = record.id.to_string();
    let at = record.at_rfc3339();
    let (actor_id, actor_username, actor_name) = person_cells(record.actor.as_ref());
    let (target_id, target_username, target_name) = person_cells(record.target.as_ref());
    csv_record([
        id.as_str(),
        at.as_str(),
        actor_id,
        actor_username,
        actor_name,
        target_id,
        target_username,
        target_name,
        record.school_id.as_deref().unwrap_or(""),
        record.action.as_str(),
        record.outcome.as_str(),
        record.client_addr.as_deref().unwrap_or(""),
        record.detail.as_deref().unwrap_or(""),
        record.api_token_id.as_deref().unwrap_or(""),
    ])
}

/// A person's id, username and name cells (blank when unknown).
fn person_cells(person: Option<&audit::NamedPerson>) -> (&str, &str, &str) {
    person.map_or(("", "", ""), |p| {
        (
            p.id.as_str(),
            p.username.as_deref().unwrap_or(""),
            p.name.as_deref().unwrap_or(""),
        )
    })
}

/// The filters of an export, for its audit row (no secret: names and days).
fn describe(query: &AuditQuery) -> String {
    let mut parts = Vec::new();
    match &query.person {
        Some(PersonFilter::Id(id)) => parts.push(format!("person={id}")),
        Some(PersonFilter::Username(name)) => parts.push(format!("person={name}")),
        None => {}
    }
    match &query.action {
        Some(audit::ActionFilter::Exact(name) | audit::ActionFilter::Prefix(name)) => {
            parts.push(format!("action={name}"));
        }
        None => {}
    }
    if let Some(outcome) = &query.outcome {
        parts.push(format!("outcome={outcome}"));
    }
    if let Some(from) = query.from {
        parts.push(format!("from={}", day_of(from)));
    }
    if let Some(until) = query.until {
        parts.push(format!("to={}", day_of(UnixTime(until.secs() - 1))));
    }
    parts.join(" ")
}

/// The UTC day of a moment, `YYYY-MM-DD`.
fn day_of(at: UnixTime) -> String {
    let secs = u64::try_from(at.secs()).unwrap_or(0);
    let text = humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
    )
    .to_string();
    text.chars().take(10).collect()
}
