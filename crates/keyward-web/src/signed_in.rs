//! Who is acting, as extractors: the signed-in person together with the
//! `Actor` the core's use cases authorize (role, school, custom-role grants
//! and taught classes, loaded once per request).
//!
//! - [`ApiActor`], for the JSON API: with an `Authorization` header, the
//!   API token's actor (the owner's current actor narrowed to the token; 401
//!   `token_invalid`, `token_expired`, `token_revoked`; no cookie is read and
//!   no CSRF token is needed); without one, the checks of [`ApiSession`] (401
//!   `unauthenticated` without a live session, 403 `csrf_failed` for a change
//!   without the session's `X-CSRF-Token`), then the actor.
//! - [`SignedIn<R>`], for a page: the visitor, their session and actor, or
//!   else a redirect to sign in that returns to the page `R` names.
//! - [`SignedIn<R, F>`], for a page's form post: the form `F` is read and its
//!   CSRF token checked *before* the sign-in is, so a form whose session has
//!   ended is refused as expired (403), never silently redirected.
//!
//! Neither the API nor the pages own these, so both use them from here.

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use keyward_core::accounts::CurrentSession;
use keyward_core::authz::Actor;
use keyward_core::crypto::tokens::Token;

use crate::error::{AppError, coded};
use crate::extract::{
    ApiSession, Client, PageForm, RepeatedForm, Visitor, authorization, bearer_secret,
};
use crate::state::AppState;

/// The signed-in API caller's actor.
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(value) = authorization(&parts.headers).cloned() {
            // A bearer call: the token's actor, and no cookie is read.
            let client = Client::from_request_parts(parts, state)
                .await
                .unwrap_or_default();
            let secret = bearer_secret(&value).unwrap_or("");
            let actor = state
                .kw
                .bearer_actor(&state.ctx(&client), secret)
                .await
                .map_err(coded)?;
            return Ok(ApiActor(actor));
        }
        let caller = ApiSession::from_request_parts(parts, state).await?;
        Ok(ApiActor(state.kw.actor_of_session(&caller.session).await?))
    }
}

/// The API caller's actor through their session alone: for calls on one's
/// own tokens, which an API token may not make (403 `token_not_allowed`).
pub struct SessionActor(pub Actor);

impl FromRequestParts<AppState> for SessionActor {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = ApiSession::from_request_parts(parts, state).await?;
        Ok(SessionActor(
            state.kw.actor_of_session(&caller.session).await?,
        ))
    }
}

/// Where a page sends a visitor who is not signed in: `/signin`, naming
/// the page to return to afterwards (if any).
pub trait ReturnTo {
    /// The page to come back to after signing in; `None` for a plain
    /// `/signin` (which then leads home).
    const PAGE: Option<&'static str>;
}

/// One marker type per page that sign-in can return to.
pub mod return_to {
    use super::ReturnTo;

    macro_rules! pages {
        ($($(#[$doc:meta])* $name:ident => $page:expr,)+) => {
            $(
                $(#[$doc])*
                pub struct $name;

                impl ReturnTo for $name {
                    const PAGE: Option<&'static str> = $page;
                }
            )+

            /// Every page named above, for the test that sign-in accepts them.
            #[cfg(test)]
            pub const ALL: &[Option<&str>] = &[$($page),+];
        };
    }

    pages! {
        /// A plain `/signin`, which leads home.
        NoPage => None,
        Account => Some("/account"),
        AccountPassword => Some("/account/password"),
        AccountEmail => Some("/account/email"),
        AccountLanguage => Some("/account/language"),
        AccountMfa => Some("/account/mfa"),
        AccountSessions => Some("/account/sessions"),
        AccountPasskeys => Some("/account/passkeys"),
        AccountTokens => Some("/account/tokens"),
        Home => Some("/home"),
        Classes => Some("/classes"),
        School => Some("/school"),
        SchoolStudents => Some("/school/students"),
        SchoolAccounts => Some("/school/accounts"),
        Users => Some("/users"),
        Children => Some("/children"),
        Audit => Some("/audit"),
    }
}

/// The sign-in address that returns to `page` afterwards.
fn sign_in_then(page: &str) -> String {
    format!(
        "/signin?next={}",
        url::form_urlencoded::byte_serialize(page.as_bytes()).collect::<String>()
    )
}

/// A signed-in page visitor with their actor, and the form `F` they sent
/// (none for a page that is only shown). `R` says where sign-in returns.
pub struct SignedIn<R, F = ()> {
    /// The visit, for the navigation menu, CSRF tokens and cookies.
    pub visitor: Visitor,
    pub session: CurrentSession,
    /// The session's token, as the session cookie carries it.
    pub token: Token,
    pub actor: Actor,
    pub form: F,
    return_to: PhantomData<fn() -> R>,
}

impl<R: ReturnTo, F> SignedIn<R, F> {
    /// The visitor signed in, with their actor; or the answer to send
    /// instead: the redirect to sign in (or an error loading the actor).
    pub async fn resolve(state: &AppState, visitor: Visitor, form: F) -> Result<Self, Response> {
        let (Some(session), Some(token)) = (visitor.session.clone(), visitor.session_token.clone())
        else {
            let to = R::PAGE.map_or_else(|| "/signin".to_owned(), sign_in_then);
            return Err(Redirect::to(&to).into_response());
        };
        let actor = state
            .kw
            .actor_of_session(&session)
            .await
            .map_err(|err| AppError::from(err).into_response())?;
        Ok(SignedIn {
            visitor,
            session,
            token,
            actor,
            form,
            return_to: PhantomData,
        })
    }
}

impl<R: ReturnTo> FromRequestParts<AppState> for SignedIn<R> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let visitor = Visitor::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        SignedIn::resolve(state, visitor, ()).await
    }
}

/// A page form that carries the CSRF token of the page it came from.
pub trait CsrfForm {
    fn csrf_token(&self) -> &str;
}

impl<T: CsrfForm> CsrfForm for PageForm<T> {
    fn csrf_token(&self) -> &str {
        self.0.csrf_token()
    }
}

impl<T: CsrfForm> CsrfForm for RepeatedForm<T> {
    fn csrf_token(&self) -> &str {
        self.0.csrf_token()
    }
}

/// Implements [`CsrfForm`] for form structs with a `csrf_token: String` field.
macro_rules! csrf_forms {
    ($($form:ty),+ $(,)?) => {
        $(
            impl $crate::signed_in::CsrfForm for $form {
                fn csrf_token(&self) -> &str {
                    &self.csrf_token
                }
            }
        )+
    };
}
pub(crate) use csrf_forms;

/// A form post of a signed-in visitor: the visit, then the form (its own
/// 400/413/415), then its CSRF token (403), then the sign-in (a redirect).
impl<R, F> FromRequest<AppState> for SignedIn<R, F>
where
    R: ReturnTo,
    F: CsrfForm + FromRequest<AppState, Rejection = AppError> + Send,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let visitor = Visitor::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let form = F::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        visitor
            .verify_csrf(form.csrf_token())
            .map_err(IntoResponse::into_response)?;
        SignedIn::resolve(state, visitor, form).await
    }
}
