//! SQL of API tokens (`api_tokens`): the one writer of the table.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::{ApiTokenId, TokenSummary, permissions_from_stored};
use crate::crypto::tokens::TokenDigest;
use crate::error::Internal;
use crate::store::Db;
use crate::types::{SchoolId, UnixTime, UserId};

const COLUMNS: &str = "t.id, t.user_id, u.username, t.name, t.permissions, t.school_id, \
     t.created_at, t.expires_at, t.revoked_at, t.last_used_at";

/// A new row; the secret only as its digest.
pub(super) struct NewRow<'a> {
    pub id: &'a ApiTokenId,
    pub owner: &'a UserId,
    pub name: &'a str,
    pub permissions: &'a str,
    pub school_id: Option<&'a SchoolId>,
    pub secret_hash: &'a TokenDigest,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

pub(super) async fn insert<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    row: &NewRow<'_>,
) -> Result<(), Internal> {
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, name, permissions, school_id, secret_hash, \
           created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(row.id.as_str())
    .bind(row.owner.as_str())
    .bind(row.name)
    .bind(row.permissions)
    .bind(row.school_id.map(SchoolId::as_str))
    .bind(row.secret_hash.as_str())
    .bind(row.created_at.secs())
    .bind(row.expires_at.secs())
    .execute(exec)
    .await?;
    Ok(())
}

fn summary_from_row(row: &AnyRow) -> Result<TokenSummary, Internal> {
    Ok(TokenSummary {
        id: ApiTokenId::from_stored(row.try_get("id")?),
        owner_id: UserId::from_stored(row.try_get("user_id")?),
        owner_username: row.try_get("username")?,
        name: row.try_get("name")?,
        permissions: permissions_from_stored(&row.try_get::<String, _>("permissions")?),
        school_id: row
            .try_get::<Option<String>, _>("school_id")?
            .map(SchoolId::from_stored),
        created_at: UnixTime(row.try_get("created_at")?),
        expires_at: UnixTime(row.try_get("expires_at")?),
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(UnixTime),
        last_used_at: row.try_get::<Option<i64>, _>("last_used_at")?.map(UnixTime),
    })
}

/// The token whose secret has this digest.
pub(super) async fn find_by_secret(
    db: &Db,
    digest: &TokenDigest,
) -> Result<Option<TokenSummary>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.secret_hash = $1"
    ));
    let row = sqlx::query(sql)
        .bind(digest.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(summary_from_row).transpose()
}

pub(super) async fn find(db: &Db, id: &ApiTokenId) -> Result<Option<TokenSummary>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1"
    ));
    let row = sqlx::query(sql)
        .bind(id.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(summary_from_row).transpose()
}

/// Which tokens to list.
pub(super) enum Whose<'a> {
    Owner(&'a UserId),
    /// Owners in this school (not the caller's own: those are listed apart).
    School(&'a SchoolId, &'a UserId),
    /// Everybody's but the caller's.
    All(&'a UserId),
}

/// At most `limit` tokens, newest first.
pub(super) async fn list(
    db: &Db,
    whose: Whose<'_>,
    limit: i64,
) -> Result<Vec<TokenSummary>, Internal> {
    let (condition, binds): (&str, Vec<&str>) = match whose {
        Whose::Owner(user) => ("t.user_id = $2", vec![user.as_str()]),
        Whose::School(school, me) => (
            "u.school_id = $2 AND t.user_id <> $3",
            vec![school.as_str(), me.as_str()],
        ),
        Whose::All(me) => ("t.user_id <> $2", vec![me.as_str()]),
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE {condition} ORDER BY t.created_at DESC, t.id LIMIT $1"
    ));
    let mut query = sqlx::query(sql).bind(limit);
    for bind in binds {
        query = query.bind(bind);
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter().map(summary_from_row).collect()
}

/// Revokes a token not revoked yet; whether this call did it.
pub(super) async fn revoke<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    id: &ApiTokenId,
    now: UnixTime,
) -> Result<bool, Internal> {
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now.secs())
            .bind(id.as_str())
            .execute(exec)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a use, at most once per `interval_secs`, so a busy script does not
/// write on every call.
pub(super) async fn touch(
    db: &Db,
    id: &ApiTokenId,
    now: UnixTime,
    interval_secs: i64,
) -> Result<(), Internal> {
    let _turn = db.write_turn().await?;
    sqlx::query(
        "UPDATE api_tokens SET last_used_at = $1 \
         WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
    )
    .bind(now.secs())
    .bind(id.as_str())
    .bind(now.secs() - interval_secs)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Whether a school with this id exists.
pub(super) async fn school_exists(db: &Db, school: &SchoolId) -> Result<bool, Internal> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM schools WHERE id = $1")
        .bind(school.as_str())
        .fetch_one(db.pool())
        .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}
