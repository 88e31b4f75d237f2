//! Changing one's own email address while signed in (R-MFA-1: the password
//! is asked again first, throttled like every current-password check). The
//! new address replaces the old one in one transaction with its audit row;
//! open reset links (sent to the old address) stop, and the old address is
//! told, with the new one masked and a "this wasn't me" link. An address is
//! required: it can be replaced, not removed. Addresses are not unique (a
//! family may share one), as everywhere else in keyward.

use super::store::{self, recovery_requests};
use super::{Account, CurrentSession};
use crate::Ctx;
use crate::Keyward;
use crate::audit::{self, AuditEntry, action};
use crate::error::{Code, CodedError, Internal};
use crate::mail::{self, Outgoing, kind};
use crate::types::{EmailAddress, Password};

#[derive(Debug, thiserror::Error)]
pub enum ChangeEmailError {
    #[error("Your current password is not right.")]
    WrongCurrentPassword,
    #[error("Enter an email address like name@example.org.")]
    EmailInvalid,
    #[error("That is already your email address.")]
    EmailUnchanged,
    #[error("Too many wrong passwords. Wait a little and try again.")]
    Throttled { retry_after_secs: u64 },
    #[error("The server is busy. Try again in a moment.")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for ChangeEmailError {
    fn code(&self) -> Code {
        match self {
            ChangeEmailError::WrongCurrentPassword => Code::WrongCurrentPassword,
            ChangeEmailError::EmailInvalid => Code::EmailInvalid,
            ChangeEmailError::EmailUnchanged => Code::EmailUnchanged,
            ChangeEmailError::Throttled { .. } => Code::TooManyAttempts,
            ChangeEmailError::Busy { .. } => Code::ServerBusy,
            ChangeEmailError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ChangeEmailError::Throttled { retry_after_secs }
            | ChangeEmailError::Busy { retry_after_secs } => Some(*retry_after_secs),
            ChangeEmailError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

crate::accounts::from_reauth!(ChangeEmailError, WrongCurrentPassword);

impl From<sqlx::Error> for ChangeEmailError {
    fn from(err: sqlx::Error) -> Self {
        ChangeEmailError::Internal(err.into())
    }
}

impl Keyward {
    /// The signed-in person replaces their own email address with `typed`:
    /// the password first, then the address. Answers the address now stored.
    pub async fn change_own_email(
        &self,
        ctx: &Ctx<'_>,
        session: &CurrentSession,
        password: &Password,
        typed: &str,
    ) -> Result<EmailAddress, ChangeEmailError> {
        let account = &session.account;
        self.confirm_password(ctx, account, password, action::EMAIL_CHANGE)
            .await?;
        let new = EmailAddress::parse(typed).map_err(|_| ChangeEmailError::EmailInvalid)?;
        let mut tx = self.db.begin_write().await?;
        // The address being replaced, read under the row: of two changes at
        // once, each tells the address it really replaced.
        let old = store::lock_email(&mut tx, &account.id)
            .await?
            .ok_or_else(|| Internal::new("the signed-in account is no longer active"))?;
        if old.as_ref().is_some_and(|old| old.key() == new.key()) {
            return Err(ChangeEmailError::EmailUnchanged);
        }
        store::set_email(&mut tx, &account.id, &new).await?;
        recovery_requests::end_open_requests(
            &mut tx,
            &account.id,
            recovery_requests::ended::EMAIL_CHANGED,
            ctx.now,
        )
        .await?;
        if let Some(old) = &old {
            self.enqueue_email_changed(&mut tx, ctx, account, old, &new)
                .await?;
        }
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: Some(account.id.as_str()),
                api_token: None,
                target_id: Some(account.id.as_str()),
                school_id: account.school_id.as_ref().map(|s| s.as_str()),
                action: action::EMAIL_CHANGE,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(if old.is_some() { "replaced" } else { "added" }),
            },
        )
        .await?;
        tx.commit().await?;
        self.wake_mail_worker();
        Ok(new)
    }

    /// Writes the "your email address was changed" notice to the old address;
    /// it names the new one masked only.
    async fn enqueue_email_changed(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        account: &Account,
        old: &EmailAddress,
        new: &EmailAddress,
    ) -> Result<(), Internal> {
        mail::enqueue(
            &mut *tx,
            ctx,
            &Outgoing {
                kind: kind::EMAIL_CHANGED,
                user_id: Some(&account.id),
                to_address: old.as_str(),
                payload: serde_json::json!({
                    "changed_at": ctx.now.secs(),
                    "new_address_masked": new.masked(),
                }),
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests;
