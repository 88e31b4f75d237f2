//! Faults a running keyward survives (issue 17), shown with real processes:
//! PostgreSQL stopped under load and started again (a cluster of the test's
//! own, never the machine's), the SQLite database's disk full (a tmpfs of
//! the test's own), and SIGTERM under load. Each test prints its figures on
//! a `faults:` line (run with `--nocapture` to see them) and skips with a
//! line saying why when the machine cannot give it what it needs (no
//! PostgreSQL server binaries, no root to mount). The tests run one at a
//! time: each times the server, and the machine has few cores.
//!
//! What every test holds: no answer is a 5xx other than 503, every 503
//! carries `Retry-After` and a code of the one list, nothing panics, and no
//! password reaches the log.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod support;

use support::*;

/// The tests of this file run one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------- load

/// One request of a load loop.
#[derive(Debug, Clone)]
struct Sample {
    what: &'static str,
    /// When it started, since the test's clock started.
    at: Duration,
    took: Duration,
    /// The HTTP status; 0 when no answer came (connection refused or cut).
    status: u16,
    code: Option<String>,
    retry_after: Option<String>,
}

/// What a load thread asks, in turn.
#[derive(Clone)]
enum Ask {
    /// `POST /api/v1/session` (a write: the throttle's counter, a session, an audit row).
    SignIn(String),
    /// `GET /api/v1/me` with a session cookie (a read).
    Me(String),
    /// `GET /readyz`.
    Ready,
}

impl Ask {
    fn send(&self, port: u16) -> (&'static str, std::io::Result<Reply>) {
        match self {
            Ask::SignIn(username) => {
                let body = format!(
                    "{{\"username\":{},\"password\":{}}}",
                    json_string(username),
                    json_string(ADMIN_PASSWORD)
                );
                (
                    "sign-in",
                    request(port, "POST", "/api/v1/session", &[], Some(&body)),
                )
            }
            Ask::Me(cookie) => (
                "me",
                request(port, "GET", "/api/v1/me", &[("Cookie", cookie)], None),
            ),
            Ask::Ready => ("readyz", request(port, "GET", "/readyz", &[], None)),
        }
    }
}

/// Threads asking in a loop until stopped, each its own list of asks in turn.
struct Load {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    fn start(port: u16, clock: Instant, threads: Vec<Vec<Ask>>, pause: Duration) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let threads = threads
            .into_iter()
            .map(|asks| {
                let (stop, samples) = (stop.clone(), samples.clone());
                std::thread::spawn(move || {
                    for ask in asks.iter().cycle() {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let started = Instant::now();
                        let (what, reply) = ask.send(port);
                        let sample = Sample {
                            what,
                            at: started - clock,
                            took: started.elapsed(),
                            status: reply.as_ref().map_or(0, |r| r.status),
                            code: reply.as_ref().ok().and_then(Reply::error_code),
                            retry_after: reply
                                .as_ref()
                                .ok()
                                .and_then(|r| r.header("retry-after").map(str::to_owned)),
                        };
                        samples.lock().unwrap().push(sample);
                        std::thread::sleep(pause);
                    }
                })
            })
            .collect();
        Load {
            stop,
            samples,
            threads,
        }
    }

    fn finish(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            thread.join().expect("a load thread panicked");
        }
        let mut samples = self.samples.lock().unwrap().clone();
        samples.sort_by_key(|s| s.at);
        samples
    }
}

/// Asserts what every answer under a fault must be: an answer (none cut),
/// no 5xx but 503, and every 503 with `Retry-After` and one of `codes`.
fn assert_only_clean_failures(samples: &[Sample], codes: &[&str]) {
    let unanswered: Vec<&Sample> = samples.iter().filter(|s| s.status == 0).collect();
    assert!(
        unanswered.is_empty(),
        "requests left without an answer: {unanswered:#?}"
    );
    let server_errors: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.status >= 500 && s.status != 503)
        .collect();
    assert!(
        server_errors.is_empty(),
        "5xx other than 503: {server_errors:#?}"
    );
    for sample in samples.iter().filter(|s| s.status == 503) {
        assert!(
            sample.retry_after.is_some(),
            "a 503 without Retry-After: {sample:?}"
        );
        if sample.what != "readyz" {
            let code = sample.code.as_deref().unwrap_or("none");
            assert!(codes.contains(&code), "a 503 with code {code}: {sample:?}");
        }
    }
}

