//! The learner rows of the class database, a class's page and the student
//! database: each learner with the one thing staff can do for them there —
//! **Reset password** for an active learner, **Show access codes** for one
//! who has not set up their account yet, or "Signs in with <provider>".

use keyward_core::accounts::AccountStatus;
use keyward_core::admin::Learner;
use keyward_core::authz::{Actor, Permission};

use super::people::Row;

/// One learner in a list. At most one of `reset`, `codes_href` and
/// `signs_in_with` is set: what the row offers.
pub struct LearnerRow {
    pub id: String,
    pub name: String,
    /// The username, or words saying it is not chosen yet.
    pub username: String,
    /// The message id of the account's status (`people::status_label`).
    pub status: &'static str,
    /// **Reset password** (`/learners/{id}/password`).
    pub reset: bool,
    /// **Show access codes**, at this address: they have no password yet.
    pub codes_href: Option<String>,
    /// They sign in only with this provider: nothing to reset here.
    pub signs_in_with: Option<String>,
}

impl LearnerRow {
    /// A learner's row; `codes_href` is where their access code is shown
    /// (the class's or the school's **Show access codes**).
    pub fn of(learner: &Learner, actor: &Actor, codes_href: &str) -> LearnerRow {
        let row = Row::learner(learner);
        let pending = learner.account.status == AccountStatus::Pending;
        let active = learner.account.status == AccountStatus::Active;
        let free = row.signs_in_with.is_none();
        let may_reset = actor
            .permissions()
            .contains(Permission::LearnersResetPassword);
        LearnerRow {
            reset: free && active && may_reset,
            codes_href: (free && pending).then(|| format!("{codes_href}#learner-{}", row.id)),
            signs_in_with: row.signs_in_with,
            id: row.id,
            name: row.name,
            username: row.username,
            status: row.status,
        }
    }

    /// Learners' rows, each pending one pointing at `codes_href`.
    pub fn all(learners: &[Learner], actor: &Actor, codes_href: &str) -> Vec<LearnerRow> {
        learners
            .iter()
            .map(|learner| LearnerRow::of(learner, actor, codes_href))
            .collect()
    }
}
