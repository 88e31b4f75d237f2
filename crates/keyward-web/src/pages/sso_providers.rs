//! **Single sign-on** for a school (issue 14), for its lead teacher or a
//! platform admin, at `/schools/{id}/sso`: the connected OpenID Connect
//! providers, the redirect URI to copy into the provider (with where to
//! paste it in Google Workspace and Microsoft Entra), **Add provider** (each
//! refusal shown next to its field; the client secret is never written back
//! into the form) and **Remove** after a confirm page that says what happens
//! to the people who sign in only with it. Plain forms with CSRF tokens; no
//! JavaScript needed. The rules are the core's.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use keyward_core::i18n::{self, Translate as _};
use serde::Deserialize;

use keyward_core::accounts::ENABLE_MFA_AT;
use keyward_core::authz::Actor;
use keyward_core::schools::SCHOOL_ROLES;
use keyward_core::sso::{IdentityClaim, SsoConfigError, SsoProvider, SsoProviderId};
use keyward_core::types::{Role, SchoolId};

use super::people::{role_name, roles_name};
use super::trail::{self, Crumbs};
use super::{Nav, render};
use crate::error::{AppError, coded};
use crate::extract::{Client, PageForm, RepeatedForm, Visitor, path_id};
use crate::shared::query::query_param;
use crate::shared::sso_input::SsoProviderInput;
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

/// The message id of how the page names a claim.
fn claim_label(claim: IdentityClaim) -> &'static str {
    match claim {
        IdentityClaim::Email => "ssoadmin-claim-email",
        IdentityClaim::PreferredUsername => "ssoadmin-claim-preferred-username",
        IdentityClaim::Subject => "ssoadmin-claim-subject",
    }
}