fn ms(duration: Duration) -> u128 {
    duration.as_millis()
}

/// Creates `n` platform admins `fault.admin<i>` with [`ADMIN_PASSWORD`], two
/// at a time, with the extra settings `vars`; returns their usernames.
fn create_admins(site: &Site, n: usize, vars: &[(&str, &str)]) -> Vec<String> {
    let migrate = run_with_stdin(site.command().envs(vars.iter().copied()).arg("migrate"), "");
    assert!(migrate.status.success(), "{}", text(&migrate.stderr));
    let usernames: Vec<String> = (1..=n).map(|i| format!("fault.admin{i}")).collect();
    for pair in usernames.chunks(2) {
        let runs: Vec<_> = pair
            .iter()
            .map(|username| {
                let mut command = site.command();
                command.envs(vars.iter().copied()).args([
                    "admin",
                    "create",
                    "--username",
                    username,
                    "--email",
                    &format!("{username}@school.example"),
                ]);
                std::thread::spawn(move || {
                    run_with_stdin(&mut command, &format!("{ADMIN_PASSWORD}\n"))
                })
            })
            .collect();
        for run in runs {
            let output = run.join().unwrap();
            assert!(
                output.status.success(),
                "admin create: {}",
                text(&output.stderr)
            );
        }
    }
    usernames
}

/// Signs `username` in; the `kw_session=…` cookie.
fn session_cookie(port: u16, username: &str) -> String {
    let (_, reply) = Ask::SignIn(username.to_owned()).send(port);
    let reply = reply.expect("sign-in");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.cookie_pair("kw_session").expect("a session cookie")
}

/// Polls `check` every 50 ms until it holds; the time it took. Panics
/// after `limit`.
fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    started.elapsed()
}

/// The log holds no password, no panic.
fn assert_clean_log(stderr: &str) {
    assert!(!stderr.contains("panicked"), "a panic:\n{stderr}");
    assert!(!stderr.contains(ADMIN_PASSWORD), "a password in the log");
}

// ---------------------------------------------------------------- PostgreSQL stopped

/// What one outage of PostgreSQL showed.
struct Outage {
    mode: &'static str,
    /// When `pg_ctl stop` began, on the load's clock.
    stopped_at: Duration,
    /// From `pg_ctl stop` to `pg_ctl start`.
    down_for: Duration,
    /// From `pg_ctl stop` to `/readyz` answering 503.
    not_ready_after: Duration,
    /// API requests begun and ended while PostgreSQL was down (after its
    /// first second): how long their 503s took.
    failed: Vec<Duration>,
    /// API requests begun in the outage's first second, while keyward
    /// notices it: how long they took.
    noticing: Vec<Duration>,
    /// From `pg_ctl start` returning (PostgreSQL accepts connections) to
    /// `/readyz` 200, and to the first sign-in that succeeds.
    ready_after: Duration,
    signed_in_after: Duration,
    /// When the first sign-in succeeded, on the load's clock.
    recovered_at: Duration,
}

