//! Administrators acting on other people's credentials (seed 001's
//! Utilities > Security > Users > the user): **Reset Password** by emailed
//! link (R-ADM-2), a temporary password that must be replaced at once
//! (R-ADM-3), and removing a person's two-step verification (R-ADM-4).
//!
//! Every one authorizes first (the action, and `users.view`: seed 001 asks
//! for both), then asks for a second factor on the administrator's own
//! account, then decides on the target under its row's lock. Every outcome
//! past authorization is audited (`admin.*`, `success` or `refused` with the
//! reason), never a link or a password. The tables touched belong to their
//! owners: links to `recovery`, passwords and sessions to `accounts`, the
//! second factors to `mfa` and `passkeys`.

use std::time::Duration;

use askama::Template;

use crate::accounts::{self, Account, AccountStatus, SsoSignIn};
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Target};
use crate::crypto::hashing::HashingError;
use crate::error::{Code, CodedError, Internal};
use crate::i18n::{Message, Translate as _};
use crate::mail::{self, Composed, MailFrame, OutboxRow, Outgoing, kind, render_pair};
use crate::policy::PolicyKind;
use crate::types::{Password, SchoolId, UnixTime, UserId};
use crate::{Ctx, Keyward};

/// Where an administrator turns on their own two-step verification.
pub use crate::accounts::ENABLE_MFA_AT;

/// What keyward offers instead of a reset link to someone who never signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// A pending account: a new access code (**Use a code**).
    AccessCode,
    /// An active account whose owner never signed in: a temporary password.
    TemporaryPassword,
}

impl Offer {
    pub fn as_str(self) -> &'static str {
        match self {
            Offer::AccessCode => "access_code",
            Offer::TemporaryPassword => "temporary_password",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminResetError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(
        "Turn on two-step verification on your own account first: only administrators who use it may reset other people's credentials."
    )]
    MfaRequired,
    #[error(
        "This person has never signed in, so keyward cannot send them a reset link. {}",
        match .0 { Offer::AccessCode => "Give them a new access code instead.", Offer::TemporaryPassword => "Set a temporary password instead." }
    )]
    NeverSignedIn(Offer),
    #[error(
        "This person has no email address, so keyward cannot send them a link. Set a temporary password instead."
    )]
    NoEmail,
    #[error("This account is disabled. Enable it first.")]
    NotActive,
    #[error(
        "This person signs in with {}, so they have no keyward password to reset. Unlink {} on their page, or set a temporary password.",
        .0.provider_name, .0.provider_name
    )]
    SignsInWithSso(SsoSignIn),
    #[error(
        "This person has been sent as many reset links as keyward sends in an hour. The newest one still works; try again later."
    )]
    TooManyLinks,
    #[error("This person has no two-step verification to remove.")]
    NothingToRemove,
    #[error("The server is busy. Try again in a moment.")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for AdminResetError {
    fn code(&self) -> Code {
        match self {
            AdminResetError::Denied(denied) => denied.code(),
            AdminResetError::MfaRequired => Code::MfaRequired,
            AdminResetError::NeverSignedIn(_) => Code::NeverSignedIn,
            AdminResetError::NoEmail => Code::NoEmailAddress,
            AdminResetError::NotActive => Code::AccountNotActive,
            AdminResetError::SignsInWithSso(_) => Code::SignsInWithSso,
            AdminResetError::TooManyLinks => Code::TooManyRequests,
            AdminResetError::NothingToRemove => Code::MfaNotEnabled,
            AdminResetError::Busy { .. } => Code::ServerBusy,
            AdminResetError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            // The oldest link of the hour leaves the count within the hour.
            AdminResetError::TooManyLinks => Some(3600),
            AdminResetError::Busy { retry_after_secs } => Some(*retry_after_secs),
            AdminResetError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }

    fn details(&self) -> Vec<(&'static str, serde_json::Value)> {
        match self {
            AdminResetError::MfaRequired => vec![("enable_at", ENABLE_MFA_AT.into())],
            AdminResetError::NeverSignedIn(offer) => vec![("offer", offer.as_str().into())],
            AdminResetError::SignsInWithSso(sso) => sso.error_details(),
            _ => Vec::new(),
        }
    }
}

