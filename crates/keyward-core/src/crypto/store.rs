//! SQL of `sealed_secrets`, the one table of sealed secrets (learner
//! passwords staff may show again, access codes, parent access codes), so
//! rotation re-seals one place, and the context each row is sealed with.
//!
//! A row names the user it belongs to (`owner_id`) and its `purpose`. A `v2`
//! value is sealed with its row id, owner and purpose as associated data, and
//! is opened with the owner and purpose the *caller* expects (the user whose
//! password or code it is showing), never with what the row says: a sealed
//! reference moved to another user, or a value moved to another row, does
//! not open. A legacy `v1` value (sealed with `"<id>/<purpose>"`, before
//! owners were bound) opens only when the row's recorded owner and purpose
//! are the expected ones; `keyward keys rotate` re-seals it as `v2`.
//! Nothing here logs or returns a plaintext in an error.
//!
//! Also `sealing_key_checks`: a check value of each sealing key the database
//! has met (never a key), so that an instance with other keys is refused.

use sqlx::{Any, AnyConnection, Executor, Row};

use super::sealing::{LEGACY_SEALED_VERSION, SEALED_VERSION, Sealer};
use crate::Ctx;
use crate::error::Internal;
use crate::types::{SchoolId, UnixTime, UserId};

/// The associated data of a `v2` value in row `id`: a label, the row id, the
/// owner's user id and the purpose, separated by NUL (none of them holds one).
pub(crate) fn context_of(id: &str, owner: &str, purpose: &str) -> String {
    format!("keyward/sealed-{SEALED_VERSION}\0{id}\0{owner}\0{purpose}")
}

/// The associated data of a legacy `v1` value: its row id and purpose.
fn legacy_context_of(id: &str, purpose: &str) -> String {
    format!("{id}/{purpose}")
}

/// Opens `sealed`, read from row `id` whose columns record `stored_owner` and
/// `stored_purpose`, for a caller that expects it to belong to `owner` for
/// `purpose`. A mismatch, or a value that does not open, is an internal
/// error whose cause names the row and the reason, never the value.
pub(crate) fn open_row_value(
    sealer: &Sealer,
    id: &str,
    stored_owner: &str,
    stored_purpose: &str,
    sealed: &str,
    owner: &str,
    purpose: &str,
) -> Result<String, Internal> {
    if stored_owner != owner || stored_purpose != purpose {
        return Err(Internal::new(format!(
            "sealed secret {id} ({stored_purpose}) is not the {purpose} of user {owner}"
        )));
    }
    let context = match Sealer::version_of(sealed) {
        Ok(SEALED_VERSION) => context_of(id, owner, purpose),
        Ok(LEGACY_SEALED_VERSION) => legacy_context_of(id, purpose),
        Ok(_) | Err(_) => String::new(),
    };
    sealer.open(sealed, &context).map_err(|err| {
        Internal::new(format!(
            "sealed secret {id} ({purpose} of user {owner}) does not open: {err}"
        ))
    })
}

/// Seals `plaintext`, belonging to user `owner`, into a new row and returns
/// the row's id (a random UUID).
pub(crate) async fn insert_sealed(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    sealer: &Sealer,
    owner: &UserId,
    purpose: &str,
    plaintext: &str,
) -> Result<String, Internal> {
    insert_sealed_for(conn, ctx, sealer, owner.as_str(), purpose, plaintext).await
}

