//! **Forgot password?** as the seeds show it: identify the account (by
//! username with **Next**, or email and username with **Send Reset Link**),
//! then "check your email" with a box for the emailed code, then the reset
//! page reached by the link or the code. Every answer to a request is the
//! same page, whatever the account's state. A reset link of someone who now
//! signs in only with their school's provider opens a page that sends them
//! there (`recovery_sso.html`) and sets no password.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use keyward_core::i18n::Translate as _;
use serde::Deserialize;

use keyward_core::Ctx;
use keyward_core::i18n;
use keyward_core::policy::Hint;
use keyward_core::recovery::{
    LinkError, RecoveryInput, RecoveryRequestError, RedeemCodeError, ResetError, ResetLink,
};
use keyward_core::settings::IdentifyBy;
use keyward_core::types::TypedCode;

use super::{Nav, render};
use crate::error::AppError;
use crate::extract::{Client, PageForm, RECOVERY_COOKIE, Visitor};
use crate::shared::query::query_param;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "recovery_request.html")]
struct RequestPage {
    nav: Option<Nav>,
    csrf_token: String,
    ask_username: bool,
    ask_email: bool,
    button: &'static str,
    username: String,
    email: String,
    errors: Vec<String>,
    /// The field the errors are about (`username`, `email`), shown under
    /// it; empty: above the form.
    errors_at: &'static str,
}

#[derive(Template)]
#[template(path = "recovery_sent.html")]
struct SentPage {
    nav: Option<Nav>,
    csrf_token: String,
    link_ttl: String,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "recovery_reset.html")]
struct ResetPage {
    nav: Option<Nav>,
    csrf_token: String,
    action: String,
    /// Empty when the person must type it (`recovery.confirm_username`): the
    /// page then carries it nowhere, not even for the live password hints.
    username: String,
    ask_username: bool,
    hints: Vec<Hint>,
    errors: Vec<String>,
    /// The field the errors are about (`username`, `password`), shown
    /// under it; empty: above the form.
    errors_at: &'static str,
}

impl ResetPage {
    fn new(visitor: &Visitor, token: &str, link: &ResetLink, told: Refusal) -> ResetPage {
        let (errors, errors_at) = told;
        ResetPage {
            nav: Nav::of(visitor),
            csrf_token: visitor.csrf_token(),
            action: format!("/recovery/{token}"),
            username: if link.ask_username {
                String::new()
            } else {
                link.username.to_string()
            },
            ask_username: link.ask_username,
            hints: link.policy.hints(),
            errors,
            // Under a field the page shows, else above the form.
            errors_at: if errors_at == "username" && !link.ask_username {
                ""
            } else {
                errors_at
            },
        }
    }
}

/// A refused reset in words, and the field it is about.
type Refusal = (Vec<String>, &'static str);

#[derive(Template)]
#[template(path = "link_problem.html")]
struct LinkProblemPage {
    nav: Option<Nav>,
    /// Message ids of the heading and the button.
    heading: &'static str,
    message: String,
    button: &'static str,
}

/// A reset link of someone who signs in only with their school's provider.
#[derive(Template)]
#[template(path = "recovery_sso.html")]
struct SignsInWithSsoPage {
    nav: Option<Nav>,
    provider: String,
    start: String,
}

fn signs_in_with_sso(visitor: &Visitor, err: &ResetError) -> Option<Response> {
    let ResetError::SignsInWithSso(sso) = err else {
        return None;
    };
    let page = SignsInWithSsoPage {
        nav: Nav::of(visitor),
        provider: sso.provider_name.clone(),
        start: sso.start_path(),
    };
    Some(render(AppError::from_coded(err).status, &page))
}

#[derive(Template)]
#[template(path = "not_me.html")]
struct NotMePage {
    nav: Option<Nav>,
    csrf_token: String,
    action: String,
    done: bool,
}

fn request_page(
    state: &AppState,
    visitor: &Visitor,
    username: String,
    email: String,
    errors: Vec<String>,
) -> RequestPage {
    let mode = state.kw.settings().recovery.identify_by;
    RequestPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        ask_username: matches!(mode, IdentifyBy::Username | IdentifyBy::EmailAndUsername),
        ask_email: matches!(mode, IdentifyBy::Email | IdentifyBy::EmailAndUsername),
        // Seed 000 says Next after the username; seed 001 says Send Reset Link.
        button: if mode == IdentifyBy::Username {
            "recovery-next"
        } else {
            "recovery-send-reset-link"
        },
        username: username.chars().take(64).collect(),
        email: email.chars().take(254).collect(),
        errors,
        errors_at: "",
    }
}

