//! SQL of `sso_providers`: a school's connected OpenID Connect providers.
//! The client secret lives sealed in `sealed_secrets` (owner: the
//! provider's id), written through `crypto::store`.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Executor, Row};
use zeroize::Zeroizing;

use crate::Ctx;
use crate::crypto::sealing::Sealer;
use crate::crypto::store::{insert_sealed_for, open_sealed_for};
use crate::error::Internal;
use crate::settings::Backend;
use crate::sso::{CLIENT_SECRET_PURPOSE, IdentityClaim, SignInChoice, SsoProvider};
use crate::store::Db;
use crate::types::{SchoolId, SsoProviderId, UnixTime, role_list, stored_role_list};

const COLUMNS: &str = "p.id, p.school_id, p.name, p.issuer, p.client_id, p.scopes, p.claim, \
     p.roles, p.jit_roles, p.trust_mfa, p.created_at";

fn provider_from_row(row: &AnyRow) -> Result<SsoProvider, Internal> {
    let claim: String = row.try_get("claim")?;
    Ok(SsoProvider {
        id: SsoProviderId::from_stored(row.try_get("id")?),
        school_id: SchoolId::from_stored(row.try_get("school_id")?),
        name: row.try_get("name")?,
        issuer: row.try_get("issuer")?,
        client_id: row.try_get("client_id")?,
        scopes: row
            .try_get::<String, _>("scopes")?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        claim: IdentityClaim::parse(&claim)
            .ok_or_else(|| Internal::new(format!("sso provider claim {claim:?} is unknown")))?,
        roles: role_list(&row.try_get::<String, _>("roles")?),
        jit_roles: role_list(&row.try_get::<String, _>("jit_roles")?),
        trust_mfa: row.try_get::<i64, _>("trust_mfa")? != 0,
        created_at: UnixTime(row.try_get("created_at")?),
    })
}

/// Seals the client secret and inserts the provider, in the caller's
/// transaction.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    ctx: &Ctx<'_>,
    sealer: &Sealer,
    provider: &SsoProvider,
    client_secret: &str,
) -> Result<(), Internal> {
    let sealed_id = insert_sealed_for(
        conn,
        ctx,
        sealer,
        provider.id.as_str(),
        CLIENT_SECRET_PURPOSE,
        client_secret.trim(),
    )
    .await?;
    sqlx::query(
        "INSERT INTO sso_providers (id, school_id, name, issuer, client_id, secret_sealed_id, \
           scopes, claim, roles, jit_roles, trust_mfa, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(provider.id.as_str())
    .bind(provider.school_id.as_str())
    .bind(&provider.name)
    .bind(&provider.issuer)
    .bind(&provider.client_id)
    .bind(&sealed_id)
    .bind(provider.scopes.join(" "))
    .bind(provider.claim.as_str())
    .bind(stored_role_list(&provider.roles))
    .bind(jit_roles_stored(provider))
    .bind(i64::from(provider.trust_mfa))
    .bind(provider.created_at.secs())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The just-in-time roles keep their order: the first is the new account's.
fn jit_roles_stored(provider: &SsoProvider) -> String {
    provider
        .jit_roles
        .iter()
        .map(|role| role.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// How many providers `school` has connected.
pub(crate) async fn count_for_school<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    school: &SchoolId,
) -> Result<i64, Internal> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM sso_providers WHERE school_id = $1")
            .bind(school.as_str())
            .fetch_one(exec)
            .await?,
    )
}

/// Whether the provider `id` is still there, held until the caller's
/// transaction ends: a sign-in through it checks this before it links or
/// opens anything, so a removal either comes after (and ends what the
/// sign-in opened) or before (and the sign-in is refused). SQLite's write
/// transactions already run one at a time; PostgreSQL shares a lock on the
/// row, which a removal's DELETE waits for.
pub(crate) async fn hold(
    conn: &mut AnyConnection,
    backend: Backend,
    id: &SsoProviderId,
) -> Result<bool, Internal> {
    let sql = match backend {
        Backend::Sqlite => "SELECT 1 FROM sso_providers WHERE id = $1",
        Backend::Postgres => "SELECT 1 FROM sso_providers WHERE id = $1 FOR KEY SHARE",
    };
    let found: Option<i64> = sqlx::query_scalar(sql)
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

pub(crate) async fn find<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    id: &SsoProviderId,
) -> Result<Option<SsoProvider>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM sso_providers p WHERE p.id = $1"
    ));
    let row = sqlx::query(sql)
        .bind(id.as_str())
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(provider_from_row).transpose()
}

/// The provider's client secret, opened; for the token request only.
#[cfg_attr(
    not(test),
    allow(dead_code, reason = "the sign-in flow (issue 14) is landing")
)]
pub(crate) async fn client_secret(
    db: &Db,
    sealer: &Sealer,
    provider: &SsoProvider,
) -> Result<Zeroizing<String>, Internal> {
    let sealed_id: Option<String> =
        sqlx::query_scalar("SELECT secret_sealed_id FROM sso_providers WHERE id = $1")
            .bind(provider.id.as_str())
            .fetch_optional(db.pool())
            .await?;
    let sealed_id =
        sealed_id.ok_or_else(|| Internal::new(format!("sso provider {} is gone", provider.id)))?;
    let secret = open_sealed_for(
        db.pool(),
        sealer,
        &sealed_id,
        provider.id.as_str(),
        CLIENT_SECRET_PURPOSE,
    )
    .await?
    .ok_or_else(|| Internal::new(format!("sso provider {} has no secret", provider.id)))?;
    Ok(Zeroizing::new(secret))
}

pub(crate) async fn list_for_school(
    db: &Db,
    school: &SchoolId,
) -> Result<Vec<SsoProvider>, Internal> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM sso_providers p WHERE p.school_id = $1 ORDER BY p.created_at, p.id"
    ));
    let rows = sqlx::query(sql)
        .bind(school.as_str())
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(provider_from_row).collect()
}

/// Every provider with its school's name, by school name then provider name.
pub(crate) async fn list_choices(db: &Db) -> Result<Vec<SignInChoice>, Internal> {
    let rows = sqlx::query(
        "SELECT p.id, p.name, p.school_id, s.name AS school_name \
         FROM sso_providers p JOIN schools s ON s.id = p.school_id \
         ORDER BY s.name, p.name, p.id",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SignInChoice {
                provider_id: SsoProviderId::from_stored(row.try_get("id")?),
                name: row.try_get("name")?,
                school_id: SchoolId::from_stored(row.try_get("school_id")?),
                school_name: row.try_get("school_name")?,
            })
        })
        .collect()
}

/// Deletes `school`'s provider `id` (its links and flows cascade) and gives
/// back the id of its sealed secret for the caller to delete; `None` when
/// there was no such provider of that school.
pub(crate) async fn delete(
    conn: &mut AnyConnection,
    school: &SchoolId,
    id: &SsoProviderId,
) -> Result<Option<String>, Internal> {
    Ok(sqlx::query_scalar(
        "DELETE FROM sso_providers WHERE id = $1 AND school_id = $2 RETURNING secret_sealed_id",
    )
    .bind(id.as_str())
    .bind(school.as_str())
    .fetch_optional(&mut *conn)
    .await?)
}
