//! **Join a class** with a class code (R-CODE-2): `/join`, where a new
//! learner makes an account in the class (then signs in), and
//! `/classes/join`, where a signed-in learner joins another class of their
//! school. Both forms work without JavaScript.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::i18n::{Message, Translate as _};
use serde::Deserialize;

use keyward_core::accounts::CurrentSession;
use keyward_core::activation::{ActivationError, JoinInput, JoinedClass};
use keyward_core::error::CodedError;
use keyward_core::policy::{Hint, PasswordPolicy, PolicyKind};
use keyward_core::types::{Role, TypedCode};

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
/// The fields a refusal is about: each is marked, and the problems are
/// shown under the first of them (above the form when none is).
#[derive(Default)]
struct Invalid {
    class_code: bool,
    first_name: bool,
    last_name: bool,
    username: bool,
    password: bool,
}

impl Invalid {
    fn any(&self) -> bool {
        self.class_code || self.first_name || self.last_name || self.username || self.password
    }
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
    let input = form.into_input();
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
    let (errors, policy) = refusal_words(&state, &err).await?;
    let page = JoinPage::refused(&visitor, &input, &err, errors, &policy);
    let app = AppError::from_coded(&err);
    let mut response = render(app.status, &page);
    set_retry_after(&mut response, app.retry_after_secs);
    Ok(visitor.respond(&state, response))
}

impl JoinForm {
    /// The request to the core (the CSRF token is checked by then).
    fn into_input(self) -> JoinInput {
        JoinInput {
            class_code: self.class_code.into(),
            first_name: self.first_name,
            last_name: self.last_name,
            username: self.username,
            password: self.password.into(),
            confirm_password: Some(self.confirm_password.into()),
        }
    }
}

/// A refusal in words, with the rules to show: those of the class's school
/// when the refusal came with them, the defaults otherwise.
async fn refusal_words(
    state: &AppState,
    err: &ActivationError,
) -> Result<(Vec<String>, PasswordPolicy), AppError> {
    Ok(match err {
        ActivationError::PasswordPolicy { violations, policy } => (
            violations.iter().map(|v| v.message(policy)).collect(),
            policy.clone(),
        ),
        other => (
            vec![super::words(other)],
            state.kw.password_policy(None, PolicyKind::Learner).await?,
        ),
    })
}

impl Invalid {
    /// The fields `err` is about.
    fn of(err: &ActivationError, input: &JoinInput) -> Invalid {
        let name = matches!(err, ActivationError::InvalidName(_));
        Invalid {
            class_code: matches!(err, ActivationError::UnknownClassCode),
            first_name: name && name_is_wrong(&input.first_name),
            last_name: name && name_is_wrong(&input.last_name),
            username: matches!(
                err,
                ActivationError::BadUsername(_) | ActivationError::UsernameTaken(_)
            ),
            password: matches!(err, ActivationError::PasswordPolicy { .. }),
        }
    }
}

impl JoinPage {
    /// The form again after a refusal, with what was typed (but passwords).
    fn refused(
        visitor: &Visitor,
        input: &JoinInput,
        err: &ActivationError,
        errors: Vec<String>,
        policy: &PasswordPolicy,
    ) -> JoinPage {
        JoinPage {
            nav: Nav::of(visitor),
            csrf_token: visitor.csrf_token(),
            class_code: echo(input.class_code.expose()),
            first_name: echo(&input.first_name),
            last_name: echo(&input.last_name),
            username: echo(&input.username),
            hints: policy.hints(),
            errors,
            invalid: Invalid::of(err, input),
        }
    }
}

/// Whether a name field is the one an `invalid_name` error is about.
fn name_is_wrong(name: &str) -> bool {
    let name = name.trim();
    name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control)
}

/// The signed-in learner's session, or where someone else belongs.
fn learner_session(visitor: &Visitor) -> Result<&CurrentSession, Redirect> {
    match &visitor.session {
        None => Err(Redirect::to("/signin")),
        Some(session) if session.account.role != Role::Learner => Err(Redirect::to("/home")),
        Some(session) => Ok(session),
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
    if let Err(elsewhere) = learner_session(&visitor) {
        return elsewhere.into_response();
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
    let session = match learner_session(&visitor) {
        Ok(session) => session,
        Err(elsewhere) => return Ok(elsewhere.into_response()),
    };
    visitor.verify_csrf(&form.csrf_token)?;
    let ctx = state.ctx(&client);
    let actor = session.account.actor();
    let typed = TypedCode::from(&form.class_code);
    let (status, page, retry_after) = match state.kw.join_class(&ctx, &actor, &typed).await {
        Ok(joined) => {
            let page = join_class_page(&visitor, "", Some(joined_notice(&joined)), Vec::new());
            (StatusCode::OK, page, None)
        }
        Err(ActivationError::Internal(internal)) => return Err(AppError::internal(&internal)),
        Err(err) => {
            let app = AppError::from_coded(&err);
            let page = join_class_page(&visitor, &form.class_code, None, vec![super::words(&err)]);
            (app.status, page, app.retry_after_secs)
        }
    };
    let mut response = render(status, &page);
    set_retry_after(&mut response, retry_after);
    Ok(visitor.respond(&state, response))
}

/// What a learner is told after joining a class.
fn joined_notice(joined: &JoinedClass) -> String {
    let id = if joined.newly_enrolled {
        "learner-joined"
    } else {
        "learner-already-in"
    };
    Message::new(id)
        .with("class", &joined.class_name)
        .to_string()
}
