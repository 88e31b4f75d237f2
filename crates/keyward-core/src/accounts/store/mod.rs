//! SQL of accounts, sessions and throttle counters.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};

pub(super) mod actors;
pub(crate) mod recovery_requests;
pub(crate) mod sign_in_steps;
pub(crate) mod sso_sign_in;

use super::sessions::SessionId;
use super::{Account, AccountStatus};
use crate::Ctx;
use crate::crypto::tokens::TokenDigest;
use crate::error::Internal;
use crate::i18n::Locale;
use crate::store::Db;
use crate::types::Role;
use crate::types::{EmailAddress, SchoolId, SsoProviderId, UnixTime, UserId, Username};

/// The columns `account_from_row` reads, of `users u`.
pub(crate) const ACCOUNT_COLUMNS: &str = "u.id, u.school_id, u.role, u.username, u.email, u.first_name, \
     u.last_name, u.status, u.last_sign_in_at, u.password_hash, u.locale";

pub(super) struct Credentials {
    pub account: Account,
    pub password_hash: Option<String>,
    /// Set while the password is a temporary one from an administrator
    /// (R-ADM-3): it signs in until then, and must be replaced at once.
    pub must_change_by: Option<UnixTime>,
}

pub(super) struct FoundSession {
    pub account: Account,
    pub last_seen_at: UnixTime,
    pub expires_at: UnixTime,
    /// A second factor is on (read from the two-step tables).
    pub second_factor_on: bool,
    /// The roles the account's school requires a second factor of, as stored.
    pub school_mfa_roles: String,
    /// The password is a temporary one from an administrator (R-ADM-3),
    /// working until then.
    pub must_change_by: Option<UnixTime>,
    /// Opened through a school's provider whose second factor counts.
    pub mfa_at_provider: bool,
    /// Opened through a school's provider (`sessions.sso_provider_id`).
    pub via_sso: bool,
}

/// Counts the second factors the account `u` has on (the two-step module's
/// tables, read here).
pub(crate) const SECOND_FACTORS_ON: &str = "((SELECT COUNT(*) FROM mfa_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) \
      + (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = u.id))";

/// An account from a row holding [`ACCOUNT_COLUMNS`].
pub(crate) fn account_from_row(row: &AnyRow) -> Result<Account, Internal> {
    let role: String = row.try_get("role")?;
    let status: String = row.try_get("status")?;
    Ok(Account {
        id: UserId::from_stored(row.try_get("id")?),
        school_id: row
            .try_get::<Option<String>, _>("school_id")?
            .map(SchoolId::from_stored),
        role: Role::parse(&role)
            .ok_or_else(|| Internal::new(format!("unknown role {role:?} in users")))?,
        username: Username::from_stored(row.try_get("username")?),
        email: row
            .try_get::<Option<String>, _>("email")?
            .map(EmailAddress::from_stored),
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        status: AccountStatus::parse(&status)
            .ok_or_else(|| Internal::new(format!("unknown status {status:?} in users")))?,
        last_sign_in_at: row
            .try_get::<Option<i64>, _>("last_sign_in_at")?
            .map(UnixTime),
        // A value no longer spoken is as if none were chosen.
        locale: row
            .try_get::<Option<String>, _>("locale")?
            .and_then(|code| Locale::parse(&code)),
    })
}

pub(super) async fn find_credentials_by_username_key(
    db: &Db,
    username_key: &str,
) -> Result<Option<Credentials>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS}, u.password_must_change_by FROM users u WHERE u.username_key = $1"
    ));
    let row = sqlx::query(sql)
        .bind(username_key)
        .fetch_optional(db.pool())
        .await?;
    row.map(|row| {
        Ok(Credentials {
            account: account_from_row(&row)?,
            password_hash: row.try_get("password_hash")?,
            must_change_by: row
                .try_get::<Option<i64>, _>("password_must_change_by")?
                .map(UnixTime),
        })
    })
    .transpose()
}

