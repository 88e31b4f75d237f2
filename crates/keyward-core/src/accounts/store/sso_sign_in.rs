//! Reads of what single sign-on says about accounts (`sso_links`,
//! `sso_providers`, written by `sso`; read here so the layers below `sso`
//! can tell who signs in with a provider). Writes nothing.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::accounts::AccountStatus;
use crate::accounts::sso_sign_in::SsoSignIn;
use crate::error::Internal;
use crate::types::{SsoProviderId, UserId};

/// The provider the account `u` signs in with — the link used last, else the
/// first made — as `sso_provider_id` and `sso_provider_name` (both NULL
/// without a link), and `has_password` (1 or 0). One more column list for a
/// query on `users u`; read back with [`sso_link_from_row`] and
/// [`sso_only_from_row`].
pub(crate) const SSO_COLUMNS: &str = "\
    (SELECT l.provider_id FROM sso_links l WHERE l.user_id = u.id \
      ORDER BY COALESCE(l.last_used_at, l.linked_at) DESC, l.provider_id LIMIT 1) AS sso_provider_id, \
    (SELECT p.name FROM sso_links l JOIN sso_providers p ON p.id = l.provider_id WHERE l.user_id = u.id \
      ORDER BY COALESCE(l.last_used_at, l.linked_at) DESC, l.provider_id LIMIT 1) AS sso_provider_name, \
    CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS has_password";

/// The provider of a row holding [`SSO_COLUMNS`], whether or not the person
/// also has a password.
pub(crate) fn sso_link_from_row(row: &AnyRow) -> Result<Option<SsoSignIn>, Internal> {
    let id: Option<String> = row.try_get("sso_provider_id")?;
    let name: Option<String> = row.try_get("sso_provider_name")?;
    Ok(id.zip(name).map(|(id, provider_name)| SsoSignIn {
        provider_id: SsoProviderId::from_stored(id),
        provider_name,
    }))
}

/// The provider of a row holding [`SSO_COLUMNS`] and `u.status`, when the
/// person is SSO-only: active, linked, and without a keyward password.
pub(crate) fn sso_only_from_row(row: &AnyRow) -> Result<Option<SsoSignIn>, Internal> {
    let status: String = row.try_get("status")?;
    let has_password = row.try_get::<i64, _>("has_password")? != 0;
    if has_password || AccountStatus::parse(&status) != Some(AccountStatus::Active) {
        return Ok(None);
    }
    sso_link_from_row(row)
}

/// Whether `user` is SSO-only, and through which provider; in the caller's
/// transaction when it decides under the account's row lock.
pub(crate) async fn sso_only_of<'c, E: Executor<'c, Database = Any>>(
    conn: E,
    user: &UserId,
) -> Result<Option<SsoSignIn>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT u.status, {SSO_COLUMNS} FROM users u WHERE u.id = $1"
    ));
    let row = sqlx::query(sql)
        .bind(user.as_str())
        .fetch_optional(conn)
        .await?;
    match row {
        Some(row) => sso_only_from_row(&row),
        None => Ok(None),
    }
}

/// Whether `user` still has a way to sign in of their own: a keyward
/// password or a link to a provider (after an unlink, none may be left).
pub(crate) async fn has_way_in<'c, E: Executor<'c, Database = Any>>(
    conn: E,
    user: &UserId,
) -> Result<bool, Internal> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM users u WHERE u.id = $1 AND (u.password_hash IS NOT NULL \
         OR EXISTS (SELECT 1 FROM sso_links l WHERE l.user_id = u.id))",
    )
    .bind(user.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}