impl From<sqlx::Error> for AdminResetError {
    fn from(err: sqlx::Error) -> Self {
        AdminResetError::Internal(err.into())
    }
}

impl From<HashingError> for AdminResetError {
    fn from(err: HashingError) -> Self {
        match err {
            HashingError::Busy { retry_after_secs } => AdminResetError::Busy { retry_after_secs },
            HashingError::Internal(internal) => AdminResetError::Internal(internal),
        }
    }
}

/// A reset link on its way (R-ADM-2).
#[derive(Debug, Clone)]
pub struct ResetLinkSent {
    /// The address, masked (`a***@example.org`).
    pub sent_to: String,
    /// How long the link works (`recovery.link_ttl`).
    pub expires_in: Duration,
}

/// A temporary password, in plain form once, for the administrator to pass on.
pub struct TemporaryPassword {
    pub password: Password,
    pub expires_at: UnixTime,
}

impl std::fmt::Debug for TemporaryPassword {
    // The password never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemporaryPassword")
            .field("password", &self.password)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What an MFA reset removed (R-ADM-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaRemoved {
    pub authenticator_app: bool,
    pub recovery_codes: u64,
    pub passkeys: u64,
}

/// The person an administrator acts on, as the page's confirm step shows them.
#[derive(Debug, Clone)]
pub struct ResetTarget {
    pub account: Account,
    /// Their address, masked.
    pub email_masked: Option<String>,
    pub link_ttl: Duration,
    pub temporary_password_ttl: Duration,
    /// The provider of a person who signs in only with it (no keyward
    /// password, so no reset link).
    pub sso_only: Option<SsoSignIn>,
}

impl ResetTarget {
    /// Why no reset link can go to this person now (the confirm page says
    /// so before the button; sending decides again under the row's lock).
    pub fn link_blocked(&self) -> Option<AdminResetError> {
        link_refusal(&self.account, self.sso_only.clone()).err()
    }

    /// Why this person cannot be given a temporary password now.
    pub fn temporary_blocked(&self) -> Option<AdminResetError> {
        temporary_refusal(&self.account).err()
    }
}

fn entry<'a>(
    ctx: &'a Ctx<'_>,
    actor: &'a Actor,
    act: &'static str,
    account: &'a Account,
    outcome: &'static str,
    detail: Option<&'a str>,
) -> AuditEntry<'a> {
    AuditEntry {
        at: ctx.now,
        actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
        target_id: Some(account.id.as_str()),
        school_id: account.school_id.as_ref().map(SchoolId::as_str),
        action: act,
        outcome,
        client_addr: ctx.client_addr.as_deref(),
        detail,
        api_token: actor.api_token_id(),
    }
}

/// The stable reason of a refusal, for the audit trail.
fn reason(err: &AdminResetError) -> &'static str {
    match err {
        AdminResetError::NeverSignedIn(_) => "never_signed_in",
        AdminResetError::NoEmail => "no_email_address",
        AdminResetError::NotActive => "account_not_active",
        AdminResetError::SignsInWithSso(_) => "signs_in_with_sso",
        AdminResetError::TooManyLinks => "too_many_links",
        AdminResetError::NothingToRemove => "mfa_not_enabled",
        AdminResetError::MfaRequired => "mfa_required",
        _ => "error",
    }
}

impl Keyward {
    /// Whether the actor has a second factor of their own ("MFA on
    /// yourself"): one turned on in keyward, or one used at their school's
    /// provider in this session's single sign-on (which the school trusts).
    async fn has_own_second_factor(&self, actor: &Actor) -> Result<bool, Internal> {
        Ok(actor.second_factor_at_provider || self.second_factors_of(&actor.user_id).await?.any())
    }

