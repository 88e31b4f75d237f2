//! The signed-in home page, a dashboard for each role (issue 15), and `/`,
//! which sends people where they belong. A teacher sees their classes with
//! learner counts and the class actions; a lead teacher also the school's
//! numbers and shortcuts; a platform admin the schools with their numbers; a
//! learner the classes she is in and **Join another class**; a parent their
//! children, with their usernames, classes and teachers. The figures come
//! from the core's overviews, which leave out what the actor may not see.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::i18n::{Message, Translate as _};

use keyward_core::activation::parents::ChildOverview;
use keyward_core::authz::{Action, Actor, Permission, PermissionSet, Target, authorize};
use keyward_core::schools::overview::{LearnerClass, SchoolFigures, TaughtClass};
use keyward_core::types::{Role, SchoolId};

use super::{Nav, render};
use crate::error::{AppError, coded};
use crate::extract::Visitor;
use crate::signed_in::{SignedIn, return_to};
use crate::state::AppState;

/// A place the person may go from home: (address, label, what is there;
/// message ids).
struct Shortcut {
    href: String,
    label: &'static str,
    about: &'static str,
}

/// One number of a school (its label a message id), with the page that
/// lists what it counts.
struct Figure {
    number: i64,
    label: &'static str,
    href: String,
}

/// A school's row on the platform admin's home.
struct SchoolRow {
    figures: SchoolFigures,
    sso_href: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Option<Nav>,
    username: String,
    display_name: String,
    /// The role's name, the line under the heading (message ids).
    role_message: &'static str,
    intro: &'static str,
    csrf_token: String,
    /// "Your classes" as their teacher (teachers and lead teachers).
    teaching: Option<Vec<TaughtClass>>,
    /// What "Your classes" says when there is none (a message id).
    no_class: &'static str,
    /// The school's numbers (one school: the lead teacher's).
    figures: Vec<Figure>,
    /// Every school (a platform admin).
    schools: Option<Vec<SchoolRow>>,
    shortcuts: Vec<Shortcut>,
    /// The classes a learner is in; `Some` for learners, who may join another.
    enrolled: Option<Vec<LearnerClass>>,
    /// A parent's children.
    children: Option<Vec<ChildOverview>>,
}

impl HomePage {
    /// "Tom Baker", "Tom Baker and Lena Fischer", "A, B and C": the last
    /// name joined by the message `and` (`{ $names } and { $last }`).
    fn names(names: &[String], and: &str) -> String {
        match names {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => Message::new(and)
                .with("names", rest.join(", "))
                .with("last", last)
                .to_string(),
        }
    }
}

pub async fn root(visitor: Visitor) -> Response {
    if visitor.session.is_some() {
        Redirect::to("/home")
    } else {
        Redirect::to("/signin")
    }
    .into_response()
}

pub async fn home(
    State(state): State<AppState>,
    SignedIn {
        visitor,
        session,
        actor,
        ..
    }: SignedIn<return_to::NoPage>,
) -> Result<Response, AppError> {
    let account = &session.account;
    let mut page = HomePage {
        nav: Nav::of(&visitor),
        username: account.username.to_string(),
        display_name: account.display_name(),
        role_message: super::role_message(account.role),
        intro: intro(account.role),
        csrf_token: session.csrf_token.clone(),
        teaching: None,
        no_class: no_class(account.role),
        figures: Vec::new(),
        schools: None,
        shortcuts: shortcuts(&actor),
        enrolled: None,
        children: None,
    };
    fill(&state, &actor, &mut page).await?;
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

/// The page's line under the heading, by role (a message id).
fn intro(role: Role) -> &'static str {
    match role {
        Role::PlatformAdmin => "home-intro-platform-admin",
        Role::LeadTeacher => "home-intro-lead-teacher",
        Role::Teacher => "home-intro-teacher",
        Role::Learner => "learner-intro",
        Role::Parent => "home-intro-parent",
    }
}

