//! Breadcrumbs of the teachers' pages (class database, a class, its User
//! accounts and resets, a learner's password, the student database): each
//! trail names only pages the person may open, so no "back" is a dead end —
//! the student database for a lead teacher, the class database for a
//! teacher, the learner under **Users** for a platform admin (who belongs to
//! no school and has neither). It asks `authorize` which pages above to
//! link, as the menu does, and decides nothing else. Templates show a trail
//! with `crumbs` of `admin_macros.html`.

use keyward_core::authz::{Action, Actor, Permission, Target, authorize};

/// Breadcrumbs above the current page: (address, label), Home first.
pub(super) type Crumbs = Vec<(String, String)>;

fn crumb(href: impl Into<String>, label: impl Into<String>) -> (String, String) {
    (href.into(), label.into())
}

/// The trail's last link as "Back to …" (address, words): the page one up.
pub(super) fn back(trail: &[(String, String)]) -> (String, String) {
    match trail.last() {
        Some((href, label)) if href != "/home" => crumb(href.clone(), format!("Back to {label}")),
        _ => crumb("/home", "Back to home"),
    }
}

/// Whether the actor has a class database: staff of a school who see
/// learners (a platform admin belongs to no school, and has none).
pub(super) fn has_class_database(actor: &Actor) -> bool {
    actor.school_id.is_some() && actor.permissions().contains(Permission::LearnersView)
}

/// Whether the actor may open their school's **Subscription management**
/// and **Student database** (the lead teacher): the rule their handlers apply.
pub(super) fn has_school_pages(actor: &Actor) -> bool {
    actor
        .school_id
        .as_ref()
        .is_some_and(|school| authorize(actor, Action::ViewLearner, Target::School(school)).is_ok())
}

/// Home.
pub(super) fn home() -> Crumbs {
    vec![crumb("/home", "Home")]
}

/// Home › Class database (when the actor has one).
pub(super) fn classes(actor: &Actor) -> Crumbs {
    let mut trail = home();
    if has_class_database(actor) {
        trail.push(crumb("/classes", "Class database"));
    }
    trail
}

/// Home › Class database › the class.
pub(super) fn class(actor: &Actor, class_id: &str, class_name: &str) -> Crumbs {
    let mut trail = classes(actor);
    trail.push(crumb(format!("/classes/{class_id}"), class_name));
    trail
}

/// Home › Subscription management (when the actor may open it).
pub(super) fn school(actor: &Actor) -> Crumbs {
    let mut trail = home();
    if has_school_pages(actor) {
        trail.push(crumb("/school", "Subscription management"));
    }
    trail
}

/// The way back from one learner's page: the student database for the
/// lead teacher, the class database for a teacher, the learner's own page
/// under **Users** for a platform admin.
pub(super) fn learner(actor: &Actor, learner_id: &str, learner_name: &str) -> Crumbs {
    if has_school_pages(actor) {
        let mut trail = school(actor);
        trail.push(crumb("/school/students", "Student database"));
        trail
    } else if has_class_database(actor) {
        classes(actor)
    } else if actor.permissions().contains(Permission::UsersView) {
        let mut trail = home();
        trail.push(crumb("/users", "Users"));
        trail.push(crumb(format!("/users/{learner_id}"), learner_name));
        trail
    } else {
        home()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::authz::PermissionSet;
    use keyward_core::types::{Role, SchoolId, UserId};

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: UserId::parse("00000000-0000-4000-8000-000000000001").unwrap(),
            role,
            school_id: (role != Role::PlatformAdmin)
                .then(|| SchoolId::parse("00000000-0000-4000-8000-000000000002").unwrap()),
            granted: PermissionSet::EMPTY,
            classes: Vec::new(),
            token: None,
            second_factor_at_provider: false,
        }
    }

    fn hrefs(trail: &Crumbs) -> Vec<&str> {
        trail.iter().map(|(href, _)| href.as_str()).collect()
    }

    #[test]
    fn a_learner_page_leads_back_to_a_page_each_role_may_open() {
        let lead = learner(&actor(Role::LeadTeacher), "l", "Amy");
        assert_eq!(hrefs(&lead), ["/home", "/school", "/school/students"]);
        let teacher = learner(&actor(Role::Teacher), "l", "Amy");
        assert_eq!(hrefs(&teacher), ["/home", "/classes"]);
        let admin = learner(&actor(Role::PlatformAdmin), "l", "Amy");
        assert_eq!(hrefs(&admin), ["/home", "/users", "/users/l"]);
        assert_eq!(
            back(&admin),
            ("/users/l".to_owned(), "Back to Amy".to_owned())
        );
        assert_eq!(hrefs(&learner(&actor(Role::Parent), "l", "Amy")), ["/home"]);
    }

    #[test]
    fn a_platform_admin_has_no_class_database_to_go_back_to() {
        let admin = class(&actor(Role::PlatformAdmin), "c", "Class 4B");
        assert_eq!(hrefs(&admin), ["/home", "/classes/c"]);
        let teacher = class(&actor(Role::Teacher), "c", "Class 4B");
        assert_eq!(hrefs(&teacher), ["/home", "/classes", "/classes/c"]);
        assert_eq!(
            back(&home()),
            ("/home".to_owned(), "Back to home".to_owned())
        );
    }
}