    /// Authorizes `act` and `users.view` on `user` (each refusal audited),
    /// then asks for a second factor on the actor's own account (a refusal
    /// audited under `audit_as`). The operator at the command line has no
    /// account and holds every right already.
    async fn admin_may(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        act: Action,
        audit_as: &'static str,
        user: &UserId,
    ) -> Result<Account, AdminResetError> {
        let target = self.user_target(user).await?.ok_or(Denied::Hidden)?;
        self.authorize_audited(ctx, actor, act, Target::User(&target))
            .await?;
        self.authorize_audited(ctx, actor, Action::ViewUser, Target::User(&target))
            .await?;
        let account = accounts::find_account(&self.db, user)
            .await?
            .ok_or(Denied::Hidden)?;
        if !actor.is_operator() && !self.has_own_second_factor(actor).await? {
            let err = AdminResetError::MfaRequired;
            let audited = entry(
                ctx,
                actor,
                audit_as,
                &account,
                "refused",
                Some(reason(&err)),
            );
            audit::insert_alone(&self.db, &audited).await?;
            return Err(err);
        }
        Ok(account)
    }

    /// The administrator's name as the person will read it in an email.
    async fn admin_name(&self, actor: &Actor) -> Result<String, Internal> {
        if actor.is_operator() {
            return Ok("keyward's operator".to_owned());
        }
        Ok(accounts::find_account(&self.db, &actor.user_id)
            .await?
            .map(|a| a.display_name())
            .unwrap_or_else(|| "your administrator".to_owned()))
    }

    /// Writes the audit row of a refusal past authorization and gives the
    /// refusal back (the caller's transaction is dropped unwritten).
    async fn refuse(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        act: &'static str,
        account: &Account,
        err: AdminResetError,
    ) -> AdminResetError {
        let audited = entry(ctx, actor, act, account, "refused", Some(reason(&err)));
        match audit::insert_alone(&self.db, &audited).await {
            Ok(()) => err,
            Err(internal) => internal.into(),
        }
    }

    /// The person and what the confirm steps say about them: what an
    /// administrator allowed to reset their password sees before confirming.
    pub async fn reset_target(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        user: &UserId,
        act: Action,
    ) -> Result<ResetTarget, AdminResetError> {
        let target = self.user_target(user).await?.ok_or(Denied::Hidden)?;
        self.authorize_audited(ctx, actor, act, Target::User(&target))
            .await?;
        self.authorize_audited(ctx, actor, Action::ViewUser, Target::User(&target))
            .await?;
        let account = accounts::find_account(&self.db, user)
            .await?
            .ok_or(Denied::Hidden)?;
        if !actor.is_operator() && !self.has_own_second_factor(actor).await? {
            return Err(AdminResetError::MfaRequired);
        }
        let sso_only = accounts::sso_only_of(self.db.pool(), user).await?;
        Ok(ResetTarget {
            email_masked: account.email.as_ref().map(|e| e.masked()),
            sso_only,
            account,
            link_ttl: self.settings.recovery.link_ttl,
            temporary_password_ttl: self.settings.admin.temporary_password_ttl,
        })
    }

    /// **Reset Password** (R-ADM-2, seed 001): the person receives the
    /// forgot-password email, marked as sent at their administrator's
    /// request, with a link working `recovery.link_ttl`. Refused for someone
    /// who never signed in (offering an access code, or a temporary password
    /// for an active account), without an email address, or disabled; and
    /// over the account's hourly link limit (429), which self-service
    /// requests share.
    pub async fn send_password_reset(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        user: &UserId,
    ) -> Result<ResetLinkSent, AdminResetError> {
        let act = action::ADMIN_PASSWORD_RESET;
        self.admin_may(ctx, actor, Action::ResetPassword, act, user)
            .await?;
        let admin_name = self.admin_name(actor).await?;
        let mut tx = self.db.begin_write().await?;
        let account = accounts::lock_account(&mut tx, user)
            .await?
            .ok_or(Denied::Hidden)?;
        let sso_only = accounts::sso_only_of(&mut *tx, user).await?;
        let address = match link_refusal(&account, sso_only) {
            Err(err) => {
                drop(tx);
                return Err(self.refuse(ctx, actor, act, &account, err).await);
            }
            Ok(address) => address,
        };
        if !self
            .issue_link_for_admin(&mut tx, ctx, &account, &address, &admin_name)
            .await?
        {
            drop(tx);
            let err = AdminResetError::TooManyLinks;
            return Err(self.refuse(ctx, actor, act, &account, err).await);
        }
        audit::insert(&mut *tx, &entry(ctx, actor, act, &account, "success", None)).await?;
        tx.commit().await?;
        self.wake_mail_worker();
        Ok(ResetLinkSent {
            sent_to: address.masked(),
            expires_in: self.settings.recovery.link_ttl,
        })
    }

