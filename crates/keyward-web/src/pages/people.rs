//! **Add a person** (R-CODE-1: a pending account with its access code), and
//! one person's page (R-ADM-1): roles, classes, status, last sign-in,
//! two-step verification, **Show access codes**, and an Actions section
//! (the list itself is `users_list`; disabling and enabling, `user_status`).

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::i18n::{self, Message, Translate as _};
use serde::Deserialize;

use keyward_core::accounts::{Account, AccountStatus};
use keyward_core::admin::{CreateUserError, Learner, NAME_TOO_LONG, NewPendingUser, UserDetails};
use keyward_core::authz::{Action, Actor, Permission, Target, authorize};
use keyward_core::schools::{Class, School};
use keyward_core::types::Role;
use keyward_core::types::{ClassId, SchoolId, UnixTime, UserId};

use super::trail::{self, Crumbs};
use super::user_admin::{About, ConfirmPage};
use super::{Nav, render};
use crate::error::{AppError, coded};
use crate::extract::{Client, PageForm, RepeatedForm, Visitor, path_id};
use crate::shared::query::query_param;
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

pub(super) struct Row {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) username: String,
    /// The message id of the account's status ([`status_label`]).
    pub(super) status: &'static str,
    /// The provider of a learner who signs in only with it: "Signs in with
    /// <provider>" instead of the password buttons.
    pub(super) signs_in_with: Option<String>,
}

impl Row {
    pub(super) fn of(account: &Account) -> Row {
        Row {
            id: account.id.to_string(),
            // Never empty: a row's link must always have a name.
            name: account.display_name(),
            username: shown_username(account),
            status: status_label(account.status),
            signs_in_with: None,
        }
    }

    /// A learner of the class or student database.
    pub(super) fn learner(learner: &Learner) -> Row {
        Row {
            signs_in_with: learner
                .sso
                .as_ref()
                .filter(|_| learner.sso_only)
                .map(|sso| sso.provider_name.clone()),
            ..Row::of(&learner.account)
        }
    }
}

pub(super) fn shown_username(account: &Account) -> String {
    if account.status == AccountStatus::Pending {
        i18n::text("admin-username-not-chosen")
    } else {
        account.username.to_string()
    }
}

/// The message id of an account's status ("Active"): templates say it
/// with `t(status)`.
pub(super) fn status_label(status: AccountStatus) -> &'static str {
    match status {
        AccountStatus::Pending => "admin-status-pending",
        AccountStatus::Active => "admin-status-active",
        AccountStatus::Disabled => "admin-status-disabled",
    }
}

/// The message id of a role's name ("Lead teacher"): the menu's.
pub(super) use super::role_message as role_name;

/// The message id of a role's name for many people ("Lead teachers").
pub(super) fn roles_name(role: Role) -> &'static str {
    match role {
        Role::PlatformAdmin => "admin-roles-platform-admin",
        Role::LeadTeacher => "admin-roles-lead-teacher",
        Role::Teacher => "admin-roles-teacher",
        Role::Learner => "admin-roles-learner",
        Role::Parent => "admin-roles-parent",
    }
}

#[derive(Template)]
#[template(path = "users_new.html")]
struct NewPage {
    nav: Option<Nav>,
    /// Home › Users (for those who may list them).
    crumbs: Crumbs,
    csrf_token: String,
    /// (value, message id of its name).
    roles: Vec<(&'static str, &'static str)>,
    schools: Vec<School>,
    classes: Vec<Class>,
    /// A refusal about no one field, above the form.
    errors: Vec<String>,
    /// A refusal about one field, under it: (field, why).
    refused: Option<(&'static str, String)>,
    /// What was typed, shown again after a problem.
    typed: Typed,
}

impl NewPage {
    /// Why `field` was refused, for the line under it.
    fn error_for(&self, field: &str) -> Option<&str> {
        self.refused
            .as_ref()
            .filter(|(refused, _)| *refused == field)
            .map(|(_, why)| why.as_str())
    }

