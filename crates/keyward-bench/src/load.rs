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

/// How to send a list of requests.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Sent in order, round-robin over the connections; repeated from the
    /// start while `duration` lasts (when set).
    pub requests: Vec<Request>,
    /// Requests in flight at once (one keep-alive connection each).
    pub concurrency: usize,
    /// Distinct loopback source addresses the connections are spread over
    /// (127.0.0.2 …); 1 = all from 127.0.0.1.
    pub sources: usize,
    /// Open-loop pacing in requests per second; `None` = as fast as answers come.
    pub rate: Option<f64>,
    /// Keep sending (cycling through `requests`) until this much time has
    /// passed; `None` = each request once.
    pub duration: Option<std::time::Duration>,
}

/// One answered (or failed) request.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// When it was sent, from the start of the run.
    pub sent_at: std::time::Duration,
    pub latency: std::time::Duration,
    /// The HTTP status; 0 for a connection error or a timeout.
    pub status: u16,
    /// Index into the plan's `requests`.
    pub request: usize,
}

/// Sends the plan against `base_url` and returns every outcome.
pub async fn drive(_base_url: &str, _plan: LoadPlan) -> anyhow::Result<Vec<Outcome>> {
    anyhow::bail!("the load generator is not written yet")
}
