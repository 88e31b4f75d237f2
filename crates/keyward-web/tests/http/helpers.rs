//! Shared test support: an app over a fresh database per test (SQLite, or
//! PostgreSQL when `KEYWARD_TEST_POSTGRES_URL` is set) with cheap hashing,
//! requests sent in process with `oneshot`, a tiny cookie-keeping browser for
//! the page flows, and readers for what comes back.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use keyward_core::Keyward;
use keyward_core::settings::{HashingSettings, Settings};
use keyward_core::testing::{
    MONDAY_MORNING, TestDb, ctx_at, keyward, seed_demo_people, settings_for,
};
use keyward_core::types::random::SeededRandom;
use keyward_core::types::{Password, Username};
use keyward_web::AppState;

/// The platform admin most tests sign in as.
pub const ADMIN_USERNAME: &str = "Head.Office";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// The client address every in-process request comes from.
pub const CLIENT_ADDR: SocketAddr = SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10)),
    40_000,
);

pub struct TestApp {
    pub kw: Arc<Keyward>,
    pub state: AppState,
    router: Router,
    // Dropped last: removes the PostgreSQL database or the SQLite folder.
    _db: TestDb,
}

/// The app over a fresh database with the test settings.
pub async fn spawn_app() -> TestApp {
    let (kw, db) = keyward().await;
    TestApp::over(kw, db)
}

/// The app with some settings changed from the test settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    adjust(&mut settings);
    let settings = settings
        .validate()
        .expect("adjusted test settings are valid");
    let kw = Keyward::new(db.db.clone(), settings, &SeededRandom::new(7)).expect("keyward");
    TestApp::over(kw, db)
}

/// The app with the platform admin already created.
pub async fn spawn_app_with_admin() -> TestApp {
    let app = spawn_app().await;
    app.create_admin(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    app
}

impl TestApp {
    fn over(kw: Arc<Keyward>, db: TestDb) -> TestApp {
        let state = AppState::new(kw.clone());
        let router = keyward_web::router(state.clone()).layer(MockConnectInfo(CLIENT_ADDR));
        TestApp {
            kw,
            state,
            router,
            _db: db,
        }
    }

    /// The same app reaching schools' providers through `http` instead.
    pub fn with_sso_http(mut self, http: Arc<dyn keyward_core::sso::SsoHttp>) -> TestApp {
        self.state.sso_http = http;
        self.router = keyward_web::router(self.state.clone()).layer(MockConnectInfo(CLIENT_ADDR));
        self
    }

    pub async fn create_admin(&self, username: &str, password: &str) {
        let rng = SeededRandom::new(11);
        let ctx = ctx_at(MONDAY_MORNING, &rng);
        let username = Username::parse(username).expect("valid username");
        let password = Password::from(password);
        self.kw
            .create_platform_admin(&ctx, &username, None, &password)
            .await
            .expect("create platform admin");
    }

    /// A second keyward instance on the same database (its own pool, the
    /// same settings and sealing key), as the router another backend behind
    /// a load balancer would be; send to it with [`send_to`].
    pub async fn second_instance(&self) -> Router {
        let kw = keyward_core::testing::second_instance(&self._db).await;
        keyward_web::router(AppState::new(kw)).layer(MockConnectInfo(CLIENT_ADDR))
    }

    /// Sends one request through the whole router, as a socket would.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        send_to(&self.router, request).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(get(path).body(Body::empty()).unwrap()).await
    }

    /// `GET /metrics` on the metrics listener's router (the main router has none).
    pub async fn metrics(&self) -> Reply {
        let response = keyward_web::metrics_router(self.state.clone())
            .oneshot(get("/metrics").body(Body::empty()).unwrap())
            .await
            .expect("the metrics router never fails");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes().to_vec();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// The name a cookie has in this app: `__Host-<name>` on https.
    pub fn cookie_name(&self, name: &'static str) -> String {
        self.state.cookie_name(name).into_owned()
    }

    pub fn browser(&self) -> Browser<'_> {
        Browser {
            app: self,
            cookies: BTreeMap::new(),
        }
    }

    /// Signs in through the three sign-in pages and returns the browser,
    /// now carrying the session cookie.
    pub async fn signed_in_browser(&self, username: &str, password: &str) -> Browser<'_> {
        let mut browser = self.browser();
        let reply = browser.sign_in(username, password).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
        assert!(browser.cookie(&self.cookie_name("kw_session")).is_some());
        browser
    }

    /// `POST /api/v1/session` with the given credentials.
    pub async fn api_sign_in(&self, username: &str, password: &str) -> Reply {
        let body = serde_json::json!({ "username": username, "password": password });
        self.send(json_post("/api/v1/session", &body)).await
    }

    /// Signs in through the API; returns the session cookie and CSRF token.
    pub async fn api_session(&self) -> (String, String) {
        self.api_session_as(ADMIN_USERNAME, ADMIN_PASSWORD).await
    }

    /// Signs in as anyone through the API; returns the session cookie and CSRF token.
    pub async fn api_session_as(&self, username: &str, password: &str) -> (String, String) {
        let reply = self.api_sign_in(username, password).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let cookie = reply
            .cookie_value(&self.cookie_name("kw_session"))
            .expect("session cookie");
        let csrf = reply.json()["csrf_token"]
            .as_str()
            .expect("csrf_token")
            .to_owned();
        (cookie, csrf)
    }

    /// Hashes computed so far (to prove that a refusal came before hashing).
    pub fn hashes_computed(&self) -> u64 {
        self.kw
            .hashing_stats()
            .completed
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The newest audit rows as `(action, outcome)`.
    pub async fn audit_actions(&self) -> Vec<(String, String)> {
        keyward_core::audit::recent(self.kw.db(), 100)
            .await
            .expect("audit readable")
            .into_iter()
            .map(|row| (row.action, row.outcome))
            .collect()
    }
}

