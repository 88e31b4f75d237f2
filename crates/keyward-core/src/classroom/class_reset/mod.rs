//! Resetting a whole class at once (R-TCH-3, seed 002's **Reset password** in
//! the class database): every learner of a class gets either one shared
//! password or a new password each, and the result lists them all, once.
//!
//! The reset changes every learner or none: the class is held by a lease
//! (`classes.password_reset_until`) so that two resets of one class cannot
//! interleave, every password is checked and hashed (on the bounded hashing
//! pool, at most `max_concurrent - 1` at a time, see [`class_hashes_in_flight`])
//! before anything is written, and then one transaction
//! stores them all with one audit row that names the mode and the count,
//! never a password. Learners who have not used their access code yet have no
//! password; they are left alone and listed as skipped. So are learners who
//! sign in only with their school's provider (SSO-only): they have no keyward
//! password, and the result lists them with the provider's name.

use futures_util::future::try_join_all;
use std::collections::HashSet;

use crate::Ctx;
use crate::Keyward;
use crate::accounts::{Account, AccountStatus, SsoSignIn};
use crate::admin::Learner;
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Target};
use crate::classroom::ModeError;
use crate::classroom::passwords::{keep_staff_password, school_keeps_copies_in};
use crate::crypto::hashing::HashingError;
use crate::error::{Code, CodedError, Internal};
use crate::policy::{PasswordPolicy, PolicyKind, Violation};
use crate::store::Db;
use crate::types::{ClassId, Password, SchoolId, UnixTime, UserId, Username};

/// How long a reset may hold its class. Hashing a class's passwords takes
/// seconds; a reset that died mid-way (a crash) frees the class after this.
pub const CLASS_RESET_LEASE_SECS: i64 = 120;
/// Tries at a generated password that fits every learner before giving up.
const GENERATION_ATTEMPTS: usize = 50;

/// What staff asked for.
#[derive(Debug)]
pub enum ClassResetMode {
    /// The same password for every learner: the one given (checked against
    /// the school's learner policy for each learner), or a generated one.
    Same(Option<Password>),
    /// A new generated password for each learner.
    Individual,
}

impl ClassResetMode {
    /// The one parser of a reset request's mode and password, for the page
    /// and the API: `same` with the password to give everyone (none: a
    /// generated one), or `individual` without one.
    pub fn parse(mode: Option<&str>, password: Option<Password>) -> Result<Self, ModeError> {
        let kind = ClassResetKind::parse(mode.unwrap_or_default())?;
        ClassResetMode::of(kind, password)
    }

    /// The mode of `kind` with the password given, if any.
    pub fn of(kind: ClassResetKind, password: Option<Password>) -> Result<Self, ModeError> {
        match (kind, password) {
            (ClassResetKind::Same, password) => Ok(ClassResetMode::Same(password)),
            (ClassResetKind::Individual, None) => Ok(ClassResetMode::Individual),
            (ClassResetKind::Individual, Some(_)) => Err(ModeError::UnexpectedPassword),
        }
    }

    fn kind(&self) -> ClassResetKind {
        match self {
            ClassResetMode::Same(_) => ClassResetKind::Same,
            ClassResetMode::Individual => ClassResetKind::Individual,
        }
    }
}

/// The mode of a finished reset, without the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassResetKind {
    Same,
    Individual,
}

impl ClassResetKind {
    /// `same` or `individual`; anything else is `invalid_mode`.
    pub fn parse(mode: &str) -> Result<Self, ModeError> {
        match mode {
            "same" => Ok(ClassResetKind::Same),
            "individual" => Ok(ClassResetKind::Individual),
            _ => Err(ModeError::InvalidMode(
                "mode must be \"same\" or \"individual\".",
            )),
        }
    }

    /// Stable name, used by the API and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            ClassResetKind::Same => "same",
            ClassResetKind::Individual => "individual",
        }
    }
}

/// One learner's new password, to tell them.
#[derive(Debug, Clone)]
pub struct ResetLearner {
    pub user_id: UserId,
    pub username: Username,
    pub first_name: String,
    pub last_name: String,
    pub password: Password,
}