    /// A refusal, under its field when it names one the form shows.
    fn refuse(mut self, err: &CreateUserError) -> NewPage {
        let message = err.to_string();
        let field = match err.field() {
            Some("class_ids") if self.classes.is_empty() => None,
            Some(field) => Some(field),
            None if message == NAME_TOO_LONG => Some(self.typed.too_long_name()),
            None => None,
        };
        match field {
            Some(field) => self.refused = Some((field, message)),
            None => self.errors.push(message),
        }
        self
    }
}

/// The values of the Add a person form, kept across a refused submit.
#[derive(Default)]
struct Typed {
    first_name: String,
    last_name: String,
    role: String,
    school_id: String,
    class_ids: Vec<String>,
    email: String,
}

impl Typed {
    /// The name field the "at most 80 characters" refusal is about.
    fn too_long_name(&self) -> &'static str {
        let bad =
            |name: &str| name.trim().chars().count() > 80 || name.chars().any(char::is_control);
        if bad(&self.first_name) {
            "first_name"
        } else {
            "last_name"
        }
    }

    fn has_class(&self, class: &ClassId) -> bool {
        self.class_ids.iter().any(|id| id == class.as_str())
    }
}

#[derive(Template)]
#[template(path = "users_show.html")]
struct ShowPage {
    nav: Option<Nav>,
    /// Home › Users, or Home › Class database for a teacher.
    crumbs: Crumbs,
    id: String,
    csrf_token: String,
    may_reissue: bool,
    may_reset: bool,
    /// **Disable account** (to its confirm page) or **Enable account**.
    may_disable: bool,
    may_enable: bool,
    name: String,
    username: String,
    /// Message ids: the role's name, and the status's.
    role: &'static str,
    custom_roles: Vec<String>,
    /// (class name, message id of "Teaches" or "Enrolled").
    classes: Vec<(String, &'static str)>,
    status: &'static str,
    /// Disabled: the status is marked (a badge; the word says it).
    disabled: bool,
    email: String,
    last_sign_in: String,
    created: String,
    /// The message id of On or Off.
    authenticator_app: &'static str,
    passkeys: u32,
    access_code: Option<String>,
    parent_access_code: Option<String>,
    open_codes: bool,
    /// The message id of what the page was reached after.
    notice: Option<&'static str>,
    /// The person's links to single sign-on providers: (provider id, name,
    /// linked at, last used).
    sso_links: Vec<(String, String, String, String)>,
    /// **Unlink** is offered (the viewer may manage the person).
    may_unlink: bool,
    /// The person signs in only with a provider (no keyward password).
    sso_only: bool,
    /// **Reset Password** and the other administrator actions (`user_admin`).
    admin_actions: super::user_admin::Actions,
}

/// A moment as one user's page shows it: `2026-09-07 08:00 UTC`.
fn moment(at: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(at.secs())
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}

fn denied_page(err: impl keyward_core::error::CodedError + std::fmt::Debug) -> AppError {
    AppError::from_coded(&err)
}

/// The roles an actor may give: those holding no more than they hold, the
/// least powerful first so that it is the default.
fn roles_for(actor: &Actor) -> Vec<(&'static str, &'static str)> {
    [
        Role::Learner,
        Role::Parent,
        Role::Teacher,
        Role::LeadTeacher,
    ]
    .into_iter()
    .filter(|role| *role != Role::PlatformAdmin && actor.permissions().covers(role.permissions()))
    .map(|role| (role.as_str(), role_name(role)))
    .collect()
}

async fn new_page(
    state: &AppState,
    visitor: &Visitor,
    client: &Client,
    actor: &Actor,
    typed: Typed,
) -> Result<NewPage, AppError> {
    let schools = state.kw.visible_schools(actor).await.map_err(coded)?;
    let mut classes = Vec::new();
    if let Some(school) = actor.school_id.as_ref() {
        classes = state
            .kw
            .class_database(&state.ctx(client), actor, Some(school))
            .await
            .map_err(coded)?;
    }
    Ok(NewPage {
        nav: Nav::of(visitor),
        crumbs: trail::to_people(actor),
        csrf_token: visitor.csrf_token(),
        roles: roles_for(actor),
        schools,
        classes,
        errors: Vec::new(),
        refused: None,
        typed,
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Users>,
) -> Result<Response, AppError> {
    if let Some(school) = &actor.school_id {
        authorize(&actor, Action::ManageUser, Target::School(school)).map_err(denied_page)?;
    }
    let page = new_page(&state, &visitor, &client, &actor, Typed::default()).await?;
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

#[derive(Deserialize)]
pub struct NewForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    school_id: String,
    #[serde(default)]
    class_ids: Vec<String>,
    #[serde(default)]
    email: String,
}

csrf_forms!(NewForm, ReissueForm);

impl NewForm {
    /// The request to the core; an unknown role is refused like the core's
    /// other refusals.
    fn request(&self) -> Result<NewPendingUser, CreateUserError> {
        Ok(NewPendingUser {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            role: NewPendingUser::parse_role(&self.role)?,
            school_id: SchoolId::parse(&self.school_id),
            class_ids: self
                .class_ids
                .iter()
                .filter_map(|id| ClassId::parse(id))
                .collect(),
            email: Some(self.email.clone()).filter(|e| !e.trim().is_empty()),
        })
    }

    /// What was typed, to show again (long values cut).
    fn typed(self) -> Typed {
        Typed {
            first_name: self.first_name.chars().take(80).collect(),
            last_name: self.last_name.chars().take(80).collect(),
            role: self.role,
            school_id: self.school_id,
            class_ids: self.class_ids,
            email: self.email.chars().take(254).collect(),
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        actor,
        form: RepeatedForm(form),
        ..
    }: SignedIn<return_to::Users, RepeatedForm<NewForm>>,
) -> Result<Response, AppError> {
    let outcome = match form.request() {
        Ok(request) => {
            let ctx = state.ctx(&client);
            state.kw.create_user(&ctx, &actor, &request).await
        }
        Err(err) => Err(err),
    };
    match outcome {
        Ok(created) => Ok(Redirect::to(&format!("/users/{}?added=1", created.id)).into_response()),
        Err(CreateUserError::Internal(internal)) => Err(AppError::internal(&internal)),
        Err(err @ CreateUserError::Invalid(_)) => {
            let page = new_page(&state, &visitor, &client, &actor, form.typed()).await?;
            let page = page.refuse(&err);
            Ok(visitor.respond(&state, render(StatusCode::UNPROCESSABLE_ENTITY, &page)))
        }
        Err(err) => Err(denied_page(err)),
    }
}

pub async fn show(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Users>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let id = path_id(path, UserId::parse)?;
    let details = match state.kw.show_user(&state.ctx(&client), &actor, &id).await {
        Ok(details) => details,
        Err(CreateUserError::Internal(internal)) => return Err(AppError::internal(&internal)),
        Err(err) => return Err(denied_page(err)),
    };
    let shown = Shown::of_query(query.as_deref());
    let page = ShowPage::new(&visitor, &actor, details, shown);
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

/// What the person's page was reached after: adding them, a new code, or
/// disabling or enabling the account.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    Added,
    Reissued,
    Disabled,
    Enabled,
    Unlinked,
    /// Unlinked, and the person has no way in left.
    NoWayIn,
    Plain,
}

impl Shown {
    /// From `?added=1`, `?reissued=1`, `?disabled=1` or `?enabled=1`.
    fn of_query(query: Option<&str>) -> Shown {
        [
            ("added", Shown::Added),
            ("reissued", Shown::Reissued),
            ("disabled", Shown::Disabled),
            ("enabled", Shown::Enabled),
            ("unlinked", Shown::Unlinked),
            ("no_way_in", Shown::NoWayIn),
        ]
        .into_iter()
        .find(|(key, _)| query_param(query, key) == "1")
        .map_or(Shown::Plain, |(_, shown)| shown)
    }

    fn notice(self) -> Option<&'static str> {
        match self {
            Shown::Added => Some("admin-person-notice-added"),
            Shown::Reissued => Some("admin-person-notice-reissued"),
            Shown::Disabled => Some("admin-person-notice-disabled"),
            Shown::Enabled => Some("admin-person-notice-enabled"),
            Shown::Unlinked => Some("admin-person-notice-unlinked"),
            Shown::NoWayIn => Some("admin-person-notice-no-way-in"),
            Shown::Plain => None,
        }
    }

    /// The codes are opened when the page was reached to show them.
    fn opens_codes(self) -> bool {
        matches!(self, Shown::Added | Shown::Reissued)
    }
}

impl ShowPage {
    fn new(visitor: &Visitor, actor: &Actor, details: UserDetails, shown: Shown) -> ShowPage {
        let account = &details.account;
        let permissions = actor.permissions();
        let disabled = account.status == AccountStatus::Disabled;
        ShowPage {
            nav: Nav::of(visitor),
            crumbs: trail::to_people(actor),
            id: account.id.to_string(),
            csrf_token: visitor.csrf_token(),
            may_reissue: account.status == AccountStatus::Pending && details.access_code.is_some(),
            // A learner with an account: the way to seed 002's **Reset password**.
            may_reset: account.status == AccountStatus::Active
                && !details.sso_only
                && account.role == Role::Learner
                && permissions.contains(Permission::LearnersResetPassword),
            may_disable: details.may_manage && !disabled,
            may_enable: details.may_manage && disabled,
            name: account.display_name(),
            username: shown_username(account),
            role: role_name(account.role),
            custom_roles: details.custom_roles.clone(),
            classes: details
                .classes
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        if c.teaching {
                            "admin-person-teaches"
                        } else {
                            "admin-person-enrolled"
                        },
                    )
                })
                .collect(),
            status: status_label(account.status),
            disabled,
            email: account
                .email
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_else(|| i18n::text("admin-none")),
            last_sign_in: account
                .last_sign_in_at
                .map_or_else(|| i18n::text("admin-never"), moment),
            created: moment(details.created_at),
            authenticator_app: if details.mfa.authenticator_app {
                "admin-on"
            } else {
                "admin-off"
            },
            passkeys: details.mfa.passkeys,
            access_code: details.access_code,
            parent_access_code: details.parent_access_code,
            open_codes: shown.opens_codes(),
            notice: shown.notice(),
            sso_links: details
                .sso_links
                .iter()
                .map(|link| {
                    (
                        link.provider_id.to_string(),
                        link.provider_name.clone(),
                        moment(link.linked_at),
                        (link.last_used_at).map_or_else(|| i18n::text("admin-never"), moment),
                    )
                })
                .collect(),
            may_unlink: details.may_manage,
            sso_only: details.sso_only,
            admin_actions: super::user_admin::Actions::of(
                actor,
                account,
                details.mfa.authenticator_app || details.mfa.passkeys > 0,
            ),
        }
    }
}

