//! SQL of learner passwords held by staff: reading a password's state and
//! its sealed copy; keeping and destroying copies through the owners of
//! `users` (accounts), `sealed_secrets` (crypto) and `schools` (schools).

use sqlx::{AnyConnection, Row};

use super::{LEARNER_PASSWORD_PURPOSE, PasswordState};
use crate::Ctx;
use crate::accounts::{AccountStatus, SSO_COLUMNS, SsoSignIn, sso_only_from_row};
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
    crate::accounts::store::mark_set_by_staff(conn, user, sealed_id.as_deref()).await
}

/// Destroys every sealed learner password of a school; returns how many.
pub(super) async fn destroy_school_copies(
    conn: &mut AnyConnection,
    school: &SchoolId,
) -> Result<u64, Internal> {
    crate::accounts::store::lock_accounts_with_copies(conn, school).await?;
    crate::crypto::store::delete_sealed_passwords_of_school(conn, school).await?;
    crate::accounts::store::forget_sealed_passwords_of_school(conn, school).await
}

/// The state of one user's password (`Private` for an unknown user), with
/// the provider of an SSO-only user.
pub(super) async fn password_state(
    db: &Db,
    user: &UserId,
) -> Result<(PasswordState, Option<SsoSignIn>), Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT u.status, u.password_sealed_id, u.password_set_by, {SSO_COLUMNS} \
         FROM users u WHERE u.id = $1"
    ));
    let row = sqlx::query(sql)
        .bind(user.as_str())
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else {
        return Ok((PasswordState::Private, None));
    };
    let status: String = row.try_get("status")?;
    let sealed: Option<String> = row.try_get("password_sealed_id")?;
    let set_by: Option<String> = row.try_get("password_set_by")?;
    let sso = sso_only_from_row(&row)?;
    let state = PasswordState::of(
        AccountStatus::parse(&status).unwrap_or(AccountStatus::Active),
        sso.is_some(),
        sealed.is_some(),
        set_by.as_deref() == Some("staff"),
    );
    Ok((state, sso))
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
