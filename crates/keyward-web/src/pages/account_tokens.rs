//! **API tokens** in Account Settings (issue 13): make a token (a name, the
//! permissions you hold as checkboxes, a school for platform admins, days
//! until it expires), see its secret once, list your tokens (and, with
//! `users.manage`, those of people you may manage) and **Revoke** one after a
//! confirm page that works without JavaScript.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::i18n::{self, Translate as _};
use serde::Deserialize;

use keyward_core::authz::{Actor, Permission, PermissionSet};
use keyward_core::tokens::{
    ApiTokenId, CreatedToken, DEFAULT_TTL_DAYS, MAX_TTL_DAYS, NewToken, TokenError, TokenStatus,
    TokenSummary,
};
use keyward_core::types::{SchoolId, UnixTime};

use super::field_errors::FieldErrors;
use super::{Nav, Told, render, render_told};
use crate::error::{AppError, coded};
use crate::extract::{Client, PageForm, RepeatedForm, Visitor};
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

/// A day as the list shows it (`2026-09-07`), in UTC.
fn day(at: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(at.secs()).map_or_else(
        |_| i18n::text("account-unknown"),
        |t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
    )
}

/// One token in a list.
struct Row {
    id: String,
    name: String,
    owner: String,
    permissions: String,
    scope: String,
    created: String,
    expires: String,
    last_used: String,
    /// The token's status (a message id).
    status: &'static str,
    active: bool,
}

impl Row {
    /// `schools` names the schools a token may be limited to: (id, name).
    /// The rows of a list of tokens.
    fn all(tokens: &[TokenSummary], now: UnixTime, schools: &[(String, String)]) -> Vec<Row> {
        tokens.iter().map(|t| Row::of(t, now, schools)).collect()
    }

    fn of(token: &TokenSummary, now: UnixTime, schools: &[(String, String)]) -> Row {
        let status = token.status(now);
        Row {
            id: token.id.to_string(),
            name: token.name.clone(),
            owner: token.owner_username.clone(),
            permissions: token
                .permissions
                .iter()
                .map(|p| i18n::text(p.message_id()))
                .collect::<Vec<_>>()
                .join(", "),
            scope: token.school_id.as_ref().map_or_else(
                || i18n::text("account-token-whole-scope"),
                |id| {
                    let name = schools.iter().find(|(s, _)| s == id.as_str());
                    name.map_or_else(
                        || i18n::text("account-token-your-school"),
                        |(_, n)| n.clone(),
                    )
                },
            ),
            created: day(token.created_at),
            expires: day(token.expires_at),
            last_used: (token.last_used_at).map_or_else(|| i18n::text("account-never"), day),
            status: status_message(status),
            active: status == TokenStatus::Active,
        }
    }
}

/// A token's status in words (a message id).
fn status_message(status: TokenStatus) -> &'static str {
    match status {
        TokenStatus::Active => "account-token-status-active",
        TokenStatus::Expired => "account-token-status-expired",
        TokenStatus::Revoked => "account-token-status-revoked",
    }
}

/// A permission the person may give a token.
struct Choice {
    name: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "account_tokens.html")]
struct TokensPage {
    nav: Option<Nav>,
    csrf_token: String,
    choices: Vec<Choice>,
    /// Platform admins pick a school (or none): (id, name).
    schools: Vec<(String, String)>,
    name: String,
    days: String,
    max_days: u32,
    own: Vec<Row>,
    managed: Vec<Row>,
    /// The secret of the token just made: shown this once.
    secret: Option<String>,
    errors: FieldErrors,
    /// What was done (a message id).
    notice: Option<&'static str>,
}

/// What the create form carried back, to fill the form again.
#[derive(Default)]
struct Typed {
    name: String,
    days: String,
    permissions: PermissionSet,
}

impl Typed {
    /// The lifetime typed, or the default for a fresh form.
    fn days_or_default(&self) -> String {
        if self.days.is_empty() {
            DEFAULT_TTL_DAYS.to_string()
        } else {
            self.days.clone()
        }
    }
}

/// The permissions the person holds, as checkboxes.
fn choices(actor: &Actor, checked: PermissionSet) -> Vec<Choice> {
    actor
        .permissions()
        .iter()
        .map(|p| Choice {
            name: p.as_str(),
            label: p.message_id(),
            checked: checked.contains(p),
        })
        .collect()
}

/// The schools a platform admin may limit a token to: (id, name).
async fn school_choices(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<(String, String)>, AppError> {
    if !actor.platform_wide() {
        return Ok(Vec::new());
    }
    let all = state.kw.visible_schools(actor).await.map_err(coded)?;
    Ok(all
        .into_iter()
        .map(|s| (s.id.to_string(), s.name))
        .collect())
}

/// The page as it stands, telling `told` (its problems at their fields, and
/// a new token's secret).
async fn page(
    state: &AppState,
    visitor: &Visitor,
    actor: &Actor,
    (told, errors): (Told, FieldErrors),
    (typed, secret): (Typed, Option<String>),
) -> Result<Response, AppError> {
    let now = UnixTime::now();
    let lists = state.kw.list_tokens(actor).await.map_err(coded)?;
    let schools = school_choices(state, actor).await?;
    let (own, managed) = (
        Row::all(&lists.own, now, &schools),
        Row::all(&lists.managed, now, &schools),
    );
    let page = TokensPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        choices: choices(actor, typed.permissions),
        own,
        managed,
        schools,
        days: typed.days_or_default(),
        name: typed.name,
        max_days: MAX_TTL_DAYS,
        secret,
        errors,
        notice: told.notice,
    };
    Ok(visitor.respond(state, render_told(told.status, told.retry_after, &page)))
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::AccountTokens>,
) -> Result<Response, AppError> {
    let quiet = Told {
        status: StatusCode::OK,
        retry_after: None,
        errors: Vec::new(),
        notice: None,
    };
    let quiet = (quiet, FieldErrors::none());
    page(&state, &visitor, &actor, quiet, (Typed::default(), None)).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    school_id: String,
    #[serde(default)]
    expires_in_days: String,
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf_token: String,
}