pub async fn request_form(
    State(state): State<AppState>,
    visitor: Visitor,
    RawQuery(query): RawQuery,
) -> Response {
    let username = query_param(query.as_deref(), "username");
    let page = request_page(&state, &visitor, username, String::new(), Vec::new());
    visitor.respond(&state, render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    csrf_token: String,
    username: Option<String>,
    email: Option<String>,
}

pub async fn submit_request(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    PageForm(form): PageForm<RequestForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    let input = RecoveryInput {
        username: form.username,
        email: form.email,
    };
    let ctx = state.ctx(&client);
    let asked = state.kw.request_recovery(&ctx, &input);
    match crate::pacing::no_sooner_than(crate::pacing::RECOVERY_ANSWER_FLOOR, asked).await {
        Ok(accepted) => {
            let jar = visitor
                .jar(&state)
                .add(state.recovery_cookie(&accepted.handle));
            Ok((jar, Redirect::to("/recovery/sent")).into_response())
        }
        Err(RecoveryRequestError::Internal(err)) => Err(AppError::internal(&err)),
        Err(err) => {
            let page = request_refused(&state, &visitor, input, &err);
            Ok(visitor.respond(&state, render(StatusCode::UNPROCESSABLE_ENTITY, &page)))
        }
    }
}

/// The request page again, its problem under the field it is about.
fn request_refused(
    state: &AppState,
    visitor: &Visitor,
    input: RecoveryInput,
    err: &RecoveryRequestError,
) -> RequestPage {
    let (username, email) = (input.username, input.email);
    let (username, email) = (username.unwrap_or_default(), email.unwrap_or_default());
    let mut page = request_page(state, visitor, username, email, vec![super::words(err)]);
    page.errors_at = match err {
        RecoveryRequestError::UsernameMissing if page.ask_username => "username",
        RecoveryRequestError::EmailMissing if page.ask_email => "email",
        _ => "",
    };
    page
}

fn sent_page(state: &AppState, visitor: &Visitor, errors: Vec<String>) -> SentPage {
    SentPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        link_ttl: i18n::duration_words(state.kw.settings().recovery.link_ttl),
        errors,
    }
}

