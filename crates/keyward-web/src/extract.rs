//! Extractors: who is on the other end (`Client`), request bodies whose
//! rejections speak the app's error format (`ApiJson`, `PageForm`,
//! `RepeatedForm`), the browser visitor with its session and CSRF binding
//! (`Visitor`), and the signed-in API caller (`ApiSession`). The signed-in
//! person together with their actor is `signed_in`'s.
//!
//! CSRF (R-ACC-6): a form's token is derived from a cookie the page cannot
//! read — the session cookie when signed in, otherwise a pre-session cookie —
//! so no token table is needed and nothing secret is stored. A signed-in
//! visitor's forms must carry the session's token; a pre-session token is
//! then refused.
//!
//! Cookies: every cookie keyward sets or reads is named through
//! [`AppState::cookie_name`], which on https gives it the `__Host-` prefix
//! (the browser then insists on `Secure`, `Path=/` and no `Domain`, so a
//! sibling subdomain cannot plant or shadow it).

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use keyward_core::error::Code;
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::net::SocketAddr;

use keyward_core::Ctx;
use keyward_core::accounts::{CSRF_PURPOSE, CurrentSession, PendingSignIn};
use keyward_core::crypto::tokens::{Token, constant_time_eq};
use keyward_core::types::UnixTime;

use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "kw_session";
pub const PRE_SESSION_COOKIE: &str = "kw_pre";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The device cookie a browser earns by signing in (R-LOCK-1): its sign-ins
/// to that account are throttled apart from everybody else's guesses.
pub const DEVICE_COOKIE: &str = "kw_device";
/// How long a device cookie is kept by the browser.
const DEVICE_COOKIE_DAYS: i64 = 180;
/// Holds the token of a sign-in waiting for its second step (a code or a
/// passkey); it lives as long as the step does.
pub const SIGN_IN_STEP_COOKIE: &str = "kw_step";
/// Holds the handle of this browser's latest recovery request, so the emailed
/// code can be entered here.
pub const RECOVERY_COOKIE: &str = "kw_recovery";
/// Binds a single sign-on sent to a provider to this browser: the callback
/// is finished only in the browser that started it (10 minutes).
pub const SSO_COOKIE: &str = "kw_sso";
/// How long the single sign-on cookie lives (the flow's own limit).
const SSO_COOKIE_SECS: i64 = 10 * 60;

/// The client's address and user agent, for throttling and the audit trail,
/// and the device cookie it presented, for sign-in throttling.
#[derive(Clone, Default)]
pub struct Client {
    /// The client's IP address as text: the TCP peer, or the address a
    /// trusted proxy names (see `forwarded`).
    pub addr: Option<String>,
    pub user_agent: Option<String>,
    pub device: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.addr)
            .field("user_agent", &self.user_agent)
            .field("device", &self.device.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Through axum's extractor, so that `MockConnectInfo` works in tests.
        let addr = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .ok()
            .map(|ConnectInfo(peer)| {
                crate::forwarded::client_ip(peer.ip(), &parts.headers, &state.trusted_proxies)
                    .to_string()
            });
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let jar = CookieJar::from_headers(&parts.headers);
        let device = state
            .cookie_value(&jar, DEVICE_COOKIE)
            .map(|value| value.chars().take(200).collect());
        Ok(Client {
            addr,
            user_agent,
            device,
        })
    }
}

