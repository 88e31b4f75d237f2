//! Class codes (R-CODE-2): the teachers of a class (and the lead teacher) show,
//! regenerate or switch off its code; a new learner types it to make an
//! account enrolled in the class, and a signed-in learner to join another
//! class of their school. Class codes are written on a board, so they are
//! typed forgivingly (any case, spaces ignored) and are not secrets; typing
//! them is throttled like every other code entry (R-CODE-4). Nothing here
//! tells an outsider whether a class exists.

use crate::Ctx;
use crate::Keyward;
use crate::accounts::{Account, AccountStatus, NewUser, insert_user};
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Target};
use crate::error::Internal;
use crate::policy::{PolicyKind, Violation};
use crate::schools::{CLASS_CODE_ALPHABET, CLASS_CODE_LEN, SchoolError};
use crate::types::{ClassId, Password, Role, SchoolId, TypedCode, UserId, Username};

use super::store::{self, ClassRow};
use super::{ActivationError, CodeKind, code_throttle, taken_or_internal};
use crate::accounts::throttle;

const MAX_NAME_CHARS: usize = 80;

/// A class's code as its teachers see it.
#[derive(Clone, PartialEq, Eq)]
pub struct ClassCodeInfo {
    pub class_id: ClassId,
    pub class_name: String,
    /// `None` only for a class that never had a code.
    pub code: Option<String>,
    /// Whether the code lets anyone join now.
    pub enabled: bool,
}

impl std::fmt::Debug for ClassCodeInfo {
    // Secrets never reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassCodeInfo")
            .field("class_id", &self.class_id)
            .field("class_name", &self.class_name)
            .field("code", &crate::types::redacted(&self.code))
            .field("enabled", &self.enabled)
            .finish()
    }
}

impl From<ClassRow> for ClassCodeInfo {
    fn from(row: ClassRow) -> Self {
        ClassCodeInfo {
            class_id: row.id,
            class_name: row.name,
            code: row.class_code,
            enabled: row.class_code_enabled,
        }
    }
}

/// What a new learner types to join a class.
#[derive(Clone, Default)]
pub struct JoinInput {
    pub class_code: TypedCode,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub password: Password,
    /// When given, must equal `password` (the pages always send it).
    pub confirm_password: Option<Password>,
}

impl std::fmt::Debug for JoinInput {
    // Secrets never reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinInput")
            .field("class_code", &crate::types::REDACTED)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("confirm_password", &self.confirm_password)
            .finish()
    }
}

/// The class a signed-in learner joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedClass {
    pub class_id: ClassId,
    pub class_name: String,
    /// False when the learner was already in the class.
    pub newly_enrolled: bool,
}

/// A typed class code as stored: spaces and dashes dropped, letters in
/// capitals. `None` when it cannot be a class code at all.
pub fn normalize_class_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let plausible =
        code.len() == CLASS_CODE_LEN && code.bytes().all(|b| CLASS_CODE_ALPHABET.contains(&b));
    plausible.then_some(code)
}

/// A person's name: trimmed, 1 to 80 characters, no control characters.
fn clean_name(name: &str, missing: &'static str) -> Result<String, ActivationError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ActivationError::InvalidName(missing));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ActivationError::InvalidName(
            "A name has at most 80 characters and no control characters.",
        ));
    }
    Ok(name.to_owned())
}

impl Keyward {
    /// A class's code, for the teachers of the class and the lead teacher.
    pub async fn class_code(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        class: &ClassId,
    ) -> Result<ClassCodeInfo, SchoolError> {
        Ok(self.class_to_manage(ctx, actor, class).await?.into())
    }

    /// Gives the class a new code; the old one stops working at once.
    pub async fn regenerate_class_code(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        class: &ClassId,
    ) -> Result<ClassCodeInfo, SchoolError> {
        let mut row = self.class_to_manage(ctx, actor, class).await?;
        let mut tx = self.db.begin_write().await?;
        let code = crate::schools::store::replace_class_code(&mut tx, ctx, class).await?;
        audit::insert(
            &mut *tx,
            &manage_audit(ctx, actor, &row, action::CLASS_CODE_REGENERATE),
        )
        .await?;
        tx.commit().await?;
        row.class_code = Some(code);
        Ok(row.into())
    }

