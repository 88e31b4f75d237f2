//! Disabling and enabling accounts (R-ADM-4), with `users.manage` over the
//! person. Disabling ends, in the transaction that changes the status, every
//! way in the account still had: its sessions and sign-ins waiting for their
//! second step, its open reset links and codes, and its unused access code
//! and parent access code — each through the module that owns its table.
//! Signing in to a disabled account fails exactly like a wrong password (see
//! `accounts`). Enabling gives the account back its status: `active` with a
//! password, else `pending` (then it needs a new access code).

use crate::Ctx;
use crate::Keyward;
use crate::accounts::Account;
use crate::accounts::recovery_requests::{self, ended};
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Target};
use crate::error::{Code, CodedError, Internal};
use crate::types::{SchoolId, UserId};

#[derive(Debug, thiserror::Error)]
pub enum AccountStatusError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("This account is already disabled.")]
    AlreadyDisabled,
    #[error("This account is not disabled, so there is nothing to enable.")]
    NotDisabled,
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for AccountStatusError {
    fn code(&self) -> Code {
        match self {
            AccountStatusError::Denied(denied) => denied.code(),
            AccountStatusError::AlreadyDisabled => Code::AlreadyDisabled,
            AccountStatusError::NotDisabled => Code::NotDisabled,
            AccountStatusError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AccountStatusError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for AccountStatusError {
    fn from(err: sqlx::Error) -> Self {
        AccountStatusError::Internal(err.into())
    }
}

fn status_audit<'a>(
    ctx: &'a Ctx<'_>,
    actor: &'a Actor,
    act: &'static str,
    account: &'a Account,
    detail: &'a str,
) -> AuditEntry<'a> {
    AuditEntry {
        at: ctx.now,
        actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
        target_id: Some(account.id.as_str()),
        school_id: account.school_id.as_ref().map(SchoolId::as_str),
        action: act,
        outcome: "success",
        client_addr: ctx.client_addr.as_deref(),
        detail: Some(detail),
        api_token: actor.api_token_id(),
    }
}

impl Keyward {
    /// The account of someone the actor may manage (`users.manage` over
    /// them), for a page that asks to confirm disabling it; a refusal is
    /// audited. Opens no code.
    pub async fn account_to_manage(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        user: &UserId,
    ) -> Result<Account, AccountStatusError> {
        let target = self.user_target(user).await?.ok_or(Denied::Hidden)?;
        self.authorize_audited(ctx, actor, Action::ManageUser, Target::User(&target))
            .await?;
        Ok(crate::accounts::find_account(&self.db, user)
            .await?
            .ok_or(Denied::Hidden)?)
    }

    /// Disables an account. When this returns, no session, pending second
    /// step, reset link or code of the account works any more: they end in
    /// the transaction that changes the status. Of parallel requests, one
    /// disables; the others are told it is disabled already.
    pub async fn disable_user(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        user: &UserId,
    ) -> Result<Account, AccountStatusError> {
        let target = self.user_target(user).await?.ok_or(Denied::Hidden)?;
        self.authorize_audited(ctx, actor, Action::ManageUser, Target::User(&target))
            .await?;
        let mut tx = self.db.begin_write().await?;
        if !crate::accounts::store::disable_user(&mut tx, user).await? {
            return Err(AccountStatusError::AlreadyDisabled);
        }
        crate::accounts::end_sessions(&mut tx, user, None).await?;
        recovery_requests::end_open_requests(&mut tx, user, ended::ACCOUNT_DISABLED, ctx.now)
            .await?;
        let codes = crate::activation::end_codes_of(&mut tx, user, ctx.now).await?;
        let account = crate::accounts::find_account_in(&mut tx, user)
            .await?
            .ok_or(Denied::Hidden)?;
        let detail = format!("codes_ended={codes}");
        audit::insert(
            &mut *tx,
            &status_audit(ctx, actor, action::USER_DISABLE, &account, &detail),
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// Enables a disabled account: `active` again when it has a password,
    /// else `pending` (staff then issue a new access code, since disabling
    /// ended the old one).
    pub async fn enable_user(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        user: &UserId,
    ) -> Result<Account, AccountStatusError> {
        let target = self.user_target(user).await?.ok_or(Denied::Hidden)?;
        self.authorize_audited(ctx, actor, Action::ManageUser, Target::User(&target))
            .await?;
        let mut tx = self.db.begin_write().await?;
        let status = crate::accounts::store::enable_user(&mut tx, user)
            .await?
            .ok_or(AccountStatusError::NotDisabled)?;
        let account = crate::accounts::find_account_in(&mut tx, user)
            .await?
            .ok_or(Denied::Hidden)?;
        let detail = format!("status={}", status.as_str());
        audit::insert(
            &mut *tx,
            &status_audit(ctx, actor, action::USER_ENABLE, &account, &detail),
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }
}

#[cfg(test)]
mod tests;
