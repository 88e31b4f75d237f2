//! SQL of learner passwords held by staff: the sealed copy's pointer and
//! origin on `users`, and the school's `learner_passwords_retrievable`.

use sqlx::{AnyConnection, Row};

use super::{LEARNER_PASSWORD_PURPOSE, PasswordState};
use crate::Ctx;
use crate::accounts::AccountStatus;
use crate::crypto::sealing::Sealer;
use crate::crypto::store::{insert_sealed, open_sealed};
use crate::error::Internal;
use crate::store::Db;
use crate::types::{Password, SchoolId, UserId};

/// Marks a password that `accounts::set_password` has just stored as set by
/// staff and, when `keep`, seals a copy of it. Call in the same transaction,
/// right after `set_password` (which destroyed any earlier copy).
pub(crate) async fn keep_staff_password(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    sealer: &Sealer,
    user: &UserId,
    password: &Password,
    keep: bool,
) -> Result<(), Internal> {
    let sealed_id = if keep {
        Some(
            insert_sealed(
                conn,
                ctx,
                sealer,
                user,
                LEARNER_PASSWORD_PURPOSE,
                password.expose(),
            )
            .await?,
        )
    } else {
        None
    };
    sqlx::query(
        "UPDATE users SET password_set_by = 'staff', password_sealed_id = $1 WHERE id = $2",
    )
    .bind(sealed_id)
    .bind(user.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
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
pub(super) async fn find_school_setting(
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
pub(super) async fn update_school_setting(
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

/// Destroys every sealed learner password of a school; returns how many.
pub(super) async fn destroy_school_copies(
    conn: &mut AnyConnection,
    school: &SchoolId,
) -> Result<u64, Internal> {
    sqlx::query(
        "DELETE FROM sealed_secrets WHERE id IN \
         (SELECT password_sealed_id FROM users WHERE school_id = $1 AND password_sealed_id IS NOT NULL)",
    )
    .bind(school.as_str())
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query(
        "UPDATE users SET password_sealed_id = NULL \
         WHERE school_id = $1 AND password_sealed_id IS NOT NULL",
    )
    .bind(school.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// The state of one user's password (`Private` for an unknown user).
pub(super) async fn password_state(db: &Db, user: &UserId) -> Result<PasswordState, Internal> {
    let row =
        sqlx::query("SELECT status, password_sealed_id, password_set_by FROM users WHERE id = $1")
            .bind(user.as_str())
            .fetch_optional(db.pool())
            .await?;
    let Some(row) = row else {
        return Ok(PasswordState::Private);
    };
    let status: String = row.try_get("status")?;
    let sealed: Option<String> = row.try_get("password_sealed_id")?;
    let set_by: Option<String> = row.try_get("password_set_by")?;
    Ok(PasswordState::of(
        AccountStatus::parse(&status).unwrap_or(AccountStatus::Active),
        sealed.is_some(),
        set_by.as_deref() == Some("staff"),
    ))
}

/// The plaintext of a user's sealed password, when one is kept.
pub(super) async fn open_learner_password(
    db: &Db,
    sealer: &Sealer,
    user: &UserId,
) -> Result<Option<String>, Internal> {
    let sealed_id: Option<Option<String>> =
        sqlx::query_scalar("SELECT password_sealed_id FROM users WHERE id = $1")
            .bind(user.as_str())
            .fetch_optional(db.pool())
            .await?;
    match sealed_id.flatten() {
        Some(id) => open_sealed(db.pool(), sealer, &id, user, LEARNER_PASSWORD_PURPOSE).await,
        None => Ok(None),
    }
}