/// A learner left alone: they have no password yet and use their access
/// code, or they sign in only with their school's provider.
#[derive(Debug, Clone)]
pub struct SkippedLearner {
    pub user_id: UserId,
    pub first_name: String,
    pub last_name: String,
    /// The provider of an SSO-only learner ("signs in with <provider>").
    pub sso: Option<SsoSignIn>,
}

impl SkippedLearner {
    fn of(learner: Learner) -> SkippedLearner {
        SkippedLearner {
            user_id: learner.account.id,
            first_name: learner.account.first_name,
            last_name: learner.account.last_name,
            sso: learner.sso.filter(|_| learner.sso_only),
        }
    }
}

/// The outcome of a whole-class reset. The passwords exist only here: show
/// them once (and offer them for download) and let it go.
#[derive(Debug, Clone)]
pub struct ClassReset {
    pub class_id: ClassId,
    pub class_name: String,
    /// The class's school, named on the printed login cards.
    pub school_name: String,
    pub mode: ClassResetKind,
    /// Whether sealed copies were kept, so each password can be shown again.
    pub kept: bool,
    /// Every learner given a new password, in the order of the class list.
    pub learners: Vec<ResetLearner>,
    /// Learners waiting for their access code, who were left alone.
    pub skipped_pending: Vec<SkippedLearner>,
    /// Learners who sign in only with their school's provider and have no
    /// keyward password, left alone (each with the provider).
    pub skipped_sso: Vec<SkippedLearner>,
}

/// A class as its **Reset password** form shows it.
#[derive(Debug, Clone)]
pub struct ClassResetPreview {
    pub class_id: ClassId,
    pub class_name: String,
    /// Learners who have a password, so would get a new one.
    pub learners: usize,
    /// Learners waiting for their access code, who would be left alone.
    pub pending: usize,
    /// Learners who sign in only with their school's provider, left alone too.
    pub sso: usize,
    /// The school's learner policy, which a chosen shared password must meet.
    pub policy: PasswordPolicy,
}

/// The columns of [`ClassReset::to_csv`].
pub const CSV_HEADER: [&str; 5] = ["class", "first_name", "last_name", "username", "password"];

impl ClassReset {
    /// The new passwords as CSV (RFC 4180, UTF-8): class, first name, last
    /// name, username and password of every learner, each cell made safe for
    /// spreadsheets.
    pub fn to_csv(&self) -> Result<String, Internal> {
        let bytes = crate::classroom::credentials::write_csv(
            &CSV_HEADER,
            self.learners.iter().map(|learner| {
                [
                    self.class_name.as_str(),
                    &learner.first_name,
                    &learner.last_name,
                    learner.username.as_str(),
                    learner.password.expose(),
                ]
            }),
        )?;
        String::from_utf8(bytes).map_err(|err| Internal::new(err.to_string()))
    }

    /// A file name for the download: the class's name with anything but
    /// letters, digits, `-` and `_` made a `-`, then `-passwords.csv`.
    pub fn csv_file_name(&self) -> String {
        let name: String = self
            .class_name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let name = name.trim_matches('-');
        if name.is_empty() {
            "class-passwords.csv".to_owned()
        } else {
            format!("{name}-passwords.csv")
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClassResetError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(
        "No learner of this class has a password to reset: the class has no learners yet, none has set up their account (give those their access codes), or they all sign in with their school account."
    )]
    ClassEmpty,
    #[error(
        "The passwords of this class are being reset right now. Wait a moment, then look at the class or try again."
    )]
    ResetInProgress,
    #[error("The password doesn't meet the rules for every learner of this class.")]
    PasswordPolicy {
        violations: Vec<Violation>,
        policy: PasswordPolicy,
    },
    #[error("The server is busy. Try again in a moment; no password was changed.")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for ClassResetError {
    fn code(&self) -> Code {
        match self {
            ClassResetError::Denied(denied) => denied.code(),
            ClassResetError::ClassEmpty => Code::ClassEmpty,
            ClassResetError::ResetInProgress => Code::ResetInProgress,
            ClassResetError::PasswordPolicy { .. } => Code::PasswordPolicy,
            ClassResetError::Busy { .. } => Code::ServerBusy,
            ClassResetError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ClassResetError::Denied(denied) => denied.retry_after_secs(),
            ClassResetError::Busy { retry_after_secs } => Some(*retry_after_secs),
            ClassResetError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }

    fn details(&self) -> Vec<(&'static str, serde_json::Value)> {
        match self {
            ClassResetError::PasswordPolicy { violations, .. } => {
                crate::policy::violation_details(violations)
            }
            _ => Vec::new(),
        }
    }
}

