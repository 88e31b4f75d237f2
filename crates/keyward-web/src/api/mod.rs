//! The JSON API under `/api/v1` (R-API-1). Every route is declared through
//! utoipa, so `/api/v1/openapi.json` is generated from the handlers and their
//! types, never written by hand.

mod audit;
mod class_reset;
mod classroom;
mod credentials;
mod directory;
mod doc;
mod join;
mod learners;
mod links;
mod me_email;
mod me_locale;
mod me_sessions;
mod mfa;
mod passkeys;
mod policy;
mod recovery;
mod roster;
mod session;
mod sso_links;
mod sso_providers;
mod tokens;
mod user_admin;
mod user_status;
mod users;

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::extract::{CSRF_HEADER, SESSION_COOKIE, SIGN_IN_STEP_COOKIE};
use crate::state::AppState;

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code, for example `invalid_credentials`.
    pub error: String,
    /// A sentence for people.
    pub message: String,
    /// The request id, also in the `x-request-id` header.
    pub request_id: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "keyward",
        description = "Accounts and password recovery for schools and organisations.",
        license(name = "AGPL-3.0-or-later")
    ),
    tags(
        (name = "session", description = "Signing in and out, and the signed-in user"),
        (name = "mfa", description = "Two-step verification of the signed-in user: authenticator app and recovery codes"),
        (name = "recovery", description = "Forgot password: reset by emailed link or code"),
        (name = "policy", description = "Password rules per school and kind of user"),
        (name = "schools", description = "Schools, classes and the class database"),
        (name = "users", description = "Users, access codes and Use a code"),
        (name = "learners", description = "Teachers and learners: reset, generate or show a learner's password"),
        (name = "tokens", description = "API tokens for scripts: create, list, revoke (with a session; a token sends `Authorization: Bearer kw_…`)"),
        (name = "audit", description = "The audit log: who did what, to whom, from where and when"),
        (name = "sso", description = "Single sign-on: a school's OpenID Connect providers, and the Sign in with … choices")
    ),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes)
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            doc::SESSION_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "Set by POST /api/v1/session (named `__Host-kw_session` when the public URL is https). Changes also need the session's CSRF token in X-CSRF-Token.",
            ))),
        );
        components.add_security_scheme(
            "sign_in_step_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SIGN_IN_STEP_COOKIE,
                "Set by POST /api/v1/session when it answers `mfa_required` (named `__Host-kw_step` when the public URL is https); lives five minutes.",
            ))),
        );
        components.add_security_scheme(
            doc::BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`kw_…`) made at Account Settings > API tokens, POST /api/v1/tokens or `keyward token create`. With it no cookie is read and no CSRF token is needed; it acts with the owner's current permissions narrowed to the token's.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "csrf_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(CSRF_HEADER))),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(
        "/api/v1",
        OpenApiRouter::new()
            .routes(routes!(session::sign_in, session::sign_out))
            .routes(routes!(session::me))
            .routes(routes!(passkeys::list, passkeys::finish_registration))
            .routes(routes!(passkeys::start_registration))
            .routes(routes!(passkeys::rename, passkeys::remove))
            .routes(routes!(session::finish_sign_in_mfa))
            .routes(routes!(session::start_passkey_sign_in))
            .routes(routes!(session::finish_passkey_sign_in))
            .routes(routes!(session::start_sign_in_mfa_passkey))
            .routes(routes!(session::finish_sign_in_mfa_passkey))
            .routes(routes!(mfa::status, mfa::disable))
            .routes(routes!(mfa::start_totp))
            .routes(routes!(mfa::confirm_totp))
            .routes(routes!(mfa::recovery_codes))
            .routes(routes!(mfa::school_rule, mfa::set_school_rule))
            .routes(routes!(me_sessions::list, me_sessions::end_others))
            .routes(routes!(me_sessions::end_one))
            .routes(routes!(recovery::change_password))
            .routes(routes!(me_email::change_email))
            .routes(routes!(me_locale::set_locale))
            .routes(routes!(recovery::request))
            .routes(routes!(recovery::code))
            .routes(routes!(recovery::check, recovery::reset))
            .routes(routes!(policy::show))
            .routes(routes!(policy::update))
            .routes(routes!(classroom::create_school))
            .routes(routes!(classroom::create_class))
            .routes(routes!(classroom::class_database))
            .routes(routes!(users::create, directory::list))
            .routes(routes!(directory::class_learners))
            .routes(routes!(directory::school_learners))
            .routes(routes!(credentials::class_csv))
            .routes(routes!(credentials::school_csv))
            .routes(routes!(users::show))
            .routes(routes!(users::activate))
            .routes(routes!(users::children, users::link_child))
            .routes(routes!(users::create_role))
            .routes(routes!(users::grant_role))
            .routes(routes!(users::reissue_code))
            .routes(routes!(user_status::disable))
            .routes(routes!(user_status::enable))
            .routes(routes!(sso_links::unlink))
            .routes(routes!(user_admin::password_reset))
            .routes(routes!(user_admin::temporary_password))
            .routes(routes!(user_admin::mfa_reset))
            .routes(routes!(join::join))
            .routes(routes!(learners::reset, learners::reveal))
            .routes(routes!(class_reset::reset))
            .routes(routes!(learners::settings, learners::update_settings))
            .routes(routes!(join::join_another_class))
            .routes(routes!(join::show_class_code, join::change_class_code))
            .routes(routes!(tokens::create, tokens::list))
            .routes(routes!(tokens::revoke))
            .routes(routes!(audit::browse))
            .routes(routes!(audit::export_csv))
            .routes(routes!(sso_providers::create, sso_providers::list))
            .routes(routes!(sso_providers::remove))
            .routes(routes!(sso_providers::choices))
            .merge(roster::routes()),
    );
    // After the routes: the shared answers follow from each operation.
    doc::add_shared_answers(router.get_openapi_mut());
    links::add_links(router.get_openapi_mut());
    router
}

/// The OpenAPI document, as served at `/api/v1/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

pub fn routes() -> Router<AppState> {
    let (router, document) = api_router().split_for_parts();
    router.route(
        "/api/v1/openapi.json",
        get(move || async move { Json(document.clone()) }),
    )
}
