//! What the tests that run the `keyward` binary share: a temporary site
//! (data folder, port, SQLite or a fresh PostgreSQL database `kwcli_<hex>`
//! dropped afterwards when `KEYWARD_TEST_POSTGRES_URL` names a server), the
//! binary started as a server and stopped, and a minimal HTTP client.
//! Each test binary uses part of it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_keyward");
pub const POSTGRES_URL_VAR: &str = "KEYWARD_TEST_POSTGRES_URL";
pub const ADMIN_PASSWORD: &str = "Quiet-Harbour-Lantern-47";

/// A fresh PostgreSQL database for one test, dropped when the test ends.
pub struct PgDb {
    pub admin_url: String,
    pub name: String,
    pub url: String,
}

pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

pub async fn pg_execute(admin_url: &str, sql: String) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut conn = sqlx::postgres::PgConnection::connect(admin_url).await?;
    let result = sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    result.map(|_| ())
}

impl PgDb {
    pub fn create(admin_url: &str) -> PgDb {
        let name = format!("kwcli_{:016x}", random_u64());
        block_on(pg_execute(admin_url, format!("CREATE DATABASE {name}")))
            .unwrap_or_else(|e| panic!("cannot create {name} through {POSTGRES_URL_VAR}: {e}"));
        let mut url = url::Url::parse(admin_url).expect("a URL in KEYWARD_TEST_POSTGRES_URL");
        url.set_path(&format!("/{name}"));
        PgDb {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = block_on(pg_execute(&self.admin_url, sql));
    }
}

pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    RandomState::new().hash_one((nanos, std::process::id()))
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// One keyward installation: a temporary folder (the working directory), a data
/// folder inside it, a port, and the database of this test run.
pub struct Site {
    pub root: tempfile::TempDir,
    pub port: u16,
    pub pg: Option<PgDb>,
}

impl Site {
    /// A site whose database is SQLite, or PostgreSQL when the run asks for it.
    pub fn new() -> Site {
        let pg = std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|url| !url.is_empty())
            .map(|url| PgDb::create(&url));
        Site {
            root: tempfile::tempdir().expect("temp dir"),
            port: free_port(),
            pg,
        }
    }

    /// A site for commands that never reach a database.
    pub fn without_database() -> Site {
        Site {
            root: tempfile::tempdir().expect("temp dir"),
            port: free_port(),
            pg: None,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    pub fn backend(&self) -> &'static str {
        if self.pg.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// `keyward` with only this site's settings: no inherited `KEYWARD_*`
    /// variables, the default log filter, run from the site's folder.
    pub fn bare_command(&self) -> Command {
        let mut command = Command::new(BIN);
        command.current_dir(self.root.path()).env_remove("RUST_LOG");
        for (key, _) in std::env::vars() {
            if key.starts_with("KEYWARD_") {
                command.env_remove(key);
            }
        }
        command
    }

    /// `keyward` with this site's data folder, address, database and cheap hashing.
    pub fn command(&self) -> Command {
        let mut command = self.bare_command();
        command
            .env("KEYWARD_SERVER__DATA_DIR", self.data_dir())
            .env("KEYWARD_SERVER__BIND", format!("127.0.0.1:{}", self.port))
            .env(
                "KEYWARD_SERVER__PUBLIC_URL",
                format!("http://127.0.0.1:{}", self.port),
            )
            .env("KEYWARD_HASHING__MEMORY_KIB", "256")
            .env("KEYWARD_HASHING__ITERATIONS", "1")
            .env("KEYWARD_HASHING__ALLOW_WEAK", "true");
        if let Some(pg) = &self.pg {
            command.env("KEYWARD_DATABASE__URL", &pg.url);
        }
        command
    }

    /// Runs `keyward ARGS` to the end with `stdin` as its standard input.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        run_with_stdin(self.command().args(args), stdin)
    }

    /// Starts a long-running command (`serve`, `demo`) with its output going
    /// to files outside the data folder.
    pub fn spawn(&self, args: &[&str], log_name: &str) -> Server {
        self.spawn_with(args, log_name, &[])
    }

    /// `spawn` with extra environment variables.
    pub fn spawn_with(&self, args: &[&str], log_name: &str, vars: &[(&str, &str)]) -> Server {
        let stdout_path = self.root.path().join(format!("{log_name}.stdout"));
        let stderr_path = self.root.path().join(format!("{log_name}.stderr"));
        let child = self
            .command()
            .envs(vars.iter().copied())
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
            .spawn()
            .expect("start keyward");
        Server {
            child,
            port: self.port,
            stdout_path,
            stderr_path,
        }
    }
}

pub fn run_with_stdin(command: &mut Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start keyward");
    if let Some(mut pipe) = child.stdin.take() {
        // The command may exit before reading (a bad argument); ignore EPIPE.
        let _ = pipe.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("keyward ran")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts a failure in the R-CLI-1 style: non-zero exit, exactly one line on
/// standard error, which mentions every one of `needles`, and no panic.
pub fn assert_one_line_failure(output: &Output, needles: &[&str]) -> String {
    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "expected a failure, got {:?}; stderr: {stderr}",
        output.status
    );
    assert!(!stderr.contains("panicked"), "a panic: {stderr}");
    assert!(!stderr.contains("RUST_BACKTRACE"), "a panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "not one line: {stderr:?}");
    assert!(lines[0].starts_with("keyward: "), "{stderr}");
    for needle in needles {
        assert!(
            stderr.to_lowercase().contains(&needle.to_lowercase()),
            "stderr does not mention {needle:?}: {stderr}"
        );
    }
    stderr
}

/// Every file under `dir` (recursively) whose bytes contain `needle`, except
/// files named in `except`.
pub fn files_containing(dir: &Path, needle: &str, except: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle, except));
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if except.contains(&name.as_str()) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        if bytes
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
        {
            found.push(path);
        }
    }
    found
}

