//! SQL of `sealed_secrets`, the one table of sealed secrets (learner
//! passwords staff may show again, access codes, parent access codes), so
//! rotation re-seals one place. A row's associated data is `"<id>/<purpose>"`.
//! Nothing here logs or returns a plaintext in an error.

use sqlx::{Any, AnyConnection, Executor, Row};

use super::sealing::Sealer;
use crate::Ctx;
use crate::error::Internal;
use crate::types::UnixTime;

/// The context a row's value is sealed with: its id and purpose, so a sealed
/// value copied to another row (or another purpose) does not open.
pub(crate) fn context_of(id: &str, purpose: &str) -> String {
    format!("{id}/{purpose}")
}

/// Seals `plaintext` into a new row and returns the row's id (a random UUID).
#[cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "access codes and learner passwords call these (issue 5)"
    )
)]
pub(crate) async fn insert_sealed(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    sealer: &Sealer,
    purpose: &str,
    plaintext: &str,
) -> Result<String, Internal> {
    let mut bytes = [0u8; 16];
    ctx.rng.fill(&mut bytes)?;
    let id = uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string();
    let sealed = sealer.seal(plaintext, &context_of(&id, purpose), ctx.rng)?;
    sqlx::query(
        "INSERT INTO sealed_secrets (id, purpose, sealed, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(&id)
    .bind(purpose)
    .bind(&sealed)
    .bind(ctx.now.secs())
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// The plaintext of row `id`, `None` when there is no such row. A value that
/// no loaded key opens is an internal error (its cause names the row and the
/// reason, never the value).
#[cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "access codes and learner passwords call these (issue 5)"
    )
)]
pub(crate) async fn open_sealed<'c, E>(
    exec: E,
    sealer: &Sealer,
    id: &str,
) -> Result<Option<String>, Internal>
where
    E: Executor<'c, Database = Any>,
{
    let row = sqlx::query("SELECT purpose, sealed FROM sealed_secrets WHERE id = $1")
        .bind(id)
        .fetch_optional(exec)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let purpose: String = row.try_get("purpose")?;
    let sealed: String = row.try_get("sealed")?;
    sealer
        .open(&sealed, &context_of(id, &purpose))
        .map(Some)
        .map_err(|err| {
            Internal::new(format!(
                "sealed secret {id} ({purpose}) does not open: {err}"
            ))
        })
}

/// Seals a new plaintext into existing row `id` (same purpose, current key).
/// A missing row is an internal error: callers hold ids of their own rows.
#[cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "access codes and learner passwords call these (issue 5)"
    )
)]
pub(crate) async fn replace_sealed(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    sealer: &Sealer,
    id: &str,
    plaintext: &str,
) -> Result<(), Internal> {
    let purpose: Option<String> =
        sqlx::query_scalar("SELECT purpose FROM sealed_secrets WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(purpose) = purpose else {
        return Err(Internal::new(format!("no sealed secret {id} to replace")));
    };
    let sealed = sealer.seal(plaintext, &context_of(id, &purpose), ctx.rng)?;
    sqlx::query("UPDATE sealed_secrets SET sealed = $1, updated_at = $2 WHERE id = $3")
        .bind(&sealed)
        .bind(ctx.now.secs())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes row `id` (destroying the secret); a missing row is fine.
#[cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "access codes and learner passwords call these (issue 5)"
    )
)]
pub(crate) async fn delete_sealed(conn: &mut AnyConnection, id: &str) -> Result<(), Internal> {
    sqlx::query("DELETE FROM sealed_secrets WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A row as rotation reads it.
pub(crate) struct SealedRow {
    pub(crate) id: String,
    pub(crate) purpose: String,
    pub(crate) sealed: String,
}

/// Up to `limit` rows with ids after `after`, in id order (rotation walks the
/// table this way, so each batch is one short transaction).
pub(crate) async fn sealed_rows_after(
    conn: &mut AnyConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<SealedRow>, Internal> {
    let rows = sqlx::query(
        "SELECT id, purpose, sealed FROM sealed_secrets WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SealedRow {
                id: row.try_get("id")?,
                purpose: row.try_get("purpose")?,
                sealed: row.try_get("sealed")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Internal::from)
}

/// One row by id, for rotation's retries.
pub(crate) async fn sealed_row(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<SealedRow>, Internal> {
    let row = sqlx::query("SELECT id, purpose, sealed FROM sealed_secrets WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| {
        Ok(SealedRow {
            id: row.try_get("id")?,
            purpose: row.try_get("purpose")?,
            sealed: row.try_get("sealed")?,
        })
    })
    .transpose()
    .map_err(|err: sqlx::Error| Internal::from(err))
}

/// Stores a re-sealed value only if the row still holds `old` (a server may
/// have replaced the secret meanwhile); whether it did.
pub(crate) async fn reseal_if_unchanged(
    conn: &mut AnyConnection,
    id: &str,
    old: &str,
    new: &str,
    now: UnixTime,
) -> Result<bool, Internal> {
    let done = sqlx::query(
        "UPDATE sealed_secrets SET sealed = $1, updated_at = $2 WHERE id = $3 AND sealed = $4",
    )
    .bind(new)
    .bind(now.secs())
    .bind(id)
    .bind(old)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
