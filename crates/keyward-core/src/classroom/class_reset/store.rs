//! SQL of the whole-class reset: the class and its learners, and the lease on
//! `classes.password_reset_until` that keeps two resets of one class apart.

use sqlx::{AnyConnection, Row};

use crate::accounts::Account;
use crate::error::Internal;
use crate::store::Db;
use crate::types::{ClassId, SchoolId, UnixTime, UserId};

/// The class a reset is about.
pub(super) struct ClassRow {
    pub(super) school_id: SchoolId,
    pub(super) name: String,
}

pub(super) async fn find_class(db: &Db, class: &ClassId) -> Result<Option<ClassRow>, Internal> {
    let row = sqlx::query("SELECT school_id, name FROM classes WHERE id = $1")
        .bind(class.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.map(|row| {
        Ok(ClassRow {
            school_id: SchoolId::from_stored(row.try_get("school_id")?),
            name: row.try_get("name")?,
        })
    })
    .transpose()
}

/// The learners enrolled in a class, in the order of the class list (last
/// name, first name).
pub(super) async fn learners_of_class(db: &Db, class: &ClassId) -> Result<Vec<Account>, Internal> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT u.id FROM class_learners l JOIN users u ON u.id = l.user_id \
         WHERE l.class_id = $1 AND u.role = 'learner' \
         ORDER BY LOWER(u.last_name), LOWER(u.first_name), u.id",
    )
    .bind(class.as_str())
    .fetch_all(db.pool())
    .await?;
    let mut learners = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(account) = crate::accounts::find_account(db, &UserId::from_stored(id)).await? {
            learners.push(account);
        }
    }
    Ok(learners)
}

/// Holds the class for a reset until `until`, unless another reset holds it
/// now. One statement, so of two resets racing for it exactly one wins.
pub(super) async fn take_lease(
    db: &Db,
    class: &ClassId,
    now: UnixTime,
    until: UnixTime,
) -> Result<bool, Internal> {
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
pub(super) async fn end_lease_in(
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
pub(super) async fn end_lease(db: &Db, class: &ClassId, until: UnixTime) -> Result<(), Internal> {
    let mut conn = db.pool().acquire().await?;
    end_lease_in(&mut conn, class, until).await?;
    Ok(())
}
