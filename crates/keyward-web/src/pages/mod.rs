//! Server-rendered pages (R-UI-1): askama templates extending one layout,
//! usable without JavaScript, with the seeds' labels. Each page handler
//! extracts, calls one use case, and renders.

mod home;
mod signin;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use crate::error::AppError;
use crate::extract::Visitor;
use crate::state::AppState;

/// What the layout needs to show the navigation menu of a signed-in person.
#[derive(Debug, Clone)]
pub struct Nav {
    pub username: String,
    pub display_name: String,
    pub role_label: &'static str,
    pub csrf_token: String,
}

impl Nav {
    pub fn of(visitor: &Visitor) -> Option<Nav> {
        visitor.session.as_ref().map(|s| Nav {
            username: s.account.username.to_string(),
            display_name: s.account.display_name(),
            role_label: s.account.role.label(),
            csrf_token: s.csrf_token.clone(),
        })
    }
}

/// Renders a template with a status; a template error is an internal error.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "template failed to render");
            AppError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "The page could not be shown.",
            )
            .into_response()
        }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::root))
        .route("/home", get(home::home))
        .route("/signin", get(signin::first_screen))
        .route(
            "/signin/username",
            get(signin::username_step).post(signin::submit_username),
        )
        .route("/signin/password", post(signin::submit_password))
        .route("/signout", post(signin::sign_out))
}
