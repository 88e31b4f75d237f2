//! **Join a class** with a class code (R-CODE-2): `/join`, where a new
//! learner makes an account in the class (then signs in), and
//! `/classes/join`, where a signed-in learner joins another class of their
//! school. Both forms work without JavaScript.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use keyward_core::activation::{ActivationError, JoinInput};
use keyward_core::authz::Role;
use keyward_core::error::CodedError;
use keyward_core::policy::{Hint, PolicyKind};

use super::{Nav, render};
use crate::error::{AppError, set_retry_after};
use crate::extract::{Client, PageForm, Visitor};
use crate::state::AppState;

/// Longest value of a text field echoed back into a form.
const MAX_ECHO_CHARS: usize = 80;
/// The core's limit on a name, to tell which name field a problem is about.
const MAX_NAME_CHARS: usize = 80;

#[derive(Template)]
#[template(path = "join.html")]
struct JoinPage {
    nav: Option<Nav>,
    csrf_token: String,
    class_code: String,
    first_name: String,
    last_name: String,
    username: String,
    hints: Vec<Hint>,
    errors: Vec<String>,
    invalid: Invalid,
}

/// Which fields an error is about, for `aria-invalid`.
#[derive(Default)]
struct Invalid {
    class_code: bool,
    first_name: bool,
    last_name: bool,
    username: bool,
    password: bool,
}

#[derive(Template)]
#[template(path = "join_class.html")]
struct JoinClassPage {
    nav: Option<Nav>,
    csrf_token: String,
    class_code: String,
    notice: Option<String>,
    errors: Vec<String>,
}

fn echo(text: &str) -> String {
    text.chars().take(MAX_ECHO_CHARS).collect()
}

pub async fn join_form(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, AppError> {
    // The class's school may have its own rules; they are shown once the
    // code is known (with the first problem), the defaults until then.
    let policy = state.kw.password_policy(None, PolicyKind::Learner).await?;
    let page = JoinPage {
        nav: Nav::of(&visitor),
        csrf_token: visitor.csrf_token(),
        class_code: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        username: String::new(),
        hints: policy.hints(),
        errors: Vec::new(),
        invalid: Invalid::default(),
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

#[derive(Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    class_code: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn submit_join(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    PageForm(form): PageForm<JoinForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    let input = JoinInput {
        class_code: form.class_code.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        username: form.username.clone(),
        password: form.password,
        confirm_password: Some(form.confirm_password),
    };
    let err = match state
        .kw
        .join_class_as_new_learner(&state.ctx(&client), &input)
        .await
    {
        Ok(_) => return Ok(Redirect::to("/signin?notice=joined").into_response()),
        Err(ActivationError::Internal(internal)) => return Err(AppError::internal(&internal)),
        Err(err) => err,
    };
    tracing::info!(code = err.code().as_str(), "joining a class refused");
    let (errors, policy) = match &err {
        ActivationError::PasswordPolicy { violations, policy } => (
            violations.iter().map(|v| v.message(policy)).collect(),
            policy.clone(),
        ),
        other => (
            vec![other.to_string()],
            state.kw.password_policy(None, PolicyKind::Learner).await?,
        ),
    };
    let invalid = Invalid {
        class_code: matches!(err, ActivationError::UnknownClassCode),
        first_name: matches!(err, ActivationError::InvalidName(_))
            && name_is_wrong(&form.first_name),
        last_name: matches!(err, ActivationError::InvalidName(_)) && name_is_wrong(&form.last_name),
        username: matches!(
            err,
            ActivationError::BadUsername(_) | ActivationError::UsernameTaken(_)
        ),
        password: matches!(err, ActivationError::PasswordPolicy { .. }),
    };
    let page = JoinPage {
        nav: Nav::of(&visitor),
        csrf_token: visitor.csrf_token(),
        class_code: echo(&form.class_code),
        first_name: echo(&form.first_name),
        last_name: echo(&form.last_name),
        username: echo(&form.username),
        hints: policy.hints(),
        errors,
        invalid,
    };
    let app = AppError::from_coded(&err);
    let mut response = render(app.status, &page);
    set_retry_after(&mut response, app.retry_after_secs);
    Ok(visitor.respond(&state, response))
}

/// Whether a name field is the one an `invalid_name` error is about.
fn name_is_wrong(name: &str) -> bool {
    let name = name.trim();
    name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control)
}

/// The signed-in learner's page, or where someone else belongs.
fn learner_only(visitor: &Visitor) -> Option<Response> {
    match &visitor.session {
        None => Some(Redirect::to("/signin").into_response()),
        Some(session) if session.account.role != Role::Learner => {
            Some(Redirect::to("/home").into_response())
        }
        Some(_) => None,
    }
}

fn join_class_page(
    visitor: &Visitor,
    class_code: &str,
    notice: Option<String>,
    errors: Vec<String>,
) -> JoinClassPage {
    JoinClassPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        class_code: echo(class_code),
        notice,
        errors,
    }
}

pub async fn join_class_form(State(state): State<AppState>, visitor: Visitor) -> Response {
    if let Some(elsewhere) = learner_only(&visitor) {
        return elsewhere;
    }
    let page = join_class_page(&visitor, "", None, Vec::new());
    visitor.respond(&state, render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct JoinClassForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    class_code: String,
}

pub async fn submit_join_class(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    PageForm(form): PageForm<JoinClassForm>,
) -> Result<Response, AppError> {
    if let Some(elsewhere) = learner_only(&visitor) {
        return Ok(elsewhere);
    }
    visitor.verify_csrf(&form.csrf_token)?;
    let Some(session) = &visitor.session else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let joined = state
        .kw
        .join_class(
            &state.ctx(&client),
            &session.account.actor(),
            &form.class_code,
        )
        .await;
    let (status, page, retry_after) = match joined {
        Ok(joined) => {
            let notice = if joined.newly_enrolled {
                format!("You have joined {}.", joined.class_name)
            } else {
                format!("You are already in {}.", joined.class_name)
            };
            let page = join_class_page(&visitor, "", Some(notice), Vec::new());
            (StatusCode::OK, page, None)
        }
        Err(ActivationError::Internal(internal)) => return Err(AppError::internal(&internal)),
        Err(err) => {
            let app = AppError::from_coded(&err);
            let page = join_class_page(&visitor, &form.class_code, None, vec![err.to_string()]);
            (app.status, page, app.retry_after_secs)
        }
    };
    let mut response = render(status, &page);
    set_retry_after(&mut response, retry_after);
    Ok(visitor.respond(&state, response))
}
