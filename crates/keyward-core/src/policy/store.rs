//! SQL of the per-school password policy overrides (`password_policies`).

use sqlx::{AnyConnection, Row};

use super::{PasswordPolicy, PolicyKind};
use crate::error::Internal;
use crate::store::Db;
use crate::types::{SchoolId, UnixTime};

pub(crate) async fn find_school_policy(
    db: &Db,
    school: &SchoolId,
    kind: PolicyKind,
) -> Result<Option<PasswordPolicy>, Internal> {
    let row = sqlx::query(
        "SELECT min_length, max_length, require_lowercase, require_uppercase, require_digit, \
         allow_special, block_common, block_username FROM password_policies WHERE school_id = $1 AND kind = $2",
    )
    .bind(school.as_str())
    .bind(kind.as_str())
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let flag = |name: &str| -> Result<bool, sqlx::Error> { Ok(row.try_get::<i64, _>(name)? != 0) };
    let length = |name: &str| -> Result<usize, sqlx::Error> {
        Ok(usize::try_from(row.try_get::<i64, _>(name)?).unwrap_or(0))
    };
    Ok(Some(PasswordPolicy {
        min_length: length("min_length")?,
        max_length: length("max_length")?,
        require_lowercase: flag("require_lowercase")?,
        require_uppercase: flag("require_uppercase")?,
        require_digit: flag("require_digit")?,
        allow_special: flag("allow_special")?,
        block_common: flag("block_common")?,
        block_username: flag("block_username")?,
    }))
}

pub(crate) async fn upsert_school_policy(
    conn: &mut AnyConnection,
    school: &SchoolId,
    kind: PolicyKind,
    policy: &PasswordPolicy,
    now: UnixTime,
) -> Result<(), Internal> {
    let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
    let f = |v: bool| i64::from(v);
    sqlx::query(
        "INSERT INTO password_policies (school_id, kind, min_length, max_length, require_lowercase, \
         require_uppercase, require_digit, allow_special, block_common, block_username, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (school_id, kind) DO UPDATE SET min_length = $3, max_length = $4, \
         require_lowercase = $5, require_uppercase = $6, require_digit = $7, allow_special = $8, \
         block_common = $9, block_username = $10, updated_at = $11",
    )
    .bind(school.as_str())
    .bind(kind.as_str())
    .bind(n(policy.min_length))
    .bind(n(policy.max_length))
    .bind(f(policy.require_lowercase))
    .bind(f(policy.require_uppercase))
    .bind(f(policy.require_digit))
    .bind(f(policy.allow_special))
    .bind(f(policy.block_common))
    .bind(f(policy.block_username))
    .bind(now.secs())
    .execute(conn)
    .await?;
    Ok(())
}