    /// A temporary password (R-ADM-3): generated under the person's rules,
    /// stored only as its hash, working `admin.temporary_password_ttl`; the
    /// person must replace it before anything else. Their sessions, pending
    /// sign-ins and open reset links end; two-step verification stays.
    pub async fn set_temporary_password(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        user: &UserId,
    ) -> Result<TemporaryPassword, AdminResetError> {
        let act = action::ADMIN_TEMPORARY_PASSWORD;
        let account = self
            .admin_may(ctx, actor, Action::ResetPassword, act, user)
            .await?;
        if let Err(err) = temporary_refusal(&account) {
            return Err(self.refuse(ctx, actor, act, &account, err).await);
        }
        let policy = self
            .password_policy(account.school_id.as_ref(), PolicyKind::of(account.role))
            .await?;
        let username = account.username.as_str();
        let password = self.generated_password(&policy, Some(username), ctx)?;
        if !policy.check(&password, Some(username)).is_empty() {
            return Err(Internal::new("a generated password breaks its own rules").into());
        }
        let hash = self.hashing.hash(&password, ctx.rng).await?;
        let expires_at = ctx.now.plus(self.settings.admin.temporary_password_ttl);
        let mut tx = self.db.begin_write().await?;
        let account = accounts::lock_account(&mut tx, user)
            .await?
            .ok_or(Denied::Hidden)?;
        if let Err(err) = temporary_refusal(&account) {
            drop(tx);
            return Err(self.refuse(ctx, actor, act, &account, err).await);
        }
        accounts::set_password(&mut tx, &account.id, &hash, ctx.now).await?;
        accounts::mark_temporary_password(&mut tx, &account.id, expires_at).await?;
        accounts::end_sessions(&mut tx, &account.id, None).await?;
        self.enqueue_password_changed(&mut tx, ctx, &account)
            .await?;
        audit::insert(&mut *tx, &entry(ctx, actor, act, &account, "success", None)).await?;
        tx.commit().await?;
        self.wake_mail_worker();
        Ok(TemporaryPassword {
            password,
            expires_at,
        })
    }

    /// Removes a person's two-step verification (R-ADM-4): their
    /// authenticator app, recovery codes and passkeys; every session and
    /// pending sign-in of theirs ends, and they are emailed. Their password
    /// stays.
    pub async fn reset_mfa(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        user: &UserId,
    ) -> Result<MfaRemoved, AdminResetError> {
        let act = action::ADMIN_MFA_RESET;
        self.admin_may(ctx, actor, Action::ResetMfa, act, user)
            .await?;
        let admin_name = self.admin_name(actor).await?;
        let mut tx = self.db.begin_write().await?;
        let account = accounts::lock_account(&mut tx, user)
            .await?
            .ok_or(Denied::Hidden)?;
        let (sealed_id, recovery_codes) =
            crate::mfa::store::delete_all_of(&mut tx, &account.id).await?;
        if let Some(sealed_id) = &sealed_id {
            crate::crypto::store::delete_sealed(&mut tx, sealed_id).await?;
        }
        let passkeys = crate::passkeys::store::delete_all_of(&mut tx, &account.id).await?;
        let removed = MfaRemoved {
            authenticator_app: sealed_id.is_some(),
            recovery_codes,
            passkeys,
        };
        if !removed.authenticator_app && removed.recovery_codes == 0 && removed.passkeys == 0 {
            drop(tx);
            let err = AdminResetError::NothingToRemove;
            return Err(self.refuse(ctx, actor, act, &account, err).await);
        }
        accounts::end_sessions(&mut tx, &account.id, None).await?;
        if let Some(address) = &account.email {
            mail::enqueue(
                &mut *tx,
                ctx,
                &Outgoing {
                    kind: kind::MFA_RESET,
                    user_id: Some(&account.id),
                    to_address: address.as_str(),
                    payload: serde_json::json!({
                        "by_admin": admin_name,
                        "changed_at": ctx.now.secs(),
                    }),
                },
            )
            .await?;
        }
        let detail = format!(
            "authenticator_app={} recovery_codes={} passkeys={}",
            u8::from(removed.authenticator_app),
            removed.recovery_codes,
            removed.passkeys
        );
        let audited = entry(ctx, actor, act, &account, "success", Some(&detail));
        audit::insert(&mut *tx, &audited).await?;
        tx.commit().await?;
        self.wake_mail_worker();
        Ok(removed)
    }
}

