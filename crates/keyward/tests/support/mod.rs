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

// ---------------------------------------------------------------- HTTP with headers
// One HTTP/1.1 exchange that keeps the answer's headers, shared by the fault
// and the several-instance tests.

/// An HTTP answer: status, headers (names lowercased) and body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The several-instance tests' name for it.
pub type Answer = Reply;

impl Reply {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The JSON error body's `error` code.
    pub fn error_code(&self) -> Option<String> {
        let body: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        body.get("error")?.as_str().map(str::to_owned)
    }

    /// The cookie `name` the answer sets, as `name=value`.
    pub fn cookie_pair(&self, name: &str) -> Option<String> {
        self.cookie(name).map(|value| format!("{name}={value}"))
    }

    /// The value a `Set-Cookie` header gives cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next()?.split_once('='))
            .find(|(n, _)| n.trim() == name)
            .map(|(_, v)| v.trim().to_owned())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The `error` code of a JSON error body (empty when there is none).
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }

    /// `200`, or the status and error code of a refusal: `410 link_used`.
    pub fn outcome(&self) -> String {
        if self.status < 300 {
            self.status.to_string()
        } else {
            format!("{} {}", self.status, self.error())
        }
    }
}

/// One HTTP/1.1 exchange over loopback with extra request headers (`Accept:
/// application/json` unless one is given); the whole answer with its headers.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: Option<&str>,
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let body = json.unwrap_or("");
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if !headers
        .iter()
        .any(|(key, _)| key.eq_ignore_ascii_case("accept"))
    {
        head.push_str("Accept: application/json\r\n");
    }
    for (key, value) in headers {
        head.push_str(&format!("{key}: {value}\r\n"));
    }
    if json.is_some() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(head.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = text(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:?}")))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:?}")))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}

// ---------------------------------------------------------------- faults
// What the fault tests (tests/faults.rs) share: an HTTP exchange that keeps
// the headers, a PostgreSQL cluster of the test's own to stop and start, a
// small tmpfs to fill, and percentiles of latencies.

/// The `p`-th percentile (0–100, nearest rank) of `values`; zero when empty.
pub fn percentile(values: &[Duration], p: u32) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n => sorted[(n * p as usize).div_ceil(100).clamp(1, n) - 1],
    }
}

/// Whether this process runs as root (uid 0), from the owner of `/proc/self`.
pub fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A PostgreSQL cluster of one test's own — `initdb` in a temporary folder
/// under /tmp, trust authentication, listening on 127.0.0.1 on a free port —
/// for tests that stop and start the server (never the machine's own on
/// 5432, which other tests use). Run as the `postgres` OS user when we are
/// root, since initdb refuses root (as scripts/lib/postgres.sh does).
/// Stopped and removed when dropped.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bindir: PathBuf,
    pub port: u16,
}

