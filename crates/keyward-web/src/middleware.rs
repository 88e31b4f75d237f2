//! Middleware around every route: security headers (R-ACC-7), the foreign
//! Origin check (R-ACC-6), per-route latency metrics, `choose_locale` (the
//! language of the pages: the browser's `Accept-Language` until the
//! signed-in person's own choice replaces it, see `keyward_core::i18n`),
//! `render_errors`, which gives every error response its body — a page
//! or JSON — with the request id, and `fail_fast_without_database`, which
//! answers 503 at once while the database is known to be down.

use askama::Template;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use keyward_core::error::Code;
use keyward_core::i18n::{self, Locale, Translate as _};
use std::time::{Duration, Instant};
use tower_http::request_id::RequestId;

use crate::error::{AppError, ErrorReport, default_report};
use crate::metrics::RequestLabels;
use crate::state::AppState;

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in fixed {
        if name == header::CACHE_CONTROL && headers.contains_key(&name) {
            continue;
        }
        headers.insert(name, HeaderValue::from_static(value));
    }
    if state.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// How long a request runs before it is suspected of waiting for a database
/// that is away (see [`fail_fast_without_database`]).
const SUSPECT_AFTER: Duration = Duration::from_secs(1);

/// While the database is known to be down (`Db::is_down`), answers 503
/// `database_unavailable` with `Retry-After` at once instead of letting the
/// request wait `database.acquire_timeout` for a connection it cannot get;
/// a request in flight when the database is found down gets the same answer
/// then (its work is dropped, as the request timeout drops it). A request
/// answered `database_unavailable`, or still running after
/// [`SUSPECT_AFTER`], asks the database for a probe (`Db::suspect`), which
/// sets and clears that state. `/healthz` (the process lives) and the
/// static files pass.
pub async fn fail_fast_without_database(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path == "/healthz" || path.starts_with("/static/") {
        return next.run(request).await;
    }
    let db = state.kw.db();
    if db.is_down() {
        return AppError::database_unavailable().into_response();
    }
    let run = next.run(request);
    tokio::pin!(run);
    let response = tokio::select! {
        response = &mut run => response,
        () = tokio::time::sleep(SUSPECT_AFTER) => {
            db.suspect();
            tokio::select! {
                response = &mut run => response,
                () = db.went_down() => AppError::database_unavailable().into_response(),
            }
        }
    };
    let unavailable = response
        .extensions()
        .get::<ErrorReport>()
        .is_some_and(|report| report.code == Code::DatabaseUnavailable);
    if unavailable {
        db.suspect();
    }
    response
}

/// Refuses state-changing requests that a browser sent from another site.
pub async fn refuse_foreign_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    // A call with an `Authorization` header reads no cookie, so a foreign
    // page cannot borrow the browser's credentials through it.
    let bearer = crate::extract::authorization(request.headers()).is_some()
        && request.uri().path().starts_with("/api/");
    if !safe && !bearer && is_foreign(request.headers(), &state.public_origin) {
        return AppError::new(
            Code::ForeignOrigin,
            "This request came from another site and was refused.",
        )
        .into_response();
    }
    next.run(request).await
}

fn is_foreign(headers: &HeaderMap, public_origin: &str) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return true;
        };
        if origin == public_origin {
            return false;
        }
        // Under `Referrer-Policy: no-referrer` browsers send `Origin: null` on
        // their own form posts; then only the browser's Sec-Fetch-Site saying
        // "same-origin" lets it through (sandboxed frames say otherwise).
        if origin == "null" {
            return fetch_site != Some("same-origin");
        }
        // The server's own address as the browser reached it is same-origin too.
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let own = ["http://", "https://"]
            .iter()
            .any(|scheme| origin == format!("{scheme}{host}"));
        return host.is_empty() || !own;
    }
    // Without Origin, trust the browser's own statement when it makes one.
    fetch_site == Some("cross-site")
}

pub async fn record_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    state
        .metrics
        .request_seconds
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Runs the request in the language its browser asks for (`Accept-Language`,
/// English when none is spoken). The `Visitor` extractor, and the error
/// pages, replace it with the signed-in person's own choice.
pub async fn choose_locale(request: Request, next: Next) -> Response {
    let locale = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Locale::from_accept_language)
        .unwrap_or_default();
    i18n::scope(locale, next.run(request)).await
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: Option<crate::pages::Nav>,
    status: u16,
    reason: String,
    message: &'a str,
    code: &'a str,
    request_id: &'a str,
}

/// Gives every error response its body. API paths get
/// `{"error", "message", "request_id"}`; pages get a readable page.
pub async fn render_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let path = request.uri().path().to_owned();
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-")
        .to_owned();
    // An error page shows a signed-in visitor's menu, so they are not stuck.
    let session_token = if is_api {
        None
    } else {
        let jar = axum_extra::extract::cookie::CookieJar::from_headers(request.headers());
        state
            .cookie_value(&jar, crate::extract::SESSION_COOKIE)
            .and_then(keyward_core::crypto::tokens::Token::from_client)
    };
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let report = match response.extensions().get::<ErrorReport>() {
        Some(report) => report.clone(),
        None if has_own_body(&response) => return response,
        None => default_report(status),
    };
    let (mut parts, _old_body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    if status == StatusCode::SERVICE_UNAVAILABLE && !parts.headers.contains_key(header::RETRY_AFTER)
    {
        parts
            .headers
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    let body = if is_api {
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let mut body = report.details.clone().unwrap_or_default();
        body.insert("error".into(), report.code.as_str().into());
        body.insert("message".into(), report.message.clone().into());
        body.insert("request_id".into(), request_id.clone().into());
        serde_json::Value::Object(body)
            .to_string()
            .into_response()
            .into_body()
    } else {
        let nav = match &session_token {
            // Not when the server itself is failing: the page must not need the database.
            Some(token) if !status.is_server_error() => {
                let ctx = state.ctx(&crate::extract::Client::default());
                match state.kw.current_session(&ctx, token).await {
                    Ok(Some(session)) => {
                        if let Some(locale) = session.account.locale {
                            i18n::choose(locale);
                        }
                        let school = state.kw.school_of_session(&session).await.ok().flatten();
                        let menu = state.kw.menu_actor(&session.account).await.ok();
                        menu.map(|menu| {
                            crate::pages::Nav::of_session(
                                &session,
                                &menu,
                                school.map(|school| school.name),
                                &path,
                            )
                        })
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        let page = ErrorPage {
            nav,
            status: status.as_u16(),
            reason: i18n::text(heading_for(status)),
            message: &report.message,
            code: report.code.as_str(),
            request_id: &request_id,
        };
        let html = page.render().unwrap_or_else(|_| report.message.clone());
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        Html(html).into_response().into_body()
    };
    Response::from_parts(parts, body)
}

/// An error page's heading (its message id), in words for people rather
/// than HTTP's.
fn heading_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "error-heading-401",
        403 => "error-heading-403",
        404 => "error-heading-404",
        405 | 400 | 413 | 415 | 422 => "error-heading-400",
        409 => "error-heading-409",
        410 => "error-heading-410",
        429 => "error-heading-429",
        503 => "error-heading-503",
        _ if status.is_server_error() => "error-heading-500",
        _ => "error-heading-other",
    }
}

/// Pages that render their own error state (a form with an alert) keep it.
fn has_own_body(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"))
}
