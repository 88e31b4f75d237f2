//! **Sessions** in Account Settings (R-ACC-4, SPEC §8): the person's live
//! sessions (browser and system, address, signed in, last seen, "This
//! device"), a **Sign out** button for each other session and **Sign out
//! other sessions** after a confirm page (works without JavaScript). Each
//! button is a POST form with the CSRF token; the page then says what
//! happened.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use keyward_core::i18n::{self, Message, Translate as _};
use serde::Deserialize;

use keyward_core::accounts::CurrentSession;
use keyward_core::accounts::sessions::{EndSessionError, SessionEnded, SessionId, SessionSummary};
use keyward_core::accounts::user_agent::Device;
use keyward_core::crypto::tokens::Token;
use keyward_core::types::UnixTime;

use super::{Nav, Told, render_told};
use crate::error::AppError;
use crate::extract::{Client, PageForm, Visitor};
use crate::signed_in::{SignedIn, csrf_forms, return_to};
use crate::state::AppState;

/// A moment as `<time datetime="2026-09-07T08:00:00Z">2026-09-07 08:00 UTC</time>`
/// shows it.
struct ShownTime {
    iso: String,
    text: String,
}

impl ShownTime {
    fn of(at: UnixTime) -> ShownTime {
        let Ok(t) = time::OffsetDateTime::from_unix_timestamp(at.secs()) else {
            return ShownTime {
                iso: String::new(),
                text: i18n::text("account-unknown"),
            };
        };
        let day = format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day());
        let clock = format!("{:02}:{:02}", t.hour(), t.minute());
        ShownTime {
            iso: format!("{day}T{clock}:{:02}Z", t.second()),
            text: format!("{day} {clock} UTC"),
        }
    }
}

/// How long ago `then` was, in words ("just now", "5 minutes ago").
fn ago(now: UnixTime, then: UnixTime) -> String {
    let secs = now.secs().saturating_sub(then.secs()).max(0);
    let (count, id) = match secs {
        0..120 => return i18n::text("account-ago-just-now"),
        120..7_200 => (secs / 60, "account-ago-minutes"),
        7_200..172_800 => (secs / 3_600, "account-ago-hours"),
        _ => (secs / 86_400, "account-ago-days"),
    };
    Message::new(id).with("count", count).to_string()
}

/// One row of the list.
struct Row {
    id: String,
    device: String,
    address: String,
    signed_in: ShownTime,
    last_seen: ShownTime,
    last_seen_ago: String,
    current: bool,
}

/// The device in the page's language: "Chrome on Linux", "Firefox", "A
/// browser on Windows" or "Unknown device" (the API keeps the core's
/// English label). Browser and system names are names, in no language.
fn device_words(device: Device) -> String {
    match (device.browser, device.system) {
        (Some(browser), Some(system)) => Message::new("account-device-browser-on-system")
            .with("browser", browser)
            .with("system", system)
            .to_string(),
        (Some(browser), None) => browser.to_owned(),
        (None, Some(system)) => Message::new("account-device-on-system")
            .with("system", system)
            .to_string(),
        (None, None) => i18n::text("account-device-unknown"),
    }
}

impl Row {
    fn of(session: SessionSummary, now: UnixTime) -> Row {
        Row {
            id: session.id.to_string(),
            device: device_words(session.device),
            address: session
                .client_addr
                .unwrap_or_else(|| i18n::text("account-unknown")),
            signed_in: ShownTime::of(session.signed_in_at),
            last_seen: ShownTime::of(session.last_seen_at),
            last_seen_ago: ago(now, session.last_seen_at),
            current: session.current,
        }
    }
}

#[derive(Template)]
#[template(path = "account_sessions.html")]
struct SessionsPage {
    nav: Option<Nav>,
    csrf_token: String,
    rows: Vec<Row>,
    others: usize,
    errors: Vec<String>,
    /// What was done, in words.
    notice: Option<String>,
}

/// **Sign out other sessions**: the confirm page, naming them.
#[derive(Template)]
#[template(path = "account_sessions_confirm.html")]
struct SignOutOthersPage {
    nav: Option<Nav>,
    csrf_token: String,
    others: Vec<Row>,
}

/// The page as it stands now, telling `told`.
async fn page(
    state: &AppState,
    client: &Client,
    visitor: &Visitor,
    (session, token): (&CurrentSession, &Token),
    told: Told,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let ctx = state.ctx(client);
    let sessions = state.kw.own_sessions(&ctx, session, token).await?;
    let rows: Vec<Row> = sessions.into_iter().map(|s| Row::of(s, ctx.now)).collect();
    let page = SessionsPage {
        nav: Nav::of(visitor),
        csrf_token: visitor.csrf_token(),
        others: rows.iter().filter(|row| !row.current).count(),
        rows,
        errors: told.errors,
        notice: notice.or_else(|| told.notice.map(i18n::text)),
    };
    let response = render_told(told.status, told.retry_after, &page);
    Ok(visitor.respond(state, response))
}