/// [`insert_sealed`] for a secret that belongs to something other than a
/// user (a school's single sign-on provider names itself by its id).
pub(crate) async fn insert_sealed_for(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    sealer: &Sealer,
    owner: &str,
    purpose: &str,
    plaintext: &str,
) -> Result<String, Internal> {
    let mut bytes = [0u8; 16];
    ctx.rng.fill(&mut bytes)?;
    let id = uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string();
    let sealed = sealer.seal(plaintext, &context_of(&id, owner, purpose), ctx.rng)?;
    sqlx::query(
        "INSERT INTO sealed_secrets (id, owner_id, purpose, sealed, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&id)
    .bind(owner)
    .bind(purpose)
    .bind(&sealed)
    .bind(ctx.now.secs())
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// The plaintext of row `id` as the `purpose` of user `owner`, `None` when
/// there is no such row. A row of another owner or purpose, or a value that
/// no loaded key opens with that context, is an internal error.
pub(crate) async fn open_sealed<'c, E>(
    exec: E,
    sealer: &Sealer,
    id: &str,
    owner: &UserId,
    purpose: &str,
) -> Result<Option<String>, Internal>
where
    E: Executor<'c, Database = Any>,
{
    open_sealed_for(exec, sealer, id, owner.as_str(), purpose).await
}

/// [`open_sealed`] for a secret whose owner is not a user.
pub(crate) async fn open_sealed_for<'c, E>(
    exec: E,
    sealer: &Sealer,
    id: &str,
    owner: &str,
    purpose: &str,
) -> Result<Option<String>, Internal>
where
    E: Executor<'c, Database = Any>,
{
    let row = sqlx::query("SELECT owner_id, purpose, sealed FROM sealed_secrets WHERE id = $1")
        .bind(id)
        .fetch_optional(exec)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let stored_owner: String = row.try_get("owner_id")?;
    let stored_purpose: String = row.try_get("purpose")?;
    let sealed: String = row.try_get("sealed")?;
    open_row_value(
        sealer,
        id,
        &stored_owner,
        &stored_purpose,
        &sealed,
        owner,
        purpose,
    )
    .map(Some)
}

/// Seals a new plaintext into existing row `id`, which must be the `purpose`
/// of user `owner` (current key and format). A missing row is an internal
/// error: callers hold ids of their own rows.
#[cfg_attr(
    not(test),
    allow(dead_code, reason = "no use case replaces a sealed value in place yet")
)]
pub(crate) async fn replace_sealed(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    sealer: &Sealer,
    id: &str,
    owner: &UserId,
    purpose: &str,
    plaintext: &str,
) -> Result<(), Internal> {
    let sealed = sealer.seal(plaintext, &context_of(id, owner.as_str(), purpose), ctx.rng)?;
    let done = sqlx::query(
        "UPDATE sealed_secrets SET sealed = $1, updated_at = $2 \
         WHERE id = $3 AND owner_id = $4 AND purpose = $5",
    )
    .bind(&sealed)
    .bind(ctx.now.secs())
    .bind(id)
    .bind(owner.as_str())
    .bind(purpose)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Err(Internal::new(format!(
            "no sealed secret {id} ({purpose} of user {owner}) to replace",
            owner = owner.as_str()
        )));
    }
    Ok(())
}

