//! A school's rule for two-step verification (R-MFA-1): the roles of its
//! people who must turn it on. Its staff may read it; its lead teacher or a
//! platform admin set it. The deployment's `mfa.required_roles` applies on
//! top, in every school; sign-in then holds such a person at enrolment
//! (`CurrentSession::mfa_enrolment_due`).

use super::SchoolError;
use super::store;
use crate::Ctx;
use crate::Keyward;
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Target};
use crate::types::{Role, SchoolId, role_list, stored_role_list};

/// The roles a school can require two-step verification of: its own people.
pub const SCHOOL_ROLES: [Role; 4] = [
    Role::LeadTeacher,
    Role::Teacher,
    Role::Learner,
    Role::Parent,
];

impl Keyward {
    /// The roles `school` requires two-step verification of.
    pub async fn school_mfa_required_roles(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
    ) -> Result<Vec<Role>, SchoolError> {
        let target = Target::School(school);
        // Its staff read it; learners and parents have no business with it.
        let own_staff = actor.school_id.as_ref() == Some(school)
            && matches!(actor.role, Role::LeadTeacher | Role::Teacher);
        if !own_staff {
            self.authorize_audited(ctx, actor, Action::ViewLearner, target)
                .await?;
        }
        let stored = store::find_mfa_required_roles(&self.db, school)
            .await?
            .ok_or(SchoolError::Denied(Denied::Hidden))?;
        Ok(role_list(&stored))
    }

    /// Sets the roles `school` requires two-step verification of (its lead
    /// teacher, a platform admin); only the school's own roles may be named.
    pub async fn set_school_mfa_required_roles(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
        roles: &[Role],
    ) -> Result<Vec<Role>, SchoolError> {
        self.authorize_audited(ctx, actor, Action::ManageUser, Target::School(school))
            .await?;
        if roles.iter().any(|role| !SCHOOL_ROLES.contains(role)) {
            return Err(SchoolError::InvalidRoles);
        }
        let stored = stored_role_list(roles);
        let mut tx = self.db.begin_write().await?;
        if !store::update_mfa_required_roles(&mut tx, school, &stored).await? {
            return Err(Denied::Hidden.into());
        }
        let detail = format!("mfa_required_roles={stored}");
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
        tx.commit().await?;
        Ok(role_list(&stored))
    }
}
