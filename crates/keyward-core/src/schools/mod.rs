//! Schools and classes: creating them, class codes (R-CODE-2's codes; joining
//! with them is the activation capability's), the class database a teacher
//! sees, and the home pages' overviews (`overview`). Every use case
//! authorizes first.

mod mfa_rule;
pub use mfa_rule::SCHOOL_ROLES;
pub mod overview;
mod password_rules;
pub(crate) mod store;

pub(crate) use store::{add_teacher, enrol};

use crate::Ctx;
use crate::Keyward;
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Target};
use crate::error::{Code, CodedError, Internal};
use crate::types::random::random_below;
use crate::types::{ClassId, Role, SchoolId, UserId};

/// Letters and digits that cannot be mistaken for one another on a board.
pub const CLASS_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Characters in a class code.
pub const CLASS_CODE_LEN: usize = 6;
const MAX_NAME_CHARS: usize = 120;

/// A school as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    pub id: SchoolId,
    pub name: String,
}

/// A class as shown in the class database.
#[derive(Clone, PartialEq, Eq)]
pub struct Class {
    pub id: ClassId,
    pub school_id: SchoolId,
    pub name: String,
    pub class_code: Option<String>,
    pub class_code_enabled: bool,
    pub learner_count: i64,
}

impl std::fmt::Debug for Class {
    // Secrets never reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Class")
            .field("id", &self.id)
            .field("school_id", &self.school_id)
            .field("name", &self.name)
            .field("class_code", &crate::types::redacted(&self.class_code))
            .field("class_code_enabled", &self.class_code_enabled)
            .field("learner_count", &self.learner_count)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchoolError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("{0}")]
    InvalidName(&'static str),
    #[error("Every teacher of a class must be a teacher or lead teacher of its school.")]
    InvalidTeacher,
    #[error("There is no such school or class.")]
    NotFound,
    #[error(
        "A school can require two-step verification of lead teachers, teachers, learners and parents."
    )]
    InvalidRoles,
    #[error(transparent)]
    Internal(#[from] Internal),
}

impl CodedError for SchoolError {
    fn code(&self) -> Code {
        match self {
            SchoolError::Denied(denied) => denied.code(),
            SchoolError::InvalidName(_) => Code::InvalidName,
            SchoolError::InvalidTeacher => Code::InvalidTeacher,
            SchoolError::NotFound => Code::NotFound,
            SchoolError::InvalidRoles => Code::InvalidRequest,
            SchoolError::Internal(internal) => internal.code(),
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            SchoolError::Denied(denied) => denied.retry_after_secs(),
            SchoolError::Internal(internal) => internal.retry_after_secs(),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for SchoolError {
    fn from(err: sqlx::Error) -> Self {
        SchoolError::Internal(err.into())
    }
}

/// A display name: trimmed, 1 to 120 characters, no control characters.
fn clean_name(name: &str, what: &'static str) -> Result<String, SchoolError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(SchoolError::InvalidName(what));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(SchoolError::InvalidName(
            "A name has at most 120 characters and no control characters.",
        ));
    }
    Ok(name.to_owned())
}

/// A fresh class code like `K7QM2X`.
pub(crate) fn generate_class_code(ctx: &Ctx<'_>) -> Result<String, Internal> {
    let mut code = String::with_capacity(CLASS_CODE_LEN);
    for _ in 0..CLASS_CODE_LEN {
        let index = random_below(ctx.rng, CLASS_CODE_ALPHABET.len() as u32)? as usize;
        code.push(char::from(
            CLASS_CODE_ALPHABET.get(index).copied().unwrap_or(b'A'),
        ));
    }
    Ok(code)
}

