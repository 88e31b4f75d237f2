//! Activation (R-CODE-1, R-CODE-3, R-CODE-4): access codes that let a person
//! whose account was made for them choose a username and password (**Use a
//! code**), and parent access codes that let a parent make an account linked
//! to their child. Codes are found by a keyed hash of what was typed and kept
//! sealed for showing again; code entry is throttled per address and overall.
//! Class codes (R-CODE-2), and joining a class with one, live in `join`.

pub mod codes;
mod join;
pub mod parents;
pub(crate) mod store;

pub(crate) use store::has_open_code;

pub use join::{ClassCodeInfo, JoinInput, JoinedClass, normalize_class_code};

use std::time::Duration;

use crate::Ctx;
use crate::Keyward;
use crate::accounts::throttle::{self, ThrottleKey};
use crate::accounts::{Account, AccountStatus};
use crate::audit::{self, AuditEntry, action};
use crate::authz::Denied;
use crate::crypto::hashing::HashingError;
use crate::error::{Code, CodedError, Internal};
use crate::policy::{PasswordPolicy, PolicyKind, Violation};
use crate::types::{EmailAddress, Password, Role, TypedCode, UserId, Username, UsernameError};

/// How long an access code works (R-CODE-1: 30 days).
pub const ACCESS_CODE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// The purposes under which codes are hashed and sealed.
pub(crate) const ACCESS_CODE_PURPOSE: &str = "access_code";

/// The two kinds of code, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// Activates one pending account; single use.
    Activation,
    /// Makes a parent account linked to one learner; stays valid for the
    /// learner's other parents until staff issue a new one.
    Parent,
}

impl CodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeKind::Activation => "activation",
            CodeKind::Parent => "parent",
        }
    }

    fn parse(text: &str) -> Option<CodeKind> {
        match text {
            "activation" => Some(CodeKind::Activation),
            "parent" => Some(CodeKind::Parent),
            _ => None,
        }
    }
}

/// What the person typed on **Use a code**.
#[derive(Clone, Default)]
pub struct ActivationInput {
    pub code: TypedCode,
    pub username: String,
    pub password: Password,
    /// When given, must equal `password` (the pages always send it).
    pub confirm_password: Option<Password>,
    pub email: Option<String>,
    /// A parent's own name (parent access codes only; staff accounts already have one).
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

impl std::fmt::Debug for ActivationInput {
    // Secrets never reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivationInput")
            .field("code", &crate::types::REDACTED)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("confirm_password", &self.confirm_password)
            .field("email", &self.email)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .finish()
    }
}

