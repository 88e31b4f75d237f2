//! SQL of schools and classes.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Class, generate_class_code};
use crate::Ctx;
use crate::error::Internal;
use crate::store::{Db, is_unique_violation};
use crate::types::Role;
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
    write_with_fresh_code(
        conn,
        ctx,
        "INSERT INTO classes (class_code, id, school_id, name, created_at, class_code_enabled) \
         VALUES ($1, $2, $3, $4, $5, 1)",
        &[
            Bind::Text(id.as_str()),
            Bind::Text(school.as_str()),
            Bind::Text(name),
            Bind::Int(ctx.now.secs()),
        ],
    )
    .await
}

/// A value bound after the class code (`$2`, `$3`, …).
enum Bind<'a> {
    Text(&'a str),
    Int(i64),
}

/// Runs `sql` with a fresh class code as `$1` and `rest` after it, in a
/// savepoint; a clash with another class's code (the unique index) rolls the
/// savepoint back and a new code is tried.
async fn write_with_fresh_code(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    sql: &'static str,
    rest: &[Bind<'_>],
) -> Result<String, Internal> {
    use sqlx::Connection;
    for _ in 0..CLASS_CODE_ATTEMPTS {
        let code = generate_class_code(ctx)?;
        let mut attempt = conn.begin().await?;
        let mut query = sqlx::query(sql).bind(code.clone());
        for value in rest {
            query = match value {
                Bind::Text(text) => query.bind(text.to_string()),
                Bind::Int(number) => query.bind(*number),
            };
        }
        match query.execute(&mut *attempt).await {
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

/// Gives the class a fresh code no other class has, in one statement, so the
/// old code stops working the moment this commits. A clash with another
/// class's code is caught by the unique index inside a savepoint, and a new
/// code is tried.
pub(crate) async fn replace_class_code(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    class: &ClassId,
) -> Result<String, Internal> {
    write_with_fresh_code(
        conn,
        ctx,
        "UPDATE classes SET class_code = $1 WHERE id = $2",
        &[Bind::Text(class.as_str())],
    )
    .await
}

pub(crate) async fn set_class_code_enabled(
    conn: &mut AnyConnection,
    class: &ClassId,
    enabled: bool,
) -> Result<(), Internal> {
    sqlx::query("UPDATE classes SET class_code_enabled = $1 WHERE id = $2")
        .bind(i64::from(enabled))
        .bind(class.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Enrols a learner in the class only while `code` is still the class's
/// switched-on code (a code regenerated or switched off a moment ago no
/// longer lets anyone in). Returns the number of new enrolments: 0 when the
/// code stopped working or the learner was already enrolled.
pub(crate) async fn enrol_while_code_works(
    conn: &mut AnyConnection,
    class: &ClassId,
    code: &str,
    learner: &UserId,
) -> Result<u64, Internal> {
    // The WHERE clause also keeps SQLite's parser from reading ON CONFLICT as a join.
    let done = sqlx::query(
        "INSERT INTO class_learners (class_id, user_id) \
         SELECT id, $1 FROM classes WHERE id = $2 AND class_code = $3 AND class_code_enabled = 1 \
         ON CONFLICT DO NOTHING",
    )
    .bind(learner.as_str())
    .bind(class.as_str())
    .bind(code)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Whether a school keeps sealed copies (false for an unknown school), read
/// inside the caller's transaction while holding the school's row: a no-op
/// write that PostgreSQL locks until the transaction ends (and SQLite's
/// writer lock covers), so a concurrent switch-off either comes first and is
/// seen here, or waits for this transaction and then destroys its copies.
pub(crate) async fn school_keeps_copies_in(
    conn: &mut AnyConnection,
    school: &SchoolId,
) -> Result<bool, Internal> {
    let value: Option<i64> = sqlx::query_scalar(
        "UPDATE schools SET learner_passwords_retrievable = learner_passwords_retrievable \
         WHERE id = $1 RETURNING learner_passwords_retrievable",
    )
    .bind(school.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(value.is_some_and(|v| v != 0))
}

/// The school's switch (`None` for an unknown school).
pub(crate) async fn find_school_setting(
    db: &Db,
    school: &SchoolId,
) -> Result<Option<bool>, Internal> {
    let value: Option<i64> =
        sqlx::query_scalar("SELECT learner_passwords_retrievable FROM schools WHERE id = $1")
            .bind(school.as_str())
            .fetch_optional(db.pool())
            .await?;
    Ok(value.map(|v| v != 0))
}

/// Sets the switch; false when there is no such school.
pub(crate) async fn update_school_setting(
    conn: &mut AnyConnection,
    school: &SchoolId,
    keep: bool,
) -> Result<bool, Internal> {
    let done = sqlx::query("UPDATE schools SET learner_passwords_retrievable = $1 WHERE id = $2")
        .bind(i64::from(keep))
        .bind(school.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The roles a school requires two-step verification of, as stored (`None`
/// for an unknown school).
pub(crate) async fn find_mfa_required_roles(
    db: &Db,
    school: &SchoolId,
) -> Result<Option<String>, Internal> {
    Ok(
        sqlx::query_scalar("SELECT mfa_required_roles FROM schools WHERE id = $1")
            .bind(school.as_str())
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Sets them; false when there is no such school.
pub(crate) async fn update_mfa_required_roles(
    conn: &mut AnyConnection,
    school: &SchoolId,
    stored: &str,
) -> Result<bool, Internal> {
    let done = sqlx::query("UPDATE schools SET mfa_required_roles = $1 WHERE id = $2")
        .bind(stored)
        .bind(school.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The whole-class reset's lease (`classes.password_reset_until`), which
/// keeps two resets of one class apart: holds the class for a reset until `until`, unless another reset holds it
/// now. One statement, so of two resets racing for it exactly one wins.
pub(crate) async fn take_reset_lease(
    db: &Db,
    class: &ClassId,
    now: UnixTime,
    until: UnixTime,
) -> Result<bool, Internal> {
    let _turn = db.write_turn().await?;
    let done = sqlx::query(
        "UPDATE classes SET password_reset_until = $1 WHERE id = $2 \
         AND (password_reset_until IS NULL OR password_reset_until < $3)",
    )
    .bind(until.secs())
    .bind(class.as_str())
    .bind(now.secs())
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the class back, in the reset's transaction: false when the lease
/// taken with `until` is no longer held (it ran out and another reset took
/// the class), so the caller must not commit.
pub(crate) async fn end_reset_lease_in(
    conn: &mut AnyConnection,
    class: &ClassId,
    until: UnixTime,
) -> Result<bool, Internal> {
    let done = sqlx::query(
        "UPDATE classes SET password_reset_until = NULL \
         WHERE id = $1 AND password_reset_until = $2",
    )
    .bind(class.as_str())
    .bind(until.secs())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the class back after a reset that failed (nothing was written).
pub(crate) async fn end_reset_lease(
    db: &Db,
    class: &ClassId,
    until: UnixTime,
) -> Result<(), Internal> {
    let mut conn = db.pool().acquire().await?;
    end_reset_lease_in(&mut conn, class, until).await?;
    Ok(())
}

/// Inserts a class with the given code, switched on (the demo's fixed one).
pub(crate) async fn insert_class_with_code(
    conn: &mut AnyConnection,
    id: &ClassId,
    school: &SchoolId,
    name: &str,
    class_code: &str,
    now: UnixTime,
) -> Result<(), Internal> {
    sqlx::query(
        "INSERT INTO classes (id, school_id, name, created_at, class_code, class_code_enabled) VALUES ($1, $2, $3, $4, $5, 1)",
    )
    .bind(id.as_str())
    .bind(school.as_str())
    .bind(name)
    .bind(now.secs())
    .bind(class_code)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether a school lets its learners use passkeys (`None` for an unknown
/// school).
pub(crate) async fn find_learner_passkeys(
    db: &Db,
    school: &SchoolId,
) -> Result<Option<bool>, Internal> {
    let value: Option<i64> =
        sqlx::query_scalar("SELECT learner_passkeys FROM schools WHERE id = $1")
            .bind(school.as_str())
            .fetch_optional(db.pool())
            .await?;
    Ok(value.map(|v| v != 0))
}

/// [`find_learner_passkeys`] inside the caller's transaction, holding the
/// school's row (a no-op write, as `school_keeps_copies_in` does), so a
/// concurrent switch-off is either seen here or waits for this transaction
/// and then removes what it wrote. False for an unknown school.
pub(crate) async fn learner_passkeys_in(
    conn: &mut AnyConnection,
    school: &SchoolId,
) -> Result<bool, Internal> {
    let value: Option<i64> = sqlx::query_scalar(
        "UPDATE schools SET learner_passkeys = learner_passkeys \
         WHERE id = $1 RETURNING learner_passkeys",
    )
    .bind(school.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(value.is_some_and(|v| v != 0))
}

/// Sets the school's switch for learners' passkeys; false when there is no
/// such school.
pub(crate) async fn update_learner_passkeys(
    conn: &mut AnyConnection,
    school: &SchoolId,
    on: bool,
) -> Result<bool, Internal> {
    let done = sqlx::query("UPDATE schools SET learner_passkeys = $1 WHERE id = $2")
        .bind(i64::from(on))
        .bind(school.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