/// Stops PostgreSQL with `pg_ctl stop -m MODE` under the running load, checks
/// what keyward answers meanwhile, starts it again and waits for keyward to
/// recover.
fn outage(
    cluster: &PgCluster,
    mode: &'static str,
    port: u16,
    probe: &str,
    load: &Load,
    clock: Instant,
) -> Outage {
    let stopped_at = clock.elapsed();
    cluster.stop(mode);
    let down_at = clock.elapsed();
    let not_ready_after = wait_for(
        "/readyz 503 after PostgreSQL stopped",
        Duration::from_secs(30),
        || request(port, "GET", "/readyz", &[], None).is_ok_and(|r| r.status == 503),
    );
    // Long enough that requests waiting for the pool's acquire timeout (5 s
    // here) could not end in the window measured below.
    std::thread::sleep(Duration::from_millis(4500));
    // A page says so in words, and when to try again.
    let page = request(port, "GET", "/signin", &[("Accept", "text/html")], None).expect("a page");
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.header("retry-after").is_some(), "{page:?}");
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{page:?}"
    );
    assert!(
        page.body.contains("database is not answering"),
        "{}",
        page.body
    );
    let ready = request(port, "GET", "/readyz", &[], None).expect("readyz");
    assert_eq!(ready.status, 503);
    assert!(ready.header("retry-after").is_some(), "{ready:?}");

    let restart_at = clock.elapsed();
    cluster.start_again();
    let back_at = clock.elapsed();
    let ready_after = wait_for(
        "/readyz 200 after PostgreSQL is back",
        Duration::from_secs(60),
        || request(port, "GET", "/readyz", &[], None).is_ok_and(|r| r.status == 200),
    );
    let signed_in_after = ready_after
        + wait_for(
            "a sign-in after PostgreSQL is back",
            Duration::from_secs(60),
            || {
                Ask::SignIn(probe.to_owned())
                    .send(port)
                    .1
                    .is_ok_and(|r| r.status == 200)
            },
        );
    let samples = load.samples.lock().unwrap().clone();
    let while_down: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.what != "readyz")
        .filter(|s| s.at > down_at + Duration::from_secs(1) && s.at + s.took < restart_at)
        .collect();
    assert!(
        !while_down.is_empty(),
        "no API request begun and ended while PostgreSQL was down ({mode})"
    );
    assert!(
        while_down.iter().all(|s| s.status == 503),
        "answered without PostgreSQL ({mode}): {while_down:#?}"
    );
    let noticing = samples
        .iter()
        .filter(|s| s.what != "readyz")
        .filter(|s| s.at >= stopped_at && s.at <= down_at + Duration::from_secs(1))
        .map(|s| s.took)
        .collect();
    Outage {
        mode,
        noticing,
        stopped_at,
        down_for: back_at - stopped_at,
        not_ready_after,
        failed: while_down.iter().map(|s| s.took).collect(),
        ready_after,
        signed_in_after,
        recovered_at: back_at + signed_in_after,
    }
}

