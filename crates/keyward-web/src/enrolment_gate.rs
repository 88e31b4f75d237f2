//! Sessions held to one task before anything else, in one middleware so no
//! handler can forget it:
//!
//! - a temporary password from an administrator (R-ADM-3,
//!   `CurrentSession::password_change_due`): only the password change is
//!   open; other pages redirect to `/account/password`, other API calls
//!   answer 403 `password_change_required`. This hold comes first (the
//!   enrolment below waits until the password is the person's own);
//! - required two-step verification (R-MFA-1): a person whose role must have
//!   a second factor and has none yet (`CurrentSession::mfa_enrolment_due`)
//!   can only set one up. Every other page takes them to Account Settings >
//!   Two-step verification; every other API call answers 403
//!   `mfa_enrolment_required`.
//!
//! Signing in and out, `GET /api/v1/me` and static files stay open to both.
//! A call with an `Authorization` header reads no cookie, so it passes here:
//! the API token's use case refuses it while its owner is held.

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
    "/sso",
    "/static/",
];

/// Addresses open as they are.
const OPEN_EXACT: &[&str] = &["/signout", "/healthz", "/readyz", "/api/v1/openapi.json"];

/// Where a person holding a temporary password is sent.
pub const PASSWORD_PAGE: &str = "/account/password";

/// Addresses (and everything under them) open while a password change is due.
const OPEN_WHILE_CHANGING: &[&str] = &[
    "/account/password",
    "/api/v1/me/password",
    "/api/v1/session",
    "/signin",
    "/sso",
    "/static/",
];

fn under(path: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|prefix| {
        path == prefix.trim_end_matches('/')
            || path.starts_with(&format!("{}/", prefix.trim_end_matches('/')))
    })
}

fn open_to_everyone_held(method: &Method, path: &str) -> bool {
    OPEN_EXACT.contains(&path) || (path == "/api/v1/me" && method == Method::GET)
}

/// Whether `path` may be used by a person who must enrol first.
pub fn open_while_enrolling(method: &Method, path: &str) -> bool {
    open_to_everyone_held(method, path) || under(path, OPEN_PREFIXES)
}

/// Whether `path` may be used by a person who must replace a temporary
/// password first.
pub fn open_while_changing_password(method: &Method, path: &str) -> bool {
    open_to_everyone_held(method, path) || under(path, OPEN_WHILE_CHANGING)
}

/// Holds people whose enrolment is due at it.
pub async fn hold_at_enrolment(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (method, path) = (request.method(), request.uri().path());
    let open_to_all_held =
        open_while_enrolling(method, path) && open_while_changing_password(method, path);
    // A bearer call to the API reads no cookie; the token's use case refuses
    // a token whose owner is held. Pages always read the cookie, so an
    // `Authorization` header opens nothing there.
    let bearer_call = path.starts_with("/api/") && authorization(request.headers()).is_some();
    if open_to_all_held || bearer_call {
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
    let (method, path) = (request.method(), request.uri().path());
    match state.kw.current_session(&ctx, &token).await {
        Ok(Some(session))
            if session.password_change_due && !open_while_changing_password(method, path) =>
        {
            refuse_until_changed(path)
        }
        Ok(Some(session))
            if session.mfa_enrolment_due
                && !session.password_change_due
                && !open_while_enrolling(method, path) =>
        {
            refuse(path)
        }
        Ok(_) => next.run(request).await,
        // Unsure who this is: refuse (503 when the database is busy) rather
        // than let a held person through.
        Err(err) => AppError::internal(&err).into_response(),
    }
}

fn refuse_until_changed(path: &str) -> Response {
    if path.starts_with("/api/") {
        AppError::new(
            Code::PasswordChangeRequired,
            "Choose your own password first (POST /api/v1/me/password): you signed in with a temporary one.",
        )
        .into_response()
    } else {
        Redirect::to(PASSWORD_PAGE).into_response()
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

    #[test]
    fn only_the_password_change_signing_in_and_out_and_static_files_are_open() {
        for (method, path) in [
            (Method::GET, "/account/password"),
            (Method::POST, "/account/password"),
            (Method::POST, "/api/v1/me/password"),
            (Method::POST, "/api/v1/session"),
            (Method::DELETE, "/api/v1/session"),
            (Method::GET, "/api/v1/me"),
            (Method::POST, "/signout"),
            (Method::GET, "/static/app.css"),
        ] {
            assert!(
                open_while_changing_password(&method, path),
                "{method} {path}"
            );
        }
        for (method, path) in [
            (Method::GET, "/home"),
            (Method::GET, "/account"),
            (Method::GET, "/account/mfa"),
            (Method::GET, "/account/passwordx"),
            (Method::GET, "/users"),
            (Method::POST, "/api/v1/me/email"),
            (Method::POST, "/api/v1/me/mfa/totp"),
            (Method::GET, "/api/v1/me/sessions"),
        ] {
            assert!(
                !open_while_changing_password(&method, path),
                "{method} {path}"
            );
        }
    }
}