impl From<HashingError> for ClassResetError {
    fn from(err: HashingError) -> Self {
        match err {
            HashingError::Busy { retry_after_secs } => ClassResetError::Busy { retry_after_secs },
            HashingError::Internal(internal) => ClassResetError::Internal(internal),
        }
    }
}

impl From<sqlx::Error> for ClassResetError {
    fn from(err: sqlx::Error) -> Self {
        ClassResetError::Internal(err.into())
    }
}

/// The class a reset is about, once authorized.
struct ClassInReach {
    id: ClassId,
    school_id: SchoolId,
    name: String,
}

impl Keyward {
    /// The class, when `actor` may reset its learners' passwords: 404 when it
    /// does not exist or belongs to another school, 403 for a teacher of
    /// another class.
    async fn class_to_reset(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        class: &ClassId,
    ) -> Result<ClassInReach, ClassResetError> {
        let row = crate::schools::store::find_class(&self.db, class)
            .await?
            .ok_or(Denied::Hidden)?;
        self.authorize_audited(
            ctx,
            actor,
            Action::ResetLearnerPassword,
            Target::Class {
                school: &row.school_id,
                class,
            },
        )
        .await?;
        Ok(ClassInReach {
            id: class.clone(),
            school_id: row.school_id,
            name: row.name,
        })
    }

    /// What the **Reset password** form of a class shows: its name, how many
    /// learners would get a new password and how many are left alone, and the
    /// learner policy a chosen shared password must meet.
    pub async fn class_reset_preview(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        class: &ClassId,
    ) -> Result<ClassResetPreview, ClassResetError> {
        let class = self.class_to_reset(ctx, actor, class).await?;
        let members = crate::admin::learners_of_class(&self.db, &class.id).await?;
        let (learners, pending, sso) = sort_members(members);
        let policy = self
            .password_policy(Some(&class.school_id), PolicyKind::Learner)
            .await?;
        Ok(ClassResetPreview {
            class_id: class.id,
            class_name: class.name,
            learners: learners.len(),
            pending: pending.len(),
            sso: sso.len(),
            policy,
        })
    }

    /// Resets the password of every learner of a class who has one (R-TCH-3):
    /// all of them or none. Their sessions end; sealed copies are kept when
    /// the school keeps them. The new passwords are returned to be told once.
    pub async fn reset_class_passwords(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        class: &ClassId,
        mode: ClassResetMode,
    ) -> Result<ClassReset, ClassResetError> {
        let class = self.class_to_reset(ctx, actor, class).await?;
        let until = UnixTime(ctx.now.secs().saturating_add(CLASS_RESET_LEASE_SECS));
        if !crate::schools::store::take_reset_lease(&self.db, &class.id, ctx.now, until).await? {
            return Err(ClassResetError::ResetInProgress);
        }
        let mut guard = LeaseGuard {
            db: self.db.clone(),
            class: class.id.clone(),
            until,
            armed: true,
        };
        let outcome = self
            .reset_holding_lease(ctx, actor, &class, mode, until)
            .await;
        if outcome.is_err() {
            // Nothing was written; give the class back for the next try. If
            // even that fails, the lease runs out by itself.
            if let Err(err) =
                crate::schools::store::end_reset_lease(&self.db, &class.id, until).await
            {
                tracing::warn!(cause = %err.cause(), "could not end a class reset lease");
            }
        }
        // A success ended the lease in its transaction.
        guard.armed = false;
        outcome
    }

