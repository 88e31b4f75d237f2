//! `/api/v1/users` (create a pending user with its codes, show one) and
//! `/api/v1/activate` (**Use a code**).

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use keyward_core::accounts::{Account, AccountStatus};
use keyward_core::activation::ActivationInput;
use keyward_core::admin::{
    CreateUserError, CustomRole, Learner, ListedUser, NewPendingUser, UserDetails,
};
use keyward_core::authz::Permission;
use keyward_core::types::{ClassId, Password, SchoolId, TypedCode, UserId};

use super::ErrorBody;
use crate::error::{AppError, coded};
use crate::extract::{ApiJson, Client, path_id};
use crate::signed_in::{ApiActor, SessionActor};
use crate::state::AppState;

/// A built-in role.
// Names `Role` in the document only: the handlers parse and print the text.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // describes the document only
pub enum RoleName {
    PlatformAdmin,
    LeadTeacher,
    Teacher,
    Learner,
    Parent,
}

/// A role of a school's people: every built-in role but `platform_admin`,
/// which a school's two-step rule and its sign-on providers cannot name
/// (422).
// Names `Role` in the document only: the handlers parse and print the text.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // describes the document only
pub enum SchoolRoleName {
    LeadTeacher,
    Teacher,
    Learner,
    Parent,
}

/// Whether an account is set up: `pending` until its access code is used.
// Names `AccountStatus` in the document only.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // describes the document only
pub enum AccountStatusName {
    Pending,
    Active,
    Disabled,
}

/// The users list's two-step verification filter.
// Names `MfaFilter` in the document only: the parser reads the text.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // describes the document only
pub enum MfaFilter {
    On,
    Off,
}

