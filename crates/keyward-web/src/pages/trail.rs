//! Where the administrators' pages lead back to (issue 15): the breadcrumbs
//! of a person's page and of its actions, of the school's pages and of
//! single sign-on. Every crumb is a page the viewer may open — decided from
//! the same permissions the core authorizes with — so no "back" ends on a
//! 403 or a 404. It decides nothing else.

use keyward_core::authz::{Action, Actor, Permission, Target, authorize};

/// Breadcrumbs above the current page: (address, label), Home first.
pub(super) type Crumbs = Vec<(String, String)>;

fn crumb(href: impl Into<String>, label: impl Into<String>) -> (String, String) {
    (href.into(), label.into())
}

/// The list a person's page belongs to for this viewer: **Users** for
/// those who may list users, else a teacher's **Class database**.
pub(super) fn people_list(actor: &Actor) -> Option<(&'static str, &'static str)> {
    let held = actor.permissions();
    if held.contains(Permission::UsersView) {
        Some(("/users", "Users"))
    } else if held.contains(Permission::LearnersView) {
        Some(("/classes", "Class database"))
    } else {
        None
    }
}

/// Home › Users (or Class database).
pub(super) fn to_people(actor: &Actor) -> Crumbs {
    let mut crumbs = vec![crumb("/home", "Home")];
    crumbs.extend(people_list(actor).map(|(href, label)| crumb(href, label)));
    crumbs
}

/// Home › Users › the person: above one of their actions.
pub(super) fn to_person(actor: &Actor, id: &str, name: &str) -> Crumbs {
    let mut crumbs = to_people(actor);
    crumbs.push(crumb(format!("/users/{id}"), name));
    crumbs
}

/// Whether the viewer may open **Subscription management** (`/school`):
/// the same rule its handler applies.
pub(super) fn may_open_school_hub(actor: &Actor) -> bool {
    actor
        .school_id
        .as_ref()
        .is_some_and(|school| authorize(actor, Action::ViewLearner, Target::School(school)).is_ok())
}

/// Home › Subscription management, for those who may open it; else Home.
pub(super) fn to_school_hub(actor: &Actor) -> Crumbs {
    let mut crumbs = vec![crumb("/home", "Home")];
    if may_open_school_hub(actor) {
        crumbs.push(crumb("/school", "Subscription management"));
    }
    crumbs
}

/// … › Single sign-on of a school: above removing one of its providers.
pub(super) fn to_sso(actor: &Actor, school: &str) -> Crumbs {
    let mut crumbs = to_school_hub(actor);
    crumbs.push(crumb(format!("/schools/{school}/sso"), "Single sign-on"));
    crumbs
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::authz::PermissionSet;
    use keyward_core::types::{Role, SchoolId, UserId};

    fn actor(role: Role, granted: PermissionSet) -> Actor {
        Actor {
            user_id: UserId::parse("00000000-0000-4000-8000-000000000001").unwrap(),
            role,
            school_id: (role != Role::PlatformAdmin)
                .then(|| SchoolId::parse("00000000-0000-4000-8000-000000000002").unwrap()),
            granted,
            classes: Vec::new(),
            token: None,
            second_factor_at_provider: false,
        }
    }

    #[test]
    fn a_persons_page_leads_back_to_a_list_the_viewer_may_open() {
        let none = PermissionSet::EMPTY;
        assert_eq!(
            people_list(&actor(Role::LeadTeacher, none)).unwrap().0,
            "/users"
        );
        assert_eq!(
            people_list(&actor(Role::PlatformAdmin, none)).unwrap().0,
            "/users"
        );
        assert_eq!(
            people_list(&actor(Role::Teacher, none)).unwrap().0,
            "/classes"
        );
        let viewer = PermissionSet::of(&[Permission::UsersView]);
        assert_eq!(
            people_list(&actor(Role::Teacher, viewer)).unwrap().0,
            "/users"
        );
        assert_eq!(people_list(&actor(Role::Parent, none)), None);
        let crumbs = to_person(&actor(Role::Parent, none), "x", "Amy");
        assert_eq!(crumbs.len(), 2, "Home › Amy: no list to go back to");
    }

    #[test]
    fn only_those_who_may_open_subscription_management_are_led_there() {
        let none = PermissionSet::EMPTY;
        assert!(may_open_school_hub(&actor(Role::LeadTeacher, none)));
        // A platform admin belongs to no school: /school is not theirs.
        assert!(!may_open_school_hub(&actor(Role::PlatformAdmin, none)));
        assert!(!may_open_school_hub(&actor(Role::Teacher, none)));
        let school_wide = PermissionSet::of(&[Permission::LearnersView]);
        assert!(may_open_school_hub(&actor(Role::Teacher, school_wide)));
        assert_eq!(to_sso(&actor(Role::PlatformAdmin, none), "s").len(), 2);
        assert_eq!(to_sso(&actor(Role::LeadTeacher, none), "s").len(), 3);
    }
}