impl Keyward {
    /// Creates a school (platform admins).
    pub async fn create_school(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        name: &str,
    ) -> Result<School, SchoolError> {
        self.authorize_audited(ctx, actor, Action::ManageSchools, Target::Platform)
            .await?;
        let name = clean_name(name, "Enter the school's name.")?;
        let id = SchoolId::generate(ctx.rng).map_err(Internal::from)?;
        let mut tx = self.db.begin_write().await?;
        store::insert_school(&mut tx, &id, &name, ctx.now).await?;
        audit::insert(
            &mut *tx,
            &entry(
                ctx,
                actor,
                action::SCHOOL_CREATE,
                Some(id.as_str()),
                Some(&id),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(School { id, name })
    }

    /// Creates a class in a school, with a class code, taught by `teachers`
    /// (teachers or lead teachers of that school).
    pub async fn create_class(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
        name: &str,
        teachers: &[UserId],
    ) -> Result<Class, SchoolError> {
        self.authorize_audited(ctx, actor, Action::ManageClass, Target::School(school))
            .await?;
        if !store::school_exists(&self.db, school).await? {
            return Err(SchoolError::NotFound);
        }
        let name = clean_name(name, "Enter the class's name.")?;
        for teacher in teachers {
            let ok = store::staff_role_in(&self.db, teacher, school)
                .await?
                .is_some_and(|role| matches!(role, Role::Teacher | Role::LeadTeacher));
            if !ok {
                return Err(SchoolError::InvalidTeacher);
            }
        }
        let id = ClassId::generate(ctx.rng).map_err(Internal::from)?;
        let mut tx = self.db.begin_write().await?;
        let code = store::insert_class_with_fresh_code(&mut tx, ctx, &id, school, &name).await?;
        for teacher in teachers {
            store::add_teacher(&mut tx, &id, teacher).await?;
        }
        audit::insert(
            &mut *tx,
            &entry(
                ctx,
                actor,
                action::CLASS_CREATE,
                Some(id.as_str()),
                Some(school),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(Class {
            id,
            school_id: school.clone(),
            name,
            class_code: Some(code),
            class_code_enabled: true,
            learner_count: 0,
        })
    }

    /// The school a signed-in person belongs to, for the name shown on every
    /// page; `None` for people of no school (platform admins, parents).
    pub async fn school_of_session(
        &self,
        session: &crate::accounts::CurrentSession,
    ) -> Result<Option<School>, SchoolError> {
        match &session.account.school_id {
            Some(school) => Ok(store::find_school(&self.db, school).await?),
            None => Ok(None),
        }
    }

    /// The schools an actor may pick in forms: every school for a platform
    /// admin, their own for everyone else.
    pub async fn visible_schools(&self, actor: &Actor) -> Result<Vec<School>, SchoolError> {
        if actor.platform_wide() {
            return Ok(store::all_schools(&self.db).await?);
        }
        match (&actor.role, actor.scope_school()) {
            (_, Some(school)) => Ok(store::find_school(&self.db, school)
                .await?
                .into_iter()
                .collect()),
            (_, None) => Ok(Vec::new()),
        }
    }

    /// The class database: the classes a teacher teaches; every class of the
    /// school for a lead teacher; every class of `school` for a platform admin.
    pub async fn class_database(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: Option<&SchoolId>,
    ) -> Result<Vec<Class>, SchoolError> {
        match actor.role {
            Role::PlatformAdmin if actor.platform_wide() => {
                let school = school.ok_or(SchoolError::NotFound)?;
                Ok(store::classes_of_school(&self.db, school).await?)
            }
            // A platform admin's token for one school sees that school, as
            // its lead teacher does.
            Role::LeadTeacher | Role::PlatformAdmin => {
                let school = actor.scope_school().ok_or(Denied::Forbidden)?;
                self.authorize_audited(ctx, actor, Action::ViewLearner, Target::School(school))
                    .await?;
                Ok(store::classes_of_school(&self.db, school).await?)
            }
            _ => {
                // The classes they teach, as far as their permissions (or
                // their token's) let them see the learners.
                let mut classes = Vec::new();
                for class in &actor.classes {
                    if let Some(found) = store::find_class(&self.db, class).await? {
                        let target = Target::Class {
                            school: &found.school_id,
                            class,
                        };
                        if crate::authz::authorize(actor, Action::ViewLearner, target).is_ok() {
                            classes.push(found);
                        }
                    }
                }
                Ok(classes)
            }
        }
    }
}

fn entry<'a>(
    ctx: &'a Ctx<'_>,
    actor: &'a Actor,
    act: &'static str,
    target: Option<&'a str>,
    school: Option<&'a SchoolId>,
) -> AuditEntry<'a> {
    AuditEntry {
        at: ctx.now,
        actor_id: (!actor.is_operator()).then(|| actor.user_id.as_str()),
        api_token: actor.api_token_id(),
        target_id: target,
        school_id: school.map(SchoolId::as_str),
        action: act,
        outcome: "success",
        client_addr: ctx.client_addr.as_deref(),
        detail: None,
    }
}

#[cfg(test)]
mod tests;
