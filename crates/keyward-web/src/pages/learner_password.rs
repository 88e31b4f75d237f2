//! Seed 002's **Reset password** on one learner, from the class database or
//! the student database: show the existing password when a copy is kept,
//! **Generate new password** then **Reset**, or set a chosen password. After
//! a reset (or **Show password**) the learner's login card prints. The
//! breadcrumbs lead back to a page the person may open: the student
//! database, the class database, or for a platform admin the learner under
//! **Users**.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::i18n::{self, Translate as _};
use serde::Deserialize;

use keyward_core::authz::Actor;
use keyward_core::classroom::passwords::{
    IssuedPassword, LearnerPasswordError, LearnerPasswordView, NewPasswordChoice, PasswordState,
};
use keyward_core::policy::Hint;
use keyward_core::types::UserId;

use super::credentials::state_messages;
use super::login_cards::{LoginCard, LoginCards};
use super::trail::{self, Crumbs};
use super::{Nav, render, words};
use crate::error::{AppError, coded, set_retry_after};
use crate::extract::{Client, PageForm, Visitor, path_id};
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

/// A new password that was just set, to tell the learner.
struct Done {
    password: String,
    kept: bool,
}

#[derive(Template)]
#[template(path = "learner_password.html")]
struct LearnerPasswordPage {
    nav: Option<Nav>,
    csrf_token: String,
    learner_id: String,
    name: String,
    first_name: String,
    username: String,
    state: &'static str,
    /// The message id of what the password's state means for staff.
    explanation: &'static str,
    /// The provider of a learner who signs in only with it: no password
    /// buttons, only "Signs in with <provider>".
    signs_in_with: Option<String>,
    trail: Crumbs,
    back: (String, String),
    hints: Vec<Hint>,
    /// The existing password, after **Show password**.
    shown: Option<String>,
    /// A generated password waiting for **Reset**, with its proof.
    proposal: Option<(String, String)>,
    done: Option<Done>,
    errors: Vec<String>,
    /// The chosen-password field caused the errors.
    chosen_invalid: bool,
    /// The learner's card, once there is a password to print on it.
    login_cards: LoginCards,
}

impl LearnerPasswordPage {
    fn new(state: &AppState, visitor: &Visitor, actor: &Actor, view: LearnerPasswordView) -> Self {
        let learner = view.learner;
        let learner_id = learner.id.to_string();
        let trail = trail::learner(actor, &learner_id, &learner.display_name());
        let first_name = if learner.first_name.is_empty() {
            learner.display_name()
        } else {
            learner.first_name.clone()
        };
        LearnerPasswordPage {
            nav: Nav::of(visitor),
            csrf_token: visitor.csrf_token(),
            learner_id,
            name: learner.display_name(),
            first_name,
            username: learner.username.to_string(),
            state: view.state.as_str(),
            explanation: state_messages(view.state).1,
            signs_in_with: view.sso.map(|sso| sso.provider_name),
            back: trail::back(&trail),
            trail,
            login_cards: LoginCards::new(state, &view.school_name, Vec::new()),
            hints: view.policy.hints(),
            shown: None,
            proposal: None,
            done: None,
            errors: Vec::new(),
            chosen_invalid: false,
        }
    }
}

fn learner_id(path: Result<Path<String>, PathRejection>) -> Result<UserId, AppError> {
    path_id(path, UserId::parse)
}

/// The learner of the address and their page, as the actor may see it.
async fn load(
    state: &AppState,
    client: &Client,
    visitor: &Visitor,
    actor: &Actor,
    path: Result<Path<String>, PathRejection>,
) -> Result<(UserId, LearnerPasswordPage), AppError> {
    let learner = learner_id(path)?;
    let view = state
        .kw
        .learner_password_view(&state.ctx(client), actor, &learner)
        .await
        .map_err(coded)?;
    Ok((
        learner,
        LearnerPasswordPage::new(state, visitor, actor, view),
    ))
}

