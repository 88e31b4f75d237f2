//! SQL of `sso_links`: which subject at which provider is which person; and
//! the look-ups of an unlinked person in the provider's school (reading
//! `users`, which accounts owns).

use sqlx::{AnyConnection, Row};

use crate::accounts::Account;
use crate::accounts::store::{ACCOUNT_COLUMNS, account_from_row};
use crate::error::Internal;
use crate::sso::SsoProviderId;
use crate::types::{SchoolId, UnixTime, UserId};

/// The person linked to `subject` at `provider`.
pub(crate) async fn linked_user(
    conn: &mut AnyConnection,
    provider: &SsoProviderId,
    subject: &str,
) -> Result<Option<UserId>, Internal> {
    let id: Option<String> =
        sqlx::query_scalar("SELECT user_id FROM sso_links WHERE provider_id = $1 AND subject = $2")
            .bind(provider.as_str())
            .bind(subject)
            .fetch_optional(conn)
            .await?;
    Ok(id.map(UserId::from_stored))
}

/// Links `subject` at `provider` to `user` unless the subject, or the
/// person at this provider, is linked already (then nothing changes; the
/// caller reads the link back).
pub(crate) async fn link(
    conn: &mut AnyConnection,
    provider: &SsoProviderId,
    subject: &str,
    user: &UserId,
    now: UnixTime,
) -> Result<(), Internal> {
    sqlx::query(
        "INSERT INTO sso_links (provider_id, subject, user_id, linked_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING",
    )
    .bind(provider.as_str())
    .bind(subject)
    .bind(user.as_str())
    .bind(now.secs())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that a link signed someone in.
pub(crate) async fn touch(
    conn: &mut AnyConnection,
    provider: &SsoProviderId,
    subject: &str,
    now: UnixTime,
) -> Result<(), Internal> {
    sqlx::query("UPDATE sso_links SET last_used_at = $1 WHERE provider_id = $2 AND subject = $3")
        .bind(now.secs())
        .bind(provider.as_str())
        .bind(subject)
        .execute(conn)
        .await?;
    Ok(())
}

/// The accounts of `school` whose `column` (`email_key` or `username_key`)
/// is `key`: at most two, enough to tell one from many.
pub(crate) async fn accounts_in_school(
    conn: &mut AnyConnection,
    school: &SchoolId,
    column: MatchColumn,
    key: &str,
) -> Result<Vec<Account>, Internal> {
    let condition = match column {
        MatchColumn::EmailKey => "u.email_key = $2",
        MatchColumn::UsernameKey => "u.username_key = $2",
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM users u WHERE u.school_id = $1 AND {condition} \
         ORDER BY u.id LIMIT 2"
    ));
    let rows = sqlx::query(sql)
        .bind(school.as_str())
        .bind(key)
        .fetch_all(conn)
        .await?;
    rows.iter().map(account_from_row).collect()
}

/// Which column an unlinked person is matched on.
#[derive(Debug, Clone, Copy)]
pub(crate) enum MatchColumn {
    EmailKey,
    UsernameKey,
}

/// Whether a username key is taken (anywhere: usernames are unique).
pub(crate) async fn username_taken(conn: &mut AnyConnection, key: &str) -> Result<bool, Internal> {
    let row = sqlx::query("SELECT 1 AS one FROM users WHERE username_key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64, _>("one"))
        .transpose()?
        .is_some())
}
