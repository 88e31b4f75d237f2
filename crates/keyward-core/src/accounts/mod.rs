//! Accounts and sign-in (R-ACC-2 to R-ACC-5): checking a username and password
//! on the bounded hashing pool, throttling failures per account and per client
//! address, and server-side sessions (only a hash of the id is stored). Later
//! issues add password changes and account settings here.

mod actor;
mod email;
mod locale;
mod password;
mod password_rules;
mod reauth;
mod second_step;
pub mod sessions;
mod sso_sign_in;
pub(crate) mod store;
pub mod throttle;
pub mod user_agent;

pub(crate) use store::recovery_requests;
pub use store::recovery_requests::ended;

pub use email::ChangeEmailError;
pub use password::ChangePasswordError;
pub use reauth::ReauthError;
pub(crate) use reauth::from_reauth;
pub use second_step::{PendingSignIn, PendingStep, SECOND_STEP_TTL, SecondFactors, SignInOutcome};
pub use sso_sign_in::SsoSignIn;
pub(crate) use store::sso_sign_in::{
    SSO_COLUMNS, has_way_in, sso_link_from_row, sso_only_from_row, sso_only_of,
};

use crate::Ctx;
use crate::Keyward;
use crate::audit::{self, AuditEntry, action};
use crate::authz::Actor;
use crate::crypto::hashing::HashingError;
use crate::crypto::tokens::Token;
use crate::error::{Code, CodedError, Internal};
use crate::i18n::Locale;
use crate::types::{
    EmailAddress, MAX_USERNAME_CHARS, Password, Role, SchoolId, UnixTime, UserId, Username,
};

use store::sign_in_steps;
pub(crate) use store::sign_in_steps::delete_expired_steps as delete_expired_sign_in_steps;
pub(crate) use store::sign_in_steps::delete_steps_of_provider as delete_sign_in_steps_of_provider;
pub(crate) use store::{
    NewUser, delete_expired_sessions, delete_stale_throttle_rows, end_sessions,
    end_sessions_of_provider, find_account, find_account_in, find_for_recovery, insert_user,
    lock_account, mark_temporary_password, set_password,
};
use throttle::ThrottleKey;

/// Sessions touched less than this long ago are not written again, so a busy
/// page does not turn every request into a write.
const SESSION_TOUCH_INTERVAL_SECS: i64 = 60;

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    /// Created by staff or an import; waits for its access code to be used.
    Pending,
    Active,
    Disabled,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Pending => "pending",
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(AccountStatus::Pending),
            "active" => Some(AccountStatus::Active),
            "disabled" => Some(AccountStatus::Disabled),
            _ => None,
        }
    }
}

/// A user account as the rest of the system sees it (no hash inside).
#[derive(Debug, Clone)]
pub struct Account {
    pub id: UserId,
    pub school_id: Option<SchoolId>,
    pub role: Role,
    pub username: Username,
    pub email: Option<EmailAddress>,
    pub first_name: String,
    pub last_name: String,
    pub status: AccountStatus,
    pub last_sign_in_at: Option<UnixTime>,
    /// The language the person chose for pages and emails (`users.locale`);
    /// `None`: pages follow the browser, emails are in English.
    pub locale: Option<Locale>,
}

impl Account {
    /// The account as an actor with its built-in role only. Authorization of
    /// anything beyond the account's own data uses `Keyward::actor_of`, which
    /// adds custom roles and taught classes.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id.clone(),
            role: self.role,
            school_id: self.school_id.clone(),
            granted: crate::authz::PermissionSet::EMPTY,
            classes: Vec::new(),
            token: None,
            second_factor_at_provider: false,
        }
    }

    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name);
        let name = name.trim();
        if name.is_empty() {
            self.username.to_string()
        } else {
            name.to_owned()
        }
    }
}

/// A session that was just opened: the token goes into the cookie once and is
/// never stored.
pub struct SignedIn {
    pub account: Account,
    pub session_token: Token,
    pub csrf_token: String,
    /// The device cookie this browser earned for the account (R-LOCK-1): its
    /// own sign-ins are counted apart from everyone else's guesses.
    pub device_token: String,
}

impl std::fmt::Debug for SignedIn {
    // Secrets never reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("account", &self.account)
            .field("session_token", &self.session_token)
            .field("csrf_token", &crate::types::REDACTED)
            .field("device_token", &crate::types::REDACTED)
            .finish()
    }
}

