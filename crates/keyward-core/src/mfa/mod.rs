//! Two-step verification with an authenticator app (R-MFA-1): enrolment
//! (the password again, then a secret shown as a QR code and as text, sealed
//! at rest, turned on by a first code), ten single-use recovery codes (hashed,
//! shown once, regenerable), turning it off (password and a code), and the
//! second step of a sign-in. Every code check reserves an attempt on the
//! account's two-step counter before it looks; a code of a step is accepted
//! once and a recovery code once, each claimed in the transaction of the
//! change it allows. A password reset never touches any of this (seed 001).

pub(crate) mod recovery_codes;
pub(crate) mod store;
pub mod totp;

pub use recovery_codes::{CODES_PER_SET, RecoveryCode, RecoveryCodes};
pub use totp::TotpCode;

use std::time::Duration;

use crate::Ctx;
use crate::Keyward;
use crate::accounts::throttle::{self, Attempt, ThrottleKey};
use crate::accounts::{Account, SignedIn};
use crate::audit::{self, AuditEntry, action};
use crate::crypto::store as sealed;
use crate::crypto::tokens::Token;
use crate::error::{Code, CodedError, Internal};
use crate::types::{Password, UnixTime, UserId};

/// The sealed-secret purpose of a TOTP secret.
const SECRET_PURPOSE: &str = "totp_secret";

/// The look-up-hash purpose of recovery codes.
const RECOVERY_CODE_PURPOSE: &str = "mfa-recovery-code";

