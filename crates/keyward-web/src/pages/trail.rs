//! Breadcrumbs of the teachers' pages (class database, a class, its User
//! accounts and resets, a learner's password, the student database): each
//! trail names only pages the person may open, so no "back" is a dead end.
//! The core decides who may do what; this only asks `authorize` which of
//! the pages above to link, as the menu does.

use keyward_core::authz::{Action, Actor, Permission, Target, authorize};

/// One link of a trail (the page itself is named by the template).
#[derive(Debug, Clone)]
pub struct Crumb {
    pub href: String,
    pub label: String,
}

impl Crumb {
    pub fn new(href: impl Into<String>, label: impl Into<String>) -> Crumb {
        Crumb {
            href: href.into(),
            label: label.into(),
        }
    }
}

/// The trail's last link, as "Back to …": the page one up.
pub fn back(trail: &[Crumb]) -> Crumb {
    match trail.last() {
        Some(crumb) if crumb.href != "/home" => {
            Crumb::new(crumb.href.clone(), format!("Back to {}", crumb.label))
        }
        _ => Crumb::new("/home", "Back to home"),
    }
}

/// Whether the actor has a class database: staff of a school who see learners
/// (a platform admin belongs to no school, and has none).
pub fn has_class_database(actor: &Actor) -> bool {
    actor.school_id.is_some() && actor.permissions().contains(Permission::LearnersView)
}

/// Whether the actor may open their school's **Subscription management**
/// and **Student database** (the lead teacher).
pub fn has_school_pages(actor: &Actor) -> bool {
    actor
        .school_id
        .as_ref()
        .is_some_and(|school| authorize(actor, Action::ViewLearner, Target::School(school)).is_ok())
}

/// Home.
pub fn home() -> Vec<Crumb> {
    vec![Crumb::new("/home", "Home")]
}

/// Home › Class database (when the actor has one).
pub fn classes(actor: &Actor) -> Vec<Crumb> {
    let mut trail = home();
    if has_class_database(actor) {
        trail.push(Crumb::new("/classes", "Class database"));
    }
    trail
}

/// Home › Class database › the class.
pub fn class(actor: &Actor, class_id: &str, class_name: &str) -> Vec<Crumb> {
    let mut trail = classes(actor);
    trail.push(Crumb::new(format!("/classes/{class_id}"), class_name));
    trail
}

/// Home › Subscription management (when the actor may open it).
pub fn school(actor: &Actor) -> Vec<Crumb> {
    let mut trail = home();
    if has_school_pages(actor) {
        trail.push(Crumb::new("/school", "Subscription management"));
    }
    trail
}

/// The way to one learner's page: the student database for the lead
/// teacher, the class database for a teacher, the learner's own page under
/// **Users** for a platform admin (who has neither database).
pub fn learner(actor: &Actor, learner_id: &str, learner_name: &str) -> Vec<Crumb> {
    if has_school_pages(actor) {
        let mut trail = school(actor);
        trail.push(Crumb::new("/school/students", "Student database"));
        trail
    } else if has_class_database(actor) {
        classes(actor)
    } else if actor.permissions().contains(Permission::UsersView) {
        let mut trail = home();
        trail.push(Crumb::new("/users", "Users"));
        trail.push(Crumb::new(format!("/users/{learner_id}"), learner_name));
        trail
    } else {
        home()
    }
}
