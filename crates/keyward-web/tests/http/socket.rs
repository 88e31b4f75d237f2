//! A few tests over a real socket: `Server::bind` on port 0, a reqwest client
//! with a cookie store, graceful shutdown, and a burst of concurrent sign-ins.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use keyward_web::{AppState, Server, ServerError};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::helpers::*;

struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    run: JoinHandle<Result<(), ServerError>>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Triggers shutdown and waits for `run` to return.
    async fn shut_down_within(self, limit: Duration) -> SocketAddr {
        let _ = self.stop.send(());
        let result = tokio::time::timeout(limit, self.run)
            .await
            .expect("run() returned after shutdown")
            .expect("server task did not panic");
        assert!(result.is_ok(), "run() failed: {result:?}");
        self.addr
    }
}

async fn start(app: &TestApp) -> Running {
    start_state(app.state.clone()).await
}

async fn start_state(state: AppState) -> Running {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = Server::bind(state, addr).await.expect("bind port 0");
    let addr = server.local_addr().expect("bound address");
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    Running { addr, stop, run }
}

fn client() -> reqwest::Client {
    crate::helpers::http_client()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

async fn refuses_connections(addr: SocketAddr) -> bool {
    tokio::net::TcpStream::connect(addr).await.is_err()
}

#[tokio::test]
async fn api_sign_in_and_me_work_over_a_real_socket() {
    let app = spawn_app_with_admin().await;
    let server = start(&app).await;
    let client = client();

    let unauthenticated = client.get(server.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);

    let reply = client
        .post(server.url("/api/v1/session"))
        .json(&json!({ "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let answer: Value = reply.json().await.unwrap();
    let csrf = answer["csrf_token"].as_str().unwrap().to_owned();

    let me = client.get(server.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], ADMIN_USERNAME);

    let out = client
        .delete(server.url("/api/v1/session"))
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let after = client.get(server.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(after.status(), 401);

    server.shut_down_within(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn the_real_socket_gives_the_client_address_to_throttling_and_audit() {
    let app = spawn_app_with_admin().await;
    let server = start(&app).await;
    let reply = client()
        .post(server.url("/api/v1/session"))
        .json(&json!({ "username": ADMIN_USERNAME, "password": "wrong" }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
    let rows = keyward_core::audit::recent(app.kw.db(), 1).await.unwrap();
    assert_eq!(rows[0].client_addr.as_deref(), Some("127.0.0.1"));
    server.shut_down_within(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn sign_in_pages_work_over_a_real_socket() {
    let app = spawn_app_with_admin().await;
    let server = start(&app).await;
    let client = client();
    let page = client
        .get(server.url("/signin/username"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let csrf = &page[start..start + page[start..].find('"').unwrap()];
    let reply = client
        .post(server.url("/signin/password"))
        .form(&[
            ("csrf_token", csrf),
            ("username", ADMIN_USERNAME),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 303);
    let home = client.get(server.url("/home")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(
        home.text()
            .await
            .unwrap()
            .contains("Signed in as Head.Office")
    );
    server.shut_down_within(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn shutdown_ends_run_promptly_and_stops_accepting_connections() {
    let app = spawn_app().await;
    let grace = app.kw.settings().server.shutdown_grace;
    let server = start(&app).await;
    let client = client();
    // Leave an idle keep-alive connection in the client's pool.
    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(!refuses_connections(server.addr).await);

    let started = Instant::now();
    let addr = server.shut_down_within(grace).await;
    assert!(
        started.elapsed() < grace / 2,
        "run() waited out the grace period instead of draining: {:?}",
        started.elapsed()
    );
    assert!(
        refuses_connections(addr).await,
        "still accepting after shutdown"
    );
    assert!(
        client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn shutdown_lets_a_sign_in_in_flight_finish() {
    // Deliberately slow hashing, so that a sign-in is still running when the
    // shutdown begins.
    let app = spawn_app_with(|s| s.hashing = slow_hashing(Duration::from_secs(60))).await;
    app.create_admin(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let server = start(&app).await;
    let stats = app.kw.hashing_stats();
    let completed_before = stats.completed.load(Ordering::SeqCst);

    let url = server.url("/api/v1/session");
    let in_flight = tokio::spawn(async move {
        client()
            .post(url)
            .json(&json!({ "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD }))
            .send()
            .await
    });
    until_hashing(&app).await;
    assert_eq!(
        stats.completed.load(Ordering::SeqCst),
        completed_before,
        "hashing finished before the shutdown could begin; make it slower"
    );

    let addr = server.addr;
    let _ = server.stop.send(());
    // The listener closes at once, while the sign-in is still being answered.
    let mut refused = false;
    for _ in 0..200 {
        if refuses_connections(addr).await {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(refused, "new connections accepted during shutdown");

    let reply = in_flight
        .await
        .unwrap()
        .expect("the request in flight was answered");
    assert_eq!(reply.status(), 200, "the sign-in in flight was cut off");
    assert!(reply.headers().get("set-cookie").is_some());
    let run = tokio::time::timeout(Duration::from_secs(10), server.run)
        .await
        .expect("run() returned")
        .unwrap();
    assert!(run.is_ok(), "{run:?}");
}

#[tokio::test]
async fn fifty_concurrent_sign_ins_never_answer_a_server_error() {
    let app = spawn_app_with_admin().await;
    let server = start(&app).await;
    let client = crate::helpers::http_client()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let client = client.clone();
        let url = server.url("/api/v1/session");
        tasks.push(tokio::spawn(async move {
            let reply = client
                .post(url)
                .json(&json!({ "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD }))
                .send()
                .await
                .expect("answered");
            let status = reply.status().as_u16();
            let retry_after = reply.headers().contains_key("retry-after");
            let body = reply.text().await.unwrap_or_default();
            (status, retry_after, body)
        }));
    }
    let mut ok = 0;
    for task in tasks {
        let (status, retry_after, body) = task.await.unwrap();
        assert!(
            matches!(status, 200 | 429 | 503),
            "a concurrent sign-in answered {status}: {body}"
        );
        if status == 200 {
            ok += 1;
        } else {
            assert!(retry_after, "{status} without Retry-After: {body}");
        }
    }
    assert!(ok > 0, "no sign-in succeeded");
    server.shut_down_within(Duration::from_secs(10)).await;
}

/// A client whose requests come from `ip` (any 127.x.y.z is a distinct client
/// on loopback), keeping its cookies.
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    crate::helpers::http_client()
        .local_address(std::net::IpAddr::from(ip))
        .cookie_store(true)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

async fn api_sign_in(client: &reqwest::Client, server: &Running, password: &str) -> u16 {
    client
        .post(server.url("/api/v1/session"))
        .json(&json!({ "username": ADMIN_USERNAME, "password": password }))
        .send()
        .await
        .expect("answered")
        .status()
        .as_u16()
}

/// How many tries one guesser gets one after another within `secs` seconds:
/// the free failures, one more, then one after each delay that has passed.
fn sequential_tries_within(app: &TestApp, secs: u64) -> usize {
    let throttle = &app.kw.settings().throttle;
    let (free, cap) = (throttle.account_free_failures, throttle.account_max_delay);
    let (mut tries, mut waited) = (free + 1, 0);
    loop {
        waited += keyward_core::accounts::throttle::delay_after(tries, free, cap).as_secs();
        if waited > secs {
            return tries as usize;
        }
        tries += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_over_http_get_the_sequential_tries_and_the_owner_signs_in_meanwhile() {
    let app = spawn_app_with_admin().await;
    let server = start(&app).await;
    // The owner signed in once from this browser before the attack.
    let owners_browser = client_from([127, 0, 0, 66]);
    assert_eq!(
        api_sign_in(&owners_browser, &server, ADMIN_PASSWORD).await,
        200
    );

    let started = Instant::now();
    let attacker = client_from([127, 0, 0, 66]);
    let guesses: Vec<_> = (0..120)
        .map(|i| {
            let (attacker, url) = (attacker.clone(), server.url("/api/v1/session"));
            tokio::spawn(async move {
                let body = json!({ "username": ADMIN_USERNAME, "password": format!("guess {i}") });
                let reply = attacker
                    .post(url)
                    .json(&body)
                    .send()
                    .await
                    .expect("answered");
                reply.status().as_u16()
            })
        })
        .collect();
    // Meanwhile the owner signs in at school, from another address…
    let at_school = client_from([127, 0, 0, 9]);
    let from_school = api_sign_in(&at_school, &server, ADMIN_PASSWORD).await;
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }
    let secs = started.elapsed().as_secs() + 1;
    // …and from the browser behind the attacker's address that knows her.
    let from_home = api_sign_in(&owners_browser, &server, ADMIN_PASSWORD).await;

    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + throttled, 120, "{statuses:?}");
    assert!(checked >= 6, "{checked} checked");
    assert!(
        checked <= sequential_tries_within(&app, secs),
        "{checked} guesses checked in {secs} s"
    );
    assert_eq!((from_school, from_home), (200, 200));
    server.shut_down_within(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn metrics_are_served_only_on_their_own_listener_which_stops_with_the_server() {
    let app =
        spawn_app_with(|s| s.server.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await;
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = Server::bind(app.state.clone(), addr).await.expect("bind");
    let metrics_addr = server.metrics_addr().expect("a metrics listener");
    let main_addr = server.local_addr().unwrap();
    assert_ne!(metrics_addr, main_addr);
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let running = Running {
        addr: main_addr,
        stop,
        run,
    };
    let client = client();
    let health = client.get(running.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let main = client.get(running.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), 404);

    let reply = client
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let text = reply.text().await.unwrap();
    assert!(text.contains("route=\"/healthz\",status=\"200\""), "{text}");
    assert!(
        text.contains("route=\"unmatched\",status=\"404\""),
        "{text}"
    );
    let other = client
        .get(format!("http://{metrics_addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        404,
        "the metrics listener serves /metrics only"
    );

    running.shut_down_within(Duration::from_secs(10)).await;
    assert!(refuses_connections(metrics_addr).await);
}

#[tokio::test]
async fn without_metrics_bind_there_is_no_metrics_listener() {
    let app = spawn_app().await;
    let server = Server::bind(app.state.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(server.metrics_addr(), None);
}