pub fn get(path: &str) -> axum::http::request::Builder {
    Request::get(path)
}

/// A JSON POST as an API client sends it.
pub fn json_post(path: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A urlencoded body from pairs.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A form POST with a raw (already encoded) body and the given cookies.
pub fn form_post(path: &str, cookies: &str, body: impl Into<Body>) -> Request<Body> {
    let mut request =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if !cookies.is_empty() {
        request = request.header(header::COOKIE, cookies);
    }
    request.body(body.into()).unwrap()
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The page as a person reads it: HTML entities decoded.
    pub fn page_text(&self) -> String {
        decode_entities(&self.text())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.text()))
    }

    /// A CSV answer read back: its header row and its records.
    pub fn csv(&self) -> (Vec<String>, Vec<Vec<String>>) {
        parse_csv(&self.body)
    }

    pub fn header(&self, name: impl header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> &str {
        self.header(header::CONTENT_TYPE).unwrap_or("")
    }

    pub fn location(&self) -> Option<&str> {
        self.header(header::LOCATION)
    }

    /// The whole `Set-Cookie` line for a cookie name.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|line| line.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The value a `Set-Cookie` gives a cookie.
    pub fn cookie_value(&self, name: &str) -> Option<String> {
        let line = self.set_cookie(name)?;
        let pair = line.split(';').next()?;
        Some(pair.split_once('=')?.1.to_owned())
    }

    /// The value of a hidden (or any) input by name, as the browser sees it.
    pub fn field(&self, name: &str) -> Option<String> {
        let text = self.text();
        let marker = format!("name=\"{name}\" value=\"");
        let start = text.find(&marker)? + marker.len();
        let end = text[start..].find('"')? + start;
        Some(decode_entities(&text[start..end]))
    }
}

/// Decodes the entities askama writes (`&#39;`, `&#34;`…) and the named ones.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|end| *end <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Keeps cookies across page requests, as a browser does.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: BTreeMap<String, String>,
}

