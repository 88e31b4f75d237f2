//! SQL of `sso_providers`: a school's connected OpenID Connect providers.
// STUB of the lead's contract; main's version wins at merge.

use sqlx::{Any, Executor, Row};

use crate::crypto::sealing::Sealer;
use crate::error::Internal;
use crate::sso::{IdentityClaim, SsoProvider, SsoProviderId};
use crate::types::{Role, SchoolId, UnixTime};

pub(crate) async fn find<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    id: &SsoProviderId,
) -> Result<Option<SsoProvider>, Internal> {
    let row = sqlx::query(
        "SELECT id, school_id, name, issuer, client_id, scopes, claim, roles, jit_roles, trust_mfa, created_at \
         FROM sso_providers WHERE id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(exec)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let roles = |s: String| -> Vec<Role> { s.split(' ').filter_map(Role::parse).collect() };
    let claim: String = row.try_get("claim")?;
    Ok(Some(SsoProvider {
        id: SsoProviderId::from_stored(row.try_get("id")?),
        school_id: SchoolId::from_stored(row.try_get("school_id")?),
        name: row.try_get("name")?,
        issuer: row.try_get("issuer")?,
        client_id: row.try_get("client_id")?,
        scopes: row
            .try_get::<String, _>("scopes")?
            .split(' ')
            .map(str::to_owned)
            .collect(),
        claim: IdentityClaim::parse(&claim).ok_or_else(|| Internal::new("bad claim"))?,
        roles: roles(row.try_get("roles")?),
        jit_roles: roles(row.try_get("jit_roles")?),
        trust_mfa: row.try_get::<i64, _>("trust_mfa")? != 0,
        created_at: UnixTime(row.try_get("created_at")?),
    }))
}

/// The provider's client secret, opened.
pub(crate) async fn client_secret<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    sealer: &Sealer,
    provider: &SsoProvider,
) -> Result<zeroize::Zeroizing<String>, Internal> {
    let sealed: String = sqlx::query_scalar(
        "SELECT s.sealed FROM sso_providers p JOIN sealed_secrets s ON s.id = p.secret_sealed_id WHERE p.id = $1",
    )
    .bind(provider.id.as_str())
    .fetch_one(exec)
    .await?;
    let context = format!("sso_client_secret:{}", provider.id);
    sealer
        .open(&sealed, &context)
        .map(zeroize::Zeroizing::new)
        .map_err(|e| Internal::new(format!("sso secret: {e}")))
}

/// Test-only insert (stub).
#[cfg(any(test, feature = "test-support"))]
pub(crate) async fn insert_for_tests(
    conn: &mut sqlx::AnyConnection,
    sealer: &Sealer,
    ctx: &crate::Ctx<'_>,
    provider: &SsoProvider,
    secret: &str,
) -> Result<(), Internal> {
    let context = format!("sso_client_secret:{}", provider.id);
    let sealed = sealer.seal(secret, &context, ctx.rng)?;
    let sealed_id = format!("{}-secret", provider.id);
    sqlx::query(
        "INSERT INTO sealed_secrets (id, owner_id, purpose, sealed, created_at, updated_at) VALUES ($1, $2, 'sso_client_secret', $3, $4, $4)",
    )
    .bind(&sealed_id)
    .bind(provider.id.as_str())
    .bind(&sealed)
    .bind(ctx.now.secs())
    .execute(&mut *conn)
    .await?;
    let roles = |r: &[Role]| r.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" ");
    sqlx::query(
        "INSERT INTO sso_providers (id, school_id, name, issuer, client_id, secret_sealed_id, scopes, claim, roles, jit_roles, trust_mfa, created_at) \
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
    .bind(roles(&provider.roles))
    .bind(roles(&provider.jit_roles))
    .bind(i64::from(provider.trust_mfa))
    .bind(provider.created_at.secs())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
