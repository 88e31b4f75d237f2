//! API tokens (issue 13): secrets for scripts and a school's own tools, sent
//! as `Authorization: Bearer kw_…`. A person creates tokens for themselves
//! with a name, some of the permissions they hold, a school (platform admins
//! only) and an expiry; the secret is shown once and only its SHA-256 is
//! kept. Owners list and revoke their own tokens; people with `users.manage`
//! also those of the people they may manage. `bearer` turns a secret into
//! the owner's current actor narrowed to the token. Must not: store or log a
//! secret, or let a token reach more than its owner holds at the moment of
//! the call.

pub(crate) mod bearer;
mod store;

pub use bearer::{BearerError, TOKEN_PREFIX};

use crate::accounts::AccountStatus;
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Permission, PermissionSet, Target, authorize};
use crate::crypto::tokens::Token;
use crate::error::{Code, CodedError, Internal};
use crate::types::random::{Random, RandomError};
use crate::types::{Role, SchoolId, UnixTime, UserId, Username};
use crate::{Ctx, Keyward};

/// How long a token lives unless its creator says otherwise.
pub const DEFAULT_TTL_DAYS: u32 = 90;
/// The longest a token may live.
pub const MAX_TTL_DAYS: u32 = 365;
/// The longest name of a token, in characters.
pub const NAME_MAX_CHARS: usize = 64;
/// `last_used_at` is written at most this often per token.
const LAST_USED_INTERVAL_SECS: i64 = 60;
/// At most this many tokens are listed at once.
const LIST_LIMIT: i64 = 500;
const SECS_PER_DAY: i64 = 86_400;

/// The public id of a token: 128 random bits as 32 lowercase hex digits. It
/// names the token in lists, the CLI and the audit trail; it opens nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiTokenId(String);

impl ApiTokenId {
    fn generate(rng: &dyn Random) -> Result<Self, RandomError> {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes)?;
        Ok(ApiTokenId(hex::encode(bytes)))
    }

    /// Accepts 32 hex digits (either case), so junk never reaches SQL.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| ApiTokenId(text.to_ascii_lowercase()))
    }

    fn from_stored(text: String) -> Self {
        ApiTokenId(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ApiTokenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a new token is to be.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub permissions: PermissionSet,
    /// Platform admins only: the one school the token acts in.
    pub school_id: Option<SchoolId>,
    /// Days until it expires; `None` is [`DEFAULT_TTL_DAYS`].
    pub expires_in_days: Option<u32>,
}

/// A token as lists show it: never its secret.
#[derive(Debug, Clone)]
pub struct TokenSummary {
    pub id: ApiTokenId,
    pub owner_id: UserId,
    pub owner_username: String,
    pub name: String,
    pub permissions: PermissionSet,
    pub school_id: Option<SchoolId>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
    pub last_used_at: Option<UnixTime>,
}

/// Whether a token still works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Expired,
    Revoked,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
        }
    }
}