impl Browser<'_> {
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_owned(), value.to_owned());
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, request: Request<Body>) -> Reply {
        let reply = self.app.send(request).await;
        for line in reply
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let Some((name, value)) = line.split(';').next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let removed = value.is_empty() || line.to_ascii_lowercase().contains("max-age=0");
            if removed {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        reply
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let request = get(path)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    pub async fn post_form(&mut self, path: &str, pairs: &[(&str, &str)]) -> Reply {
        let request = form_post(path, &self.cookie_header(), form_body(pairs));
        self.send(request).await
    }

    /// Opens the username step and returns its CSRF token.
    pub async fn open_username_step(&mut self) -> String {
        let reply = self.get("/signin/username").await;
        assert_eq!(reply.status, StatusCode::OK);
        reply.field("csrf_token").expect("csrf_token field")
    }

    /// Goes through the username and password steps; returns the last answer.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> Reply {
        let csrf = self.open_username_step().await;
        let step = self
            .post_form(
                "/signin/username",
                &[("csrf_token", &csrf), ("username", username)],
            )
            .await;
        assert_eq!(step.status, StatusCode::OK, "{}", step.text());
        let csrf = step
            .field("csrf_token")
            .expect("csrf_token on password step");
        self.post_form(
            "/signin/password",
            &[
                ("csrf_token", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }
}

/// Asserts a JSON error answer: status, code, a message, and a request id
/// equal to the `x-request-id` header.
pub fn assert_api_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert!(
        reply.content_type().starts_with("application/json"),
        "content type {:?} for {}",
        reply.content_type(),
        reply.text()
    );
    let body = reply.json();
    assert_eq!(body["error"], code, "{body}");
    let message = body["message"].as_str().unwrap_or("");
    assert!(!message.is_empty(), "no message in {body}");
    let request_id = body["request_id"].as_str().expect("request_id in body");
    assert!(!request_id.is_empty() && request_id != "-", "{body}");
    assert_eq!(
        reply.header("x-request-id"),
        Some(request_id),
        "x-request-id header differs from the body's request_id"
    );
}

/// Asserts an HTML error page with a readable alert.
pub fn assert_error_page(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert!(
        reply.content_type().starts_with("text/html"),
        "content type {:?}",
        reply.content_type()
    );
    assert!(reply.text().contains("role=\"alert\""), "{}", reply.text());
}

/// Waits until a new wall-clock second has just begun, so that a few quick
/// requests that follow all see the same second (throttling counts in whole
/// seconds).
pub async fn start_of_a_fresh_second() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    let into_second = Duration::from_nanos(u64::from(now.subsec_nanos()));
    tokio::time::sleep(Duration::from_secs(1) - into_second + Duration::from_millis(5)).await;
}

/// Deliberately slow hashing with one slot, so that a sign-in is still
/// hashing while a test does something else.
pub fn slow_hashing(queue_timeout: Duration) -> HashingSettings {
    HashingSettings {
        memory_kib: 64 * 1024,
        iterations: 12,
        parallelism: 1,
        max_concurrent: 1,
        queue_timeout,
        allow_weak: false,
    }
}

/// Waits until a hash is being computed.
pub async fn until_hashing(app: &TestApp) {
    let stats = app.kw.hashing_stats();
    let started = std::time::Instant::now();
    while stats.running.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no hash started"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The password every demo person gets in the tests of schools and classes,
/// and the reader of CSV files, both shared with the core's tests.
pub use keyward_core::testing::{DEMO_PASSWORD, parse_csv};

/// The app with the demo school and people, all with `DEMO_PASSWORD`.
pub async fn demo_app() -> TestApp {
    let app = spawn_app().await;
    seed_demo_people(&app.kw, &SeededRandom::new(8)).await;
    app
}

/// An API session: the cookie and the CSRF token.
pub type Session = (String, String);

/// An API call with a session cookie and its CSRF token (on an http app; on
/// https the cookie is `__Host-kw_session`).
pub fn call(method: &str, path: &str, session: &Session, body: Option<Value>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("cookie", format!("kw_session={}", session.0))
        .header("x-csrf-token", &session.1)
        .header("content-type", "application/json")
        .body(body.map(|b| Body::from(b.to_string())).unwrap_or_default())
        .expect("request")
}

/// The school of the session's user.
pub async fn school_of(app: &TestApp, session: &Session) -> String {
    let me = app
        .send(call("GET", "/api/v1/me", session, None))
        .await
        .json();
    me["school_id"]
        .as_str()
        .expect("a school member")
        .to_owned()
}

/// The user id of `username`, as `POST /api/v1/session` answers it.
pub async fn user_id(app: &TestApp, username: &str, password: &str) -> String {
    app.api_sign_in(username, password).await.json()["user"]["id"]
        .as_str()
        .expect("a user id")
        .to_owned()
}

/// Whether `username` signs in through the API with `password`.
pub async fn signs_in(app: &TestApp, username: &str, password: &str) -> bool {
    app.api_sign_in(username, password).await.status == StatusCode::OK
}

/// A new school named `name`, made by a platform admin through
/// `POST /api/v1/schools`; its id.
pub async fn create_school(app: &TestApp, admin: &Session, name: &str) -> String {
    let reply = app
        .send(call(
            "POST",
            "/api/v1/schools",
            admin,
            Some(serde_json::json!({ "name": name })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    reply.json()["id"].as_str().expect("a school id").to_owned()
}

/// A new class of `school` taught by `teachers`, made by `by` through
/// `POST /api/v1/schools/{id}/classes`; its id and class code.
pub async fn create_class(
    app: &TestApp,
    by: &Session,
    school: &str,
    name: &str,
    teachers: &[&str],
) -> (String, String) {
    let reply = app
        .send(call(
            "POST",
            &format!("/api/v1/schools/{school}/classes"),
            by,
            Some(serde_json::json!({ "name": name, "teacher_ids": teachers })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let class = reply.json();
    (
        class["id"].as_str().expect("a class id").to_owned(),
        class["class_code"]
            .as_str()
            .expect("a class code")
            .to_owned(),
    )
}

/// The id of the first class `teacher` sees (Class 4B for demo.teacher).
pub async fn demo_class_id(app: &TestApp, teacher: &Session) -> String {
    let classes = app
        .send(call("GET", "/api/v1/classes", teacher, None))
        .await
        .json();
    classes[0]["id"].as_str().expect("a class").to_owned()
}

/// A pending user made by `by` through `POST /api/v1/users` with `user`
/// (`first_name`, `last_name`, `role`, `school_id`, `class_ids`…); the
/// answer: `id`, `access_code`, `parent_access_code`.
pub async fn create_user(app: &TestApp, by: &Session, user: Value) -> Value {
    let reply = app
        .send(call("POST", "/api/v1/users", by, Some(user)))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    reply.json()
}

/// Uses an access code through `POST /api/v1/activate`, choosing `username`
/// and `password`; staff must also give an `email`.
pub async fn activate(
    app: &TestApp,
    code: &str,
    username: &str,
    password: &str,
    email: Option<&str>,
) {
    let mut body = serde_json::json!({ "code": code, "username": username, "password": password });
    if let Some(email) = email {
        body["email"] = email.into();
    }
    let reply = app.send(json_post("/api/v1/activate", &body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
}

/// An active user, as a school makes one: created by `by` through
/// `POST /api/v1/users` with `user`, activated with its access code as
/// `username` with `password` (and `email`, for staff), then signed in
/// through the API.
pub async fn create_active_user(
    app: &TestApp,
    by: &Session,
    user: Value,
    (username, password): (&str, &str),
    email: Option<&str>,
) -> Session {
    let created = create_user(app, by, user).await;
    let code = created["access_code"].as_str().expect("an access code");
    activate(app, code, username, password, email).await;
    app.api_session_as(username, password).await
}

/// Every byte of the SQLite database files (the database, its write-ahead
/// log, shared memory and journal); empty on PostgreSQL, which has no file
/// to read.
pub fn sqlite_bytes(app: &TestApp) -> Vec<u8> {
    let url = &app.kw.settings().database.url;
    let Some(path) = url.strip_prefix("sqlite://") else {
        return Vec::new();
    };
    let path = path.split('?').next().unwrap_or(path);
    let mut bytes = std::fs::read(path).expect("the SQLite file is readable");
    for suffix in ["-wal", "-shm", "-journal"] {
        if let Ok(more) = std::fs::read(format!("{path}{suffix}")) {
            bytes.extend(more);
        }
    }
    bytes
}

/// Whether `haystack` holds the bytes of `needle`.
pub fn contains_bytes(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// A reqwest client builder for the tests that talk over a real socket:
/// rustls's crypto provider installed first (reqwest brings none of its own).
pub fn http_client() -> reqwest::ClientBuilder {
    keyward_web::install_tls_provider();
    reqwest::Client::builder()
}

/// Turns on an authenticator app for the session's person through the API
/// (their password again, then a first code); gives back the app's secret.
pub async fn enrol_totp(app: &TestApp, session: &Session, password: &str) -> String {
    let start = app
        .send(call(
            "POST",
            "/api/v1/me/mfa/totp",
            session,
            Some(serde_json::json!({ "password": password })),
        ))
        .await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.text());
    let secret = start.json()["secret"].as_str().unwrap().to_owned();
    let now = keyward_core::types::UnixTime::now();
    let code = keyward_core::mfa::code_for(&secret, now).unwrap();
    let confirm = app
        .send(call(
            "POST",
            "/api/v1/me/mfa/totp/confirm",
            session,
            Some(serde_json::json!({ "code": code })),
        ))
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.text());
    secret
}

/// Sends one request through `router` (an app's, or a second instance's).
pub async fn send_to(router: &Router, request: Request<Body>) -> Reply {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router never fails");
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .expect("body readable")
        .to_bytes()
        .to_vec();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}
