//! A person's links to single sign-on providers on their page (issue 14.3):
//! **Unlink**, for whoever may manage the person, asks to confirm on its own
//! page (a plain form, no JavaScript) — saying so when the person would be
//! left without a way in — and goes back to the person's page, which then
//! points at the existing ways to give them one (a temporary password, a
//! learner's **Reset password**).

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::sso::SsoProviderId;
use keyward_core::types::UserId;

use super::trail::{self, Crumbs};
use super::{Nav, render};
use crate::error::{AppError, coded};
use crate::extract::{Client, PageForm};
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "user_sso_unlink.html")]
struct ConfirmPage {
    nav: Option<Nav>,
    /// Home › Users › the person.
    crumbs: Crumbs,
    csrf_token: String,
    id: String,
    provider_id: String,
    name: String,
    provider: String,
    leaves_no_way_in: bool,
}

/// The person and the provider of `/users/{id}/sso-links/{provider_id}/…`;
/// a malformed id is a plain 404, like an unknown one.
fn ids(
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<(UserId, SsoProviderId), AppError> {
    let Ok(Path((user, provider))) = path else {
        return Err(AppError::not_found());
    };
    UserId::parse(&user)
        .zip(SsoProviderId::parse(&provider))
        .ok_or_else(AppError::not_found)
}

pub async fn confirm_unlink(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::Users>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, AppError> {
    let (user, provider) = ids(path)?;
    let preview = state
        .kw
        .unlink_preview(&state.ctx(&client), &actor, &user, &provider)
        .await
        .map_err(coded)?;
    let name = preview.account.display_name();
    let page = ConfirmPage {
        nav: Nav::of(&visitor),
        crumbs: trail::to_person(&actor, user.as_str(), &name),
        csrf_token: visitor.csrf_token(),
        id: user.to_string(),
        provider_id: provider.to_string(),
        name,
        provider: preview.link.provider_name,
        leaves_no_way_in: preview.leaves_no_way_in,
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

#[derive(Deserialize)]
pub struct UnlinkForm {
    #[serde(default)]
    csrf_token: String,
}

csrf_forms!(UnlinkForm);

pub async fn unlink(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<(String, String)>, PathRejection>,
    SignedIn { actor, .. }: SignedIn<return_to::Users, PageForm<UnlinkForm>>,
) -> Result<Response, AppError> {
    let (user, provider) = ids(path)?;
    let unlinked = state
        .kw
        .unlink_sso(&state.ctx(&client), &actor, &user, &provider)
        .await
        .map_err(coded)?;
    let shown = if unlinked.no_way_in {
        "no_way_in"
    } else {
        "unlinked"
    };
    Ok(Redirect::to(&format!("/users/{user}?{shown}=1")).into_response())
}