pub(super) async fn record_sign_in(
    conn: &mut AnyConnection,
    user_id: &UserId,
    now: UnixTime,
    new_hash: Option<&str>,
) -> Result<(), Internal> {
    match new_hash {
        Some(hash) => {
            sqlx::query("UPDATE users SET last_sign_in_at = $1, password_hash = $2 WHERE id = $3")
                .bind(now.secs())
                .bind(hash)
                .bind(user_id.as_str())
                .execute(conn)
                .await?
        }
        None => {
            sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
                .bind(now.secs())
                .bind(user_id.as_str())
                .execute(conn)
                .await?
        }
    };
    Ok(())
}

/// Replaces an account's password hash with one made with the current
/// parameters (the same password, re-hashed at sign-in).
pub(super) async fn upgrade_hash(
    conn: &mut AnyConnection,
    user_id: &UserId,
    hash: &str,
) -> Result<(), Internal> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user_id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// How a new session was proved, as its row records it: the provider it
/// was opened through (none for a password or a passkey), and whether that
/// provider's second factor counts.
#[derive(Debug, Clone, Copy, Default)]
pub(in crate::accounts) struct SessionVia<'a> {
    pub provider: Option<&'a SsoProviderId>,
    pub mfa_at_provider: bool,
}

pub(super) async fn insert_session(
    conn: &mut AnyConnection,
    digest: &TokenDigest,
    user_id: &UserId,
    ctx: &Ctx<'_>,
    expires_at: UnixTime,
    sso: SessionVia<'_>,
) -> Result<(), Internal> {
    // The id the list of sessions and the API name it by (never the digest).
    let public_id = SessionId::generate(ctx.rng)?;
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, client_addr, user_agent, public_id, mfa_at_provider, sso_provider_id) \
         VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(digest.as_str())
    .bind(user_id.as_str())
    .bind(ctx.now.secs())
    .bind(expires_at.secs())
    .bind(ctx.client_addr.as_deref())
    .bind(ctx.user_agent.as_deref())
    .bind(public_id.as_str())
    .bind(i64::from(sso.mfa_at_provider))
    .bind(sso.provider.map(|p| p.as_str()))
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn find_session(
    db: &Db,
    digest: &TokenDigest,
) -> Result<Option<FoundSession>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS}, s.last_seen_at, s.expires_at, s.mfa_at_provider, \
           s.sso_provider_id, \
           {SECOND_FACTORS_ON} AS second_factors_on, \
           COALESCE((SELECT sc.mfa_required_roles FROM schools sc WHERE sc.id = u.school_id), '') \
             AS school_mfa_roles, u.password_must_change_by \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1"
    ));
    let row = sqlx::query(sql)
        .bind(digest.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.map(|row| {
        Ok(FoundSession {
            account: account_from_row(&row)?,
            last_seen_at: UnixTime(row.try_get("last_seen_at")?),
            expires_at: UnixTime(row.try_get("expires_at")?),
            second_factor_on: row.try_get::<i64, _>("second_factors_on")? > 0,
            school_mfa_roles: row.try_get("school_mfa_roles")?,
            must_change_by: row
                .try_get::<Option<i64>, _>("password_must_change_by")?
                .map(UnixTime),
            mfa_at_provider: row.try_get::<i64, _>("mfa_at_provider")? != 0,
            via_sso: row
                .try_get::<Option<String>, _>("sso_provider_id")?
                .is_some(),
        })
    })
    .transpose()
}

/// Whether the account has a second factor on, the roles its school
/// requires one of (as stored), and whether its password is a temporary one:
/// what a session's holds are made of, for a caller without a session (an
/// API token).
pub(super) async fn hold_facts(db: &Db, user: &UserId) -> Result<(bool, String, bool), Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {SECOND_FACTORS_ON} AS second_factors_on, \
           COALESCE((SELECT sc.mfa_required_roles FROM schools sc WHERE sc.id = u.school_id), '') \
             AS school_mfa_roles, u.password_must_change_by \
         FROM users u WHERE u.id = $1"
    ));
    let row = sqlx::query(sql)
        .bind(user.as_str())
        .fetch_optional(db.pool())
        .await?;
    match row {
        Some(row) => Ok((
            row.try_get::<i64, _>("second_factors_on")? > 0,
            row.try_get("school_mfa_roles")?,
            row.try_get::<Option<i64>, _>("password_must_change_by")?
                .is_some(),
        )),
        None => Ok((false, String::new(), false)),
    }
}

