//! One person's administrator actions (seed 001's Utilities > Security >
//! Users > the user): **Reset Password** (a reset link by email, R-ADM-2),
//! **Set a temporary password** (R-ADM-3) and **Reset two-step
//! verification** (R-ADM-4). Each is a confirm page (GET) and a form post
//! that does it and shows the outcome, so all of it works without
//! JavaScript. A refusal the administrator can act on (`mfa_required`,
//! `never_signed_in`, `signs_in_with_sso`, …) is a page saying what to do
//! instead.

use std::time::Duration;

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::accounts::{Account, AccountStatus};
use keyward_core::admin::{AdminResetError, ENABLE_MFA_AT, Offer, ResetTarget};
use keyward_core::authz::{Action, Actor, Permission};
use keyward_core::error::CodedError;
use keyward_core::types::UserId;

use super::{Nav, render};
use crate::error::{AppError, status_of};
use crate::extract::{Client, PageForm, Visitor, path_id};
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

/// Which of the three actions a page is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Task {
    ResetLink,
    Temporary,
    Mfa,
}

impl Task {
    fn action(self) -> Action {
        match self {
            Task::ResetLink | Task::Temporary => Action::ResetPassword,
            Task::Mfa => Action::ResetMfa,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Task::ResetLink => "password-reset",
            Task::Temporary => "temporary-password",
            Task::Mfa => "mfa-reset",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Task::ResetLink => "Reset Password",
            Task::Temporary => "Set a temporary password",
            Task::Mfa => "Reset two-step verification",
        }
    }

    /// Why the task cannot be done to the person now (decided again when
    /// it is done, under the account's row lock).
    fn blocked(self, target: &ResetTarget) -> Option<AdminResetError> {
        match self {
            Task::ResetLink => target.link_blocked(),
            Task::Temporary => target.temporary_blocked(),
            Task::Mfa => None,
        }
    }

    fn question(self, target: &ResetTarget) -> String {
        let name = target.account.display_name();
        match self {
            Task::ResetLink => format!(
                "Send a password reset link to {}? It works for {}.",
                target
                    .email_masked
                    .as_deref()
                    .unwrap_or("their email address"),
                words(target.link_ttl)
            ),
            Task::Temporary => format!(
                "Give {name} a new temporary password? Their current password stops working and they are signed out everywhere. The new one works for {}, and they must choose their own right after signing in with it.",
                words(target.temporary_password_ttl)
            ),
            Task::Mfa => format!(
                "Remove {name}'s two-step verification? Their authenticator app, recovery codes and passkeys stop working, they are signed out everywhere, and they will sign in with their password alone until they turn it on again. We'll email them about it."
            ),
        }
    }
}

/// "1 hour", "24 hours", "30 minutes".
fn words(duration: Duration) -> String {
    let minutes = duration.as_secs() / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} minutes"),
        (1, 0) => "1 hour".into(),
        (h, 0) => format!("{h} hours"),
        (h, m) => format!("{h} hours {m} minutes"),
    }
}

/// The actions block of a person's page (`users_show.html` includes
/// `user_admin_actions.html`): which buttons the viewer's permissions offer.
/// The use cases decide again; this only hides what cannot work.
pub(super) struct Actions {
    pub(super) reset_password: bool,
    pub(super) reset_mfa: bool,
}

impl Actions {
    pub(super) fn of(actor: &Actor, account: &Account) -> Actions {
        let permissions = actor.permissions();
        let someone_else = actor.user_id != account.id;
        let may = |p: Permission| {
            someone_else && permissions.contains(Permission::UsersView) && permissions.contains(p)
        };
        Actions {
            reset_password: may(Permission::UsersResetPassword)
                && account.status == AccountStatus::Active,
            reset_mfa: may(Permission::UsersResetMfa),
        }
    }
}

#[derive(Template)]
#[template(path = "user_admin_confirm.html")]
struct ConfirmPage {
    nav: Option<Nav>,
    csrf_token: String,
    id: String,
    name: String,
    title: &'static str,
    question: String,
    action: &'static str,
}

#[derive(Template)]
#[template(path = "user_admin_done.html")]
struct DonePage {
    nav: Option<Nav>,
    id: String,
    title: &'static str,
    message: String,
    password: Option<String>,
}

#[derive(Template)]
#[template(path = "user_admin_refused.html")]
struct RefusedPage {
    nav: Option<Nav>,
    csrf_token: String,
    id: String,
    title: &'static str,
    message: String,
    enable_mfa_at: Option<&'static str>,
    /// What to offer instead: a new access code, or a temporary password.
    offer: Option<Offer>,
    /// The provider of a person who signs in only with it: offer to unlink
    /// it (on their page) or a temporary password.
    sso_provider: Option<String>,
}

impl RefusedPage {
    fn offers_access_code(&self) -> bool {
        self.offer == Some(Offer::AccessCode)
    }
}