/// Why a reset link cannot go to `account` (SSO-only through `sso_only`),
/// else its address.
fn link_refusal(
    account: &Account,
    sso_only: Option<SsoSignIn>,
) -> Result<crate::types::EmailAddress, AdminResetError> {
    match account.status {
        AccountStatus::Pending => return Err(AdminResetError::NeverSignedIn(Offer::AccessCode)),
        AccountStatus::Disabled => return Err(AdminResetError::NotActive),
        AccountStatus::Active => {}
    }
    if let Some(sso) = sso_only {
        return Err(AdminResetError::SignsInWithSso(sso));
    }
    if account.last_sign_in_at.is_none() {
        return Err(AdminResetError::NeverSignedIn(Offer::TemporaryPassword));
    }
    account.email.clone().ok_or(AdminResetError::NoEmail)
}

/// Why `account` cannot be given a temporary password: a pending account
/// has no username yet (its access code is the way in), a disabled one
/// cannot sign in.
fn temporary_refusal(account: &Account) -> Result<(), AdminResetError> {
    match account.status {
        AccountStatus::Pending => Err(AdminResetError::NeverSignedIn(Offer::AccessCode)),
        AccountStatus::Disabled => Err(AdminResetError::NotActive),
        AccountStatus::Active => Ok(()),
    }
}

#[derive(Template)]
#[template(path = "mail/mfa_reset.txt")]
struct MfaResetText<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
    admin: &'a str,
    when: &'a str,
}

#[derive(Template)]
#[template(path = "mail/mfa_reset.html")]
struct MfaResetHtml<'a> {
    frame: &'a MailFrame,
    name: &'a str,
    username: &'a str,
    admin: &'a str,
    when: &'a str,
}

impl Keyward {
    /// "Your administrator removed two-step verification" (R-ADM-4).
    pub(crate) async fn compose_mfa_reset(&self, row: &OutboxRow) -> Result<Composed, Internal> {
        let Some(user_id) = &row.user_id else {
            return Ok(Composed::Skip("no account in the row"));
        };
        let Some(account) = accounts::find_account(&self.db, user_id)
            .await?
            .filter(|a| a.status == AccountStatus::Active)
        else {
            return Ok(Composed::Skip("account no longer active"));
        };
        let admin = row
            .payload
            .get("by_admin")
            .and_then(|v| v.as_str())
            .unwrap_or("your administrator");
        let changed = row
            .payload
            .get("changed_at")
            .and_then(|v| v.as_i64())
            .unwrap_or(row.created_at.secs());
        let when = crate::recovery::mail_time(UnixTime(changed));
        let frame = mail::frame(&self.db, Some(&account.id)).await?;
        let (name, username) = (account.display_name(), account.username.to_string());
        let email = render_pair(
            &row.to_address,
            &frame,
            Message::new("mail-mfa-reset-subject"),
            &MfaResetText {
                frame: &frame,
                name: &name,
                username: &username,
                admin,
                when: &when,
            },
            &MfaResetHtml {
                frame: &frame,
                name: &name,
                username: &username,
                admin,
                when: &when,
            },
        )?;
        Ok(Composed::Send(email))
    }
}

#[cfg(test)]
mod tests;
