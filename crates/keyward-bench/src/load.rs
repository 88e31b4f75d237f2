//! The load generator: keep-alive HTTP/1.1 clients on many loopback source
//! addresses (127.0.0.2, 127.0.0.3, …, so per-address throttles see many
//! clients, as at a school behind no NAT), a fixed number of requests in
//! flight, and one [`Outcome`] per request.

/// One HTTP request, relative to a subject's base URL.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: reqwest::Method,
    /// Path and query, starting with `/`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl Request {
    pub fn get(path: impl Into<String>) -> Self {
        Request {
            method: reqwest::Method::GET,
            path: path.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn post_json(path: impl Into<String>, body: &serde_json::Value) -> Self {
        Request {
            method: reqwest::Method::POST,
            path: path.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(body.to_string().into_bytes()),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}
