//! A school's password rules (R-POL-1): platform admins and the school's
//! lead teacher set the rules for staff and for learners; members read them.
//! What the rules are is `policy`'s; which apply to an account, `accounts`'.

use super::store;
use crate::Keyward;
use crate::error::Internal;
use crate::policy::store as policy_store;
use crate::policy::{PasswordPolicy, PolicyKind, PolicyUpdateError};
use crate::types::{Role, SchoolId};

impl Keyward {
    /// Sets a school's password rules for one kind of user (R-POL-1). Allowed
    /// to platform admins and to the lead teacher of that school.
    pub async fn set_school_password_policy(
        &self,
        ctx: &crate::Ctx<'_>,
        actor: &crate::authz::Actor,
        school: &SchoolId,
        kind: PolicyKind,
        policy: &PasswordPolicy,
    ) -> Result<(), PolicyUpdateError> {
        // Password rules belong to managing the school's users.
        self.authorize_audited(
            ctx,
            actor,
            crate::authz::Action::ManageUser,
            crate::authz::Target::School(school),
        )
        .await
        .map_err(|denied| match denied {
            crate::authz::Denied::Hidden => PolicyUpdateError::SchoolNotFound,
            crate::authz::Denied::Forbidden => PolicyUpdateError::Forbidden,
        })?;
        if !store::school_exists(&self.db, school).await? {
            return Err(PolicyUpdateError::SchoolNotFound);
        }
        policy.validate()?;
        // The change and its audit row commit together.
        let mut tx = self.db.begin_write().await?;
        policy_store::upsert_school_policy(&mut tx, school, kind, policy, ctx.now).await?;
        crate::audit::insert(
            &mut *tx,
            &crate::audit::AuditEntry {
                at: ctx.now,
                actor_id: Some(actor.user_id.as_str()),
                api_token: actor.api_token_id(),
                target_id: None,
                school_id: Some(school.as_str()),
                action: crate::audit::action::POLICY_CHANGE,
                outcome: "success",
                client_addr: ctx.client_addr.as_deref(),
                detail: Some(kind.as_str()),
            },
        )
        .await?;
        tx.commit().await.map_err(Internal::from)?;
        Ok(())
    }

    /// A school's rules for staff and for learners, as they apply now. Members
    /// of the school and platform admins may read them.
    pub async fn school_password_policies(
        &self,
        actor: &crate::authz::Actor,
        school: &SchoolId,
    ) -> Result<(PasswordPolicy, PasswordPolicy), PolicyUpdateError> {
        if actor.role != Role::PlatformAdmin && actor.school_id.as_ref() != Some(school) {
            return Err(PolicyUpdateError::SchoolNotFound);
        }
        if !store::school_exists(&self.db, school).await? {
            return Err(PolicyUpdateError::SchoolNotFound);
        }
        let staff = self
            .password_policy(Some(school), PolicyKind::Staff)
            .await?;
        let learner = self
            .password_policy(Some(school), PolicyKind::Learner)
            .await?;
        Ok((staff, learner))
    }
}

#[cfg(test)]
mod school_tests {
    use super::*;
    use crate::authz::Actor;
    use crate::error::CodedError;
    use crate::testing::{MONDAY_MORNING, account_named, ctx_at, demo_keyward};
    use crate::types::UserId;
    use crate::types::random::SeededRandom;

    fn actor(role: Role, school: Option<&SchoolId>, rng: &SeededRandom) -> Actor {
        Actor {
            user_id: UserId::generate(rng).unwrap(),
            role,
            school_id: school.cloned(),
            granted: crate::authz::PermissionSet::EMPTY,
            classes: Vec::new(),
            token: None,
            second_factor_at_provider: false,
        }
    }

    #[tokio::test]
    async fn the_lead_teacher_sets_the_learner_rules_of_their_school_only() {
        let (kw, _db, rng) = demo_keyward(3).await;
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        let school = account_named(&kw, "demo.lead").await.school_id.unwrap();
        let other = SchoolId::generate(&rng).unwrap();
        let stricter = PasswordPolicy {
            min_length: 10,
            ..PasswordPolicy::classic()
        };
        let lead = actor(Role::LeadTeacher, Some(&school), &rng);
        kw.set_school_password_policy(&ctx, &lead, &school, PolicyKind::Learner, &stricter)
            .await
            .unwrap();
        assert_eq!(
            kw.password_policy(Some(&school), PolicyKind::Learner)
                .await
                .unwrap(),
            stricter
        );
        assert_eq!(
            kw.password_policy(Some(&school), PolicyKind::Staff)
                .await
                .unwrap(),
            PasswordPolicy::nist()
        );
        assert_eq!(
            kw.password_policy(None, PolicyKind::Learner).await.unwrap(),
            PasswordPolicy::classic()
        );

        let teacher = actor(Role::Teacher, Some(&school), &rng);
        let err = kw
            .set_school_password_policy(&ctx, &teacher, &school, PolicyKind::Learner, &stricter)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "forbidden");
        let err = kw
            .set_school_password_policy(&ctx, &lead, &other, PolicyKind::Learner, &stricter)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "school_not_found");
        let admin = actor(Role::PlatformAdmin, None, &rng);
        let err = kw
            .set_school_password_policy(&ctx, &admin, &other, PolicyKind::Learner, &stricter)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "school_not_found");
        let silly = PasswordPolicy {
            max_length: 20,
            ..PasswordPolicy::classic()
        };
        let err = kw
            .set_school_password_policy(&ctx, &admin, &school, PolicyKind::Staff, &silly)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_policy");
    }
}
