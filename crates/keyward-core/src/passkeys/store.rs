//! SQL of passkeys: the registered credentials (`passkeys`) and the
//! ceremonies under way (`webauthn_ceremonies`), each claimed once.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};

use super::CeremonyKind;
use crate::crypto::tokens::TokenDigest;
use crate::error::Internal;
use crate::store::Db;
use crate::types::{PasskeyId, SchoolId, UnixTime, UserId};

/// A passkey as listed to its owner.
pub(super) struct ListedPasskey {
    pub id: PasskeyId,
    pub name: String,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

/// A passkey with its credential, for checking an assertion.
pub(super) struct StoredCredential {
    pub id: PasskeyId,
    pub user_id: UserId,
    /// webauthn-rs's `Passkey` as JSON.
    pub credential: String,
}

pub(super) struct NewPasskey<'a> {
    pub id: &'a PasskeyId,
    pub user_id: &'a UserId,
    pub name: &'a str,
    pub credential_id: &'a str,
    pub credential: &'a str,
    pub sign_count: i64,
    pub created_at: UnixTime,
}

/// Inserts a passkey. A credential id registered before (to anyone)
/// surfaces as a unique violation.
pub(super) async fn insert_passkey(
    conn: &mut AnyConnection,
    passkey: &NewPasskey<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO passkeys (id, user_id, name, credential_id, credential, sign_count, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(passkey.id.as_str())
    .bind(passkey.user_id.as_str())
    .bind(passkey.name)
    .bind(passkey.credential_id)
    .bind(passkey.credential)
    .bind(passkey.sign_count)
    .bind(passkey.created_at.secs())
    .execute(conn)
    .await?;
    Ok(())
}

/// How many passkeys a user has.
pub(super) async fn count_passkeys<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    user: &UserId,
) -> Result<i64, Internal> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
            .bind(user.as_str())
            .fetch_one(exec)
            .await?,
    )
}

/// A user's passkeys, oldest first.
pub(super) async fn list_passkeys(db: &Db, user: &UserId) -> Result<Vec<ListedPasskey>, Internal> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, last_used_at FROM passkeys \
         WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ListedPasskey {
                id: PasskeyId::from_stored(row.try_get("id")?),
                name: row.try_get("name")?,
                created_at: UnixTime(row.try_get("created_at")?),
                last_used_at: row.try_get::<Option<i64>, _>("last_used_at")?.map(UnixTime),
            })
        })
        .collect()
}

fn credential_from_row(row: &AnyRow) -> Result<StoredCredential, Internal> {
    Ok(StoredCredential {
        id: PasskeyId::from_stored(row.try_get("id")?),
        user_id: UserId::from_stored(row.try_get("user_id")?),
        credential: row.try_get("credential")?,
    })
}