/// Whether the account has a second factor on, the roles its school
/// requires one of (as stored), and whether it has a keyward password: who
/// could enrol at all, read in the caller's transaction.
pub(super) async fn enrolment_facts(
    conn: &mut sqlx::AnyConnection,
    user: &UserId,
) -> Result<(bool, String, bool), Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {SECOND_FACTORS_ON} AS second_factors_on, \
           COALESCE((SELECT sc.mfa_required_roles FROM schools sc WHERE sc.id = u.school_id), '') \
             AS school_mfa_roles, \
           CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS has_password \
         FROM users u WHERE u.id = $1"
    ));
    let row = sqlx::query(sql)
        .bind(user.as_str())
        .fetch_optional(conn)
        .await?;
    match row {
        Some(row) => Ok((
            row.try_get::<i64, _>("second_factors_on")? > 0,
            row.try_get("school_mfa_roles")?,
            row.try_get::<i64, _>("has_password")? > 0,
        )),
        None => Ok((false, String::new(), false)),
    }
}

pub(super) async fn touch_session(
    db: &Db,
    digest: &TokenDigest,
    now: UnixTime,
) -> Result<(), Internal> {
    let _turn = db.write_turn().await?;
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(now.secs())
        .bind(digest.as_str())
        .execute(db.pool())
        .await?;
    Ok(())
}

pub(super) async fn delete_session<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    digest: &TokenDigest,
) -> Result<(), Internal> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(digest.as_str())
        .execute(exec)
        .await?;
    Ok(())
}

/// A new account row. The password hash is optional: pending accounts have none.
pub(crate) struct NewUser<'a> {
    pub id: &'a UserId,
    pub school_id: Option<&'a SchoolId>,
    pub role: Role,
    pub username: &'a Username,
    pub email: Option<&'a EmailAddress>,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub status: AccountStatus,
    pub password_hash: Option<&'a str>,
    pub created_at: UnixTime,
}

/// Inserts an account. A taken username surfaces as a unique violation, which
/// callers turn into a clear "taken" answer (no check-then-insert race).
pub(crate) async fn insert_user<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    user: &NewUser<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, school_id, role, username, username_key, email, email_key, first_name, \
         last_name, status, password_hash, password_changed_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(user.id.as_str())
    .bind(user.school_id.map(|s| s.as_str()))
    .bind(user.role.as_str())
    .bind(user.username.as_str())
    .bind(user.username.key())
    .bind(user.email.map(|e| e.as_str()))
    .bind(user.email.map(|e| e.key()))
    .bind(user.first_name)
    .bind(user.last_name)
    .bind(user.status.as_str())
    .bind(user.password_hash)
    .bind(user.password_hash.map(|_| user.created_at.secs()))
    .bind(user.created_at.secs())
    .execute(exec)
    .await?;
    Ok(())
}

/// A throttle counter as it stands.
pub(super) struct Counter {
    pub failures: i64,
    pub last_failure_at: i64,
    pub blocked_until: i64,
}

/// Reads a counter and locks its row until the transaction ends (a new
/// counter is created unlocked-then-locked in the same statement). On
/// PostgreSQL the no-op `DO UPDATE` takes the row lock and returns the newest
/// committed values, so parallel reservations of one key queue here; on
/// SQLite the writer transaction already excludes every other writer.
pub(super) async fn throttle_lock(
    conn: &mut AnyConnection,
    key: &str,
    now: UnixTime,
) -> Result<Counter, Internal> {
    let row = sqlx::query(
        "INSERT INTO throttle (key, failures, last_failure_at, blocked_until) VALUES ($1, 0, $2, 0) \
         ON CONFLICT (key) DO UPDATE SET failures = throttle.failures \
         RETURNING failures, last_failure_at, blocked_until",
    )
    .bind(key)
    .bind(now.secs())
    .fetch_one(conn)
    .await?;
    Ok(Counter {
        failures: row.try_get("failures")?,
        last_failure_at: row.try_get("last_failure_at")?,
        blocked_until: row.try_get("blocked_until")?,
    })
}