impl AppState {
    /// The context of one use-case call: now, randomness, the client.
    pub fn ctx(&self, client: &Client) -> Ctx<'_> {
        Ctx::new(UnixTime::now(), &*self.rng)
            .with_client(client.addr.clone(), client.user_agent.clone())
            .with_device(client.device.clone())
    }

    /// The name a cookie really has: `__Host-<name>` on https, else `name`.
    /// Every cookie is set and read through this, so none can miss the prefix.
    pub fn cookie_name(&self, name: &'static str) -> Cow<'static, str> {
        if self.https {
            Cow::Owned(format!("__Host-{name}"))
        } else {
            Cow::Borrowed(name)
        }
    }

    /// The value of one of keyward's cookies in `jar`, by its base name.
    pub fn cookie_value<'j>(&self, jar: &'j CookieJar, name: &'static str) -> Option<&'j str> {
        jar.get(&self.cookie_name(name)).map(|c| c.value())
    }

    /// A cookie of keyward's: HttpOnly, SameSite=Lax, `Path=/`, never a
    /// `Domain`, and `Secure` with the `__Host-` prefix on https.
    pub fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build((self.cookie_name(name), value))
            .http_only(true)
            .secure(self.https)
            .same_site(SameSite::Lax)
            .path("/")
            .build()
    }

    pub fn session_cookie(&self, token: &Token) -> Cookie<'static> {
        self.cookie(SESSION_COOKIE, token.expose().to_owned())
    }

    /// The device cookie earned by a sign-in; kept for months, so the
    /// browser stays known after its session ends.
    pub fn device_cookie(&self, device_token: &str) -> Cookie<'static> {
        let mut cookie = self.cookie(DEVICE_COOKIE, device_token.to_owned());
        cookie.set_max_age(time::Duration::days(DEVICE_COOKIE_DAYS));
        cookie
    }

    pub fn recovery_cookie(&self, handle: &Token) -> Cookie<'static> {
        self.cookie(RECOVERY_COOKIE, handle.expose().to_owned())
    }

    /// The cookie of a sign-in waiting for its second step.
    pub fn sign_in_step_cookie(&self, pending: &PendingSignIn) -> Cookie<'static> {
        let mut cookie = self.cookie(SIGN_IN_STEP_COOKIE, pending.token.expose().to_owned());
        let secs = i64::try_from(pending.expires_in.as_secs()).unwrap_or(300);
        cookie.set_max_age(time::Duration::seconds(secs));
        cookie
    }

    /// The token of the pending second step this browser holds, if any.
    pub fn sign_in_step_token(&self, jar: &CookieJar) -> Option<Token> {
        self.cookie_value(jar, SIGN_IN_STEP_COOKIE)
            .and_then(Token::from_client)
    }

    /// A cookie that makes the browser forget its pending second step.
    pub fn expired_sign_in_step_cookie(&self) -> Cookie<'static> {
        let mut cookie = self.cookie(SIGN_IN_STEP_COOKIE, String::new());
        cookie.make_removal();
        cookie
    }

    /// The cookie binding a single sign-on to this browser. SameSite=Lax:
    /// the provider's redirect back is a cross-site top-level GET, which Lax
    /// lets through. `Path=/` like every cookie of keyward's: the `__Host-`
    /// prefix (on https) admits no other path.
    pub fn sso_cookie(&self, binding: &Token) -> Cookie<'static> {
        let mut cookie = self.cookie(SSO_COOKIE, binding.expose().to_owned());
        cookie.set_max_age(time::Duration::seconds(SSO_COOKIE_SECS));
        cookie
    }

    /// The binding secret of this browser's single sign-on, if any.
    pub fn sso_binding(&self, jar: &CookieJar) -> Option<Token> {
        self.cookie_value(jar, SSO_COOKIE)
            .and_then(Token::from_client)
    }

    /// A cookie that makes the browser forget its single sign-on.
    pub fn expired_sso_cookie(&self) -> Cookie<'static> {
        let mut cookie = self.cookie(SSO_COOKIE, String::new());
        cookie.make_removal();
        cookie
    }

    /// A cookie that makes the browser forget the session.
    pub fn expired_session_cookie(&self) -> Cookie<'static> {
        let mut cookie = self.cookie(SESSION_COOKIE, String::new());
        cookie.make_removal();
        cookie
    }
}