/// How long an enrolment waits for its first code.
pub const ENROLMENT_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("Enter the 6-digit code from your authenticator app.")]
    CodeMalformed,
    #[error("Enter a recovery code as it was given to you: ten letters and digits.")]
    RecoveryCodeMalformed,
    #[error("That code is not right. Check your authenticator app and try again.")]
    CodeWrong,
    #[error("That code was already used. Wait for the next code and enter it.")]
    CodeUsed,
    #[error("No set-up of an authenticator app is waiting for its first code. Start again.")]
    NotPending,
    #[error("Two-step verification with an authenticator app is already on.")]
    AlreadyEnabled,
    #[error("Two-step verification with an authenticator app is not on.")]
    NotEnabled,
    #[error("Your sign-in took too long or was already finished. Sign in again.")]
    StepExpired,
    #[error("Your password is not right.")]
    WrongPassword,
    #[error("Too many wrong tries. Wait a little and try again.")]
    Throttled { retry_after_secs: u64 },
    #[error("The server is busy. Try again in a moment.")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for MfaError {
    fn code(&self) -> Code {
        match self {
            MfaError::CodeMalformed | MfaError::RecoveryCodeMalformed => Code::MfaCodeMalformed,
            MfaError::CodeWrong => Code::MfaCodeWrong,
            MfaError::CodeUsed => Code::MfaCodeUsed,
            MfaError::NotPending => Code::MfaNotPending,
            MfaError::AlreadyEnabled => Code::MfaAlreadyEnabled,
            MfaError::NotEnabled => Code::MfaNotEnabled,
            MfaError::StepExpired => Code::SignInStepExpired,
            MfaError::WrongPassword => Code::WrongCurrentPassword,
            MfaError::Throttled { .. } => Code::TooManyAttempts,
            MfaError::Busy { .. } => Code::ServerBusy,
            MfaError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            MfaError::Throttled { retry_after_secs } | MfaError::Busy { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            MfaError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

crate::accounts::from_reauth!(MfaError, WrongPassword);

impl From<sqlx::Error> for MfaError {
    fn from(err: sqlx::Error) -> Self {
        MfaError::Internal(err.into())
    }
}

impl From<crate::types::random::RandomError> for MfaError {
    fn from(err: crate::types::random::RandomError) -> Self {
        MfaError::Internal(err.into())
    }
}

/// A second-step code as typed: from the app, or a recovery code.
#[derive(Debug, Clone)]
pub enum SecondStepCode {
    App(TotpCode),
    Recovery(RecoveryCode),
}

impl SecondStepCode {
    /// A code from the authenticator app (six digits).
    pub fn app(typed: &str) -> Result<SecondStepCode, MfaError> {
        TotpCode::parse(typed)
            .map(SecondStepCode::App)
            .ok_or(MfaError::CodeMalformed)
    }

    /// A recovery code (ten letters and digits; dashes and case do not matter).
    pub fn recovery(typed: &str) -> Result<SecondStepCode, MfaError> {
        RecoveryCode::parse(typed)
            .map(SecondStepCode::Recovery)
            .ok_or(MfaError::RecoveryCodeMalformed)
    }

    /// Either kind, told apart by shape (for a form with one field).
    pub fn either(typed: &str) -> Result<SecondStepCode, MfaError> {
        SecondStepCode::app(typed)
            .or_else(|_| SecondStepCode::recovery(typed))
            .map_err(|_| MfaError::CodeMalformed)
    }
}

/// Where a person's two-step verification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaStatus {
    /// An authenticator app is on.
    pub totp: bool,
    /// An enrolment waits for its first code.
    pub enrolment_pending: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
}

/// A started enrolment: what the person scans or types into their app.
pub struct TotpEnrolment {
    /// The secret in base32, for typing.
    pub secret: String,
    pub otpauth_uri: String,
    /// The address as a QR code (inline SVG).
    pub qr_svg: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrolment")
            .field("secret", &crate::types::REDACTED)
            .finish_non_exhaustive()
    }
}

/// A code that matched, not yet consumed.
enum Matched {
    Step(i64),
    RecoveryCode(String),
}

impl Keyward {
    /// Where `account`'s two-step verification stands.
    pub async fn mfa_status(&self, account: &Account) -> Result<MfaStatus, Internal> {
        let row = store::find_totp(self.db.pool(), &account.id).await?;
        let left = store::recovery_codes_left(self.db.pool(), &account.id).await?;
        Ok(MfaStatus {
            totp: row.as_ref().is_some_and(|r| r.confirmed),
            enrolment_pending: row.as_ref().is_some_and(|r| !r.confirmed),
            recovery_codes_left: left,
        })
    }

    /// Starts setting up an authenticator app: the password again, then a
    /// new secret (a pending enrolment before it is replaced). Refused when
    /// an app is already on.
    pub async fn start_totp_enrolment(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        password: &Password,
    ) -> Result<TotpEnrolment, MfaError> {
        if store::find_totp(self.db.pool(), &account.id)
            .await?
            .is_some_and(|r| r.confirmed)
        {
            return Err(MfaError::AlreadyEnabled);
        }
        self.confirm_password(ctx, account, password, action::MFA_ENROL)
            .await?;
        let secret = totp::new_secret(ctx.rng)?;
        let uri = totp::otpauth_uri(&secret, &self.totp_issuer(), account.username.as_str())?;
        let qr_svg = totp::qr_svg(&uri)?;
        let mut tx = self.db.begin_write().await?;
        if let Some(old) = store::delete_pending_totp(&mut tx, &account.id).await? {
            sealed::delete_sealed(&mut tx, &old).await?;
        }
        let sealed_id = sealed::insert_sealed(
            &mut tx,
            ctx,
            &self.sealer,
            &account.id,
            SECRET_PURPOSE,
            &secret,
        )
        .await?;
        if !store::insert_pending_totp(&mut tx, &account.id, &sealed_id, ctx.now).await? {
            tx.rollback().await?;
            return Err(MfaError::AlreadyEnabled);
        }
        self.audit_mfa(&mut tx, ctx, account, action::MFA_ENROL, "started", None)
            .await?;
        tx.commit().await?;
        Ok(TotpEnrolment {
            secret: secret.to_string(),
            otpauth_uri: uri,
            qr_svg,
        })
    }

    /// Finishes setting up the app with its first code: two-step
    /// verification is on, and here are the recovery codes, shown once.
    pub async fn confirm_totp_enrolment(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        code: &TotpCode,
    ) -> Result<RecoveryCodes, MfaError> {
        let row = match store::find_totp(self.db.pool(), &account.id).await? {
            Some(row) if row.confirmed => return Err(MfaError::AlreadyEnabled),
            Some(row) if ctx.now < row.created_at.plus(ENROLMENT_TTL) => row,
            _ => return Err(MfaError::NotPending),
        };
        let attempt = self.reserve_code_attempt(ctx, account).await?;
        // A set-up started again meanwhile took this secret with it.
        let Some(secret) = self.totp_secret(&row.sealed_id, &account.id).await? else {
            attempt.refund(&self.db).await?;
            return Err(MfaError::NotPending);
        };
        let Some(step) = totp::matching_step(&secret, code, ctx.now)? else {
            return Err(self
                .code_failed(ctx, account, attempt, MfaError::CodeWrong)
                .await);
        };
        let codes = recovery_codes::new_set(ctx.rng)?;
        let mut tx = self.db.begin_write().await?;
        if !store::confirm_totp(&mut tx, &account.id, &row.sealed_id, ctx.now, step).await? {
            tx.rollback().await?;
            attempt.refund(&self.db).await?;
            return Err(MfaError::NotPending);
        }
        let hashes = self.recovery_code_hashes(&account.id, &codes);
        store::replace_recovery_codes(&mut tx, &account.id, &hashes, ctx.now).await?;
        attempt.succeeded(&mut tx).await?;
        self.audit_mfa(&mut tx, ctx, account, action::MFA_ENROL, "success", None)
            .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// A new set of recovery codes (the old ones stop working), after the
    /// password again and a code (from the app or a recovery code): new codes
    /// are as good as a second factor, so the password alone must not mint
    /// them.
    pub async fn regenerate_recovery_codes(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        password: &Password,
        code: &SecondStepCode,
    ) -> Result<RecoveryCodes, MfaError> {
        self.require_totp(account).await?;
        self.confirm_password(ctx, account, password, action::MFA_RECOVERY_CODES)
            .await?;
        let (attempt, matched) = self.check_code(ctx, account, code).await?;
        let codes = recovery_codes::new_set(ctx.rng)?;
        let hashes = self.recovery_code_hashes(&account.id, &codes);
        let mut tx = self.db.begin_write().await?;
        if let Err(err) = self.consume(&mut tx, ctx, account, &matched).await {
            tx.rollback().await?;
            return Err(self.code_failed(ctx, account, attempt, err).await);
        }
        store::replace_recovery_codes(&mut tx, &account.id, &hashes, ctx.now).await?;
        attempt.succeeded(&mut tx).await?;
        self.audit_mfa(
            &mut tx,
            ctx,
            account,
            action::MFA_RECOVERY_CODES,
            "success",
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Turns the authenticator app off: the password and a code (from the
    /// app or a recovery code). The recovery codes go with it.
    pub async fn disable_totp(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        password: &Password,
        code: &SecondStepCode,
    ) -> Result<(), MfaError> {
        self.require_totp(account).await?;
        self.confirm_password(ctx, account, password, action::MFA_REMOVE)
            .await?;
        let (attempt, matched) = self.check_code(ctx, account, code).await?;
        let mut tx = self.db.begin_write().await?;
        if let Err(err) = self.consume(&mut tx, ctx, account, &matched).await {
            tx.rollback().await?;
            return Err(self.code_failed(ctx, account, attempt, err).await);
        }
        let Some(sealed_id) = store::delete_confirmed_totp(&mut tx, &account.id).await? else {
            tx.rollback().await?;
            attempt.refund(&self.db).await?;
            return Err(MfaError::NotEnabled);
        };
        sealed::delete_sealed(&mut tx, &sealed_id).await?;
        store::delete_recovery_codes(&mut tx, &account.id).await?;
        attempt.succeeded(&mut tx).await?;
        self.audit_mfa(&mut tx, ctx, account, action::MFA_REMOVE, "success", None)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The second step of a sign-in with a code: the pending step behind
    /// `step_token`, the code checked (throttled per account) and consumed,
    /// and the session opened, all or nothing.
    pub async fn finish_sign_in_with_code(
        &self,
        ctx: &Ctx<'_>,
        step_token: &Token,
        code: &SecondStepCode,
    ) -> Result<SignedIn, MfaError> {
        let Some(pending) = self.pending_sign_in(ctx, step_token).await? else {
            return Err(MfaError::StepExpired);
        };
        if !pending.second_factors.totp {
            return Err(MfaError::NotEnabled);
        }
        let account = &pending.account;
        let (attempt, matched) = self.check_code(ctx, account, code).await?;
        let mut tx = self.db.begin_write().await?;
        if let Err(err) = self.consume(&mut tx, ctx, account, &matched).await {
            tx.rollback().await?;
            return Err(self.code_failed(ctx, account, attempt, err).await);
        }
        let how = match matched {
            Matched::Step(_) => "totp",
            Matched::RecoveryCode(_) => "recovery_code",
        };
        let Some(signed_in) = self.finish_sign_in(&mut tx, ctx, &pending, how).await? else {
            tx.rollback().await?;
            attempt.refund(&self.db).await?;
            return Err(MfaError::StepExpired);
        };
        attempt.succeeded(&mut tx).await?;
        tx.commit().await?;
        Ok(signed_in)
    }

    /// Reserves a try on the account's two-step counter.
    async fn reserve_code_attempt(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
    ) -> Result<Attempt, MfaError> {
        let key = ThrottleKey::second_factor(account.id.as_str(), &self.settings.throttle);
        match throttle::reserve(&self.db, vec![key], ctx.now).await? {
            Ok(attempt) => Ok(attempt),
            Err(retry_after_secs) => Err(MfaError::Throttled { retry_after_secs }),
        }
    }

    /// Reserves a try, then checks `code` without consuming it. A wrong code
    /// keeps the try counted and is audited.
    async fn check_code(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        code: &SecondStepCode,
    ) -> Result<(Attempt, Matched), MfaError> {
        let attempt = self.reserve_code_attempt(ctx, account).await?;
        let matched = match code {
            SecondStepCode::App(code) => {
                let row = store::find_totp(self.db.pool(), &account.id).await?;
                match row.filter(|r| r.confirmed) {
                    Some(row) => {
                        let secret = self.totp_secret(&row.sealed_id, &account.id).await?;
                        let secret = secret.ok_or_else(|| {
                            Internal::new(format!("TOTP secret row {} is missing", row.sealed_id))
                        })?;
                        totp::matching_step(&secret, code, ctx.now)?.map(Matched::Step)
                    }
                    None => None,
                }
            }
            SecondStepCode::Recovery(code) => {
                let hash = self.recovery_code_hash(&account.id, code.normal());
                match store::recovery_code_unused(self.db.pool(), &account.id, &hash).await? {
                    Some(true) => Some(Matched::RecoveryCode(hash)),
                    Some(false) => {
                        let err = MfaError::CodeUsed;
                        return Err(self.code_failed(ctx, account, attempt, err).await);
                    }
                    None => None,
                }
            }
        };
        match matched {
            Some(matched) => Ok((attempt, matched)),
            None => Err(self
                .code_failed(ctx, account, attempt, MfaError::CodeWrong)
                .await),
        }
    }

    /// Consumes a matched code in `tx`: its step, or the recovery code,
    /// once. A step already used (or a later one) is a replay.
    async fn consume(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        account: &Account,
        matched: &Matched,
    ) -> Result<(), MfaError> {
        match matched {
            Matched::Step(step) => {
                if !store::consume_step(tx, &account.id, *step).await? {
                    return Err(MfaError::CodeUsed);
                }
            }
            Matched::RecoveryCode(hash) => {
                if !store::consume_recovery_code(tx, &account.id, hash, ctx.now).await? {
                    return Err(MfaError::CodeUsed);
                }
                let left = store::recovery_codes_left(&mut *tx, &account.id).await?;
                let detail = format!("{left} left");
                self.audit_mfa(
                    tx,
                    ctx,
                    account,
                    action::MFA_RECOVERY_CODE_USE,
                    "success",
                    Some(&detail),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// A code was wrong or replayed: the try stays counted, the failure is
    /// audited, and `err` is what the caller answers (an audit that cannot be
    /// written answers internal instead).
    async fn code_failed(
        &self,
        ctx: &Ctx<'_>,
        account: &Account,
        attempt: Attempt,
        err: MfaError,
    ) -> MfaError {
        attempt.failed();
        let detail = err.code().as_str();
        let written = audit::insert_alone(
            &self.db,
            &AuditEntry {
                at: ctx.now,
                actor_id: Some(account.id.as_str()),
                api_token: None,
                target_id: Some(account.id.as_str()),
                school_id: account.school_id.as_ref().map(|s| s.as_str()),
                action: action::MFA_CODE,
                outcome: "failure",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(detail),
            },
        )
        .await;
        match written {
            Ok(()) => err,
            Err(internal) => MfaError::Internal(internal),
        }
    }

    async fn require_totp(&self, account: &Account) -> Result<(), MfaError> {
        match store::find_totp(self.db.pool(), &account.id).await? {
            Some(row) if row.confirmed => Ok(()),
            _ => Err(MfaError::NotEnabled),
        }
    }

    /// The secret sealed in row `sealed_id`; `None` when the row is gone.
    async fn totp_secret(
        &self,
        sealed_id: &str,
        owner: &UserId,
    ) -> Result<Option<zeroize::Zeroizing<String>>, Internal> {
        let secret = sealed::open_sealed(
            self.db.pool(),
            &self.sealer,
            sealed_id,
            owner,
            SECRET_PURPOSE,
        )
        .await?;
        Ok(secret.map(zeroize::Zeroizing::new))
    }

    fn recovery_code_hash(&self, user_id: &UserId, normal: &str) -> String {
        self.sealer
            .lookup_hash(RECOVERY_CODE_PURPOSE, &format!("{user_id}\0{normal}"))
    }

    fn recovery_code_hashes(&self, user_id: &UserId, codes: &RecoveryCodes) -> Vec<String> {
        codes
            .0
            .iter()
            .map(|code| self.recovery_code_hash(user_id, &code.replace('-', "")))
            .collect()
    }

    /// The issuer an authenticator app shows beside the account: keyward and
    /// the host of the public address.
    fn totp_issuer(&self) -> String {
        match self.settings.server.public_url.host_str() {
            Some(host) => format!("keyward ({host})"),
            None => "keyward".to_owned(),
        }
    }

    async fn audit_mfa(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        account: &Account,
        action: &'static str,
        outcome: &'static str,
        detail: Option<&str>,
    ) -> Result<(), Internal> {
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: Some(account.id.as_str()),
                api_token: None,
                target_id: Some(account.id.as_str()),
                school_id: account.school_id.as_ref().map(|s| s.as_str()),
                action,
                outcome,
                client_addr: ctx.client_addr.as_deref(),
                detail,
            },
        )
        .await
    }
}

/// The current code of a secret (for tests that play the authenticator app).
pub fn code_for(secret_base32: &str, at: UnixTime) -> Result<String, Internal> {
    totp::code_at(secret_base32, at)
}

#[cfg(test)]
mod tests;
