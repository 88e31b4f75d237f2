//! A teacher's class page, `/classes/{id}` (R-CODE-2): the class code big
//! enough for a board, with **Regenerate code** and **Switch off** (each
//! after a confirm page, `GET /classes/{id}/class-code?action=…`, which
//! changes nothing) and **Switch on**; then the class's learners, each with
//! **Reset password** or **Show access codes**, and the way to the class's
//! **User accounts** and **Reset password for the whole class**. Only the
//! class's teachers, the lead teacher and a platform admin get here (the
//! core decides); the buttons are plain forms.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::error::Code;
use keyward_core::i18n::{self, Translate as _};
use serde::Deserialize;

use keyward_core::activation::ClassCodeInfo;
use keyward_core::admin::DirectoryError;
use keyward_core::authz::{Actor, Permission};
use keyward_core::schools::SchoolError;
use keyward_core::types::ClassId;

use super::class_lists::LearnerRow;
use super::trail::{self, Crumbs};
use super::{Nav, render};
use crate::error::AppError;
use crate::extract::{Client, PageForm, Visitor, path_id};
use crate::shared::query::query_param;
use crate::signed_in::{SignedIn, return_to};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "class_page.html")]
struct ClassPage {
    nav: Option<Nav>,
    trail: Crumbs,
    back: (String, String),
    csrf_token: String,
    class_id: String,
    class_name: String,
    code: Option<String>,
    /// The code with spaces between characters, for screen readers.
    spelled: String,
    enabled: bool,
    join_url: String,
    /// The message id of what the page says after a change.
    notice: Option<&'static str>,
    learners: Vec<LearnerRow>,
    /// **Reset password for the whole class** is the actor's to use.
    may_reset_class: bool,
    /// **User accounts** of the class is the actor's to open.
    may_see_accounts: bool,
}

/// The confirm step of **Regenerate code** and **Switch off**.
#[derive(Template)]
#[template(path = "class_code_confirm.html")]
struct ConfirmPage {
    nav: Option<Nav>,
    trail: Crumbs,
    csrf_token: String,
    class_id: String,
    class_name: String,
    code: Option<String>,
    /// `regenerate` or `disable`, sent on by the form.
    action: &'static str,
    /// The message id of the button's words: **Regenerate code** or
    /// **Switch off**.
    label: &'static str,
}

fn classroom_error(err: SchoolError) -> AppError {
    match err {
        SchoolError::Internal(internal) => AppError::internal(&internal),
        other => AppError::from_coded(&other),
    }
}

fn directory_error(err: DirectoryError) -> AppError {
    match err {
        DirectoryError::Internal(internal) => AppError::internal(&internal),
        other => AppError::from_coded(&other),
    }
}

fn class_id(path: Result<Path<String>, PathRejection>) -> Result<ClassId, AppError> {
    path_id(path, ClassId::parse)
}

/// Where learners type the code: `<public_url>/join`.
fn join_url(state: &AppState) -> String {
    let base = state.kw.settings().server.public_url.as_str();
    format!("{}/join", base.trim_end_matches('/'))
}

pub async fn show(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::NoPage>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let class = class_id(path)?;
    let ctx = state.ctx(&client);
    let info: ClassCodeInfo = (state.kw)
        .class_code(&ctx, &actor, &class)
        .await
        .map_err(classroom_error)?;
    let learners = (state.kw)
        .class_learners(&ctx, &actor, &class)
        .await
        .map_err(directory_error)?;
    let codes_href = format!("/classes/{class}/accounts/codes");
    let mut page = ClassPage::new(&state, &visitor, &actor, info);
    page.learners = LearnerRow::all(&learners, &actor, &codes_href);
    page.notice = notice(&query_param(query.as_deref(), "notice"));
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

/// The message id of what the page says after a change (`?notice=` of
/// the redirect).
fn notice(name: &str) -> Option<&'static str> {
    match name {
        "regenerated" => Some("teacher-class-code-notice-regenerated"),
        "switched_off" => Some("teacher-class-code-notice-switched-off"),
        "switched_on" => Some("teacher-class-code-notice-switched-on"),
        _ => None,
    }
}

/// The code with spaces between its characters, for screen readers.
fn spelled(code: Option<&str>) -> String {
    code.unwrap_or_default()
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ")
}

