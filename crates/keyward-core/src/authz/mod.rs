//! Who may do what. This foundation holds the built-in roles and the actor
//! (a signed-in user); the permission sets, custom roles and the one
//! `authorize(actor, action, target)` function arrive with schools and classes.

use crate::types::{SchoolId, UserId};

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

/// The person on whose behalf a use case runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    pub school_id: Option<SchoolId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
