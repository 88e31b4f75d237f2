//! Changing one's own password while signed in (R-SET-1): the current
//! password first (wrong guesses are throttled like sign-in failures), then
//! the policy of the account's kind; the other sessions end, the current one
//! stays, and a "password changed" email goes out.

use super::{Account, CurrentSession, store};
use crate::Ctx;
use crate::Keyward;
use crate::audit::{self, AuditEntry, action};
use crate::crypto::hashing::HashingError;
use crate::crypto::tokens::Token;
use crate::error::{Code, CodedError, Internal};
use crate::mail::{self, Outgoing, kind};
use crate::policy::{PasswordPolicy, PolicyKind, Violation};
use crate::types::Password;

#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    #[error("Your current password is not right.")]
    WrongCurrentPassword,
    /// The person has no keyward password: they sign in with their school's
    /// provider, which keeps their password.
    #[error("You sign in with {}, which keeps your password; keyward has none to change.", .0.provider_name)]
    SignsInWithSso(super::SsoSignIn),
    #[error("The new password doesn't meet the rules.")]
    PasswordPolicy {
        violations: Vec<Violation>,
        policy: PasswordPolicy,
    },
    #[error("Too many wrong passwords. Wait a little and try again.")]
    Throttled { retry_after_secs: u64 },
    #[error("The server is busy. Try again in a moment.")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for ChangePasswordError {
    fn code(&self) -> Code {
        match self {
            ChangePasswordError::WrongCurrentPassword => Code::WrongCurrentPassword,
            ChangePasswordError::SignsInWithSso(_) => Code::SignsInWithSso,
            ChangePasswordError::PasswordPolicy { .. } => Code::PasswordPolicy,
            ChangePasswordError::Throttled { .. } => Code::TooManyAttempts,
            ChangePasswordError::Busy { .. } => Code::ServerBusy,
            ChangePasswordError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ChangePasswordError::Throttled { retry_after_secs } => Some(*retry_after_secs),
            ChangePasswordError::Busy { retry_after_secs } => Some(*retry_after_secs),
            ChangePasswordError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }

    fn details(&self) -> Vec<(&'static str, serde_json::Value)> {
        match self {
            ChangePasswordError::PasswordPolicy { violations, .. } => {
                crate::policy::violation_details(violations)
            }
            ChangePasswordError::SignsInWithSso(sso) => sso.error_details(),
            _ => Vec::new(),
        }
    }
}

impl From<HashingError> for ChangePasswordError {
    fn from(err: HashingError) -> Self {
        match err {
            HashingError::Busy { retry_after_secs } => {
                ChangePasswordError::Busy { retry_after_secs }
            }
            HashingError::Internal(internal) => ChangePasswordError::Internal(internal),
        }
    }
}

crate::accounts::from_reauth!(ChangePasswordError, WrongCurrentPassword);

impl From<sqlx::Error> for ChangePasswordError {
    fn from(err: sqlx::Error) -> Self {
        ChangePasswordError::Internal(err.into())
    }
}

impl Keyward {
    /// The provider `user` signs in with when they are SSO-only (active,
    /// linked, no keyward password): Account Settings says so instead of
    /// asking for a password they do not have.
    pub async fn sso_only_sign_in(
        &self,
        user: &crate::types::UserId,
    ) -> Result<Option<super::SsoSignIn>, Internal> {
        store::sso_sign_in::sso_only_of(self.db.pool(), user).await
    }

    /// The signed-in person changes their own password.
    pub async fn change_own_password(
        &self,
        ctx: &Ctx<'_>,
        session: &CurrentSession,
        session_token: &Token,
        current: Password,
        password: Password,
        confirmation: &Password,
    ) -> Result<(), ChangePasswordError> {
        let account = &session.account;
        if let Some(sso) = self.sso_only_sign_in(&account.id).await? {
            return Err(ChangePasswordError::SignsInWithSso(sso));
        }
        let policy = self
            .password_policy(account.school_id.as_ref(), PolicyKind::of(account.role))
            .await?;
        // Over-long input is refused before any hashing.
        if current.is_over_long() {
            return Err(ChangePasswordError::WrongCurrentPassword);
        }
        if password.is_over_long() {
            return Err(ChangePasswordError::PasswordPolicy {
                violations: vec![Violation::TooLong],
                policy,
            });
        }
        let mut violations =
            policy.check_new(&password, confirmation, Some(account.username.as_str()));
        self.confirm_password(ctx, account, &current, action::PASSWORD_CHANGE)
            .await?;
        // A temporary password is known to the administrator who set it:
        // keeping it would leave the hold's purpose undone.
        if session.password_change_due && password.expose() == current.expose() {
            violations.push(Violation::SameAsTemporary);
        }
        if !violations.is_empty() {
            return Err(ChangePasswordError::PasswordPolicy { violations, policy });
        }
        let new_hash = self.hashing.hash(&password, ctx.rng).await?;
        let mut tx = self.db.begin_write().await?;
        store::set_password(&mut tx, &account.id, &new_hash, ctx.now).await?;
        store::end_sessions(&mut tx, &account.id, Some(&session_token.digest())).await?;
        self.enqueue_password_changed(&mut tx, ctx, account).await?;
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: Some(account.id.as_str()),
                api_token: None,
                target_id: Some(account.id.as_str()),
                school_id: account.school_id.as_ref().map(|s| s.as_str()),
                action: action::PASSWORD_CHANGE,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: None,
            },
        )
        .await?;
        tx.commit().await?;
        self.wake_mail_worker();
        Ok(())
    }
}

impl Keyward {
    /// Writes the "your password was changed" email, when the account has an address.
    pub(crate) async fn enqueue_password_changed(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        account: &Account,
    ) -> Result<(), Internal> {
        let Some(address) = &account.email else {
            return Ok(());
        };
        mail::enqueue(
            &mut *tx,
            ctx,
            &Outgoing {
                kind: kind::PASSWORD_CHANGED,
                user_id: Some(&account.id),
                to_address: address.as_str(),
                payload: serde_json::json!({ "changed_at": ctx.now.secs() }),
            },
        )
        .await
    }
}
