//! The load generator: keep-alive HTTP/1.1 clients on many loopback source
//! addresses (127.0.0.2, 127.0.0.3, …, so per-address throttles see many
//! clients, as at a school behind no NAT), a fixed number of requests in
//! flight, and one [`Outcome`] per request.
//!
//! Like wrk, each request in flight is one worker task owning one keep-alive
//! connection (hyper's HTTP/1.1 client connection, no pool, no URL parsing
//! per request): on this 2-core machine the client shares the CPU with the
//! server it measures, so it does as little as it can per request — 8 µs of
//! CPU per request against 13 µs for reqwest with a pool per source address,
//! measured side by side against one axum server. The
//! workers connect first and start together; each then takes the next
//! request from a shared counter, paced by `rate` (open loop) or by the
//! answers (closed loop).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;

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

/// A request with no whole answer after this long counts as failed (status 0).
pub const TIMEOUT: Duration = Duration::from_secs(60);
/// The most source addresses (127.0.0.2 onwards) and requests in flight.
pub const MAX_SOURCES: usize = 60_000;
pub const MAX_CONCURRENCY: usize = 10_000;

/// Sends the plan against `base_url` (`http://127.x.y.z:PORT`) and returns
/// every outcome, in the order they were sent.
///
/// In open loop (`rate` set) a request's latency counts from the moment it
/// was due, so one that waited for a free connection counts its wait (no
/// coordinated omission); in closed loop, from the moment it was sent.
///
/// The workers run on a single-threaded runtime of their own thread: no
/// wake-ups across threads (58 rather than 68 µs of CPU per recovery request
/// at 1,100 a second on this machine, where a wake-up per answer is most of
/// it; 8 µs per request when answers come in batches), and one thread
/// sends over 100,000 requests a second to a trivial server here.
pub async fn drive(base_url: &str, plan: LoadPlan) -> anyhow::Result<Vec<Outcome>> {
    let base_url = base_url.to_owned();
    let (answer, outcomes) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("bench-load".into())
        .spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("the load generator's runtime")
                .and_then(|runtime| runtime.block_on(drive_here(&base_url, plan)));
            // Nobody is waiting any more when the caller was cancelled.
            let _ = answer.send(result);
        })
        .context("starting the load generator's thread")?;
    outcomes
        .await
        .context("the load generator's thread ended without an answer")?
}

/// [`drive`] on the current runtime.
async fn drive_here(base_url: &str, plan: LoadPlan) -> anyhow::Result<Vec<Outcome>> {
    check(&plan)?;
    let server = server_address(base_url)?;
    let requests: Arc<[Prepared]> = plan
        .requests
        .iter()
        .map(|request| Prepared::new(request, server))
        .collect::<anyhow::Result<_>>()?;
    let schedule = Arc::new(Schedule::new(&plan));
    let start_line = Arc::new(tokio::sync::Barrier::new(plan.concurrency));
    let mut workers = tokio::task::JoinSet::new();
    for slot in 0..plan.concurrency {
        let worker = Worker {
            server,
            source: source_address(slot % plan.sources, plan.sources),
            requests: requests.clone(),
            schedule: schedule.clone(),
        };
        workers.spawn(worker.run(start_line.clone()));
    }
    let mut outcomes = Vec::new();
    while let Some(done) = workers.join_next().await {
        outcomes.extend(done.context("a load worker failed")?);
    }
    outcomes.sort_by_key(|outcome| outcome.sent_at);
    Ok(outcomes)
}

fn check(plan: &LoadPlan) -> anyhow::Result<()> {
    anyhow::ensure!(!plan.requests.is_empty(), "the load plan has no requests");
    anyhow::ensure!(
        (1..=MAX_CONCURRENCY).contains(&plan.concurrency),
        "concurrency must be 1..={MAX_CONCURRENCY}, not {}",
        plan.concurrency
    );
    anyhow::ensure!(
        (1..=MAX_SOURCES).contains(&plan.sources),
        "sources must be 1..={MAX_SOURCES}, not {}",
        plan.sources
    );
    if let Some(rate) = plan.rate {
        anyhow::ensure!(
            rate.is_finite() && rate > 0.0,
            "the rate must be a positive number of requests per second, not {rate}"
        );
    }
    Ok(())
}

