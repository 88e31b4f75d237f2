//! **Your children**, a parent's page (R-CODE-3): each linked child with
//! what the parent can do for them — their username and where they sign
//! in, or, while the account waits, how it gets set up — an empty state
//! when no child is linked yet, and **Link another child** with a parent
//! access code (a refusal is said under the field). A parent sees names
//! and usernames, never a password.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::activation::ActivationError;
use keyward_core::activation::parents::Child;
use keyward_core::authz::Denied;
use keyward_core::types::{Role, TypedCode};

use super::{Nav, Told, render, render_told};
use crate::error::AppError;
use crate::extract::{Client, PageForm, Visitor};
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

/// One linked child as the page shows them.
struct ChildCard {
    name: String,
    first_name: String,
    /// `None` while their account waits for its access code.
    username: Option<String>,
}

impl ChildCard {
    fn of(child: Child) -> ChildCard {
        let name = format!("{} {}", child.first_name, child.last_name);
        ChildCard {
            first_name: Some(child.first_name)
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| keyward_core::i18n::text("children-your-child")),
            name: name.trim().to_owned(),
            username: child.username,
        }
    }
}

#[derive(Template)]
#[template(path = "children.html")]
struct ChildrenPage {
    nav: Option<Nav>,
    csrf_token: String,
    children: Vec<ChildCard>,
    /// Where the children sign in, and where a code is used.
    sign_in_at: String,
    use_a_code_at: String,
    /// Why the code was refused, under its field, and the code as typed.
    error: Option<String>,
    typed: String,
    /// What was done (a message id).
    notice: Option<&'static str>,
}

async fn children_page(
    state: &AppState,
    visitor: &Visitor,
    actor: &keyward_core::authz::Actor,
    (told, typed): (Told, String),
) -> Result<ChildrenPage, AppError> {
    let base = state.kw.settings().server.public_url.as_str();
    let base = base.trim_end_matches('/');
    let children = state.kw.children_of(actor).await?;
    Ok(ChildrenPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        children: children.into_iter().map(ChildCard::of).collect(),
        sign_in_at: format!("{base}/signin"),
        use_a_code_at: format!("{base}/activate"),
        typed: if told.errors.is_empty() {
            String::new()
        } else {
            typed
        },
        error: told.errors.into_iter().next(),
        notice: told.notice,
    })
}

/// Nothing said yet: the page as it is.
fn quiet() -> Told {
    Told {
        status: StatusCode::OK,
        retry_after: None,
        errors: Vec::new(),
        notice: None,
    }
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Children>,
) -> Result<Response, AppError> {
    if actor.role != Role::Parent {
        return Err(AppError::from_coded(&Denied::Forbidden));
    }
    let page = children_page(&state, &visitor, &actor, (quiet(), String::new())).await?;
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    parent_access_code: String,
}

csrf_forms!(LinkForm);

pub async fn link_child(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        actor,
        form: PageForm(form),
        ..
    }: SignedIn<return_to::Home, PageForm<LinkForm>>,
) -> Result<Response, AppError> {
    let code = TypedCode::from(&form.parent_access_code);
    let linked = state
        .kw
        .link_child(&state.ctx(&client), &actor, &code)
        .await;
    let told = match linked {
        Ok(_) => Told::done("children-linked"),
        Err(ActivationError::Internal(internal)) => return Err(AppError::internal(&internal)),
        Err(err) => Told::refused(&err),
    };
    let (status, retry_after) = (told.status, told.retry_after);
    let typed = form.parent_access_code.chars().take(40).collect();
    let page = children_page(&state, &visitor, &actor, (told, typed)).await?;
    Ok(visitor.respond(&state, render_told(status, retry_after, &page)))
}