pub async fn show(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Classes>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let (_, page) = load(&state, &client, &visitor, &actor, path).await?;
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

/// The two buttons that only add to the page: **Show password** and
/// **Generate new password**.
enum Step {
    /// The kept copy, audited.
    Show,
    /// A proposal, applied only by **Reset**.
    Generate,
}

/// A form post on a learner's page: only its CSRF token, or **Reset**'s.
type Posted<F> = SignedIn<return_to::Classes, PageForm<F>>;

/// **Show password**: the kept copy, audited.
pub async fn reveal(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    me: Posted<CsrfOnly>,
) -> Result<Response, AppError> {
    step(&state, &client, path, me, Step::Show).await
}

/// **Generate new password**: a proposal, applied only by **Reset**.
pub async fn generate(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    me: Posted<CsrfOnly>,
) -> Result<Response, AppError> {
    step(&state, &client, path, me, Step::Generate).await
}

async fn step(
    state: &AppState,
    client: &Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn { visitor, actor, .. }: Posted<CsrfOnly>,
    step: Step,
) -> Result<Response, AppError> {
    let (learner, mut page) = load(state, client, &visitor, &actor, path).await?;
    let ctx = state.ctx(client);
    let done = match step {
        Step::Show => state
            .kw
            .reveal_learner_password(&ctx, &actor, &learner)
            .await
            .map(|shown| page.set_shown(shown.password.expose())),
        Step::Generate => state
            .kw
            .propose_learner_password(&ctx, &actor, &learner)
            .await
            .map(|proposed| {
                page.proposal = Some((proposed.password.expose().to_owned(), proposed.proof));
            }),
    };
    match done {
        Ok(()) => Ok(visitor.respond(state, render(StatusCode::OK, &page))),
        Err(err) => Ok(error_page(state, &visitor, page, err, false)),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    password: String,
    /// `generated` (the proposal, unchanged) or `chosen` (typed by staff).
    #[serde(default)]
    origin: String,
    /// The proposal's proof, with `generated`.
    #[serde(default)]
    proof: String,
}

csrf_forms!(CsrfOnly, ResetForm);

impl ResetForm {
    /// Whether the password was typed by staff (anything but `generated`).
    fn chosen(&self) -> bool {
        self.origin != "generated"
    }

    fn choice(self) -> NewPasswordChoice {
        if self.chosen() {
            NewPasswordChoice::Chosen(self.password.into())
        } else {
            NewPasswordChoice::Proposed {
                password: self.password.into(),
                proof: self.proof,
            }
        }
    }
}

/// **Reset**: sets the generated or chosen password.
pub async fn reset(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn {
        visitor,
        actor,
        form: PageForm(form),
        ..
    }: Posted<ResetForm>,
) -> Result<Response, AppError> {
    let (learner, mut page) = load(&state, &client, &visitor, &actor, path).await?;
    let chosen = form.chosen();
    if form.password.is_empty() {
        page.errors
            .push(i18n::text("teacher-learner-password-missing"));
        page.chosen_invalid = chosen;
        return Ok(visitor.respond(&state, render(StatusCode::UNPROCESSABLE_ENTITY, &page)));
    }
    let ctx = state.ctx(&client);
    let outcome = state
        .kw
        .reset_learner_password(&ctx, &actor, &learner, form.choice())
        .await;
    Ok(after_reset(&state, &visitor, page, outcome, chosen))
}

/// The page after **Reset**: the new password, or what went wrong.
fn after_reset(
    state: &AppState,
    visitor: &Visitor,
    mut page: LearnerPasswordPage,
    outcome: Result<IssuedPassword, LearnerPasswordError>,
    chosen: bool,
) -> Response {
    match outcome {
        Ok(issued) => {
            page.set_done(&issued);
            visitor.respond(state, render(StatusCode::OK, &page))
        }
        Err(err) => error_page(state, visitor, page, err, chosen),
    }
}

impl LearnerPasswordPage {
    /// The page after **Show password**: the kept copy, and its card.
    fn set_shown(&mut self, password: &str) {
        self.shown = Some(password.to_owned());
        self.print_card(password);
    }

    /// The learner's login card with `password`, printed instead of the page.
    fn print_card(&mut self, password: &str) {
        let card = LoginCard::with_password("", &self.name, &self.username, password);
        self.login_cards.cards = vec![card];
    }

    /// The page after **Reset**: the new password, to tell the learner.
    fn set_done(&mut self, issued: &IssuedPassword) {
        self.done = Some(Done {
            password: issued.password.expose().to_owned(),
            kept: issued.kept,
        });
        self.print_card(issued.password.expose());
        self.state = if issued.kept {
            PasswordState::Retrievable.as_str()
        } else {
            PasswordState::NotKept.as_str()
        };
    }
}

/// The page again with the error told in words (policy rules one by one).
fn error_page(
    state: &AppState,
    visitor: &Visitor,
    mut page: LearnerPasswordPage,
    err: LearnerPasswordError,
    chosen: bool,
) -> Response {
    let app = AppError::from_coded(&err);
    match &err {
        LearnerPasswordError::PasswordPolicy { violations, policy } => {
            page.errors = violations.iter().map(|v| v.message(policy)).collect();
            page.chosen_invalid = chosen;
        }
        other => page.errors.push(words(other)),
    }
    let mut response = render(app.status, &page);
    set_retry_after(&mut response, app.retry_after_secs);
    visitor.respond(state, response)
}
