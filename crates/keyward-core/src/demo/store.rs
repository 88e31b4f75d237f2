//! SQL the demo seed reads to stay idempotent (what exists already); its
//! writes go through the owners of each table.

use sqlx::AnyConnection;

use crate::error::Internal;
use crate::store::Db;
use crate::types::{ClassId, SchoolId, UserId};

pub(super) async fn find_school_by_name(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<Option<SchoolId>, Internal> {
    let id: Option<String> =
        sqlx::query_scalar("SELECT id FROM schools WHERE name = $1 ORDER BY created_at LIMIT 1")
            .bind(name)
            .fetch_optional(conn)
            .await?;
    Ok(id.map(SchoolId::from_stored))
}

pub(super) async fn find_class_by_name(
    conn: &mut AnyConnection,
    school: &SchoolId,
    name: &str,
) -> Result<Option<ClassId>, Internal> {
    let id: Option<String> =
        sqlx::query_scalar("SELECT id FROM classes WHERE school_id = $1 AND name = $2 LIMIT 1")
            .bind(school.as_str())
            .bind(name)
            .fetch_optional(conn)
            .await?;
    Ok(id.map(ClassId::from_stored))
}

pub(super) async fn find_user_id(
    conn: &mut AnyConnection,
    username_key: &str,
) -> Result<Option<UserId>, Internal> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE username_key = $1")
        .bind(username_key)
        .fetch_optional(conn)
        .await?;
    Ok(id.map(UserId::from_stored))
}

/// The demo class's code while it is switched on.
pub(super) async fn demo_class_code(
    db: &Db,
    school: &str,
    class: &str,
) -> Result<Option<String>, Internal> {
    let code: Option<Option<String>> = sqlx::query_scalar(
        "SELECT c.class_code FROM classes c JOIN schools s ON s.id = c.school_id \
         WHERE s.name = $1 AND c.name = $2 AND c.class_code_enabled = 1 \
         ORDER BY s.created_at LIMIT 1",
    )
    .bind(school)
    .bind(class)
    .fetch_optional(db.pool())
    .await?;
    Ok(code.flatten())
}

/// A learner of a school by name (the demo's pending learner).
pub(super) async fn find_learner_by_name(
    db: &Db,
    school: &SchoolId,
    first_name: &str,
    last_name: &str,
) -> Result<Option<UserId>, Internal> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM users WHERE school_id = $1 AND role = 'learner' \
         AND first_name = $2 AND last_name = $3",
    )
    .bind(school.as_str())
    .bind(first_name)
    .bind(last_name)
    .fetch_optional(db.pool())
    .await?;
    Ok(id.map(UserId::from_stored))
}

/// The ids of the demo school and class, when they exist.
pub(super) async fn demo_school_and_class(
    db: &Db,
) -> Result<Option<(SchoolId, ClassId)>, Internal> {
    let mut conn = db.pool().acquire().await?;
    let Some(school) = find_school_by_name(&mut conn, super::DEMO_SCHOOL_NAME).await? else {
        return Ok(None);
    };
    let class = find_class_by_name(&mut conn, &school, super::DEMO_CLASS_NAME).await?;
    Ok(class.map(|class| (school, class)))
}
