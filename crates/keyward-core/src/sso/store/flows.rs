//! SQL of `sso_flows`: sign-ins sent to a provider, each claimed once.

use sqlx::{Any, AnyConnection, Executor, Row};

use crate::crypto::tokens::TokenDigest;
use crate::error::Internal;
use crate::sso::SsoProviderId;
use crate::types::UnixTime;

/// A flow taken out of the table by its callback.
pub(crate) struct ClaimedFlow {
    pub provider_id: SsoProviderId,
    pub binding_hash: String,
    pub expires_at: UnixTime,
}

pub(crate) async fn insert<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    state: &TokenDigest,
    provider: &SsoProviderId,
    binding: &TokenDigest,
    now: UnixTime,
    expires_at: UnixTime,
) -> Result<(), Internal> {
    sqlx::query(
        "INSERT INTO sso_flows (state_hash, provider_id, binding_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(state.as_str())
    .bind(provider.as_str())
    .bind(binding.as_str())
    .bind(now.secs())
    .bind(expires_at.secs())
    .execute(exec)
    .await?;
    Ok(())
}

/// Takes the flow of `state` out of the table: of many parallel callbacks
/// with one state, exactly one gets it. An expired row is taken out too (and
/// refused by the caller).
pub(crate) async fn claim<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    state: &TokenDigest,
) -> Result<Option<ClaimedFlow>, Internal> {
    let row = sqlx::query(
        "DELETE FROM sso_flows WHERE state_hash = $1 RETURNING provider_id, binding_hash, expires_at",
    )
    .bind(state.as_str())
    .fetch_optional(exec)
    .await?;
    row.map(|row| {
        Ok(ClaimedFlow {
            provider_id: SsoProviderId::from_stored(row.try_get("provider_id")?),
            binding_hash: row.try_get("binding_hash")?,
            expires_at: UnixTime(row.try_get("expires_at")?),
        })
    })
    .transpose()
}

/// Deletes up to `limit` flows past their time; returns how many went.
pub(crate) async fn delete_expired(
    conn: &mut AnyConnection,
    now: UnixTime,
    limit: i64,
) -> Result<u64, Internal> {
    let done = sqlx::query(
        "DELETE FROM sso_flows WHERE state_hash IN \
           (SELECT state_hash FROM sso_flows WHERE expires_at <= $1 LIMIT $2)",
    )
    .bind(now.secs())
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
