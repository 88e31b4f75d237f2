//! Errors on the way out. A handler returns `AppError`; it becomes a response
//! carrying an `ErrorReport` extension and no body, and the `render_errors`
//! middleware — the one place that knows the request id and whether the
//! client is a browser page or the JSON API — writes the body: a readable
//! page, or `{"error", "message"}`. One status table, two renderers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keyward_core::error::{CodedError, ErrorKind, Internal};

/// An error outcome: status, stable code, a message safe to show.
#[derive(Debug, Clone)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: Option<u64>,
    /// Extra fields for the JSON body, for example `violations`.
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What `render_errors` renders; attached to the response by `AppError`.
#[derive(Debug, Clone)]
pub struct ErrorReport {
    pub code: &'static str,
    pub message: String,
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
            details: None,
        }
    }

    /// Adds a field to the JSON body.
    pub fn with_detail(mut self, key: &str, value: serde_json::Value) -> Self {
        self.details
            .get_or_insert_with(Default::default)
            .insert(key.to_owned(), value);
        self
    }

    pub fn not_found() -> Self {
        AppError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is nothing at this address.",
        )
    }

    pub fn unauthenticated() -> Self {
        AppError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Sign in first.",
        )
    }

    pub fn csrf() -> Self {
        AppError::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "This form has expired or did not come from keyward. Go back, reload the page and try again.",
        )
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Logs the cause chain once and answers with a generic 500, or with a
    /// fast 503 and `Retry-After` when the database does not answer.
    pub fn internal(err: &Internal) -> Self {
        if err.is_database_unavailable() {
            tracing::warn!(cause = %err.cause(), "database unavailable");
            return AppError {
                status: status_of(err.kind()),
                code: err.code().as_str(),
                message: err.to_string(),
                retry_after_secs: err.retry_after_secs(),
                details: None,
            };
        }
        tracing::error!(cause = %err.cause(), "internal error");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side. Try again.",
        )
    }

    /// Maps any core error by its code's kind (see [`status_of`]).
    pub fn from_coded(err: &(impl CodedError + std::fmt::Debug)) -> Self {
        let status = status_of(err.kind());
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = ?err, "internal error");
        }
        let details = err.details();
        AppError {
            status,
            code: err.code().as_str(),
            message: err.to_string(),
            retry_after_secs: err.retry_after_secs(),
            details: (!details.is_empty()).then(|| {
                details
                    .into_iter()
                    .map(|(key, value)| (key.to_owned(), value))
                    .collect()
            }),
        }
    }
}

/// The one status table: the HTTP status of each kind of outcome.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Malformed => StatusCode::BAD_REQUEST,
        ErrorKind::BadInput => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Gone => StatusCode::GONE,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Any core error as an `AppError`, for `map_err(coded)`. Internal causes
/// (including an unreachable database) are handled by `from_coded` through
/// the error's kind, so callers need no special case for them.
pub fn coded<E: CodedError + std::fmt::Debug>(err: E) -> AppError {
    AppError::from_coded(&err)
}

impl From<Internal> for AppError {
    fn from(err: Internal) -> Self {
        AppError::internal(&err)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        set_retry_after(&mut response, self.retry_after_secs);
        response.extensions_mut().insert(ErrorReport {
            code: self.code,
            message: self.message,
            details: self.details,
        });
        response
    }
}

/// Adds `Retry-After` (whole seconds) when there is a wait to announce.
pub fn set_retry_after(response: &mut Response, retry_after_secs: Option<u64>) {
    if let Some(value) =
        retry_after_secs.and_then(|secs| HeaderValue::from_str(&secs.to_string()).ok())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

/// The default report for error statuses produced outside our handlers
/// (unknown route, wrong method, body limit, timeout).
pub fn default_report(status: StatusCode) -> ErrorReport {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "There is nothing at this address."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "This address does not accept that method.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The request is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "The request has the wrong content type.",
        ),
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => (
            "unavailable",
            "The server could not answer in time. Try again shortly.",
        ),
        StatusCode::BAD_REQUEST => ("bad_request", "The request could not be understood."),
        StatusCode::UNPROCESSABLE_ENTITY => (
            "invalid_request",
            "The request is missing something or has a wrong value.",
        ),
        StatusCode::FORBIDDEN => ("forbidden", "You may not do that."),
        StatusCode::UNAUTHORIZED => ("unauthenticated", "Sign in first."),
        StatusCode::TOO_MANY_REQUESTS => (
            "too_many_requests",
            "Too many requests. Wait a little and try again.",
        ),
        s if s.is_server_error() => ("internal", "Something went wrong on our side. Try again."),
        _ => ("error", "The request could not be completed."),
    };
    ErrorReport {
        code,
        message: message.to_owned(),
        details: None,
    }
}
