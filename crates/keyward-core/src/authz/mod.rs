//! Who may do what (R-AUTHZ-1). One function, [`authorize`], answers every
//! `(actor, action, target)` question, scope included: a teacher acts only on
//! learners enrolled in a class they teach, a lead teacher only inside their
//! school, nobody outside their school but a platform admin; and nobody acts
//! on the credentials of someone holding a permission they do not hold, nor
//! on their own through an admin action (Account Settings is the way).
//! Denials say whether to answer 403 or 404 (when even existence must not
//! leak). Pure: it decides from what it is given. Use cases call it first, with an
//! actor loaded by `Keyward::actor_of` (accounts: custom roles and classes
//! included).

mod permission;

pub use permission::{Permission, PermissionSet};

use crate::error::Code;
use crate::types::{ClassId, Role, SchoolId, UserId};

impl Role {
    /// The permissions the role grants. A platform admin has all of them in
    /// every school; a lead teacher all but `schools.manage` in their school;
    /// a teacher the learner and class rights, for the classes they teach.
    pub fn permissions(self) -> PermissionSet {
        use Permission::*;
        match self {
            Role::PlatformAdmin => PermissionSet::all(),
            Role::LeadTeacher => PermissionSet::of(&[
                UsersView,
                UsersResetPassword,
                UsersResetMfa,
                UsersManage,
                ClassesManage,
                LearnersView,
                LearnersResetPassword,
                CredentialsExportClass,
                CredentialsExportSchool,
                AuditView,
                RolesManage,
            ]),
            Role::Teacher => PermissionSet::of(&[
                ClassesManage,
                LearnersView,
                LearnersResetPassword,
                CredentialsExportClass,
            ]),
            Role::Learner | Role::Parent => PermissionSet::EMPTY,
        }
    }
}

/// The person on whose behalf a use case runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    pub school_id: Option<SchoolId>,
    /// Permissions from custom roles (R-ROLE-1), valid in the actor's school.
    pub granted: PermissionSet,
    /// The classes the actor teaches.
    pub classes: Vec<ClassId>,
    /// The API token the person acts through, which narrows what they may
    /// do; `None` for a session, a page or the command line.
    pub token: Option<TokenGrant>,
    /// The session was opened with a second factor at the school's OpenID
    /// provider, which the school trusts (single sign-on): it counts as a
    /// second factor of the actor's own (the administrators' "MFA on
    /// yourself" rule). False for tokens, the command line and other sessions.
    pub second_factor_at_provider: bool,
}

/// What an API token lets its owner's actor do: never more than the owner
/// holds at the moment of the call (the intersection), and for a platform
/// admin's token with a school, only inside that school.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The token's public id (named in the audit trail; never the secret).
    pub id: String,
    pub permissions: PermissionSet,
    /// The school the token is limited to; `None` is the owner's scope.
    pub school_id: Option<SchoolId>,
}

impl Actor {
    /// Every permission the actor holds (through a token: only those the
    /// token was given, too).
    pub fn permissions(&self) -> PermissionSet {
        let held = self.role.permissions().union(self.granted);
        match &self.token {
            Some(token) => held.intersection(token.permissions),
            None => held,
        }
    }

    /// Whether the actor holds `permission` for the whole school (lead
    /// teacher, custom role) rather than only for the classes they teach.
    fn school_wide(&self, permission: Permission) -> bool {
        self.role == Role::PlatformAdmin
            || (self.role != Role::Teacher && self.role.permissions().contains(permission))
            || self.granted.contains(permission)
    }

    /// Whether the actor holds every permission of `set` for their whole
    /// school (or more): what giving `set` away through a custom role, which
    /// is school-wide, needs. A teacher's class-bound rights do not count.
    pub fn holds_school_wide(&self, set: PermissionSet) -> bool {
        self.permissions().covers(set) && set.iter().all(|p| self.school_wide(p))
    }