    /// Switches the class's code on or off. Switching on a class that has no
    /// code yet gives it one.
    pub async fn set_class_code_enabled(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        class: &ClassId,
        enabled: bool,
    ) -> Result<ClassCodeInfo, SchoolError> {
        let mut row = self.class_to_manage(ctx, actor, class).await?;
        let mut tx = self.db.begin_write().await?;
        if enabled && row.class_code.is_none() {
            row.class_code =
                Some(crate::schools::store::replace_class_code(&mut tx, ctx, class).await?);
        }
        crate::schools::store::set_class_code_enabled(&mut tx, class, enabled).await?;
        let act = if enabled {
            action::CLASS_CODE_ENABLE
        } else {
            action::CLASS_CODE_DISABLE
        };
        audit::insert(&mut *tx, &manage_audit(ctx, actor, &row, act)).await?;
        tx.commit().await?;
        row.class_code_enabled = enabled;
        Ok(row.into())
    }

    /// The class, when the actor may manage it: 404 when it does not exist
    /// or belongs to another school, 403 for a teacher of another class.
    async fn class_to_manage(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        class: &ClassId,
    ) -> Result<ClassRow, SchoolError> {
        let row = store::find_class(&self.db, class)
            .await?
            .ok_or(Denied::Hidden)?;
        self.authorize_audited(
            ctx,
            actor,
            Action::ManageClass,
            Target::Class {
                school: &row.school_id,
                class: &row.id,
            },
        )
        .await?;
        Ok(row)
    }

    /// Joins a class as a new learner: makes an active learner account in the
    /// class's school, enrolled in the class, with the username and password
    /// the learner chose (learner policy of that school) and a parent access
    /// code. Two people racing for one username: one wins, the other is told
    /// it is taken.
    pub async fn join_class_as_new_learner(
        &self,
        ctx: &Ctx<'_>,
        input: &JoinInput,
    ) -> Result<Account, ActivationError> {
        let class = self
            .find_class_by_code(ctx, input.class_code.expose(), None, None)
            .await?;
        let first_name = clean_name(&input.first_name, "Enter your first name.")?;
        let last_name = clean_name(&input.last_name, "Enter your last name.")?;
        let username =
            Username::parse(input.username.trim()).map_err(ActivationError::BadUsername)?;
        let policy = self
            .password_policy(Some(&class.school_id), PolicyKind::Learner)
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

        let id = UserId::generate(ctx.rng).map_err(Internal::from)?;
        let mut tx = self.db.begin_write().await?;
        insert_user(
            &mut *tx,
            &NewUser {
                id: &id,
                school_id: Some(&class.school_id),
                role: Role::Learner,
                username: &username,
                email: None,
                first_name: &first_name,
                last_name: &last_name,
                status: AccountStatus::Active,
                password_hash: Some(&hash),
                created_at: ctx.now,
            },
        )
        .await
        .map_err(|e| taken_or_internal(e, &username))?;
        crate::accounts::store::mark_created_by_owner(&mut tx, &id).await?;
        let code = class.class_code.as_deref().unwrap_or_default();
        if crate::schools::store::enrol_while_code_works(&mut tx, &class.id, code, &id).await? != 1
        {
            // Regenerated or switched off since it was looked up.
            return Err(ActivationError::UnknownClassCode);
        }
        self.issue_code(&mut tx, ctx, &id, CodeKind::Parent).await?;
        audit::insert(
            &mut *tx,
            &join_audit(ctx, Some(&id), Some(&class), "success"),
        )
        .await?;
        tx.commit().await?;
        crate::accounts::find_account(&self.db, &id)
            .await?
            .ok_or_else(|| ActivationError::Internal(Internal::new("joined account vanished")))
    }

