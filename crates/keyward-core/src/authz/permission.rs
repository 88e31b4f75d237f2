//! Permissions (R-ROLE-1): the named rights a role grants, as a small set.

use std::fmt;

/// One right. The names are the spec's and are stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
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
    SchoolsManage,
}

impl Permission {
    pub const ALL: [Permission; 12] = [
        Permission::UsersView,
        Permission::UsersResetPassword,
        Permission::UsersResetMfa,
        Permission::UsersManage,
        Permission::ClassesManage,
        Permission::LearnersView,
        Permission::LearnersResetPassword,
        Permission::CredentialsExportClass,
        Permission::CredentialsExportSchool,
        Permission::AuditView,
        Permission::RolesManage,
        Permission::SchoolsManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::UsersView => "users.view",
            Permission::UsersResetPassword => "users.reset_password",
            Permission::UsersResetMfa => "users.reset_mfa",
            Permission::UsersManage => "users.manage",
            Permission::ClassesManage => "classes.manage",
            Permission::LearnersView => "learners.view",
            Permission::LearnersResetPassword => "learners.reset_password",
            Permission::CredentialsExportClass => "credentials.export.class",
            Permission::CredentialsExportSchool => "credentials.export.school",
            Permission::AuditView => "audit.view",
            Permission::RolesManage => "roles.manage",
            Permission::SchoolsManage => "schools.manage",
        }
    }

    /// The message that names the permission on pages (`locales/*/permissions.ftl`,
    /// seed 001's words where it has them).
    pub fn message_id(self) -> &'static str {
        match self {
            Permission::UsersView => "permission-users-view",
            Permission::UsersResetPassword => "permission-users-reset-password",
            Permission::UsersResetMfa => "permission-users-reset-mfa",
            Permission::UsersManage => "permission-users-manage",
            Permission::ClassesManage => "permission-classes-manage",
            Permission::LearnersView => "permission-learners-view",
            Permission::LearnersResetPassword => "permission-learners-reset-password",
            Permission::CredentialsExportClass => "permission-credentials-export-class",
            Permission::CredentialsExportSchool => "permission-credentials-export-school",
            Permission::AuditView => "permission-audit-view",
            Permission::RolesManage => "permission-roles-manage",
            Permission::SchoolsManage => "permission-schools-manage",
        }
    }

    pub fn parse(text: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == text)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of permissions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PermissionSet(u16);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);

    pub fn of(permissions: &[Permission]) -> PermissionSet {
        permissions
            .iter()
            .fold(PermissionSet::EMPTY, |set, p| set.with(*p))
    }

    pub fn all() -> PermissionSet {
        PermissionSet::of(&Permission::ALL)
    }

    pub fn with(self, permission: Permission) -> PermissionSet {
        PermissionSet(self.0 | permission.bit())
    }

    pub fn union(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 | other.0)
    }

    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    /// The permissions in both sets.
    pub fn intersection(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 & other.0)
    }

    /// Whether every permission of `other` is also in this set.
    pub fn covers(self, other: PermissionSet) -> bool {
        other.0 & !self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Permission::as_str))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_the_spec() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        let english = |p: Permission| crate::i18n::text(p.message_id());
        assert_eq!(english(Permission::UsersView), "View Users");
        assert_eq!(english(Permission::UsersResetPassword), "Reset Passwords");
    }

    #[test]
    fn covers_is_the_subset_relation() {
        let small = PermissionSet::of(&[Permission::LearnersView]);
        let big = PermissionSet::of(&[Permission::LearnersView, Permission::UsersView]);
        assert!(big.covers(small));
        assert!(!small.covers(big));
        assert!(small.covers(PermissionSet::EMPTY));
        assert!(PermissionSet::all().covers(big));
    }
}