/// PostgreSQL stopped under load, then started again — twice: as an
/// operator stops it (`pg_ctl stop -m fast`: sessions are ended with 57P01)
/// and as a crash (`-m immediate`). Meanwhile API requests fail fast with
/// 503 `database_unavailable` and `Retry-After` (not waiting for the pool's
/// acquire timeout), pages say so, `/readyz` says not ready; once PostgreSQL
/// is back keyward answers again without a restart. Runs on a cluster of its
/// own whatever database the run uses.
#[test]
fn postgresql_stopped_under_load_fails_fast_and_recovers_without_a_restart() {
    let _serial = one_at_a_time();
    let cluster = match PgCluster::start() {
        Ok(cluster) => cluster,
        Err(why) => {
            eprintln!("faults: PostgreSQL stop test skipped: {why}");
            return;
        }
    };
    let test_started = Instant::now();
    let site = Site::without_database();
    let url = cluster.url();
    // A longer acquire timeout than the default 3 s, so that requests that
    // waited for it cannot pass for fast failures.
    let vars = [
        ("KEYWARD_DATABASE__URL", url.as_str()),
        ("KEYWARD_DATABASE__ACQUIRE_TIMEOUT", "5s"),
    ];
    let admins = create_admins(&site, 5, &vars);
    let mut server = site.spawn_with(&["serve"], "serve-pg-stop", &vars);
    server.wait_until_ready();
    let port = site.port;
    let (probe, loaders) = admins.split_last().unwrap();
    let threads = loaders
        .iter()
        .map(|username| {
            let cookie = session_cookie(port, username);
            vec![Ask::SignIn(username.clone()), Ask::Me(cookie), Ask::Ready]
        })
        .collect();
    let clock = Instant::now();
    let load = Load::start(port, clock, threads, Duration::from_millis(10));
    std::thread::sleep(Duration::from_millis(800));
    let outages: Vec<Outage> = ["fast", "immediate"]
        .into_iter()
        .map(|mode| {
            let outage = outage(&cluster, mode, port, probe, &load, clock);
            std::thread::sleep(Duration::from_secs(1));
            outage
        })
        .collect();
    let samples = load.finish();
    assert!(
        server
            .child
            .try_wait()
            .expect("the server's state")
            .is_none(),
        "keyward ended: {:?}",
        server.output()
    );
    let status = server.terminate();
    let (_, stderr) = server.output();
    assert!(status.success(), "{stderr}");
    assert_clean_log(&stderr);
    assert!(
        stderr.contains("the database cannot be reached")
            && stderr.contains("the database answers again"),
        "{stderr}"
    );

    assert_only_clean_failures(&samples, &["database_unavailable"]);
    let mut figures = Vec::new();
    for outage in &outages {
        let (p50, max) = (
            percentile(&outage.failed, 50),
            percentile(&outage.failed, 100),
        );
        // Failing fast: not waiting for the pool's acquire timeout (5 s here).
        assert!(
            p50 < Duration::from_millis(2500),
            "requests wait while PostgreSQL is down ({}): p50 {p50:?}",
            outage.mode
        );
        // Everything works again once a sign-in has, until the next outage.
        let next_stop = outages
            .iter()
            .map(|o| o.stopped_at)
            .find(|at| *at > outage.recovered_at);
        let after: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.at > outage.recovered_at + Duration::from_millis(200))
            .filter(|s| next_stop.is_none_or(|at| s.at + s.took < at))
            .collect();
        assert!(
            !after.is_empty(),
            "no request after recovery ({})",
            outage.mode
        );
        assert!(
            after.iter().all(|s| s.status == 200),
            "failures after recovery ({}): {:#?}",
            outage.mode,
            after.iter().filter(|s| s.status != 200).collect::<Vec<_>>()
        );
        // Requests caught by the outage wait at most until a probe confirms
        // it (they are suspected after a second), not the acquire timeout.
        let noticing_max = percentile(&outage.noticing, 100);
        assert!(
            noticing_max < Duration::from_secs(4),
            "requests waited {noticing_max:?} as PostgreSQL stopped ({})",
            outage.mode
        );
        figures.push(format!(
            "-m {}: down {} ms, /readyz 503 {} ms after the stop, {} API requests begun in its first second \
             took at most {} ms, {} API requests while down all 503 \
             database_unavailable with Retry-After in p50 {} ms / max {} ms; once PostgreSQL accepted \
             connections: /readyz 200 in {} ms, first sign-in in {} ms, the next {} requests 200",
            outage.mode,
            ms(outage.down_for),
            ms(outage.not_ready_after),
            outage.noticing.len(),
            ms(noticing_max),
            outage.failed.len(),
            ms(p50),
            ms(max),
            ms(outage.ready_after),
            ms(outage.signed_in_after),
            after.len(),
        ));
    }
    println!(
        "faults: postgres-stop: {} requests, {} × 503, 0 × other 5xx, no restart; {}; test {} ms",
        samples.len(),
        samples.iter().filter(|s| s.status == 503).count(),
        figures.join("; "),
        ms(test_started.elapsed()),
    );
}

// ---------------------------------------------------------------- disk full