/// A minimal HTTP/1.1 exchange over loopback: the status and the body.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    json: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let body = json.unwrap_or("");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    if json.is_some() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = text(&response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:?}")))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

pub fn json_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn sign_in(port: u16, username: &str, password: &str) -> (u16, String) {
    let body = format!(
        "{{\"username\":{},\"password\":{}}}",
        json_string(username),
        json_string(password)
    );
    http(port, "POST", "/api/v1/session", Some(&body)).expect("sign-in request")
}

/// A running `serve` or `demo`; killed if a test ends without stopping it.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub stdout_path: PathBuf,
    pub stderr_path: PathBuf,
}

impl Server {
    pub fn output(&self) -> (String, String) {
        (
            std::fs::read_to_string(&self.stdout_path).unwrap_or_default(),
            std::fs::read_to_string(&self.stderr_path).unwrap_or_default(),
        )
    }

    /// Waits until `/readyz` answers 200, failing early if the process ends.
    pub fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let (stdout, stderr) = self.output();
                panic!("keyward ended early with {status}\nstdout: {stdout}\nstderr: {stderr}");
            }
            if let Ok((200, _)) = http(self.port, "GET", "/readyz", None) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "keyward was not ready within 120 s: {:?}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM and returns the exit status, which must come within 15 s.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for keyward") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "keyward did not stop within 15 s of SIGTERM: {:?}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------- outbox
// For the outbox's fault tests (outbox_faults.rs): the site's database
// opened in process, people with addresses seeded in one transaction, their
// **Forgot password?** requests through the API of one or more instances,
// keyward sending to a real SMTP server, and what arrived there.

