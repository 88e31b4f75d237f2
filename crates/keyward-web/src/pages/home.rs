//! The signed-in home page, and `/`, which sends people where they belong.
//! Teachers and lead teachers find their classes here (each with its class
//! code page); learners find **Join another class**.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::i18n::Translate as _;

use keyward_core::authz::Actor;
use keyward_core::types::Role;

use super::{Nav, render};
use crate::error::AppError;
use crate::extract::{Client, Visitor};
use crate::signed_in::{SignedIn, return_to};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Option<Nav>,
    username: String,
    display_name: String,
    role_label: &'static str,
    school_member: bool,
    /// Learners may join another class with its code.
    learner: bool,
    csrf_token: String,
    /// Teachers' and lead teachers' classes: (id, name).
    classes: Option<Vec<(String, String)>>,
    /// Lead teachers import learners from a roster file here.
    roster_link: Option<String>,
    /// **Single sign-on** for the lead teacher's school, or for each school
    /// a platform admin sees: (address, school name).
    sso_links: Vec<(String, String)>,
    /// Utilities > Security, for whoever holds `users.view` or `audit.view`
    /// (a custom role's holders too, whom the menu does not know of).
    security_links: Vec<(&'static str, &'static str)>,
}

/// The Security links the actor's permissions open: (address, label).
fn security_links(actor: &Actor) -> Vec<(&'static str, &'static str)> {
    use keyward_core::authz::Permission;
    let held = actor.permissions();
    [
        (Permission::UsersView, "/users", "Users"),
        (Permission::AuditView, "/audit", "Audit log"),
    ]
    .into_iter()
    .filter(|(permission, _, _)| held.contains(*permission))
    .map(|(_, address, label)| (address, label))
    .collect()
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
    client: Client,
    SignedIn {
        visitor,
        session,
        actor,
        ..
    }: SignedIn<return_to::NoPage>,
) -> Result<Response, AppError> {
    let classes = taught_classes(&state, &client, &actor).await?;
    let account = &session.account;
    let page = HomePage {
        nav: Nav::of(&visitor),
        username: account.username.to_string(),
        display_name: account.display_name(),
        role_label: account.role.label(),
        school_member: account.school_id.is_some(),
        learner: account.role == Role::Learner,
        csrf_token: session.csrf_token.clone(),
        classes,
        roster_link: match (account.role, &account.school_id) {
            (Role::LeadTeacher, Some(school)) => Some(format!("/schools/{school}/roster")),
            _ => None,
        },
        security_links: security_links(&actor),
        sso_links: sso_links(&state, &actor).await?,
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

/// Where the lead teacher (their school) or a platform admin (every school)
/// connects single sign-on providers: (address, school name).
async fn sso_links(state: &AppState, actor: &Actor) -> Result<Vec<(String, String)>, AppError> {
    if !matches!(actor.role, Role::LeadTeacher | Role::PlatformAdmin) {
        return Ok(Vec::new());
    }
    let schools = state
        .kw
        .visible_schools(actor)
        .await
        .map_err(|e| AppError::from_coded(&e))?;
    Ok(schools
        .into_iter()
        .map(|school| (format!("/schools/{}/sso", school.id), school.name))
        .collect())
}

/// A teacher's or lead teacher's classes as (id, name); `None` for others.
async fn taught_classes(
    state: &AppState,
    client: &Client,
    actor: &Actor,
) -> Result<Option<Vec<(String, String)>>, AppError> {
    if !matches!(actor.role, Role::Teacher | Role::LeadTeacher) {
        return Ok(None);
    }
    let classes = state
        .kw
        .class_database(&state.ctx(client), actor, None)
        .await
        .map_err(|e| AppError::from_coded(&e))?;
    Ok(Some(
        classes
            .into_iter()
            .map(|c| (c.id.to_string(), c.name))
            .collect(),
    ))
}
