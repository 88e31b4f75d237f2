//! Required two-step verification (R-MFA-1): a person whose role must have a
//! second factor and has none yet (`CurrentSession::mfa_enrolment_due`) can
//! only set one up. Every other page takes them to Account Settings >
//! Two-step verification; every other API call answers 403
//! `mfa_enrolment_required`. Signing in and out, the enrolment pages and
//! calls, `GET /api/v1/me` and static files stay open. A call with an
//! `Authorization` header reads no cookie, so it passes here: the API token's
//! use case refuses it (403 `mfa_enrolment_required`) while its owner is held.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;

use keyward_core::crypto::tokens::Token;
use keyward_core::error::Code;
use keyward_core::types::UnixTime;

use crate::error::AppError;
use crate::extract::{SESSION_COOKIE, authorization};
use crate::state::AppState;

/// Where a person held at enrolment is sent.
pub const ENROLMENT_PAGE: &str = "/account/mfa";

/// Addresses (and everything under them) open while enrolment is due.
const OPEN_PREFIXES: &[&str] = &[
    "/account/mfa",
    "/account/passkeys",
    "/api/v1/me/mfa",
    "/api/v1/me/passkeys",
    "/api/v1/session",
    "/signin",
    "/static/",
];

/// Addresses open as they are.
const OPEN_EXACT: &[&str] = &["/signout", "/healthz", "/readyz", "/api/v1/openapi.json"];

/// Whether `path` may be used by a person who must enrol first.
pub fn open_while_enrolling(method: &Method, path: &str) -> bool {
    OPEN_EXACT.contains(&path)
        || (path == "/api/v1/me" && method == Method::GET)
        || OPEN_PREFIXES.iter().any(|prefix| {
            path == prefix.trim_end_matches('/')
                || path.starts_with(&format!("{}/", prefix.trim_end_matches('/')))
        })
}

/// Holds people whose enrolment is due at it.
pub async fn hold_at_enrolment(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if open_while_enrolling(request.method(), request.uri().path())
        || authorization(request.headers()).is_some()
    {
        // A bearer call reads no cookie; the token's use case refuses a
        // token whose owner is held at enrolment.
        return next.run(request).await;
    }
    let jar = CookieJar::from_headers(request.headers());
    let Some(token) = state
        .cookie_value(&jar, SESSION_COOKIE)
        .and_then(Token::from_client)
    else {
        return next.run(request).await;
    };
    let ctx = keyward_core::Ctx::new(UnixTime::now(), &*state.rng);
    match state.kw.current_session(&ctx, &token).await {
        Ok(Some(session)) if session.mfa_enrolment_due => refuse(request.uri().path()),
        Ok(_) => next.run(request).await,
        // Unsure who this is: refuse (503 when the database is busy) rather
        // than let a held person through.
        Err(err) => AppError::internal(&err).into_response(),
    }
}

fn refuse(path: &str) -> Response {
    if path.starts_with("/api/") {
        AppError::new(
            Code::MfaEnrolmentRequired,
            "Turn on two-step verification first: your account must have it.",
        )
        .into_response()
    } else {
        Redirect::to(ENROLMENT_PAGE).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_enrolment_signing_in_and_out_and_static_files_are_open() {
        for (method, path) in [
            (Method::GET, "/account/mfa"),
            (Method::POST, "/account/mfa/totp"),
            (Method::POST, "/api/v1/me/mfa/totp/confirm"),
            (Method::POST, "/api/v1/session"),
            (Method::POST, "/api/v1/session/mfa"),
            (Method::DELETE, "/api/v1/session"),
            (Method::GET, "/api/v1/me"),
            (Method::POST, "/signout"),
            (Method::GET, "/signin/verify"),
            (Method::GET, "/static/app.css"),
            (Method::GET, "/static/app.js"),
        ] {
            assert!(open_while_enrolling(&method, path), "{method} {path}");
        }
        for (method, path) in [
            (Method::GET, "/home"),
            (Method::GET, "/account"),
            (Method::GET, "/account/mfa-x"),
            (Method::GET, "/account/password"),
            (Method::GET, "/users"),
            (Method::GET, "/api/v1/users"),
            (Method::POST, "/api/v1/me/password"),
            (Method::GET, "/api/v1/me/sessions"),
            (Method::GET, "/api/v1/sessionx"),
            (Method::GET, "/assets/app.css"),
        ] {
            assert!(!open_while_enrolling(&method, path), "{method} {path}");
        }
    }
}