/// The page of a refusal: one the administrator can act on is explained
/// with what to do instead; a denial or a failure is the error page.
fn refused(
    state: &AppState,
    visitor: &Visitor,
    id: &UserId,
    task: Task,
    err: AdminResetError,
) -> Result<Response, AppError> {
    match &err {
        AdminResetError::Denied(_)
        | AdminResetError::Internal(_)
        | AdminResetError::Busy { .. } => {
            return Err(AppError::from_coded(&err));
        }
        _ => {}
    }
    let page = RefusedPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        id: id.to_string(),
        title: task.title(),
        message: err.to_string(),
        enable_mfa_at: matches!(err, AdminResetError::MfaRequired).then_some(ENABLE_MFA_AT),
        offer: match err {
            AdminResetError::NeverSignedIn(offer) => Some(offer),
            AdminResetError::NoEmail | AdminResetError::SignsInWithSso(_) => {
                Some(Offer::TemporaryPassword)
            }
            _ => None,
        },
        sso_provider: match &err {
            AdminResetError::SignsInWithSso(sso) => Some(sso.provider_name.clone()),
            _ => None,
        },
    };
    Ok(visitor.respond(state, render(status_of(err.kind()), &page)))
}

async fn confirm(
    state: &AppState,
    client: &Client,
    signed_in: SignedIn<return_to::Users>,
    path: Result<Path<String>, PathRejection>,
    task: Task,
) -> Result<Response, AppError> {
    let SignedIn { visitor, actor, .. } = signed_in;
    let id = path_id(path, UserId::parse)?;
    let ctx = state.ctx(client);
    let found = state
        .kw
        .reset_target(&ctx, &actor, &id, task.action())
        .await;
    let target = match found {
        Ok(target) => target,
        Err(err) => return refused(state, &visitor, &id, task, err),
    };
    if let Some(err) = task.blocked(&target) {
        return refused(state, &visitor, &id, task, err);
    }
    let page = ConfirmPage::new(&visitor, &target, task);
    Ok(visitor.respond(state, render(StatusCode::OK, &page)))
}

impl ConfirmPage {
    fn new(visitor: &Visitor, target: &ResetTarget, task: Task) -> ConfirmPage {
        ConfirmPage {
            nav: Nav::of(visitor),
            csrf_token: visitor.csrf_token(),
            id: target.account.id.to_string(),
            name: target.account.display_name(),
            title: task.title(),
            question: task.question(target),
            action: task.path(),
        }
    }
}

pub async fn confirm_reset_link(
    State(state): State<AppState>,
    client: Client,
    signed_in: SignedIn<return_to::Users>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    confirm(&state, &client, signed_in, path, Task::ResetLink).await
}

pub async fn confirm_temporary_password(
    State(state): State<AppState>,
    client: Client,
    signed_in: SignedIn<return_to::Users>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    confirm(&state, &client, signed_in, path, Task::Temporary).await
}

pub async fn confirm_mfa_reset(
    State(state): State<AppState>,
    client: Client,
    signed_in: SignedIn<return_to::Users>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    confirm(&state, &client, signed_in, path, Task::Mfa).await
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf_token: String,
}

csrf_forms!(ConfirmForm);

fn done(
    state: &AppState,
    visitor: &Visitor,
    id: &UserId,
    task: Task,
    message: String,
    password: Option<String>,
) -> Response {
    let page = DonePage {
        nav: Nav::of(visitor),
        id: id.to_string(),
        title: task.title(),
        message,
        password,
    };
    visitor.respond(state, render(StatusCode::OK, &page))
}

pub async fn send_reset_link(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Users, PageForm<ConfirmForm>>,
) -> Result<Response, AppError> {
    let (id, task) = (path_id(path, UserId::parse)?, Task::ResetLink);
    let ctx = state.ctx(&client);
    match state.kw.send_password_reset(&ctx, &actor, &id).await {
        Ok(sent) => {
            let message = format!(
                "A password reset link is on its way to {}. It works for {}.",
                sent.sent_to,
                words(sent.expires_in)
            );
            Ok(done(&state, &visitor, &id, task, message, None))
        }
        Err(err) => refused(&state, &visitor, &id, task, err),
    }
}

pub async fn set_temporary_password(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Users, PageForm<ConfirmForm>>,
) -> Result<Response, AppError> {
    let (id, task) = (path_id(path, UserId::parse)?, Task::Temporary);
    let ctx = state.ctx(&client);
    match state.kw.set_temporary_password(&ctx, &actor, &id).await {
        Ok(temporary) => {
            let ttl = temporary.expires_at.secs() - ctx.now.secs();
            let message = format!(
                "Their temporary password works for {}. Give it to them in person or by phone; it is shown only now. After signing in with it they must choose their own.",
                words(Duration::from_secs(u64::try_from(ttl).unwrap_or(0)))
            );
            let password = Some(temporary.password.expose().to_owned());
            Ok(done(&state, &visitor, &id, task, message, password))
        }
        Err(err) => refused(&state, &visitor, &id, task, err),
    }
}

pub async fn reset_mfa(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Users, PageForm<ConfirmForm>>,
) -> Result<Response, AppError> {
    let (id, task) = (path_id(path, UserId::parse)?, Task::Mfa);
    match state.kw.reset_mfa(&state.ctx(&client), &actor, &id).await {
        Ok(_) => {
            let message = "Two-step verification was removed. They were signed out everywhere and we emailed them; they now sign in with their password alone.".to_owned();
            Ok(done(&state, &visitor, &id, task, message, None))
        }
        Err(err) => refused(&state, &visitor, &id, task, err),
    }
}