/// The confirm step of **Issue a new access code**: the old code stops
/// working. Only for an account still waiting for its code.
pub async fn confirm_reissue(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Users>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let id = path_id(path, UserId::parse)?;
    let ctx = state.ctx(&client);
    let account = state.kw.account_to_manage(&ctx, &actor, &id).await;
    if account.map_err(coded)?.status != AccountStatus::Pending {
        return Ok(Redirect::to(&format!("/users/{id}")).into_response());
    }
    let about = About::of(&state, &actor, id).await?;
    let page = reissue_question(&visitor, about);
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

fn reissue_question(visitor: &Visitor, about: About) -> ConfirmPage {
    ConfirmPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        question: Message::new("admin-reissue-question")
            .with("name", &about.name)
            .to_string(),
        consequences: vec![
            i18n::text("admin-reissue-stops"),
            i18n::text("admin-reissue-where"),
        ],
        title: "admin-person-reissue",
        action: "access-code",
        crumbs: about.crumbs,
        id: about.id.to_string(),
        name: about.name,
    }
}

#[derive(Deserialize)]
pub struct ReissueForm {
    #[serde(default)]
    csrf_token: String,
}

pub async fn reissue_code(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn { actor, .. }: SignedIn<return_to::Users, PageForm<ReissueForm>>,
) -> Result<Response, AppError> {
    let id = path_id(path, UserId::parse)?;
    match state
        .kw
        .reissue_access_code(&state.ctx(&client), &actor, &id)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/users/{id}?reissued=1")).into_response()),
        Err(CreateUserError::Internal(internal)) => Err(AppError::internal(&internal)),
        Err(err) => Err(denied_page(err)),
    }
}