/// The SQLite database's disk full under load (a tmpfs of the test's own as
/// the data folder, filled by a file): writes answer 503 `storage_full` with
/// `Retry-After`, reads keep working, nothing answers 500; once the filler is
/// deleted writes succeed again without a restart, and the database passes
/// `PRAGMA integrity_check`. SQLite whatever database the run uses.
#[test]
fn a_full_disk_under_sqlite_answers_503_and_recovers_when_space_returns() {
    let _serial = one_at_a_time();
    let test_started = Instant::now();
    let site = Site::without_database();
    let disk = match Tmpfs::mount(&site.data_dir(), "24m") {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!("faults: disk-full test skipped: {why}");
            return;
        }
    };
    let admins = create_admins(&site, 4, &[]);
    let mut server = site.spawn(&["serve"], "serve-disk-full");
    server.wait_until_ready();
    let port = site.port;
    let (probe, loaders) = admins.split_last().unwrap();
    let reader_cookie = session_cookie(port, probe);
    let database = site.data_dir().join("keyward.db");
    // The WAL emptied, so that the next write must grow a file.
    checkpoint_and_truncate(&database);
    let (filler, filled) = disk.fill("filler");

    let clock = Instant::now();
    let mut threads: Vec<Vec<Ask>> = loaders
        .iter()
        .map(|username| vec![Ask::SignIn(username.clone())])
        .collect();
    threads.push(vec![Ask::Me(reader_cookie.clone()), Ask::Ready]);
    let load = Load::start(port, clock, threads, Duration::from_millis(10));
    let full_answers = |samples: &Arc<Mutex<Vec<Sample>>>| {
        samples
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.what == "sign-in" && s.status >= 500)
            .count()
    };
    wait_for(
        "writes refused for a full disk",
        Duration::from_secs(30),
        || full_answers(&load.samples) >= 5,
    );
    std::thread::sleep(Duration::from_secs(2));
    let freed_at = clock.elapsed();
    std::fs::remove_file(&filler).expect("delete the filler");
    let recovered_after = wait_for(
        "a sign-in once space returned",
        Duration::from_secs(30),
        || {
            Ask::SignIn(probe.clone())
                .send(port)
                .1
                .is_ok_and(|r| r.status == 200)
        },
    );
    let recovered_at = freed_at + recovered_after;
    std::thread::sleep(Duration::from_secs(1));
    let samples = load.finish();
    let status = server.terminate();
    let (_, stderr) = server.output();
    assert!(status.success(), "{stderr}");
    assert_clean_log(&stderr);
    assert!(
        stderr.contains("storage is full"),
        "the operator is told:\n{stderr}"
    );

    assert_only_clean_failures(&samples, &["storage_full"]);
    let while_full: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at + s.took < freed_at)
        .collect();
    let writes_full: Vec<&&Sample> = while_full.iter().filter(|s| s.what == "sign-in").collect();
    let refused = writes_full.iter().filter(|s| s.status == 503).count();
    assert!(refused >= 5, "{writes_full:#?}");
    let reads: Vec<&&Sample> = while_full.iter().filter(|s| s.what != "sign-in").collect();
    let reads_ok = reads.iter().filter(|s| s.status == 200).count();
    assert!(!reads.is_empty());
    assert_eq!(
        reads_ok,
        reads.len(),
        "reads failed on a full disk: {reads:#?}"
    );
    let after: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at > recovered_at + Duration::from_millis(200))
        .collect();
    assert!(!after.is_empty(), "no request after space returned");
    assert!(
        after.iter().all(|s| s.status == 200),
        "failures after space returned: {:#?}",
        after.iter().filter(|s| s.status != 200).collect::<Vec<_>>()
    );
    let integrity = integrity_check(&database);
    assert_eq!(integrity, "ok");
    drop(disk);
    println!(
        "faults: disk-full: filler {} KiB; while full: {} sign-ins, {} × 503 storage_full with Retry-After, {} × 200; \
         {} reads, all 200; 0 × other 5xx; a sign-in succeeded {} ms after the filler was deleted; \
         all {} requests after it 200; integrity_check: {integrity}; test {} ms",
        filled / 1024,
        writes_full.len(),
        refused,
        writes_full.len() - refused,
        reads.len(),
        ms(recovered_after),
        after.len(),
        ms(test_started.elapsed()),
    );
}

fn open_sqlite(
    database: &std::path::Path,
) -> impl std::future::Future<Output = sqlx::SqliteConnection> {
    use sqlx::ConnectOptions;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(database)
        .busy_timeout(Duration::from_secs(10));
    async move { options.connect().await.expect("open the SQLite database") }
}

/// `PRAGMA wal_checkpoint(TRUNCATE)` from outside the server.
fn checkpoint_and_truncate(database: &std::path::Path) {
    block_on(async {
        use sqlx::Connection;
        let mut conn = open_sqlite(database).await;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await
            .expect("checkpoint");
        let _ = conn.close().await;
    });
}

/// `PRAGMA integrity_check`'s first line.
fn integrity_check(database: &std::path::Path) -> String {
    block_on(async {
        use sqlx::Connection;
        let mut conn = open_sqlite(database).await;
        let result: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .expect("integrity_check");
        let _ = conn.close().await;
        result
    })
}

// ---------------------------------------------------------------- SIGTERM

