//! Self-service recovery (R-REC-1 to R-REC-7): **Forgot password?** requests,
//! the emailed link and code, the reset itself, and "this wasn't me".
//!
//! Nothing secret rests in the database: a request row is written at once
//! (also for unknown accounts, so every answer costs the same and can be
//! counted), and the link token and 8-digit code are minted only when the
//! email is composed, with just their hashes stored. The browser that made
//! the request holds a random handle (a cookie) that the code must come with,
//! so a code alone is worth nothing.
//!
//! Someone who signs in only with their school's provider (SSO-only) has no
//! keyward password: their request is answered like every other, and the
//! email sends them to the provider's sign-in instead of carrying a link and
//! a code; a reset link they still hold opens a page that says the same and
//! sets no password (`signs_in_with_sso`).

mod compose;
pub(crate) use compose::when as mail_time;
mod store;

use crate::Ctx;
use crate::Keyward;
use crate::accounts::recovery_requests as requests;
use crate::accounts::throttle::{self, ThrottleKey};
use crate::accounts::{self, Account, AccountStatus, SsoSignIn};
use crate::audit::{self, AuditEntry, action};
use crate::crypto::hashing::HashingError;
use crate::crypto::tokens::Token;
use crate::error::{Code, CodedError, Internal};
use crate::mail::{self, Outgoing, kind};
use crate::policy::{PasswordPolicy, PolicyKind, Violation};
use crate::settings::IdentifyBy;
use crate::types::{
    EmailAddress, MAX_USERNAME_CHARS, Password, TypedCode, UnixTime, UserId, Username,
};

use crate::accounts::ended;

/// Longest email address accepted on the form.
const MAX_EMAIL_CHARS: usize = 254;
/// How long a "this wasn't me" link works.
pub const NOT_ME_TTL_SECS: u64 = 7 * 24 * 3600;
/// Digits in the emailed code.
pub const CODE_DIGITS: usize = 8;

/// What the person typed on **Forgot password?**.
#[derive(Debug, Clone, Default)]
pub struct RecoveryInput {
    pub username: Option<String>,
    pub email: Option<String>,
}

/// The answer to every well-formed request, whatever the account's state.
#[derive(Debug)]
pub struct RecoveryAccepted {
    /// Goes to the browser (a cookie) so the emailed code can be entered there.
    pub handle: Token,
}

#[derive(Debug, thiserror::Error)]
pub enum RecoveryRequestError {
    #[error("Enter your username.")]
    UsernameMissing,
    #[error("Enter your email address.")]
    EmailMissing,
    #[error("That is longer than any username or email address keyward accepts.")]
    InputTooLong,
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for RecoveryRequestError {
    fn code(&self) -> Code {
        match self {
            RecoveryRequestError::UsernameMissing => Code::UsernameMissing,
            RecoveryRequestError::EmailMissing => Code::EmailMissing,
            RecoveryRequestError::InputTooLong => Code::InputTooLong,
            RecoveryRequestError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            RecoveryRequestError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

/// Why a reset link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error(
        "This link is not one of ours. Check that you copied all of it, or request a new link."
    )]
    Unknown,
    #[error("This link has expired. Links work for a limited time; request a new one.")]
    Expired,
    #[error(
        "This link has already been used to reset your password. Request a new link if you need one."
    )]
    Used,
    #[error(
        "This link no longer works because a newer link was sent. Use the newest email, or request a new link."
    )]
    Superseded,
    #[error(
        "This link no longer works because you signed in, or your password or email address changed, since it was sent."
    )]
    Overtaken,
}

impl CodedError for LinkError {
    fn code(&self) -> Code {
        match self {
            LinkError::Unknown => Code::LinkUnknown,
            LinkError::Expired => Code::LinkExpired,
            LinkError::Used | LinkError::Superseded | LinkError::Overtaken => Code::LinkUsed,
        }
    }
}