/// A user's passkeys with their credentials.
pub(super) async fn credentials_of(
    db: &Db,
    user: &UserId,
) -> Result<Vec<StoredCredential>, Internal> {
    let rows = sqlx::query(
        "SELECT id, user_id, credential FROM passkeys WHERE user_id = $1 ORDER BY created_at, id",
    )
    .bind(user.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(credential_from_row).collect()
}

/// The passkey with this credential id (base64url), whoever owns it.
pub(super) async fn find_by_credential_id(
    db: &Db,
    credential_id: &str,
) -> Result<Option<StoredCredential>, Internal> {
    let row = sqlx::query("SELECT id, user_id, credential FROM passkeys WHERE credential_id = $1")
        .bind(credential_id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(credential_from_row).transpose()
}

/// Records a verified use: the credential as updated by the assertion, its
/// new counter and the time. The counter claims the use: a counting
/// authenticator's value must be above the stored one, so of two assertions
/// carrying the same value (a cloned authenticator) only one is recorded.
/// False when the use was not recorded for that reason (or the passkey was
/// removed meanwhile).
pub(super) async fn record_use(
    conn: &mut AnyConnection,
    id: &PasskeyId,
    credential: &str,
    sign_count: i64,
    now: UnixTime,
) -> Result<bool, Internal> {
    let done = sqlx::query(
        "UPDATE passkeys SET credential = $1, sign_count = $2, last_used_at = $3 \
         WHERE id = $4 AND (sign_count < $2 OR $2 = 0)",
    )
    .bind(credential)
    .bind(sign_count)
    .bind(now.secs())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes one of a user's passkeys; false when the user has no such passkey.
pub(super) async fn delete_passkey(
    conn: &mut AnyConnection,
    user: &UserId,
    id: &PasskeyId,
) -> Result<bool, Internal> {
    let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
        .bind(id.as_str())
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Renames one of a user's passkeys; false when the user has no such passkey.
pub(super) async fn rename_passkey(
    conn: &mut AnyConnection,
    user: &UserId,
    id: &PasskeyId,
    name: &str,
) -> Result<bool, Internal> {
    let done = sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
        .bind(name)
        .bind(id.as_str())
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the passkeys of a school's learners; returns how many.
pub(super) async fn delete_learner_passkeys_of_school(
    conn: &mut AnyConnection,
    school: &SchoolId,
) -> Result<u64, Internal> {
    let done = sqlx::query(
        "DELETE FROM passkeys WHERE user_id IN \
           (SELECT id FROM users WHERE school_id = $1 AND role = 'learner')",
    )
    .bind(school.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub(super) struct NewCeremony<'a> {
    pub id_hash: &'a TokenDigest,
    pub user_id: Option<&'a UserId>,
    pub kind: CeremonyKind,
    pub state: &'a str,
    pub passkey_name: Option<&'a str>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

pub(super) async fn insert_ceremony<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    ceremony: &NewCeremony<'_>,
) -> Result<(), Internal> {
    sqlx::query(
        "INSERT INTO webauthn_ceremonies \
         (id_hash, user_id, kind, state, passkey_name, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(ceremony.id_hash.as_str())
    .bind(ceremony.user_id.map(UserId::as_str))
    .bind(ceremony.kind.as_str())
    .bind(ceremony.state)
    .bind(ceremony.passkey_name)
    .bind(ceremony.created_at.secs())
    .bind(ceremony.expires_at.secs())
    .execute(exec)
    .await?;
    Ok(())
}

/// A ceremony taken out of the table to be finished.
pub(super) struct ClaimedCeremony {
    pub state: String,
    pub passkey_name: Option<String>,
    pub expires_at: UnixTime,
}

/// Takes a ceremony of `kind` (begun for `user`, or for nobody) out of the
/// table: one statement, so of parallel finishes of one ceremony exactly one
/// gets it. An expired row is taken too (and then refused by the caller).
pub(super) async fn claim_ceremony(
    db: &Db,
    id_hash: &TokenDigest,
    kind: CeremonyKind,
    user: Option<&UserId>,
) -> Result<Option<ClaimedCeremony>, Internal> {
    let _turn = db.write_turn().await?;
    let row = sqlx::query(
        "DELETE FROM webauthn_ceremonies \
         WHERE id_hash = $1 AND kind = $2 AND COALESCE(user_id, '') = $3 \
         RETURNING state, passkey_name, expires_at",
    )
    .bind(id_hash.as_str())
    .bind(kind.as_str())
    .bind(user.map_or("", UserId::as_str))
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(ClaimedCeremony {
            state: row.try_get("state")?,
            passkey_name: row.try_get("passkey_name")?,
            expires_at: UnixTime(row.try_get("expires_at")?),
        })
    })
    .transpose()
}

/// Deletes up to `limit` ceremonies that expired before `now`; returns how many.
pub(crate) async fn delete_expired_ceremonies(
    conn: &mut AnyConnection,
    now: UnixTime,
    limit: i64,
) -> Result<u64, Internal> {
    let done = sqlx::query(
        "DELETE FROM webauthn_ceremonies WHERE id_hash IN \
           (SELECT id_hash FROM webauthn_ceremonies WHERE expires_at <= $1 LIMIT $2)",
    )
    .bind(now.secs())
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Removes every passkey of a user and their ceremonies under way, for an
/// administrator's reset (R-ADM-4); returns how many passkeys went.
pub(crate) async fn delete_all_of(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<u64, Internal> {
    sqlx::query("DELETE FROM webauthn_ceremonies WHERE user_id = $1")
        .bind(user.as_str())
        .execute(&mut *conn)
        .await?;
    let done = sqlx::query("DELETE FROM passkeys WHERE user_id = $1")
        .bind(user.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
