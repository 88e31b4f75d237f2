//! A learner's password in the hands of staff (seed 002): **Reset password**
//! on one learner with **Generate new password** or a chosen password
//! (R-TCH-1, R-TCH-2), showing the existing password again when a sealed copy
//! is kept (R-TCH-4), and the school's switch for keeping copies.
//!
//! A sealed copy exists only for a password staff set or generated while the
//! school keeps copies; `accounts::set_password` destroys it whenever the
//! password changes any other way (the learner chose a private one). Staff
//! passwords are never kept. Every reveal is audited.
//!
//! A learner who signs in only with their school's provider (SSO-only, see
//! `accounts::SsoSignIn`) has no keyward password: their state is
//! [`PasswordState::Sso`], and resetting, generating or showing one is
//! refused (`signs_in_with_sso`, naming the provider).

mod store;

pub(crate) use crate::schools::store::school_keeps_copies_in;
pub(crate) use store::keep_staff_password;

use crate::Ctx;
use crate::Keyward;
use crate::accounts::{Account, AccountStatus, SsoSignIn};
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Target, authorize};
use crate::classroom::ModeError;
use crate::crypto::hashing::HashingError;
use crate::error::{Code, CodedError, Internal};
use crate::policy::{PasswordPolicy, PolicyKind, Violation};
use crate::types::{Password, Role, SchoolId, UserId};

/// The purpose of a learner password's row in `sealed_secrets`.
pub(crate) const LEARNER_PASSWORD_PURPOSE: &str = "learner_password";

/// What staff can know about a learner's password without seeing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordState {
    /// Staff set or generated it and a sealed copy is kept: it can be shown.
    Retrievable,
    /// The learner chose it: nobody but the learner knows it.
    Private,
    /// Staff set it while the school kept no copies.
    NotKept,
    /// The account waits for its access code; it has no password yet.
    Pending,
    /// The learner signs in only with their school's provider (single
    /// sign-on) and has no keyward password.
    Sso,
}

impl PasswordState {
    /// Stable name, used by the API and the credentials CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            PasswordState::Retrievable => "retrievable",
            PasswordState::Private => "private",
            PasswordState::NotKept => "not_kept",
            PasswordState::Pending => "pending",
            PasswordState::Sso => "sso",
        }
    }

    /// A sentence for the pages.
    pub fn explanation(self) -> &'static str {
        match self {
            PasswordState::Retrievable => "You can show this learner their password.",
            PasswordState::Private => {
                "The learner has chosen a private password. Only they know it; you can give them a new one."
            }
            PasswordState::NotKept => {
                "Your school keeps no copies of learner passwords, so it can't be shown. You can give them a new one."
            }
            PasswordState::Pending => {
                "The learner hasn't set up their account yet: give them their access code."
            }
            PasswordState::Sso => {
                "The learner signs in with their school account (single sign-on) and has no keyward password to show or reset."
            }
        }
    }

    /// The state from what the `users` row holds and whether the learner is
    /// SSO-only (active, linked to a provider, no password): the one place
    /// this rule lives.
    pub(crate) fn of(
        status: AccountStatus,
        sso_only: bool,
        has_sealed_copy: bool,
        set_by_staff: bool,
    ) -> Self {
        if sso_only {
            return PasswordState::Sso;
        }
        match (status, has_sealed_copy, set_by_staff) {
            (AccountStatus::Pending, _, _) => PasswordState::Pending,
            (_, true, _) => PasswordState::Retrievable,
            (_, false, true) => PasswordState::NotKept,
            (_, false, false) => PasswordState::Private,
        }
    }
}

/// How staff give a learner a new password.
#[derive(Debug)]
pub enum NewPasswordChoice {
    /// **Generate new password**: a readable one that fits the policy.
    Generate,
    /// A password staff typed, checked against the learner policy.
    Chosen(Password),
    /// The page's two steps: a password from
    /// [`Keyward::propose_learner_password`], sent back with its proof on
    /// **Reset**. It counts as generated only when the proof matches;
    /// otherwise it is a chosen password like any other.
    Proposed { password: Password, proof: String },
}

impl NewPasswordChoice {
    /// The one parser of the API's mode and password: `generate` (a password
    /// given with it is not used), or `set` with the password.
    pub fn parse(mode: &str, password: Option<Password>) -> Result<Self, ModeError> {
        match (mode, password) {
            ("generate", _) => Ok(NewPasswordChoice::Generate),
            ("set", Some(password)) => Ok(NewPasswordChoice::Chosen(password)),
            ("set", None) => Err(ModeError::PasswordMissing),
            _ => Err(ModeError::InvalidMode(
                "mode must be \"generate\" or \"set\".",
            )),
        }
    }
}

