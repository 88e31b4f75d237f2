//! **Reset password** for a whole class (R-TCH-3), `/classes/{id}/password-reset`:
//! a form with the two choices of seed 002 (the same password for every
//! learner, or a new one each) that ends in a confirm box saying how many
//! learners get a new password, with **Reset**; then the result, listing
//! every learner with their new password, with **Download CSV** (the
//! passwords exist only in this answer, so the file is a `data:` link built
//! here) and, printed, one login card per learner.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::i18n::{self, Translate as _};
use serde::Deserialize;

use keyward_core::authz::Actor;
use keyward_core::classroom::class_reset::{
    ClassReset, ClassResetError, ClassResetKind, ClassResetMode, ClassResetPreview,
};
use keyward_core::policy::{Hint, Violation};
use keyward_core::types::{ClassId, Password};

use super::login_cards::{LoginCard, LoginCards};
use super::trail::{self, Crumbs};
use super::{Nav, Told, render, render_told};
use crate::error::AppError;
use crate::extract::{Client, PageForm, Visitor, path_id};
use crate::shared::download::data_url;
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "class_reset_form.html")]
struct FormPage {
    nav: Option<Nav>,
    trail: Crumbs,
    csrf_token: String,
    class_id: String,
    class_name: String,
    learners: usize,
    pending: usize,
    /// Learners who sign in only with single sign-on, left alone.
    sso: usize,
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
    trail: Crumbs,
    class_id: String,
    class_name: String,
    same: bool,
    kept: bool,
    rows: Vec<ResultRow>,
    /// Learners who have not set up their account: (name, where their
    /// access code is shown).
    skipped: Vec<(String, String)>,
    /// Learners who sign in only with single sign-on: (name, provider).
    skipped_sso: Vec<(String, String)>,
    csv_href: String,
    csv_name: String,
    login_cards: LoginCards,
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
    actor: &Actor,
    preview: ClassResetPreview,
    mode: &str,
    errors: Vec<String>,
) -> FormPage {
    let class_id = preview.class_id.to_string();
    FormPage {
        nav: Nav::of(visitor),
        trail: trail::class(actor, &class_id, &preview.class_name),
        csrf_token: visitor.csrf_token(),
        class_id,
        class_name: preview.class_name,
        learners: preview.learners,
        pending: preview.pending,
        sso: preview.sso,
        hints: preview.policy.hints(),
        mode: if mode == "same" { "same" } else { "individual" }.to_owned(),
        errors,
    }
}

pub async fn form(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Classes>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let class = class_id(path)?;
    let preview = state
        .kw
        .class_reset_preview(&state.ctx(&client), &actor, &class)
        .await
        .map_err(page_error)?;
    let page = form_page(&visitor, &actor, preview, "individual", Vec::new());
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

csrf_forms!(ResetForm);

impl ResetForm {
    /// The reset asked for (`None` when no choice was made), and the choice
    /// as sent, to show again. The form sends its password field with either
    /// choice: it counts only with `same`, and blank means "generate one".
    fn into_mode(self) -> (Option<ClassResetMode>, String) {
        let kind = ClassResetKind::parse(&self.mode).ok();
        let password = Some(Password::from(self.password))
            .filter(|p| kind == Some(ClassResetKind::Same) && !p.is_empty());
        let mode = kind.and_then(|kind| ClassResetMode::of(kind, password).ok());
        (mode, self.mode)
    }
}

pub async fn submit(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    me: SignedIn<return_to::Classes, PageForm<ResetForm>>,
) -> Result<Response, AppError> {
    let SignedIn {
        visitor,
        actor,
        form: PageForm(form),
        ..
    } = me;
    let class = class_id(path)?;
    let reset = Reset::new(&state, &client, &visitor, &actor, &class);
    let (Some(mode), typed_mode) = form.into_mode() else {
        return reset.form_again("", no_mode()).await;
    };
    match reset.run(mode).await {
        Ok(done) => reset.result(done),
        Err(err) => reset.form_again(&typed_mode, refusal(err)?).await,
    }
}

/// Neither choice was made.
fn no_mode() -> Told {
    Told::invalid(vec![i18n::text("teacher-class-reset-choose-mode")])
}

/// What went wrong, told on the form; a refusal of the class itself
/// (denied, internal) is an error page instead.
fn refusal(err: ClassResetError) -> Result<Told, AppError> {
    match &err {
        ClassResetError::PasswordPolicy { violations, policy } => Ok(Told::invalid(
            violations
                .iter()
                .map(|v| match v {
                    Violation::ContainsUsername => {
                        i18n::text("teacher-class-reset-contains-username")
                    }
                    other => other.message(policy),
                })
                .collect(),
        )),
        ClassResetError::ClassEmpty
        | ClassResetError::ResetInProgress
        | ClassResetError::Busy { .. } => Ok(Told::refused(&err)),
        ClassResetError::Denied(_) | ClassResetError::Internal(_) => Err(page_error(err)),
    }
}

/// One class's reset by one actor, from the form's submit to its answer.
struct Reset<'a> {
    state: &'a AppState,
    client: &'a Client,
    visitor: &'a Visitor,
    actor: &'a Actor,
    class: &'a ClassId,
}