    /// Whether the actor acts in every school: a platform admin, unless a
    /// token limits them to one.
    pub fn platform_wide(&self) -> bool {
        self.role == Role::PlatformAdmin
            && self.token.as_ref().is_none_or(|t| t.school_id.is_none())
    }

    /// The one school the actor acts in (`None` for a platform-wide actor,
    /// and for a token whose school is no longer its owner's: then no school).
    pub fn scope_school(&self) -> Option<&SchoolId> {
        match (&self.token, self.role) {
            (
                Some(TokenGrant {
                    school_id: Some(school),
                    ..
                }),
                Role::PlatformAdmin,
            ) => Some(school),
            (
                Some(TokenGrant {
                    school_id: Some(school),
                    ..
                }),
                _,
            ) => (self.school_id.as_ref() == Some(school)).then_some(school),
            _ => self.school_id.as_ref(),
        }
    }

    /// The id of the API token the actor acts through, for audit rows.
    pub fn api_token_id(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.id.as_str())
    }
}

/// The id the operator at the command line acts under: the nil UUID, which
/// no account has (account ids are random).
pub(crate) const OPERATOR_ID: &str = "00000000-0000-0000-0000-000000000000";

impl Actor {
    /// Whether this is the operator at the command line rather than a person
    /// with an account (audit rows then name no actor).
    pub fn is_operator(&self) -> bool {
        self.user_id.as_str() == OPERATOR_ID && self.role == Role::PlatformAdmin
    }
}

/// What someone wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See a user's account (R-ADM-1).
    ViewUser,
    /// Create, change, disable, enable a user; issue a fresh access code.
    ManageUser,
    /// Send a reset link or set a temporary password (R-ADM-2, R-ADM-3).
    ResetPassword,
    /// Remove a user's second factor (R-ADM-4).
    ResetMfa,
    /// See a learner in a class list (R-TCH-1).
    ViewLearner,
    /// Reset, generate or reveal a learner's password (R-TCH-1, R-TCH-4).
    ResetLearnerPassword,
    /// Class code, enrolments, whole-class reset.
    ManageClass,
    /// A class's credentials CSV (R-TCH-5).
    ExportClassCredentials,
    /// The whole school's credentials CSV (lead teacher).
    ExportSchoolCredentials,
    /// Browse the audit log (R-AUD-1).
    ViewAudit,
    /// Define custom roles and give them to people (R-ROLE-1).
    ManageRoles,
    /// Create and change schools.
    ManageSchools,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::ViewUser,
        Action::ManageUser,
        Action::ResetPassword,
        Action::ResetMfa,
        Action::ViewLearner,
        Action::ResetLearnerPassword,
        Action::ManageClass,
        Action::ExportClassCredentials,
        Action::ExportSchoolCredentials,
        Action::ViewAudit,
        Action::ManageRoles,
        Action::ManageSchools,
    ];

    /// The action's stable name (in the audit trail).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ViewUser => "view_user",
            Action::ManageUser => "manage_user",
            Action::ResetPassword => "reset_password",
            Action::ResetMfa => "reset_mfa",
            Action::ViewLearner => "view_learner",
            Action::ResetLearnerPassword => "reset_learner_password",
            Action::ManageClass => "manage_class",
            Action::ExportClassCredentials => "export_class_credentials",
            Action::ExportSchoolCredentials => "export_school_credentials",
            Action::ViewAudit => "view_audit",
            Action::ManageRoles => "manage_roles",
            Action::ManageSchools => "manage_schools",
        }
    }

    /// The permission the action needs.
    pub fn permission(self) -> Permission {
        match self {
            Action::ViewUser => Permission::UsersView,
            Action::ManageUser => Permission::UsersManage,
            Action::ResetPassword => Permission::UsersResetPassword,
            Action::ResetMfa => Permission::UsersResetMfa,
            Action::ViewLearner => Permission::LearnersView,
            Action::ResetLearnerPassword => Permission::LearnersResetPassword,
            Action::ManageClass => Permission::ClassesManage,
            Action::ExportClassCredentials => Permission::CredentialsExportClass,
            Action::ExportSchoolCredentials => Permission::CredentialsExportSchool,
            Action::ViewAudit => Permission::AuditView,
            Action::ManageRoles => Permission::RolesManage,
            Action::ManageSchools => Permission::SchoolsManage,
        }
    }

    /// Actions on someone's credentials, where the actor must hold every
    /// permission the target holds.
    fn touches_credentials(self) -> bool {
        matches!(
            self,
            Action::ManageUser
                | Action::ResetPassword
                | Action::ResetMfa
                | Action::ResetLearnerPassword
        )
    }

    /// Actions whose target must be a learner.
    fn learners_only(self) -> bool {
        matches!(self, Action::ViewLearner | Action::ResetLearnerPassword)
    }
}

