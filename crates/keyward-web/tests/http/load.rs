//! A bounded load test: the real server on a real socket, over a
//! file-backed database (SQLite, or PostgreSQL with
//! `KEYWARD_TEST_POSTGRES_URL`) with the production pool settings, and 64
//! clients for a few seconds mixing right and wrong sign-ins, recovery
//! requests for existing and missing accounts, wrong access codes and class
//! codes, and page loads. No answer may be a server error, except 503 with
//! `Retry-After` (which the test also counts). SQLite's write lock across
//! connections is what this guards: a transaction that reads, then writes,
//! then finds the lock taken fails with "database is locked" unless it began
//! as a writer.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::task::JoinSet;

use keyward_core::Keyward;
use keyward_core::settings::{DatabaseSettings, parse_network};
use keyward_core::store::Db;
use keyward_core::testing::{DEMO_PASSWORD, TestDb, seed_demo_people, settings_for};
use keyward_core::types::random::SeededRandom;
use keyward_web::{AppState, Server};

const CLIENTS: usize = 64;
/// How long the clients keep sending.
const LOAD_FOR: Duration = Duration::from_secs(4);
/// The whole run, however slow the machine, ends by this.
const HARD_LIMIT: Duration = Duration::from_secs(60);
const ACCOUNTS: [&str; 5] = [
    "demo.admin",
    "demo.lead",
    "demo.teacher",
    "demo.parent",
    "demo.amy",
];

/// What one request did.
struct Outcome {
    what: &'static str,
    status: u16,
    retry_after: bool,
    body: String,
}

/// The `n`th request of client `client`: a method, path and JSON body (GET without).
fn request(client: usize, n: usize) -> (&'static str, &'static str, Option<Value>) {
    let account = ACCOUNTS[(client + n) % ACCOUNTS.len()];
    match (client + n) % 8 {
        0 => (
            "sign-in right",
            "/api/v1/session",
            Some(json!({ "username": account, "password": DEMO_PASSWORD })),
        ),
        1 => (
            "sign-in wrong",
            "/api/v1/session",
            Some(json!({ "username": account, "password": format!("Wrong{n}pass") })),
        ),
        2 => (
            "recovery existing",
            "/api/v1/recovery",
            Some(json!({ "username": account })),
        ),
        3 => (
            "recovery missing",
            "/api/v1/recovery",
            Some(json!({ "username": format!("nobody.{client}.{n}") })),
        ),
        4 => (
            "access code wrong",
            "/api/v1/activate",
            Some(json!({
                "code": format!("WRONG{client:02}{n:04}"),
                "username": format!("new.user.{client}.{n}"),
                "password": "Fresh-Harbour-Lantern-47",
            })),
        ),
        5 => (
            "class code wrong",
            "/api/v1/join",
            Some(json!({
                "class_code": "ZZZZZZ",
                "username": format!("joiner.{client}.{n}"),
                "password": "Fresh1Harbour",
                "first_name": "Jo",
                "last_name": "Iner",
            })),
        ),
        6 => ("page /", "/", None),
        _ => ("page /signin/username", "/signin/username", None),
    }
}

async fn one_client(addr: SocketAddr, client: usize, until: Instant) -> Vec<Outcome> {
    let http = crate::helpers::http_client()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    // Behind the trusted proxy 127.0.0.1, each client has its own address.
    let forwarded_for = format!("198.51.100.{}", client + 1);
    let mut outcomes = Vec::new();
    let mut n = 0;
    while Instant::now() < until {
        let (what, path, body) = request(client, n);
        n += 1;
        let url = format!("http://{addr}{path}");
        let builder = match &body {
            Some(body) => http.post(url).json(body),
            None => http.get(url),
        };
        let outcome = match builder
            .header("x-forwarded-for", &forwarded_for)
            .send()
            .await
        {
            Ok(reply) => Outcome {
                what,
                status: reply.status().as_u16(),
                retry_after: reply.headers().contains_key("retry-after"),
                body: reply.text().await.unwrap_or_default(),
            },
            Err(err) => Outcome {
                what,
                status: 0,
                retry_after: false,
                body: format!("no answer: {err}"),
            },
        };
        outcomes.push(outcome);
    }
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_mixing_every_public_call_never_get_a_server_error() {
    let test_db = TestDb::new().await;
    // The production pool (size and acquire timeout), not the tests' own.
    let database = DatabaseSettings {
        url: test_db.url.clone(),
        ..DatabaseSettings::default()
    };
    let db = Db::connect(&database).await.expect("connect");
    let mut settings = settings_for(&test_db);
    settings.database = database;
    settings.server.trusted_proxies = vec![parse_network("127.0.0.1").expect("an address")];
    let settings = settings.validate().expect("valid settings");
    let kw = Keyward::new(db, settings, &SeededRandom::new(64)).expect("keyward");
    seed_demo_people(&kw, &SeededRandom::new(65)).await;

    let server = Server::bind(AppState::new(kw.clone()), "127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind");
    let addr = server.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));

    let until = Instant::now() + LOAD_FOR;
    let mut clients = JoinSet::new();
    for client in 0..CLIENTS {
        clients.spawn(one_client(addr, client, until));
    }
    let outcomes = tokio::time::timeout(HARD_LIMIT, clients.join_all())
        .await
        .unwrap_or_else(|_| panic!("the load did not finish within {HARD_LIMIT:?}"))
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(30), run).await;

    // Counts by call and status, for the failure message.
    let mut counts: BTreeMap<(&str, u16), usize> = BTreeMap::new();
    for outcome in &outcomes {
        *counts.entry((outcome.what, outcome.status)).or_default() += 1;
    }
    let table = counts
        .iter()
        .map(|((what, status), count)| format!("  {what:<22} {status:>3} × {count}"))
        .collect::<Vec<_>>()
        .join("\n");
    let summary = format!(
        "{} requests on {} in {LOAD_FOR:?}:\n{table}",
        outcomes.len(),
        TestDb::backend_name()
    );
    let failures: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.status == 0 || (o.status >= 500 && !(o.status == 503 && o.retry_after)))
        .collect();
    let examples: Vec<String> = failures
        .iter()
        .take(3)
        .map(|o| format!("{} → {}: {}", o.what, o.status, o.body))
        .collect();
    assert!(
        failures.is_empty(),
        "{} server errors or unanswered requests.\n{summary}\nFor example:\n{}",
        failures.len(),
        examples.join("\n")
    );
    let busy = outcomes.iter().filter(|o| o.status == 503).count();
    assert_eq!(busy, 0, "503 answers under load.\n{summary}");
    for what in [
        "sign-in right",
        "recovery existing",
        "page /signin/username",
    ] {
        assert!(
            counts
                .iter()
                .any(|((w, status), _)| *w == what && (200..300).contains(status)),
            "no {what} succeeded.\n{summary}"
        );
    }
    eprintln!("{summary}");
}