/// A usable reset link: what the reset page needs.
#[derive(Debug, Clone)]
pub struct ResetLink {
    /// Shown unless the page asks for the username (`recovery.confirm_username`).
    pub username: Username,
    pub policy: PasswordPolicy,
    pub ask_username: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("The new password doesn't meet the rules.")]
    PasswordPolicy {
        violations: Vec<Violation>,
        policy: PasswordPolicy,
    },
    #[error("That username doesn't match the account this link is for.")]
    UsernameMismatch,
    #[error(
        "You sign in with {}: your account has no keyward password to reset.",
        .0.provider_name
    )]
    SignsInWithSso(SsoSignIn),
    #[error("The server is busy. Try again in a moment.")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for ResetError {
    fn code(&self) -> Code {
        match self {
            ResetError::Link(link) => link.code(),
            ResetError::PasswordPolicy { .. } => Code::PasswordPolicy,
            ResetError::UsernameMismatch => Code::UsernameMismatch,
            ResetError::SignsInWithSso(_) => Code::SignsInWithSso,
            ResetError::Busy { .. } => Code::ServerBusy,
            ResetError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ResetError::Link(link) => link.retry_after_secs(),
            ResetError::Busy { retry_after_secs } => Some(*retry_after_secs),
            ResetError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }

    fn details(&self) -> Vec<(&'static str, serde_json::Value)> {
        match self {
            ResetError::PasswordPolicy { violations, .. } => {
                crate::policy::violation_details(violations)
            }
            ResetError::SignsInWithSso(sso) => sso.error_details(),
            _ => Vec::new(),
        }
    }
}

impl From<HashingError> for ResetError {
    fn from(err: HashingError) -> Self {
        match err {
            HashingError::Busy { retry_after_secs } => ResetError::Busy { retry_after_secs },
            HashingError::Internal(internal) => ResetError::Internal(internal),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("That code is not right. Check the 8 digits in the email and try again.")]
    Wrong,
    #[error("That code has expired. Request a new email.")]
    Expired,
    #[error("Too many wrong codes. Request a new email.")]
    TooManyTries,
    #[error(
        "Start again from Forgot password? on this device; the code works only where it was requested."
    )]
    NoRequest,
}

impl CodedError for CodeError {
    fn code(&self) -> Code {
        match self {
            CodeError::Wrong => Code::CodeWrong,
            CodeError::Expired => Code::CodeExpired,
            CodeError::TooManyTries => Code::CodeTooManyTries,
            CodeError::NoRequest => Code::CodeNoRequest,
        }
    }
}

/// Either a code outcome or an internal failure.
#[derive(Debug, thiserror::Error)]
pub enum RedeemCodeError {
    #[error(transparent)]
    Code(#[from] CodeError),
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for RedeemCodeError {
    fn code(&self) -> Code {
        match self {
            RedeemCodeError::Code(code) => code.code(),
            RedeemCodeError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            RedeemCodeError::Code(code) => code.retry_after_secs(),
            RedeemCodeError::Internal(internal) => internal.retry_after_secs(),
        }
    }
}

/// The stored form of an emailed code, bound to its request.
pub(crate) fn code_digest(request_id: &str, code: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"keyward/recovery-code\0");
    hasher.update(request_id.as_bytes());
    hasher.update([0u8]);
    hasher.update(code.as_bytes());
    hex::encode(hasher.finalize())
}

/// Whether an account may receive a reset link (seed 001).
fn eligible(account: &Account, created_by_owner: bool, require_prior_sign_in: bool) -> bool {
    !require_prior_sign_in || account.last_sign_in_at.is_some() || created_by_owner
}

fn audit_entry<'a>(
    ctx: &'a Ctx<'_>,
    act: &'static str,
    outcome: &'static str,
    target: Option<&'a str>,
) -> AuditEntry<'a> {
    AuditEntry {
        at: ctx.now,
        actor_id: None,
        api_token: None,
        target_id: target,
        school_id: None,
        action: act,
        outcome,
        client_addr: ctx.client_addr.as_deref(),
        detail: None,
    }
}

/// The digest of what a **Forgot password?** request typed to name the
/// account, normalised as look-ups normalise it: the same for every request
/// naming the same account, whether or not it exists.
fn subject_key(mode: IdentifyBy, username: Option<&str>, email: Option<&str>) -> String {
    use sha2::Digest;
    let username = username.map(crate::types::username_key).unwrap_or_default();
    let email = email.map(str::to_lowercase).unwrap_or_default();
    let typed = format!("{mode:?}\0{username}\0{email}");
    hex::encode(sha2::Sha256::digest(typed.as_bytes()))
}

