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
use keyward_core::i18n::Translate as _;

use keyward_core::activation::parents::ChildOverview;
use keyward_core::authz::{Action, Actor, Permission, PermissionSet, Target, authorize};
use keyward_core::schools::overview::{LearnerClass, SchoolFigures, TaughtClass};
use keyward_core::types::{Role, SchoolId};

use super::{Nav, render};
use crate::error::{AppError, coded};
use crate::extract::Visitor;
use crate::signed_in::{SignedIn, return_to};
use crate::state::AppState;

/// A place the person may go from home: (address, label, what is there).
struct Shortcut {
    href: String,
    label: &'static str,
    about: &'static str,
}

/// One number of a school, with the page that lists what it counts.
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
    role_label: &'static str,
    intro: &'static str,
    csrf_token: String,
    /// "Your classes" as their teacher (teachers and lead teachers).
    teaching: Option<Vec<TaughtClass>>,
    /// What "Your classes" says when there is none.
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
    /// "Tom Baker", "Tom Baker and Lena Fischer", "A, B and C".
    fn names(names: &[String]) -> String {
        match names {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
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
        role_label: account.role.label(),
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

/// The page's line under the heading, by role.
fn intro(role: Role) -> &'static str {
    match role {
        Role::PlatformAdmin => "The schools on this keyward, and where to look after them.",
        Role::LeadTeacher => "Your school at a glance, your classes, and the places you use most.",
        Role::Teacher => "Your classes, and what you can do for each of them.",
        Role::Learner => "Your classes, and where to change your password.",
        Role::Parent => "Your children, and how to help them sign in.",
    }
}

/// What "Your classes" says to a teacher who teaches none.
fn no_class(role: Role) -> &'static str {
    match role {
        Role::LeadTeacher => {
            "You don't teach a class yet. Every class of the school is in the Class database."
        }
        _ => "You don't teach a class yet. Your lead teacher can add you to one.",
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
        tile(f.classes, "Classes", "/classes"),
        tile(f.learners, "Learners", "/school/students"),
        tile(f.staff, "Teachers", "/users?role=teacher"),
        tile(f.parents, "Parents", "/users?role=parent"),
        tile(f.pending, "Not activated yet", "/users?status=pending"),
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
            "Class database",
            CLASS_DATABASE,
        ),
        (
            whole_school,
            "/school/students".to_owned(),
            "Student database",
            "Every learner of the school.",
        ),
        (
            whole_school,
            "/school".to_owned(),
            "Subscription management",
            SUBSCRIPTION,
        ),
        (
            manages,
            format!("/schools/{school}/roster"),
            "Import learners",
            ROSTER,
        ),
        (
            manages,
            format!("/schools/{school}/sso"),
            "Single sign-on",
            SSO,
        ),
        (
            held.contains(Permission::UsersView),
            "/users".to_owned(),
            "Users",
            USERS,
        ),
        (
            held.contains(Permission::AuditView),
            "/audit".to_owned(),
            "Audit log",
            "Who did what, and when.",
        ),
    ]
    .into_iter()
    .filter(|(shown, ..)| *shown)
    .map(|(_, href, label, about)| Shortcut { href, label, about })
    .collect()
}

const CLASS_DATABASE: &str =
    "Every class with its code and learners, and each learner's Reset password.";
const SUBSCRIPTION: &str = "The school's pages: User accounts, Learner passwords and more.";
const ROSTER: &str = "Add a class list from a CSV file (roster import).";
const SSO: &str = "Let people sign in with Google Workspace, Microsoft Entra or another provider.";
const USERS: &str = "Find anyone, reset a password, add a person.";
