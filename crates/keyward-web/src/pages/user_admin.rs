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
use keyward_core::i18n::{self, Message, Translate as _};
use serde::Deserialize;

use keyward_core::accounts::{Account, AccountStatus};
use keyward_core::admin::{AdminResetError, ENABLE_MFA_AT, Offer, ResetTarget};
use keyward_core::authz::{Action, Actor, Permission};
use keyward_core::error::CodedError;
use keyward_core::types::UserId;

use super::trail::{self, Crumbs};
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

    /// The message id of the task's name, its pages' title.
    fn title(self) -> &'static str {
        match self {
            Task::ResetLink => "admin-action-reset-password",
            Task::Temporary => "admin-action-temporary",
            Task::Mfa => "admin-action-reset-mfa",
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

    /// The question the confirm page asks, with what will happen, said
    /// plainly, one thing a line.
    fn question(self, target: &ResetTarget) -> (String, Vec<String>) {
        let name = target.account.display_name();
        let named = |id| Message::new(id).with("name", &name).to_string();
        match self {
            Task::ResetLink => {
                let email = (target.email_masked.clone())
                    .unwrap_or_else(|| i18n::text("admin-reset-link-their-email"));
                let question = Message::new("admin-reset-link-question")
                    .with("email", email)
                    .with("ttl", i18n::duration_words(target.link_ttl));
                let consequences = vec![
                    named("admin-reset-link-gets-email"),
                    i18n::text("admin-reset-link-nothing-changes"),
                ];
                (question.to_string(), consequences)
            }
            Task::Temporary => (
                named("admin-temporary-question"),
                vec![
                    named("admin-temporary-stops"),
                    Message::new("admin-temporary-works-for")
                        .with("ttl", i18n::duration_words(target.temporary_password_ttl))
                        .to_string(),
                    i18n::text("admin-temporary-seen-once"),
                ],
            ),
            Task::Mfa => (
                named("admin-mfa-question"),
                vec![
                    i18n::text("admin-mfa-stops"),
                    named("admin-mfa-signed-out"),
                    i18n::text("admin-mfa-password-alone"),
                ],
            ),
        }
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
    /// `has_mfa`: the person has a second factor to remove.
    pub(super) fn of(actor: &Actor, account: &Account, has_mfa: bool) -> Actions {
        let permissions = actor.permissions();
        let someone_else = actor.user_id != account.id;
        let may = |p: Permission| {
            someone_else && permissions.contains(Permission::UsersView) && permissions.contains(p)
        };
        Actions {
            reset_password: may(Permission::UsersResetPassword)
                && account.status == AccountStatus::Active,
            reset_mfa: may(Permission::UsersResetMfa) && has_mfa,
        }
    }
}

/// A confirm step before an action on a person (a GET page; its form
/// posts to `/users/{id}/{action}`): the question, what will happen, and
/// the button, or Cancel back to the person.
#[derive(Template)]
#[template(path = "user_admin_confirm.html")]
pub(super) struct ConfirmPage {
    pub(super) nav: Option<Nav>,
    pub(super) crumbs: Crumbs,
    pub(super) csrf_token: String,
    pub(super) id: String,
    pub(super) name: String,
    /// The message id of the action's name (title and button).
    pub(super) title: &'static str,
    pub(super) question: String,
    pub(super) consequences: Vec<String>,
    pub(super) action: &'static str,
}

#[derive(Template)]
#[template(path = "user_admin_done.html")]
struct DonePage {
    nav: Option<Nav>,
    crumbs: Crumbs,
    id: String,
    name: String,
    title: &'static str,
    message: String,
    password: Option<String>,
}

#[derive(Template)]
#[template(path = "user_admin_refused.html")]
struct RefusedPage {
    nav: Option<Nav>,
    crumbs: Crumbs,
    id: String,
    name: String,
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

/// The person an action is about, as the pages around it name them.
pub(super) struct About {
    pub(super) id: UserId,
    pub(super) name: String,
    /// Home › Users › the person (only crumbs the viewer may open).
    pub(super) crumbs: Crumbs,
}

impl About {
    pub(super) async fn of(state: &AppState, actor: &Actor, id: UserId) -> Result<About, AppError> {
        let about = match state.kw.person_name(actor, &id).await? {
            Some(name) => About {
                crumbs: trail::to_person(actor, id.as_str(), &name),
                name,
                id,
            },
            None => About {
                crumbs: trail::to_people(actor),
                name: i18n::text("admin-this-person"),
                id,
            },
        };
        Ok(about)
    }
}

/// The page of a refusal: one the administrator can act on is explained
/// with what to do instead; a denial or a failure is the error page.
async fn refused(
    state: &AppState,
    visitor: &Visitor,
    actor: &Actor,
    id: UserId,
    task: Task,
    err: AdminResetError,
) -> Result<Response, AppError> {
    if matches!(
        err,
        AdminResetError::Denied(_) | AdminResetError::Internal(_) | AdminResetError::Busy { .. }
    ) {
        return Err(AppError::from_coded(&err));
    }
    let about = About::of(state, actor, id).await?;
    let page = RefusedPage::new(visitor, about, task, &err);
    Ok(visitor.respond(state, render(status_of(err.kind()), &page)))
}

impl RefusedPage {
    fn new(visitor: &Visitor, about: About, task: Task, err: &AdminResetError) -> RefusedPage {
        RefusedPage {
            nav: Nav::of(visitor),
            crumbs: about.crumbs,
            id: about.id.to_string(),
            name: about.name,
            title: task.title(),
            message: err.to_string(),
            enable_mfa_at: matches!(err, AdminResetError::MfaRequired).then_some(ENABLE_MFA_AT),
            offer: match err {
                AdminResetError::NeverSignedIn(offer) => Some(*offer),
                AdminResetError::NoEmail | AdminResetError::SignsInWithSso(_) => {
                    Some(Offer::TemporaryPassword)
                }
                _ => None,
            },
            sso_provider: match err {
                AdminResetError::SignsInWithSso(sso) => Some(sso.provider_name.clone()),
                _ => None,
            },
        }
    }
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
    let blocked = match found {
        Ok(target) => match task.blocked(&target) {
            None => {
                let page = ConfirmPage::new(&visitor, &actor, &target, task);
                return Ok(visitor.respond(state, render(StatusCode::OK, &page)));
            }
            Some(err) => err,
        },
        Err(err) => err,
    };
    refused(state, &visitor, &actor, id, task, blocked).await
}

impl ConfirmPage {
    fn new(visitor: &Visitor, actor: &Actor, target: &ResetTarget, task: Task) -> ConfirmPage {
        let (id, name) = (target.account.id.to_string(), target.account.display_name());
        let (question, consequences) = task.question(target);
        ConfirmPage {
            nav: Nav::of(visitor),
            crumbs: trail::to_person(actor, &id, &name),
            csrf_token: visitor.csrf_token(),
            id,
            name,
            title: task.title(),
            question,
            consequences,
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

/// What an action did: its page, or the refusal's.
async fn answer(
    state: &AppState,
    (visitor, actor): (&Visitor, &Actor),
    id: UserId,
    task: Task,
    outcome: Result<(String, Option<String>), AdminResetError>,
) -> Result<Response, AppError> {
    let (message, password) = match outcome {
        Ok(done) => done,
        Err(err) => return refused(state, visitor, actor, id, task, err).await,
    };
    let about = About::of(state, actor, id).await?;
    let page = DonePage {
        nav: Nav::of(visitor),
        crumbs: about.crumbs,
        id: about.id.to_string(),
        name: about.name,
        title: task.title(),
        message,
        password,
    };
    Ok(visitor.respond(state, render(StatusCode::OK, &page)))
}

pub async fn send_reset_link(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Users, PageForm<ConfirmForm>>,
) -> Result<Response, AppError> {
    let id = path_id(path, UserId::parse)?;
    let ctx = state.ctx(&client);
    let outcome = state.kw.send_password_reset(&ctx, &actor, &id).await;
    let outcome = outcome.map(|sent| {
        let message = Message::new("admin-reset-link-sent")
            .with("email", &sent.sent_to)
            .with("ttl", i18n::duration_words(sent.expires_in));
        (message.to_string(), None)
    });
    answer(&state, (&visitor, &actor), id, Task::ResetLink, outcome).await
}

pub async fn set_temporary_password(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Users, PageForm<ConfirmForm>>,
) -> Result<Response, AppError> {
    let id = path_id(path, UserId::parse)?;
    let ctx = state.ctx(&client);
    let outcome = state.kw.set_temporary_password(&ctx, &actor, &id).await;
    let outcome = outcome.map(|temporary| {
        let ttl = temporary.expires_at.secs() - ctx.now.secs();
        let ttl = Duration::from_secs(u64::try_from(ttl).unwrap_or(0));
        let message = Message::new("admin-temporary-done").with("ttl", i18n::duration_words(ttl));
        (
            message.to_string(),
            Some(temporary.password.expose().to_owned()),
        )
    });
    answer(&state, (&visitor, &actor), id, Task::Temporary, outcome).await
}

pub async fn reset_mfa(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Users, PageForm<ConfirmForm>>,
) -> Result<Response, AppError> {
    let id = path_id(path, UserId::parse)?;
    let outcome = state.kw.reset_mfa(&state.ctx(&client), &actor, &id).await;
    let outcome = outcome.map(|_| (i18n::text("admin-mfa-done"), None));
    answer(&state, (&visitor, &actor), id, Task::Mfa, outcome).await
}