/// The site's database opened in process, as the binary opens it (same data
/// folder, so the same sealing key): runs `f` and closes the database.
pub fn with_site_core<T>(
    site: &Site,
    f: impl AsyncFnOnce(&keyward_core::Keyward, &keyward_core::Ctx<'_>) -> T,
) -> T {
    use keyward_core::types::random::SeededRandom;
    let mut settings = keyward_core::settings::Settings::default();
    settings.server.data_dir = site.data_dir();
    settings.database.url = site
        .pg
        .as_ref()
        .map(|pg| pg.url.clone())
        .unwrap_or_default();
    settings.hashing = keyward_core::testing::cheap_hashing();
    let settings = settings.validate().expect("valid settings");
    block_on(async move {
        let db = keyward_core::store::Db::connect(&settings.database)
            .await
            .expect("open the site's database");
        let rng = SeededRandom::new(17);
        let kw = keyward_core::Keyward::new(db, settings, &rng).expect("keyward");
        let ctx = keyward_core::Ctx::new(keyward_core::types::UnixTime::now(), &rng);
        let outcome = f(&kw, &ctx).await;
        kw.db().close().await;
        outcome
    })
}

/// Migrates the site and seeds `n` active teachers of a new school, each
/// with an address of their own (`outbox.NNNN@example.org`), in one
/// transaction; returns their addresses.
pub fn seed_people_with_email(site: &Site, n: usize) -> Vec<String> {
    use keyward_core::testing::{BulkUser, insert_many_users};
    let output = site.run(&["migrate"], "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let address = |i: usize| format!("outbox.{i:04}@example.org");
    with_site_core(site, async |kw, ctx| {
        let school = kw
            .create_school(
                ctx,
                &keyward_core::Keyward::operator_actor(),
                "Outbox Academy",
            )
            .await
            .expect("create a school");
        insert_many_users(kw, &school.id, n, |i| BulkUser {
            role: keyward_core::types::Role::Teacher,
            first_name: "Outbox".into(),
            last_name: format!("Teacher {i}"),
            email: Some(address(i)),
            status: keyward_core::accounts::AccountStatus::Active,
            authenticator_app: false,
        })
        .await;
    });
    (0..n).map(address).collect()
}

/// The settings of a keyward that mails over SMTP to `smtp_port` with the
/// outbox's defaults (`mail.max_parallel` 8, `mail.smtp.timeout` 30 s) but
/// quick polls and retries (every second; 1 s, 2 s, 4 s …), and whose
/// **Forgot password?** names the account by email and mails a reset link
/// to anyone.
pub fn outbox_vars(smtp_port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("KEYWARD_MAIL__TRANSPORT", "smtp".into()),
        ("KEYWARD_MAIL__SMTP__HOST", "127.0.0.1".into()),
        ("KEYWARD_MAIL__SMTP__PORT", smtp_port.to_string()),
        ("KEYWARD_MAIL__POLL_INTERVAL", "1s".into()),
        ("KEYWARD_MAIL__RETRY_BASE", "1s".into()),
        ("KEYWARD_RECOVERY__IDENTIFY_BY", "email".into()),
        ("KEYWARD_RECOVERY__REQUIRE_PRIOR_SIGN_IN", "false".into()),
        (
            "KEYWARD_RECOVERY__MAX_REQUESTS_PER_ADDRESS_PER_HOUR",
            "1000000".into(),
        ),
    ]
}

/// Starts `keyward serve` on `port` (the site's own, or another for a second
/// instance on the same data folder and database) with `vars` on top of the
/// site's settings, and waits until it is ready.
pub fn serve_on(site: &Site, port: u16, log_name: &str, vars: &[(&str, String)]) -> Server {
    let mut all = vec![
        ("KEYWARD_SERVER__BIND", format!("127.0.0.1:{port}")),
        (
            "KEYWARD_SERVER__PUBLIC_URL",
            format!("http://127.0.0.1:{port}"),
        ),
    ];
    all.extend(vars.iter().cloned());
    let vars: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut server = site.spawn_with(&["serve"], log_name, &vars);
    server.port = port;
    server.wait_until_ready();
    server
}

/// One **Forgot password?** by email for each address, eight at a time, the
/// n-th through `ports[n % ports.len()]` (instances behind a load balancer);
/// every answer must be 202.
pub fn request_recoveries(ports: &[u16], addresses: &[String]) {
    const LANES: usize = 8;
    std::thread::scope(|scope| {
        for lane in 0..LANES {
            scope.spawn(move || {
                for (n, address) in addresses.iter().enumerate().skip(lane).step_by(LANES) {
                    let body = format!("{{\"email\":{}}}", json_string(address));
                    let port = ports[n % ports.len()];
                    let (status, answer) = http(port, "POST", "/api/v1/recovery", Some(&body))
                        .expect("a recovery request");
                    assert_eq!(status, 202, "{address}: {answer}");
                }
            });
        }
    });
}

/// Every outbox row as the site's database holds it now, oldest first.
pub fn outbox_rows(site: &Site) -> Vec<keyward_core::mail::OutboxState> {
    with_site_core(site, async |kw, _| {
        keyward_core::mail::outbox_states(kw.db())
            .await
            .expect("read the outbox")
    })
}

/// How many messages each recipient got at `capture`.
pub fn deliveries(
    capture: &keyward_core::testing::SmtpCapture,
) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for mail in capture.messages() {
        *counts.entry(mail.to).or_insert(0) += 1;
    }
    counts
}

/// Checks `done` every 20 ms until it holds (true) or `timeout` passes (false).
pub fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
