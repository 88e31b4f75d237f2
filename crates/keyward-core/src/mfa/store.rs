//! SQL of two-step verification: `mfa_totp` (a person's authenticator app,
//! its sealed secret's row id, and the latest step accepted) and
//! `mfa_recovery_codes` (keyed hashes, each used once). Every "once" is one
//! conditional statement whose affected rows say who won.

use sqlx::{Any, AnyConnection, Executor, Row};

use crate::error::Internal;
use crate::types::{UnixTime, UserId};

/// A person's authenticator-app row.
pub(super) struct TotpRow {
    pub sealed_id: String,
    pub created_at: UnixTime,
    pub confirmed: bool,
}

pub(super) async fn find_totp<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    user_id: &UserId,
) -> Result<Option<TotpRow>, Internal> {
    let row =
        sqlx::query("SELECT sealed_id, created_at, confirmed_at FROM mfa_totp WHERE user_id = $1")
            .bind(user_id.as_str())
            .fetch_optional(exec)
            .await?;
    row.map(|row| {
        Ok(TotpRow {
            sealed_id: row.try_get("sealed_id")?,
            created_at: UnixTime(row.try_get("created_at")?),
            confirmed: row.try_get::<Option<i64>, _>("confirmed_at")?.is_some(),
        })
    })
    .transpose()
}

/// Deletes an enrolment still waiting for its first code; returns its
/// sealed secret's row id.
pub(super) async fn delete_pending_totp(
    conn: &mut AnyConnection,
    user_id: &UserId,
) -> Result<Option<String>, Internal> {
    let row = sqlx::query(
        "DELETE FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NULL RETURNING sealed_id",
    )
    .bind(user_id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| row.try_get("sealed_id")).transpose()?)
}

/// Starts an enrolment; false when the person already has a row (a live
/// authenticator app), which stays as it was.
pub(super) async fn insert_pending_totp(
    conn: &mut AnyConnection,
    user_id: &UserId,
    sealed_id: &str,
    now: UnixTime,
) -> Result<bool, Internal> {
    let done = sqlx::query(
        "INSERT INTO mfa_totp (user_id, sealed_id, created_at, confirmed_at, last_step) \
         VALUES ($1, $2, $3, NULL, 0) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id.as_str())
    .bind(sealed_id)
    .bind(now.secs())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Turns the pending enrolment with secret `sealed_id` on, its first code
/// (of `step`) used; false when it is no longer pending.
pub(super) async fn confirm_totp(
    conn: &mut AnyConnection,
    user_id: &UserId,
    sealed_id: &str,
    now: UnixTime,
    step: i64,
) -> Result<bool, Internal> {
    let done = sqlx::query(
        "UPDATE mfa_totp SET confirmed_at = $1, last_step = $2 \
         WHERE user_id = $3 AND sealed_id = $4 AND confirmed_at IS NULL",
    )
    .bind(now.secs())
    .bind(step)
    .bind(user_id.as_str())
    .bind(sealed_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Accepts a code of `step` once: true when no code of this step or a later
/// one was accepted before.
pub(super) async fn consume_step(
    conn: &mut AnyConnection,
    user_id: &UserId,
    step: i64,
) -> Result<bool, Internal> {
    let done = sqlx::query(
        "UPDATE mfa_totp SET last_step = $1 \
         WHERE user_id = $2 AND confirmed_at IS NOT NULL AND last_step < $1",
    )
    .bind(step)
    .bind(user_id.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the live authenticator app; returns its sealed secret's row id.
pub(super) async fn delete_confirmed_totp(
    conn: &mut AnyConnection,
    user_id: &UserId,
) -> Result<Option<String>, Internal> {
    let row = sqlx::query(
        "DELETE FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL RETURNING sealed_id",
    )
    .bind(user_id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| row.try_get("sealed_id")).transpose()?)
}

/// Replaces the person's recovery codes with new ones (by their hashes).
pub(super) async fn replace_recovery_codes(
    conn: &mut AnyConnection,
    user_id: &UserId,
    hashes: &[String],
    now: UnixTime,
) -> Result<(), Internal> {
    delete_recovery_codes(&mut *conn, user_id).await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO mfa_recovery_codes (user_id, code_hash, created_at, used_at) \
             VALUES ($1, $2, $3, NULL)",
        )
        .bind(user_id.as_str())
        .bind(hash)
        .bind(now.secs())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub(super) async fn delete_recovery_codes(
    conn: &mut AnyConnection,
    user_id: &UserId,
) -> Result<(), Internal> {
    sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
        .bind(user_id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether the person has the recovery code with hash `hash`: `None` when
/// not, else whether it is still unused.
pub(super) async fn recovery_code_unused<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    user_id: &UserId,
    hash: &str,
) -> Result<Option<bool>, Internal> {
    let row =
        sqlx::query("SELECT used_at FROM mfa_recovery_codes WHERE user_id = $1 AND code_hash = $2")
            .bind(user_id.as_str())
            .bind(hash)
            .fetch_optional(exec)
            .await?;
    row.map(|row| Ok(row.try_get::<Option<i64>, _>("used_at")?.is_none()))
        .transpose()
}

/// Uses a recovery code once: true for the one caller that marked it used.
pub(super) async fn consume_recovery_code(
    conn: &mut AnyConnection,
    user_id: &UserId,
    hash: &str,
    now: UnixTime,
) -> Result<bool, Internal> {
    let done = sqlx::query(
        "UPDATE mfa_recovery_codes SET used_at = $1 \
         WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(now.secs())
    .bind(user_id.as_str())
    .bind(hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many of the person's recovery codes are unused.
pub(super) async fn recovery_codes_left<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    user_id: &UserId,
) -> Result<i64, Internal> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id.as_str())
    .fetch_one(exec)
    .await?;
    Ok(row.try_get("n")?)
}

/// Removes a person's authenticator app (confirmed or still waiting for its
/// first code) and every recovery code of theirs, for an administrator's
/// reset (R-ADM-4); returns the app's sealed secret's row id, if it had one,
/// and how many recovery codes went.
pub(crate) async fn delete_all_of(
    conn: &mut AnyConnection,
    user_id: &UserId,
) -> Result<(Option<String>, u64), Internal> {
    let row = sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1 RETURNING sealed_id")
        .bind(user_id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    let sealed_id: Option<String> = row.map(|row| row.try_get("sealed_id")).transpose()?;
    let codes = sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
        .bind(user_id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok((sealed_id, codes.rows_affected()))
}