#[derive(Deserialize, ToSchema)]
pub struct NewUser {
    pub first_name: String,
    pub last_name: String,
    /// Another name is answered 422 `invalid_user`.
    #[schema(value_type = RoleName)]
    pub role: String,
    /// Required for everyone but platform admins.
    pub school_id: Option<String>,
    /// Learners are enrolled in these classes; teachers teach them.
    #[serde(default)]
    pub class_ids: Vec<String>,
    pub email: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedBody {
    pub id: String,
    /// Always `pending` until the person uses the access code.
    pub status: &'static str,
    /// For **Use a code**; valid 30 days, once.
    pub access_code: String,
    /// Learners only: for their parents.
    pub parent_access_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UserBody {
    pub id: String,
    /// `null` until the person has chosen one.
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    #[schema(value_type = RoleName)]
    pub role: String,
    pub school_id: Option<String>,
    #[schema(value_type = AccountStatusName)]
    pub status: String,
    pub email: Option<String>,
    /// Shown to those who may manage this user, while unused.
    pub access_code: Option<String>,
    pub parent_access_code: Option<String>,
    /// Unix seconds; `null` when the person never signed in.
    pub last_sign_in_at: Option<i64>,
    /// Two-step verification on (an authenticator app or a passkey): in the
    /// users list and on one user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_on: Option<bool>,
    /// One user only: when the account was made (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    /// One user only: the names of their custom roles (beside `role`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_roles: Option<Vec<String>>,
    /// One user only: the classes they are enrolled in or teach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<UserClassBody>>,
    /// One user only: their second factors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa: Option<MfaBody>,
    /// The single sign-on provider they sign in with (the link used last),
    /// when a link names them: in the users list and the learner lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_provider: Option<String>,
    /// Lists and one user: they sign in only with single sign-on (no
    /// keyward password; nothing to reset or show). Left out when not known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_only: Option<bool>,
    /// One user only: their links to single sign-on providers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_links: Option<Vec<SsoLinkBody>>,
}

/// One of a person's links to a single sign-on provider.
#[derive(Serialize, ToSchema)]
pub struct SsoLinkBody {
    pub provider_id: String,
    pub provider_name: String,
    /// Unix seconds.
    pub linked_at: i64,
    /// Unix seconds; `null` when never used since it was made.
    pub last_used_at: Option<i64>,
}

/// A class of a user's.
#[derive(Serialize, ToSchema)]
pub struct UserClassBody {
    pub id: String,
    pub name: String,
    /// `teaching` or `enrolled`.
    pub membership: &'static str,
}

/// A user's second factors.
#[derive(Serialize, ToSchema)]
pub struct MfaBody {
    pub authenticator_app: bool,
    pub passkeys: u32,
}

impl UserBody {
    pub(crate) fn of(
        account: &Account,
        access_code: Option<String>,
        parent_access_code: Option<String>,
    ) -> UserBody {
        UserBody {
            id: account.id.to_string(),
            username: (account.status != AccountStatus::Pending)
                .then(|| account.username.to_string()),
            first_name: account.first_name.clone(),
            last_name: account.last_name.clone(),
            role: account.role.as_str().to_owned(),
            school_id: account.school_id.as_ref().map(ToString::to_string),
            status: account.status.as_str().to_owned(),
            email: account.email.as_ref().map(|e| e.as_str().to_owned()),
            access_code,
            parent_access_code,
            last_sign_in_at: account.last_sign_in_at.map(|t| t.secs()),
            mfa_on: None,
            created_at: None,
            custom_roles: None,
            classes: None,
            mfa: None,
            sso_provider: None,
            sso_only: None,
            sso_links: None,
        }
    }

    /// A learner of the class or student database.
    pub(crate) fn learner(learner: &Learner) -> UserBody {
        UserBody {
            sso_provider: learner.sso.as_ref().map(|s| s.provider_name.clone()),
            sso_only: Some(learner.sso_only),
            ..UserBody::of(&learner.account, None, None)
        }
    }

    /// A person of the users list.
    pub(crate) fn listed(user: &ListedUser) -> UserBody {
        UserBody {
            mfa_on: Some(user.mfa_on),
            sso_provider: user.sso.as_ref().map(|s| s.provider_name.clone()),
            ..UserBody::of(&user.account, None, None)
        }
    }

    /// One user, with everything their page shows.
    pub(crate) fn details(details: UserDetails) -> UserBody {
        let classes = details
            .classes
            .into_iter()
            .map(|c| UserClassBody {
                id: c.id.to_string(),
                name: c.name,
                membership: if c.teaching { "teaching" } else { "enrolled" },
            })
            .collect();
        let sso_links = details
            .sso_links
            .iter()
            .map(|link| SsoLinkBody {
                provider_id: link.provider_id.to_string(),
                provider_name: link.provider_name.clone(),
                linked_at: link.linked_at.secs(),
                last_used_at: link.last_used_at.map(|t| t.secs()),
            })
            .collect();
        UserBody {
            sso_only: Some(details.sso_only),
            sso_links: Some(sso_links),
            mfa_on: Some(details.mfa.on()),
            created_at: Some(details.created_at.secs()),
            custom_roles: Some(details.custom_roles),
            classes: Some(classes),
            mfa: Some(MfaBody {
                authenticator_app: details.mfa.authenticator_app,
                passkeys: details.mfa.passkeys,
            }),
            ..UserBody::of(
                &details.account,
                details.access_code,
                details.parent_access_code,
            )
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ActivateRequest {
    /// The access code or parent access code (case-sensitive; dashes and spaces are ignored).
    pub code: String,
    pub username: String,
    pub password: String,
    /// When sent, must equal `password`.
    pub confirm_password: Option<String>,
    /// Required for staff and parents.
    pub email: Option<String>,
    /// A parent's own name (required with a parent access code).
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

fn invalid(message: &'static str) -> AppError {
    AppError::from_coded(&CreateUserError::Invalid(message))
}

/// Create a pending user; the answer carries the access code (and, for a
/// learner, the parent access code), shown once here and again to staff.
#[utoipa::path(
    post,
    operation_id = "create_user",
    path = "/users",
    tag = "users",
    request_body = NewUser,
    responses(
        (status = 201, description = "Created, pending", body = CreatedBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found` (a school outside your scope)", body = ErrorBody),
        (status = 422, description = "`invalid_user`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<Response, AppError> {
    let request = body.into_request()?;
    let created = state
        .kw
        .create_user(&state.ctx(&client), &actor, &request)
        .await
        .map_err(coded)?;
    let answer = CreatedBody {
        id: created.id.to_string(),
        status: "pending",
        access_code: created.access_code,
        parent_access_code: created.parent_access_code,
    };
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

impl NewUser {
    /// The request to the core, with the role and the ids parsed.
    fn into_request(self) -> Result<NewPendingUser, AppError> {
        let role = NewPendingUser::parse_role(&self.role).map_err(coded)?;
        let school_id = match self.school_id.as_deref() {
            Some(id) => Some(SchoolId::parse(id).ok_or_else(AppError::not_found)?),
            None => None,
        };
        let class_ids = self
            .class_ids
            .iter()
            .map(|id| {
                ClassId::parse(id)
                    .ok_or_else(|| invalid("Every class must belong to the person's school."))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NewPendingUser {
            first_name: self.first_name,
            last_name: self.last_name,
            role,
            school_id,
            class_ids,
            email: self.email,
        })
    }
}

/// Show one user in your scope: roles, classes, status, last sign-in,
/// second factors, and the pending codes to those who may manage them.
#[utoipa::path(
    get,
    operation_id = "show_user",
    path = "/users/{id}",
    tag = "users",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The user", body = UserBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("session_cookie" = []), ("bearer_token" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<UserBody>, AppError> {
    let id = path_id(path, UserId::parse)?;
    let details = state
        .kw
        .show_user(&state.ctx(&client), &actor, &id)
        .await
        .map_err(coded)?;
    Ok(Json(UserBody::details(details)))
}

/// **Use a code**: choose a username and password with an access code or a
/// parent access code. Then sign in with them.
#[utoipa::path(
    post,
    operation_id = "activate",
    path = "/activate",
    tag = "users",
    request_body = ActivateRequest,
    responses(
        (status = 201, description = "The account is active", body = UserBody),
        (status = 404, description = "`code_unknown`", body = ErrorBody),
        (status = 409, description = "`username_taken`", body = ErrorBody),
        (status = 410, description = "`code_expired` or `code_used`", body = ErrorBody),
        (status = 422, description = "`password_policy` (with `violations`), `email_missing`, `email_invalid`, `username_*`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = ErrorBody),
        (status = 503, description = "`server_busy`", body = ErrorBody),
    ),
    security(())
)]
pub async fn activate(
    State(state): State<AppState>,
    client: Client,
    ApiJson(body): ApiJson<ActivateRequest>,
) -> Result<Response, AppError> {
    let input = ActivationInput {
        code: TypedCode::from(body.code),
        username: body.username,
        password: body.password.into(),
        confirm_password: body.confirm_password.map(Password::from),
        email: body.email,
        first_name: body.first_name,
        last_name: body.last_name,
    };
    let account = state
        .kw
        .activate(&state.ctx(&client), &input)
        .await
        .map_err(coded)?;
    Ok((
        StatusCode::CREATED,
        Json(UserBody::of(&account, None, None)),
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct ChildBody {
    pub first_name: String,
    pub last_name: String,
    /// `null` while the child's account waits for its access code.
    pub username: Option<String>,
}

impl From<keyward_core::activation::parents::Child> for ChildBody {
    fn from(c: keyward_core::activation::parents::Child) -> Self {
        ChildBody {
            first_name: c.first_name,
            last_name: c.last_name,
            username: c.username,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct LinkChild {
    /// The child's parent access code.
    pub parent_access_code: String,
}

/// The children linked to you (parents).
#[utoipa::path(
    get,
    operation_id = "list_children",
    path = "/me/children",
    tag = "users",
    responses(
        (status = 200, description = "Your children", body = Vec<ChildBody>),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    ),
    security(("session_cookie" = []))
)]
pub async fn children(
    State(state): State<AppState>,
    SessionActor(actor): SessionActor,
) -> Result<Json<Vec<ChildBody>>, AppError> {
    let children = state.kw.children_of(&actor).await?;
    Ok(Json(children.into_iter().map(ChildBody::from).collect()))
}

/// Link another child with their parent access code (parents).
#[utoipa::path(
    post,
    operation_id = "link_child",
    path = "/me/children",
    tag = "users",
    request_body = LinkChild,
    responses(
        (status = 200, description = "Linked", body = ChildBody),
        (status = 404, description = "`code_unknown` (also when you are not a parent)", body = ErrorBody),
        (status = 410, description = "`code_expired` or `code_used`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []))
)]
pub async fn link_child(
    State(state): State<AppState>,
    client: Client,
    SessionActor(actor): SessionActor,
    ApiJson(body): ApiJson<LinkChild>,
) -> Result<Json<ChildBody>, AppError> {
    let child = state
        .kw
        .link_child(
            &state.ctx(&client),
            &actor,
            &TypedCode::from(&body.parent_access_code),
        )
        .await
        .map_err(coded)?;
    Ok(Json(ChildBody::from(child)))
}

#[derive(Deserialize, ToSchema)]
pub struct NewRole {
    pub name: String,
    /// Permission names, e.g. `users.view`, `users.reset_password`.
    pub permissions: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RoleBody {
    pub id: String,
    pub school_id: String,
    pub name: String,
    pub permissions: Vec<&'static str>,
}

#[derive(Deserialize, ToSchema)]
pub struct GrantRole {
    pub role_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct AccessCodeBody {
    /// The new access code; the old one no longer works.
    pub access_code: String,
}

/// Define a custom role in a school (`roles.manage`).
#[utoipa::path(
    post,
    operation_id = "create_role",
    path = "/schools/{school_id}/roles",
    tag = "users",
    params(("school_id" = String, Path)),
    request_body = NewRole,
    responses(
        (status = 201, description = "Created", body = RoleBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_user` (unknown permission, bad name)", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn create_role(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<NewRole>,
) -> Result<Response, AppError> {
    let school = path_id(path, SchoolId::parse)?;
    let permissions = permissions_of(&body.permissions)?;
    let role = state
        .kw
        .create_custom_role(
            &state.ctx(&client),
            &actor,
            &school,
            &body.name,
            &permissions,
        )
        .await
        .map_err(coded)?;
    Ok((StatusCode::CREATED, Json(RoleBody::from(role))).into_response())
}

/// Permission names, parsed; an unknown one is `invalid_user`.
fn permissions_of(names: &[String]) -> Result<Vec<Permission>, AppError> {
    names
        .iter()
        .map(|p| Permission::parse(p).ok_or_else(|| invalid("Unknown permission name.")))
        .collect()
}

impl From<CustomRole> for RoleBody {
    fn from(role: CustomRole) -> Self {
        RoleBody {
            id: role.id,
            school_id: role.school_id.to_string(),
            name: role.name,
            permissions: role.permissions.iter().map(|p| p.as_str()).collect(),
        }
    }
}

/// Give a custom role to a person of its school.
#[utoipa::path(
    post,
    operation_id = "grant_role",
    path = "/users/{id}/roles",
    tag = "users",
    params(("id" = String, Path)),
    request_body = GrantRole,
    responses(
        (status = 204, description = "Granted"),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_user` (the role belongs to another school)", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn grant_role(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<GrantRole>,
) -> Result<StatusCode, AppError> {
    let user = path_id(path, UserId::parse)?;
    state
        .kw
        .grant_custom_role(&state.ctx(&client), &actor, &user, &body.role_id)
        .await
        .map_err(coded)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issue a fresh access code to a pending account; the old one stops working.
#[utoipa::path(
    post,
    operation_id = "reissue_access_code",
    path = "/users/{id}/access-code",
    tag = "users",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The new code", body = AccessCodeBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_user` (already set up)", body = ErrorBody),
    ),
    security(("session_cookie" = [], "csrf_header" = []), ("bearer_token" = []))
)]
pub async fn reissue_code(
    State(state): State<AppState>,
    client: Client,
    ApiActor(actor): ApiActor,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<AccessCodeBody>, AppError> {
    let user = path_id(path, UserId::parse)?;
    let access_code = state
        .kw
        .reissue_access_code(&state.ctx(&client), &actor, &user)
        .await
        .map_err(coded)?;
    Ok(Json(AccessCodeBody { access_code }))
}
