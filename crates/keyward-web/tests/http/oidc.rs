//! A real OpenID provider for the single sign-on tests: `node
//! tests/oidc/provider.mjs` (npm oidc-provider) on a free loopback port,
//! killed on drop. `npm ci` runs in tests/oidc first when its node_modules
//! is missing, under the lock file and marker of `scripts/lib/oidc.sh`. A
//! cookie-keeping reqwest client plays the person at the provider's login
//! page. [`HostileProvider`]: a few lines of axum on loopback whose
//! discovery documents say what a test wants (addresses keyward must not
//! use, or a failure), counting what it is asked.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use keyward_core::testing::workspace_root;

/// The fixture's clients' secret.
pub const CLIENT_SECRET: &str = "kw-secret";

/// tests/oidc, with its node_modules installed.
fn fixture_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = workspace_root();
        let dir = root.join("tests/oidc");
        let lock_json = std::fs::read(dir.join("package-lock.json")).expect("package-lock.json");
        let marker = dir.join("node_modules/.keyward-lock");
        let ready = || {
            dir.join("node_modules/oidc-provider/package.json").exists()
                && std::fs::read(&marker).is_ok_and(|m| m == lock_json)
        };
        if ready() {
            return dir;
        }
        let tools = root.join("target/test-tools");
        std::fs::create_dir_all(&tools).expect("target/test-tools");
        let lock = std::fs::File::create(tools.join("oidc.lock")).expect("oidc lock file");
        lock.lock().expect("lock the OpenID provider's install");
        if !ready() {
            let status = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .expect("run npm ci in tests/oidc (node and npm: apt install nodejs npm)");
            assert!(status.success(), "npm ci in tests/oidc failed");
            std::fs::write(&marker, &lock_json).expect("write the marker");
        }
        drop(lock);
        dir
    })
    .clone()
}

