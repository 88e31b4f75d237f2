//! The scenarios against a tiny stand-in server (axum, in this process):
//! the rows they make, the peer column, the failures that stop a run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};

use super::*;
use crate::keyward_server::testing;
use crate::load::Request;
use crate::subject::Account;

/// A server that answers like keyward, with right passwords all "right".
struct StandIn {
    base_url: String,
    learners: Vec<Account>,
    staff: Vec<Account>,
    /// A 500 for every n-th sign-in (0: never).
    fail_every: Arc<AtomicUsize>,
}

impl Subject for StandIn {
    fn name(&self) -> &str {
        "stand-in"
    }
    fn base_url(&self) -> &str {
        &self.base_url
    }
    fn pids(&self) -> Vec<u32> {
        vec![std::process::id()]
    }
    fn learners(&self) -> &[Account] {
        &self.learners
    }
    fn staff(&self) -> &[Account] {
        &self.staff
    }
    fn sign_in(&self, account: &Account) -> Request {
        Request::post_json(
            "/session",
            &serde_json::json!({ "username": account.username, "password": account.password }),
        )
    }
    fn recovery(&self, email: &str) -> Request {
        Request::post_json("/recovery", &serde_json::json!({ "email": email }))
    }
    fn sign_in_page(&self) -> Request {
        Request::get("/signin")
    }
}

async fn stand_in() -> StandIn {
    let fail_every = Arc::new(AtomicUsize::new(0));
    let sign_ins = Arc::new(AtomicUsize::new(0));
    let session = {
        let fail_every = fail_every.clone();
        move |Json(body): Json<serde_json::Value>| async move {
            let n = sign_ins.fetch_add(1, Ordering::SeqCst) + 1;
            let every = fail_every.load(Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(2)).await;
            if every > 0 && n.is_multiple_of(every) {
                StatusCode::INTERNAL_SERVER_ERROR
            } else if body["password"] == "right" {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            }
        }
    };
    let class_page = |headers: HeaderMap| async move {
        match headers.get("cookie") {
            Some(cookie) if cookie == "kw_session=teacher" => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        }
    };
    let app = axum::Router::new()
        .route("/session", post(session))
        .route("/recovery", post(|| async { StatusCode::ACCEPTED }))
        .route("/signin", get(|| async { "<html>sign in</html>" }))
        .route("/classes/1", get(class_page));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let person = |i: usize, email: Option<String>| Account {
        username: format!("user{i}"),
        password: "right".into(),
        email,
    };
    StandIn {
        base_url: format!("http://{addr}"),
        learners: (0..10).map(|i| person(i, None)).collect(),
        staff: (0..4)
            .map(|i| person(i, Some(format!("staff{i}@school.example"))))
            .collect(),
        fail_every,
    }
}

fn context() -> Context {
    let mut sizes = Sizes::smoke();
    sizes.steady = Duration::from_millis(300);
    sizes.recovery = Duration::from_millis(300);
    sizes.page = Duration::from_millis(300);
    Context {
        database: "SQLite".into(),
        limit: Limit {
            implementation: "test".into(),
            hashes_per_sec: 100.0,
            cpu_ms_per_hash: 10.0,
        },
        sizes,
        hash: HashParams {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        },
        max_concurrent: 2,
        cores: 2,
        smoke: true,
    }
}

fn class_page() -> ClassPage {
    ClassPage {
        request: Request::get("/classes/1").header("cookie", "kw_session=teacher"),
        learners: 30,
    }
}

fn value(figures: &Figures, scenario: &str, figure: &str) -> f64 {
    figures
        .rows
        .iter()
        .find(|row| row.scenario == scenario && row.figure == figure)
        .unwrap_or_else(|| panic!("no row {scenario} / {figure}"))
        .value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shared_scenario_makes_its_rows() {
    let subject = stand_in().await;
    let selection = Selection::parse("all").expect("all");
    let class = class_page();
    let figures = run_shared(&context(), &subject, &selection, Some(&class))
        .await
        .expect("run");

    for in_flight in [64, 256] {
        let rate = value(
            &figures,
            "signin_storm",
            &format!("sign-ins/s, {in_flight} in flight"),
        );
        assert!(rate > 0.0);
        let failed = format!("5xx or no answer, {in_flight} in flight");
        assert_eq!(value(&figures, "signin_storm", &failed), 0.0);
        let peak = format!("peak RSS MiB, {in_flight} in flight");
        assert!(value(&figures, "signin_storm", &peak) > 1.0);
    }
    assert!(value(&figures, "signin_steady", "p99 ms") > 0.0);
    assert!(value(&figures, "signin_steady", "sign-ins/s") > 0.0);
    assert!(value(&figures, "recovery_request", "requests/s") > 0.0);
    assert_eq!(value(&figures, "recovery_request", "429 (throttled)"), 0.0);
    assert!(value(&figures, "page", "GET /signin pages/s") > 0.0);
    assert!(value(&figures, "page", "class page (30 learners) pages/s") > 0.0);
    assert!(figures.rows.iter().all(|row| row.database == "SQLite"));
    // The storm's plots: throughput, median and p99 for each run.
    assert!(
        figures
            .series
            .iter()
            .any(|s| s.name.contains("64 in flight") && s.name.ends_with("answers/s (2xx)"))
    );
}

#[tokio::test]
async fn wrong_answers_stop_a_scenario_and_server_errors_are_counted() {
    let mut subject = stand_in().await;
    subject.fail_every.store(5, Ordering::SeqCst);
    let storm = signin::storm(&context(), &subject).await.expect("storm");
    let failed = value(
        &storm.figures,
        "signin_storm",
        "5xx or no answer, 64 in flight",
    );
    assert_eq!(failed, 4.0);
    let table = Table {
        rows: storm.figures.rows,
        series: Vec::new(),
    };
    assert!(refuse_failures(&table).is_err());

    subject.fail_every.store(0, Ordering::SeqCst);
    for learner in &mut subject.learners {
        learner.password = "wrong".into();
    }
    let err = signin::storm(&context(), &subject)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("answers were wrong"), "{err}");

    let forbidden = ClassPage {
        request: Request::get("/classes/1"),
        learners: 30,
    };
    let err = page::run(&context(), &subject, Some(&forbidden))
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("403"), "{err}");
}