/// Nothing to tell: the page as first shown.
fn quiet() -> Told {
    Told {
        status: StatusCode::OK,
        retry_after: None,
        errors: Vec::new(),
        notice: None,
    }
}

pub async fn show(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        session,
        token,
        ..
    }: SignedIn<return_to::AccountSessions>,
) -> Result<Response, AppError> {
    page(&state, &client, &visitor, (&session, &token), quiet(), None).await
}

#[derive(Deserialize)]
pub struct SessionForm {
    #[serde(default)]
    csrf_token: String,
}

csrf_forms!(SessionForm);

/// What the page tells after a session's **Sign out**; an internal error is
/// an error page instead.
fn told_one(outcome: Result<SessionEnded, EndSessionError>) -> Result<Told, AppError> {
    match outcome {
        Ok(_) => Ok(Told::done("account-session-signed-out")),
        Err(EndSessionError::Internal(err)) => Err(AppError::internal(&err)),
        Err(err) => Ok(Told::refused(&err)),
    }
}

/// Leaves the page for sign-in when the session in use itself was ended.
fn signed_out(state: &AppState) -> Response {
    let jar = CookieJar::new().add(state.expired_session_cookie());
    (jar, Redirect::to("/signin")).into_response()
}

/// **Sign out** of one session. A malformed id names no session of the
/// person's, like an unknown one (404, the page says so).
pub async fn sign_out_one(
    State(state): State<AppState>,
    client: Client,
    path: Result<Path<String>, PathRejection>,
    SignedIn {
        visitor,
        session,
        token,
        ..
    }: SignedIn<return_to::NoPage, PageForm<SessionForm>>,
) -> Result<Response, AppError> {
    let outcome = match path.ok().and_then(|Path(id)| SessionId::parse(&id)) {
        Some(id) => {
            let ctx = state.ctx(&client);
            state.kw.end_own_session(&ctx, &session, &token, &id).await
        }
        None => Err(EndSessionError::NotFound),
    };
    if matches!(outcome, Ok(SessionEnded { was_current: true })) {
        return Ok(signed_out(&state));
    }
    let told = told_one(outcome)?;
    page(&state, &client, &visitor, (&session, &token), told, None).await
}

/// **Sign out other sessions**: the confirm page (the list when there are
/// none to sign out).
pub async fn confirm_sign_out_others(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        session,
        token,
        ..
    }: SignedIn<return_to::AccountSessions>,
) -> Result<Response, AppError> {
    let ctx = state.ctx(&client);
    let sessions = state.kw.own_sessions(&ctx, &session, &token).await?;
    let others: Vec<Row> = sessions
        .into_iter()
        .filter(|s| !s.current)
        .map(|s| Row::of(s, ctx.now))
        .collect();
    if others.is_empty() {
        return Ok(Redirect::to("/account/sessions").into_response());
    }
    let page = SignOutOthersPage {
        nav: Nav::of(&visitor),
        csrf_token: visitor.csrf_token(),
        others,
    };
    Ok(visitor.respond(&state, render_told(StatusCode::OK, None, &page)))
}

/// What the page says after **Sign out other sessions** ended `count`.
fn others_ended(count: usize) -> String {
    Message::new("account-sessions-others-ended")
        .with("count", count)
        .to_string()
}

/// **Sign out other sessions**: every session but this one ends.
pub async fn sign_out_others(
    State(state): State<AppState>,
    client: Client,
    SignedIn {
        visitor,
        session,
        token,
        ..
    }: SignedIn<return_to::NoPage, PageForm<SessionForm>>,
) -> Result<Response, AppError> {
    let ctx = state.ctx(&client);
    let count = state.kw.end_other_sessions(&ctx, &session, &token).await?;
    let notice = Some(others_ended(count));
    page(
        &state,
        &client,
        &visitor,
        (&session, &token),
        quiet(),
        notice,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::{ShownTime, ago, others_ended};
    use keyward_core::types::UnixTime;

    #[test]
    fn times_read_as_utc_and_as_time_ago() {
        let monday = UnixTime(1_788_768_000);
        let shown = ShownTime::of(monday);
        assert_eq!(shown.iso, "2026-09-07T08:00:00Z");
        assert_eq!(shown.text, "2026-09-07 08:00 UTC");
        assert_eq!(ago(UnixTime(monday.0 + 30), monday), "just now");
        assert_eq!(ago(UnixTime(monday.0 + 5 * 60), monday), "5 minutes ago");
        assert_eq!(ago(UnixTime(monday.0 + 3 * 3600), monday), "3 hours ago");
        assert_eq!(ago(UnixTime(monday.0 + 3 * 86_400), monday), "3 days ago");
        assert_eq!(ago(monday, UnixTime(monday.0 + 10)), "just now");
    }

    #[test]
    fn the_notice_counts_the_sessions_ended() {
        assert_eq!(others_ended(0), "There were no other sessions to sign out.");
        assert_eq!(others_ended(1), "1 other session has been signed out.");
        assert_eq!(others_ended(3), "3 other sessions have been signed out.");
    }
}