/// The `{id}` of a path, parsed into an id type (`ClassId::parse`, …); a
/// missing or malformed id is a plain 404, like an unknown one.
pub fn path_id<T>(
    path: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, AppError> {
    path.ok()
        .and_then(|axum::extract::Path(id)| parse(&id))
        .ok_or_else(AppError::not_found)
}

/// A JSON body; bad bodies become `invalid_json` (400),
/// `unsupported_media_type` (415), `payload_too_large` (413) or
/// `invalid_request` (422), in the app's error format.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => AppError::new(
            Code::UnsupportedMediaType,
            "Send the body as JSON with Content-Type: application/json.",
        ),
        JsonRejection::JsonSyntaxError(_) => {
            AppError::new(Code::InvalidJson, "The body is not valid JSON.")
        }
        JsonRejection::JsonDataError(err) => {
            AppError::new(Code::InvalidRequest, describe_data_error(&err.body_text()))
        }
        JsonRejection::BytesRejection(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::new(Code::PayloadTooLarge, "The request body is too large.")
        }
        _ => AppError::new(Code::InvalidBody, "The request body could not be read."),
    }
}

/// Names a missing field when serde says which; never echoes values sent
/// (they may be passwords).
fn describe_data_error(text: &str) -> String {
    match text
        .split("missing field `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
    {
        Some(field) => format!("The field `{field}` is missing."),
        None => "A field is missing or has the wrong type.".to_owned(),
    }
}

/// A urlencoded form body, with the same error treatment as `ApiJson`.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(PageForm(value)),
            Err(FormRejection::InvalidFormContentType(_)) => Err(AppError::new(
                Code::UnsupportedMediaType,
                "This form must be sent by a browser as a normal form.",
            )),
            Err(FormRejection::BytesRejection(err))
                if err.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(AppError::new(
                    Code::PayloadTooLarge,
                    "What you sent is too large.",
                ))
            }
            Err(_) => Err(AppError::new(
                Code::InvalidForm,
                "The form was incomplete. Go back, reload the page and try again.",
            )),
        }
    }
}

/// A urlencoded form whose fields may repeat (`class_ids=a&class_ids=b`),
/// read with `axum_extra`'s `Form`. Any problem with it, its content type
/// included, is `invalid_form` (400).
pub struct RepeatedForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for RepeatedForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum_extra::extract::Form::<T>::from_request(req, state).await {
            Ok(axum_extra::extract::Form(value)) => Ok(RepeatedForm(value)),
            Err(_) => Err(AppError::new(
                Code::InvalidForm,
                "The form was incomplete. Go back, reload the page and try again.",
            )),
        }
    }
}

/// A browser visitor: the live session if any, and the CSRF binding.
pub struct Visitor {
    pub session: Option<CurrentSession>,
    /// The name of the signed-in person's school, shown on every page.
    pub school_name: Option<String>,
    /// What the menu offers (role, school, custom roles), and the page asked
    /// for, which the menu marks.
    pub menu: Option<keyward_core::authz::Actor>,
    pub path: String,
    pub session_token: Option<Token>,
    pre_token: Token,
    pre_is_new: bool,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let client = Client::from_request_parts(parts, state)
            .await
            .unwrap_or_default();
        let session_token = state
            .cookie_value(&jar, SESSION_COOKIE)
            .and_then(Token::from_client);
        let session = match &session_token {
            Some(token) => state.kw.current_session(&state.ctx(&client), token).await?,
            None => None,
        };
        // The person's own language replaces the browser's for this request.
        if let Some(locale) = session.as_ref().and_then(|s| s.account.locale) {
            keyward_core::i18n::choose(locale);
        }
        let school_name = match &session {
            Some(session) => state
                .kw
                .school_of_session(session)
                .await
                .map_err(|e| AppError::from_coded(&e))?
                .map(|school| school.name),
            None => None,
        };
        let menu = match &session {
            Some(session) => Some(state.kw.menu_actor(&session.account).await?),
            None => None,
        };
        let existing_pre = state
            .cookie_value(&jar, PRE_SESSION_COOKIE)
            .and_then(Token::from_client);
        let (pre_token, pre_is_new) = match existing_pre {
            Some(token) => (token, false),
            None => (
                Token::generate(&*state.rng).map_err(keyward_core::error::Internal::from)?,
                true,
            ),
        };
        Ok(Visitor {
            session,
            school_name,
            menu,
            path: parts.uri.path().to_owned(),
            session_token,
            pre_token,
            pre_is_new,
        })
    }
}

