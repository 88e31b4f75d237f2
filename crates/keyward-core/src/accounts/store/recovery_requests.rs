//! SQL of recovery requests (`recovery_requests`): one row per **Forgot
//! password?** request, its minted link and code (hashes only), its tries and
//! how it ended. Owned here, beside the account's other credentials, because
//! a sign-in and every password change end the open requests in their own
//! transaction; the recovery capability calls these.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::Ctx;
use crate::crypto::tokens::{Token, TokenDigest};
use crate::error::Internal;
use crate::store::Db;
use crate::types::{UnixTime, UserId};

/// Why a request row ended. Stored as text.
pub mod ended {
    pub const USED: &str = "used";
    pub const SUPERSEDED: &str = "superseded";
    pub const SIGNED_IN: &str = "signed_in";
    pub const PASSWORD_CHANGED: &str = "password_changed";
    /// The account's email address changed: a link sent to the old one stops.
    pub const EMAIL_CHANGED: &str = "email_changed";
    pub const NO_ACCOUNT: &str = "no_account";
    pub const NO_EMAIL: &str = "no_email";
    pub const INELIGIBLE: &str = "ineligible";
    pub const NOT_ME: &str = "not_me";
    /// An admin disabled the account.
    pub const ACCOUNT_DISABLED: &str = "account_disabled";
    /// Over the per-address or per-account limit: no email, but the row
    /// exists, so the code page answers as it does for any other request.
    pub const THROTTLED: &str = "throttled";
    /// The person signs in only with their school's provider: the email
    /// sends them there, with no link or code (issue 14).
    pub const SSO_ONLY: &str = "sso_only";
}

/// A recovery request as stored.
#[derive(Debug, Clone)]
pub(crate) struct RequestRow {
    pub id: String,
    pub user_id: Option<UserId>,
    pub created_at: UnixTime,
    pub token_hash: Option<String>,
    pub link_expires_at: Option<UnixTime>,
    pub code_hash: Option<String>,
    pub code_expires_at: Option<UnixTime>,
    pub ended_at: Option<UnixTime>,
    pub ended_reason: Option<String>,
    /// The digest of what was typed to name the account (`None` on requests
    /// made before it was recorded).
    pub subject_key: Option<String>,
}

impl RequestRow {
    pub fn token_digest(&self) -> TokenDigest {
        TokenDigest(self.token_hash.clone().unwrap_or_default())
    }
}

const REQUEST_COLUMNS: &str = "id, user_id, created_at, token_hash, link_expires_at, code_hash, \
     code_expires_at, ended_at, ended_reason, subject_key";

fn request_from_row(row: &AnyRow) -> Result<RequestRow, Internal> {
    Ok(RequestRow {
        id: row.try_get("id")?,
        user_id: row
            .try_get::<Option<String>, _>("user_id")?
            .map(UserId::from_stored),
        created_at: UnixTime(row.try_get("created_at")?),
        token_hash: row.try_get("token_hash")?,
        link_expires_at: row
            .try_get::<Option<i64>, _>("link_expires_at")?
            .map(UnixTime),
        code_hash: row.try_get("code_hash")?,
        code_expires_at: row
            .try_get::<Option<i64>, _>("code_expires_at")?
            .map(UnixTime),
        ended_at: row.try_get::<Option<i64>, _>("ended_at")?.map(UnixTime),
        ended_reason: row.try_get("ended_reason")?,
        subject_key: row.try_get("subject_key")?,
    })
}

/// Writes a request row and returns its id. `ended` marks rows that can never
/// become a link (no account, no email, not eligible).
/// One **Forgot password?** request as the browser made it: its handle and
/// the digest of what was typed to name the account.
pub(crate) struct Asked<'a> {
    pub handle: &'a Token,
    pub subject_key: &'a str,
}

pub(crate) async fn insert_request(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    asked: &Asked<'_>,
    user_id: Option<&UserId>,
    ended: Option<&'static str>,
) -> Result<String, Internal> {
    let id = UserId::generate(ctx.rng)?.to_string();
    sqlx::query(
        "INSERT INTO recovery_requests (id, handle_hash, user_id, client_addr, created_at, ended_at, ended_reason, subject_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(asked.handle.digest().as_str())
    .bind(user_id.map(UserId::as_str))
    .bind(ctx.client_addr.as_deref())
    .bind(ctx.now.secs())
    .bind(ended.map(|_| ctx.now.secs()))
    .bind(ended)
    .bind(asked.subject_key)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Requests of one account in the window that led to an email.
pub(crate) async fn count_mailed_requests_for(
    conn: &mut AnyConnection,
    user_id: &UserId,
    since: UnixTime,
) -> Result<i64, Internal> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM recovery_requests WHERE user_id = $1 AND created_at > $2 \
         AND (ended_reason IS NULL OR ended_reason NOT IN ('no_email', 'no_account', 'throttled'))",
    )
    .bind(user_id.as_str())
    .bind(since.secs())
    .fetch_one(conn)
    .await?;
    Ok(count)
}