impl Keyward {
    /// **Forgot password?** (R-REC-1 to R-REC-3, R-REC-6). Whatever the
    /// account's state — unknown, without email, not eligible, throttled — the
    /// answer is the same; only well-formedness errors differ, and those
    /// depend on the input alone. Mail goes through the outbox, so the answer
    /// never waits for it.
    pub async fn request_recovery(
        &self,
        ctx: &Ctx<'_>,
        input: &RecoveryInput,
    ) -> Result<RecoveryAccepted, RecoveryRequestError> {
        let mode = self.settings.recovery.identify_by;
        let username = input
            .username
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let email = input
            .email
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let needs_username = matches!(mode, IdentifyBy::Username | IdentifyBy::EmailAndUsername);
        let needs_email = matches!(mode, IdentifyBy::Email | IdentifyBy::EmailAndUsername);
        if needs_username && username.is_none() {
            return Err(RecoveryRequestError::UsernameMissing);
        }
        if needs_email && email.is_none() {
            return Err(RecoveryRequestError::EmailMissing);
        }
        if username.is_some_and(|u| u.chars().count() > MAX_USERNAME_CHARS)
            || email.is_some_and(|e| e.chars().count() > MAX_EMAIL_CHARS)
        {
            return Err(RecoveryRequestError::InputTooLong);
        }
        let handle = Token::generate(ctx.rng).map_err(Internal::from)?;
        let subject_key = subject_key(mode, username, email);
        let asked = requests::Asked {
            handle: &handle,
            subject_key: &subject_key,
        };
        let settings = &self.settings.recovery;
        let hour_ago = ctx.now.minus(std::time::Duration::from_secs(3600));

        // Counted in one atomic statement, so parallel requests cannot pass a
        // limit that one after another would not.
        let address = throttle::address_group(ctx.client_addr.as_deref());
        let from_address = throttle::take_quota(
            &self.db,
            &format!("recovery:address:{address}"),
            hour_ago,
            ctx.now,
        )
        .await?;
        if from_address > i64::from(settings.max_requests_per_address_per_hour) {
            let mut tx = self.db.begin_write().await?;
            requests::insert_request(&mut tx, ctx, &asked, None, Some(ended::THROTTLED)).await?;
            audit::insert(
                &mut *tx,
                &audit_entry(ctx, action::RECOVERY_REQUEST, "throttled_address", None),
            )
            .await?;
            tx.commit().await.map_err(Internal::from)?;
            return Ok(RecoveryAccepted { handle });
        }

        let candidates = self.identify(mode, username, email).await?;
        let mut tx = self.db.begin_write().await?;
        let mut mail_written = false;
        if candidates.is_empty() {
            requests::insert_request(&mut tx, ctx, &asked, None, Some(ended::NO_ACCOUNT)).await?;
            audit::insert(
                &mut *tx,
                &audit_entry(ctx, action::RECOVERY_REQUEST, "no_account", None),
            )
            .await?;
        }
        for (account, created_by_owner) in &candidates {
            let target = Some(account.id.as_str());
            let Some(address) = &account.email else {
                requests::insert_request(
                    &mut tx,
                    ctx,
                    &asked,
                    Some(&account.id),
                    Some(ended::NO_EMAIL),
                )
                .await?;
                audit::insert(
                    &mut *tx,
                    &audit_entry(ctx, action::RECOVERY_REQUEST, "no_email", target),
                )
                .await?;
                continue;
            };
            // Requests for one account wait for each other here (a row lock
            // on PostgreSQL; SQLite has one writer), so the count is exact.
            throttle::serialize_on(
                &mut tx,
                &format!("recovery:account:{}", account.id),
                ctx.now,
            )
            .await?;
            let sent_lately =
                requests::count_mailed_requests_for(&mut tx, &account.id, hour_ago).await?;
            if sent_lately >= i64::from(settings.max_links_per_account_per_hour) {
                requests::insert_request(
                    &mut tx,
                    ctx,
                    &asked,
                    Some(&account.id),
                    Some(ended::THROTTLED),
                )
                .await?;
                audit::insert(
                    &mut *tx,
                    &audit_entry(ctx, action::RECOVERY_REQUEST, "throttled_account", target),
                )
                .await?;
                continue;
            }
            let is_eligible = eligible(account, *created_by_owner, settings.require_prior_sign_in);
            // Read for every account found, so each answer costs the same.
            let sso_only = accounts::sso_only_of(&mut *tx, &account.id).await?;
            let (ending, mail_kind, outcome) = if sso_only.is_some() {
                (Some(ended::SSO_ONLY), kind::SSO_SIGN_IN, "sso_only")
            } else if is_eligible {
                requests::end_open_requests(&mut tx, &account.id, ended::SUPERSEDED, ctx.now)
                    .await?;
                (None, kind::RESET_LINK, "link_sent")
            } else {
                (Some(ended::INELIGIBLE), kind::CONTACT_ADMIN, "ineligible")
            };
            let request_id =
                requests::insert_request(&mut tx, ctx, &asked, Some(&account.id), ending).await?;
            mail::enqueue(
                &mut *tx,
                ctx,
                &Outgoing {
                    kind: mail_kind,
                    user_id: Some(&account.id),
                    to_address: address.as_str(),
                    payload: serde_json::json!({ "request_id": request_id }),
                },
            )
            .await?;
            mail_written = true;
            audit::insert(
                &mut *tx,
                &audit_entry(ctx, action::RECOVERY_REQUEST, outcome, target),
            )
            .await?;
        }
        tx.commit().await.map_err(Internal::from)?;
        if mail_written {
            self.wake_mail_worker();
        }
        Ok(RecoveryAccepted { handle })
    }