/// A generated password shown to staff before **Reset**, with a keyed proof
/// that keyward made it for this learner (so the audit trail can say
/// `generate`). Nothing is stored.
#[derive(Debug)]
pub struct ProposedPassword {
    pub password: Password,
    pub proof: String,
}

/// The purpose of a proposal's proof (a keyed look-up hash).
const PROPOSAL_PURPOSE: &str = "learner_password_proposal";

/// A learner's password with their username, to tell them: a new one, or
/// the kept copy shown again.
#[derive(Debug)]
pub struct IssuedPassword {
    /// The learner's username, to tell them with it.
    pub username: String,
    pub password: Password,
    /// Whether a sealed copy was kept, so it can be shown again later.
    pub kept: bool,
}

/// A learner as the **Reset password** page shows them.
#[derive(Debug, Clone)]
pub struct LearnerPasswordView {
    pub learner: Account,
    /// The learner's school, named on their printed login card.
    pub school_name: String,
    pub state: PasswordState,
    /// The provider an SSO-only learner signs in with (state `Sso`).
    pub sso: Option<SsoSignIn>,
    /// The learner password policy of the school, for a chosen password.
    pub policy: PasswordPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum LearnerPasswordError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("This learner hasn't set up their account yet. Give them their access code instead.")]
    NotActivated,
    #[error("The password doesn't meet the rules.")]
    PasswordPolicy {
        violations: Vec<Violation>,
        policy: PasswordPolicy,
    },
    #[error("This password can't be shown: {}", .0.explanation())]
    NotRetrievable(PasswordState),
    #[error(
        "This learner signs in with {}: they have no keyward password to show or reset.",
        .0.provider_name
    )]
    SignsInWithSso(SsoSignIn),
    #[error("The server is busy. Try again in a moment.")]
    Busy { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for LearnerPasswordError {
    fn code(&self) -> Code {
        match self {
            LearnerPasswordError::Denied(denied) => denied.code(),
            LearnerPasswordError::NotActivated => Code::NotActivated,
            LearnerPasswordError::PasswordPolicy { .. } => Code::PasswordPolicy,
            LearnerPasswordError::NotRetrievable(_) => Code::NotRetrievable,
            LearnerPasswordError::SignsInWithSso(_) => Code::SignsInWithSso,
            LearnerPasswordError::Busy { .. } => Code::ServerBusy,
            LearnerPasswordError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            LearnerPasswordError::Denied(denied) => denied.retry_after_secs(),
            LearnerPasswordError::Busy { retry_after_secs } => Some(*retry_after_secs),
            LearnerPasswordError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }

    fn details(&self) -> Vec<(&'static str, serde_json::Value)> {
        match self {
            LearnerPasswordError::PasswordPolicy { violations, .. } => {
                crate::policy::violation_details(violations)
            }
            LearnerPasswordError::NotRetrievable(state) => {
                vec![("password_status", serde_json::json!(state.as_str()))]
            }
            LearnerPasswordError::SignsInWithSso(sso) => sso.error_details(),
            _ => Vec::new(),
        }
    }
}

impl From<HashingError> for LearnerPasswordError {
    fn from(err: HashingError) -> Self {
        match err {
            HashingError::Busy { retry_after_secs } => {
                LearnerPasswordError::Busy { retry_after_secs }
            }
            HashingError::Internal(internal) => LearnerPasswordError::Internal(internal),
        }
    }
}

impl From<sqlx::Error> for LearnerPasswordError {
    fn from(err: sqlx::Error) -> Self {
        LearnerPasswordError::Internal(err.into())
    }
}

impl From<crate::types::random::RandomError> for LearnerPasswordError {
    fn from(err: crate::types::random::RandomError) -> Self {
        LearnerPasswordError::Internal(err.into())
    }
}

impl Keyward {
    /// Authorizes `actor` to reset (and so reveal) `learner`'s password and
    /// loads the learner. Unknown ids and learners out of scope look alike.
    async fn learner_in_reach(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        learner: &UserId,
    ) -> Result<Account, LearnerPasswordError> {
        let target = self.user_target(learner).await?.ok_or(Denied::Hidden)?;
        self.authorize_audited(
            ctx,
            actor,
            Action::ResetLearnerPassword,
            Target::User(&target),
        )
        .await
        .map_err(
            // A teacher may know a learner of their school exists (the
            // student database is not theirs, but the name is no secret);
            // anyone outside the school learns nothing.
            |denied| match denied {
                Denied::Forbidden if target.role != Role::Learner => Denied::Hidden,
                other => other,
            },
        )?;
        Ok(crate::accounts::find_account(&self.db, learner)
            .await?
            .ok_or(Denied::Hidden)?)
    }

    /// The **Reset password** page of one learner: who they are and whether
    /// their password can be shown.
    pub async fn learner_password_view(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        learner: &UserId,
    ) -> Result<LearnerPasswordView, LearnerPasswordError> {
        let account = self.learner_in_reach(ctx, actor, learner).await?;
        let (state, sso) = store::password_state(&self.db, learner).await?;
        let policy = self
            .password_policy(account.school_id.as_ref(), PolicyKind::Learner)
            .await?;
        let school_name = match &account.school_id {
            Some(school) => crate::schools::store::find_school(&self.db, school)
                .await?
                .map(|school| school.name),
            None => None,
        };
        Ok(LearnerPasswordView {
            school_name: school_name.unwrap_or_default(),
            learner: account,
            state,
            sso,
            policy,
        })
    }

    /// **Generate new password** on the page: a readable password that fits
    /// the learner's policy, shown to staff before they press **Reset**.
    /// Nothing changes until then.
    pub async fn propose_learner_password(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        learner: &UserId,
    ) -> Result<ProposedPassword, LearnerPasswordError> {
        let account = self.learner_in_reach(ctx, actor, learner).await?;
        if account.status == AccountStatus::Pending {
            return Err(LearnerPasswordError::NotActivated);
        }
        refuse_sso_only(crate::accounts::sso_only_of(self.db.pool(), learner).await?)?;
        let policy = self
            .password_policy(account.school_id.as_ref(), PolicyKind::Learner)
            .await?;
        let password = self.generated_password(&policy, Some(account.username.as_str()), ctx)?;
        let proof = self.proposal_proof(learner, password.expose());
        Ok(ProposedPassword { password, proof })
    }

    fn proposal_proof(&self, learner: &UserId, password: &str) -> String {
        self.sealer
            .lookup_hash(PROPOSAL_PURPOSE, &format!("{learner}/{password}"))
    }

    /// Gives a learner a new password (**Generate new password** then
    /// **Reset**, or a chosen one). Their sessions end; a sealed copy is kept
    /// when the school allows it. The new password is returned to be told once.
    pub async fn reset_learner_password(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        learner: &UserId,
        choice: NewPasswordChoice,
    ) -> Result<IssuedPassword, LearnerPasswordError> {
        let account = self.learner_in_reach(ctx, actor, learner).await?;
        if account.status == AccountStatus::Pending {
            return Err(LearnerPasswordError::NotActivated);
        }
        refuse_sso_only(crate::accounts::sso_only_of(self.db.pool(), learner).await?)?;
        let school = account.school_id.as_ref();
        let policy = self.password_policy(school, PolicyKind::Learner).await?;
        let username = account.username.as_str();
        let choice = match choice {
            NewPasswordChoice::Proposed { password, proof } => {
                let expected = self.proposal_proof(learner, password.expose());
                if crate::crypto::tokens::constant_time_eq(&proof, &expected) {
                    NewPasswordChoice::Proposed { password, proof }
                } else {
                    NewPasswordChoice::Chosen(password)
                }
            }
            other => other,
        };
        let detail = match choice {
            NewPasswordChoice::Chosen(_) => "set",
            NewPasswordChoice::Generate | NewPasswordChoice::Proposed { .. } => "generate",
        };
        let password = match choice {
            NewPasswordChoice::Generate => self.generated_password(&policy, Some(username), ctx)?,
            NewPasswordChoice::Chosen(password) | NewPasswordChoice::Proposed { password, .. } => {
                if password.is_over_long() {
                    return Err(LearnerPasswordError::PasswordPolicy {
                        violations: vec![Violation::TooLong],
                        policy,
                    });
                }
                let violations = policy.check(&password, Some(username));
                if !violations.is_empty() {
                    return Err(LearnerPasswordError::PasswordPolicy { violations, policy });
                }
                password
            }
        };
        let hash = self.hashing.hash(&password, ctx.rng).await?;
        let mut tx = self.db.begin_write().await?;
        // Decided again where it is written: a learner who became SSO-only
        // since keeps no password.
        refuse_sso_only(crate::accounts::sso_only_of(&mut *tx, learner).await?)?;
        let keep = match school {
            Some(school) => school_keeps_copies_in(&mut tx, school).await?,
            None => false,
        };
        crate::accounts::set_password(&mut tx, learner, &hash, ctx.now).await?;
        keep_staff_password(&mut tx, ctx, &self.sealer, learner, &password, keep).await?;
        crate::accounts::end_sessions(&mut tx, learner, None).await?;
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
                api_token: actor.api_token_id(),
                target_id: Some(learner.as_str()),
                school_id: school.map(SchoolId::as_str),
                action: action::LEARNER_PASSWORD_RESET,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(detail),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(IssuedPassword {
            username: account.username.to_string(),
            password,
            kept: keep,
        })
    }

    /// Shows a learner's existing password, when a sealed copy is kept
    /// (R-TCH-4). Allowed to those who may reset the learner; audited.
    pub async fn reveal_learner_password(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        learner: &UserId,
    ) -> Result<IssuedPassword, LearnerPasswordError> {
        let account = self.learner_in_reach(ctx, actor, learner).await?;
        let (state, sso) = store::password_state(&self.db, learner).await?;
        if let Some(sso) = sso {
            return Err(LearnerPasswordError::SignsInWithSso(sso));
        }
        if state != PasswordState::Retrievable {
            return Err(LearnerPasswordError::NotRetrievable(state));
        }
        // A retrievable password whose copy is gone is a broken row, not an
        // answer to give staff.
        let plain = store::open_learner_password(&self.db, &self.sealer, learner)
            .await?
            .map(Password::new)
            .ok_or_else(|| Internal::new(format!("sealed password of {learner} is missing")))?;
        audit::insert_alone(
            &self.db,
            &AuditEntry {
                at: ctx.now,
                actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
                api_token: actor.api_token_id(),
                target_id: Some(learner.as_str()),
                school_id: account.school_id.as_ref().map(SchoolId::as_str),
                action: action::LEARNER_PASSWORD_REVEAL,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: None,
            },
        )
        .await?;
        Ok(IssuedPassword {
            username: account.username.to_string(),
            password: plain,
            kept: true,
        })
    }
}

/// `signs_in_with_sso` for an SSO-only learner: there is no password to touch.
fn refuse_sso_only(sso: Option<SsoSignIn>) -> Result<(), LearnerPasswordError> {
    match sso {
        Some(sso) => Err(LearnerPasswordError::SignsInWithSso(sso)),
        None => Ok(()),
    }
}

/// Why the school's switch could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum SchoolSettingError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for SchoolSettingError {
    fn code(&self) -> Code {
        match self {
            SchoolSettingError::Denied(denied) => denied.code(),
            SchoolSettingError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            SchoolSettingError::Denied(denied) => denied.retry_after_secs(),
            SchoolSettingError::Internal(internal) => internal.retry_after_secs(),
        }
    }
}

impl Keyward {
    /// Whether the school keeps sealed copies of learner passwords staff set
    /// (`learner_passwords_retrievable`). Its staff and platform admins may ask.
    pub async fn learner_passwords_retrievable(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
    ) -> Result<bool, SchoolSettingError> {
        let target = Target::School(school);
        match authorize(actor, Action::ViewLearner, target) {
            Ok(()) => {}
            // Teachers see the setting of their own school too.
            Err(Denied::Forbidden) if actor.school_id.as_ref() == Some(school) => {}
            Err(denied) => {
                let denied = self
                    .audit_denial(ctx, actor, Action::ViewLearner, target, denied)
                    .await;
                return Err(denied.into());
            }
        }
        crate::schools::store::find_school_setting(&self.db, school)
            .await?
            .ok_or(SchoolSettingError::Denied(Denied::Hidden))
    }

    /// Switches keeping copies on or off for a school (its lead teacher, a
    /// platform admin). Switching off destroys every copy kept so far.
    pub async fn set_learner_passwords_retrievable(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
        keep: bool,
    ) -> Result<(), SchoolSettingError> {
        self.authorize_audited(ctx, actor, Action::ManageUser, Target::School(school))
            .await?;
        let mut tx = self.db.begin_write().await?;
        if !crate::schools::store::update_school_setting(&mut tx, school, keep).await? {
            return Err(Denied::Hidden.into());
        }
        let destroyed = if keep {
            0
        } else {
            store::destroy_school_copies(&mut tx, school).await?
        };
        let detail = format!("learner_passwords_retrievable={keep}; copies_destroyed={destroyed}");
        audit::insert(
            &mut *tx,
            &AuditEntry {
                at: ctx.now,
                actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
                api_token: actor.api_token_id(),
                target_id: None,
                school_id: Some(school.as_str()),
                action: action::SCHOOL_SETTING_CHANGE,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(&detail),
            },
        )
        .await?;
        tx.commit().await.map_err(Internal::from)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
