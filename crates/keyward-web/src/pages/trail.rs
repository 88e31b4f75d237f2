//! Breadcrumbs, the one place that decides where a page leads back to
//! (issue 15): the administrators' pages (a person and their actions, the
//! school's pages, single sign-on) and the teachers' (class database, a
//! class, its **User accounts** and resets, a learner's password, the
//! student database). Every crumb is a page the viewer may open — asked of
//! the same permissions the core authorizes with, as the menu does — so no
//! "back" ends on a 403 or a 404: the student database for a lead teacher,
//! the class database for a teacher, the learner under **Users** for a
//! platform admin (who belongs to no school and has neither).
//!
//! A crumb's label is shown as it is (`crumbs` of `admin_macros.html`
//! writes `{{ label }}`): the page's own words come from a message id, in
//! the language of the request, and a person's or a class's name is data.
//! It decides nothing else.

use keyward_core::authz::{Action, Actor, Permission, Target, authorize};
use keyward_core::i18n::{self, Message};

/// Breadcrumbs above the current page: (address, label), Home first.
pub(super) type Crumbs = Vec<(String, String)>;

/// A crumb to a page of keyward's, labelled by the message `id`.
fn crumb(href: impl Into<String>, id: &str) -> (String, String) {
    (href.into(), i18n::text(id))
}

/// A crumb to a page named by its data: a person, a class.
fn named(href: impl Into<String>, name: &str) -> (String, String) {
    (href.into(), name.to_owned())
}

/// Home.
pub(super) fn home() -> Crumbs {
    vec![crumb("/home", "frame-home")]
}

/// The trail's last link as "Back to …" (address, words): the page one up.
pub(super) fn back(trail: &[(String, String)]) -> (String, String) {
    match trail.last() {
        Some((href, label)) if href != "/home" => (
            href.clone(),
            Message::new("teacher-back-to")
                .with("page", label)
                .to_string(),
        ),
        _ => crumb("/home", "teacher-back-to-home"),
    }
}

/// The list a person's page belongs to for this viewer, (address, message
/// id of its label): **Users** for those who may list users, else a
/// teacher's **Class database**.
pub(super) fn people_list(actor: &Actor) -> Option<(&'static str, &'static str)> {
    let held = actor.permissions();
    if held.contains(Permission::UsersView) {
        Some(("/users", "menu-users"))
    } else if held.contains(Permission::LearnersView) {
        Some(("/classes", "menu-class-database"))
    } else {
        None
    }
}

/// Home › Users (or Class database).
pub(super) fn to_people(actor: &Actor) -> Crumbs {
    let mut crumbs = home();
    crumbs.extend(people_list(actor).map(|(href, id)| crumb(href, id)));
    crumbs
}

/// Home › Users › the person: above one of their actions.
pub(super) fn to_person(actor: &Actor, id: &str, name: &str) -> Crumbs {
    let mut crumbs = to_people(actor);
    crumbs.push(named(format!("/users/{id}"), name));
    crumbs
}

/// Whether the viewer may open **Subscription management** (`/school`) and
/// the **Student database** (the lead teacher): the rule their handlers
/// apply.
pub(super) fn may_open_school_hub(actor: &Actor) -> bool {
    actor
        .school_id
        .as_ref()
        .is_some_and(|school| authorize(actor, Action::ViewLearner, Target::School(school)).is_ok())
}

/// Home › Subscription management, for those who may open it; else Home.
pub(super) fn to_school_hub(actor: &Actor) -> Crumbs {
    let mut crumbs = home();
    if may_open_school_hub(actor) {
        crumbs.push(crumb("/school", "menu-subscription-management"));
    }
    crumbs
}

/// … › Single sign-on of a school: above removing one of its providers.
pub(super) fn to_sso(actor: &Actor, school: &str) -> Crumbs {
    let mut crumbs = to_school_hub(actor);
    crumbs.push(crumb(
        format!("/schools/{school}/sso"),
        "teacher-trail-single-sign-on",
    ));
    crumbs
}

/// Whether the actor has a class database: staff of a school who see
/// learners (a platform admin belongs to no school, and has none).
pub(super) fn has_class_database(actor: &Actor) -> bool {
    actor.school_id.is_some() && actor.permissions().contains(Permission::LearnersView)
}

/// Home › Class database (when the actor has one).
pub(super) fn classes(actor: &Actor) -> Crumbs {
    let mut trail = home();
    if has_class_database(actor) {
        trail.push(crumb("/classes", "menu-class-database"));
    }
    trail
}

/// Home › Class database › the class.
pub(super) fn class(actor: &Actor, class_id: &str, class_name: &str) -> Crumbs {
    let mut trail = classes(actor);
    trail.push(named(format!("/classes/{class_id}"), class_name));
    trail
}

/// The way back from one learner's page: the student database for the
/// lead teacher, the class database for a teacher, the learner's own page
/// under **Users** for a platform admin.
pub(super) fn learner(actor: &Actor, learner_id: &str, learner_name: &str) -> Crumbs {
    if may_open_school_hub(actor) {
        let mut trail = to_school_hub(actor);
        trail.push(crumb("/school/students", "teacher-student-database-title"));
        trail
    } else if has_class_database(actor) {
        classes(actor)
    } else if actor.permissions().contains(Permission::UsersView) {
        to_person(actor, learner_id, learner_name)
    } else {
        home()
    }
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

    fn plain(role: Role) -> Actor {
        actor(role, PermissionSet::EMPTY)
    }

    fn hrefs(trail: &Crumbs) -> Vec<&str> {
        trail.iter().map(|(href, _)| href.as_str()).collect()
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

    #[test]
    fn a_learner_page_leads_back_to_a_page_each_role_may_open() {
        let lead = learner(&plain(Role::LeadTeacher), "l", "Amy");
        assert_eq!(hrefs(&lead), ["/home", "/school", "/school/students"]);
        let teacher = learner(&plain(Role::Teacher), "l", "Amy");
        assert_eq!(hrefs(&teacher), ["/home", "/classes"]);
        let admin = learner(&plain(Role::PlatformAdmin), "l", "Amy");
        assert_eq!(hrefs(&admin), ["/home", "/users", "/users/l"]);
        assert_eq!(
            back(&admin),
            ("/users/l".to_owned(), "Back to Amy".to_owned())
        );
        assert_eq!(hrefs(&learner(&plain(Role::Parent), "l", "Amy")), ["/home"]);
    }

    #[test]
    fn a_platform_admin_has_no_class_database_to_go_back_to() {
        let admin = class(&plain(Role::PlatformAdmin), "c", "Class 4B");
        assert_eq!(hrefs(&admin), ["/home", "/classes/c"]);
        let teacher = class(&plain(Role::Teacher), "c", "Class 4B");
        assert_eq!(hrefs(&teacher), ["/home", "/classes", "/classes/c"]);
        assert_eq!(
            back(&home()),
            ("/home".to_owned(), "Back to home".to_owned())
        );
    }

    #[test]
    fn crumbs_say_their_pages_in_words_and_names_as_they_are() {
        let lead = learner(&plain(Role::LeadTeacher), "l", "Amy");
        let labels: Vec<&str> = lead.iter().map(|(_, label)| label.as_str()).collect();
        assert_eq!(
            labels,
            ["Home", "Subscription management", "Student database"]
        );
        let class = class(&plain(Role::Teacher), "c", "Class 4B");
        assert_eq!(class[2].1, "Class 4B");
    }
}