/// A live session found from its cookie.
#[derive(Clone)]
pub struct CurrentSession {
    pub account: Account,
    pub csrf_token: String,
    pub expires_at: UnixTime,
    /// The account's role must have a second factor (by the deployment's
    /// `mfa.required_roles` or its school's setting) and has none yet: it may
    /// only set one up (R-MFA-1).
    pub mfa_enrolment_due: bool,
    /// The account signed in with a temporary password from an
    /// administrator (R-ADM-3): it may only replace it.
    pub password_change_due: bool,
    /// The session was opened through a school's provider whose ID token
    /// said a second factor was used (`amr` holds `mfa`), at a school that
    /// trusts it: it counts as signed in with a second factor.
    pub mfa_at_provider: bool,
}

impl std::fmt::Debug for CurrentSession {
    // Secrets never reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentSession")
            .field("account", &self.account)
            .field("csrf_token", &crate::types::REDACTED)
            .field("expires_at", &self.expires_at)
            .field("mfa_enrolment_due", &self.mfa_enrolment_due)
            .field("password_change_due", &self.password_change_due)
            .field("mfa_at_provider", &self.mfa_at_provider)
            .finish()
    }
}

/// What an account must do before anything else (the enrolment gate holds
/// its sessions there; its API tokens are refused meanwhile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Replace a temporary password from an administrator (R-ADM-3).
    PasswordChange,
    /// Set up two-step verification, which its role requires (R-MFA-1).
    MfaEnrolment,
}

/// The purpose under which device cookies are signed.
const DEVICE_PURPOSE: &str = "device-cookie";

/// The purpose label under which a session's CSRF token is derived.
pub const CSRF_PURPOSE: &str = "csrf";

