//! File downloads that both faces serve: the learners' credentials as a CSV
//! attachment that no cache keeps, streamed batch by batch as the core reads
//! them (the API's `credentials.csv` and the pages' **Download CSV**), the
//! audit log's CSV streamed as the database reads it (`audit_csv_download`), and `data:` links for files that exist only in
//! the page that offers them (a class's new passwords, recovery codes).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use axum::body::Body;
use keyward_core::audit_browse::AuditCsv;
use keyward_core::classroom::credentials::CredentialsCsv;

/// The credentials CSV as a download that no cache keeps: `text/csv;
/// charset=utf-8`, `Content-Disposition: attachment`, `Cache-Control:
/// no-store`, its body streamed piece by piece (an error mid-way aborts the
/// download rather than ending it short; the core logs it).
pub fn csv_download(csv: CredentialsCsv) -> Response {
    // The file name is a slug of ASCII letters, digits and hyphens, so it
    // needs no quoting beyond the quotes themselves.
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", csv.file_name))
        .unwrap_or_else(|_| {
            HeaderValue::from_static("attachment; filename=\"learner-credentials.csv\"")
        });
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Body::from_stream(csv.body),
    )
        .into_response()
}

/// The audit log's CSV as a download no cache keeps, its body streamed piece
/// by piece (an error mid-way aborts the download rather than ending it short).
pub fn audit_csv_download(csv: AuditCsv) -> Response {
    // The file name is `audit-log-<YYYY-MM-DD>.csv`: nothing to quote.
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", csv.file_name))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment; filename=\"audit-log.csv\""));
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Body::from_stream(csv.body),
    )
        .into_response()
}

/// Everything but RFC 3986's unreserved characters is percent-encoded, as a
/// `data:` URL needs (`+` would stay a plus, not become a space).
const DATA_URL_ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` as a `data:` URL of `media_type` (for example
/// `text/plain;charset=utf-8`), for a link with a `download` attribute: the
/// file travels inside the page, so nothing has to be kept to serve it later.
pub fn data_url(media_type: &str, text: &str) -> String {
    format!(
        "data:{media_type},{}",
        percent_encoding::utf8_percent_encode(text, DATA_URL_ESCAPED)
    )
}

#[cfg(test)]
mod tests {
    use super::data_url;

    #[test]
    fn data_urls_percent_encode_all_but_unreserved_characters() {
        assert_eq!(
            data_url("text/plain", "a b,+\"é\n"),
            "data:text/plain,a%20b%2C%2B%22%C3%A9%0A"
        );
        assert_eq!(data_url("text/csv", "Az09-._~"), "data:text/csv,Az09-._~");
    }
}
