//! The signed-in home page, and `/`, which sends people where they belong.
//! Teachers and lead teachers find their classes here (each with its class
//! code page); learners find **Join another class**.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use keyward_core::authz::Role;

use super::{Nav, render};
use crate::error::AppError;
use crate::extract::{Client, Visitor};
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
    visitor: Visitor,
) -> Result<Response, AppError> {
    let Some(session) = &visitor.session else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let role = session.account.role;
    let classes = if matches!(role, Role::Teacher | Role::LeadTeacher) {
        let actor = state.kw.actor_of(&session.account).await?;
        let classes = state
            .kw
            .class_database(&state.ctx(&client), &actor, None)
            .await
            .map_err(|e| AppError::from_coded(&e))?;
        Some(
            classes
                .into_iter()
                .map(|c| (c.id.to_string(), c.name))
                .collect(),
        )
    } else {
        None
    };
    let page = HomePage {
        nav: Nav::of(&visitor),
        username: session.account.username.to_string(),
        display_name: session.account.display_name(),
        role_label: session.account.role.label(),
        school_member: session.account.school_id.is_some(),
        learner: role == Role::Learner,
        csrf_token: session.csrf_token.clone(),
        classes,
        roster_link: match (role, &session.account.school_id) {
            (Role::LeadTeacher, Some(school)) => Some(format!("/schools/{school}/roster")),
            _ => None,
        },
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}
