//! `/api/v1/schools/{id}/sso-providers` (issue 14): a school's OpenID Connect
//! providers — connect one (201 with its `redirect_uri`, to copy into the
//! provider), list them (never the client secret), remove one — by the
//! school's lead teacher or a platform admin, with a session or an API
//! token; and the public `GET /api/v1/sso/providers`, the **Sign in with …**
//! choices a client app shows. Settings are checked by the core; claim and
//! role names are parsed here, each refused as `sso_provider_invalid` naming
//! its `field`.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use keyward_core::sso::{SignInChoice, SsoConfigError, SsoProvider, SsoProviderId};
use keyward_core::types::{Role, SchoolId};

use super::ErrorBody;
use super::users::SchoolRoleName;
use crate::error::{AppError, coded};
use crate::extract::{ApiJson, Client, path_id};
use crate::shared::sso_input::SsoProviderInput;
use crate::signed_in::ApiActor;
use crate::state::AppState;

/// Which claim of the ID token finds a person not linked yet.
// Names `ClaimName` in the document only: the parser reads the text.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // describes the document only
pub enum ClaimName {
    /// A verified email address, compared with the school's people's.
    Email,
    /// `preferred_username`, compared with the school's usernames.
    PreferredUsername,
    /// `sub`, compared with the school's usernames.
    Sub,
}

/// A provider to connect.
#[derive(Deserialize, ToSchema)]
pub struct NewSsoProviderRequest {
    /// 1 to 64 characters: the button says **Sign in with <name>**.
    pub name: String,
    /// The provider's issuer as its discovery document says it: `https://…`
    /// (plain `http` only on loopback), no query or fragment.
    pub issuer: String,
    pub client_id: String,
    /// Sealed at rest and never shown again.
    #[schema(format = Password)]
    pub client_secret: String,
    /// Left out: `openid email profile`; `openid` is always asked for.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// Left out: `email`.
    #[serde(default)]
    #[schema(value_type = Option<ClaimName>)]
    pub claim: Option<String>,
    /// The roles that may sign in with it; left out: every role of the school.
    #[serde(default)]
    #[schema(value_type = Option<Vec<SchoolRoleName>>)]
    pub roles: Option<Vec<String>>,
    /// The roles an unknown person is created as, just in time (the first
    /// is the new account's role); left out: nobody is created.
    #[serde(default)]
    #[schema(value_type = Option<Vec<SchoolRoleName>>)]
    pub jit_roles: Option<Vec<String>>,
    /// An ID token whose `amr` holds `mfa` counts as the second step.
    #[serde(default)]
    pub trust_mfa: bool,
}

impl NewSsoProviderRequest {
    fn input(self) -> SsoProviderInput {
        SsoProviderInput {
            name: self.name,
            issuer: self.issuer,
            client_id: self.client_id,
            client_secret: self.client_secret,
            scopes: self.scopes,
            claim: self.claim,
            roles: self.roles,
            jit_roles: self.jit_roles,
            trust_mfa: self.trust_mfa,
        }
    }
}

/// A connected provider: never its client secret.
#[derive(Serialize, ToSchema)]
pub struct SsoProviderBody {
    /// For `DELETE …/sso-providers/{provider_id}` and `/sso/{id}/start`.
    pub id: String,
    pub school_id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    /// Always holds `openid`.
    pub scopes: Vec<String>,
    #[schema(value_type = ClaimName)]
    pub claim: String,
    #[schema(value_type = Vec<SchoolRoleName>)]
    pub roles: Vec<String>,
    #[schema(value_type = Vec<SchoolRoleName>)]
    pub jit_roles: Vec<String>,
    pub trust_mfa: bool,
    pub created_at: i64,
    /// Where the provider sends people back: paste it into the provider's
    /// settings (the same for every provider).
    pub redirect_uri: String,
}

fn role_names(roles: &[Role]) -> Vec<String> {
    roles.iter().map(|r| r.as_str().to_owned()).collect()
}

impl SsoProviderBody {
    fn of(provider: &SsoProvider, redirect_uri: String) -> Self {
        SsoProviderBody {
            id: provider.id.to_string(),
            school_id: provider.school_id.to_string(),
            name: provider.name.clone(),
            issuer: provider.issuer.clone(),
            client_id: provider.client_id.clone(),
            scopes: provider.scopes.clone(),
            claim: provider.claim.as_str().to_owned(),
            roles: role_names(&provider.roles),
            jit_roles: role_names(&provider.jit_roles),
            trust_mfa: provider.trust_mfa,
            created_at: provider.created_at.secs(),
            redirect_uri,
        }
    }
}

/// A school's providers, oldest first.
#[derive(Serialize, ToSchema)]
pub struct SsoProviderList {
    pub providers: Vec<SsoProviderBody>,
}

