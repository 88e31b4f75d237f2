//! A bearer call: from the secret in `Authorization: Bearer kw_…` to the
//! actor the call runs as — the owner's current actor (custom roles and
//! classes as they are now) narrowed to the token. Refusals are audited as
//! `token.refused` with the token's id when it is known, never the secret.

use super::{ApiTokenId, LAST_USED_INTERVAL_SECS, TokenStatus, store};
use crate::accounts::{AccountStatus, find_account};
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Actor, TokenGrant};
use crate::crypto::tokens::{TOKEN_BYTES, Token};
use crate::error::{Code, CodedError, Internal};
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
pub(super) fn generate_secret(rng: &dyn Random) -> Result<Token, RandomError> {
    Token::generate_prefixed(TOKEN_PREFIX, rng)
}

/// The secret as sent, if it can be one of ours.
fn parse_secret(text: &str) -> Option<Token> {
    let body = text.strip_prefix(TOKEN_PREFIX)?;
    // 32 bytes in unpadded base64url.
    (body.len() == TOKEN_BYTES.div_ceil(3) * 4 - 1)
        .then(|| Token::from_client(text))
        .flatten()
}

impl Keyward {
    /// The actor of a bearer call. Refused (and audited): a malformed or
    /// unknown secret, an expired or revoked token, an owner who is no
    /// longer active, and an owner held at two-step enrolment. Each call
    /// reads the token's row, so a revoked token stops at once.
    pub async fn bearer_actor(&self, ctx: &Ctx<'_>, secret: &str) -> Result<Actor, BearerError> {
        let Some(token) = parse_secret(secret) else {
            return Err(self
                .refuse_bearer(ctx, None, BearerError::Invalid, "malformed")
                .await);
        };
        let Some(found) = store::find_by_secret(&self.db, &token.digest()).await? else {
            return Err(self
                .refuse_bearer(ctx, None, BearerError::Invalid, "unknown")
                .await);
        };
        let id = Some(&found.id);
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
        if self.mfa_enrolment_due_of(&account).await? {
            let refused = BearerError::EnrolmentDue;
            return Err(self.refuse_bearer(ctx, id, refused, "enrolment_due").await);
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
        id: Option<&ApiTokenId>,
        refused: BearerError,
        why: &str,
    ) -> BearerError {
        let written = audit::insert(
            self.db.pool(),
            &AuditEntry {
                at: ctx.now,
                actor_id: None,
                api_token: id.map(ApiTokenId::as_str),
                target_id: None,
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
