//! The second step of a sign-in (R-MFA-1): after the right password, a person
//! with two-step verification gets a short-lived *pending step* instead of a
//! session. The module that checks the second factor (a code, a recovery code
//! or a passkey) then finishes the sign-in here, claiming the step once, in
//! the transaction that consumed the factor. A sign-in that needs no password
//! (a passkey from the first screen) opens its session here too.

use std::time::Duration;

use super::store::{self, SessionVia, sign_in_steps};
use super::{Account, AccountStatus, CSRF_PURPOSE, SignedIn};
use crate::Ctx;
use crate::Keyward;
use crate::audit::{self, AuditEntry, action};
use crate::crypto::tokens::Token;
use crate::error::Internal;
use crate::types::SsoProviderId;

/// How long a pending step waits for its second factor.
pub const SECOND_STEP_TTL: Duration = Duration::from_secs(5 * 60);

/// Which second factors an account has turned on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecondFactors {
    /// An authenticator app (with its recovery codes).
    pub totp: bool,
    /// One or more passkeys.
    pub passkeys: bool,
}

impl SecondFactors {
    /// True when any second factor is on: sign-in then asks for it.
    pub fn any(self) -> bool {
        self.totp || self.passkeys
    }
}

/// What a right password leads to.
// Made once per sign-in and taken apart at once: boxing the session would
// buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "made once per sign-in and moved once; boxing buys nothing"
)]
pub enum SignInOutcome {
    /// Signed in: the session is open.
    Complete(SignedIn),
    /// The password was right; the second step is still to come.
    SecondStep(PendingSignIn),
}

impl SignInOutcome {
    /// The session, when no second step was needed.
    pub fn complete(self) -> Option<SignedIn> {
        match self {
            SignInOutcome::Complete(signed_in) => Some(signed_in),
            SignInOutcome::SecondStep(_) => None,
        }
    }

    /// The pending step, when one is needed.
    pub fn second_step(self) -> Option<PendingSignIn> {
        match self {
            SignInOutcome::Complete(_) => None,
            SignInOutcome::SecondStep(pending) => Some(pending),
        }
    }
}

/// A sign-in waiting for its second step: the token goes into a short-lived
/// cookie once and is never stored.
pub struct PendingSignIn {
    pub token: Token,
    pub second_factors: SecondFactors,
    pub expires_in: Duration,
}

impl std::fmt::Debug for PendingSignIn {
    // The token never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("token", &self.token)
            .field("second_factors", &self.second_factors)
            .finish()
    }
}

/// A live pending step, found from its cookie.
#[derive(Debug, Clone)]
pub struct PendingStep {
    pub account: Account,
    pub second_factors: SecondFactors,
    digest: crate::crypto::tokens::TokenDigest,
}

impl Keyward {
    /// The pending step behind a cookie value, if it is alive and its
    /// account still active.
    pub async fn pending_sign_in(
        &self,
        ctx: &Ctx<'_>,
        token: &Token,
    ) -> Result<Option<PendingStep>, Internal> {
        let digest = token.digest();
        let Some(account) = sign_in_steps::find_step(&self.db, &digest, ctx.now).await? else {
            return Ok(None);
        };
        if account.status != AccountStatus::Active {
            return Ok(None);
        }
        let second_factors = sign_in_steps::second_factors(self.db.pool(), &account.id).await?;
        Ok(Some(PendingStep {
            account,
            second_factors,
            digest,
        }))
    }

    /// Forgets a pending step (**Cancel** on the second step).
    pub async fn cancel_sign_in(&self, token: &Token) -> Result<(), Internal> {
        let _turn = self.db.write_turn().await?;
        sign_in_steps::delete_step(self.db.pool(), &token.digest()).await
    }

    /// Finishes the sign-in of `pending` in the caller's transaction, which
    /// has just consumed the second factor `how` (for the audit trail):
    /// claims the step once and opens the session. `None` when the step was
    /// already used or has expired (the caller rolls back).
    pub(crate) async fn finish_sign_in(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        pending: &PendingStep,
        how: &'static str,
    ) -> Result<Option<SignedIn>, Internal> {
        let account = &pending.account;
        let Some(provider) =
            sign_in_steps::claim_step(tx, &pending.digest, &account.id, ctx.now).await?
        else {
            return Ok(None);
        };
        // A sign-in through a provider stays one after keyward's own step.
        let via = SessionVia {
            provider: provider.as_ref(),
            mfa_at_provider: false,
        };
        self.open_session_with(tx, ctx, account.clone(), None, how, via)
            .await
            .map(Some)
    }

