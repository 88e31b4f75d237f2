//! keyward-web: the HTTP face of keyward — server-rendered pages, the JSON API
//! under `/api/v1` with its OpenAPI document, and the middleware around them
//! (security headers, origin check, request ids, metrics, error rendering).
//! It extracts who is acting and what they sent, calls one core use case, and
//! renders the outcome; it holds no SQL and no permission rules.

// Architecture invariant: no unwrap, expect or panic outside tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod api;
mod enrolment_gate;
mod error;
mod extract;
mod forwarded;
mod metrics;
mod middleware;
mod ops;
mod pacing;
mod pages;
mod router;
mod server;
mod shared;
mod signed_in;
mod sso_http;
mod state;

pub use api::openapi_document;
pub use error::status_of;
pub use ops::metrics_router;
pub use router::router;
pub use server::{Server, ServerError};
pub use sso_http::{ReqwestSsoHttp, install_tls_provider};
pub use state::AppState;
