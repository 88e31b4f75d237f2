//! Asking a signed-in person for their password again before a sensitive
//! change (R-SET-1, R-MFA-1): changing the password, turning two-step
//! verification on or off, new recovery codes, passkeys, the email address.
//! Wrong passwords are counted per account before the hash, like sign-in
//! failures, and each one is written to the audit trail under the action of
//! the change it guarded.

use super::Account;
use super::store;
use super::throttle::{self, ThrottleKey};
use crate::Ctx;
use crate::Keyward;
use crate::audit::{self, AuditEntry};
use crate::crypto::hashing::HashingError;
use crate::error::Internal;
use crate::types::Password;

/// Why the password typed again was not accepted.
#[derive(Debug)]
pub enum ReauthError {
    WrongPassword,
    Throttled { retry_after_secs: u64 },
    Busy { retry_after_secs: u64 },
    Internal(Internal),
}

impl From<Internal> for ReauthError {
    fn from(err: Internal) -> Self {
        ReauthError::Internal(err)
    }
}

impl From<HashingError> for ReauthError {
    fn from(err: HashingError) -> Self {
        match err {
            HashingError::Busy { retry_after_secs } => ReauthError::Busy { retry_after_secs },
            HashingError::Internal(internal) => ReauthError::Internal(internal),
        }
    }
}

/// `From<ReauthError>` for a use case's error enum, which names its wrong
/// password `$wrong` and has `Throttled { retry_after_secs }`,
/// `Busy { retry_after_secs }` and `Internal(Internal)` like this one.
macro_rules! from_reauth {
    ($error:ident, $wrong:ident) => {
        impl From<$crate::accounts::ReauthError> for $error {
            fn from(err: $crate::accounts::ReauthError) -> Self {
                use $crate::accounts::ReauthError;
                match err {
                    ReauthError::WrongPassword => $error::$wrong,
                    ReauthError::Throttled { retry_after_secs } => {
                        $error::Throttled { retry_after_secs }
                    }
                    ReauthError::Busy { retry_after_secs } => $error::Busy { retry_after_secs },
                    ReauthError::Internal(internal) => $error::Internal(internal),
                }
            }
        }
    };
}
pub(crate) use from_reauth;

impl Keyward {
    /// Checks `password` against `account`'s own; a failure is audited as
    /// `action` with detail `wrong_current_password`.
    pub async fn confirm_password(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        password: &Password,
        action: &'static str,
    ) -> Result<(), ReauthError> {
        if password.is_over_long() {
            return Err(ReauthError::WrongPassword);
        }
        // Counted before the hash, so parallel guesses get no more tries.
        let key = ThrottleKey::current_password(account.id.as_str(), &self.settings.throttle);
        let attempt = match throttle::reserve(&self.db, vec![key], ctx.now).await? {
            Ok(attempt) => attempt,
            Err(retry_after_secs) => return Err(ReauthError::Throttled { retry_after_secs }),
        };
        let stored =
            store::find_credentials_by_username_key(&self.db, account.username.key()).await?;
        let hash = stored.as_ref().and_then(|c| c.password_hash.as_deref());
        let verification = match self.hashing.verify(password, hash).await {
            Ok(verification) => verification,
            Err(err) => {
                attempt.refund(&self.db).await?;
                return Err(err.into());
            }
        };
        if !verification.matches {
            attempt.failed();
            audit::insert_alone(
                &self.db,
                &AuditEntry {
                    at: ctx.now,
                    actor_id: Some(account.id.as_str()),
                    api_token: None,
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
