//! `keyward token create|list|revoke`: the operator manages API tokens. A
//! token is made for an account (`--for USERNAME`) and is still capped by
//! what that account holds; the secret is printed once, alone on a line of
//! standard output.

use keyward_core::authz::{Permission, PermissionSet};
use keyward_core::error::CodedError;
use keyward_core::settings::Settings;
use keyward_core::tokens::{ApiTokenId, NewToken, Revoked, TokenSummary};
use keyward_core::types::random::OsRandom;
use keyward_core::types::{SchoolId, UnixTime, Username};
use keyward_core::{Ctx, Keyward};

use super::{CommandError, failed, open};

/// What `keyward token create` was asked for.
pub struct CreateRequest {
    pub owner: String,
    pub name: String,
    pub permissions: Vec<String>,
    pub school: Option<String>,
    pub expires_in: Option<String>,
}

/// `90d`, `90` or `12w` as days.
fn days_of(text: &str) -> Option<u32> {
    let (number, unit) = match text.strip_suffix('d') {
        Some(days) => (days, 1),
        None => match text.strip_suffix('w') {
            Some(weeks) => (weeks, 7),
            None => (text, 1),
        },
    };
    number.parse::<u32>().ok()?.checked_mul(unit)
}

fn parse_create(request: &CreateRequest) -> Result<(Username, NewToken), CommandError> {
    let owner = Username::parse(&request.owner).map_err(|_| failed("--for: not a username"))?;
    let mut permissions = PermissionSet::EMPTY;
    for name in &request.permissions {
        let permission = Permission::parse(name)
            .ok_or_else(|| failed(format!("--permission: {name} is not a permission")))?;
        permissions = permissions.with(permission);
    }
    let school_id = match &request.school {
        Some(text) => {
            Some(SchoolId::parse(text).ok_or_else(|| failed("--school: not a school id"))?)
        }
        None => None,
    };
    let expires_in_days = match &request.expires_in {
        Some(text) => {
            Some(days_of(text).ok_or_else(|| failed("--expires-in: days, for example 90d"))?)
        }
        None => None,
    };
    let new = NewToken {
        name: request.name.clone(),
        permissions,
        school_id,
        expires_in_days,
    };
    Ok((owner, new))
}

pub async fn create(settings: Settings, request: CreateRequest) -> Result<(), CommandError> {
    let (owner, new) = parse_create(&request)?;
    let kw = open(settings).await?;
    let ctx = Ctx::new(UnixTime::now(), &OsRandom);
    let outcome = kw
        .create_token_for(&ctx, &Keyward::operator_actor(), &owner, &new)
        .await;
    kw.db().close().await;
    let created = outcome.map_err(|e| failed(format!("{e} ({})", e.code())))?;
    eprintln!(
        "Created token {} for {}; it is shown once, on the next line.",
        created.summary.id, created.summary.owner_username
    );
    println!("{}", created.secret.expose());
    Ok(())
}

fn line(token: &TokenSummary, now: UnixTime) -> String {
    let permissions: Vec<&str> = token.permissions.iter().map(Permission::as_str).collect();
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\texpires {}",
        token.id,
        token.owner_username,
        token.name,
        permissions.join(","),
        token.school_id.as_ref().map_or("-", SchoolId::as_str),
        token.status(now).as_str(),
        token.expires_at.secs(),
    )
}

pub async fn list(settings: Settings, owner: Option<&str>) -> Result<(), CommandError> {
    let owner = owner
        .map(|name| Username::parse(name).map_err(|_| failed("--for: not a username")))
        .transpose()?;
    let kw = open(settings).await?;
    let outcome = kw.list_tokens_as_operator(owner.as_ref()).await;
    kw.db().close().await;
    let tokens = outcome.map_err(|e| failed(format!("{e} ({})", e.code())))?;
    let now = UnixTime::now();
    println!("id\towner\tname\tpermissions\tschool\tstatus\texpires");
    for token in &tokens {
        println!("{}", line(token, now));
    }
    Ok(())
}

pub async fn revoke(settings: Settings, id: &str) -> Result<(), CommandError> {
    let id = ApiTokenId::parse(id).ok_or_else(|| failed("not a token id (32 hex digits)"))?;
    let kw = open(settings).await?;
    let ctx = Ctx::new(UnixTime::now(), &OsRandom);
    let outcome = kw.revoke_token(&ctx, &Keyward::operator_actor(), &id).await;
    kw.db().close().await;
    match outcome.map_err(|e| failed(format!("{e} ({})", e.code())))? {
        Revoked::Now => println!("Revoked token {id}."),
        Revoked::Already => println!("Token {id} was already revoked."),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::days_of;

    #[test]
    fn expiry_reads_days_and_weeks() {
        assert_eq!(days_of("90d"), Some(90));
        assert_eq!(days_of("30"), Some(30));
        assert_eq!(days_of("2w"), Some(14));
        assert_eq!(days_of("d"), None);
        assert_eq!(days_of("-1d"), None);
    }
}