/// Connect an OpenID Connect provider to a school (its lead teacher, a
/// platform admin). At most 10 per school.
#[utoipa::path(
    post,
    operation_id = "add_sso_provider",
    path = "/schools/{id}/sso-providers",
    tag = "sso",
    params(("id" = String, Path, description = "The school's id")),
    request_body = NewSsoProviderRequest,
    responses(
        (status = 201, description = "Connected: copy `redirect_uri` into the provider", body = SsoProviderBody),
        (status = 403, description = "`forbidden`; `mfa_required` (turn on two-step verification on your own keyward account — one used at a provider does not count; enable_at says where)", body = ErrorBody),
        (status = 404, description = "`not_found` or `school_not_found`", body = ErrorBody),
        (status = 422, description = "`sso_provider_invalid`, whose `field` names the setting (school, when the school has 10 already)", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<NewSsoProviderRequest>,
) -> Result<(StatusCode, Json<SsoProviderBody>), AppError> {
    let school = path_id(path, SchoolId::parse)?;
    let new = body.input().parse().map_err(coded)?;
    let provider = state
        .kw
        .add_sso_provider(&state.ctx(&client), &actor, &school, new)
        .await
        .map_err(coded)?;
    let body = SsoProviderBody::of(&provider, state.kw.sso_redirect_uri());
    Ok((StatusCode::CREATED, Json(body)))
}

/// A school's providers (its lead teacher, a platform admin): never a secret.
#[utoipa::path(
    get,
    operation_id = "list_sso_providers",
    path = "/schools/{id}/sso-providers",
    tag = "sso",
    params(("id" = String, Path, description = "The school's id")),
    responses(
        (status = 200, description = "The providers, oldest first", body = SsoProviderList),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found` or `school_not_found`", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<SsoProviderList>, AppError> {
    let school = path_id(path, SchoolId::parse)?;
    let providers = state
        .kw
        .school_sso_providers(&state.ctx(&client), &actor, &school)
        .await
        .map_err(coded)?;
    let redirect_uri = state.kw.sso_redirect_uri();
    Ok(Json(SsoProviderList {
        providers: (providers.iter())
            .map(|p| SsoProviderBody::of(p, redirect_uri.clone()))
            .collect(),
    }))
}

/// Remove a provider: its links and the sign-ins under way through it go
/// with it. Its people without a keyward password then need an access code
/// or a temporary password. Of parallel removals one answers 204.
#[utoipa::path(
    delete,
    operation_id = "remove_sso_provider",
    path = "/schools/{id}/sso-providers/{provider_id}",
    tag = "sso",
    params(
        ("id" = String, Path, description = "The school's id"),
        ("provider_id" = String, Path, description = "The provider's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "`forbidden`; `mfa_required` (turn on two-step verification on your own keyward account — one used at a provider does not count; enable_at says where)", body = ErrorBody),
        (status = 404, description = "`not_found` or `sso_provider_not_found`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn remove(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, AppError> {
    let (school, provider) = ids(path)?;
    state
        .kw
        .remove_sso_provider(&state.ctx(&client), &actor, &school, &provider)
        .await
        .map_err(coded)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The school and provider ids of the path; a malformed school is 404
/// `not_found`, a malformed provider 404 `sso_provider_not_found`.
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

/// One **Sign in with …** choice.
#[derive(Serialize, ToSchema)]
pub struct SignInChoiceBody {
    pub id: String,
    /// What the button says: **Sign in with <name>**.
    pub name: String,
    pub school_id: String,
    pub school_name: String,
    /// Open it in the browser to sign in through the provider.
    pub start_url: String,
}

/// Every school's providers, by school name.
#[derive(Serialize, ToSchema)]
pub struct SignInChoiceList {
    pub providers: Vec<SignInChoiceBody>,
}

impl SignInChoiceBody {
    fn of(choice: SignInChoice, public_url: &str) -> Self {
        SignInChoiceBody {
            start_url: format!("{public_url}/sso/{}/start", choice.provider_id),
            id: choice.provider_id.to_string(),
            name: choice.name,
            school_id: choice.school_id.to_string(),
            school_name: choice.school_name,
        }
    }
}

/// The **Sign in with …** choices, for a client app: every provider of
/// every school (the sign-in page shows the same to everyone).
#[utoipa::path(
    get,
    operation_id = "sign_in_choices",
    path = "/sso/providers",
    tag = "sso",
    responses(
        (status = 200, description = "The providers", body = SignInChoiceList),
    ),
    security(())
)]
pub async fn choices(State(state): State<AppState>) -> Result<Json<SignInChoiceList>, AppError> {
    let choices = state.kw.sign_in_choices().await?;
    let public_url = state.kw.settings().server.public_url.as_str();
    let public_url = public_url.trim_end_matches('/');
    Ok(Json(SignInChoiceList {
        providers: (choices.into_iter())
            .map(|choice| SignInChoiceBody::of(choice, public_url))
            .collect(),
    }))
}
