//! SQL of the audit trail.

use sqlx::{Any, Executor, Row};

use super::AuditEntry;
use crate::error::Internal;
use crate::store::Db;

pub(crate) async fn insert<'c, E>(exec: E, entry: &AuditEntry<'_>) -> Result<(), Internal>
where
    E: Executor<'c, Database = Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, target_id, school_id, action, outcome, client_addr, detail, api_token_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(entry.at.secs())
    .bind(entry.actor_id)
    .bind(entry.target_id)
    .bind(entry.school_id)
    .bind(entry.action)
    .bind(entry.outcome)
    .bind(entry.client_addr)
    .bind(entry.detail)
    .bind(entry.api_token)
    .execute(exec)
    .await?;
    Ok(())
}

/// An audit row as read back.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub at: i64,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub action: String,
    pub outcome: String,
    pub client_addr: Option<String>,
    pub detail: Option<String>,
    /// The API token the actor acted through.
    pub api_token_id: Option<String>,
}

/// The newest rows first. The browsing use case with scope and filters comes
/// with the admin pages; this serves tests and the CLI.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<AuditRow>, Internal> {
    let rows = sqlx::query(
        "SELECT at, actor_id, target_id, action, outcome, client_addr, detail, api_token_id \
         FROM audit_log ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditRow {
                at: r.try_get("at")?,
                actor_id: r.try_get("actor_id")?,
                target_id: r.try_get("target_id")?,
                action: r.try_get("action")?,
                outcome: r.try_get("outcome")?,
                client_addr: r.try_get("client_addr")?,
                detail: r.try_get("detail")?,
                api_token_id: r.try_get("api_token_id")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Internal::from)
}