    async fn reset_holding_lease(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        class: &ClassInReach,
        mode: ClassResetMode,
        until: UnixTime,
    ) -> Result<ClassReset, ClassResetError> {
        let members = crate::admin::learners_of_class(&self.db, &class.id).await?;
        let (learners, pending, sso) = sort_members(members);
        // Authorize every learner, so that one holding a permission the actor
        // lacks (a custom role) stops the whole reset before anything changes.
        for learner in &learners {
            let target = self
                .user_target(&learner.id)
                .await?
                .ok_or(Denied::Forbidden)?;
            self.authorize_audited(
                ctx,
                actor,
                Action::ResetLearnerPassword,
                Target::User(&target),
            )
            .await
            .map_err(
                // The class is in reach, so its learners' existence is no secret.
                |_| Denied::Forbidden,
            )?;
        }
        if learners.is_empty() {
            return Err(ClassResetError::ClassEmpty);
        }
        let policy = self
            .password_policy(Some(&class.school_id), PolicyKind::Learner)
            .await?;
        let kind = mode.kind();
        let passwords = self.new_passwords(ctx, &policy, &learners, mode)?;

        // A few hashes at a time, in order: each next one queues behind
        // the sign-ins that arrived before it (the pool's queue is FIFO), so
        // a class of thirty never makes a sign-in wait for thirty hashes.
        let in_flight = class_hashes_in_flight(self.settings.hashing.max_concurrent);
        let mut hashes = Vec::with_capacity(passwords.len());
        for batch in passwords.chunks(in_flight) {
            let batch = try_join_all(
                batch
                    .iter()
                    .map(|password| self.hashing.hash(password, ctx.rng)),
            )
            .await?;
            hashes.extend(batch);
        }

        let mut tx = self.db.begin_write().await?;
        let keep = school_keeps_copies_in(&mut tx, &class.school_id).await?;
        for ((learner, password), hash) in learners.iter().zip(&passwords).zip(&hashes) {
            crate::accounts::set_password(&mut tx, &learner.id, hash, ctx.now).await?;
            keep_staff_password(&mut tx, ctx, &self.sealer, &learner.id, password, keep).await?;
            crate::accounts::end_sessions(&mut tx, &learner.id, None).await?;
        }
        // Still ours? A reset that outlived its lease must not overwrite a
        // newer one; dropping the transaction rolls everything back.
        if !crate::schools::store::end_reset_lease_in(&mut tx, &class.id, until).await? {
            return Err(ClassResetError::ResetInProgress);
        }
        let detail = format!(
            "mode={}; learners={}; skipped_pending={}; skipped_sso={}; kept={keep}",
            kind.as_str(),
            learners.len(),
            pending.len(),
            sso.len()
        );
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
                api_token: actor.api_token_id(),
                target_id: Some(class.id.as_str()),
                school_id: Some(class.school_id.as_str()),
                action: action::CLASS_PASSWORD_RESET,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(&detail),
            },
        )
        .await?;
        tx.commit().await?;
        let school_name = crate::schools::store::find_school(&self.db, &class.school_id)
            .await?
            .map(|school| school.name)
            .unwrap_or_default();

        Ok(ClassReset {
            class_id: class.id.clone(),
            class_name: class.name.clone(),
            school_name,
            mode: kind,
            kept: keep,
            learners: learners
                .into_iter()
                .zip(passwords)
                .map(|(learner, password)| ResetLearner {
                    user_id: learner.id,
                    username: learner.username,
                    first_name: learner.first_name,
                    last_name: learner.last_name,
                    password,
                })
                .collect(),
            skipped_pending: pending.into_iter().map(SkippedLearner::of).collect(),
            skipped_sso: sso.into_iter().map(SkippedLearner::of).collect(),
        })
    }

    /// One password per learner, in the order of `learners`: checked when
    /// chosen, generated otherwise (never containing a learner's username).
    fn new_passwords(
        &self,
        ctx: &Ctx<'_>,
        policy: &PasswordPolicy,
        learners: &[Account],
        mode: ClassResetMode,
    ) -> Result<Vec<Password>, ClassResetError> {
        match mode {
            ClassResetMode::Same(Some(password)) => {
                if password.is_over_long() {
                    return Err(ClassResetError::PasswordPolicy {
                        violations: vec![Violation::TooLong],
                        policy: policy.clone(),
                    });
                }
                let mut violations = Vec::new();
                for learner in learners {
                    for violation in policy.check(&password, Some(learner.username.as_str())) {
                        if !violations.contains(&violation) {
                            violations.push(violation);
                        }
                    }
                }
                if !violations.is_empty() {
                    return Err(ClassResetError::PasswordPolicy {
                        violations,
                        policy: policy.clone(),
                    });
                }
                Ok(vec![password; learners.len()])
            }
            ClassResetMode::Same(None) => {
                for _ in 0..GENERATION_ATTEMPTS {
                    let password = self.generated_password(policy, None, ctx)?;
                    if learners
                        .iter()
                        .all(|l| fits(policy, &password, &l.username))
                    {
                        return Ok(vec![password; learners.len()]);
                    }
                }
                Err(Internal::new("no generated password fits every learner of the class").into())
            }
            ClassResetMode::Individual => {
                // Distinct too, so that no two learners are told the same one.
                let mut seen = HashSet::with_capacity(learners.len());
                let mut passwords = Vec::with_capacity(learners.len());
                for learner in learners {
                    let username = Some(learner.username.as_str());
                    let mut found = None;
                    for _ in 0..GENERATION_ATTEMPTS {
                        let password = self.generated_password(policy, username, ctx)?;
                        if fits(policy, &password, &learner.username)
                            && seen.insert(password.expose().to_owned())
                        {
                            found = Some(password);
                            break;
                        }
                    }
                    passwords.push(
                        found.ok_or_else(|| Internal::new("no distinct generated password"))?,
                    );
                }
                Ok(passwords)
            }
        }
    }
}

