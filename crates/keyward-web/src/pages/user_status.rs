//! **Disable account** and **Enable account** on one user's page (R-ADM-4):
//! disabling asks to confirm first on its own page (a plain form, no
//! JavaScript); enabling is a single button. Both go back to the person's
//! page, which says what happened.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::accounts::AccountStatus;
use keyward_core::admin::AccountStatusError;
use keyward_core::types::UserId;

use super::trail::{self, Crumbs};
use super::{Nav, render};
use crate::error::{AppError, coded};
use crate::extract::{Client, PageForm, path_id};
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "user_disable.html")]
struct ConfirmPage {
    nav: Option<Nav>,
    /// Home › Users › the person.
    crumbs: Crumbs,
    csrf_token: String,
    id: String,
    name: String,
}

pub async fn confirm_disable(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Users>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let id = path_id(path, UserId::parse)?;
    let ctx = state.ctx(&client);
    let account = state
        .kw
        .account_to_manage(&ctx, &actor, &id)
        .await
        .map_err(coded)?;
    if account.status == AccountStatus::Disabled {
        return Err(coded(AccountStatusError::AlreadyDisabled));
    }
    let name = account.display_name();
    let page = ConfirmPage {
        nav: Nav::of(&visitor),
        crumbs: trail::to_person(&actor, id.as_str(), &name),
        csrf_token: visitor.csrf_token(),
        id: id.to_string(),
        name,
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    csrf_token: String,
}

csrf_forms!(StatusForm);

pub async fn disable(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn { actor, .. }: SignedIn<return_to::Users, PageForm<StatusForm>>,
) -> Result<Response, AppError> {
    let id = path_id(path, UserId::parse)?;
    state
        .kw
        .disable_user(&state.ctx(&client), &actor, &id)
        .await
        .map_err(coded)?;
    Ok(Redirect::to(&format!("/users/{id}?disabled=1")).into_response())
}

pub async fn enable(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn { actor, .. }: SignedIn<return_to::Users, PageForm<StatusForm>>,
) -> Result<Response, AppError> {
    let id = path_id(path, UserId::parse)?;
    state
        .kw
        .enable_user(&state.ctx(&client), &actor, &id)
        .await
        .map_err(coded)?;
    Ok(Redirect::to(&format!("/users/{id}?enabled=1")).into_response())
}
