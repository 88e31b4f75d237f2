//! SQL of "this wasn't me" alert tokens, and the reads recovery needs
//! (who to alert, accounts by what was typed). The requests themselves are
//! `accounts`' (see `accounts::store::recovery_requests`).

use sqlx::{AnyConnection, Row};

use crate::accounts::Account;
use crate::crypto::tokens::TokenDigest;
use crate::error::Internal;
use crate::store::Db;
use crate::types::Role;
use crate::types::{UnixTime, UserId};

pub(crate) struct AlertRow {
    pub used_at: Option<UnixTime>,
    pub expires_at: UnixTime,
}

pub(super) async fn find_alert(
    db: &Db,
    digest: &TokenDigest,
) -> Result<Option<AlertRow>, Internal> {
    let row =
        sqlx::query("SELECT used_at, expires_at FROM security_alert_tokens WHERE token_hash = $1")
            .bind(digest.as_str())
            .fetch_optional(db.pool())
            .await?;
    row.map(|row| {
        Ok(AlertRow {
            used_at: row.try_get::<Option<i64>, _>("used_at")?.map(UnixTime),
            expires_at: UnixTime(row.try_get("expires_at")?),
        })
    })
    .transpose()
}

pub(crate) async fn insert_alert(
    conn: &mut AnyConnection,
    digest: &TokenDigest,
    user_id: &UserId,
    now: UnixTime,
    expires_at: UnixTime,
) -> Result<(), Internal> {
    sqlx::query("INSERT INTO security_alert_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(digest.as_str())
        .bind(user_id.as_str())
        .bind(now.secs())
        .bind(expires_at.secs())
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks an alert token used and returns its user, once.
pub(super) async fn use_alert(
    conn: &mut AnyConnection,
    digest: &TokenDigest,
    now: UnixTime,
) -> Result<Option<UserId>, Internal> {
    let user: Option<String> = sqlx::query_scalar(
        "UPDATE security_alert_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING user_id",
    )
    .bind(now.secs())
    .bind(digest.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(user.map(UserId::from_stored))
}

/// Who to tell when someone says "this wasn't me": the lead teachers of the
/// account's school, or the platform admins for accounts without a school;
/// only those with an email address, never the account itself.
pub(super) async fn admins_to_alert(
    conn: &mut AnyConnection,
    account: &Account,
) -> Result<Vec<(UserId, String)>, Internal> {
    let rows = match &account.school_id {
        Some(school) => sqlx::query(
            "SELECT id, email FROM users WHERE school_id = $1 AND role = $2 AND status = 'active' \
                 AND email IS NOT NULL AND id <> $3 ORDER BY username_key LIMIT 20",
        )
        .bind(school.as_str())
        .bind(Role::LeadTeacher.as_str())
        .bind(account.id.as_str())
        .fetch_all(&mut *conn)
        .await?,
        None => Vec::new(),
    };
    let rows = if rows.is_empty() {
        sqlx::query(
            "SELECT id, email FROM users WHERE role = $1 AND status = 'active' AND email IS NOT NULL \
             AND id <> $2 ORDER BY username_key LIMIT 20",
        )
        .bind(Role::PlatformAdmin.as_str())
        .bind(account.id.as_str())
        .fetch_all(&mut *conn)
        .await?
    } else {
        rows
    };
    rows.iter()
        .map(|row| {
            Ok((
                UserId::from_stored(row.try_get("id")?),
                row.try_get("email")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Internal::from)
}

pub(super) async fn find_by_username_key(
    db: &Db,
    key: &str,
) -> Result<Option<(Account, bool)>, Internal> {
    crate::accounts::find_for_recovery(db, "u.username_key = $1", key)
        .await
        .map(|mut found| found.pop())
}

pub(super) async fn find_by_email_key(
    db: &Db,
    key: &str,
) -> Result<Vec<(Account, bool)>, Internal> {
    crate::accounts::find_for_recovery(db, "u.email_key = $1", key).await
}