    /// Issues a reset link for `account` because an administrator asked
    /// (R-ADM-2), in the caller's transaction (which holds the admin's audit
    /// row): the forgot-password email to `address`, marked as sent at the
    /// request of `admin_name`, its link living `recovery.link_ttl`. It
    /// counts against the account's hourly link limit
    /// (`recovery.max_links_per_account_per_hour`) exactly as self-service
    /// requests do, so nobody can flood a person's inbox through their
    /// administrator; over it nothing is written and `false` comes back.
    /// Earlier open links of the account end (superseded). The caller has
    /// decided eligibility (an administrator's rules are not seed 001's).
    pub(crate) async fn issue_link_for_admin(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        account: &Account,
        address: &EmailAddress,
        admin_name: &str,
    ) -> Result<bool, Internal> {
        let settings = &self.settings.recovery;
        let hour_ago = ctx.now.minus(std::time::Duration::from_secs(3600));
        // The same per-account lock and count as `request_recovery`.
        throttle::serialize_on(
            &mut *tx,
            &format!("recovery:account:{}", account.id),
            ctx.now,
        )
        .await?;
        let sent_lately =
            requests::count_mailed_requests_for(&mut *tx, &account.id, hour_ago).await?;
        if sent_lately >= i64::from(settings.max_links_per_account_per_hour) {
            return Ok(false);
        }
        requests::end_open_requests(&mut *tx, &account.id, ended::SUPERSEDED, ctx.now).await?;
        // Nobody holds this handle: the emailed code needs the browser that
        // asked, and no browser of the person did, so the email carries the
        // link alone (see `compose_reset_link`).
        let handle = Token::generate(ctx.rng)?;
        let subject_key = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(
                format!("admin\0{}", account.id).as_bytes(),
            ))
        };
        let asked = requests::Asked {
            handle: &handle,
            subject_key: &subject_key,
        };
        let request_id =
            requests::insert_request(&mut *tx, ctx, &asked, Some(&account.id), None).await?;
        mail::enqueue(
            &mut *tx,
            ctx,
            &Outgoing {
                kind: kind::RESET_LINK,
                user_id: Some(&account.id),
                to_address: address.as_str(),
                payload: serde_json::json!({ "request_id": request_id, "by_admin": admin_name }),
            },
        )
        .await?;
        Ok(true)
    }

    /// The active accounts a request names, with whether each was created by its owner.
    async fn identify(
        &self,
        mode: IdentifyBy,
        username: Option<&str>,
        email: Option<&str>,
    ) -> Result<Vec<(Account, bool)>, Internal> {
        let username = username.and_then(|u| Username::parse(u).ok());
        let email = email.and_then(|e| EmailAddress::parse(e).ok());
        let found = match mode {
            IdentifyBy::Username => match &username {
                Some(name) => store::find_by_username_key(&self.db, name.key())
                    .await?
                    .into_iter()
                    .collect(),
                None => Vec::new(),
            },
            IdentifyBy::EmailAndUsername => match (&username, &email) {
                (Some(name), Some(email)) => store::find_by_username_key(&self.db, name.key())
                    .await?
                    .into_iter()
                    .filter(|(account, _)| {
                        account.email.as_ref().map(EmailAddress::key) == Some(email.key())
                    })
                    .collect(),
                _ => Vec::new(),
            },
            IdentifyBy::Email => match &email {
                Some(email) => store::find_by_email_key(&self.db, &email.key()).await?,
                None => Vec::new(),
            },
        };
        Ok(found
            .into_iter()
            .filter(|(account, _)| account.status == AccountStatus::Active)
            .collect())
    }

    /// Checks a reset link without using it up (R-REC-4: opening the link, as
    /// mail scanners do, changes nothing).
    pub async fn check_reset_link(
        &self,
        ctx: &Ctx<'_>,
        token_text: &str,
    ) -> Result<ResetLink, ResetError> {
        let (_, account) = self.live_link(ctx, token_text).await?;
        let policy = self
            .password_policy(account.school_id.as_ref(), PolicyKind::of(account.role))
            .await?;
        Ok(ResetLink {
            username: account.username,
            policy,
            ask_username: self.settings.recovery.confirm_username,
        })
    }

    async fn live_link(
        &self,
        ctx: &Ctx<'_>,
        token_text: &str,
    ) -> Result<(requests::RequestRow, Account), ResetError> {
        let token = Token::from_client(token_text).ok_or(LinkError::Unknown)?;
        let row = requests::find_by_token(&self.db, &token.digest())
            .await?
            .ok_or(LinkError::Unknown)?;
        classify(&row, ctx.now)?;
        let user_id = row.user_id.clone().ok_or(LinkError::Unknown)?;
        let account = accounts::find_account(&self.db, &user_id)
            .await?
            .ok_or(LinkError::Unknown)?;
        if account.status != AccountStatus::Active {
            return Err(LinkError::Unknown.into());
        }
        // A link sent before the person became SSO-only sets no password.
        if let Some(sso) = accounts::sso_only_of(self.db.pool(), &account.id).await? {
            return Err(ResetError::SignsInWithSso(sso));
        }
        Ok((row, account))
    }

    /// Resets the password with a link (R-REC-5). The link is used up in the
    /// same transaction as the change, by a conditional update, so of two
    /// submits at the same moment exactly one succeeds. Every session ends,
    /// MFA is untouched, and a "password changed" email goes out.
    pub async fn reset_with_link(
        &self,
        ctx: &Ctx<'_>,
        token_text: &str,
        password: Password,
        confirmation: &Password,
        typed_username: Option<&str>,
    ) -> Result<Account, ResetError> {
        let outcome = self
            .attempt_reset_with_link(ctx, token_text, password, confirmation, typed_username)
            .await;
        if let Err(err) = &outcome
            && !matches!(err, ResetError::Internal(_))
        {
            // Refused attempts are audited with their reason, never with the input.
            let mut entry = audit_entry(ctx, action::RECOVERY_RESET, "failure", None);
            entry.detail = Some(err.code().as_str());
            audit::insert_alone(&self.db, &entry).await?;
        }
        outcome
    }

    async fn attempt_reset_with_link(
        &self,
        ctx: &Ctx<'_>,
        token_text: &str,
        password: Password,
        confirmation: &Password,
        typed_username: Option<&str>,
    ) -> Result<Account, ResetError> {
        let (row, account) = self.live_link(ctx, token_text).await?;
        if self.settings.recovery.confirm_username {
            let matches = typed_username
                .and_then(|u| Username::parse(u.trim()).ok())
                .is_some_and(|u| u.key() == account.username.key());
            if !matches {
                return Err(ResetError::UsernameMismatch);
            }
        }
        let policy = self
            .password_policy(account.school_id.as_ref(), PolicyKind::of(account.role))
            .await?;
        if password.is_over_long() {
            return Err(ResetError::PasswordPolicy {
                violations: vec![Violation::TooLong],
                policy,
            });
        }
        let violations = policy.check_new(&password, confirmation, Some(account.username.as_str()));
        if !violations.is_empty() {
            return Err(ResetError::PasswordPolicy { violations, policy });
        }
        let hash = self.hashing.hash(&password, ctx.rng).await?;

        let mut tx = self.db.begin_write().await?;
        if !requests::use_up(&mut tx, &row.id, ctx.now).await? {
            // Someone else used it a moment ago, or it just expired.
            drop(tx);
            let again = requests::find_by_token(&self.db, &row.token_digest())
                .await?
                .ok_or(LinkError::Unknown)?;
            classify(&again, ctx.now)?;
            return Err(LinkError::Used.into());
        }
        accounts::set_password(&mut tx, &account.id, &hash, ctx.now).await?;
        accounts::end_sessions(&mut tx, &account.id, None).await?;
        self.enqueue_password_changed(&mut tx, ctx, &account)
            .await?;
        audit::insert(
            &mut *tx,
            &AuditEntry {
                school_id: account.school_id.as_ref().map(|s| s.as_str()),
                ..audit_entry(
                    ctx,
                    action::RECOVERY_RESET,
                    "success",
                    Some(account.id.as_str()),
                )
            },
        )
        .await?;
        tx.commit().await.map_err(Internal::from)?;
        self.wake_mail_worker();
        Ok(account)
    }

    /// The emailed code, typed on the page shown after the request (R-REC-7).
    /// It must come from the browser that made the request (its handle); at
    /// most `code_max_tries` wrong tries. Success gives a fresh reset token
    /// for the same reset page (the emailed link stops working).
    pub async fn redeem_recovery_code(
        &self,
        ctx: &Ctx<'_>,
        handle_text: &str,
        code: &TypedCode,
    ) -> Result<Token, RedeemCodeError> {
        let code = code.expose();
        let handle = Token::from_client(handle_text).ok_or(CodeError::NoRequest)?;
        let rows = requests::find_by_handle(&self.db, &handle.digest()).await?;
        let Some(newest) = rows.first() else {
            return Err(CodeError::NoRequest.into());
        };
        let settings = &self.settings.recovery;
        let max_tries = i64::from(settings.code_max_tries);
        // Counted before the code is compared: per request at most
        // `code_max_tries`, and per subject (what was typed to name the
        // account) across every request and resend — for unknown names
        // exactly as for real ones, so the answers never tell them apart.
        let subject = match (&newest.subject_key, &newest.user_id) {
            (Some(subject), _) => format!("subject:{subject}"),
            (None, Some(user)) => format!("user:{user}"),
            (None, None) => format!("handle:{}", handle.digest().as_str()),
        };
        // The account's free tries are one request's tries: a new email
        // brings none, only the slowly growing delays.
        let key = ThrottleKey::recovery_code(&subject, settings.code_max_tries.saturating_sub(1));
        let attempt = match throttle::reserve(&self.db, vec![key], ctx.now).await? {
            Ok(attempt) => attempt,
            Err(_) => return Err(CodeError::TooManyTries.into()),
        };
        let Some(failures) = requests::count_code_try(&self.db, &newest.id, max_tries).await?
        else {
            attempt.failed();
            return Err(CodeError::TooManyTries.into());
        };
        let code = code.trim();
        let well_formed = code.len() == CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit());
        for row in &rows {
            let expires = row
                .code_expires_at
                .unwrap_or(UnixTime(row.created_at.secs()).plus(settings.code_ttl));
            let matches = well_formed
                && row.ended_at.is_none()
                && row.code_hash.as_deref() == Some(code_digest(&row.id, code).as_str());
            if matches {
                if ctx.now >= expires {
                    return Err(CodeError::Expired.into());
                }
                let token = Token::generate(ctx.rng).map_err(Internal::from)?;
                let mut tx = self.db.begin_write().await?;
                if !requests::exchange_code(&mut tx, &row.id, &token.digest(), ctx.now).await? {
                    return Err(CodeError::Wrong.into());
                }
                attempt.succeeded(&mut tx).await?;
                audit::insert(
                    &mut *tx,
                    &audit_entry(
                        ctx,
                        action::RECOVERY_CODE,
                        "success",
                        row.user_id.as_ref().map(UserId::as_str),
                    ),
                )
                .await?;
                tx.commit().await.map_err(Internal::from)?;
                return Ok(token);
            }
        }
        let newest_expires = newest
            .code_expires_at
            .unwrap_or(UnixTime(newest.created_at.secs()).plus(settings.code_ttl));
        if ctx.now >= newest_expires {
            return Err(CodeError::Expired.into());
        }
        attempt.failed();
        audit::insert_alone(
            &self.db,
            &audit_entry(
                ctx,
                action::RECOVERY_CODE,
                "failure",
                newest.user_id.as_ref().map(UserId::as_str),
            ),
        )
        .await?;
        if failures >= max_tries {
            return Err(CodeError::TooManyTries.into());
        }
        Err(CodeError::Wrong.into())
    }

    /// Whether a "this wasn't me" link is usable (GET shows a confirmation; it acts on POST).
    /// A database that does not answer is `Internal` (503), not an unknown link.
    pub async fn check_not_me(&self, ctx: &Ctx<'_>, token_text: &str) -> Result<(), ResetError> {
        let token = Token::from_client(token_text).ok_or(LinkError::Unknown)?;
        let problem = match store::find_alert(&self.db, &token.digest()).await? {
            None => LinkError::Unknown,
            Some(alert) if alert.used_at.is_some() => LinkError::Used,
            Some(alert) if ctx.now >= alert.expires_at => LinkError::Expired,
            Some(_) => return Ok(()),
        };
        Err(problem.into())
    }

    /// "This wasn't me": ends every session of the account, stops any open
    /// reset link, and tells the school's administrators by email.
    pub async fn report_not_me(&self, ctx: &Ctx<'_>, token_text: &str) -> Result<(), ResetError> {
        self.check_not_me(ctx, token_text).await?;
        let token = Token::from_client(token_text).ok_or(LinkError::Unknown)?;
        let mut tx = self.db.begin_write().await?;
        let Some(user_id) = store::use_alert(&mut tx, &token.digest(), ctx.now).await? else {
            return Err(LinkError::Used.into());
        };
        let account = accounts::find_account_in(&mut tx, &user_id)
            .await?
            .ok_or(LinkError::Unknown)?;
        accounts::end_sessions(&mut tx, &account.id, None).await?;
        requests::end_open_requests(&mut tx, &account.id, ended::NOT_ME, ctx.now).await?;
        let admins = store::admins_to_alert(&mut tx, &account).await?;
        for (admin_id, address) in &admins {
            mail::enqueue(
                &mut *tx,
                ctx,
                &Outgoing {
                    kind: kind::NOT_ME_ADMIN_ALERT,
                    user_id: Some(admin_id),
                    to_address: address,
                    payload: serde_json::json!({ "about_user_id": account.id.as_str(), "reported_at": ctx.now.secs() }),
                },
            )
            .await?;
        }
        audit::insert(
            &mut *tx,
            &AuditEntry {
                actor_id: Some(account.id.as_str()),
                api_token: None,
                school_id: account.school_id.as_ref().map(|s| s.as_str()),
                detail: Some(if admins.is_empty() {
                    "no admin with email"
                } else {
                    "admins alerted"
                }),
                ..audit_entry(ctx, action::NOT_ME, "success", Some(account.id.as_str()))
            },
        )
        .await?;
        tx.commit().await.map_err(Internal::from)?;
        self.wake_mail_worker();
        Ok(())
    }
}

/// Sorts a stored request into usable or the reason it is not.
fn classify(row: &requests::RequestRow, now: UnixTime) -> Result<(), LinkError> {
    match row.ended_reason.as_deref() {
        Some(ended::USED) => return Err(LinkError::Used),
        Some(ended::SUPERSEDED) => return Err(LinkError::Superseded),
        Some(_) => return Err(LinkError::Overtaken),
        None => {}
    }
    match row.link_expires_at {
        Some(expires) if now < expires => Ok(()),
        Some(_) => Err(LinkError::Expired),
        None => Err(LinkError::Unknown),
    }
}

#[cfg(test)]
mod tests;
