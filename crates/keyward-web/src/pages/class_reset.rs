//! **Reset password** for a whole class (R-TCH-3), `/classes/{id}/password-reset`:
//! a form with the two choices of seed 002 (the same password for every
//! learner, or a new one each) and **Reset**; then the result, listing every
//! learner with their new password, with **Download CSV** (the passwords
//! exist only in this answer, so the file is a `data:` link built here) and a
//! print view of one card per learner.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use keyward_core::classroom::class_reset::{
    ClassReset, ClassResetError, ClassResetKind, ClassResetMode, ClassResetPreview,
};
use keyward_core::policy::{Hint, Violation};
use keyward_core::types::ClassId;

use super::people::actor_or_sign_in;
use super::{Nav, render};
use crate::error::{AppError, set_retry_after};
use crate::extract::{Client, PageForm, Visitor, path_id};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "class_reset_form.html")]
struct FormPage {
    nav: Option<Nav>,
    csrf_token: String,
    class_id: String,
    class_name: String,
    learners: usize,
    pending: usize,
    hints: Vec<Hint>,
    /// The choice to show selected: `same` or `individual`.
    mode: String,
    errors: Vec<String>,
}

struct ResultRow {
    name: String,
    username: String,
    password: String,
}

#[derive(Template)]
#[template(path = "class_reset_result.html")]
struct ResultPage {
    nav: Option<Nav>,
    class_name: String,
    same: bool,
    kept: bool,
    rows: Vec<ResultRow>,
    skipped: Vec<String>,
    csv_href: String,
    csv_name: String,
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    password: String,
}

fn class_id(path: Result<Path<String>, PathRejection>) -> Result<ClassId, AppError> {
    path_id(path, ClassId::parse)
}

/// A refusal the page can only explain (not found, forbidden, internal).
fn page_error(err: ClassResetError) -> AppError {
    match err {
        ClassResetError::Internal(internal) => AppError::internal(&internal),
        other => AppError::from_coded(&other),
    }
}

fn form_page(
    visitor: &Visitor,
    preview: ClassResetPreview,
    mode: &str,
    errors: Vec<String>,
) -> FormPage {
    FormPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        class_id: preview.class_id.to_string(),
        class_name: preview.class_name,
        learners: preview.learners,
        pending: preview.pending,
        hints: preview.policy.hints(),
        mode: if mode == "same" { "same" } else { "individual" }.to_owned(),
        errors,
    }
}

pub async fn form(
    State(state): State<AppState>,
    client: Client,
    visitor: Visitor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let actor = match actor_or_sign_in(&state, &visitor, "/classes").await? {
        Ok(actor) => actor,
        Err(redirect) => return Ok(redirect),
    };
    let class = class_id(path)?;
    let preview = state
        .kw
        .class_reset_preview(&state.ctx(&client), &actor, &class)
        .await
        .map_err(page_error)?;
    let page = form_page(&visitor, preview, "individual", Vec::new());
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    PageForm(form): PageForm<ResetForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    let actor = match actor_or_sign_in(&state, &visitor, "/classes").await? {
        Ok(actor) => actor,
        Err(redirect) => return Ok(redirect),
    };
    let class = class_id(path)?;
    let mode = match form.mode.as_str() {
        // A blank password field means: generate one.
        "same" if form.password.is_empty() => Some(ClassResetMode::Same(None)),
        "same" => Some(ClassResetMode::Same(Some(form.password))),
        "individual" => Some(ClassResetMode::Individual),
        _ => None,
    };
    let outcome = match mode {
        Some(mode) => {
            state
                .kw
                .reset_class_passwords(&state.ctx(&client), &actor, &class, mode)
                .await
        }
        None => {
            let preview = state
                .kw
                .class_reset_preview(&state.ctx(&client), &actor, &class)
                .await
                .map_err(page_error)?;
            let errors = vec!["Choose how to reset: the same password for every learner, or a new password for each learner.".to_owned()];
            let page = form_page(&visitor, preview, "", errors);
            let response = render(StatusCode::UNPROCESSABLE_ENTITY, &page);
            return Ok(visitor.respond(&state, response));
        }
    };
    let err = match outcome {
        Ok(reset) => {
            let page = result_page(&visitor, reset)?;
            return Ok(visitor.respond(&state, render(StatusCode::OK, &page)));
        }
        Err(err) => err,
    };
    // The form again, with what went wrong; a refusal of the class itself is
    // an error page.
    let (status, retry_after, errors) = match &err {
        ClassResetError::PasswordPolicy { violations, policy } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            violations
                .iter()
                .map(|v| match v {
                    Violation::ContainsUsername => {
                        "It contains the username of a learner in this class.".to_owned()
                    }
                    other => other.message(policy),
                })
                .collect(),
        ),
        ClassResetError::ClassEmpty
        | ClassResetError::ResetInProgress
        | ClassResetError::Busy { .. } => {
            let app = AppError::from_coded(&err);
            (app.status, app.retry_after_secs, vec![err.to_string()])
        }
        ClassResetError::Denied(_) | ClassResetError::Internal(_) => return Err(page_error(err)),
    };
    let preview = state
        .kw
        .class_reset_preview(&state.ctx(&client), &actor, &class)
        .await
        .map_err(page_error)?;
    let page = form_page(&visitor, preview, &form.mode, errors);
    let mut response = render(status, &page);
    set_retry_after(&mut response, retry_after);
    Ok(visitor.respond(&state, response))
}

fn result_page(visitor: &Visitor, reset: ClassReset) -> Result<ResultPage, AppError> {
    let csv = reset.to_csv()?;
    Ok(ResultPage {
        nav: Nav::of(visitor),
        csv_href: format!("data:text/csv;charset=utf-8,{}", percent_encode(&csv)),
        csv_name: reset.csv_file_name(),
        same: reset.mode == ClassResetKind::Same,
        kept: reset.kept,
        rows: reset
            .learners
            .iter()
            .map(|l| ResultRow {
                name: display_name(&l.first_name, &l.last_name, l.username.as_str()),
                username: l.username.to_string(),
                password: l.password.expose().to_owned(),
            })
            .collect(),
        skipped: reset
            .skipped_pending
            .iter()
            .map(|s| display_name(&s.first_name, &s.last_name, "(no name)"))
            .collect(),
        class_name: reset.class_name,
    })
}

/// "First Last", or `fallback` when both are blank.
fn display_name(first: &str, last: &str, fallback: &str) -> String {
    let name = format!("{first} {last}");
    let name = name.trim();
    if name.is_empty() {
        fallback.to_owned()
    } else {
        name.to_owned()
    }
}

/// Everything but RFC 3986's unreserved characters is percent-encoded, as a
/// `data:` URL needs (`+` would stay a plus, not become a space).
const DATA_URL_ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn percent_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, DATA_URL_ESCAPED).to_string()
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("a b,+\"é\n"), "a%20b%2C%2B%22%C3%A9%0A");
        assert_eq!(percent_encode("Az09-._~"), "Az09-._~");
    }
}