/// What a code is for, before the person chooses their username.
#[derive(Debug, Clone)]
pub struct CodeInfo {
    pub kind: CodeKind,
    /// The name of the person whose account it is (activation) or of the child (parent).
    pub first_name: String,
    /// Staff (and parents) must give an email address.
    pub needs_email: bool,
    pub policy: PasswordPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    #[error(
        "That code doesn't work. Check it (capital and small letters matter) or ask for a new one."
    )]
    UnknownCode,
    /// An unknown or switched-off class code: one answer for both.
    #[error("That class code doesn't work. Check it with your teacher.")]
    UnknownClassCode,
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("{0}")]
    InvalidName(&'static str),
    #[error("That code has expired. Ask your teacher or administrator for a new one.")]
    ExpiredCode,
    #[error("That code has already been used. Sign in with the username you chose.")]
    UsedCode,
    #[error("{0}")]
    BadUsername(UsernameError),
    #[error("The username {0} is taken. Try another.")]
    UsernameTaken(String),
    #[error("Enter your email address, so that you can reset your password yourself.")]
    EmailMissing,
    #[error("Enter your first and last name, so that the school knows who you are.")]
    NameMissing,
    #[error("Enter an email address like name@example.org.")]
    BadEmail,
    #[error("The password doesn't meet the rules.")]
    PasswordPolicy {
        violations: Vec<Violation>,
        policy: PasswordPolicy,
    },
    #[error("Too many codes tried. Wait a little and try again.")]
    Throttled { retry_after_secs: u64 },
    #[error("The server is busy. Try again in a moment.")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for ActivationError {
    fn code(&self) -> Code {
        match self {
            ActivationError::UnknownCode | ActivationError::UnknownClassCode => Code::CodeUnknown,
            ActivationError::Denied(denied) => denied.code(),
            ActivationError::InvalidName(_) => Code::InvalidName,
            ActivationError::ExpiredCode => Code::CodeExpired,
            ActivationError::UsedCode => Code::CodeUsed,
            ActivationError::BadUsername(err) => err.code(),
            ActivationError::UsernameTaken(_) => Code::UsernameTaken,
            ActivationError::EmailMissing => Code::EmailMissing,
            ActivationError::NameMissing => Code::NameMissing,
            ActivationError::BadEmail => Code::EmailInvalid,
            ActivationError::PasswordPolicy { .. } => Code::PasswordPolicy,
            ActivationError::Throttled { .. } => Code::TooManyAttempts,
            ActivationError::Busy { .. } => Code::ServerBusy,
            ActivationError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ActivationError::Denied(denied) => denied.retry_after_secs(),
            ActivationError::Throttled { retry_after_secs } => Some(*retry_after_secs),
            ActivationError::Busy { retry_after_secs } => Some(*retry_after_secs),
            ActivationError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }

    fn details(&self) -> Vec<(&'static str, serde_json::Value)> {
        match self {
            ActivationError::PasswordPolicy { violations, .. } => {
                crate::policy::violation_details(violations)
            }
            _ => Vec::new(),
        }
    }
}

impl From<HashingError> for ActivationError {
    fn from(err: HashingError) -> Self {
        match err {
            HashingError::Busy { retry_after_secs } => ActivationError::Busy { retry_after_secs },
            HashingError::Internal(internal) => ActivationError::Internal(internal),
        }
    }
}

impl From<sqlx::Error> for ActivationError {
    fn from(err: sqlx::Error) -> Self {
        ActivationError::Internal(err.into())
    }
}

/// Ends the user's codes that still work — the access code and the
/// parent access code — inside the caller's transaction (a disabled
/// account), and destroys their sealed copies. Returns how many ended.
pub(crate) async fn end_codes_of(
    tx: &mut sqlx::AnyConnection,
    user: &UserId,
    now: crate::types::UnixTime,
) -> Result<usize, Internal> {
    let sealed = store::revoke_open_codes(tx, user, now).await?;
    for id in &sealed {
        crate::crypto::store::delete_sealed(tx, id).await?;
    }
    Ok(sealed.len())
}

/// Code entry is throttled per client address group (R-CODE-4). There is no
/// counter shared by every client: one would let anybody slow code entry for
/// every school. Codes are long enough (access codes over 50 bits) that the
/// per-address delays keep even many addresses far from guessing one.
fn code_throttle(ctx: &Ctx<'_>) -> ThrottleKey {
    ThrottleKey::code_entry(&throttle::address_group(ctx.client_addr.as_deref()))
}

impl Keyward {
    /// Issues a code for `user` inside the caller's transaction and returns it
    /// in plain form, once (the caller shows it to staff; it is stored only
    /// hashed and sealed). A new code of the same kind replaces the old one.
    pub(crate) async fn issue_code(
        &self,
        tx: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        user: &UserId,
        kind: CodeKind,
    ) -> Result<String, Internal> {
        let code = codes::generate(ctx.rng)?;
        let plain = code.replace('-', "");
        let lookup = self.sealer.lookup_hash(ACCESS_CODE_PURPOSE, &plain);
        let sealed_id = crate::crypto::store::insert_sealed(
            tx,
            ctx,
            &self.sealer,
            user,
            ACCESS_CODE_PURPOSE,
            &code,
        )
        .await?;
        let expires = match kind {
            CodeKind::Activation => Some(ctx.now.plus(ACCESS_CODE_TTL)),
            CodeKind::Parent => None,
        };
        store::revoke_codes(tx, user, kind, ctx.now).await?;
        store::insert_code(tx, ctx, user, kind, &lookup, &sealed_id, expires).await?;
        Ok(code)
    }

    /// What a typed code is for (the first step of **Use a code**). Wrong
    /// codes count against the throttles.
    pub async fn inspect_code(
        &self,
        ctx: &Ctx<'_>,
        typed: &TypedCode,
    ) -> Result<CodeInfo, ActivationError> {
        let (row, owner) = self.find_code(ctx, typed.expose()).await?;
        let (needs_email, policy_kind) = match row.kind {
            CodeKind::Activation => (!owner.role.is_learner(), PolicyKind::of(owner.role)),
            CodeKind::Parent => (true, PolicyKind::Staff),
        };
        let policy = self
            .password_policy(owner.school_id.as_ref(), policy_kind)
            .await?;
        Ok(CodeInfo {
            kind: row.kind,
            first_name: owner.first_name.clone(),
            needs_email,
            policy,
        })
    }

    async fn find_code(
        &self,
        ctx: &Ctx<'_>,
        typed: &str,
    ) -> Result<(store::CodeRow, Account), ActivationError> {
        let attempt = match throttle::reserve(&self.db, vec![code_throttle(ctx)], ctx.now).await? {
            Ok(attempt) => attempt,
            Err(retry_after_secs) => return Err(ActivationError::Throttled { retry_after_secs }),
        };
        let lookup = codes::normalize(typed)
            .map(|plain| self.sealer.lookup_hash(ACCESS_CODE_PURPOSE, &plain));
        let found = match &lookup {
            Some(lookup) => store::find_code(&self.db, lookup).await?,
            None => None,
        };
        let checked = match found {
            None => Err(ActivationError::UnknownCode),
            Some(row) if row.revoked_at.is_some() => Err(ActivationError::UnknownCode),
            Some(row) if row.used_at.is_some() => Err(ActivationError::UsedCode),
            Some(row) if row.expires_at.is_some_and(|e| ctx.now >= e) => {
                Err(ActivationError::ExpiredCode)
            }
            Some(row) => match crate::accounts::find_account(&self.db, &row.user_id).await? {
                Some(owner)
                    if row.kind == CodeKind::Activation
                        && owner.status == AccountStatus::Pending =>
                {
                    Ok((row, owner))
                }
                Some(owner) if row.kind == CodeKind::Parent && owner.role == Role::Learner => {
                    Ok((row, owner))
                }
                // The owner changed since the code was read: someone used the
                // code a moment ago (the account is active now), or it was
                // revoked. Answer as the code reads now, so a person racing
                // the one who used it is told it was used, as any later one is.
                _ => {
                    let again = match &lookup {
                        Some(lookup) => store::find_code(&self.db, lookup).await?,
                        None => None,
                    };
                    match again {
                        Some(again) if again.used_at.is_some() => Err(ActivationError::UsedCode),
                        _ => Err(ActivationError::UnknownCode),
                    }
                }
            },
        };
        match &checked {
            Ok(_) => {
                attempt.succeeded_now(&self.db).await?;
            }
            Err(_) => {
                attempt.failed();
                audit::insert_alone(&self.db, &code_audit(ctx, "failure", None)).await?;
            }
        }
        checked
    }

    /// **Use a code**: the person chooses a username and a password (and an
    /// email, for staff and parents). An access code activates its pending
    /// account; a parent access code makes a parent account linked to the
    /// child. Two people racing for one username: one wins, the other is told
    /// it is taken; one code used twice at once: one wins.
    pub async fn activate(
        &self,
        ctx: &Ctx<'_>,
        input: &ActivationInput,
    ) -> Result<Account, ActivationError> {
        let (row, owner) = self.find_code(ctx, input.code.expose()).await?;
        let username =
            Username::parse(input.username.trim()).map_err(ActivationError::BadUsername)?;
        let (role, school) = match row.kind {
            CodeKind::Activation => (owner.role, owner.school_id.clone()),
            CodeKind::Parent => (Role::Parent, owner.school_id.clone()),
        };
        let email = match input
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            Some(text) => Some(EmailAddress::parse(text).map_err(|_| ActivationError::BadEmail)?),
            None if !role.is_learner() => return Err(ActivationError::EmailMissing),
            None => None,
        };
        // A parent names themselves; everyone else was named by staff.
        let clean = |name: &Option<String>| {
            name.as_deref()
                .map(str::trim)
                .filter(|n| {
                    !n.is_empty() && n.chars().count() <= 80 && !n.chars().any(char::is_control)
                })
                .map(str::to_owned)
        };
        let (parent_first, parent_last) = match row.kind {
            CodeKind::Parent => (
                clean(&input.first_name).ok_or(ActivationError::NameMissing)?,
                clean(&input.last_name).ok_or(ActivationError::NameMissing)?,
            ),
            CodeKind::Activation => (String::new(), String::new()),
        };
        let policy = self
            .password_policy(school.as_ref(), PolicyKind::of(role))
            .await?;
        let password = &input.password;
        if password.is_over_long() {
            return Err(ActivationError::PasswordPolicy {
                violations: vec![Violation::TooLong],
                policy,
            });
        }
        let confirmation = input.confirm_password.as_ref().unwrap_or(password);
        let violations = policy.check_new(password, confirmation, Some(username.as_str()));
        if !violations.is_empty() {
            return Err(ActivationError::PasswordPolicy { violations, policy });
        }
        let hash = self.hashing.hash(password, ctx.rng).await?;

        let mut tx = self.db.begin_write().await?;
        let account_id = match row.kind {
            CodeKind::Activation => {
                if !store::use_code(&mut tx, &row.id, ctx.now).await? {
                    // Used by someone else since it was checked: refused and
                    // audited like a code found used.
                    drop(tx);
                    audit::insert_alone(&self.db, &code_audit(ctx, "failure", None)).await?;
                    return Err(ActivationError::UsedCode);
                }
                crate::crypto::store::delete_sealed(&mut tx, &row.sealed_id).await?;
                crate::accounts::store::activate_user(
                    &mut tx,
                    &owner.id,
                    &username,
                    email.as_ref(),
                    &hash,
                    ctx.now,
                )
                .await
                .map_err(|e| taken_or_internal(e, &username))?;
                owner.id.clone()
            }
            CodeKind::Parent => {
                let id = UserId::generate(ctx.rng).map_err(Internal::from)?;
                crate::accounts::insert_user(
                    &mut *tx,
                    &crate::accounts::NewUser {
                        id: &id,
                        school_id: school.as_ref(),
                        role: Role::Parent,
                        username: &username,
                        email: email.as_ref(),
                        first_name: &parent_first,
                        last_name: &parent_last,
                        status: AccountStatus::Active,
                        password_hash: Some(&hash),
                        created_at: ctx.now,
                    },
                )
                .await
                .map_err(|e| taken_or_internal(e, &username))?;
                crate::accounts::store::mark_created_by_owner(&mut tx, &id).await?;
                store::link_parent(&mut tx, &id, &owner.id).await?;
                id
            }
        };
        audit::insert(
            &mut *tx,
            &code_audit(ctx, "success", Some(account_id.as_str())),
        )
        .await?;
        tx.commit().await?;
        crate::accounts::find_account(&self.db, &account_id)
            .await?
            .ok_or_else(|| ActivationError::Internal(Internal::new("activated account vanished")))
    }
}

fn taken_or_internal(err: sqlx::Error, username: &Username) -> ActivationError {
    if crate::store::is_unique_violation(&err) {
        ActivationError::UsernameTaken(username.to_string())
    } else {
        ActivationError::Internal(err.into())
    }
}

fn code_audit<'a>(
    ctx: &'a Ctx<'_>,
    outcome: &'static str,
    target: Option<&'a str>,
) -> AuditEntry<'a> {
    AuditEntry {
        at: ctx.now,
        actor_id: target,
        api_token: None,
        target_id: target,
        school_id: None,
        action: action::CODE_USE,
        outcome,
        client_addr: ctx.client_addr.as_deref(),
        detail: None,
    }
}

#[cfg(test)]
mod tests;
