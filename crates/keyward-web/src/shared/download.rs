//! File downloads that both faces serve: the learners' credentials as a CSV
//! attachment that no cache keeps (the API's `credentials.csv` and the
//! pages' **Download CSV**).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use keyward_core::classroom::credentials::Credentials;

use crate::error::AppError;

/// The CSV as a download that no cache keeps: `text/csv; charset=utf-8`,
/// `Content-Disposition: attachment`, `Cache-Control: no-store`.
pub fn csv_download(credentials: &Credentials) -> Result<Response, AppError> {
    let body = credentials.to_csv()?;
    // The file name is a slug of ASCII letters, digits and hyphens, so it
    // needs no quoting beyond the quotes themselves.
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        credentials.file_name()
    ))
    .unwrap_or_else(|_| {
        HeaderValue::from_static("attachment; filename=\"learner-credentials.csv\"")
    });
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}
