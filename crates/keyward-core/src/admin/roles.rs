//! Custom roles (R-ROLE-1): a named set of permissions in one school, made
//! by a platform admin or the lead teacher (`roles.manage`) and given to
//! people of that school. Nobody grants a permission they do not hold for
//! the whole school (a teacher's class-bound rights would grow school-wide).
//! Also: issuing a fresh access code to a pending account (the old one dies).

use super::store;
use super::users::CreateUserError;
use crate::Ctx;
use crate::Keyward;
use crate::activation::CodeKind;
use crate::audit::{self, AuditEntry, action};
use crate::authz::{Action, Actor, Denied, Permission, PermissionSet, Target};
use crate::error::Internal;
use crate::store::is_unique_violation;
use crate::types::{SchoolId, UserId};

/// A custom role as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomRole {
    pub id: String,
    pub school_id: SchoolId,
    pub name: String,
    pub permissions: PermissionSet,
}

fn audit_entry<'a>(
    ctx: &'a Ctx<'_>,
    actor: &'a Actor,
    act: &'static str,
    target: Option<&'a str>,
    school: Option<&'a SchoolId>,
) -> AuditEntry<'a> {
    AuditEntry {
        at: ctx.now,
        actor_id: Some(actor.user_id.as_str()),
        api_token: actor.api_token_id(),
        target_id: target,
        school_id: school.map(SchoolId::as_str),
        action: act,
        outcome: "success",
        client_addr: ctx.client_addr.as_deref(),
        detail: None,
    }
}

impl Keyward {
    /// Defines a custom role in a school.
    pub async fn create_custom_role(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        school: &SchoolId,
        name: &str,
        permissions: &[Permission],
    ) -> Result<CustomRole, CreateUserError> {
        self.authorize_audited(ctx, actor, Action::ManageRoles, Target::School(school))
            .await?;
        let set = PermissionSet::of(permissions);
        if set.contains(Permission::SchoolsManage) {
            return Err(CreateUserError::Invalid(
                "A school's role cannot manage schools.",
            ));
        }
        if !actor.holds_school_wide(set) {
            return Err(Denied::Forbidden.into());
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            return Err(CreateUserError::Invalid(
                "A role's name has 1 to 60 characters.",
            ));
        }
        let id = UserId::generate(ctx.rng)
            .map_err(Internal::from)?
            .to_string();
        let mut tx = self.db.begin_write().await?;
        store::insert_custom_role(&mut tx, &id, school, name, ctx.now)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    CreateUserError::Invalid("The school already has a role with that name.")
                } else {
                    CreateUserError::Internal(e.into())
                }
            })?;
        for permission in set.iter() {
            store::insert_role_permission(&mut tx, &id, permission.as_str()).await?;
        }
        audit::insert(
            &mut *tx,
            &audit_entry(ctx, actor, action::ROLE_CREATE, Some(&id), Some(school)),
        )
        .await?;
        tx.commit().await?;
        Ok(CustomRole {
            id,
            school_id: school.clone(),
            name: name.to_owned(),
            permissions: set,
        })
    }

    /// Gives a custom role to a person of the role's school.
    pub async fn grant_custom_role(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        user: &UserId,
        role_id: &str,
    ) -> Result<(), CreateUserError> {
        let target = self.user_target(user).await?.ok_or(Denied::Hidden)?;
        self.authorize_audited(ctx, actor, Action::ManageRoles, Target::User(&target))
            .await?;
        let (school, permissions) = store::find_custom_role(&self.db, role_id)
            .await?
            .ok_or(Denied::Hidden)?;
        if target.school_id.as_ref() != Some(&school) {
            return Err(CreateUserError::Invalid(
                "The role belongs to another school.",
            ));
        }
        let granted = permissions
            .iter()
            .filter_map(|p| Permission::parse(p))
            .fold(PermissionSet::EMPTY, PermissionSet::with);
        if !actor.holds_school_wide(granted) {
            return Err(Denied::Forbidden.into());
        }
        let mut tx = self.db.begin_write().await?;
        store::grant_custom_role(&mut tx, user, role_id).await?;
        audit::insert(
            &mut *tx,
            &audit_entry(
                ctx,
                actor,
                action::ROLE_GRANT,
                Some(user.as_str()),
                Some(&school),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Issues a fresh access code to a pending account; the old code stops
    /// working at once. Returns the new code in plain form, once.
    pub async fn reissue_access_code(
        &self,
        ctx: &Ctx<'_>,
        actor: &Actor,
        user: &UserId,
    ) -> Result<String, CreateUserError> {
        let target = self.user_target(user).await?.ok_or(Denied::Hidden)?;
        self.authorize_audited(ctx, actor, Action::ManageUser, Target::User(&target))
            .await?;
        let account = crate::accounts::find_account(&self.db, user)
            .await?
            .ok_or(Denied::Hidden)?;
        if account.status != crate::accounts::AccountStatus::Pending {
            return Err(CreateUserError::Invalid(
                "This account is already set up; it needs no access code.",
            ));
        }
        let mut tx = self.db.begin_write().await?;
        let code = self
            .issue_code(&mut tx, ctx, user, CodeKind::Activation)
            .await?;
        audit::insert(
            &mut *tx,
            &audit_entry(
                ctx,
                actor,
                action::CODE_REISSUE,
                Some(user.as_str()),
                account.school_id.as_ref(),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(code)
    }
}
