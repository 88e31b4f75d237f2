//! A teacher's class page, `/classes/{id}` (R-CODE-2): the class code big
//! enough for a board, with **Regenerate code** and **Switch off** /
//! **Switch on**. Only the class's teachers and the lead teacher get here
//! (the core decides); the buttons are plain forms.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::error::Code;
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::activation::ClassCodeInfo;
use keyward_core::authz::Actor;
use keyward_core::schools::SchoolError;
use keyward_core::types::ClassId;

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
    csrf_token: String,
    class_id: String,
    class_name: String,
    code: Option<String>,
    /// The code with spaces between characters, for screen readers.
    spelled: String,
    enabled: bool,
    join_url: String,
    notice: Option<&'static str>,
}

fn classroom_error(err: SchoolError) -> AppError {
    match err {
        SchoolError::Internal(internal) => AppError::internal(&internal),
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
    let info: ClassCodeInfo = state
        .kw
        .class_code(&state.ctx(&client), &actor, &class)
        .await
        .map_err(classroom_error)?;
    let notice = notice(&query_param(query.as_deref(), "notice"));
    let page = ClassPage::new(&state, &visitor, info, notice);
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

/// What the page says after a change (`?notice=` of the redirect).
fn notice(name: &str) -> Option<&'static str> {
    match name {
        "regenerated" => Some("This class has a new code. The old code no longer works."),
        "switched_off" => Some("The class code is switched off. Nobody can join with it."),
        "switched_on" => Some("The class code is switched on. Learners can join with it."),
        _ => None,
    }
}

impl ClassPage {
    fn new(
        state: &AppState,
        visitor: &Visitor,
        info: ClassCodeInfo,
        notice: Option<&'static str>,
    ) -> ClassPage {
        let spelled = info
            .code
            .as_deref()
            .unwrap_or_default()
            .chars()
            .map(String::from)
            .collect::<Vec<_>>()
            .join(" ");
        ClassPage {
            nav: Nav::of(visitor),
            csrf_token: visitor.csrf_token(),
            class_id: info.class_id.to_string(),
            class_name: info.class_name,
            code: info.code,
            spelled,
            enabled: info.enabled,
            join_url: join_url(state),
            notice,
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
                "Choose Regenerate code, Switch off or Switch on.",
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