/// Writes a counter locked by `throttle_lock`.
pub(super) async fn throttle_set(
    conn: &mut AnyConnection,
    key: &str,
    failures: i64,
    now: UnixTime,
    blocked_until: UnixTime,
) -> Result<(), Internal> {
    sqlx::query(
        "UPDATE throttle SET failures = $1, last_failure_at = $2, blocked_until = $3 WHERE key = $4",
    )
    .bind(failures)
    .bind(now.secs())
    .bind(blocked_until.secs())
    .bind(key)
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives one counted attempt back; a counter back within its free failures
/// is no longer blocked.
pub(super) async fn throttle_refund(
    conn: &mut AnyConnection,
    key: &str,
    free_failures: u32,
) -> Result<(), Internal> {
    sqlx::query(
        "UPDATE throttle SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END, \
         blocked_until = CASE WHEN failures - 1 <= $1 THEN 0 ELSE blocked_until END WHERE key = $2",
    )
    .bind(i64::from(free_failures))
    .bind(key)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes one unit of a fixed-window quota (for example recovery requests per
/// address per hour) in one atomic statement and returns how many were taken
/// in the current window, this one included; a window that started before
/// `window_start_before` starts again.
pub(super) async fn quota_take<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    key: &str,
    now: UnixTime,
    window_start_before: UnixTime,
) -> Result<i64, Internal> {
    let taken: i64 = sqlx::query_scalar(
        "INSERT INTO throttle (key, failures, last_failure_at, blocked_until) VALUES ($1, 1, $2, 0) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN throttle.last_failure_at < $3 THEN 1 ELSE throttle.failures + 1 END, \
           last_failure_at = CASE WHEN throttle.last_failure_at < $3 THEN $2 ELSE throttle.last_failure_at END \
         RETURNING failures",
    )
    .bind(key)
    .bind(now.secs())
    .bind(window_start_before.secs())
    .fetch_one(exec)
    .await?;
    Ok(taken)
}

pub(super) async fn throttle_clear<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    key: &str,
) -> Result<(), Internal> {
    sqlx::query("DELETE FROM throttle WHERE key = $1")
        .bind(key)
        .execute(exec)
        .await?;
    Ok(())
}

pub(crate) async fn find_account(db: &Db, id: &UserId) -> Result<Option<Account>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM users u WHERE u.id = $1"
    ));
    let row = sqlx::query(sql)
        .bind(id.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(account_from_row).transpose()
}

pub(crate) async fn find_account_in(
    conn: &mut AnyConnection,
    id: &UserId,
) -> Result<Option<Account>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM users u WHERE u.id = $1"
    ));
    let row = sqlx::query(sql)
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(account_from_row).transpose()
}

/// Accounts matching one condition on `u` (for example `u.email_key = $1`),
/// with whether each was created by its owner. At most 10.
pub(crate) async fn find_for_recovery(
    db: &Db,
    condition: &'static str,
    value: &str,
) -> Result<Vec<(Account, bool)>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS}, u.created_by_owner FROM users u WHERE {condition} ORDER BY u.username_key LIMIT 10"
    ));
    let rows = sqlx::query(sql).bind(value).fetch_all(db.pool()).await?;
    rows.iter()
        .map(|row| {
            Ok((
                account_from_row(row)?,
                row.try_get::<i64, _>("created_by_owner")? != 0,
            ))
        })
        .collect()
}

/// Replaces a password hash. Every path that sets a password goes through
/// here, so every open reset link of the account stops working with it, and
/// a sealed copy of the old password (R-TCH-4) is destroyed: the new one
/// counts as the owner's own until staff keep a copy of it
/// (`classroom::passwords`).
pub(crate) async fn set_password(
    conn: &mut AnyConnection,
    user_id: &UserId,
    hash: &str,
    now: UnixTime,
) -> Result<(), Internal> {
    // The account's row first: a change of this password that is still
    // being written (a staff reset sealing a copy) commits before we go on,
    // so the copy deleted next is the current one. Reading the copy's id
    // before that would find the old one (or none) and leave the new copy
    // behind without the password it copies.
    sqlx::query("UPDATE users SET status = status WHERE id = $1")
        .bind(user_id.as_str())
        .execute(&mut *conn)
        .await?;
    // A sealed copy belongs to the password it copies: it goes with it.
    crate::crypto::store::delete_sealed_password_of(conn, user_id).await?;
    // A new password is no longer a temporary one (R-ADM-3): whoever set
    // it, the flag goes; an administrator's temporary password sets it again
    // right after (`mark_temporary_password`).
    sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2, \
         password_sealed_id = NULL, password_set_by = NULL, password_must_change_by = NULL \
         WHERE id = $3",
    )
    .bind(hash)
    .bind(now.secs())
    .bind(user_id.as_str())
    .execute(&mut *conn)
    .await?;
    recovery_requests::end_open_requests(
        conn,
        user_id,
        recovery_requests::ended::PASSWORD_CHANGED,
        now,
    )
    .await
}