/// A free port of a range of 100 (from `KEYWARD_TEST_PORT_BASE`, else
/// 18500), else any free one.
fn free_port() -> u16 {
    static BASE: OnceLock<u16> = OnceLock::new();
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = *BASE.get_or_init(|| {
        std::env::var("KEYWARD_TEST_PORT_BASE")
            .ok()
            .and_then(|b| b.parse().ok())
            .filter(|b: &u16| *b < 65_000)
            .unwrap_or(18500)
    });
    for _ in 0..100 {
        let port = base + NEXT.fetch_add(1, Ordering::Relaxed) % 100;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The provider, running; killed on drop.
pub struct OidcProvider {
    pub port: u16,
    /// A port that accepts connections and never answers.
    pub blackhole_port: u16,
    child: Child,
}

impl OidcProvider {
    /// Starts the provider, sending people back to `redirect_uri`.
    pub fn start(redirect_uri: &str) -> OidcProvider {
        OidcProvider::start_with(redirect_uri, &[])
    }

    /// [`OidcProvider::start`] with more of the fixture's `OP_…` settings.
    pub fn start_with(redirect_uri: &str, env: &[(&str, &str)]) -> OidcProvider {
        let dir = fixture_dir();
        let port = free_port();
        let blackhole_port = free_port();
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .env("OP_PORT", port.to_string())
            .env("OP_BLACKHOLE_PORT", blackhole_port.to_string())
            .env("OP_REDIRECT_URIS", redirect_uri)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node tests/oidc/provider.mjs");
        let stdout = child.stdout.take().expect("the provider's stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("provider ready") {
                    let _ = tx.send(());
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if rx.recv_timeout(Duration::from_millis(100)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the OpenID provider exited ({status}) before it was ready");
            }
            assert!(
                Instant::now() < deadline,
                "the OpenID provider was not ready within 30 s"
            );
        }
        OidcProvider {
            port,
            blackhole_port,
            child,
        }
    }

    /// The issuer as the provider names itself.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A person at the provider's pages: a cookie-keeping client that follows
/// no redirect by itself.
pub fn person() -> reqwest::Client {
    crate::helpers::http_client()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client")
}

/// Signs in at the provider from its authorization URL as `username`
/// (`mfa`: ticks "Used a second factor"), following its redirects until it
/// sends the browser back to `redirect_uri`; returns that address with its
/// query (`code` and `state`, or `error`).
pub async fn sign_in_at_provider(
    client: &reqwest::Client,
    authorize_url: &str,
    redirect_uri: &str,
    username: &str,
    mfa: bool,
) -> String {
    let mut location = authorize_url.to_owned();
    let mut submitted = false;
    for _ in 0..10 {
        if location.starts_with(redirect_uri) {
            return location;
        }
        let response = client
            .get(&location)
            .send()
            .await
            .expect("GET at the provider");
        if response.status().is_redirection() {
            location = absolute(&location, response.headers());
            continue;
        }
        assert!(
            !submitted,
            "the provider showed a page after the login: {}",
            response.status()
        );
        let page = response.text().await.expect("the login page");
        assert!(
            page.contains("name=\"username\""),
            "not the login page: {page}"
        );
        let mut form = vec![("username", username), ("password", "anything")];
        if mfa {
            form.push(("mfa", "1"));
        }
        let response = client
            .post(&location)
            .form(&form)
            .send()
            .await
            .expect("POST the login form");
        assert!(
            response.status().is_redirection(),
            "login answered {}",
            response.status()
        );
        location = absolute(&location, response.headers());
        submitted = true;
    }
    panic!("the provider never sent the browser back to {redirect_uri}");
}

fn absolute(base: &str, headers: &reqwest::header::HeaderMap) -> String {
    let to = headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a Location header");
    url::Url::parse(base)
        .and_then(|b| b.join(to))
        .expect("a valid Location")
        .to_string()
}

/// A provider that says about itself what a test wants: under
/// `/<name>/.well-known/openid-configuration`, the discovery document of the
/// issuer `http://127.0.0.1:<port>/<name>` with the endpoints the test gave
/// (a default for each it did not), or a 500 for a name it did not give.
/// Counts every request by path; stops with the test's runtime.
pub struct HostileProvider {
    pub port: u16,
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl HostileProvider {
    /// `documents`: each name with the document's fields to replace.
    pub async fn start(documents: Vec<(&'static str, serde_json::Value)>) -> HostileProvider {
        use axum::extract::{Request, State};
        use axum::http::StatusCode;
        use axum::response::{IntoResponse, Response};
        type Shared = (
            u16,
            std::sync::Arc<std::sync::Mutex<Vec<String>>>,
            std::collections::HashMap<&'static str, serde_json::Value>,
        );
        async fn answer(
            State(shared): State<std::sync::Arc<Shared>>,
            request: Request,
        ) -> Response {
            let (port, asked, documents) = &*shared;
            let path = request.uri().path().to_owned();
            asked.lock().unwrap().push(path.clone());
            if path.ends_with("/jwks") {
                return axum::Json(serde_json::json!({"keys": []})).into_response();
            }
            let name = path
                .strip_suffix("/.well-known/openid-configuration")
                .map(|n| n.trim_start_matches('/'));
            let Some(changes) = name.and_then(|n| documents.get(n)) else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let issuer = format!("http://127.0.0.1:{port}/{}", name.unwrap_or_default());
            let mut document = serde_json::json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/auth"),
                "token_endpoint": format!("{issuer}/token"),
                "jwks_uri": format!("{issuer}/jwks"),
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            });
            for (key, value) in changes.as_object().into_iter().flatten() {
                document[key] = value.clone();
            }
            axum::Json(document).into_response()
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", free_port()))
            .await
            .expect("bind the hostile provider");
        let port = listener.local_addr().unwrap().port();
        let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let shared = std::sync::Arc::new((port, asked.clone(), documents.into_iter().collect()));
        let app = axum::Router::new().fallback(answer).with_state(shared);
        tokio::spawn(async move { axum::serve(listener, app).await });
        HostileProvider { port, asked }
    }

    /// The issuer of document `name`.
    pub fn issuer(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    /// Every path asked for so far.
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}