impl TokenSummary {
    pub fn status(&self, now: UnixTime) -> TokenStatus {
        if self.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if now >= self.expires_at {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }
}

/// A token just created: the secret is here once and never again.
#[derive(Debug)]
pub struct CreatedToken {
    pub summary: TokenSummary,
    /// `kw_` and 256 random bits; `Debug` redacts it.
    pub secret: Token,
}

/// The tokens a person sees: their own, and (with `users.manage`) those of
/// the people they may manage.
#[derive(Debug, Clone, Default)]
pub struct TokenLists {
    pub own: Vec<TokenSummary>,
    pub managed: Vec<TokenSummary>,
}

/// What revoking did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    Now,
    /// It had been revoked before; nothing changed.
    Already,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "Give the token a name of 1 to 64 characters, without line breaks or control characters."
    )]
    InvalidName,
    #[error("Choose at least one permission.")]
    NoPermissions,
    #[error("A token expires after 1 to 365 days.")]
    ExpiryInvalid,
    #[error("There is no such school.")]
    SchoolNotFound,
    #[error("There is no such person.")]
    UserNotFound,
    #[error("There is no such token, or you may not manage it.")]
    NotFound,
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for TokenError {
    fn code(&self) -> Code {
        match self {
            TokenError::InvalidName => Code::InvalidName,
            TokenError::NoPermissions => Code::TokenPermissionsInvalid,
            TokenError::ExpiryInvalid => Code::TokenExpiryInvalid,
            TokenError::SchoolNotFound => Code::SchoolNotFound,
            TokenError::UserNotFound => Code::NotFound,
            TokenError::NotFound => Code::TokenNotFound,
            TokenError::Denied(denied) => denied.code(),
            TokenError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            TokenError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

impl From<RandomError> for TokenError {
    fn from(err: RandomError) -> Self {
        TokenError::Internal(Internal::new(err))
    }
}

/// The permissions as stored: names separated by spaces.
fn permissions_to_stored(permissions: PermissionSet) -> String {
    permissions
        .iter()
        .map(Permission::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Unknown names (a permission since removed) are dropped: a token only
/// ever loses rights.
fn permissions_from_stored(text: &str) -> PermissionSet {
    text.split_whitespace()
        .filter_map(Permission::parse)
        .fold(PermissionSet::EMPTY, PermissionSet::with)
}

impl Keyward {
    /// Creates a token for the signed-in person (`actor`, never acting
    /// through a token itself): at least one permission, each held now;
    /// for a platform admin, optionally one school.
    pub async fn create_token(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        new: &NewToken,
    ) -> Result<CreatedToken, TokenError> {
        self.issue_token(ctx, actor, actor, new).await
    }

    /// `keyward token create --for USERNAME`: the operator creates a token
    /// for an account, still capped by what the account holds.
    pub async fn create_token_for(
        &self,
        ctx: &Ctx<'_>,
        operator: &Actor,
        owner: &Username,
        new: &NewToken,
    ) -> Result<CreatedToken, TokenError> {
        let account = self
            .find_account_by_username(owner)
            .await?
            .filter(|a| a.status == AccountStatus::Active)
            .ok_or(TokenError::UserNotFound)?;
        let owner = self.actor_of(&account).await?;
        self.issue_token(ctx, operator, &owner, new).await
    }

    async fn issue_token(
        &self,
        ctx: &Ctx<'_>,
        by: &Actor,
        owner: &Actor,
        new: &NewToken,
    ) -> Result<CreatedToken, TokenError> {
        // A token never mints tokens, and tokens are for staff with rights.
        if by.token.is_some() || owner.token.is_some() || owner.permissions().is_empty() {
            return Err(Denied::Forbidden.into());
        }
        let name = new.name.trim();
        // No control characters: a name is printed in lists, the CLI's included.
        if name.is_empty()
            || name.chars().count() > NAME_MAX_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(TokenError::InvalidName);
        }
        if new.permissions.is_empty() {
            return Err(TokenError::NoPermissions);
        }
        if !owner.permissions().covers(new.permissions) {
            return Err(Denied::Forbidden.into());
        }
        let days = new.expires_in_days.unwrap_or(DEFAULT_TTL_DAYS);
        if !(1..=MAX_TTL_DAYS).contains(&days) {
            return Err(TokenError::ExpiryInvalid);
        }
        let school_id = match (owner.role, &new.school_id) {
            (Role::PlatformAdmin, Some(school)) => {
                if !store::school_exists(&self.db, school).await? {
                    return Err(TokenError::SchoolNotFound);
                }
                Some(school.clone())
            }
            (Role::PlatformAdmin, None) => None,
            (_, Some(school)) if owner.school_id.as_ref() != Some(school) => {
                return Err(TokenError::SchoolNotFound);
            }
            (_, _) => owner.school_id.clone(),
        };
        let id = ApiTokenId::generate(ctx.rng)?;
        let secret = bearer::generate_secret(ctx.rng)?;
        let stored_permissions = permissions_to_stored(new.permissions);
        let expires_at = UnixTime(ctx.now.secs() + i64::from(days) * SECS_PER_DAY);
        let mut tx = self.db.begin_write().await?;
        store::insert(
            &mut *tx,
            &store::NewRow {
                id: &id,
                owner: &owner.user_id,
                name,
                permissions: &stored_permissions,
                school_id: school_id.as_ref(),
                secret_hash: &secret.digest(),
                created_at: ctx.now,
                expires_at,
            },
        )
        .await?;
        let detail = format!("token={id} permissions={stored_permissions}");
        audit::insert(
            &mut *tx,
            &token_audit(
                ctx,
                by,
                &owner.user_id,
                school_id.as_ref().or(owner.school_id.as_ref()),
                action::TOKEN_CREATE,
                &detail,
            ),
        )
        .await?;
        tx.commit().await.map_err(Internal::from)?;
        let summary = store::find(&self.db, &id)
            .await?
            .ok_or_else(|| Internal::new("a token just created is missing"))?;
        Ok(CreatedToken { summary, secret })
    }

    /// The person's own tokens and, with `users.manage`, those of the people
    /// they may manage (their school; every school for a platform admin).
    pub async fn list_tokens(&self, actor: &Actor) -> Result<TokenLists, TokenError> {
        if actor.token.is_some() {
            return Err(Denied::Forbidden.into());
        }
        let own = store::list(&self.db, store::Whose::Owner(&actor.user_id), LIST_LIMIT).await?;
        let managed = if !actor.permissions().contains(Permission::UsersManage) {
            Vec::new()
        } else if actor.platform_wide() {
            store::list(&self.db, store::Whose::All(&actor.user_id), LIST_LIMIT).await?
        } else if let Some(school) = actor.scope_school() {
            store::list(
                &self.db,
                store::Whose::School(school, &actor.user_id),
                LIST_LIMIT,
            )
            .await?
        } else {
            Vec::new()
        };
        let mut reachable = Vec::with_capacity(managed.len());
        for token in managed {
            if self.may_manage_owner(actor, &token.owner_id).await? {
                reachable.push(token);
            }
        }
        Ok(TokenLists {
            own,
            managed: reachable,
        })
    }

    /// The tokens of one account, or everybody's (`keyward token list`).
    pub async fn list_tokens_as_operator(
        &self,
        owner: Option<&Username>,
    ) -> Result<Vec<TokenSummary>, TokenError> {
        let operator = Keyward::operator_actor();
        match owner {
            None => {
                Ok(store::list(&self.db, store::Whose::All(&operator.user_id), LIST_LIMIT).await?)
            }
            Some(name) => {
                let account = self
                    .find_account_by_username(name)
                    .await?
                    .ok_or(TokenError::UserNotFound)?;
                Ok(store::list(&self.db, store::Whose::Owner(&account.id), LIST_LIMIT).await?)
            }
        }
    }

    /// Revokes a token: the owner's own, or one of a person the actor may
    /// manage (`users.manage` on the owner). Another's token out of reach is
    /// `NotFound`, like an unknown one. Revoking twice is `Revoked::Already`.
    /// Once this returns, no call with the token is let in: every call reads
    /// the token's row.
    pub async fn revoke_token(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        id: &ApiTokenId,
    ) -> Result<Revoked, TokenError> {
        if actor.token.is_some() {
            return Err(Denied::Forbidden.into());
        }
        let token = store::find(&self.db, id)
            .await?
            .ok_or(TokenError::NotFound)?;
        if token.owner_id != actor.user_id {
            let target = self
                .user_target(&token.owner_id)
                .await?
                .ok_or(TokenError::NotFound)?;
            let allowed = authorize(actor, Action::ManageUser, Target::User(&target));
            if let Err(denied) = allowed {
                self.audit_denial(
                    ctx,
                    actor,
                    Action::ManageUser,
                    Target::User(&target),
                    denied,
                )
                .await;
                return Err(match denied {
                    Denied::Hidden => TokenError::NotFound,
                    Denied::Forbidden => TokenError::Denied(denied),
                });
            }
        }
        let mut tx = self.db.begin_write().await?;
        if !store::revoke(&mut *tx, id, ctx.now).await? {
            return Ok(Revoked::Already);
        }
        let detail = format!("token={id}");
        audit::insert(
            &mut *tx,
            &token_audit(
                ctx,
                actor,
                &token.owner_id,
                token.school_id.as_ref(),
                action::TOKEN_REVOKE,
                &detail,
            ),
        )
        .await?;
        tx.commit().await.map_err(Internal::from)?;
        Ok(Revoked::Now)
    }

    async fn may_manage_owner(&self, actor: &Actor, owner: &UserId) -> Result<bool, Internal> {
        Ok(match self.user_target(owner).await? {
            Some(target) => authorize(actor, Action::ManageUser, Target::User(&target)).is_ok(),
            None => false,
        })
    }
}

/// The audit row of a change to a token: `by` acted, on `owner`'s token.
fn token_audit<'a>(
    ctx: &'a Ctx<'_>,
    by: &'a Actor,
    owner: &'a UserId,
    school: Option<&'a SchoolId>,
    what: &'static str,
    detail: &'a str,
) -> AuditEntry<'a> {
    AuditEntry {
        at: ctx.now,
        actor_id: (!by.is_operator()).then(|| by.user_id.as_str()),
        api_token: by.api_token_id(),
        target_id: Some(owner.as_str()),
        school_id: school.map(SchoolId::as_str),
        action: what,
        outcome: "success",
        client_addr: ctx.client_addr.as_deref(),
        detail: Some(detail),
    }
}

#[cfg(test)]
mod tests;