/// A user as a target: what the rules need to know about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTarget {
    pub id: UserId,
    pub role: Role,
    pub school_id: Option<SchoolId>,
    pub granted: PermissionSet,
    /// Classes the user is enrolled in (learners) or teaches (teachers).
    pub classes: Vec<ClassId>,
}

impl UserTarget {
    fn permissions(&self) -> PermissionSet {
        self.role.permissions().union(self.granted)
    }
}

/// What an action is done to.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The deployment itself (creating schools).
    Platform,
    School(&'a SchoolId),
    Class {
        school: &'a SchoolId,
        class: &'a ClassId,
    },
    User(&'a UserTarget),
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The actor may know the target exists but may not do this (403).
    #[error("You don't have permission to do that.")]
    Forbidden,
    /// The actor may not even learn whether the target exists (404).
    #[error("There is nothing here, or you may not see it.")]
    Hidden,
}

impl crate::error::CodedError for Denied {
    fn code(&self) -> Code {
        match self {
            Denied::Forbidden => Code::Forbidden,
            Denied::Hidden => Code::NotFound,
        }
    }
}

/// The one authorization decision of keyward.
pub fn authorize(actor: &Actor, action: Action, target: Target<'_>) -> Result<(), Denied> {
    let platform = actor.platform_wide();
    // Scope first: outside their school, people learn nothing.
    let target_school = match target {
        Target::Platform => None,
        Target::School(school) | Target::Class { school, .. } => Some(school),
        Target::User(user) => user.school_id.as_ref(),
    };
    if !platform {
        match (target, target_school) {
            (Target::Platform, _) => return Err(Denied::Forbidden),
            (_, Some(school)) if actor.scope_school() != Some(school) => {
                return Err(Denied::Hidden);
            }
            // Users without a school (platform admins) are invisible to schools.
            (Target::User(_), None) => return Err(Denied::Hidden),
            _ => {}
        }
    }
    let permission = action.permission();
    if !actor.permissions().contains(permission) {
        return Err(Denied::Forbidden);
    }
    // Teachers act on the classes they teach and the learners in them.
    if !actor.school_wide(permission) {
        let in_taught_class = match target {
            Target::Class { class, .. } => actor.classes.contains(class),
            Target::User(user) => user.classes.iter().any(|c| actor.classes.contains(c)),
            Target::School(_) | Target::Platform => false,
        };
        if !in_taught_class {
            return Err(Denied::Forbidden);
        }
    }
    if let Target::User(user) = target {
        if action.learners_only() && user.role != Role::Learner {
            return Err(Denied::Forbidden);
        }
        // An admin changes their own account in Account Settings, where the
        // password is asked again; never through the admin actions.
        if action.touches_credentials() && user.id == actor.user_id {
            return Err(Denied::Forbidden);
        }
        // Nobody touches the credentials of someone holding more than they do.
        if action.touches_credentials() && !actor.permissions().covers(user.permissions()) {
            return Err(Denied::Forbidden);
        }
        if action.touches_credentials() && user.role == Role::PlatformAdmin && !platform {
            return Err(Denied::Forbidden);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