impl<'a> Reset<'a> {
    fn new(
        state: &'a AppState,
        client: &'a Client,
        visitor: &'a Visitor,
        actor: &'a Actor,
        class: &'a ClassId,
    ) -> Self {
        Reset {
            state,
            client,
            visitor,
            actor,
            class,
        }
    }

    /// Resets the class's passwords (the core's use case).
    async fn run(&self, mode: ClassResetMode) -> Result<ClassReset, ClassResetError> {
        let ctx = self.state.ctx(self.client);
        self.state
            .kw
            .reset_class_passwords(&ctx, self.actor, self.class, mode)
            .await
    }

    /// Every learner with their new password.
    fn result(&self, reset: ClassReset) -> Result<Response, AppError> {
        let page = result_page(self.state, self.visitor, self.actor, reset)?;
        Ok(self
            .visitor
            .respond(self.state, render(StatusCode::OK, &page)))
    }

    /// The form again, with the choice as sent and what went wrong.
    async fn form_again(&self, mode: &str, told: Told) -> Result<Response, AppError> {
        let preview = self
            .state
            .kw
            .class_reset_preview(&self.state.ctx(self.client), self.actor, self.class)
            .await
            .map_err(page_error)?;
        let page = form_page(self.visitor, self.actor, preview, mode, told.errors);
        let response = render_told(told.status, told.retry_after, &page);
        Ok(self.visitor.respond(self.state, response))
    }
}

fn result_page(
    state: &AppState,
    visitor: &Visitor,
    actor: &Actor,
    reset: ClassReset,
) -> Result<ResultPage, AppError> {
    let csv = reset.to_csv()?;
    let class_id = reset.class_id.to_string();
    let rows: Vec<ResultRow> = reset
        .learners
        .iter()
        .map(|l| ResultRow {
            name: display_name(&l.first_name, &l.last_name, l.username.as_str()),
            username: l.username.to_string(),
            password: l.password.expose().to_owned(),
        })
        .collect();
    let cards = rows
        .iter()
        .map(|r| LoginCard::with_password(&reset.class_name, &r.name, &r.username, &r.password))
        .collect();
    Ok(ResultPage {
        nav: Nav::of(visitor),
        trail: trail::class(actor, &class_id, &reset.class_name),
        csv_href: data_url("text/csv;charset=utf-8", &csv),
        csv_name: reset.csv_file_name(),
        same: reset.mode == ClassResetKind::Same,
        kept: reset.kept,
        login_cards: LoginCards::new(state, &reset.school_name, cards),
        rows,
        skipped: skipped_pending(&reset, &class_id),
        skipped_sso: reset
            .skipped_sso
            .iter()
            .map(|s| {
                (
                    display_name(&s.first_name, &s.last_name, &i18n::text("teacher-no-name")),
                    s.sso
                        .as_ref()
                        .map(|sso| sso.provider_name.clone())
                        .unwrap_or_default(),
                )
            })
            .collect(),
        class_id,
        class_name: reset.class_name,
    })
}

/// The learners left alone because they have no password yet, each with
/// the link to their access code on the class's **Show access codes**.
fn skipped_pending(reset: &ClassReset, class_id: &str) -> Vec<(String, String)> {
    reset
        .skipped_pending
        .iter()
        .map(|s| {
            (
                display_name(&s.first_name, &s.last_name, &i18n::text("teacher-no-name")),
                format!("/classes/{class_id}/accounts/codes#learner-{}", s.user_id),
            )
        })
        .collect()
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