    /// Opens a session for `account` in the caller's transaction: records
    /// the sign-in (and a re-hashed password), ends open reset links
    /// (R-REC-4) and writes the audit row; `how` says what proved it.
    pub(crate) async fn open_session(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        account: Account,
        new_hash: Option<&str>,
        how: &'static str,
    ) -> Result<SignedIn, Internal> {
        self.open_session_with(tx, ctx, account, new_hash, how, SessionVia::default())
            .await
    }

    /// An account proved by the school's provider `provider` (single
    /// sign-on) signs in, in the caller's transaction: a session at once —
    /// marked `mfa_at_provider` when the provider's second factor counts —
    /// unless the account has second factors of keyward's own and the
    /// provider's does not count, which opens keyward's second step instead.
    /// On the `first_link` of an account with second factors of its own the
    /// provider's never counts. The session (or the step, and the session it
    /// opens) records the provider: its removal ends them, and a temporary
    /// keyward password neither holds nor ends them.
    pub(crate) async fn sign_in_proved_elsewhere(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        account: Account,
        provider: &SsoProviderId,
        mfa_at_provider: bool,
        first_link: bool,
    ) -> Result<SignInOutcome, Internal> {
        let second_factors = sign_in_steps::second_factors(&mut *tx, &account.id).await?;
        if second_factors.any() && (!mfa_at_provider || first_link) {
            let pending = self
                .open_second_step(tx, ctx, &account, second_factors, Some(provider))
                .await?;
            return Ok(SignInOutcome::SecondStep(pending));
        }
        let via = SessionVia {
            provider: Some(provider),
            mfa_at_provider,
        };
        let signed_in = self
            .open_session_with(tx, ctx, account, None, "sso", via)
            .await?;
        Ok(SignInOutcome::Complete(signed_in))
    }

    async fn open_session_with(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        account: Account,
        new_hash: Option<&str>,
        how: &'static str,
        via: SessionVia<'_>,
    ) -> Result<SignedIn, Internal> {
        let device_token = match self.known_device(ctx, account.username.key()) {
            Some(device) => device,
            None => self.new_device(ctx, account.username.key())?,
        };
        let session_token = Token::generate(ctx.rng)?;
        let absolute = self.settings.session.absolute_timeout;
        store::record_sign_in(tx, &account.id, ctx.now, new_hash).await?;
        store::insert_session(
            tx,
            &session_token.digest(),
            &account.id,
            ctx,
            ctx.now.plus(absolute),
            via,
        )
        .await?;
        store::recovery_requests::end_open_requests(
            tx,
            &account.id,
            store::recovery_requests::ended::SIGNED_IN,
            ctx.now,
        )
        .await?;
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: Some(account.id.as_str()),
                api_token: None,
                target_id: Some(account.id.as_str()),
                school_id: account.school_id.as_ref().map(|s| s.as_str()),
                action: action::SIGN_IN,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(how),
            },
        )
        .await?;
        let csrf_token = session_token.derive(CSRF_PURPOSE);
        let mut account = account;
        account.last_sign_in_at = Some(ctx.now);
        Ok(SignedIn {
            account,
            session_token,
            csrf_token,
            device_token,
        })
    }

    /// Opens a pending step for `account` in the caller's transaction; a
    /// sign-in through a provider names it (`sso_provider`).
    pub(super) async fn open_second_step(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        account: &Account,
        second_factors: SecondFactors,
        sso_provider: Option<&SsoProviderId>,
    ) -> Result<PendingSignIn, Internal> {
        let token = Token::generate(ctx.rng)?;
        sign_in_steps::insert_step(
            tx,
            &token.digest(),
            &account.id,
            ctx.now,
            ctx.now.plus(SECOND_STEP_TTL),
            sso_provider,
        )
        .await?;
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: Some(account.id.as_str()),
                api_token: None,
                target_id: Some(account.id.as_str()),
                school_id: account.school_id.as_ref().map(|s| s.as_str()),
                action: action::SIGN_IN,
                outcome: "second_step",
                client_addr: ctx.client_addr.as_deref(),
                detail: None,
            },
        )
        .await?;
        Ok(PendingSignIn {
            token,
            second_factors,
            expires_in: SECOND_STEP_TTL,
        })
    }
}
