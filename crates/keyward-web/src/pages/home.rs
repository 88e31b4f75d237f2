//! The signed-in home page, and `/`, which sends people where they belong.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::{Nav, render};
use crate::extract::Visitor;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Option<Nav>,
    username: String,
    display_name: String,
    role_label: &'static str,
    school_member: bool,
}

pub async fn root(visitor: Visitor) -> Response {
    if visitor.session.is_some() {
        Redirect::to("/home")
    } else {
        Redirect::to("/signin")
    }
    .into_response()
}

pub async fn home(State(state): State<AppState>, visitor: Visitor) -> Response {
    let Some(session) = &visitor.session else {
        return Redirect::to("/signin").into_response();
    };
    let page = HomePage {
        nav: Nav::of(&visitor),
        username: session.account.username.to_string(),
        display_name: session.account.display_name(),
        role_label: session.account.role.label(),
        school_member: session.account.school_id.is_some(),
    };
    visitor.respond(&state, render(StatusCode::OK, &page))
}
