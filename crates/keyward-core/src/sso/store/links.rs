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

/// Whether an account outside `school` (another school's, or a platform
/// admin's) has the email key `key`.
pub(crate) async fn email_used_outside_school(
    conn: &mut AnyConnection,
    school: &SchoolId,
    key: &str,
) -> Result<bool, Internal> {
    let row = sqlx::query(
        "SELECT 1 AS one FROM users WHERE email_key = $1 \
         AND (school_id IS NULL OR school_id <> $2) LIMIT 1",
    )
    .bind(key)
    .bind(school.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row
        .map(|r| r.try_get::<i64, _>("one"))
        .transpose()?
        .is_some())
}

// --- A person's links, and unlinking (issue 14.3; sso-ux) ---
// (Paths written out in full, so these functions bring no `use` of their
// own to a file that other work appends to.)

/// One link of a person, with its provider's display name.
pub(crate) struct LinkRow {
    pub provider_id: String,
    pub provider_name: String,
    pub linked_at: crate::types::UnixTime,
    pub last_used_at: Option<crate::types::UnixTime>,
}

/// Every link of `user`, by provider name.
pub(crate) async fn list_for_user(
    db: &crate::store::Db,
    user: &crate::types::UserId,
) -> Result<Vec<LinkRow>, crate::error::Internal> {
    use crate::types::UnixTime;
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT l.provider_id, p.name, l.linked_at, l.last_used_at \
         FROM sso_links l JOIN sso_providers p ON p.id = l.provider_id \
         WHERE l.user_id = $1 ORDER BY LOWER(p.name), l.provider_id",
    )
    .bind(user.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(LinkRow {
                provider_id: row.try_get("provider_id")?,
                provider_name: row.try_get("name")?,
                linked_at: UnixTime(row.try_get("linked_at")?),
                last_used_at: row.try_get::<Option<i64>, _>("last_used_at")?.map(UnixTime),
            })
        })
        .collect()
}

/// The link of `user` at `provider`, if there is one; in the caller's
/// transaction when it decides on it.
pub(crate) async fn link_of<'c, E: sqlx::Executor<'c, Database = sqlx::Any>>(
    conn: E,
    provider: &str,
    user: &crate::types::UserId,
) -> Result<Option<LinkRow>, crate::error::Internal> {
    use crate::types::UnixTime;
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT l.provider_id, p.name, l.linked_at, l.last_used_at \
         FROM sso_links l JOIN sso_providers p ON p.id = l.provider_id \
         WHERE l.provider_id = $1 AND l.user_id = $2",
    )
    .bind(provider)
    .bind(user.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(LinkRow {
            provider_id: row.try_get("provider_id")?,
            provider_name: row.try_get("name")?,
            linked_at: UnixTime(row.try_get("linked_at")?),
            last_used_at: row.try_get::<Option<i64>, _>("last_used_at")?.map(UnixTime),
        })
    })
    .transpose()
}

/// Removes the link of `user` at `provider`. `false` when there was none
/// (never made, or removed a moment ago by a parallel unlink): the DELETE
/// decides, so of parallel unlinks exactly one removes it.
pub(crate) async fn delete_link(
    conn: &mut sqlx::AnyConnection,
    provider: &str,
    user: &crate::types::UserId,
) -> Result<bool, crate::error::Internal> {
    let done = sqlx::query("DELETE FROM sso_links WHERE provider_id = $1 AND user_id = $2")
        .bind(provider)
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