/// Ends every open request of a user (a newer link, a sign-in, a password
/// change, "this wasn't me"): their links and codes stop working.
pub(crate) async fn end_open_requests(
    conn: &mut AnyConnection,
    user_id: &UserId,
    reason: &'static str,
    now: UnixTime,
) -> Result<(), Internal> {
    sqlx::query(
        "UPDATE recovery_requests SET ended_at = $1, ended_reason = $2 WHERE user_id = $3 AND ended_at IS NULL",
    )
    .bind(now.secs())
    .bind(reason)
    .bind(user_id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn find_by_token(
    db: &Db,
    digest: &TokenDigest,
) -> Result<Option<RequestRow>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {REQUEST_COLUMNS} FROM recovery_requests WHERE token_hash = $1"
    ));
    let row = sqlx::query(sql)
        .bind(digest.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(request_from_row).transpose()
}

/// The requests made with one browser handle, newest first.
pub(crate) async fn find_by_handle(
    db: &Db,
    digest: &TokenDigest,
) -> Result<Vec<RequestRow>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {REQUEST_COLUMNS} FROM recovery_requests WHERE handle_hash = $1 ORDER BY created_at DESC, id LIMIT 10"
    ));
    let rows = sqlx::query(sql)
        .bind(digest.as_str())
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(request_from_row).collect()
}

pub(crate) async fn find_open_request(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<RequestRow>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {REQUEST_COLUMNS} FROM recovery_requests WHERE id = $1 AND ended_at IS NULL"
    ));
    let row = sqlx::query(sql).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(request_from_row).transpose()
}

/// Stores the hashes of a freshly minted link token and code.
pub(crate) async fn store_minted(
    conn: &mut AnyConnection,
    id: &str,
    token: &TokenDigest,
    link_expires_at: UnixTime,
    code_hash: &str,
    code_expires_at: UnixTime,
) -> Result<bool, Internal> {
    let done = sqlx::query(
        "UPDATE recovery_requests SET token_hash = $1, link_expires_at = $2, code_hash = $3, \
         code_expires_at = $4 WHERE id = $5 AND ended_at IS NULL",
    )
    .bind(token.as_str())
    .bind(link_expires_at.secs())
    .bind(code_hash)
    .bind(code_expires_at.secs())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Uses a link up; false when it was used or ended a moment ago, or expired.
pub(crate) async fn use_up(
    conn: &mut AnyConnection,
    id: &str,
    now: UnixTime,
) -> Result<bool, Internal> {
    let done = sqlx::query(
        "UPDATE recovery_requests SET ended_at = $1, ended_reason = $2 \
         WHERE id = $3 AND ended_at IS NULL AND link_expires_at > $1",
    )
    .bind(now.secs())
    .bind(ended::USED)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Swaps a correct code for a fresh link token; the code is used up.
pub(crate) async fn exchange_code(
    conn: &mut AnyConnection,
    id: &str,
    token: &TokenDigest,
    now: UnixTime,
) -> Result<bool, Internal> {
    let done = sqlx::query(
        "UPDATE recovery_requests SET token_hash = $1, code_hash = NULL \
         WHERE id = $2 AND ended_at IS NULL AND code_hash IS NOT NULL AND code_expires_at > $3",
    )
    .bind(token.as_str())
    .bind(id)
    .bind(now.secs())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts one code try against a request before the code is compared, in
/// one atomic statement; `None` when the request has used up its tries.
pub(crate) async fn count_code_try(
    db: &Db,
    id: &str,
    max_tries: i64,
) -> Result<Option<i64>, Internal> {
    let _turn = db.write_turn().await?;
    let tries: Option<i64> = sqlx::query_scalar(
        "UPDATE recovery_requests SET code_failures = code_failures + 1 \
         WHERE id = $1 AND code_failures < $2 RETURNING code_failures",
    )
    .bind(id)
    .bind(max_tries)
    .fetch_optional(db.pool())
    .await?;
    Ok(tries)
}

/// The requests that are over (binds `$1` over-before and `$2` unsent-before).
macro_rules! finished_request {
    () => {
        "((ended_at IS NOT NULL AND ended_at < $1) \
          OR (ended_at IS NULL AND link_expires_at IS NOT NULL AND link_expires_at < $1 \
              AND (code_expires_at IS NULL OR code_expires_at < $1)) \
          OR (ended_at IS NULL AND link_expires_at IS NULL AND created_at < $2))"
    };
}

/// Deletes up to `limit` requests that are over: ended before `over_before`;
/// open, with link and code both expired before `over_before`; or open,
/// never sent (no link minted) and created before `unsent_before`. Returns
/// how many. The condition is repeated outside the sub-select so a request
/// changed meanwhile is judged again (PostgreSQL re-checks it on the row).
pub(crate) async fn delete_finished_requests(
    conn: &mut AnyConnection,
    over_before: UnixTime,
    unsent_before: UnixTime,
    limit: i64,
) -> Result<u64, Internal> {
    let done = sqlx::query(concat!(
        "DELETE FROM recovery_requests WHERE id IN (SELECT id FROM recovery_requests WHERE ",
        finished_request!(),
        " LIMIT $3) AND ",
        finished_request!()
    ))
    .bind(over_before.secs())
    .bind(unsent_before.secs())
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
