//! SQL of sign-ins waiting for their second step (`sign_in_steps`): only the
//! SHA-256 of a step's token is stored, a step lives minutes, and it is
//! claimed (deleted) once, by the request that finishes the sign-in.

use sqlx::{Any, AnyConnection, Executor, Row};

use super::{ACCOUNT_COLUMNS, account_from_row};
use crate::accounts::{Account, SecondFactors};
use crate::crypto::tokens::TokenDigest;
use crate::error::Internal;
use crate::store::Db;
use crate::types::{SsoProviderId, UnixTime, UserId};

pub(in crate::accounts) async fn insert_step(
    conn: &mut AnyConnection,
    digest: &TokenDigest,
    user_id: &UserId,
    now: UnixTime,
    expires_at: UnixTime,
    sso_provider: Option<&SsoProviderId>,
) -> Result<(), Internal> {
    sqlx::query(
        "INSERT INTO sign_in_steps (id_hash, user_id, created_at, expires_at, sso_provider_id) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(digest.as_str())
    .bind(user_id.as_str())
    .bind(now.secs())
    .bind(expires_at.secs())
    .bind(sso_provider.map(|p| p.as_str()))
    .execute(conn)
    .await?;
    Ok(())
}

/// The account of a step that has not expired at `now`.
pub(in crate::accounts) async fn find_step(
    db: &Db,
    digest: &TokenDigest,
    now: UnixTime,
) -> Result<Option<Account>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM sign_in_steps t JOIN users u ON u.id = t.user_id \
         WHERE t.id_hash = $1 AND t.expires_at > $2"
    ));
    let row = sqlx::query(sql)
        .bind(digest.as_str())
        .bind(now.secs())
        .fetch_optional(db.pool())
        .await?;
    row.map(|row| account_from_row(&row)).transpose()
}

/// Claims the step of `user_id` once: `Some` for the one caller that
/// deleted it while it was still alive, with the provider the sign-in went
/// through (`None` inside for a password).
pub(in crate::accounts) async fn claim_step(
    conn: &mut AnyConnection,
    digest: &TokenDigest,
    user_id: &UserId,
    now: UnixTime,
) -> Result<Option<Option<SsoProviderId>>, Internal> {
    let claimed: Option<Option<String>> = sqlx::query_scalar(
        "DELETE FROM sign_in_steps WHERE id_hash = $1 AND user_id = $2 AND expires_at > $3 \
         RETURNING sso_provider_id",
    )
    .bind(digest.as_str())
    .bind(user_id.as_str())
    .bind(now.secs())
    .fetch_optional(conn)
    .await?;
    Ok(claimed.map(|provider| provider.map(SsoProviderId::from_stored)))
}

/// Forgets a step (the person went back to the first screen).
pub(in crate::accounts) async fn delete_step<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    digest: &TokenDigest,
) -> Result<(), Internal> {
    sqlx::query("DELETE FROM sign_in_steps WHERE id_hash = $1")
        .bind(digest.as_str())
        .execute(exec)
        .await?;
    Ok(())
}

/// Ends every pending step of a user (their password changed).
pub(crate) async fn delete_steps_of(
    conn: &mut AnyConnection,
    user_id: &UserId,
) -> Result<(), Internal> {
    sqlx::query("DELETE FROM sign_in_steps WHERE user_id = $1")
        .bind(user_id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every pending step of a sign-in through `provider` (the provider
/// was removed); returns how many went.
pub(crate) async fn delete_steps_of_provider(
    conn: &mut AnyConnection,
    provider: &SsoProviderId,
) -> Result<u64, Internal> {
    let done = sqlx::query("DELETE FROM sign_in_steps WHERE sso_provider_id = $1")
        .bind(provider.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes up to `limit` expired steps; returns how many went.
pub(crate) async fn delete_expired_steps(
    conn: &mut AnyConnection,
    now: UnixTime,
    limit: i64,
) -> Result<u64, Internal> {
    let done = sqlx::query(
        "DELETE FROM sign_in_steps WHERE id_hash IN \
           (SELECT id_hash FROM sign_in_steps WHERE expires_at <= $1 LIMIT $2)",
    )
    .bind(now.secs())
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The second factors an account has turned on (read from the tables of the
/// two-step and passkey modules, which own them). A learner's passkeys
/// exist only while the school allows them (switching off removes them).
pub(in crate::accounts) async fn second_factors<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    user_id: &UserId,
) -> Result<SecondFactors, Internal> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL) \
         AS totp, (SELECT COUNT(*) FROM passkeys WHERE user_id = $1) AS passkeys",
    )
    .bind(user_id.as_str())
    .fetch_one(exec)
    .await?;
    let totp: i64 = row.try_get("totp")?;
    let passkeys: i64 = row.try_get("passkeys")?;
    Ok(SecondFactors {
        totp: totp > 0,
        passkeys: passkeys > 0,
    })
}