csrf_forms!(CreateForm, RevokeForm);

impl CreateForm {
    /// The token asked for, or what is wrong with the form.
    fn parse(&self) -> (Typed, Result<NewToken, TokenError>) {
        let permissions = self
            .permissions
            .iter()
            .filter_map(|p| Permission::parse(p))
            .fold(PermissionSet::EMPTY, PermissionSet::with);
        let typed = Typed {
            name: self.name.clone(),
            days: self.expires_in_days.clone(),
            permissions,
        };
        let days = match self.expires_in_days.trim() {
            "" => Ok(None),
            text => text
                .parse::<u32>()
                .map(Some)
                .map_err(|_| TokenError::ExpiryInvalid),
        };
        let school = match self.school_id.trim() {
            "" => Ok(None),
            text => SchoolId::parse(text)
                .map(Some)
                .ok_or(TokenError::SchoolNotFound),
        };
        let new = days.and_then(|days| {
            Ok(NewToken {
                name: self.name.clone(),
                permissions,
                school_id: school?,
                expires_in_days: days,
            })
        });
        (typed, new)
    }
}

/// The notice above a new token's secret.
const TOKEN_READY: &str = "account-token-ready";

/// **Create token**: the page again, with the secret shown once.
pub async fn create(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        actor,
        form: RepeatedForm(form),
        ..
    }: SignedIn<return_to::NoPage, RepeatedForm<CreateForm>>,
) -> Result<Response, AppError> {
    let (typed, new) = form.parse();
    let ctx = state.ctx(&client);
    let created = match new {
        Ok(new) => state.kw.create_token(&ctx, &actor, &new).await,
        Err(err) => Err(err),
    };
    match created {
        Ok(CreatedToken { secret, .. }) => {
            let told = (Told::done(TOKEN_READY), FieldErrors::none());
            let secret = Some(secret.expose().to_owned());
            page(&state, &visitor, &actor, told, (Typed::default(), secret)).await
        }
        Err(TokenError::Internal(err)) => Err(AppError::internal(&err)),
        Err(err) => {
            let told = Told::refused(&err);
            let errors = FieldErrors::at(field_of(&err, &actor), told.errors.clone());
            page(&state, &visitor, &actor, (told, errors), (typed, None)).await
        }
    }
}

/// The field of the create form a refusal is about (none: the whole form;
/// only a platform admin's form has the school field to show it at).
fn field_of(err: &TokenError, actor: &Actor) -> Option<&'static str> {
    match err {
        TokenError::InvalidName => Some("token-name"),
        TokenError::NoPermissions => Some("permissions"),
        TokenError::ExpiryInvalid => Some("token-days"),
        TokenError::SchoolNotFound if actor.platform_wide() => Some("token-school"),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "account_token_revoke.html")]
struct RevokePage {
    nav: Option<Nav>,
    csrf_token: String,
    token: Row,
}

/// The token named in the path, if the person may see (and so revoke) it.
async fn reachable(
    state: &AppState,
    actor: &Actor,
    path: Result<Path<String>, PathRejection>,
) -> Result<TokenSummary, AppError> {
    let id = path.ok().and_then(|Path(id)| ApiTokenId::parse(&id));
    let lists = state.kw.list_tokens(actor).await.map_err(coded)?;
    lists
        .own
        .into_iter()
        .chain(lists.managed)
        .find(|t| Some(&t.id) == id.as_ref())
        .ok_or_else(|| coded(TokenError::NotFound))
}

/// **Revoke**: the confirm page.
pub async fn revoke_form(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::AccountTokens>,
) -> Result<Response, AppError> {
    let token = reachable(&state, &actor, path).await?;
    let page = RevokePage {
        nav: Nav::of(&visitor),
        csrf_token: visitor.csrf_token(),
        token: Row::of(
            &token,
            UnixTime::now(),
            &school_choices(&state, &actor).await?,
        ),
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

/// **Revoke token** confirmed: back to the list, which shows it revoked.
pub async fn revoke(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn { actor, .. }: SignedIn<return_to::NoPage, PageForm<RevokeForm>>,
) -> Result<Response, AppError> {
    let token = reachable(&state, &actor, path).await?;
    state
        .kw
        .revoke_token(&state.ctx(&client), &actor, &token.id)
        .await
        .map_err(coded)?;
    Ok(Redirect::to("/account/tokens").into_response())
}
