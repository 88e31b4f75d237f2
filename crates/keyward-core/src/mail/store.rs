//! SQL of the mail outbox: enqueueing inside the caller's transaction, the
//! worker's atomic claim with a short lease, its renewal, and recording how
//! each attempt ended. A worker's claim on a row is the row's id with the
//! attempt number the claim counted ([`Claim`]): every write of a claimed row
//! but "sent" names it, so a worker whose lease ran out cannot renew, retry,
//! give up or hand back a row another worker has claimed since.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::OutboxRow;
use crate::error::Internal;
use crate::settings::Backend;
use crate::store::Db;
use crate::types::{UnixTime, UserId};

/// A new outbox row, due at once.
pub(crate) struct NewOutboxRow<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub user_id: Option<&'a str>,
    pub to_address: &'a str,
    pub payload: &'a str,
    pub created_at: UnixTime,
}

pub(crate) async fn insert<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    row: &NewOutboxRow<'_>,
) -> Result<(), Internal> {
    sqlx::query(
        "INSERT INTO outbox (id, kind, user_id, to_address, payload, created_at, attempts, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $6)",
    )
    .bind(row.id)
    .bind(row.kind)
    .bind(row.user_id)
    .bind(row.to_address)
    .bind(row.payload)
    .bind(row.created_at.secs())
    .execute(exec)
    .await?;
    Ok(())
}

// The claim, written once with the one clause that differs: PostgreSQL
// locks the chosen rows and skips rows another worker is claiming at this
// moment (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time, and an
// UPDATE takes the write lock before it reads, so the same statement without
// the locking clause is atomic there. The rows are chosen once, in a
// materialized CTE: written as `id IN (SELECT … LIMIT n FOR UPDATE SKIP
// LOCKED)`, PostgreSQL may run the subquery again for every row it scans (a
// nested-loop semi-join, its plan while the table has no statistics) and
// each run picks further rows, so one claim took the whole queue. The outer
// WHERE repeats the conditions so that PostgreSQL re-checks them on the
// newest version of a row another worker just claimed.
macro_rules! claim_due_rows {
    ($lock:literal) => {
        concat!(
            "WITH due AS MATERIALIZED (SELECT id FROM outbox \
                 WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 \
                   AND (locked_until IS NULL OR locked_until < $2) \
                 ORDER BY created_at, id LIMIT $3",
            $lock,
            ") UPDATE outbox SET locked_until = $1, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM due) AND sent_at IS NULL AND failed_at IS NULL \
               AND (locked_until IS NULL OR locked_until < $2) \
             RETURNING id, kind, user_id, to_address, payload, created_at, attempts"
        )
    };
}

const CLAIM_SQLITE: &str = claim_due_rows!("");
const CLAIM_POSTGRES: &str = claim_due_rows!(" FOR UPDATE SKIP LOCKED");

/// Claims up to `limit` due rows for this worker until `lease_until`, counting
/// the attempt. No two workers ever hold the same row at the same time: a
/// row is claimed again only once its lease has run out.
pub(crate) async fn claim_due(
    db: &Db,
    now: UnixTime,
    lease_until: UnixTime,
    limit: i64,
) -> Result<Vec<OutboxRow>, Internal> {
    let sql = match db.backend() {
        Backend::Sqlite => CLAIM_SQLITE,
        Backend::Postgres => CLAIM_POSTGRES,
    };
    let _turn = db.write_turn().await?;
    let rows = sqlx::query(sql)
        .bind(lease_until.secs())
        .bind(now.secs())
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    let mut claimed = rows.iter().map(outbox_row).collect::<Result<Vec<_>, _>>()?;
    // RETURNING does not promise an order; send the oldest first.
    claimed.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(claimed)
}

fn outbox_row(row: &AnyRow) -> Result<OutboxRow, Internal> {
    let id: String = row.try_get("id")?;
    let payload: String = row.try_get("payload")?;
    let payload = serde_json::from_str(&payload).unwrap_or_else(|err| {
        tracing::warn!(outbox_id = %id, error = %err, "outbox payload is not JSON");
        serde_json::Value::Null
    });
    let attempts: i64 = row.try_get("attempts")?;
    Ok(OutboxRow {
        kind: row.try_get("kind")?,
        user_id: row
            .try_get::<Option<String>, _>("user_id")?
            .map(UserId::from_stored),
        to_address: row.try_get("to_address")?,
        payload,
        created_at: UnixTime(row.try_get("created_at")?),
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        id,
    })
}

/// One worker's claim on a row: the row and the attempt its claim counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claim {
    pub id: String,
    pub attempts: i64,
}

/// `(id, attempts) IN (VALUES ($first, $first+1), …)` for `count` claims.
fn claims_in(first: usize, count: usize) -> String {
    let values: Vec<String> = (0..count)
        .map(|i| format!("(${}, ${})", first + 2 * i, first + 2 * i + 1))
        .collect();
    format!("(id, attempts) IN (VALUES {})", values.join(", "))
}

