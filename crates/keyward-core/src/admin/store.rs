//! SQL of user administration.

use sqlx::AnyConnection;

use crate::error::Internal;
use crate::store::Db;
use crate::types::{ClassId, SchoolId, UserId};

pub(super) async fn class_in_school(
    db: &Db,
    class: &ClassId,
    school: &SchoolId,
) -> Result<bool, Internal> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM classes WHERE id = $1 AND school_id = $2")
            .bind(class.as_str())
            .bind(school.as_str())
            .fetch_optional(db.pool())
            .await?;
    Ok(found.is_some())
}

pub(super) async fn enrol(
    conn: &mut AnyConnection,
    class: &ClassId,
    user: &UserId,
) -> Result<(), Internal> {
    sqlx::query(
        "INSERT INTO class_learners (class_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(class.as_str())
    .bind(user.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn assign_teacher(
    conn: &mut AnyConnection,
    class: &ClassId,
    user: &UserId,
) -> Result<(), Internal> {
    sqlx::query(
        "INSERT INTO class_teachers (class_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(class.as_str())
    .bind(user.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// The user's codes still waiting to be used: (kind, sealed secret id).
pub(super) async fn open_codes(db: &Db, user: &UserId) -> Result<Vec<(String, String)>, Internal> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT kind, sealed_id FROM access_codes WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(user.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("kind")?, row.try_get("sealed_id")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Internal::from)
}