/// Where someone turns on their own two-step verification: what refusals
/// that ask for it (administrators' resets, single sign-on settings) send
/// people to.
pub const ENABLE_MFA_AT: &str = "/account/mfa";

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("That username and password don't match. Check them and try again.")]
    InvalidCredentials,
    #[error("The username or password is longer than any keyward accepts.")]
    InputTooLong,
    #[error("Too many failed sign-ins. Wait a little and try again.")]
    Throttled { retry_after_secs: u64 },
    #[error("The server is busy checking passwords. Try again in a moment.")]
    Busy { retry_after_secs: u64 },
    #[error(
        "This temporary password has expired. Ask your administrator for a new one, or use Forgot password?."
    )]
    TemporaryPasswordExpired,
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for SignInError {
    fn code(&self) -> Code {
        match self {
            SignInError::InvalidCredentials => Code::InvalidCredentials,
            SignInError::TemporaryPasswordExpired => Code::TemporaryPasswordExpired,
            SignInError::InputTooLong => Code::InputTooLong,
            SignInError::Throttled { .. } => Code::TooManyAttempts,
            SignInError::Busy { .. } => Code::ServerBusy,
            SignInError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            SignInError::Throttled { retry_after_secs } => Some(*retry_after_secs),
            SignInError::Busy { retry_after_secs } => Some(*retry_after_secs),
            SignInError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

impl From<HashingError> for SignInError {
    fn from(err: HashingError) -> Self {
        match err {
            HashingError::Busy { retry_after_secs } => SignInError::Busy { retry_after_secs },
            HashingError::Internal(internal) => SignInError::Internal(internal),
        }
    }
}

impl From<sqlx::Error> for SignInError {
    fn from(err: sqlx::Error) -> Self {
        SignInError::Internal(err.into())
    }
}

impl From<crate::types::random::RandomError> for SignInError {
    fn from(err: crate::types::random::RandomError) -> Self {
        SignInError::Internal(err.into())
    }
}

impl Keyward {
    /// Signs a person in with username and password (R-ACC-2). Unknown
    /// usernames cost the same hashing work as known ones; failures count
    /// against the account and the client address. The right password opens
    /// a fresh session, records `last_sign_in_at` and upgrades an old hash —
    /// or, for a person with two-step verification, opens the pending second
    /// step instead (R-MFA-1).
    pub async fn sign_in(
        &self,
        ctx: &Ctx<'_>,
        typed_username: &str,
        password: Password,
    ) -> Result<SignInOutcome, SignInError> {
        // Over-long input is refused before any hashing or storage work.
        if typed_username.chars().count() > MAX_USERNAME_CHARS {
            return Err(SignInError::InputTooLong);
        }
        if password.is_over_long() {
            return Err(SignInError::InputTooLong);
        }
        let username_key = crate::types::username_key(typed_username);
        let device = self.known_device(ctx, &username_key);
        let throttle = &self.settings.throttle;
        let mut keys = Vec::with_capacity(2);
        let guesser = match &device {
            Some(device) => throttle::Guesser::Device(device.clone()),
            None => {
                // A known device is not slowed by what others at its address did.
                let group = throttle::address_group(ctx.client_addr.as_deref());
                keys.push(ThrottleKey::sign_in_address(&group, throttle));
                throttle::Guesser::Address(group)
            }
        };
        keys.push(ThrottleKey::sign_in(&username_key, &guesser, throttle));
        // Counted before the hash, so parallel guesses get no more tries
        // than one after another would.
        let attempt = match throttle::reserve(&self.db, keys, ctx.now).await? {
            Ok(attempt) => attempt,
            Err(retry_after_secs) => return Err(SignInError::Throttled { retry_after_secs }),
        };

        // A username that cannot be valid (control characters, NUL, …) names no
        // account; it is never sent to the database, yet costs the same hashing.
        let found = match Username::parse(typed_username) {
            Ok(_) => store::find_credentials_by_username_key(&self.db, &username_key).await?,
            Err(_) => None,
        };
        let usable_hash = found
            .as_ref()
            .filter(|c| c.account.status == AccountStatus::Active)
            .and_then(|c| c.password_hash.as_deref());
        let verification = match self.hashing.verify(&password, usable_hash).await {
            Ok(verification) => verification,
            Err(err) => {
                attempt.refund(&self.db).await?;
                return Err(err.into());
            }
        };

        // A known account is a failure's target (its school's auditors see
        // it); an unknown username is recorded with no target.
        let known = found.as_ref().map(|c| c.account.id.clone());
        let Some(found) = found.filter(|_| verification.matches) else {
            attempt.failed();
            let target = known.as_ref().map(|id| id.as_str());
            self.audit_sign_in_failure(ctx, target, "invalid_credentials")
                .await?;
            return Err(SignInError::InvalidCredentials);
        };

        // A temporary password from an administrator (R-ADM-3) stops
        // signing in when it expires. Said plainly only to someone who typed
        // it right (a guesser learns nothing new), and counted as a failure,
        // so it opens nothing and settles no counter.
        if found.must_change_by.is_some_and(|by| ctx.now >= by) {
            attempt.failed();
            let target = Some(found.account.id.as_str());
            self.audit_sign_in_failure(ctx, target, "temporary_password_expired")
                .await?;
            return Err(SignInError::TemporaryPasswordExpired);
        }
        let new_hash = if verification.needs_rehash {
            Some(self.hashing.hash(&password, ctx.rng).await?)
        } else {
            None
        };
        let account = found.account;
        let second_factors = sign_in_steps::second_factors(self.db.pool(), &account.id).await?;
        let mut tx = self.db.begin_write().await?;
        // The password was right: its counters are settled either way.
        attempt.succeeded(&mut tx).await?;
        let outcome = if second_factors.any() {
            if let Some(hash) = &new_hash {
                store::upgrade_hash(&mut tx, &account.id, hash).await?;
            }
            let pending = self
                .open_second_step(&mut tx, ctx, &account, second_factors, None)
                .await?;
            SignInOutcome::SecondStep(pending)
        } else {
            let how = if new_hash.is_some() {
                "password, rehashed"
            } else {
                "password"
            };
            let signed_in = self
                .open_session(&mut tx, ctx, account, new_hash.as_deref(), how)
                .await?;
            SignInOutcome::Complete(signed_in)
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// The device cookie of the context, when it was earned by signing in to
    /// this account (its signature covers the account's username key).
    fn known_device(&self, ctx: &Ctx<'_>, username_key: &str) -> Option<String> {
        let presented = ctx.device.as_deref()?;
        let (nonce, mac) = presented.split_once('.')?;
        if nonce.is_empty() || nonce.len() > 64 {
            return None;
        }
        let expected = self.device_mac(username_key, nonce);
        crate::crypto::tokens::constant_time_eq(mac, &expected).then(|| presented.to_owned())
    }

    /// A fresh device cookie for the account behind `username_key`.
    fn new_device(&self, ctx: &Ctx<'_>, username_key: &str) -> Result<String, Internal> {
        let nonce = Token::generate(ctx.rng)?.digest().as_str()[..32].to_owned();
        let mac = self.device_mac(username_key, &nonce);
        Ok(format!("{nonce}.{mac}"))
    }

    fn device_mac(&self, username_key: &str, nonce: &str) -> String {
        self.sealer
            .lookup_hash(DEVICE_PURPOSE, &format!("{username_key}\0{nonce}"))
    }

    async fn audit_sign_in_failure(
        &self,
        ctx: &Ctx<'_>,
        target: Option<&str>,
        detail: &str,
    ) -> Result<(), Internal> {
        audit::insert_alone(
            &self.db,
            &AuditEntry {
                at: ctx.now,
                actor_id: None,
                api_token: None,
                target_id: target,
                school_id: None,
                action: action::SIGN_IN,
                outcome: "failure",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(detail),
            },
        )
        .await
    }

    /// Finds the live session behind a cookie value. Expired or idle sessions
    /// are removed and yield `None`, as do sessions of disabled accounts.
    pub async fn current_session(
        &self,
        ctx: &Ctx<'_>,
        token: &Token,
    ) -> Result<Option<CurrentSession>, Internal> {
        let digest = token.digest();
        let Some(found) = store::find_session(&self.db, &digest).await? else {
            return Ok(None);
        };
        let idle_deadline = found.last_seen_at.plus(self.settings.session.idle_timeout);
        let alive = ctx.now < found.expires_at
            && ctx.now < idle_deadline
            && found.account.status == AccountStatus::Active;
        // A temporary password (R-ADM-3) that expired ends the sessions it
        // opened: it stops working everywhere, not only at sign-in. It
        // refuses the password, not the account: a session opened through a
        // school's provider is neither ended by it nor held at its change.
        let temporary = found.must_change_by.filter(|_| !found.via_sso);
        let temporary_expired = temporary.is_some_and(|by| ctx.now >= by);
        if !alive || temporary_expired {
            let _turn = self.db.write_turn().await?;
            store::delete_session(self.db.pool(), &digest).await?;
            return Ok(None);
        }
        if ctx.now.secs() - found.last_seen_at.secs() >= SESSION_TOUCH_INTERVAL_SECS {
            // On a full disk the session is still good for reading: its idle
            // clock just stays where it was until space returns.
            match store::touch_session(&self.db, &digest, ctx.now).await {
                Err(err) if err.is_storage_full() => {
                    tracing::warn!(cause = %err.cause(), "session not touched: the database's storage is full");
                }
                touched => touched?,
            }
        }
        let required = self.mfa_required_of(found.account.role, &found.school_mfa_roles);
        Ok(Some(CurrentSession {
            // A second factor at a trusted provider meets the requirement.
            mfa_enrolment_due: required && !found.second_factor_on && !found.mfa_at_provider,
            mfa_at_provider: found.mfa_at_provider,
            password_change_due: temporary.is_some(),
            account: found.account,
            csrf_token: token.derive(CSRF_PURPOSE),
            expires_at: found.expires_at,
        }))
    }

    /// What the account is held at, as `CurrentSession::password_change_due`
    /// and `mfa_enrolment_due` say of a session: for callers without one (an
    /// API token of the account). The password change comes first.
    pub(crate) async fn hold_of(&self, account: &Account) -> Result<Option<Hold>, Internal> {
        let (second_factor_on, school_roles, temporary) =
            store::hold_facts(&self.db, &account.id).await?;
        Ok(if temporary {
            Some(Hold::PasswordChange)
        } else if self.mfa_required_of(account.role, &school_roles) && !second_factor_on {
            Some(Hold::MfaEnrolment)
        } else {
            None
        })
    }

    /// Whether the account must turn two-step verification on and has no
    /// keyward password to do it with: its role requires it, it has no
    /// second factor, and it signs in only with its school's provider. Read
    /// in the caller's transaction.
    pub(crate) async fn enrolment_out_of_reach(
        &self,
        tx: &mut sqlx::AnyConnection,
        account: &Account,
    ) -> Result<bool, Internal> {
        let (second_factor_on, school_roles, has_password) =
            store::enrolment_facts(tx, &account.id).await?;
        Ok(self.mfa_required_of(account.role, &school_roles) && !second_factor_on && !has_password)
    }

    /// Whether `role` must have a second factor: the deployment's
    /// `mfa.required_roles`, or its school's list (`school_roles`, as stored).
    fn mfa_required_of(&self, role: Role, school_roles: &str) -> bool {
        self.settings.mfa.required_roles.contains(&role)
            || crate::types::role_list(school_roles).contains(&role)
    }

    /// Ends the session behind a cookie value (sign out). Ending an unknown
    /// session is not an error.
    pub async fn sign_out(&self, ctx: &Ctx<'_>, token: &Token) -> Result<(), Internal> {
        let digest = token.digest();
        let Some(found) = store::find_session(&self.db, &digest).await? else {
            return Ok(());
        };
        let mut tx = self.db.begin_write().await?;
        store::delete_session(&mut *tx, &digest).await?;
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: Some(found.account.id.as_str()),
                api_token: None,
                target_id: Some(found.account.id.as_str()),
                school_id: found.account.school_id.as_ref().map(|s| s.as_str()),
                action: action::SIGN_OUT,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The second factors an account has turned on (an administrator must
    /// have one to reset other people's credentials, R-ADM-2).
    pub(crate) async fn second_factors_of(&self, user: &UserId) -> Result<SecondFactors, Internal> {
        sign_in_steps::second_factors(self.db.pool(), user).await
    }

    /// Looks an account up by username (for the CLI and the demo).
    pub async fn find_account_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<Account>, Internal> {
        Ok(
            store::find_credentials_by_username_key(&self.db, username.key())
                .await?
                .map(|c| c.account),
        )
    }
}

#[cfg(test)]
mod parallel_tests;
#[cfg(test)]
mod tests;