/// Extends the lease of the rows still held by these claims to
/// `lease_until`, in one statement; rows finished, handed back or claimed by
/// another worker since are left alone. Returns how many were renewed.
pub(crate) async fn renew(
    db: &Db,
    claims: &[Claim],
    lease_until: UnixTime,
) -> Result<u64, Internal> {
    if claims.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "UPDATE outbox SET locked_until = $1 \
         WHERE sent_at IS NULL AND failed_at IS NULL AND locked_until IS NOT NULL AND {}",
        claims_in(2, claims.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lease_until.secs());
    for claim in claims {
        query = query.bind(claim.id.as_str()).bind(claim.attempts);
    }
    let _turn = db.write_turn().await?;
    Ok(query.execute(db.pool()).await?.rows_affected())
}

/// These messages went out: they are never sent again. One statement for
/// the rows of a batch whose sends ended together. Not fenced by the claim:
/// a message that went out is recorded even by a worker that lost its lease.
pub(crate) async fn mark_sent(db: &Db, ids: &[String], now: UnixTime) -> Result<(), Internal> {
    if ids.is_empty() {
        return Ok(());
    }
    let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "UPDATE outbox SET sent_at = $1, locked_until = NULL, last_error = NULL \
         WHERE sent_at IS NULL AND id IN ({})",
        marks.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now.secs());
    for id in ids {
        query = query.bind(id.as_str());
    }
    let _turn = db.write_turn().await?;
    query.execute(db.pool()).await?;
    Ok(())
}

/// The attempt failed; try again at `next_attempt_at`. False when the claim
/// is no longer this worker's (nothing is written then).
pub(crate) async fn mark_retry(
    db: &Db,
    claim: &Claim,
    next_attempt_at: UnixTime,
    error: &str,
) -> Result<bool, Internal> {
    let _turn = db.write_turn().await?;
    let done = sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1, locked_until = NULL, last_error = $2 \
         WHERE id = $3 AND attempts = $4 AND sent_at IS NULL AND failed_at IS NULL",
    )
    .bind(next_attempt_at.secs())
    .bind(error)
    .bind(claim.id.as_str())
    .bind(claim.attempts)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The row is finished without a message going out: given up, or skipped.
/// False when the claim is no longer this worker's (nothing is written then).
pub(crate) async fn mark_finished_unsent(
    db: &Db,
    claim: &Claim,
    now: UnixTime,
    reason: &str,
) -> Result<bool, Internal> {
    let _turn = db.write_turn().await?;
    let done = sqlx::query(
        "UPDATE outbox SET failed_at = $1, locked_until = NULL, last_error = $2 \
         WHERE id = $3 AND attempts = $4 AND sent_at IS NULL AND failed_at IS NULL",
    )
    .bind(now.secs())
    .bind(reason)
    .bind(claim.id.as_str())
    .bind(claim.attempts)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Hands rows back unattempted (their worker is stopping): free to claim at
/// once, their claim's attempt uncounted. Returns how many were handed back.
pub(crate) async fn release(db: &Db, claims: &[Claim]) -> Result<u64, Internal> {
    if claims.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "UPDATE outbox SET locked_until = NULL, attempts = attempts - 1 \
         WHERE sent_at IS NULL AND failed_at IS NULL AND locked_until IS NOT NULL AND {}",
        claims_in(1, claims.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for claim in claims {
        query = query.bind(claim.id.as_str()).bind(claim.attempts);
    }
    let _turn = db.write_turn().await?;
    Ok(query.execute(db.pool()).await?.rows_affected())
}

/// Rows not yet finished, across every instance (the "queued" gauge).
pub(crate) async fn count_pending(db: &Db) -> Result<i64, Internal> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
    )
    .fetch_one(db.pool())
    .await?;
    Ok(count)
}

/// The name of the school a user belongs to, for the email's layout, and
/// the language they chose (its stored code), for the email's words.
pub(crate) async fn recipient_of(
    db: &Db,
    user_id: &UserId,
) -> Result<(Option<String>, Option<String>), Internal> {
    let row = sqlx::query(
        "SELECT s.name AS school_name, u.locale FROM users u \
         LEFT JOIN schools s ON s.id = u.school_id WHERE u.id = $1",
    )
    .bind(user_id.as_str())
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(row) => Ok((row.try_get("school_name")?, row.try_get("locale")?)),
        None => Ok((None, None)),
    }
}

/// The state of one row, for tests and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxState {
    pub id: String,
    pub kind: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub locked_until: Option<i64>,
    pub sent_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: Option<String>,
}

/// Every row, oldest first.
pub async fn outbox_states(db: &Db) -> Result<Vec<OutboxState>, Internal> {
    let rows = sqlx::query(
        "SELECT id, kind, attempts, next_attempt_at, locked_until, sent_at, failed_at, last_error \
         FROM outbox ORDER BY created_at, id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OutboxState {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                attempts: r.try_get("attempts")?,
                next_attempt_at: r.try_get("next_attempt_at")?,
                locked_until: r.try_get("locked_until")?,
                sent_at: r.try_get("sent_at")?,
                failed_at: r.try_get("failed_at")?,
                last_error: r.try_get("last_error")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Internal::from)
}