/// Marks the password that `set_password` has just stored as a temporary
/// one from an administrator (R-ADM-3): it signs in until `by`, and the
/// session it opens must replace it before anything else.
pub(crate) async fn mark_temporary_password(
    conn: &mut AnyConnection,
    user_id: &UserId,
    by: UnixTime,
) -> Result<(), Internal> {
    sqlx::query("UPDATE users SET password_must_change_by = $1 WHERE id = $2")
        .bind(by.secs())
        .bind(user_id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// The status and last sign-in of an account, read under the account's row
/// (a no-op UPDATE takes the row lock on PostgreSQL; SQLite's writer is
/// already alone), so an administrator's action decides on what it changes.
pub(crate) async fn lock_account(
    conn: &mut AnyConnection,
    user_id: &UserId,
) -> Result<Option<Account>, Internal> {
    sqlx::query("UPDATE users SET status = status WHERE id = $1")
        .bind(user_id.as_str())
        .execute(&mut *conn)
        .await?;
    find_account_in(conn, user_id).await
}

/// The email address of an active account, read under the account's row
/// (a no-op UPDATE takes the row lock on PostgreSQL; SQLite's writer is
/// already alone), so a change made in the same transaction knows the address
/// it replaces even when two changes race. `None`: no such active account.
pub(crate) async fn lock_email(
    conn: &mut AnyConnection,
    user_id: &UserId,
) -> Result<Option<Option<EmailAddress>>, Internal> {
    let row = sqlx::query(
        "UPDATE users SET email = email WHERE id = $1 AND status = 'active' RETURNING email",
    )
    .bind(user_id.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(row
            .try_get::<Option<String>, _>("email")?
            .map(EmailAddress::from_stored))
    })
    .transpose()
}

/// Replaces an account's email address (and its comparison key).
pub(crate) async fn set_email(
    conn: &mut AnyConnection,
    user_id: &UserId,
    email: &EmailAddress,
) -> Result<(), Internal> {
    sqlx::query("UPDATE users SET email = $1, email_key = $2 WHERE id = $3")
        .bind(email.as_str())
        .bind(email.key())
        .bind(user_id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends the sessions of a user, except one (the session that made the change),
/// and every sign-in of theirs still waiting for its second step.
pub(crate) async fn end_sessions(
    conn: &mut AnyConnection,
    user_id: &UserId,
    except: Option<&TokenDigest>,
) -> Result<(), Internal> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user_id.as_str())
        .bind(except.map(TokenDigest::as_str).unwrap_or(""))
        .execute(&mut *conn)
        .await?;
    // A sign-in halfway through (its password right, its second step to
    // come) ends with the sessions: a new password must shut it out too.
    sign_in_steps::delete_steps_of(conn, user_id).await
}

/// A live session of a user as Account Settings lists it.
pub(super) struct LiveSession {
    pub id: SessionId,
    pub created_at: UnixTime,
    pub last_seen_at: UnixTime,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
    /// The session behind `current` (the caller's own).
    pub current: bool,
}

/// The condition of a session that still works at `$2` (not past its
/// absolute expiry) and was used after `$3` (its idle timeout not passed).
const LIVE: &str = "expires_at > $2 AND last_seen_at > $3";

/// Ends every session opened through `provider` (the provider was
/// removed), in the caller's transaction; returns how many went.
pub(crate) async fn end_sessions_of_provider(
    conn: &mut AnyConnection,
    provider: &SsoProviderId,
) -> Result<u64, Internal> {
    let done = sqlx::query("DELETE FROM sessions WHERE sso_provider_id = $1")
        .bind(provider.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// The live sessions of a user, newest use first.
pub(super) async fn live_sessions(
    db: &Db,
    user_id: &UserId,
    now: UnixTime,
    idle_before: UnixTime,
    current: &TokenDigest,
) -> Result<Vec<LiveSession>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT id_hash, public_id, created_at, last_seen_at, client_addr, user_agent \
         FROM sessions WHERE user_id = $1 AND {LIVE} AND public_id IS NOT NULL \
         ORDER BY last_seen_at DESC, created_at DESC, public_id"
    ));
    let rows = sqlx::query(sql)
        .bind(user_id.as_str())
        .bind(now.secs())
        .bind(idle_before.secs())
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            let id_hash: String = row.try_get("id_hash")?;
            Ok(LiveSession {
                id: SessionId::from_stored(row.try_get("public_id")?),
                created_at: UnixTime(row.try_get("created_at")?),
                last_seen_at: UnixTime(row.try_get("last_seen_at")?),
                client_addr: row.try_get("client_addr")?,
                user_agent: row.try_get("user_agent")?,
                current: id_hash == current.as_str(),
            })
        })
        .collect()
}

