//! The built-in roles of the spec, named everywhere (accounts, authorization,
//! policy). What each role may do is `authz`'s business (`Role::permissions`).

/// The built-in roles of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    PlatformAdmin,
    LeadTeacher,
    Teacher,
    Learner,
    Parent,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::PlatformAdmin,
        Role::LeadTeacher,
        Role::Teacher,
        Role::Learner,
        Role::Parent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::LeadTeacher => "lead_teacher",
            Role::Teacher => "teacher",
            Role::Learner => "learner",
            Role::Parent => "parent",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// How the role is named on pages.
    pub fn label(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "Platform admin",
            Role::LeadTeacher => "Lead teacher",
            Role::Teacher => "Teacher",
            Role::Learner => "Learner",
            Role::Parent => "Parent",
        }
    }

    /// Staff and parents follow the staff password policy; learners their own.
    pub fn is_learner(self) -> bool {
        self == Role::Learner
    }
}

/// Roles stored as a comma-separated list of names (a school's
/// `mfa_required_roles`); unknown names are skipped.
pub fn role_list(stored: &str) -> Vec<Role> {
    stored
        .split(',')
        .filter_map(|name| Role::parse(name.trim()))
        .collect()
}

/// The stored form of a list of roles, in the order of [`Role::ALL`].
pub fn stored_role_list(roles: &[Role]) -> String {
    Role::ALL
        .into_iter()
        .filter(|role| roles.contains(role))
        .map(Role::as_str)
        .collect::<Vec<_>>()
        .join(",")
}
