//! Errors on the way out. A handler returns `AppError`; it becomes a response
//! carrying an `ErrorReport` extension and no body, and the `render_errors`
//! middleware — the one place that knows the request id and whether the
//! client is a browser page or the JSON API — writes the body: a readable
//! page, or `{"error", "message"}`. One status table, two renderers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keyward_core::error::{Code, CodedError, ErrorKind, Internal};

/// An error outcome: status, stable code (one of the one list), a message
/// safe to show.
#[derive(Debug, Clone)]
pub struct AppError {
    pub status: StatusCode,
    pub code: Code,
    pub message: String,
    pub retry_after_secs: Option<u64>,
    /// Extra fields for the JSON body, for example `violations`.
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What `render_errors` renders; attached to the response by `AppError`.
#[derive(Debug, Clone)]
pub struct ErrorReport {
    pub code: Code,
    pub message: String,
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

impl AppError {
    /// An error with its code's status ([`status_of`]).
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        AppError {
            status: status_of(code.kind()),
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
        AppError::new(Code::NotFound, generic_message(Code::NotFound))
    }

    pub fn unauthenticated() -> Self {
        AppError::new(
            Code::Unauthenticated,
            generic_message(Code::Unauthenticated),
        )
    }

    pub fn csrf() -> Self {
        AppError::new(
            Code::CsrfFailed,
            "This form has expired or did not come from keyward. Go back, reload the page and try again.",
        )
    }

    /// 503 `database_unavailable` with `Retry-After`: the database does not
    /// answer (`/readyz`, and every request while it is known to be down).
    pub fn database_unavailable() -> Self {
        AppError {
            retry_after_secs: Some(keyward_core::error::DATABASE_RETRY_AFTER_SECS),
            ..AppError::new(
                Code::DatabaseUnavailable,
                "The database is not answering. Try again in a moment.",
            )
        }
    }

    /// Logs the cause chain once and answers with a generic 500, or with a
    /// fast 503 and `Retry-After` when the database does not answer or its
    /// disk is full.
    pub fn internal(err: &Internal) -> Self {
        if err.is_database_unavailable() {
            tracing::warn!(cause = %err.cause(), "database unavailable");
        } else if err.is_storage_full() {
            tracing::error!(
                cause = %err.cause(),
                "the database's storage is full: writes are refused until space is freed"
            );
        } else {
            tracing::error!(cause = %err.cause(), "internal error");
        }
        AppError {
            retry_after_secs: err.retry_after_secs(),
            ..AppError::new(err.code(), err.to_string())
        }
    }

    /// Maps any core error by its code's kind (see [`status_of`]).
    pub fn from_coded(err: &(impl CodedError + std::fmt::Debug)) -> Self {
        let status = status_of(err.kind());
        match err.code() {
            _ if status == StatusCode::INTERNAL_SERVER_ERROR => {
                tracing::error!(error = ?err, "internal error");
            }
            Code::StorageFull => tracing::error!(
                error = ?err,
                "the database's storage is full: writes are refused until space is freed"
            ),
            Code::DatabaseUnavailable => tracing::warn!(error = ?err, "database unavailable"),
            _ => {}
        }
        let details = err.details();
        AppError {
            status,
            code: err.code(),
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

/// The codes of answers made outside our handlers (unknown route, wrong
/// method, body limit, timeout), each with its message; a status takes the
/// first code whose kind has that status ([`status_of`]).
const GENERIC: [(Code, &str); 11] = [
    (Code::NotFound, "There is nothing at this address."),
    (
        Code::MethodNotAllowed,
        "This address does not accept that method.",
    ),
    (Code::PayloadTooLarge, "The request is too large."),
    (
        Code::UnsupportedMediaType,
        "The request has the wrong content type.",
    ),
    (
        Code::Unavailable,
        "The server could not answer in time. Try again shortly.",
    ),
    (Code::BadRequest, "The request could not be understood."),
    (
        Code::InvalidRequest,
        "The request is missing something or has a wrong value.",
    ),
    (Code::Forbidden, "You may not do that."),
    (Code::Unauthenticated, "Sign in first."),
    (
        Code::TooManyRequests,
        "Too many requests. Wait a little and try again.",
    ),
    (
        Code::Internal,
        "Something went wrong on our side. Try again.",
    ),
];

/// The message of a generic code, from [`GENERIC`].
fn generic_message(code: Code) -> &'static str {
    GENERIC
        .iter()
        .find(|(generic, _)| *generic == code)
        .map_or("The request could not be completed.", |(_, message)| {
            *message
        })
}

/// The default report for an error status produced outside our handlers. A
/// timeout (408) reads as `unavailable`, any other server error as
/// `internal`.
pub fn default_report(status: StatusCode) -> ErrorReport {
    let status = match status {
        StatusCode::REQUEST_TIMEOUT => StatusCode::SERVICE_UNAVAILABLE,
        s if s.is_server_error() && s != StatusCode::SERVICE_UNAVAILABLE => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        s => s,
    };
    let (code, message) = GENERIC
        .into_iter()
        .find(|(code, _)| status_of(code.kind()) == status)
        .unwrap_or((Code::Error, "The request could not be completed."));
    ErrorReport {
        code,
        message: message.to_owned(),
        details: None,
    }
}
