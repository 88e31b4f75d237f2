//! A teacher's class page, `/classes/{id}` (R-CODE-2): the class code big
//! enough for a board, with **Regenerate code** and **Switch off** /
//! **Switch on**. Only the class's teachers and the lead teacher get here
//! (the core decides); the buttons are plain forms.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use keyward_core::activation::ClassCodeInfo;
use keyward_core::schools::SchoolError;
use keyward_core::types::ClassId;

use super::{Nav, render};
use crate::error::AppError;
use crate::extract::{Client, PageForm, Visitor, path_id};
use crate::shared::query::query_param;
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
    visitor: Visitor,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let Some(session) = &visitor.session else {
        return Ok(Redirect::to("/signin").into_response());
    };
    let class = class_id(path)?;
    let actor = state.kw.actor_of(&session.account).await?;
    let info: ClassCodeInfo = state
        .kw
        .class_code(&state.ctx(&client), &actor, &class)
        .await
        .map_err(classroom_error)?;
    let notice = match query_param(query.as_deref(), "notice").as_str() {
        "regenerated" => Some("This class has a new code. The old code no longer works."),
        "switched_off" => Some("The class code is switched off. Nobody can join with it."),
        "switched_on" => Some("The class code is switched on. Learners can join with it."),
        _ => None,
    };
    let spelled = info
        .code
        .as_deref()
        .unwrap_or_default()
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ");
    let page = ClassPage {
        nav: Nav::of(&visitor),
        csrf_token: visitor.csrf_token(),
        class_id: info.class_id.to_string(),
        class_name: info.class_name,
        code: info.code,
        spelled,
        enabled: info.enabled,
        join_url: join_url(&state),
        notice,
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    action: String,
}

pub async fn change_code(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    PageForm(form): PageForm<CodeForm>,
) -> Result<Response, AppError> {
    let Some(session) = &visitor.session else {
        return Ok(Redirect::to("/signin").into_response());
    };
    visitor.verify_csrf(&form.csrf_token)?;
    let class = class_id(path)?;
    let actor = state.kw.actor_of(&session.account).await?;
    let ctx = state.ctx(&client);
    let (done, notice) = match form.action.as_str() {
        "regenerate" => (
            state.kw.regenerate_class_code(&ctx, &actor, &class).await,
            "regenerated",
        ),
        "disable" => (
            state
                .kw
                .set_class_code_enabled(&ctx, &actor, &class, false)
                .await,
            "switched_off",
        ),
        "enable" => (
            state
                .kw
                .set_class_code_enabled(&ctx, &actor, &class, true)
                .await,
            "switched_on",
        ),
        _ => {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_form",
                "Choose Regenerate code, Switch off or Switch on.",
            ));
        }
    };
    done.map_err(classroom_error)?;
    Ok(Redirect::to(&format!("/classes/{class}?notice={notice}")).into_response())
}
