//! SQL of access codes and activation, and of class codes and joining a
//! class with one.

use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::CodeKind;
use crate::Ctx;
use crate::error::Internal;
use crate::store::Db;
use crate::types::{ClassId, SchoolId, UnixTime, UserId};

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

/// Ends every code of the user that still works (a disabled account's
/// access code and parent access code) and returns their sealed copies' ids.
pub(super) async fn revoke_open_codes(
    conn: &mut AnyConnection,
    user: &UserId,
    now: UnixTime,
) -> Result<Vec<String>, Internal> {
    let sealed: Vec<String> = sqlx::query_scalar(
        "UPDATE access_codes SET revoked_at = $1 WHERE user_id = $2 AND used_at IS NULL AND revoked_at IS NULL \
         RETURNING sealed_id",
    )
    .bind(now.secs())
    .bind(user.as_str())
    .fetch_all(conn)
    .await?;
    Ok(sealed)
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

pub(crate) async fn link_parent(
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

// Class codes (R-CODE-2): not secrets, stored as shown on the board.

/// A class as the class-code use cases need it.
pub(super) struct ClassRow {
    pub id: ClassId,
    pub school_id: SchoolId,
    pub name: String,
    pub class_code: Option<String>,
    pub class_code_enabled: bool,
}

fn class_from_row(row: &AnyRow) -> Result<ClassRow, Internal> {
    Ok(ClassRow {
        id: ClassId::from_stored(row.try_get("id")?),
        school_id: SchoolId::from_stored(row.try_get("school_id")?),
        name: row.try_get("name")?,
        class_code: row.try_get("class_code")?,
        class_code_enabled: row.try_get::<i64, _>("class_code_enabled")? != 0,
    })
}

pub(super) async fn find_class(db: &Db, class: &ClassId) -> Result<Option<ClassRow>, Internal> {
    let row = sqlx::query(
        "SELECT id, school_id, name, class_code, class_code_enabled FROM classes WHERE id = $1",
    )
    .bind(class.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(class_from_row).transpose()
}

/// The class whose code this is, switched on or off (the caller decides).
pub(super) async fn find_class_by_code(db: &Db, code: &str) -> Result<Option<ClassRow>, Internal> {
    let row = sqlx::query(
        "SELECT id, school_id, name, class_code, class_code_enabled FROM classes WHERE class_code = $1",
    )
    .bind(code)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(class_from_row).transpose()
}

pub(super) async fn is_enrolled(
    conn: &mut AnyConnection,
    class: &ClassId,
    learner: &UserId,
) -> Result<bool, Internal> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM class_learners WHERE class_id = $1 AND user_id = $2",
    )
    .bind(class.as_str())
    .bind(learner.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Whether the user has a code of this kind that still works.
pub(crate) async fn has_open_code(
    conn: &mut AnyConnection,
    user: &UserId,
    kind: CodeKind,
) -> Result<bool, Internal> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT id FROM access_codes WHERE user_id = $1 AND kind = $2 AND used_at IS NULL AND revoked_at IS NULL LIMIT 1",
    )
    .bind(user.as_str())
    .bind(kind.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}