/// What "Your classes" says to a teacher who teaches none (a message id).
fn no_class(role: Role) -> &'static str {
    match role {
        Role::LeadTeacher => "home-no-class-lead-teacher",
        _ => "home-no-class-teacher",
    }
}

/// Reads what the actor's dashboard shows: one overview per section.
async fn fill(state: &AppState, actor: &Actor, page: &mut HomePage) -> Result<(), AppError> {
    let kw = &state.kw;
    match actor.role {
        Role::Teacher | Role::LeadTeacher => {
            page.teaching = Some(kw.teaching_overview(actor).await.map_err(coded)?);
        }
        Role::Learner => page.enrolled = Some(kw.own_classes(actor).await?),
        Role::Parent => page.children = Some(kw.children_overview(actor).await?),
        Role::PlatformAdmin => {}
    }
    let figures = kw.school_figures(actor).await.map_err(coded)?;
    if actor.platform_wide() {
        page.schools = Some(figures.into_iter().map(|f| school_row(actor, f)).collect());
    } else if let Some(mine) = figures.into_iter().next() {
        page.figures = figure_tiles(&mine);
    }
    Ok(())
}

fn school_row(actor: &Actor, figures: SchoolFigures) -> SchoolRow {
    SchoolRow {
        sso_href: may_manage_users(actor, &figures.school.id)
            .then(|| format!("/schools/{}/sso", figures.school.id)),
        figures,
    }
}

/// The school's numbers as tiles, each leading to the list it counts.
fn figure_tiles(f: &SchoolFigures) -> Vec<Figure> {
    let tile = |number, label, href: &str| Figure {
        number,
        label,
        href: href.to_owned(),
    };
    vec![
        tile(f.classes, "home-classes", "/classes"),
        tile(f.learners, "home-learners", "/school/students"),
        tile(f.staff, "home-teachers", "/users?role=teacher"),
        tile(f.parents, "home-parents", "/users?role=parent"),
        tile(f.pending, "home-not-activated", "/users?status=pending"),
    ]
}

fn may_manage_users(actor: &Actor, school: &SchoolId) -> bool {
    authorize(actor, Action::ManageUser, Target::School(school)).is_ok()
}

/// The places the actor's permissions open, with a line on each; the
/// school's own pages only for staff of a school.
fn shortcuts(actor: &Actor) -> Vec<Shortcut> {
    let held = actor.permissions();
    let school = actor
        .school_id
        .as_ref()
        .filter(|_| actor.role != Role::Learner);
    let teaches = school.is_some() && held.contains(Permission::LearnersView);
    let whole_school =
        teaches && actor.holds_school_wide(PermissionSet::of(&[Permission::LearnersView]));
    let manages = school.is_some_and(|s| teaches && may_manage_users(actor, s));
    let school = school.map(SchoolId::to_string).unwrap_or_default();
    [
        (
            teaches,
            "/classes".to_owned(),
            "home-shortcut-class-database",
            "home-shortcut-class-database-about",
        ),
        (
            whole_school,
            "/school/students".to_owned(),
            "home-shortcut-student-database",
            "home-shortcut-student-database-about",
        ),
        (
            whole_school,
            "/school".to_owned(),
            "home-shortcut-subscription",
            "home-shortcut-subscription-about",
        ),
        (
            manages,
            format!("/schools/{school}/roster"),
            "home-shortcut-roster",
            "home-shortcut-roster-about",
        ),
        (
            manages,
            format!("/schools/{school}/sso"),
            "home-shortcut-sso",
            "home-shortcut-sso-about",
        ),
        (
            held.contains(Permission::UsersView),
            "/users".to_owned(),
            "home-shortcut-users",
            "home-shortcut-users-about",
        ),
        (
            held.contains(Permission::AuditView),
            "/audit".to_owned(),
            "home-shortcut-audit",
            "home-shortcut-audit-about",
        ),
    ]
    .into_iter()
    .filter(|(shown, ..)| *shown)
    .map(|(_, href, label, about)| Shortcut { href, label, about })
    .collect()
}
