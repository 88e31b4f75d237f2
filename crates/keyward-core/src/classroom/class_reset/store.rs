//! SQL of the whole-class reset: the lease on `classes.password_reset_until`
//! that keeps two resets of one class apart. (The class and its learners
//! come from the classroom and directory SQL.)

use sqlx::AnyConnection;

use crate::error::Internal;
use crate::store::Db;
use crate::types::{ClassId, UnixTime};

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
