//! SQL of schools and classes.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Class, generate_class_code};
use crate::Ctx;
use crate::authz::Role;
use crate::error::Internal;
use crate::store::{Db, is_unique_violation};
use crate::types::{ClassId, SchoolId, UnixTime, UserId};

/// Attempts at a unique class code before giving up (32^6 codes: a clash is rare).
const CLASS_CODE_ATTEMPTS: usize = 8;

pub(crate) async fn insert_school(
    conn: &mut AnyConnection,
    id: &SchoolId,
    name: &str,
    now: UnixTime,
) -> Result<(), Internal> {
    sqlx::query("INSERT INTO schools (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(id.as_str())
        .bind(name)
        .bind(now.secs())
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn school_exists(db: &Db, school: &SchoolId) -> Result<bool, Internal> {
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM schools WHERE id = $1")
        .bind(school.as_str())
        .fetch_optional(db.pool())
        .await?;
    Ok(found.is_some())
}

/// The role of an active member of `school`, if the user is one.
pub(crate) async fn staff_role_in(
    db: &Db,
    user: &UserId,
    school: &SchoolId,
) -> Result<Option<Role>, Internal> {
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM users WHERE id = $1 AND school_id = $2")
            .bind(user.as_str())
            .bind(school.as_str())
            .fetch_optional(db.pool())
            .await?;
    Ok(role.and_then(|r| Role::parse(&r)))
}

/// Inserts a class with a class code no other class has; returns the code.
/// A clash with another class's code is caught by the unique index, inside a
/// savepoint, and a new code is tried.
pub(crate) async fn insert_class_with_fresh_code(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    id: &ClassId,
    school: &SchoolId,
    name: &str,
) -> Result<String, Internal> {
    use sqlx::Connection;
    for _ in 0..CLASS_CODE_ATTEMPTS {
        let code = generate_class_code(ctx)?;
        let mut attempt = conn.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO classes (id, school_id, name, created_at, class_code, class_code_enabled) \
             VALUES ($1, $2, $3, $4, $5, 1)",
        )
        .bind(id.as_str())
        .bind(school.as_str())
        .bind(name)
        .bind(ctx.now.secs())
        .bind(&code)
        .execute(&mut *attempt)
        .await;
        match inserted {
            Ok(_) => {
                attempt.commit().await?;
                return Ok(code);
            }
            Err(err) if is_unique_violation(&err) => attempt.rollback().await?,
            Err(err) => return Err(err.into()),
        }
    }
    Err(Internal::new("no free class code after several attempts"))
}

/// Makes a user a teacher of a class (idempotent).
pub(crate) async fn add_teacher(
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

const CLASS_COLUMNS: &str = "c.id, c.school_id, c.name, c.class_code, c.class_code_enabled, \
     (SELECT COUNT(*) FROM class_learners l WHERE l.class_id = c.id) AS learner_count";

fn class_from_row(row: &AnyRow) -> Result<Class, Internal> {
    Ok(Class {
        id: ClassId::from_stored(row.try_get("id")?),
        school_id: SchoolId::from_stored(row.try_get("school_id")?),
        name: row.try_get("name")?,
        class_code: row.try_get("class_code")?,
        class_code_enabled: row.try_get::<i64, _>("class_code_enabled")? != 0,
        learner_count: row.try_get("learner_count")?,
    })
}

pub(crate) async fn classes_of_school(db: &Db, school: &SchoolId) -> Result<Vec<Class>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {CLASS_COLUMNS} FROM classes c WHERE c.school_id = $1 ORDER BY c.name, c.id"
    ));
    let rows = sqlx::query(sql)
        .bind(school.as_str())
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(class_from_row).collect()
}

pub(crate) async fn find_class(db: &Db, class: &ClassId) -> Result<Option<Class>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {CLASS_COLUMNS} FROM classes c WHERE c.id = $1"
    ));
    let row = sqlx::query(sql)
        .bind(class.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(class_from_row).transpose()
}

pub(crate) async fn all_schools(db: &Db) -> Result<Vec<super::School>, Internal> {
    let rows = sqlx::query("SELECT id, name FROM schools ORDER BY name, id LIMIT 1000")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(super::School {
                id: SchoolId::from_stored(row.try_get("id")?),
                name: row.try_get("name")?,
            })
        })
        .collect()
}

pub(crate) async fn find_school(
    db: &Db,
    school: &SchoolId,
) -> Result<Option<super::School>, Internal> {
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM schools WHERE id = $1")
        .bind(school.as_str())
        .fetch_optional(db.pool())
        .await?;
    Ok(name.map(|name| super::School {
        id: school.clone(),
        name,
    }))
}

/// Enrols a learner in a class (idempotent).
pub(crate) async fn enrol(
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
