//! The whole application: routes of pages, API and operations, wrapped in the
//! middleware stack. Outermost first: request id (always our own: a client's
//! `X-Request-Id` is dropped, so nobody can forge or collide with the ids in
//! the logs), tracing, security headers, the language of the pages, error
//! rendering, metrics, Origin check, the fast 503 while the database is down,
//! the enrolment gate, timeout, body limit. `/metrics` is not here: it has a
//! listener of its own (`ops::metrics_router`).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn_with_state, map_request};

use crate::enrolment_gate::hold_at_enrolment;
use keyward_core::error::Code;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
use crate::middleware::{
    choose_locale, fail_fast_without_database, record_metrics, refuse_foreign_origin,
    render_errors, security_headers,
};
use crate::state::AppState;
use crate::{api, ops, pages};

/// The log span of a request. It names the matched route pattern, never the
/// raw path: paths such as `/recovery/{token}` carry secrets, and so may
/// unknown paths that someone mistyped.
fn request_span(request: &axum::extract::Request) -> tracing::Span {
    let id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str())
        .unwrap_or("unmatched");
    tracing::info_span!("request", method = %request.method(), route = %route, request_id = %id)
}

/// `SetRequestIdLayer` keeps an id the request already has; removing the
/// client's first makes every id one keyward minted.
async fn drop_client_request_id(mut request: axum::extract::Request) -> axum::extract::Request {
    request.headers_mut().remove("x-request-id");
    request
}

pub fn router(state: AppState) -> Router {
    let settings = &state.kw.settings().server;
    let body_limit = settings.max_body_bytes;
    let timeout = settings.request_timeout;
    let routes = Router::new()
        .merge(pages::routes())
        .merge(api::routes())
        .merge(ops::routes())
        .fallback(|| async { AppError::not_found() })
        .method_not_allowed_fallback(|| async {
            AppError::new(
                Code::MethodNotAllowed,
                "This address does not accept that method.",
            )
        });
    let layers = ServiceBuilder::new()
        .layer(map_request(drop_client_request_id))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(from_fn_with_state(state.clone(), security_headers))
        .layer(axum::middleware::from_fn(choose_locale))
        .layer(from_fn_with_state(state.clone(), render_errors))
        .layer(from_fn_with_state(state.clone(), record_metrics))
        .layer(from_fn_with_state(state.clone(), refuse_foreign_origin))
        .layer(from_fn_with_state(
            state.clone(),
            fail_fast_without_database,
        ))
        .layer(from_fn_with_state(state.clone(), hold_at_enrolment))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(DefaultBodyLimit::max(body_limit));
    routes.layer(layers).with_state(state)
}
