//! **Use a code** (R-CODE-1, R-CODE-3): the access code first, then the
//! username and password the person chooses (and an email for staff and
//! parents); then they sign in.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::Ctx;
use keyward_core::activation::{ActivationError, ActivationInput, CodeInfo, CodeKind};
use keyward_core::error::CodedError;
use keyward_core::policy::Hint;
use keyward_core::types::TypedCode;

use super::{Nav, render};
use crate::error::{AppError, set_retry_after};
use crate::extract::{Client, PageForm, Visitor};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "activate_code.html")]
struct CodePage {
    nav: Option<Nav>,
    csrf_token: String,
    code: String,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "activate_account.html")]
struct AccountPage {
    nav: Option<Nav>,
    csrf_token: String,
    code: String,
    parent: bool,
    first_name: String,
    needs_email: bool,
    username: String,
    email: String,
    hints: Vec<Hint>,
    errors: Vec<String>,
    /// The field the errors are about (`names`, `username`, `email`,
    /// `password`), shown under it; empty: above the form.
    errors_at: &'static str,
}

fn code_page(visitor: &Visitor, code: String, errors: Vec<String>) -> CodePage {
    CodePage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        code: code.chars().take(40).collect(),
        errors,
    }
}

pub async fn code_form(State(state): State<AppState>, visitor: Visitor) -> Response {
    visitor.respond(
        &state,
        render(
            StatusCode::OK,
            &code_page(&visitor, String::new(), Vec::new()),
        ),
    )
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
}

/// Renders an activation problem on the page it belongs to.
fn problem(
    visitor: &Visitor,
    state: &AppState,
    err: &ActivationError,
    code: String,
) -> Result<Response, AppError> {
    if let ActivationError::Internal(internal) = err {
        return Err(AppError::internal(internal));
    }
    let app = AppError::from_coded(err);
    let mut response = render(
        app.status,
        &code_page(visitor, code, vec![super::words(err)]),
    );
    set_retry_after(&mut response, app.retry_after_secs);
    Ok(visitor.respond(state, response))
}

fn account_page(
    visitor: &Visitor,
    code: &str,
    info: &CodeInfo,
    username: &str,
    email: &str,
    (errors, errors_at): (Vec<String>, &'static str),
) -> AccountPage {
    AccountPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        code: code.to_owned(),
        parent: info.kind == CodeKind::Parent,
        first_name: info.first_name.clone(),
        needs_email: info.needs_email,
        username: username.chars().take(64).collect(),
        email: email.chars().take(254).collect(),
        hints: info.policy.hints(),
        errors,
        // Under a field the page shows, else above the form.
        errors_at: match errors_at {
            "names" if info.kind != CodeKind::Parent => "",
            "email" if !info.needs_email => "",
            at => at,
        },
    }
}

pub async fn submit_code(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    PageForm(form): PageForm<CodeForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    match state
        .kw
        .inspect_code(&state.ctx(&client), &TypedCode::from(&form.code))
        .await
    {
        Ok(info) => {
            let page = account_page(&visitor, form.code.trim(), &info, "", "", (Vec::new(), ""));
            Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
        }
        Err(err) => problem(&visitor, &state, &err, form.code),
    }
}

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    username: String,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn submit_account(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    PageForm(form): PageForm<AccountForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    let ctx = state.ctx(&client);
    let input = form.into_input();
    let err = match state.kw.activate(&ctx, &input).await {
        Ok(_) => return Ok(Redirect::to("/signin?notice=activated").into_response()),
        Err(err) => err,
    };
    // Problems with the code itself go back to the first step.
    if is_about_the_code(&err) {
        return problem(&visitor, &state, &err, input.code.expose().to_owned());
    }
    account_again(&state, &ctx, &visitor, input, &err).await
}

/// The account step again, saying what was wrong with the choices (or the
/// first step, if the code stopped working meanwhile).
async fn account_again(
    state: &AppState,
    ctx: &Ctx<'_>,
    visitor: &Visitor,
    input: ActivationInput,
    err: &ActivationError,
) -> Result<Response, AppError> {
    let info = match state.kw.inspect_code(ctx, &input.code).await {
        Ok(info) => info,
        Err(err) => return problem(visitor, state, &err, input.code.expose().to_owned()),
    };
    let status = AppError::from_coded(err).status;
    tracing::info!(code = err.code().as_str(), "activation refused");
    let email = input.email.as_deref().unwrap_or("");
    let page = account_page(
        visitor,
        input.code.expose(),
        &info,
        &input.username,
        email,
        words(err),
    );
    Ok(visitor.respond(state, render(status, &page)))
}

impl AccountForm {
    /// The request to the core (the CSRF token is checked by then).
    fn into_input(self) -> ActivationInput {
        ActivationInput {
            code: self.code.into(),
            username: self.username,
            password: self.password.into(),
            confirm_password: Some(self.confirm_password.into()),
            email: self.email,
            first_name: self.first_name,
            last_name: self.last_name,
        }
    }
}

/// Whether a refusal is about the code (shown on the first step) rather
/// than about what was chosen.
fn is_about_the_code(err: &ActivationError) -> bool {
    matches!(
        err,
        ActivationError::UnknownCode
            | ActivationError::ExpiredCode
            | ActivationError::UsedCode
            | ActivationError::Throttled { .. }
            | ActivationError::Internal(_)
    )
}

/// A refusal in words (each broken password rule on its own).
/// A refusal in words, and the field it is about.
fn words(err: &ActivationError) -> (Vec<String>, &'static str) {
    let at = match err {
        ActivationError::PasswordPolicy { violations, policy } => {
            return (
                violations.iter().map(|v| v.message(policy)).collect(),
                "password",
            );
        }
        ActivationError::BadUsername(_) | ActivationError::UsernameTaken(_) => "username",
        ActivationError::EmailMissing | ActivationError::BadEmail => "email",
        ActivationError::NameMissing | ActivationError::InvalidName(_) => "names",
        _ => "",
    };
    (vec![super::words(err)], at)
}