/// Sign-ins that each take a while: Argon2id at 64 MiB × 3, one at a time.
const SLOW_HASHING: [(&str, &str); 4] = [
    ("KEYWARD_HASHING__MEMORY_KIB", "65536"),
    ("KEYWARD_HASHING__ITERATIONS", "3"),
    ("KEYWARD_HASHING__MAX_CONCURRENT", "1"),
    ("KEYWARD_HASHING__QUEUE_TIMEOUT", "60s"),
];

/// How many slow sign-ins are sent before SIGTERM (one at a time is hashed,
/// so most are still in flight when it comes).
const IN_FLIGHT: usize = 8;

/// What one SIGTERM under load showed.
struct Stop {
    /// How many sign-ins were still unanswered when SIGTERM was sent.
    in_flight: usize,
    /// The in-flight sign-ins' answers: status (0: none) and when, since SIGTERM.
    answers: Vec<(u16, Option<Duration>)>,
    /// When a new connection was first refused, since SIGTERM, and how many
    /// sign-ins had finished by then.
    refused_after: Duration,
    finished_when_refused: usize,
    /// When the process ended, since SIGTERM, and how.
    exited_after: Duration,
    exit: std::process::ExitStatus,
    stderr: String,
}

/// Starts `serve` with slow sign-ins and `server.shutdown_grace` = `grace`,
/// puts [`IN_FLIGHT`] sign-ins in flight (each its own account), sends
/// SIGTERM once the server holds them all, then watches new connections and
/// the process's end.
fn sigterm_under_load(site: &Site, admins: &[String], grace: &str, log: &str) -> Stop {
    let metrics_port = free_port();
    let metrics_bind = format!("127.0.0.1:{metrics_port}");
    let mut vars = SLOW_HASHING.to_vec();
    vars.extend([
        ("KEYWARD_SERVER__SHUTDOWN_GRACE", grace),
        ("KEYWARD_SERVER__METRICS_BIND", metrics_bind.as_str()),
    ]);
    let mut server = site.spawn_with(&["serve"], log, &vars);
    server.wait_until_ready();
    let port = site.port;
    let finished = Arc::new(AtomicUsize::new(0));
    let signalled: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let flights: Vec<_> = admins
        .iter()
        .map(|username| {
            let (finished, signalled) = (finished.clone(), signalled.clone());
            let ask = Ask::SignIn(username.clone());
            std::thread::spawn(move || {
                let (_, reply) = ask.send(port);
                let at = signalled.lock().unwrap().map(|t| t.elapsed());
                finished.fetch_add(1, Ordering::SeqCst);
                (reply.map_or(0, |r| r.status), at)
            })
        })
        .collect();
    // Every sign-in has reached the server: hashing, waiting to, or (on a
    // busy machine, the first ones) answered already.
    wait_for("the sign-ins in flight", Duration::from_secs(60), || {
        let Ok(reply) = request(metrics_port, "GET", "/metrics", &[], None) else {
            return false;
        };
        let gauge = |name: &str| -> usize {
            reply
                .body
                .lines()
                .find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
                .unwrap_or(0.0) as usize
        };
        gauge("keyward_hashing_queue_depth ")
            + gauge("keyward_hashing_running ")
            + finished.load(Ordering::SeqCst)
            >= admins.len()
    });

    let sent = Instant::now();
    *signalled.lock().unwrap() = Some(sent);
    let finished_when_signalled = finished.load(Ordering::SeqCst);
    let kill = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status()
        .expect("run kill");
    assert!(kill.success());
    // New connections: refused once keyward has stopped listening.
    let mut refused = None;
    while sent.elapsed() < Duration::from_secs(10) {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                refused = Some((sent.elapsed(), finished.load(Ordering::SeqCst)));
                break;
            }
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    let (refused_after, finished_when_refused) =
        refused.expect("new connections still accepted 10 s after SIGTERM");
    // And they stay refused while the server drains.
    for _ in 0..20 {
        let attempt = std::net::TcpStream::connect(("127.0.0.1", port));
        assert!(
            attempt
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused),
            "a new connection after the refusal: {attempt:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let answers = flights.into_iter().map(|f| f.join().unwrap()).collect();
    let exit = loop {
        if let Some(status) = server.child.try_wait().expect("wait for keyward") {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(60),
            "keyward did not exit within 60 s of SIGTERM: {:?}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let exited_after = sent.elapsed();
    let (_, stderr) = server.output();
    Stop {
        in_flight: admins.len() - finished_when_signalled,
        answers,
        refused_after,
        finished_when_refused,
        exited_after,
        exit,
        stderr,
    }
}

/// SIGTERM with slow sign-ins in flight: new connections are refused at
/// once, every sign-in in flight finishes (200) within
/// `server.shutdown_grace`, the outbox worker stops, and the process exits
/// 0. With a grace shorter than the work, it exits after the grace — still
/// 0, with nothing answered 5xx but 503.
#[test]
fn sigterm_under_load_finishes_requests_in_flight_and_refuses_new_ones() {
    let _serial = one_at_a_time();
    let test_started = Instant::now();
    let site = Site::new();
    let admins = create_admins(&site, IN_FLIGHT, &SLOW_HASHING);

    let stop = sigterm_under_load(&site, &admins, "30s", "serve-sigterm");
    assert!(stop.exit.success(), "exit {:?}\n{}", stop.exit, stop.stderr);
    assert_clean_log(&stop.stderr);
    let statuses: Vec<u16> = stop.answers.iter().map(|(status, _)| *status).collect();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "in flight: {statuses:?}\n{}",
        stop.stderr
    );
    assert!(stop.in_flight > 0, "every sign-in ended before SIGTERM");
    assert!(
        stop.finished_when_refused < IN_FLIGHT,
        "new connections were refused only after the requests in flight had finished \
         ({} ms after SIGTERM)",
        ms(stop.refused_after)
    );
    let last_answer = stop
        .answers
        .iter()
        .filter_map(|(_, at)| *at)
        .max()
        .unwrap_or_default();
    for line in [
        "shutting down: finishing requests in flight",
        "outbox worker stopped",
        "keyward stopped",
    ] {
        assert!(
            stop.stderr.contains(line),
            "{line:?} not in the log:\n{}",
            stop.stderr
        );
    }
    assert!(
        !stop.stderr.contains("grace period over"),
        "{}",
        stop.stderr
    );
    assert!(stop.exited_after < Duration::from_secs(30) + Duration::from_secs(10));

    // A grace shorter than the work in flight: the process does not wait for it.
    let cut = sigterm_under_load(&site, &admins, "1s", "serve-sigterm-cut");
    assert!(cut.exit.success(), "exit {:?}\n{}", cut.exit, cut.stderr);
    assert_clean_log(&cut.stderr);
    assert!(
        cut.stderr.contains("outbox worker stopped"),
        "{}",
        cut.stderr
    );
    let cut_statuses: Vec<u16> = cut.answers.iter().map(|(status, _)| *status).collect();
    // Requests left unanswered are the ones the grace cut off, and the log says so.
    assert_eq!(
        cut_statuses.contains(&0),
        cut.stderr.contains("grace period over"),
        "{cut_statuses:?}\n{}",
        cut.stderr
    );
    assert!(
        cut_statuses.iter().all(|s| matches!(s, 0 | 200 | 503)),
        "after the grace: {cut_statuses:?}"
    );
    assert!(
        cut.exited_after < Duration::from_secs(1) + Duration::from_secs(10),
        "exited {} ms after SIGTERM with a grace of 1 s",
        ms(cut.exited_after)
    );
    println!(
        "faults: sigterm ({}): {} of {IN_FLIGHT} slow sign-ins in flight: new connections refused {} ms after \
         SIGTERM ({} finished by then), all {IN_FLIGHT} answered 200, the last {} ms after SIGTERM; exit 0 after \
         {} ms (grace 30 s); with a grace of 1 s: exit 0 after {} ms, answers {:?} (0: cut); test {} ms",
        site.backend(),
        stop.in_flight,
        ms(stop.refused_after),
        stop.finished_when_refused,
        ms(last_answer),
        ms(stop.exited_after),
        ms(cut.exited_after),
        cut_statuses,
        ms(test_started.elapsed()),
    );
}