/// A class's learners sorted, each list in the order of the class: those
/// with a password to reset, those waiting for their access code, and those
/// who sign in only with their school's provider.
fn sort_members(members: Vec<Learner>) -> (Vec<Account>, Vec<Learner>, Vec<Learner>) {
    let (mut learners, mut pending, mut sso) = (Vec::new(), Vec::new(), Vec::new());
    for member in members {
        if member.account.status == AccountStatus::Pending {
            pending.push(member);
        } else if member.sso_only {
            sso.push(member);
        } else {
            learners.push(member.account);
        }
    }
    (learners, pending, sso)
}

/// Whether a generated password suits a learner: it fits the policy and does
/// not contain their username, whatever the policy says about usernames.
fn fits(policy: &PasswordPolicy, password: &Password, username: &Username) -> bool {
    let name = username.key();
    let contains_name =
        name.chars().count() >= 3 && crate::types::username_key(password.expose()).contains(name);
    !contains_name && policy.check(password, Some(username.as_str())).is_empty()
}

/// Gives the class back when a reset is dropped half-way (its request timed
/// out, or the client went away), so the next reset need not wait for the
/// lease to run out. Nothing was committed then, or the lease already ended
/// with the commit and ending it again changes nothing.
struct LeaseGuard {
    db: Db,
    class: ClassId,
    until: UnixTime,
    armed: bool,
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (db, class, until) = (self.db.clone(), self.class.clone(), self.until);
        runtime.spawn(async move {
            if let Err(err) = crate::schools::store::end_reset_lease(&db, &class, until).await {
                tracing::warn!(cause = %err.cause(), "could not end a class reset lease");
            }
        });
    }
}

/// How many of a class reset's hashes may be in the pool at once: all slots
/// but one (at least one), so a sign-in always finds a slot free or waits
/// behind one class hash at most, never behind the whole class.
fn class_hashes_in_flight(max_concurrent: usize) -> usize {
    max_concurrent.saturating_sub(1).max(1)
}

#[cfg(test)]
mod tests;