/// Claims one live session of a user by its public id: deletes it and says
/// whether it was the `current` one; `None` when no live session of this
/// user has that id (another user's, ended meanwhile, or unknown). Of many
/// parallel claims of one session exactly one deletes it.
pub(super) async fn delete_live_session(
    conn: &mut AnyConnection,
    user_id: &UserId,
    id: &SessionId,
    now: UnixTime,
    idle_before: UnixTime,
    current: &TokenDigest,
) -> Result<Option<bool>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "DELETE FROM sessions WHERE user_id = $1 AND {LIVE} AND public_id = $4 RETURNING id_hash"
    ));
    let id_hash: Option<String> = sqlx::query_scalar(sql)
        .bind(user_id.as_str())
        .bind(now.secs())
        .bind(idle_before.secs())
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(id_hash.map(|hash| hash == current.as_str()))
}

/// Deletes every live session of a user but `keep`, returning how many it
/// ended. Dead ones are left to the purge.
pub(super) async fn delete_other_live_sessions(
    conn: &mut AnyConnection,
    user_id: &UserId,
    now: UnixTime,
    idle_before: UnixTime,
    keep: &TokenDigest,
) -> Result<u64, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "DELETE FROM sessions WHERE user_id = $1 AND {LIVE} AND id_hash <> $4"
    ));
    let done = sqlx::query(sql)
        .bind(user_id.as_str())
        .bind(now.secs())
        .bind(idle_before.secs())
        .bind(keep.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes up to `limit` sessions that no longer work: past their absolute
/// expiry, or unused since `idle_before` (their idle timeout has passed).
/// Returns how many. The condition is repeated outside the sub-select so a
/// session touched meanwhile is kept (PostgreSQL re-checks it on the row).
pub(crate) async fn delete_expired_sessions(
    conn: &mut AnyConnection,
    now: UnixTime,
    idle_before: UnixTime,
    limit: i64,
) -> Result<u64, Internal> {
    let done = sqlx::query(
        "DELETE FROM sessions WHERE id_hash IN \
           (SELECT id_hash FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2 LIMIT $3) \
         AND (expires_at <= $1 OR last_seen_at <= $2)",
    )
    .bind(now.secs())
    .bind(idle_before.secs())
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes up to `limit` throttle counters that count for nothing any more:
/// no failure since `forget_before` (so the next failure would start again
/// at one) and no delay still running at `now`. Returns how many.
pub(crate) async fn delete_stale_throttle_rows(
    conn: &mut AnyConnection,
    now: UnixTime,
    forget_before: UnixTime,
    limit: i64,
) -> Result<u64, Internal> {
    // Second-factor counters (`mfa:…`) are remembered for a day.
    let second_factor_before = forget_before.min(now.minus(super::throttle::SECOND_FACTOR_KEEP));
    let done = sqlx::query(
        "DELETE FROM throttle WHERE key IN \
           (SELECT key FROM throttle WHERE blocked_until <= $2 AND \
              ((key NOT LIKE 'mfa:%' AND last_failure_at < $1) OR last_failure_at < $4) \
            LIMIT $3) \
         AND blocked_until <= $2 \
         AND ((key NOT LIKE 'mfa:%' AND last_failure_at < $1) OR last_failure_at < $4)",
    )
    .bind(forget_before.secs())
    .bind(now.secs())
    .bind(limit)
    .bind(second_factor_before.secs())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Gives a pending account its chosen username, email and password. A taken
/// username surfaces as a unique violation.
pub(crate) async fn activate_user(
    conn: &mut AnyConnection,
    user: &UserId,
    username: &Username,
    email: Option<&EmailAddress>,
    hash: &str,
    now: UnixTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET username = $1, username_key = $2, email = COALESCE($3, email), \
         email_key = COALESCE($4, email_key), password_hash = $5, password_changed_at = $6, \
         status = 'active', created_by_owner = 1 WHERE id = $7 AND status = 'pending'",
    )
    .bind(username.as_str())
    .bind(username.key())
    .bind(email.map(EmailAddress::as_str))
    .bind(email.map(EmailAddress::key))
    .bind(hash)
    .bind(now.secs())
    .bind(user.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn mark_created_by_owner(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<(), Internal> {
    sqlx::query("UPDATE users SET created_by_owner = 1 WHERE id = $1")
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks a password that `set_password` has just stored as set by staff,
/// with the id of its sealed copy when the school keeps one.
pub(crate) async fn mark_set_by_staff(
    conn: &mut AnyConnection,
    user: &UserId,
    sealed_id: Option<&str>,
) -> Result<(), Internal> {
    sqlx::query(
        "UPDATE users SET password_set_by = 'staff', password_sealed_id = $1 WHERE id = $2",
    )
    .bind(sealed_id)
    .bind(user.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes the rows of a school's accounts that hold a sealed copy of their
/// password, before the copies are deleted: every writer of a password and
/// its copy takes the account's row first (`set_password`), so none of them
/// waits on a copy this holds while holding a row this needs.
pub(crate) async fn lock_accounts_with_copies(
    conn: &mut AnyConnection,
    school: &SchoolId,
) -> Result<(), Internal> {
    sqlx::query(
        "UPDATE users SET password_sealed_id = password_sealed_id \
         WHERE school_id = $1 AND password_sealed_id IS NOT NULL",
    )
    .bind(school.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets the sealed copies of a school's passwords (their rows are deleted
/// by `crypto::store::delete_sealed_passwords_of_school` first); returns how
/// many accounts had one.
pub(crate) async fn forget_sealed_passwords_of_school(
    conn: &mut AnyConnection,
    school: &SchoolId,
) -> Result<u64, Internal> {
    let done = sqlx::query(
        "UPDATE users SET password_sealed_id = NULL \
         WHERE school_id = $1 AND password_sealed_id IS NOT NULL",
    )
    .bind(school.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Disables an account unless it is disabled already; says whether it did.
/// The conditional UPDATE decides between parallel requests: one disables.
pub(crate) async fn disable_user(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<bool, Internal> {
    let done =
        sqlx::query("UPDATE users SET status = 'disabled' WHERE id = $1 AND status <> 'disabled'")
            .bind(user.as_str())
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Enables a disabled account: `active` when it has a password, else
/// `pending` (its owner needs a new access code). `None` when the account
/// was not disabled.
pub(crate) async fn enable_user(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<Option<AccountStatus>, Internal> {
    let status: Option<String> = sqlx::query_scalar(
        "UPDATE users SET status = CASE WHEN password_hash IS NULL THEN 'pending' ELSE 'active' END \
         WHERE id = $1 AND status = 'disabled' RETURNING status",
    )
    .bind(user.as_str())
    .fetch_optional(conn)
    .await?;
    status
        .map(|s| {
            AccountStatus::parse(&s).ok_or_else(|| Internal::new(format!("unknown status {s:?}")))
        })
        .transpose()
}

/// Stores the language a person chose (`None`: follow the browser).
pub(crate) async fn set_locale(
    db: &Db,
    user_id: &UserId,
    locale: Option<Locale>,
) -> Result<(), Internal> {
    let _turn = db.write_turn().await?;
    sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
        .bind(locale.map(Locale::code))
        .bind(user_id.as_str())
        .execute(db.pool())
        .await?;
    Ok(())
}