pub async fn sent(State(state): State<AppState>, visitor: Visitor) -> Response {
    let page = sent_page(&state, &visitor, Vec::new());
    visitor.respond(&state, render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
}

pub async fn submit_code(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    jar: CookieJar,
    PageForm(form): PageForm<CodeForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    let handle = state
        .cookie_value(&jar, RECOVERY_COOKIE)
        .unwrap_or_default()
        .to_owned();
    match state
        .kw
        .redeem_recovery_code(&state.ctx(&client), &handle, &TypedCode::from(&form.code))
        .await
    {
        Ok(token) => Ok(Redirect::to(&format!("/recovery/{}", token.expose())).into_response()),
        Err(RedeemCodeError::Internal(err)) => Err(AppError::internal(&err)),
        Err(RedeemCodeError::Code(err)) => {
            let status = AppError::from_coded(&err).status;
            let page = sent_page(&state, &visitor, vec![super::words(&err)]);
            Ok(visitor.respond(&state, render(status, &page)))
        }
    }
}

/// Which kind of emailed link a problem page is about.
#[derive(Clone, Copy)]
enum LinkKind {
    Reset,
    NotMe,
}

/// The page for a link that cannot be used: says which problem and what to do next.
fn link_problem(visitor: &Visitor, err: LinkError, kind: LinkKind) -> Response {
    let status = AppError::from_coded(&err).status;
    let (heading, message, button) = match kind {
        LinkKind::Reset => (
            match err {
                LinkError::Unknown => "link-problem-unknown",
                LinkError::Expired => "link-problem-expired",
                LinkError::Used => "link-problem-used",
                LinkError::Superseded | LinkError::Overtaken => "link-problem-no-longer",
            },
            super::words(&err),
            "link-problem-request-new",
        ),
        LinkKind::NotMe => (
            "link-problem-security-heading",
            format!(
                "{} {}",
                i18n::text(match err {
                    LinkError::Used => "link-problem-security-used",
                    LinkError::Expired => "link-problem-security-expired",
                    _ => "link-problem-security-unknown",
                }),
                i18n::text("link-problem-security-advice")
            ),
            "link-problem-choose-new-password",
        ),
    };
    render(
        status,
        &LinkProblemPage {
            nav: Nav::of(visitor),
            heading,
            message,
            button,
        },
    )
}

/// Any path segment, even one that is not valid UTF-8, is just an unknown link.
fn token_of(path: Result<Path<String>, PathRejection>) -> String {
    path.map(|Path(token)| token).unwrap_or_default()
}

pub async fn reset_form(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let token = token_of(path);
    match state.kw.check_reset_link(&state.ctx(&client), &token).await {
        Ok(link) => {
            let page = ResetPage::new(&visitor, &token, &link, (Vec::new(), ""));
            Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
        }
        Err(ResetError::Link(err)) => {
            Ok(visitor.respond(&state, link_problem(&visitor, err, LinkKind::Reset)))
        }
        Err(ResetError::Internal(err)) => Err(AppError::internal(&err)),
        Err(err) => match signs_in_with_sso(&visitor, &err) {
            Some(page) => Ok(visitor.respond(&state, page)),
            None => Err(AppError::from_coded(&err)),
        },
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn submit_reset(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    PageForm(form): PageForm<ResetForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    let token = token_of(path);
    let ctx = state.ctx(&client);
    let outcome = state
        .kw
        .reset_with_link(
            &ctx,
            &token,
            form.new_password.into(),
            &form.confirm_password.into(),
            Some(&form.username),
        )
        .await;
    let errors = match outcome {
        Ok(_) => return Ok(Redirect::to("/signin?notice=password_reset").into_response()),
        Err(err) => match link_refused(&visitor, &err) {
            Some(page) => return Ok(visitor.respond(&state, page)),
            None => reset_refusal(err)?,
        },
    };
    // Show the form again with what went wrong (the link is still unused).
    reset_form_again(&state, &ctx, &visitor, &token, errors).await
}

/// The page of a reset refused for its link: one that cannot be used, or
/// one of someone who signs in only with their school's provider.
fn link_refused(visitor: &Visitor, err: &ResetError) -> Option<Response> {
    match err {
        ResetError::Link(link) => Some(link_problem(visitor, *link, LinkKind::Reset)),
        other => signs_in_with_sso(visitor, other),
    }
}

/// A refused reset in words, and the field it is about; `Err` for what the
/// form cannot tell (an internal error, a busy server).
fn reset_refusal(err: ResetError) -> Result<Refusal, AppError> {
    match err {
        ResetError::Internal(err) => Err(AppError::internal(&err)),
        ResetError::PasswordPolicy { violations, policy } => Ok((
            violations.iter().map(|v| v.message(&policy)).collect(),
            "password",
        )),
        err @ ResetError::Busy { .. } => Err(AppError::from_coded(&err)),
        err @ ResetError::UsernameMismatch => Ok((vec![super::words(&err)], "username")),
        err => Ok((vec![super::words(&err)], "")),
    }
}

/// The reset form again, with `errors`, while the link still works.
async fn reset_form_again(
    state: &AppState,
    ctx: &Ctx<'_>,
    visitor: &Visitor,
    token: &str,
    errors: Refusal,
) -> Result<Response, AppError> {
    let link = match state.kw.check_reset_link(ctx, token).await {
        Ok(link) => link,
        Err(ResetError::Link(err)) => {
            return Ok(visitor.respond(state, link_problem(visitor, err, LinkKind::Reset)));
        }
        Err(err) => return Err(AppError::from_coded(&err)),
    };
    let page = ResetPage::new(visitor, token, &link, errors);
    Ok(visitor.respond(state, render(StatusCode::UNPROCESSABLE_ENTITY, &page)))
}

pub async fn not_me_form(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let token = token_of(path);
    match state.kw.check_not_me(&state.ctx(&client), &token).await {
        Ok(()) => {
            let page = NotMePage {
                nav: Nav::of(&visitor),
                csrf_token: visitor.csrf_token(),
                action: format!("/security/not-me/{token}"),
                done: false,
            };
            visitor.respond(&state, render(StatusCode::OK, &page))
        }
        Err(ResetError::Link(err)) => {
            visitor.respond(&state, link_problem(&visitor, err, LinkKind::NotMe))
        }
        Err(err) => AppError::from_coded(&err).into_response(),
    }
}

#[derive(Deserialize)]
pub struct NotMeForm {
    #[serde(default)]
    csrf_token: String,
}

pub async fn submit_not_me(
    State(state): State<AppState>,
    visitor: Visitor,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    PageForm(form): PageForm<NotMeForm>,
) -> Result<Response, AppError> {
    visitor.verify_csrf(&form.csrf_token)?;
    let token = token_of(path);
    match state.kw.report_not_me(&state.ctx(&client), &token).await {
        Ok(()) => {
            let page = NotMePage {
                nav: None,
                csrf_token: String::new(),
                action: String::new(),
                done: true,
            };
            // This browser's session, if any, ended too.
            let jar = visitor.jar(&state).add(state.expired_session_cookie());
            Ok((jar, render(StatusCode::OK, &page)).into_response())
        }
        Err(ResetError::Link(err)) => {
            Ok(visitor.respond(&state, link_problem(&visitor, err, LinkKind::NotMe)))
        }
        Err(ResetError::Internal(err)) => Err(AppError::internal(&err)),
        Err(err) => Err(AppError::from_coded(&err)),
    }
}