impl Visitor {
    /// The token to put in this page's forms.
    pub fn csrf_token(&self) -> String {
        match &self.session {
            Some(session) => session.csrf_token.clone(),
            None => self.pre_token.derive(CSRF_PURPOSE),
        }
    }

    /// Accepts the session's token when signed in, and otherwise only a
    /// token bound to the pre-session cookie: once signed in, a token from
    /// before (which a page of the same browser may have leaked) no longer
    /// counts.
    pub fn verify_csrf(&self, submitted: &str) -> Result<(), AppError> {
        let ok = match &self.session {
            Some(session) => constant_time_eq(&session.csrf_token, submitted),
            None => {
                !self.pre_is_new
                    && constant_time_eq(&self.pre_token.derive(CSRF_PURPOSE), submitted)
            }
        };
        if ok { Ok(()) } else { Err(AppError::csrf()) }
    }

    /// Cookies this visit must set (a fresh pre-session cookie).
    pub fn jar(&self, state: &AppState) -> CookieJar {
        let jar = CookieJar::new();
        if self.pre_is_new {
            jar.add(state.cookie(PRE_SESSION_COOKIE, self.pre_token.expose().to_owned()))
        } else {
            jar
        }
    }

    /// A response with this visit's cookies attached.
    pub fn respond(&self, state: &AppState, response: impl IntoResponse) -> Response {
        (self.jar(state), response).into_response()
    }
}

/// A signed-in API caller (session cookie). State-changing calls must carry
/// the session's CSRF token in `X-CSRF-Token`.
/// The `Authorization` header of an API call, if it has one. When it is
/// there the call is a bearer call: cookies are not read at all, no CSRF
/// token is needed, and calls on one's own account refuse it
/// (`token_not_allowed`).
pub fn authorization(headers: &axum::http::HeaderMap) -> Option<&axum::http::HeaderValue> {
    headers.get(header::AUTHORIZATION)
}

/// The secret of `Authorization: Bearer <secret>` (the scheme in any case);
/// `None` for any other form of the header.
pub fn bearer_secret(value: &axum::http::HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?;
    let (scheme, secret) = text.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| secret.trim())
        .filter(|s| !s.is_empty())
}

/// The signed-in API caller through their session cookie (never a bearer
/// token: a call with `Authorization` is refused with `token_not_allowed`).
pub struct ApiSession {
    pub session: CurrentSession,
    pub token: Token,
}

impl FromRequestParts<AppState> for ApiSession {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if authorization(&parts.headers).is_some() {
            return Err(AppError::new(
                Code::TokenNotAllowed,
                "This call acts on your own account or tokens: sign in and use the session, not an API token.",
            ));
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let client = Client::from_request_parts(parts, state)
            .await
            .unwrap_or_default();
        let token = state
            .cookie_value(&jar, SESSION_COOKIE)
            .and_then(Token::from_client)
            .ok_or_else(AppError::unauthenticated)?;
        let session = state
            .kw
            .current_session(&state.ctx(&client), &token)
            .await?
            .ok_or_else(AppError::unauthenticated)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent, &session.csrf_token) {
                return Err(AppError::new(
                    Code::CsrfFailed,
                    "Send the csrf_token from the sign-in answer or GET /api/v1/me in the X-CSRF-Token header.",
                ));
            }
        }
        Ok(ApiSession { session, token })
    }
}