impl PgCluster {
    /// Creates and starts the cluster; `Err` says why it cannot be had here
    /// (no initdb, no `postgres` user), for a test to skip with.
    pub fn start() -> Result<PgCluster, String> {
        let bindir = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| {
                "no /usr/lib/postgresql (PostgreSQL's server is not installed)".to_owned()
            })?
            .flatten()
            .map(|entry| entry.path().join("bin"))
            .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
            .max_by_key(|bin| {
                let version = bin.parent().and_then(Path::file_name);
                version
                    .and_then(|v| v.to_str()?.parse::<u32>().ok())
                    .unwrap_or(0)
            })
            .ok_or_else(|| "no initdb/pg_ctl under /usr/lib/postgresql/*/bin".to_owned())?;
        let root = running_as_root();
        if root
            && !Command::new("id")
                .arg("postgres")
                .output()
                .is_ok_and(|o| o.status.success())
        {
            return Err(
                "running as root and there is no `postgres` OS user to run initdb as".into(),
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("keyward-faults-pg.")
            .tempdir_in("/tmp")
            .map_err(|e| format!("cannot make a folder under /tmp: {e}"))?;
        let cluster = PgCluster {
            dir,
            bindir,
            port: free_port(),
        };
        let data = cluster.data_dir();
        let run = cluster.dir.path().join("run");
        for folder in [&data, &run] {
            std::fs::create_dir(folder).map_err(|e| format!("mkdir {}: {e}", folder.display()))?;
        }
        use std::os::unix::fs::PermissionsExt;
        let _ =
            std::fs::set_permissions(cluster.dir.path(), std::fs::Permissions::from_mode(0o755));
        if root {
            let chown = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(&data)
                .arg(&run)
                .status();
            if !chown.is_ok_and(|s| s.success()) {
                return Err("cannot give the cluster's folders to the postgres user".into());
            }
        }
        let initdb = cluster
            .as_owner(&cluster.bindir.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
            ])
            .output()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        if !initdb.status.success() {
            return Err(format!("initdb failed: {}", text(&initdb.stderr)));
        }
        cluster.start_again();
        Ok(cluster)
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn as_owner(&self, program: &Path) -> Command {
        if running_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> Output {
        self.as_owner(&self.bindir.join("pg_ctl"))
            .arg("-D")
            .arg(self.data_dir())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run pg_ctl")
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start_again(&self) {
        let run = self.dir.path().join("run");
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            self.port,
            run.display()
        );
        let log = run.join("postgres.log");
        let output = self.pg_ctl(&[
            "-w",
            "-t",
            "60",
            "-l",
            log.to_str().unwrap(),
            "-o",
            &options,
            "start",
        ]);
        assert!(
            output.status.success(),
            "pg_ctl start failed: {}{}\n{}",
            text(&output.stdout),
            text(&output.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Stops the server with `pg_ctl stop -m MODE`: `fast` (as an operator's
    /// `systemctl stop`: sessions are told 57P01 and ended) or `immediate`
    /// (as a crash: no goodbye, recovery at the next start).
    pub fn stop(&self, mode: &str) {
        let output = self.pg_ctl(&["-w", "-t", "60", "-m", mode, "stop"]);
        assert!(
            output.status.success(),
            "pg_ctl stop failed: {}{}",
            text(&output.stdout),
            text(&output.stderr)
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.data_dir().join("postmaster.pid").exists() {
            let _ = self.pg_ctl(&["-w", "-t", "30", "-m", "immediate", "stop"]);
        }
    }
}

/// A small tmpfs of one test's own mounted on a folder (we must be root);
/// unmounted when dropped.
pub struct Tmpfs {
    pub path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`16m`, `512k`) on `path`, created when
    /// missing; `Err` says why it cannot be had here, for a test to skip with.
    pub fn mount(path: &Path, size: &str) -> Result<Tmpfs, String> {
        if !running_as_root() {
            return Err("mounting a tmpfs needs root".into());
        }
        std::fs::create_dir_all(path).map_err(|e| format!("mkdir {}: {e}", path.display()))?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !output.status.success() {
            return Err(format!("mount refused: {}", text(&output.stderr).trim()));
        }
        Ok(Tmpfs {
            path: path.to_owned(),
        })
    }

    /// Writes the file `name` until the file system has no room left;
    /// returns its path and size.
    pub fn fill(&self, name: &str) -> (PathBuf, u64) {
        let path = self.path.join(name);
        let mut file = std::fs::File::create(&path).expect("create the filler");
        let block = vec![0u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            match file.write(&block) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("writing the filler: {e}"),
            }
        }
        // Also the last partial page.
        while let Ok(n) = file.write(&block[..512]) {
            if n == 0 {
                break;
            }
            written += n as u64;
        }
        (path, written)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(&self.path)
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        }
    }
}

// ---------------------------------------------------------------- outbox
// For the outbox's fault tests (outbox_faults.rs): the site's database
// opened in process, people with addresses seeded in one transaction, their
// **Forgot password?** requests through the API of one or more instances,
// keyward sending to a real SMTP server, and what arrived there.

/// The settings the binary uses for `site` (its data folder, so its sealing
/// key; its database), with cheap hashing.
pub fn site_settings(site: &Site) -> keyward_core::settings::Settings {
    let mut settings = keyward_core::settings::Settings::default();
    settings.server.data_dir = site.data_dir();
    settings.database.url = site
        .pg
        .as_ref()
        .map(|pg| pg.url.clone())
        .unwrap_or_default();
    settings.hashing = keyward_core::testing::cheap_hashing();
    settings
}

/// A database opened in process with `settings`, as the binary opens it,
/// for what no command does: runs `f` with randomness seeded by `seed`,
/// then closes the database.
pub fn run_core<T>(
    settings: keyward_core::settings::Settings,
    seed: u64,
    f: impl AsyncFnOnce(&keyward_core::Keyward, &keyward_core::Ctx<'_>) -> T,
) -> T {
    use keyward_core::types::random::SeededRandom;
    let settings = settings.validate().expect("valid settings");
    block_on(async move {
        let db = keyward_core::store::Db::connect(&settings.database)
            .await
            .expect("open the site's database");
        let rng = SeededRandom::new(seed);
        let kw = keyward_core::Keyward::new(db, settings, &rng).expect("keyward");
        let ctx = keyward_core::Ctx::new(keyward_core::types::UnixTime::now(), &rng);
        let outcome = f(&kw, &ctx).await;
        kw.db().close().await;
        outcome
    })
}

/// The site's database opened in process (same data folder, so the same
/// sealing key): runs `f` and closes the database.
pub fn with_site_core<T>(
    site: &Site,
    f: impl AsyncFnOnce(&keyward_core::Keyward, &keyward_core::Ctx<'_>) -> T,
) -> T {
    run_core(site_settings(site), 17, f)
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

// ---------------------------------------------------------------- instances
// Several `keyward serve` processes on one PostgreSQL database (issue 17):
// the database URL from `KEYWARD_TEST_POSTGRES_URL` or a skip, HTTP calls
// with headers and cookies, instances on ports of their own sharing one key
// file, and a client that moves a request to the next instance when one does
// not answer, as a load balancer does.

/// The PostgreSQL server of the run, or `None` after printing why `test`
/// is skipped (several instances need one database they all reach).
pub fn postgres_or_skip(test: &str) -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "skipped {test}: several instances share one PostgreSQL database; \
                 set {POSTGRES_URL_VAR} to run it"
            );
            None
        }
    }
}

/// A signed-in API session: the cookie header to send and the CSRF token.
#[derive(Debug, Clone)]
pub struct ApiSession {
    pub cookie: String,
    pub csrf: String,
}

impl ApiSession {
    /// Signs in through `POST /api/v1/session` on `port`.
    pub fn open(port: u16, username: &str, password: &str) -> ApiSession {
        let body = format!(
            "{{\"username\":{},\"password\":{}}}",
            json_string(username),
            json_string(password)
        );
        let answer =
            request(port, "POST", "/api/v1/session", &[], Some(&body)).expect("sign-in request");
        assert_eq!(answer.status, 200, "sign-in of {username}: {}", answer.body);
        ApiSession {
            cookie: format!(
                "kw_session={}",
                answer.cookie("kw_session").expect("a session cookie")
            ),
            csrf: answer.json()["csrf_token"]
                .as_str()
                .expect("a CSRF token")
                .to_owned(),
        }
    }

    /// A call with the session's cookie and CSRF token.
    pub fn call(
        &self,
        port: u16,
        method: &str,
        path: &str,
        json: Option<&str>,
    ) -> std::io::Result<Answer> {
        let headers = [
            ("Cookie", self.cookie.as_str()),
            ("X-CSRF-Token", self.csrf.as_str()),
        ];
        request(port, method, path, &headers, json)
    }
}

/// Several `keyward serve` processes of one site on one PostgreSQL
/// database, each on its own port with its own data folder, all sealing with
/// one key file (`<site data>/sealing.key`, as a shared volume would hold).
pub struct Instances {
    pub site: Site,
    pub servers: Vec<Server>,
}

impl Instances {
    /// Starts `count` instances at once on a fresh database (they migrate
    /// it together) with `vars` set on each, and waits until all are ready.
    /// `None` (printed) without PostgreSQL.
    pub fn start(test: &str, count: usize, vars: &[(&str, &str)]) -> Option<Instances> {
        postgres_or_skip(test)?;
        let site = Site::new();
        let mut instances = Instances {
            site,
            servers: Vec::new(),
        };
        for _ in 0..count {
            instances.spawn(vars);
        }
        for server in &mut instances.servers {
            server.wait_until_ready();
        }
        Some(instances)
    }

    /// The shared key file.
    pub fn key_file(&self) -> PathBuf {
        self.site.data_dir().join("sealing.key")
    }

    /// The data folder of instance `i`.
    pub fn data_dir_of(&self, i: usize) -> PathBuf {
        self.site.root.path().join(format!("instance-{i}"))
    }

    /// Starts one more instance (not waiting for it) and returns its index.
    pub fn spawn(&mut self, vars: &[(&str, &str)]) -> usize {
        let i = self.servers.len();
        let data_dir = self.data_dir_of(i);
        let key_file = self.key_file();
        let mut all = vec![
            (
                "KEYWARD_SERVER__DATA_DIR",
                data_dir.to_string_lossy().into_owned(),
            ),
            (
                "KEYWARD_SEALING__KEY_FILE",
                key_file.to_string_lossy().into_owned(),
            ),
        ];
        all.extend(vars.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let server = self.spawn_with_vars(&format!("instance-{i}"), &all);
        self.servers.push(server);
        i
    }

    /// Starts `keyward serve` on a port of its own with `vars` (after the
    /// site's own settings), without the shared data folder or key file.
    pub fn spawn_with_vars(&self, log_name: &str, vars: &[(&str, String)]) -> Server {
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        // Small pools: the tests' PostgreSQL serves other test runs too.
        let mut all: Vec<(&str, &str)> = vec![
            ("KEYWARD_SERVER__BIND", bind.as_str()),
            ("KEYWARD_DATABASE__MAX_CONNECTIONS", "4"),
        ];
        all.extend(vars.iter().map(|(k, v)| (*k, v.as_str())));
        let mut server = self.site.spawn_with(&["serve"], log_name, &all);
        server.port = port;
        server
    }

    pub fn ports(&self) -> Vec<u16> {
        self.servers.iter().map(|s| s.port).collect()
    }

    /// The site's database and key file opened in process (for what no
    /// request does: seeding the demo school, reading rows); runs `f`.
    pub fn with_core<T>(
        &self,
        f: impl AsyncFnOnce(&keyward_core::Keyward, &keyward_core::Ctx<'_>) -> T,
    ) -> T {
        let mut settings = site_settings(&self.site);
        settings.sealing.key_file = self.key_file();
        settings.database.url = self.site.pg.as_ref().expect("PostgreSQL").url.clone();
        run_core(settings, 5, f)
    }

    /// Seeds the demo school, every demo person with `DEMO_PASSWORD`.
    pub fn seed_demo(&self) {
        self.with_core(async |kw, ctx| {
            kw.seed_demo(
                ctx,
                &keyward_core::testing::demo_passwords(keyward_core::testing::DEMO_PASSWORD),
            )
            .await
            .expect("seed the demo school")
        });
    }

    /// The newest email about `subject` written by any instance (each writes
    /// to its own data folder), waiting up to 20 s.
    pub fn wait_for_mail(&self, subject: &str) -> keyward_core::testing::CapturedMail {
        let folders: Vec<PathBuf> = (0..self.servers.len())
            .map(|i| self.data_dir_of(i).join("mail"))
            .collect();
        wait_for_mail_in(&folders, subject)
    }
}

/// A client in front of several instances, as a load balancer is: each call
/// goes to the next instance in turn, and one that does not answer (refused,
/// reset, closed) is marked down, as nginx's `max_fails` would, and the call
/// sent to the next. Counts the calls moved that way.
pub struct Balancer {
    ports: Vec<u16>,
    down: std::sync::Mutex<Vec<u16>>,
    next: std::sync::atomic::AtomicUsize,
    pub moved: std::sync::atomic::AtomicUsize,
}

impl Balancer {
    pub fn new(ports: Vec<u16>) -> Balancer {
        Balancer {
            ports,
            down: std::sync::Mutex::new(Vec::new()),
            next: std::sync::atomic::AtomicUsize::new(0),
            moved: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Sends through `send` (given a port) to the instances in turn until
    /// one answers; panics when none does.
    pub fn send(&self, send: impl Fn(u16) -> std::io::Result<Answer>) -> Answer {
        use std::sync::atomic::Ordering;
        let start = self.next.fetch_add(1, Ordering::SeqCst);
        let mut errors = Vec::new();
        for k in 0..self.ports.len() {
            let port = self.ports[(start + k) % self.ports.len()];
            if self.down.lock().unwrap().contains(&port) {
                continue;
            }
            match send(port) {
                Ok(answer) => return answer,
                Err(err) => {
                    self.down.lock().unwrap().push(port);
                    self.moved.fetch_add(1, Ordering::SeqCst);
                    errors.push(format!("{port}: {err}"));
                }
            }
        }
        panic!("no instance answered: {errors:?}");
    }
}

impl Server {
    /// Waits for the process to end by itself, at most `timeout`.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for keyward") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "keyward did not stop within {timeout:?}: {:?}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The newest email about `subject` among the `.eml` files of these mail
/// folders (named `<unix time>-<outbox id>.eml`), waiting up to 20 s.
pub fn wait_for_mail_in(folders: &[PathBuf], subject: &str) -> keyward_core::testing::CapturedMail {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut files: Vec<(String, PathBuf)> = folders
            .iter()
            .flat_map(|folder| {
                std::fs::read_dir(folder)
                    .map(|entries| entries.flatten().map(|e| e.path()).collect::<Vec<_>>())
                    .unwrap_or_default()
            })
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
            .collect();
        // The newest last.
        files.sort();
        let found = files
            .iter()
            .rev()
            .map(|(_, p)| keyward_core::testing::parse_mail(&std::fs::read(p).unwrap()))
            .find(|m| m.subject.contains(subject));
        if let Some(mail) = found {
            return mail;
        }
        assert!(
            Instant::now() < deadline,
            "no email about {subject:?} arrived"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
