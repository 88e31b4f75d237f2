//! What home pages show at a glance (issue 15): a teacher's classes with
//! their learner counts and what the teacher may do in each, a school's
//! numbers for those who may see its people, and the classes a learner is
//! in with their teachers' names. Each is one read (counted with `GROUP BY`,
//! never a query per class). They only ask whether the actor *could* see
//! something (`authorize`, not audited): what the actor may not see is left
//! out, so a page shows what is there and nothing is refused.

mod store;

pub(crate) use store::classes_of_children;

use crate::Keyward;
use crate::authz::{Action, Actor, Target, authorize};
use crate::error::Internal;
use crate::types::{ClassId, SchoolId, UserId};

use super::{School, SchoolError};

/// A class its teacher sees on their home page.
#[derive(Clone, PartialEq, Eq)]
pub struct TaughtClass {
    pub id: ClassId,
    pub school_id: SchoolId,
    pub name: String,
    /// The class code, while it is switched on.
    pub class_code: Option<String>,
    /// Learners enrolled, whether or not they have started.
    pub learners: i64,
    /// Of those, learners who have not used their access code yet.
    pub pending: i64,
    /// The class page: its class code (`ManageClass`).
    pub may_manage: bool,
    /// **Reset password** for the whole class (`ResetLearnerPassword`).
    pub may_reset: bool,
    /// **User accounts** and **Show access codes** (`ExportClassCredentials`).
    pub may_export: bool,
}

impl std::fmt::Debug for TaughtClass {
    // Like `Class`: the code never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaughtClass")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("class_code", &crate::types::redacted(&self.class_code))
            .field("learners", &self.learners)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

/// A school's numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolFigures {
    pub school: School,
    pub classes: i64,
    /// Learners whose account is not disabled (pending ones included).
    pub learners: i64,
    /// Teachers and lead teachers, not disabled.
    pub staff: i64,
    /// Parents, not disabled.
    pub parents: i64,
    /// Accounts of any role still waiting for their access code.
    pub pending: i64,
}

/// A class a learner is in, with the names of its teachers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnerClass {
    pub id: ClassId,
    pub name: String,
    /// "First Last" of each teacher who is not disabled, by last name.
    pub teachers: Vec<String>,
}

impl Keyward {
    /// The classes the actor teaches, with learner counts and what the actor
    /// may do in each; only those whose learners the actor may see.
    pub async fn teaching_overview(&self, actor: &Actor) -> Result<Vec<TaughtClass>, SchoolError> {
        let rows = store::taught_classes(&self.db, &actor.user_id).await?;
        Ok(rows
            .into_iter()
            .filter_map(|mut row| {
                let may = |action| {
                    let target = Target::Class {
                        school: &row.school_id,
                        class: &row.id,
                    };
                    authorize(actor, action, target).is_ok()
                };
                if !may(Action::ViewLearner) {
                    return None;
                }
                (row.may_manage, row.may_reset, row.may_export) = (
                    may(Action::ManageClass),
                    may(Action::ResetLearnerPassword),
                    may(Action::ExportClassCredentials),
                );
                Some(row)
            })
            .collect())
    }

    /// The numbers of the schools whose people the actor may see (`ViewUser`):
    /// every school for a platform admin, their own for a lead teacher (or a
    /// custom role holding `users.view`), none for others.
    pub async fn school_figures(&self, actor: &Actor) -> Result<Vec<SchoolFigures>, SchoolError> {
        if actor.platform_wide() {
            if authorize(actor, Action::ViewUser, Target::Platform).is_err() {
                return Ok(Vec::new());
            }
            return Ok(store::school_figures(&self.db, None).await?);
        }
        match actor.scope_school() {
            Some(school) if authorize(actor, Action::ViewUser, Target::School(school)).is_ok() => {
                Ok(store::school_figures(&self.db, Some(school)).await?)
            }
            _ => Ok(Vec::new()),
        }
    }

    /// The classes the actor is enrolled in as a learner, with their
    /// teachers' names (empty for anyone who is in no class).
    pub async fn own_classes(&self, actor: &Actor) -> Result<Vec<LearnerClass>, Internal> {
        let mut by_learner = store::classes_of_learner(&self.db, &actor.user_id).await?;
        Ok(by_learner.remove(&actor.user_id).unwrap_or_default())
    }
}

/// Classes by learner, as the store reads them for one learner or for a
/// parent's children.
pub(crate) type ClassesByLearner = std::collections::HashMap<UserId, Vec<LearnerClass>>;

#[cfg(test)]
mod tests;
