//! A bearer call: from the secret in `Authorization: Bearer kw_…` to the
//! actor the call runs as — the owner's current actor (custom roles and
//! classes as they are now) narrowed to the token. Refusals are audited as
//! `token.refused` with the token's id when it is known, never the secret.

use super::{ApiTokenId, LAST_USED_INTERVAL_SECS, TokenStatus, store};
use crate::accounts::{AccountStatus, Hold, find_account};
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Actor, TokenGrant};
use crate::crypto::tokens::{TOKEN_BYTES, Token};
use crate::error::{Code, CodedError, Internal};
use crate::types::UserId;
use crate::types::random::{Random, RandomError};
use crate::{Ctx, Keyward};

/// Every secret starts with this, so secret scanners can recognise a leaked
/// one.
pub const TOKEN_PREFIX: &str = "kw_";

/// Why a bearer call is refused.
#[derive(Debug, thiserror::Error)]
pub enum BearerError {
    /// Malformed, unknown, or the owner can no longer sign in.
    #[error("That API token is not valid.")]
    Invalid,
    #[error("That API token has expired.")]
    Expired,
    #[error("That API token was revoked.")]
    Revoked,
    /// The owner must set up two-step verification before anything else.
    #[error("The token's owner must turn on two-step verification first.")]
    EnrolmentDue,
    /// The owner must first replace a temporary password from an administrator.
    #[error("The token's owner must first replace the temporary password an administrator set.")]
    PasswordChangeDue,
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for BearerError {
    fn code(&self) -> Code {
        match self {
            BearerError::Invalid => Code::TokenInvalid,
            BearerError::Expired => Code::TokenExpired,
            BearerError::Revoked => Code::TokenRevoked,
            BearerError::EnrolmentDue => Code::MfaEnrolmentRequired,
            BearerError::PasswordChangeDue => Code::PasswordChangeRequired,
            BearerError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            BearerError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

/// A new secret: the prefix and 256 random bits in base64url.
pub(crate) fn generate_secret(rng: &dyn Random) -> Result<Token, RandomError> {
    Token::generate_prefixed(TOKEN_PREFIX, rng)
}

/// The secret as sent, if it can be one of ours.
pub(crate) fn parse_secret(text: &str) -> Option<Token> {
    let body = text.strip_prefix(TOKEN_PREFIX)?;
    // 32 bytes in unpadded base64url.
    (body.len() == TOKEN_BYTES.div_ceil(3) * 4 - 1)
        .then(|| Token::from_client(text))
        .flatten()
}

impl Keyward {
    /// The actor of a bearer call. Refused: a malformed or unknown secret
    /// (logged); an expired or revoked token, an owner who is no longer
    /// active, and an owner held at a temporary password's change or at
    /// two-step enrolment (audited with the token and its owner). Each call
    /// reads the token's row, so a revoked token stops at once.
    pub async fn bearer_actor(&self, ctx: &Ctx<'_>, secret: &str) -> Result<Actor, BearerError> {
        // Malformed and unknown secrets name no token and no school: they
        // are logged, not audited, so anonymous callers cannot grow the
        // audit trail without end.
        let Some(token) = parse_secret(secret) else {
            tracing::info!(why = "malformed", "bearer token refused");
            return Err(BearerError::Invalid);
        };
        let Some(found) = store::find_by_secret(&self.db, &token.digest()).await? else {
            tracing::info!(why = "unknown", "bearer token refused");
            return Err(BearerError::Invalid);
        };
        let id = (&found.id, &found.owner_id);
        match found.status(ctx.now) {
            TokenStatus::Revoked => {
                return Err(self
                    .refuse_bearer(ctx, id, BearerError::Revoked, "revoked")
                    .await);
            }
            TokenStatus::Expired => {
                return Err(self
                    .refuse_bearer(ctx, id, BearerError::Expired, "expired")
                    .await);
            }
            TokenStatus::Active => {}
        }
        let account = find_account(&self.db, &found.owner_id)
            .await?
            .filter(|a| a.status == AccountStatus::Active);
        let Some(account) = account else {
            return Err(self
                .refuse_bearer(ctx, id, BearerError::Invalid, "owner_inactive")
                .await);
        };
        match self.hold_of(&account).await? {
            Some(Hold::PasswordChange) => {
                let refused = BearerError::PasswordChangeDue;
                return Err(self
                    .refuse_bearer(ctx, id, refused, "password_change_due")
                    .await);
            }
            Some(Hold::MfaEnrolment) => {
                let refused = BearerError::EnrolmentDue;
                return Err(self.refuse_bearer(ctx, id, refused, "enrolment_due").await);
            }
            None => {}
        }
        let mut actor = self.actor_of(&account).await?;
        actor.token = Some(TokenGrant {
            id: found.id.as_str().to_owned(),
            permissions: found.permissions,
            school_id: found.school_id.clone(),
        });
        store::touch(&self.db, &found.id, ctx.now, LAST_USED_INTERVAL_SECS).await?;
        Ok(actor)
    }

    /// Writes the `token.refused` row and gives the refusal back; a failed
    /// write is logged and the refusal stands.
    async fn refuse_bearer(
        &self,
        ctx: &Ctx<'_>,
        (id, owner): (&ApiTokenId, &UserId),
        refused: BearerError,
        why: &str,
    ) -> BearerError {
        let written = audit::insert_alone(
            &self.db,
            &AuditEntry {
                at: ctx.now,
                actor_id: None,
                api_token: Some(id.as_str()),
                // The owner, so their school's auditors see the refusal.
                target_id: Some(owner.as_str()),
                school_id: None,
                action: action::TOKEN_REFUSED,
                outcome: "failure",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(why),
            },
        )
        .await;
        if let Err(err) = written {
            tracing::warn!(cause = %err.cause(), "cannot audit a refused token");
        }
        refused
    }
}