/// The server's socket address; only loopback (the harness never leaves the machine).
fn server_address(base_url: &str) -> anyhow::Result<SocketAddr> {
    let url = url::Url::parse(base_url).with_context(|| format!("the base URL {base_url:?}"))?;
    anyhow::ensure!(url.scheme() == "http", "{base_url}: only http:// is driven");
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip,
        Some(url::Host::Domain("localhost")) => Ipv4Addr::LOCALHOST,
        _ => anyhow::bail!("{base_url}: the host must be a 127.x.y.z address"),
    };
    anyhow::ensure!(ip.is_loopback(), "{base_url}: not a loopback address");
    let port = url
        .port_or_known_default()
        .with_context(|| format!("{base_url}: no port"))?;
    Ok(SocketAddr::new(IpAddr::V4(ip), port))
}

/// The `index`-th of `sources` source addresses: 127.0.0.1 when there is
/// one, else 127.0.0.2, 127.0.0.3, … (carrying into the next octets).
pub fn source_address(index: usize, sources: usize) -> Ipv4Addr {
    if sources <= 1 {
        return Ipv4Addr::LOCALHOST;
    }
    let offset = u32::try_from(index % MAX_SOURCES).unwrap_or(0);
    Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 0, 2)) + offset)
}

/// A request turned into hyper's parts once, cloned for each sending.
struct Prepared {
    method: hyper::Method,
    uri: hyper::Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Prepared {
    fn new(request: &Request, server: SocketAddr) -> anyhow::Result<Prepared> {
        anyhow::ensure!(
            request.path.starts_with('/'),
            "the request path {:?} does not start with /",
            request.path
        );
        let uri = request
            .path
            .parse()
            .with_context(|| format!("the request path {:?}", request.path))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            hyper::header::HOST,
            HeaderValue::try_from(server.to_string())?,
        );
        for (name, value) in &request.headers {
            let name = HeaderName::try_from(name.as_str())
                .with_context(|| format!("the header name {name:?}"))?;
            let value = HeaderValue::try_from(value.as_str())
                .with_context(|| format!("the value of the header {name}"))?;
            headers.append(name, value);
        }
        Ok(Prepared {
            method: request.method.clone(),
            uri,
            headers,
            body: Bytes::from(request.body.clone().unwrap_or_default()),
        })
    }