    /// A signed-in learner joins another class of their school with its
    /// code. Joining a class one is already in changes nothing and succeeds.
    pub async fn join_class(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        typed: &TypedCode,
    ) -> Result<JoinedClass, ActivationError> {
        if actor.role != Role::Learner {
            return Err(Denied::Forbidden.into());
        }
        let school = actor.school_id.as_ref().ok_or(Denied::Forbidden)?;
        let class = self
            .find_class_by_code(ctx, typed.expose(), Some(school), Some(&actor.user_id))
            .await?;
        let code = class.class_code.as_deref().unwrap_or_default();
        let mut tx = self.db.begin_write().await?;
        let added =
            crate::schools::store::enrol_while_code_works(&mut tx, &class.id, code, &actor.user_id)
                .await?;
        if added == 0 && !store::is_enrolled(&mut tx, &class.id, &actor.user_id).await? {
            return Err(ActivationError::UnknownClassCode);
        }
        if added > 0 {
            audit::insert(
                &mut *tx,
                &join_audit(ctx, Some(&actor.user_id), Some(&class), "success"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(JoinedClass {
            class_id: class.id,
            class_name: class.name,
            newly_enrolled: added > 0,
        })
    }

    /// The class whose switched-on code was typed, in `school` when given.
    /// Unknown, switched-off and other schools' codes get one answer, and
    /// count against the code-entry throttles; `who` is the signed-in
    /// learner, if any, for the audit trail.
    async fn find_class_by_code(
        &self,
        ctx: &Ctx<'_>,
        typed: &str,
        school: Option<&SchoolId>,
        who: Option<&UserId>,
    ) -> Result<ClassRow, ActivationError> {
        let attempt = match throttle::reserve(&self.db, vec![code_throttle(ctx)], ctx.now).await? {
            Ok(attempt) => attempt,
            Err(retry_after_secs) => return Err(ActivationError::Throttled { retry_after_secs }),
        };
        let found = match normalize_class_code(typed) {
            Some(code) => store::find_class_by_code(&self.db, &code).await?,
            None => None,
        };
        let usable = found.filter(|class| {
            class.class_code_enabled && school.is_none_or(|school| *school == class.school_id)
        });
        match usable {
            Some(class) => {
                attempt.succeeded_now(&self.db).await?;
                Ok(class)
            }
            None => {
                attempt.failed();
                audit::insert_alone(&self.db, &join_audit(ctx, who, None, "failure")).await?;
                Err(ActivationError::UnknownClassCode)
            }
        }
    }
}

fn manage_audit<'a>(
    ctx: &'a Ctx<'_>,
    actor: &'a Actor,
    class: &'a ClassRow,
    act: &'static str,
) -> AuditEntry<'a> {
    AuditEntry {
        at: ctx.now,
        actor_id: Some(actor.user_id.as_str()),
        api_token: actor.api_token_id(),
        target_id: Some(class.id.as_str()),
        school_id: Some(class.school_id.as_str()),
        action: act,
        outcome: "success",
        client_addr: ctx.client_addr.as_deref(),
        detail: None,
    }
}

/// A join: the learner is actor and target, the class is in the detail. A
/// failure names no class (the code was wrong), and no learner unless one
/// was signed in.
fn join_audit<'a>(
    ctx: &'a Ctx<'_>,
    learner: Option<&'a UserId>,
    class: Option<&'a ClassRow>,
    outcome: &'static str,
) -> AuditEntry<'a> {
    AuditEntry {
        at: ctx.now,
        actor_id: learner.map(UserId::as_str),
        api_token: None,
        target_id: learner.map(UserId::as_str),
        school_id: class.map(|c| c.school_id.as_str()),
        action: action::CLASS_JOIN,
        outcome,
        client_addr: ctx.client_addr.as_deref(),
        detail: class.map(|c| c.id.as_str()),
    }
}

#[cfg(test)]
mod tests;