/// The roles' names in the current language, separated by commas.
fn role_labels(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| i18n::text(role_name(*r)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One connected provider as the list shows it.
struct Row {
    id: String,
    name: String,
    issuer: String,
    client_id: String,
    scopes: String,
    /// The message id of the claim's name.
    claim: &'static str,
    roles: String,
    /// Empty: nobody is created just in time.
    jit_roles: String,
    trust_mfa: bool,
}

impl Row {
    fn of(provider: &SsoProvider) -> Row {
        Row {
            id: provider.id.to_string(),
            name: provider.name.clone(),
            issuer: provider.issuer.clone(),
            client_id: provider.client_id.clone(),
            scopes: provider.scopes.join(" "),
            claim: claim_label(provider.claim),
            roles: role_labels(&provider.roles),
            jit_roles: role_labels(&provider.jit_roles),
            trust_mfa: provider.trust_mfa,
        }
    }
}

/// What the **Add provider** form shows: the defaults, or what was typed
/// (never the client secret).
struct Typed {
    name: String,
    issuer: String,
    client_id: String,
    scopes: String,
    claim: String,
    roles: Vec<String>,
    jit_roles: Vec<String>,
    trust_mfa: bool,
}

impl Default for Typed {
    fn default() -> Self {
        Typed {
            name: String::new(),
            issuer: String::new(),
            client_id: String::new(),
            scopes: "openid email profile".into(),
            claim: IdentityClaim::Email.as_str().into(),
            roles: SCHOOL_ROLES.iter().map(|r| r.as_str().to_owned()).collect(),
            jit_roles: Vec::new(),
            trust_mfa: false,
        }
    }
}

/// A school role as two checkboxes: (value, message ids of its name for
/// one and for many, may sign in, created just in time).
type RoleChoice = (&'static str, &'static str, &'static str, bool, bool);

#[derive(Template)]
#[template(path = "sso_providers.html")]
struct ProvidersPage {
    nav: Option<Nav>,
    /// Home › Subscription management (for its lead teacher).
    crumbs: Crumbs,
    csrf_token: String,
    school_id: String,
    school_name: String,
    redirect_uri: String,
    providers: Vec<Row>,
    /// The message id of what was done.
    notice: Option<&'static str>,
    typed: Typed,
    /// The claims: (value, message id of the label, chosen).
    claims: Vec<(&'static str, &'static str, bool)>,
    roles: Vec<RoleChoice>,
    /// The refused field (or `school`) and why.
    refusal: Option<(&'static str, &'static str)>,
    /// Adding or removing was refused: the actor has no second factor of
    /// their own. Says so, with **Turn on two-step verification**.
    mfa_refusal: Option<String>,
    enable_mfa_at: &'static str,
}

impl ProvidersPage {
    /// Why `field` was refused, for the line under it.
    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.refusal
            .filter(|(refused, _)| *refused == field)
            .map(|(_, reason)| reason)
    }

    fn with(mut self, typed: Typed, refusal: Option<(&'static str, &'static str)>) -> Self {
        self.claims = IdentityClaim::ALL
            .into_iter()
            .map(|c| (c.as_str(), claim_label(c), c.as_str() == typed.claim))
            .collect();
        self.roles = SCHOOL_ROLES
            .into_iter()
            .map(|role| {
                let name = role.as_str();
                let ticked = |list: &[String]| list.iter().any(|r| r == name);
                (
                    name,
                    role_name(role),
                    roles_name(role),
                    ticked(&typed.roles),
                    ticked(&typed.jit_roles),
                )
            })
            .collect();
        self.typed = typed;
        self.refusal = refusal;
        self
    }
}

/// The school's name, from the schools the actor sees.
async fn school_name(
    state: &AppState,
    actor: &Actor,
    school: &SchoolId,
) -> Result<String, AppError> {
    let schools = state.kw.visible_schools(actor).await.map_err(coded)?;
    Ok(schools
        .into_iter()
        .find(|s| s.id == *school)
        .map(|s| s.name)
        .unwrap_or_default())
}

/// The page with the school's providers (authorized by the core first).
async fn page_of(
    state: &AppState,
    client: &Client,
    visitor: &Visitor,
    actor: &Actor,
    school: &SchoolId,
) -> Result<ProvidersPage, AppError> {
    let ctx = state.ctx(client);
    let providers = (state.kw)
        .school_sso_providers(&ctx, actor, school)
        .await
        .map_err(coded)?;
    let page = ProvidersPage {
        nav: Nav::of(visitor),
        crumbs: trail::to_school_hub(actor),
        csrf_token: visitor.csrf_token(),
        school_id: school.to_string(),
        school_name: school_name(state, actor, school).await?,
        redirect_uri: state.kw.sso_redirect_uri(),
        providers: providers.iter().map(Row::of).collect(),
        notice: None,
        typed: Typed::default(),
        claims: Vec::new(),
        roles: Vec::new(),
        refusal: None,
        mfa_refusal: None,
        enable_mfa_at: ENABLE_MFA_AT,
    };
    Ok(page.with(Typed::default(), None))
}

/// What the page says after a redirect back to it (`?notice=`).
fn notice(name: &str) -> Option<&'static str> {
    match name {
        "added" => Some("ssoadmin-notice-added"),
        "removed" => Some("ssoadmin-notice-removed"),
        _ => None,
    }
}

pub async fn show(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::School>,
) -> Result<Response, AppError> {
    let school = path_id(path, SchoolId::parse)?;
    let mut page = page_of(&state, &client, &visitor, &actor, &school).await?;
    page.notice = notice(&query_param(query.as_deref(), "notice"));
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    /// Separated by spaces; empty: the default.
    #[serde(default)]
    scopes: String,
    #[serde(default)]
    claim: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    jit_roles: Vec<String>,
    /// Present (any value) when the box is ticked.
    #[serde(default)]
    trust_mfa: Option<String>,
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf_token: String,
}

csrf_forms!(AddForm, RemoveForm);

impl AddForm {
    /// The settings for the core, and what to show again if it refuses them.
    fn split(self) -> (SsoProviderInput, Typed) {
        let typed = Typed {
            name: self.name.clone(),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            scopes: self.scopes.clone(),
            claim: self.claim.clone(),
            roles: self.roles.clone(),
            jit_roles: self.jit_roles.clone(),
            trust_mfa: self.trust_mfa.is_some(),
        };
        let scopes: Vec<String> = self.scopes.split_whitespace().map(str::to_owned).collect();
        let input = SsoProviderInput {
            name: self.name,
            issuer: self.issuer,
            client_id: self.client_id,
            client_secret: self.client_secret,
            scopes: (!scopes.is_empty()).then_some(scopes),
            claim: (!self.claim.is_empty()).then_some(self.claim),
            roles: Some(self.roles),
            jit_roles: Some(self.jit_roles),
            trust_mfa: self.trust_mfa.is_some(),
        };
        (input, typed)
    }
}

/// The typed settings parsed, then connected by the core.
async fn connect(
    state: &AppState,
    client: &Client,
    actor: &Actor,
    school: &SchoolId,
    input: SsoProviderInput,
) -> Result<(), SsoConfigError> {
    let new = input.parse()?;
    (state.kw)
        .add_sso_provider(&state.ctx(client), actor, school, new)
        .await?;
    Ok(())
}

/// **Add provider**: connected, back to the list; refused, the form again
/// with the reason under the field.
pub async fn add(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn {
        visitor,
        actor,
        form: RepeatedForm(form),
        ..
    }: SignedIn<return_to::School, RepeatedForm<AddForm>>,
) -> Result<Response, AppError> {
    let school = path_id(path, SchoolId::parse)?;
    let (input, typed) = form.split();
    let refusal = match connect(&state, &client, &actor, &school, input).await {
        Ok(()) => {
            return Ok(Redirect::to(&format!("/schools/{school}/sso?notice=added")).into_response());
        }
        Err(SsoConfigError::Invalid { field, reason }) => (field, reason),
        Err(err @ SsoConfigError::MfaRequired) => {
            return mfa_refused(&state, &client, &visitor, &actor, &school, &err).await;
        }
        Err(err) => return Err(coded(err)),
    };
    let page = page_of(&state, &client, &visitor, &actor, &school).await?;
    let page = page.with(typed, Some(refusal));
    Ok(visitor.respond(&state, render(StatusCode::UNPROCESSABLE_ENTITY, &page)))
}

/// The page again, saying that adding or removing a provider needs the
/// actor's own two-step verification, with the way to turn it on.
async fn mfa_refused(
    state: &AppState,
    client: &Client,
    visitor: &Visitor,
    actor: &Actor,
    school: &SchoolId,
    err: &SsoConfigError,
) -> Result<Response, AppError> {
    let mut page = page_of(state, client, visitor, actor, school).await?;
    page.mfa_refusal = Some(err.to_string());
    Ok(visitor.respond(state, render(StatusCode::FORBIDDEN, &page)))
}

#[derive(Template)]
#[template(path = "sso_provider_remove.html")]
struct RemovePage {
    nav: Option<Nav>,
    /// … › Single sign-on.
    crumbs: Crumbs,
    csrf_token: String,
    school_id: String,
    school_name: String,
    provider: Row,
}

/// The school and provider of the path; a malformed provider id is an
/// unknown provider.
fn ids(
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<(SchoolId, SsoProviderId), AppError> {
    let Ok(Path((school, provider))) = path else {
        return Err(AppError::not_found());
    };
    let school = SchoolId::parse(&school).ok_or_else(AppError::not_found)?;
    let provider =
        SsoProviderId::parse(&provider).ok_or_else(|| coded(SsoConfigError::NotFound))?;
    Ok((school, provider))
}

/// The confirm page of **Remove**: what happens to the people who sign in
/// only with the provider.
pub async fn confirm_remove(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<(String, String)>, PathRejection>,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::School>,
) -> Result<Response, AppError> {
    let (school, id) = ids(path)?;
    let providers = (state.kw)
        .school_sso_providers(&state.ctx(&client), &actor, &school)
        .await
        .map_err(coded)?;
    let provider =
        (providers.iter().find(|p| p.id == id)).ok_or_else(|| coded(SsoConfigError::NotFound))?;
    let page = RemovePage {
        nav: Nav::of(&visitor),
        crumbs: trail::to_sso(&actor, school.as_str()),
        csrf_token: visitor.csrf_token(),
        school_id: school.to_string(),
        school_name: school_name(&state, &actor, &school).await?,
        provider: Row::of(provider),
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

pub async fn remove(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<(String, String)>, PathRejection>,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::School, PageForm<RemoveForm>>,
) -> Result<Response, AppError> {
    let (school, id) = ids(path)?;
    let removed = (state.kw)
        .remove_sso_provider(&state.ctx(&client), &actor, &school, &id)
        .await;
    match removed {
        Ok(()) => {
            Ok(Redirect::to(&format!("/schools/{school}/sso?notice=removed")).into_response())
        }
        Err(err @ SsoConfigError::MfaRequired) => {
            mfa_refused(&state, &client, &visitor, &actor, &school, &err).await
        }
        Err(err) => Err(coded(err)),
    }
}