#[test]
fn the_peer_fills_its_column_and_its_multiples() {
    let row = |scenario: &str, figure: &str, value: f64, ratio: Option<f64>| Row {
        scenario: scenario.into(),
        database: "SQLite".into(),
        figure: figure.into(),
        value,
        target: String::new(),
        ratio,
        peer: None,
    };
    let mut keyward = vec![
        row("recovery_request", "requests/s", 3_000.0, Some(1.5)),
        row("page", "GET /signin pages/s", 6_000.0, Some(1.2)),
        row("signin_storm", "sign-ins/s, 64 in flight", 100.0, Some(0.8)),
        row("idle", "start → ready ms", 100.0, Some(2.0)),
    ];
    let peer = vec![
        row("recovery_request", "requests/s", 600.0, None),
        row("page", "GET /signin pages/s", 100.0, None),
        row("signin_storm", "sign-ins/s, 64 in flight", 50.0, None),
    ];
    merge_peer(&mut keyward, &peer);
    assert_eq!(keyward[0].peer, Some(600.0));
    assert_eq!(keyward[0].ratio, Some(0.5), "3,000 < 10 × 600");
    assert_eq!(keyward[1].ratio, Some(1.2), "6,000 ≥ 30 × 100");
    assert_eq!(keyward[2].peer, Some(50.0));
    assert_eq!(keyward[2].ratio, Some(0.8));
    assert_eq!(keyward[3].peer, None);
}

#[test]
fn selections_name_known_scenarios() {
    assert!(Selection::parse("nonsense").is_err());
    let steady = Selection::parse("signin_steady").expect("steady");
    assert!(steady.wants("signin_storm") && steady.wants("signin_steady"));
    assert!(!steady.wants("page"));
    assert!(Selection::parse("hash").expect("hash").only_hash());
    assert!(!Selection::parse("class_reset").expect("cr").wants_shared());
    let limits = [
        HashLimit {
            implementation: "a".into(),
            hashes_per_sec: 70.0,
            cpu_ms_per_hash: 12.0,
        },
        HashLimit {
            implementation: "b".into(),
            hashes_per_sec: 150.0,
            cpu_ms_per_hash: 9.0,
        },
    ];
    assert_eq!(fastest(&limits).expect("fastest").implementation, "b");
    assert!(fastest(&[]).is_err());
    assert_eq!(hash_limit_rows(&limits).len(), 4);
}

/// The shared scenarios, smoke-sized, against `target/debug/keyward` on
/// SQLite (and PostgreSQL with `KEYWARD_TEST_POSTGRES_URL`); skipped with a
/// note when the binary is not built.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_run_against_the_debug_keyward() {
    let Some(bin) = testing::debug_binary() else {
        return;
    };
    let (limit_name, limit_value) = recovery::ADDRESS_LIMIT_ENV;
    for options in testing::each_database(&bin) {
        let options = options.with_env(limit_name, limit_value);
        let mut server = KeywardServer::start(&options).await.expect("start");
        let mut context = context();
        context.database = server.database.into();
        let selection = Selection::parse("all").expect("all");
        let mut figures =
            idle::run(&context, &[server.pid], Some(server.ready_after)).expect("idle");
        let class = seed(&mut server, &context, &selection).await.expect("seed");
        let shared = run_shared(&context, &server, &selection, class.as_ref()).await;
        figures.add(shared.unwrap_or_else(|err| panic!("{err:#}\n{}", server.stderr_tail())));
        eprintln!(
            "{}",
            crate::report::text_table(&Table {
                rows: figures.rows.clone(),
                series: Vec::new()
            })
        );

        assert!(value(&figures, "idle", "RSS after start MiB") > 1.0);
        for row in figures.rows.iter().filter(|row| row.figure.contains("5xx")) {
            assert_eq!(row.value, 0.0, "{row:?}");
        }
        assert!(value(&figures, "signin_storm", "sign-ins/s, 64 in flight") > 0.0);
        assert!(value(&figures, "recovery_request", "requests/s") > 0.0);
        assert_eq!(value(&figures, "recovery_request", "429 (throttled)"), 0.0);
        assert!(value(&figures, "page", "class page (3 learners) pages/s") > 0.0);
        server.stop().await.expect("stop");
    }
}

/// The shared scenarios, smoke-sized, against the peer (which makes its
/// virtual environment from PyPI the first time):
/// `cargo test -p keyward-bench smoke_run_against_the_peer -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "sets up Django + allauth from PyPI"]
async fn smoke_run_against_the_peer() {
    let context = context();
    let selection = Selection::parse("all").expect("all");
    let figures = run_peer(&context, &selection).await.expect("peer");
    eprintln!(
        "{}",
        crate::report::text_table(&Table {
            rows: figures.rows.clone(),
            series: Vec::new(),
        })
    );
    assert!(value(&figures, "signin_storm", "sign-ins/s, 64 in flight") > 0.0);
    assert!(value(&figures, "recovery_request", "requests/s") > 0.0);
    assert!(value(&figures, "page", "GET /signin pages/s") > 0.0);
    assert!(value(&figures, "idle", "RSS after start MiB") > 1.0);
}