    fn build(&self) -> hyper::Request<Full<Bytes>> {
        let mut request = hyper::Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// Hands out the requests: which one is next and, in open loop, when it is due.
struct Schedule {
    /// Set by the first worker past the start line.
    start: OnceLock<Instant>,
    next: AtomicUsize,
    requests: usize,
    rate: Option<f64>,
    duration: Option<Duration>,
}

struct Ticket {
    request: usize,
    /// When it is due (open loop) or was taken (closed loop).
    due: Instant,
}

impl Schedule {
    fn new(plan: &LoadPlan) -> Schedule {
        Schedule {
            start: OnceLock::new(),
            next: AtomicUsize::new(0),
            requests: plan.requests.len(),
            rate: plan.rate,
            duration: plan.duration,
        }
    }

    fn start(&self) -> Instant {
        *self.start.get_or_init(Instant::now)
    }

    /// The next request to send, after waiting until it is due; `None` when
    /// the plan is done.
    async fn next(&self) -> Option<Ticket> {
        let start = self.start();
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        if self.duration.is_none() && n >= self.requests {
            return None;
        }
        let due = match self.rate {
            Some(rate) => start + Duration::from_secs_f64(n as f64 / rate),
            None => Instant::now(),
        };
        if let Some(duration) = self.duration
            && due.saturating_duration_since(start) >= duration
        {
            return None;
        }
        if self.rate.is_some() {
            tokio::time::sleep_until(due.into()).await;
        }
        Some(Ticket {
            request: n % self.requests,
            due,
        })
    }
}

/// One request in flight at a time on one keep-alive connection.
struct Worker {
    server: SocketAddr,
    source: Ipv4Addr,
    requests: Arc<[Prepared]>,
    schedule: Arc<Schedule>,
}

type Connection = SendRequest<Full<Bytes>>;

impl Worker {
    async fn run(self, start_line: Arc<tokio::sync::Barrier>) -> Vec<Outcome> {
        // Connected before the start, as wrk does; a failure here is retried
        // at the first request and counted there.
        let mut connection = self.connect().await.ok();
        start_line.wait().await;
        let start = self.schedule.start();
        let mut outcomes = Vec::new();
        while let Some(ticket) = self.schedule.next().await {
            let request = &self.requests[ticket.request];
            let answer = tokio::time::timeout(TIMEOUT, self.exchange(&mut connection, request));
            let status = match answer.await {
                Ok(Ok(status)) => status,
                _ => {
                    connection = None;
                    0
                }
            };
            outcomes.push(Outcome {
                sent_at: ticket.due.saturating_duration_since(start),
                latency: ticket.due.elapsed(),
                status,
                request: ticket.request,
            });
            if status == 0 {
                // Do not spin on a server that refuses connections.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        outcomes
    }

    async fn connect(&self) -> anyhow::Result<Connection> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket
            .bind(SocketAddr::new(IpAddr::V4(self.source), 0))
            .with_context(|| format!("binding to {}", self.source))?;
        let stream = socket.connect(self.server).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("the HTTP/1.1 handshake")?;
        // It ends with the connection; its errors reach the sender.
        tokio::spawn(connection);
        Ok(sender)
    }

    /// Sends one request on the connection (made or remade when missing or
    /// closed) and reads the whole answer; its status.
    async fn exchange(
        &self,
        connection: &mut Option<Connection>,
        request: &Prepared,
    ) -> anyhow::Result<u16> {
        let usable = match connection {
            Some(sender) => sender.ready().await.is_ok(),
            None => false,
        };
        if !usable {
            // Missing, or closed by the server while idle (nothing was sent).
            *connection = Some(self.connect().await?);
        }
        let Some(sender) = connection.as_mut() else {
            anyhow::bail!("no connection");
        };
        sender.ready().await?;
        let answer = sender.send_request(request.build()).await?;
        let status = answer.status().as_u16();
        let mut body = answer.into_body();
        while let Some(frame) = body.frame().await {
            frame?;
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::{ConnectInfo, State};
    use axum::http::{HeaderMap as Headers, StatusCode};
    use axum::routing::{get, post};
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    /// What the test server saw.
    #[derive(Default)]
    struct Seen {
        in_flight: AtomicUsize,
        most_in_flight: AtomicUsize,
        peers: Mutex<Vec<SocketAddr>>,
    }

    async fn slow(State(seen): State<Arc<Seen>>, ConnectInfo(peer): ConnectInfo<SocketAddr>) {
        let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        seen.most_in_flight.fetch_max(now, Ordering::SeqCst);
        seen.peers.lock().expect("lock").push(peer);
        tokio::time::sleep(Duration::from_millis(5)).await;
        seen.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    async fn echo(headers: Headers, body: String) -> (StatusCode, String) {
        let tagged = headers.get("x-tag").is_some_and(|tag| tag == "bench");
        let json = headers
            .get("content-type")
            .is_some_and(|ct| ct == "application/json");
        if tagged && json && body == r#"{"name":"x"}"# {
            (StatusCode::CREATED, "a".repeat(100_000))
        } else {
            (StatusCode::BAD_REQUEST, String::new())
        }
    }

    async fn serve() -> (String, Arc<Seen>) {
        let seen = Arc::new(Seen::default());
        let app = axum::Router::new()
            .route("/slow", get(slow))
            .route("/echo", post(echo))
            .route(
                "/close",
                get(|| async { ([(axum::http::header::CONNECTION, "close")], "bye") }),
            )
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app).await.expect("serve");
        });
        (format!("http://{addr}"), seen)
    }

    fn plan(requests: Vec<Request>, concurrency: usize, sources: usize) -> LoadPlan {
        LoadPlan {
            requests,
            concurrency,
            sources,
            rate: None,
            duration: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_request_once_within_the_bound_from_the_sources_on_kept_connections() {
        let (base, seen) = serve().await;
        let requests = (0..200).map(|_| Request::get("/slow")).collect();
        let outcomes = drive(&base, plan(requests, 8, 4)).await.expect("drive");

        assert_eq!(outcomes.len(), 200);
        assert!(outcomes.iter().all(|o| o.status == 200));
        let indexes: BTreeSet<usize> = outcomes.iter().map(|o| o.request).collect();
        assert_eq!(indexes, (0..200).collect());
        assert!(outcomes.windows(2).all(|w| w[0].sent_at <= w[1].sent_at));
        let most = seen.most_in_flight.load(Ordering::SeqCst);
        assert!((2..=8).contains(&most), "{most} in flight at most");

        let peers = seen.peers.lock().expect("lock").clone();
        let sources: BTreeSet<IpAddr> = peers.iter().map(SocketAddr::ip).collect();
        let wanted: BTreeSet<IpAddr> = (2..=5).map(|d| IpAddr::from([127, 0, 0, d])).collect();
        assert_eq!(sources, wanted);
        let connections: BTreeSet<SocketAddr> = peers.into_iter().collect();
        assert_eq!(connections.len(), 8, "one keep-alive connection per slot");
    }

    #[tokio::test]
    async fn headers_and_bodies_are_sent_and_answers_read_whole() {
        let (base, _) = serve().await;
        let body = serde_json::json!({ "name": "x" });
        let requests = vec![
            Request::post_json("/echo", &body).header("x-tag", "bench"),
            Request::post_json("/echo", &body),
            Request::get("/missing"),
        ];
        let outcomes = drive(&base, plan(requests, 1, 1)).await.expect("drive");
        let statuses: Vec<u16> = outcomes.iter().map(|o| o.status).collect();
        assert_eq!(statuses, [201, 400, 404]);
    }

    #[tokio::test]
    async fn a_duration_cycles_the_requests_and_a_rate_paces_them() {
        let (base, _) = serve().await;
        let requests = vec![Request::get("/slow"), Request::get("/missing")];
        let mut paced = plan(requests, 4, 1);
        paced.rate = Some(50.0);
        paced.duration = Some(Duration::from_millis(400));
        let outcomes = drive(&base, paced).await.expect("drive");
        // Due at 0, 20, …, 380 ms: exactly 20, alternating.
        assert_eq!(outcomes.len(), 20);
        assert_eq!(outcomes.iter().filter(|o| o.status == 200).count(), 10);
        assert_eq!(outcomes.iter().filter(|o| o.status == 404).count(), 10);
        for (n, outcome) in outcomes.iter().enumerate() {
            let due = Duration::from_millis(20 * n as u64);
            assert!(outcome.sent_at.abs_diff(due) < Duration::from_millis(1));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_server_that_closes_each_connection_is_reconnected_to() {
        // As gunicorn's sync workers do: one answer per connection.
        let (base, _) = serve().await;
        let requests = (0..300).map(|_| Request::get("/close")).collect();
        let outcomes = drive(&base, plan(requests, 4, 2)).await.expect("drive");
        assert_eq!(outcomes.len(), 300);
        let failed = outcomes.iter().filter(|o| o.status != 200).count();
        assert_eq!(failed, 0, "{failed} of 300 failed");
    }

    #[tokio::test]
    async fn a_closed_port_gives_status_zero() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        drop(listener);
        let requests = (0..3).map(|_| Request::get("/")).collect();
        let outcomes = drive(&base, plan(requests, 2, 2)).await.expect("drive");
        assert_eq!(outcomes.len(), 3);
        assert!(outcomes.iter().all(|o| o.status == 0));
    }

    #[tokio::test]
    async fn bad_plans_and_addresses_are_refused() {
        let one = || vec![Request::get("/")];
        for base in ["http://10.0.0.1:80", "https://127.0.0.1:1", "not a url"] {
            assert!(drive(base, plan(one(), 1, 1)).await.is_err(), "{base}");
        }
        let base = "http://127.0.0.1:9";
        assert!(drive(base, plan(Vec::new(), 1, 1)).await.is_err());
        assert!(drive(base, plan(one(), 0, 1)).await.is_err());
        assert!(drive(base, plan(one(), 1, 0)).await.is_err());
        assert!(
            drive(base, plan(vec![Request::get("no-slash")], 1, 1))
                .await
                .is_err()
        );
        let mut paced = plan(one(), 1, 1);
        paced.rate = Some(0.0);
        assert!(drive(base, paced).await.is_err());
    }

    #[test]
    fn source_addresses_count_up_from_127_0_0_2() {
        assert_eq!(source_address(0, 1), Ipv4Addr::LOCALHOST);
        assert_eq!(source_address(0, 10), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(source_address(300, 1000), Ipv4Addr::new(127, 0, 1, 46));
    }
}