/// Deletes row `id` (destroying the secret); a missing row is fine.
pub(crate) async fn delete_sealed(conn: &mut AnyConnection, id: &str) -> Result<(), Internal> {
    sqlx::query("DELETE FROM sealed_secrets WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A row as rotation reads it.
pub(crate) struct SealedRow {
    pub(crate) id: String,
    /// The user the value belongs to (`''` for a legacy row whose owner the
    /// migration could not tell).
    pub(crate) owner_id: String,
    pub(crate) purpose: String,
    pub(crate) sealed: String,
}

/// Up to `limit` rows with ids after `after`, in id order (rotation walks the
/// table this way, so each batch is one short transaction).
pub(crate) async fn sealed_rows_after(
    conn: &mut AnyConnection,
    after: &str,
    limit: i64,
) -> Result<Vec<SealedRow>, Internal> {
    let rows = sqlx::query(
        "SELECT id, owner_id, purpose, sealed FROM sealed_secrets WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SealedRow {
                id: row.try_get("id")?,
                owner_id: row.try_get("owner_id")?,
                purpose: row.try_get("purpose")?,
                sealed: row.try_get("sealed")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Internal::from)
}

/// One row by id, for rotation's retries.
pub(crate) async fn sealed_row(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<SealedRow>, Internal> {
    let row = sqlx::query("SELECT id, owner_id, purpose, sealed FROM sealed_secrets WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| {
        Ok(SealedRow {
            id: row.try_get("id")?,
            owner_id: row.try_get("owner_id")?,
            purpose: row.try_get("purpose")?,
            sealed: row.try_get("sealed")?,
        })
    })
    .transpose()
    .map_err(|err: sqlx::Error| Internal::from(err))
}

/// Stores a re-sealed value only if the row still holds `old` (a server may
/// have replaced the secret meanwhile); whether it did.
pub(crate) async fn reseal_if_unchanged(
    conn: &mut AnyConnection,
    id: &str,
    old: &str,
    new: &str,
    now: UnixTime,
) -> Result<bool, Internal> {
    let done = sqlx::query(
        "UPDATE sealed_secrets SET sealed = $1, updated_at = $2 WHERE id = $3 AND sealed = $4",
    )
    .bind(new)
    .bind(now.secs())
    .bind(id)
    .bind(old)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes the sealed copies of the passwords of a school's accounts.
pub(crate) async fn delete_sealed_passwords_of_school(
    conn: &mut AnyConnection,
    school: &SchoolId,
) -> Result<(), Internal> {
    sqlx::query(
        "DELETE FROM sealed_secrets WHERE id IN \
         (SELECT password_sealed_id FROM users WHERE school_id = $1 AND password_sealed_id IS NOT NULL)",
    )
    .bind(school.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes the sealed copy of an account's password, if it has one.
pub(crate) async fn delete_sealed_password_of(
    conn: &mut AnyConnection,
    user: &UserId,
) -> Result<(), Internal> {
    sqlx::query(
        "DELETE FROM sealed_secrets WHERE id = (SELECT password_sealed_id FROM users WHERE id = $1)",
    )
    .bind(user.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Compares the check value of each key in `checks` (`(name, check)`, see
/// `Sealer::key_checks`) with the one recorded for its name, and returns the
/// names whose values differ: keys of the same name that are not the same
/// key. Only when none differs are the keys the database has not met
/// recorded (so keys that are refused leave nothing behind); of instances
/// recording one name at once, the first insert wins and the others compare
/// against it.
pub(crate) async fn remember_key_checks(
    pool: &sqlx::AnyPool,
    checks: &[(String, String)],
    now: UnixTime,
) -> Result<Vec<String>, Internal> {
    let recorded = |name: String| async move {
        sqlx::query_scalar::<_, String>("SELECT key_check FROM sealing_key_checks WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await
    };
    let mut differ = Vec::new();
    let mut unmet = Vec::new();
    for (name, check) in checks {
        match recorded(name.clone()).await? {
            Some(known) if !crate::crypto::tokens::constant_time_eq(&known, check) => {
                differ.push(name.clone());
            }
            Some(_) => {}
            None => unmet.push((name, check)),
        }
    }
    if !differ.is_empty() {
        return Ok(differ);
    }
    for (name, check) in unmet {
        sqlx::query(
            "INSERT INTO sealing_key_checks (name, key_check, first_seen_at) \
             VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(check)
        .bind(now.secs())
        .execute(pool)
        .await?;
        match recorded(name.clone()).await? {
            Some(known) if crate::crypto::tokens::constant_time_eq(&known, check) => {}
            _ => differ.push(name.clone()),
        }
    }
    Ok(differ)
}

/// The names of the keys the database has met (`lookup`, `key k1`, …).
pub(crate) async fn known_key_names(pool: &sqlx::AnyPool) -> Result<Vec<String>, Internal> {
    Ok(
        sqlx::query_scalar("SELECT name FROM sealing_key_checks ORDER BY name")
            .fetch_all(pool)
            .await?,
    )
}
