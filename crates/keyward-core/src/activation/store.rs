//! SQL of access codes and activation.

use sqlx::AnyConnection;
use sqlx::Row;

use super::CodeKind;
use crate::Ctx;
use crate::error::Internal;
use crate::store::Db;
use crate::types::{EmailAddress, UnixTime, UserId, Username};

pub(super) struct CodeRow {
    pub id: String,
    pub user_id: UserId,
    pub kind: CodeKind,
    pub sealed_id: String,
    pub expires_at: Option<UnixTime>,
    pub used_at: Option<UnixTime>,
    pub revoked_at: Option<UnixTime>,
}

pub(super) async fn insert_code(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    user: &UserId,
    kind: CodeKind,
    lookup_hash: &str,
    sealed_id: &str,
    expires_at: Option<UnixTime>,
) -> Result<(), Internal> {
    let id = UserId::generate(ctx.rng)?.to_string();
    sqlx::query(
        "INSERT INTO access_codes (id, user_id, kind, lookup_hash, sealed_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(user.as_str())
    .bind(kind.as_str())
    .bind(lookup_hash)
    .bind(sealed_id)
    .bind(ctx.now.secs())
    .bind(expires_at.map(UnixTime::secs))
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends the user's earlier codes of this kind (a new code replaces the old).
pub(super) async fn revoke_codes(
    conn: &mut AnyConnection,
    user: &UserId,
    kind: CodeKind,
    now: UnixTime,
) -> Result<(), Internal> {
    sqlx::query(
        "UPDATE access_codes SET revoked_at = $1 WHERE user_id = $2 AND kind = $3 AND revoked_at IS NULL AND used_at IS NULL",
    )
    .bind(now.secs())
    .bind(user.as_str())
    .bind(kind.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn find_code(db: &Db, lookup_hash: &str) -> Result<Option<CodeRow>, Internal> {
    let row = sqlx::query(
        "SELECT id, user_id, kind, sealed_id, expires_at, used_at, revoked_at FROM access_codes WHERE lookup_hash = $1",
    )
    .bind(lookup_hash)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let kind: String = row.try_get("kind")?;
    Ok(Some(CodeRow {
        id: row.try_get("id")?,
        user_id: UserId::from_stored(row.try_get("user_id")?),
        kind: CodeKind::parse(&kind)
            .ok_or_else(|| Internal::new(format!("unknown code kind {kind:?}")))?,
        sealed_id: row.try_get("sealed_id")?,
        expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(UnixTime),
        used_at: row.try_get::<Option<i64>, _>("used_at")?.map(UnixTime),
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(UnixTime),
    }))
}

/// Uses a single-use code; false when someone used it a moment ago.
pub(super) async fn use_code(
    conn: &mut AnyConnection,
    id: &str,
    now: UnixTime,
) -> Result<bool, Internal> {
    let done = sqlx::query("UPDATE access_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL")
        .bind(now.secs())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives a pending account its chosen username, email and password. A taken
/// username surfaces as a unique violation.
pub(super) async fn activate_user(
    conn: &mut AnyConnection,
    user: &UserId,
    username: &Username,
    email: Option<&EmailAddress>,
    hash: &str,
    now: UnixTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET username = $1, username_key = $2, email = COALESCE($3, email), \
         email_key = COALESCE($4, email_key), password_hash = $5, password_changed_at = $6, \
         status = 'active', created_by_owner = 1 WHERE id = $7 AND status = 'pending'",
    )
    .bind(username.as_str())
    .bind(username.key())
    .bind(email.map(EmailAddress::as_str))
    .bind(email.map(EmailAddress::key))
    .bind(hash)
    .bind(now.secs())
    .bind(user.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn mark_created_by_owner(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<(), Internal> {
    sqlx::query("UPDATE users SET created_by_owner = 1 WHERE id = $1")
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

pub(super) async fn link_parent(
    conn: &mut AnyConnection,
    parent: &UserId,
    learner: &UserId,
) -> Result<(), Internal> {
    sqlx::query("INSERT INTO parent_learners (parent_id, learner_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(parent.as_str())
        .bind(learner.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