impl ClassPage {
    fn new(state: &AppState, visitor: &Visitor, actor: &Actor, info: ClassCodeInfo) -> ClassPage {
        let class_id = info.class_id.to_string();
        let permissions = actor.permissions();
        // The class itself is the page: its trail stops at the database.
        let trail = trail::classes(actor);
        ClassPage {
            nav: Nav::of(visitor),
            back: trail::back(&trail),
            trail,
            csrf_token: visitor.csrf_token(),
            spelled: spelled(info.code.as_deref()),
            class_id,
            class_name: info.class_name,
            code: info.code,
            enabled: info.enabled,
            join_url: join_url(state),
            notice: None,
            learners: Vec::new(),
            may_reset_class: permissions.contains(Permission::LearnersResetPassword),
            may_see_accounts: permissions.contains(Permission::CredentialsExportClass),
        }
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    action: String,
}

/// The three buttons of the page.
#[derive(Clone, Copy)]
enum CodeAction {
    Regenerate,
    Disable,
    Enable,
}

impl CodeAction {
    fn parse(action: &str) -> Result<CodeAction, AppError> {
        match action {
            "regenerate" => Ok(CodeAction::Regenerate),
            "disable" => Ok(CodeAction::Disable),
            "enable" => Ok(CodeAction::Enable),
            _ => Err(AppError::new(
                Code::InvalidRequest,
                i18n::text("teacher-class-code-choose-action"),
            )),
        }
    }

    /// Regenerates the code, or switches it off or on.
    async fn apply(
        self,
        state: &AppState,
        client: &Client,
        actor: &Actor,
        class: &ClassId,
    ) -> Result<ClassCodeInfo, SchoolError> {
        let ctx = state.ctx(client);
        match self {
            CodeAction::Regenerate => state.kw.regenerate_class_code(&ctx, actor, class).await,
            CodeAction::Disable => {
                state
                    .kw
                    .set_class_code_enabled(&ctx, actor, class, false)
                    .await
            }
            CodeAction::Enable => {
                state
                    .kw
                    .set_class_code_enabled(&ctx, actor, class, true)
                    .await
            }
        }
    }

    /// The `?notice=` of the page after it.
    fn notice(self) -> &'static str {
        match self {
            CodeAction::Regenerate => "regenerated",
            CodeAction::Disable => "switched_off",
            CodeAction::Enable => "switched_on",
        }
    }
}

impl CodeAction {
    /// The form value of an action that asks first (**Regenerate code** and
    /// **Switch off**; switching on takes nothing away).
    fn asks_first(self) -> Option<&'static str> {
        match self {
            CodeAction::Regenerate => Some("regenerate"),
            CodeAction::Disable => Some("disable"),
            CodeAction::Enable => None,
        }
    }
}

impl ConfirmPage {
    fn new(visitor: &Visitor, actor: &Actor, info: ClassCodeInfo, action: &'static str) -> Self {
        let class_id = info.class_id.to_string();
        ConfirmPage {
            nav: Nav::of(visitor),
            trail: trail::class(actor, &class_id, &info.class_name),
            csrf_token: visitor.csrf_token(),
            class_id,
            class_name: info.class_name,
            code: info.code,
            label: if action == "regenerate" {
                "teacher-class-code-regenerate"
            } else {
                "teacher-class-code-switch-off"
            },
            action,
        }
    }
}

/// `GET /classes/{id}/class-code?action=regenerate` (or `disable`): the
/// confirm step, which changes nothing; its button posts to the same address.
pub async fn confirm(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::NoPage>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let class = class_id(path)?;
    let action = CodeAction::parse(&query_param(query.as_deref(), "action"))?;
    let info = (state.kw)
        .class_code(&state.ctx(&client), &actor, &class)
        .await
        .map_err(classroom_error)?;
    let Some(action) = action.asks_first() else {
        return Ok(Redirect::to(&format!("/classes/{class}")).into_response());
    };
    let page = ConfirmPage::new(&visitor, &actor, info, action);
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

pub async fn change_code(
    State(state): State<AppState>,
    client: Client,
    visitor: Visitor,
    path: Result<Path<String>, PathRejection>,
    PageForm(form): PageForm<CodeForm>,
) -> Result<Response, AppError> {
    // Signed in is checked before the CSRF token here (the reverse of
    // `SignedIn`'s form posts): a form whose session ended leads to sign-in.
    let me = match SignedIn::<return_to::NoPage>::resolve(&state, visitor, ()).await {
        Ok(me) => me,
        Err(sign_in) => return Ok(sign_in),
    };
    me.visitor.verify_csrf(&form.csrf_token)?;
    let class = class_id(path)?;
    let action = CodeAction::parse(&form.action)?;
    action
        .apply(&state, &client, &me.actor, &class)
        .await
        .map_err(classroom_error)?;
    let notice = action.notice();
    Ok(Redirect::to(&format!("/classes/{class}?notice={notice}")).into_response())
}
