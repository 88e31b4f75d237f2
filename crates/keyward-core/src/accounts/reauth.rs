//! Asking a signed-in person for their password again before a change that
//! matters (registering or removing a passkey): the same counter as the
//! current password of **Update Password**, reserved before the hash, and a
//! wrong password audited under the caller's action.

use super::throttle::{self, ThrottleKey};
use super::{Account, store};
use crate::Ctx;
use crate::Keyward;
use crate::audit::{self, AuditEntry};
use crate::crypto::hashing::HashingError;
use crate::error::{Code, CodedError, Internal};
use crate::types::Password;

/// Why the password typed again was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ReauthError {
    #[error("Your current password is not right.")]
    WrongPassword,
    #[error("Too many wrong passwords. Wait a little and try again.")]
    Throttled { retry_after_secs: u64 },
    #[error("The server is busy. Try again in a moment.")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for ReauthError {
    fn code(&self) -> Code {
        match self {
            ReauthError::WrongPassword => Code::WrongCurrentPassword,
            ReauthError::Throttled { .. } => Code::TooManyAttempts,
            ReauthError::Busy { .. } => Code::ServerBusy,
            ReauthError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ReauthError::Throttled { retry_after_secs }
            | ReauthError::Busy { retry_after_secs } => Some(*retry_after_secs),
            ReauthError::Internal(internal) => internal.retry_after_secs(),
            ReauthError::WrongPassword => None,
        }
    }
}

impl Keyward {
    /// Checks the password `account` typed again. A wrong one counts against
    /// the account's current-password counter (shared with **Update
    /// Password**) and is audited as a failed `action`.
    pub(crate) async fn confirm_own_password(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        password: &Password,
        action: &'static str,
    ) -> Result<(), ReauthError> {
        // Over-long input is refused before any hashing.
        if password.is_over_long() {
            return Err(ReauthError::WrongPassword);
        }
        let key = ThrottleKey::current_password(account.id.as_str(), &self.settings.throttle);
        let attempt = match throttle::reserve(&self.db, vec![key], ctx.now).await? {
            Ok(attempt) => attempt,
            Err(retry_after_secs) => return Err(ReauthError::Throttled { retry_after_secs }),
        };
        let stored =
            store::find_credentials_by_username_key(&self.db, account.username.key()).await?;
        let hash = stored
            .as_ref()
            .filter(|c| c.account.id == account.id)
            .and_then(|c| c.password_hash.as_deref());
        let verification = match self.hashing.verify(password, hash).await {
            Ok(verification) => verification,
            Err(HashingError::Busy { retry_after_secs }) => {
                attempt.refund(&self.db).await?;
                return Err(ReauthError::Busy { retry_after_secs });
            }
            Err(HashingError::Internal(internal)) => {
                attempt.refund(&self.db).await?;
                return Err(internal.into());
            }
        };
        if !verification.matches {
            attempt.failed();
            audit::insert(
                self.db.pool(),
                &AuditEntry {
                    at: ctx.now,
                    actor_id: Some(account.id.as_str()),
                    target_id: Some(account.id.as_str()),
                    school_id: account.school_id.as_ref().map(|s| s.as_str()),
                    action,
                    outcome: "failure",
                    client_addr: ctx.client_addr.as_deref(),
                    detail: Some("wrong_current_password"),
                },
            )
            .await?;
            return Err(ReauthError::WrongPassword);
        }
        attempt.succeeded_now(&self.db).await?;
        Ok(())
    }
}
