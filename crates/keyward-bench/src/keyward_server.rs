//! keyward under test: starts `keyward demo` on a free loopback port with a
//! fresh data folder and a fresh SQLite file or PostgreSQL database, waits
//! for `/readyz`, seeds learners, staff, classes and schools through
//! keyward's own JSON API (as the demo's lead teacher or platform admin),
//! and stops it with SIGTERM, removing what it made. It never reads
//! keyward's database: everything goes through the API, as a school would.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::{Value as Json, json};

use crate::Db;
use crate::load::Request;
use crate::subject::{Account, Subject};

/// How long keyward may take to answer `/readyz` with 200.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long keyward may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Seeding calls in flight at once, each from its own loopback address.
const SEED_PARALLEL: usize = 16;
/// Seeding calls come from 127.0.1.1 … 127.0.1.16, apart from the load
/// generator's 127.0.0.x, so neither uses up the other's per-address limits.
const SEED_SOURCE_NET: [u8; 3] = [127, 0, 1];
/// The password learners join with (the learner policy: letters of both
/// cases and a digit, no special character).
pub const LEARNER_PASSWORD: &str = "TigerApple42";
/// The password seeded staff choose (the staff policy: long, not common).
pub const STAFF_PASSWORD: &str = "Bench-Staff-Pass-2026";
/// Lines of keyward's standard error shown when it fails to start.
const STDERR_TAIL_LINES: usize = 20;

/// How keyward is started.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The `keyward` binary.
    pub bin: PathBuf,
    pub db: Db,
    /// The PostgreSQL server a fresh database is made on (`Db::Postgres`).
    pub postgres_url: String,
    /// `KEYWARD_*` settings on top of the defaults (e.g. the SMTP server).
    pub env: Vec<(String, String)>,
}

impl ServerOptions {
    /// The bench's settings: keyward's defaults, except that **Forgot
    /// password?** names the account by email, as the peer's does.
    pub fn new(bin: PathBuf, db: Db, postgres_url: &str) -> ServerOptions {
        ServerOptions {
            bin,
            db,
            postgres_url: postgres_url.to_owned(),
            env: vec![("KEYWARD_RECOVERY__IDENTIFY_BY".into(), "email".into())],
        }
    }

    /// Adds (or replaces) one `KEYWARD_*` setting.
    pub fn with_env(mut self, name: &str, value: impl Into<String>) -> ServerOptions {
        self.env.retain(|(key, _)| key != name);
        self.env.push((name.to_owned(), value.into()));
        self
    }
}

/// A running `keyward demo`; stopped when dropped (SIGTERM), its database
/// (file or PostgreSQL database) removed.
pub struct KeywardServer {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    pub pid: u32,
    /// From spawning the process to the first 200 from `/readyz`.
    pub ready_after: Duration,
    /// keyward's `server.data_dir` (SQLite file, demo accounts, sealing key).
    pub data_dir: PathBuf,
    /// The demo's people from `<data_dir>/demo-accounts.txt`.
    pub demo_accounts: Vec<DemoAccount>,
    /// "SQLite" or "PostgreSQL", for the table.
    pub database: &'static str,
    options: ServerOptions,
    port: u16,
    child: Option<Child>,
    /// Holds the data folder and keyward's output; removed on drop.
    work: Option<tempfile::TempDir>,
    postgres: Option<FreshDatabase>,
    /// One client per seeding source address (keep-alive, no cookies).
    seed_clients: Vec<reqwest::Client>,
    /// Makes seeded usernames unique within this server.
    seed_batches: AtomicUsize,
    learners: Vec<Account>,
    staff: Vec<Account>,
}

/// One line of `demo-accounts.txt`.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub account: Account,
}

/// A signed-in session's headers (cookie and CSRF token), to add to requests.
#[derive(Debug, Clone)]
pub struct Session {
    pub headers: Vec<(String, String)>,
    /// The signed-in person's school (none for a platform admin).
    pub school_id: Option<String>,
}

/// A class made for the bench.
#[derive(Debug, Clone)]
pub struct NewClass {
    pub id: String,
    pub code: String,
}

/// A JSON API answer: status and body (`Json::Null` when not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Json,
}

impl Answer {
    /// The body when the status is `wanted`; otherwise an error naming
    /// `what` with the status and the start of the body.
    pub fn expect(self, wanted: u16, what: &str) -> anyhow::Result<Json> {
        if self.status != wanted {
            let body: String = self.body.to_string().chars().take(300).collect();
            bail!("{what}: status {} (wanted {wanted}): {body}", self.status);
        }
        Ok(self.body)
    }
}

/// A client for the bench's own calls, optionally bound to a loopback source
/// address. keyward's HTTP client crate is built without a TLS provider of
/// its own; the bench speaks plain HTTP on loopback but the client insists
/// on one, so ring's is installed (once) first.
pub fn http_client(source: Option<IpAddr>) -> anyhow::Result<reqwest::Client> {
    static PROVIDER: std::sync::Once = std::sync::Once::new();
    PROVIDER.call_once(|| {
        // Err only when another provider is installed already: that one serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .no_proxy()
        .local_address(source)
        .timeout(Duration::from_secs(600))
        .build()
        .context("building an HTTP client")
}

impl KeywardServer {
    /// Starts `keyward demo` and waits until `/readyz` answers 200.
    pub async fn start(options: &ServerOptions) -> anyhow::Result<KeywardServer> {
        let work = tempfile::Builder::new()
            .prefix("keyward-bench.")
            .tempdir()
            .context("making a temporary folder")?;
        let data_dir = work.path().join("data");
        let port = free_port()?;
        let postgres = match options.db {
            Db::Sqlite => None,
            Db::Postgres => Some(FreshDatabase::create(&options.postgres_url).await?),
        };
        let seed_clients = (1..=SEED_PARALLEL)
            .map(|i| http_client(Some(seed_source(i))))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut server = KeywardServer {
            base_url: format!("http://127.0.0.1:{port}"),
            pid: 0,
            ready_after: Duration::ZERO,
            data_dir,
            demo_accounts: Vec::new(),
            database: match options.db {
                Db::Sqlite => "SQLite",
                Db::Postgres => "PostgreSQL",
            },
            options: options.clone(),
            port,
            child: None,
            work: Some(work),
            postgres,
            seed_clients,
            seed_batches: AtomicUsize::new(0),
            learners: Vec::new(),
            staff: Vec::new(),
        };
        server.spawn().await?;
        server.demo_accounts = read_demo_accounts(&server.data_dir.join("demo-accounts.txt"))?;
        Ok(server)
    }

    /// Stops keyward (SIGTERM) and starts it again on the same port, data
    /// folder and database: a fresh process, whose memory holds nothing of
    /// the seeding before.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.terminate()?;
        self.spawn().await
    }

    /// Spawns `keyward demo` with only the bench's settings and waits for
    /// `/readyz`; sets `pid` and `ready_after`.
    async fn spawn(&mut self) -> anyhow::Result<()> {
        let work = self.work.as_ref().context("the server was stopped")?;
        let mut command = Command::new(&self.options.bin);
        command
            .arg("demo")
            .env_clear()
            .envs(std::env::vars().filter(|(key, _)| !key.starts_with("KEYWARD_")))
            .env("KEYWARD_SERVER__BIND", format!("127.0.0.1:{}", self.port))
            .env("KEYWARD_SERVER__PUBLIC_URL", &self.base_url)
            .env("KEYWARD_SERVER__DATA_DIR", &self.data_dir)
            .stdin(Stdio::null())
            .stdout(output_file(work.path(), "stdout")?)
            .stderr(output_file(work.path(), "stderr")?);
        if let Some(database) = &self.postgres {
            command.env("KEYWARD_DATABASE__URL", &database.url);
        }
        command.envs(self.options.env.iter().map(|(k, v)| (k, v)));
        let spawned_at = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("starting {} demo", self.options.bin.display()))?;
        self.pid = child.id();
        self.child = Some(child);
        self.ready_after = self.wait_until_ready(spawned_at).await?;
        Ok(())
    }

    async fn wait_until_ready(&mut self, spawned_at: Instant) -> anyhow::Result<Duration> {
        let client = http_client(None)?;
        let url = format!("{}/readyz", self.base_url);
        loop {
            if let Ok(answer) = client.get(&url).send().await
                && answer.status() == reqwest::StatusCode::OK
            {
                return Ok(spawned_at.elapsed());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait().context("waiting for keyward")?
            {
                bail!(
                    "keyward demo exited ({status}) before it was ready:\n{}",
                    self.stderr_tail()
                );
            }
            if spawned_at.elapsed() > READY_TIMEOUT {
                bail!(
                    "keyward demo was not ready within {} s:\n{}",
                    READY_TIMEOUT.as_secs(),
                    self.stderr_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The last lines keyward wrote to standard error.
    pub fn stderr_tail(&self) -> String {
        let Some(work) = &self.work else {
            return String::new();
        };
        let text = std::fs::read_to_string(work.path().join("stderr")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].join("\n")
    }

    /// The demo account with this username.
    pub fn demo(&self, username: &str) -> anyhow::Result<&Account> {
        self.demo_accounts
            .iter()
            .map(|demo| &demo.account)
            .find(|account| account.username == username)
            .with_context(|| format!("demo-accounts.txt names no {username}"))
    }

    /// Signs in with `POST /api/v1/session`; the session's cookies and CSRF
    /// token go with later calls.
    pub async fn sign_in(&self, username: &str, password: &str) -> anyhow::Result<Session> {
        let answer = self.seed_clients[0]
            .post(format!("{}/api/v1/session", self.base_url))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .with_context(|| format!("signing in as {username}"))?;
        let cookies: Vec<String> = answer
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|value| value.split(';').next())
            .filter(|pair| pair.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
            .map(str::to_owned)
            .collect();
        let status = answer.status().as_u16();
        let body: Json = answer.json().await.unwrap_or(Json::Null);
        let body = Answer { status, body }.expect(200, &format!("signing in as {username}"))?;
        let csrf = body["csrf_token"]
            .as_str()
            .with_context(|| format!("signing in as {username}: no csrf_token (second step?)"))?;
        if !cookies.iter().any(|c| c.starts_with("kw_session=")) {
            bail!("signing in as {username}: no kw_session cookie");
        }
        Ok(Session {
            headers: vec![
                ("cookie".into(), cookies.join("; ")),
                ("x-csrf-token".into(), csrf.to_owned()),
            ],
            school_id: body["user"]["school_id"].as_str().map(str::to_owned),
        })
    }

    /// One JSON API call (from the first seeding address).
    pub async fn call(
        &self,
        session: Option<&Session>,
        method: reqwest::Method,
        path: &str,
        body: Option<&Json>,
    ) -> anyhow::Result<Answer> {
        self.call_from(0, session, method, path, body).await
    }

    /// One JSON API call from the `client`-th seeding address (modulo their
    /// number), so parallel calls spread over addresses.
    pub async fn call_from(
        &self,
        client: usize,
        session: Option<&Session>,
        method: reqwest::Method,
        path: &str,
        body: Option<&Json>,
    ) -> anyhow::Result<Answer> {
        let client = &self.seed_clients[client % self.seed_clients.len()];
        let mut request = client.request(method.clone(), format!("{}{path}", self.base_url));
        for (name, value) in session.map(|s| s.headers.as_slice()).unwrap_or_default() {
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = answer.status().as_u16();
        let body = answer.json().await.unwrap_or(Json::Null);
        Ok(Answer { status, body })
    }

    /// A class in the session's school (`POST /api/v1/schools/{id}/classes`).
    pub async fn create_class(&self, session: &Session, name: &str) -> anyhow::Result<NewClass> {
        let school = session
            .school_id
            .as_deref()
            .context("the session has no school")?;
        let class = self
            .call(
                Some(session),
                reqwest::Method::POST,
                &format!("/api/v1/schools/{school}/classes"),
                Some(&json!({ "name": name })),
            )
            .await?
            .expect(201, "creating a class")?;
        let id = class["id"].as_str().context("the new class has no id")?;
        let code = match class["class_code"].as_str() {
            Some(code) => code.to_owned(),
            None => self.class_code(session, id).await?,
        };
        Ok(NewClass {
            id: id.to_owned(),
            code,
        })
    }

    async fn class_code(&self, session: &Session, class_id: &str) -> anyhow::Result<String> {
        let path = format!("/api/v1/classes/{class_id}/class-code");
        let answer = self
            .call(Some(session), reqwest::Method::GET, &path, None)
            .await?
            .expect(200, "reading a class code")?;
        answer["class_code"]
            .as_str()
            .map(str::to_owned)
            .context("the class has no class code")
    }

    /// `n` learners join the class with its code (`POST /api/v1/join`),
    /// `SEED_PARALLEL` at a time, each from its own loopback address.
    pub async fn join_learners(
        &self,
        class_code: &str,
        n: usize,
        password: &str,
    ) -> anyhow::Result<Vec<Account>> {
        let batch = self.seed_batches.fetch_add(1, Ordering::Relaxed);
        stream::iter(0..n)
            .map(|i| async move {
                let username = format!("bench{batch}.l{i}");
                let body = json!({
                    "class_code": class_code,
                    "first_name": "Bench",
                    "last_name": format!("Learner {i}"),
                    "username": username,
                    "password": password,
                });
                self.call_from(i, None, reqwest::Method::POST, "/api/v1/join", Some(&body))
                    .await?
                    .expect(201, &format!("learner {username} joining a class"))?;
                Ok::<_, anyhow::Error>(Account {
                    username,
                    password: password.to_owned(),
                    email: None,
                })
            })
            .buffered(SEED_PARALLEL)
            .try_collect()
            .await
    }

    /// `n` teachers with email addresses in `school_id`: each made pending
    /// by `session` (`POST /api/v1/users`), then activated with its access
    /// code, username, email and [`STAFF_PASSWORD`] (`POST /api/v1/activate`)
    /// — one hash each, `SEED_PARALLEL` at a time.
    pub async fn create_staff_with_email(
        &self,
        session: &Session,
        school_id: &str,
        n: usize,
    ) -> anyhow::Result<Vec<Account>> {
        let batch = self.seed_batches.fetch_add(1, Ordering::Relaxed);
        stream::iter(0..n)
            .map(|i| self.create_one_staff(session, school_id, batch, i))
            .buffered(SEED_PARALLEL)
            .try_collect()
            .await
    }

    async fn create_one_staff(
        &self,
        session: &Session,
        school_id: &str,
        batch: usize,
        i: usize,
    ) -> anyhow::Result<Account> {
        let username = format!("bench{batch}.s{i}");
        let email = format!("{username}@school.example");
        let created = self
            .call_from(
                i,
                Some(session),
                reqwest::Method::POST,
                "/api/v1/users",
                Some(&json!({
                    "first_name": "Bench",
                    "last_name": format!("Staff {i}"),
                    "role": "teacher",
                    "school_id": school_id,
                    "email": email,
                })),
            )
            .await?
            .expect(201, &format!("creating staff {username}"))?;
        let code = created["access_code"]
            .as_str()
            .context("the new user has no access code")?;
        let body = json!({
            "code": code,
            "username": username,
            "password": STAFF_PASSWORD,
            "email": email,
        });
        self.call_from(
            i,
            None,
            reqwest::Method::POST,
            "/api/v1/activate",
            Some(&body),
        )
        .await?
        .expect(201, &format!("activating {username}"))?;
        Ok(Account {
            username,
            password: STAFF_PASSWORD.to_owned(),
            email: Some(email),
        })
    }

    /// A new school (`POST /api/v1/schools`, platform admin); its id.
    pub async fn create_school(&self, session: &Session, name: &str) -> anyhow::Result<String> {
        let school = self
            .call(
                Some(session),
                reqwest::Method::POST,
                "/api/v1/schools",
                Some(&json!({ "name": name })),
            )
            .await?
            .expect(201, "creating a school")?;
        school["id"]
            .as_str()
            .map(str::to_owned)
            .context("the new school has no id")
    }

    /// Imports a roster CSV (`POST /api/v1/schools/{id}/roster`, `text/csv`);
    /// how many learners were created.
    pub async fn import_roster(
        &self,
        session: &Session,
        school_id: &str,
        csv: String,
    ) -> anyhow::Result<usize> {
        let mut request = self.seed_clients[0]
            .post(format!(
                "{}/api/v1/schools/{school_id}/roster",
                self.base_url
            ))
            .header("content-type", "text/csv; charset=utf-8")
            .body(csv);
        for (name, value) in &session.headers {
            request = request.header(name, value);
        }
        let answer = request.send().await.context("importing a roster")?;
        let status = answer.status().as_u16();
        let body = answer.json().await.unwrap_or(Json::Null);
        let imported = Answer { status, body }.expect(201, "importing a roster")?;
        imported["created"]
            .as_u64()
            .map(|n| n as usize)
            .context("the roster answer has no count")
    }

    /// Seeds `n` learners for the sign-in scenarios: a class of the demo
    /// school made by the lead teacher, joined through its class code; they
    /// become [`Subject::learners`].
    pub async fn seed_learners(&mut self, n: usize) -> anyhow::Result<()> {
        let lead = self.demo("demo.lead")?.clone();
        let session = self.sign_in(&lead.username, &lead.password).await?;
        let class = self
            .create_class(&session, &format!("Bench learners {n}"))
            .await?;
        let learners = self.join_learners(&class.code, n, LEARNER_PASSWORD).await?;
        self.learners.extend(learners);
        Ok(())
    }

    /// Seeds `n` teachers with email addresses in the demo school (made by
    /// the lead teacher); they become [`Subject::staff`].
    pub async fn seed_staff(&mut self, n: usize) -> anyhow::Result<()> {
        let lead = self.demo("demo.lead")?.clone();
        let session = self.sign_in(&lead.username, &lead.password).await?;
        let school = session
            .school_id
            .clone()
            .context("demo.lead has no school")?;
        let staff = self.create_staff_with_email(&session, &school, n).await?;
        self.staff.extend(staff);
        Ok(())
    }

    /// Stops keyward: SIGTERM, then its exit status (SIGKILL after
    /// `STOP_TIMEOUT`); removes its data folder and database.
    pub async fn stop(mut self) -> anyhow::Result<Stopped> {
        let stopped = self.terminate()?;
        if let Some(database) = self.postgres.take() {
            database.drop_now().await?;
        }
        self.work.take();
        Ok(stopped)
    }

    fn terminate(&mut self) -> anyhow::Result<Stopped> {
        let Some(mut child) = self.child.take() else {
            bail!("keyward is not running");
        };
        let started = Instant::now();
        signal(child.id(), "TERM")?;
        loop {
            if let Some(status) = child.try_wait().context("waiting for keyward")? {
                return Ok(Stopped {
                    status,
                    took: started.elapsed(),
                    killed: false,
                });
            }
            if started.elapsed() > STOP_TIMEOUT {
                child.kill().context("killing keyward")?;
                let status = child.wait().context("waiting for keyward")?;
                return Ok(Stopped {
                    status,
                    took: started.elapsed(),
                    killed: true,
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// How keyward stopped.
#[derive(Debug)]
pub struct Stopped {
    pub status: ExitStatus,
    /// From SIGTERM to exit.
    pub took: Duration,
    /// True when it did not stop within `STOP_TIMEOUT` and was killed.
    pub killed: bool,
}

impl Drop for KeywardServer {
    fn drop(&mut self) {
        if self.child.is_some()
            && let Err(err) = self.terminate()
        {
            eprintln!("keyward-bench: stopping keyward: {err:#}");
        }
        if let Some(database) = self.postgres.take() {
            database.drop_blocking();
        }
    }
}

impl Subject for KeywardServer {
    fn name(&self) -> &str {
        "keyward"
    }

    fn base_url(&self) -> &str {
        &self.base_url
    }

    fn pids(&self) -> Vec<u32> {
        vec![self.pid]
    }

    fn learners(&self) -> &[Account] {
        &self.learners
    }

    fn staff(&self) -> &[Account] {
        &self.staff
    }

    fn sign_in(&self, account: &Account) -> Request {
        Request::post_json(
            "/api/v1/session",
            &json!({ "username": account.username, "password": account.password }),
        )
    }

    fn recovery(&self, email: &str) -> Request {
        Request::post_json("/api/v1/recovery", &json!({ "email": email }))
    }

    fn sign_in_page(&self) -> Request {
        Request::get("/signin")
    }
}

/// The `i`-th seeding source address (127.0.1.1 …).
fn seed_source(i: usize) -> IpAddr {
    let [a, b, c] = SEED_SOURCE_NET;
    IpAddr::V4(Ipv4Addr::new(a, b, c, (i % 250 + 1) as u8))
}

/// A loopback port nobody listens on now (keyward binds it a moment later).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// keyward's standard output or error, appended to across restarts.
fn output_file(dir: &Path, name: &str) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(name))
        .with_context(|| format!("opening keyward's {name} file"))
}

/// Sends a signal with kill(1), as the CLI tests do: no unsafe code here.
fn signal(pid: u32, name: &str) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .context("running kill")?;
    if !status.success() {
        bail!("kill -{name} {pid} failed ({status})");
    }
    Ok(())
}

/// `ROLE USERNAME PASSWORD` lines; `#` starts a comment.
fn read_demo_accounts(path: &Path) -> anyhow::Result<Vec<DemoAccount>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [_role, username, password] => Some(DemoAccount {
                    account: Account {
                        username: username.to_owned(),
                        password: password.to_owned(),
                        email: None,
                    },
                }),
                _ => None,
            },
        )
        .collect())
}

/// A database made for one run on a PostgreSQL server, dropped after it.
struct FreshDatabase {
    /// The server's URL (to connect to when dropping).
    server_url: String,
    name: String,
    /// The new database's URL, for keyward.
    url: String,
}

impl FreshDatabase {
    async fn create(server_url: &str) -> anyhow::Result<FreshDatabase> {
        use sqlx::Connection;
        let name = format!(
            "kw_bench_{:016x}",
            getrandom::u64().map_err(|e| anyhow::anyhow!("no random name: {e}"))?
        );
        let mut url = url::Url::parse(server_url)
            .with_context(|| format!("reading the PostgreSQL URL {server_url}"))?;
        let mut conn = sqlx::PgConnection::connect(server_url)
            .await
            .context("connecting to the PostgreSQL server")?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .with_context(|| format!("creating the database {name}"))?;
        conn.close().await.ok();
        url.set_path(&format!("/{name}"));
        Ok(FreshDatabase {
            server_url: server_url.to_owned(),
            name,
            url: url.to_string(),
        })
    }

    async fn drop_now(self) -> anyhow::Result<()> {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.server_url)
            .await
            .context("connecting to the PostgreSQL server")?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await
        .with_context(|| format!("dropping the database {}", self.name))?;
        conn.close().await.ok();
        Ok(())
    }

    /// From `Drop`, which may run inside the bench's runtime: a thread of
    /// its own with a runtime of its own.
    fn drop_blocking(self) {
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|runtime| runtime.block_on(self.drop_now()))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!("keyward-bench: {err:#}"),
            Err(_) => eprintln!("keyward-bench: dropping the database {name} panicked"),
        }
    }
}

/// For the harness's tests: the debug `keyward` binary they run, when built.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::PathBuf;

    use super::ServerOptions;
    use crate::Db;

    /// `target/debug/keyward`, or `None` (with a note) when it is not built.
    pub(crate) fn debug_binary() -> Option<PathBuf> {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        let bin = target.join("debug/keyward");
        if bin.is_file() {
            Some(bin)
        } else {
            eprintln!(
                "skipped: {} is missing (run `cargo build -p keyward` first)",
                bin.display()
            );
            None
        }
    }

    /// `target/release/keyward` for the full runs (`--ignored`); build it
    /// with `cargo build --release -p keyward`.
    pub(crate) fn release_binary() -> PathBuf {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        let bin = target.join("release/keyward");
        assert!(
            bin.is_file(),
            "{} is missing: cargo build --release -p keyward",
            bin.display()
        );
        bin
    }

    /// The median wall time of one Argon2id hash at keyward's default
    /// parameters (19456 KiB, 2 passes, 1 lane), in ms, and the cores: a
    /// stand-in for the raw hashing measurement in the full runs' tests.
    pub(crate) fn one_hash_ms_and_cores() -> (f64, usize) {
        use argon2::{Algorithm, Argon2, Params, Version};
        let params = Params::new(19456, 2, 1, Some(32)).expect("params");
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut out = [0u8; 32];
        let mut times: Vec<f64> = (0..7)
            .map(|_| {
                let started = std::time::Instant::now();
                argon
                    .hash_password_into(b"password", b"saltsaltsalt", &mut out)
                    .expect("hash");
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        (times[times.len() / 2], cores)
    }

    /// Options for each database the tests run on: SQLite, and PostgreSQL
    /// when `KEYWARD_TEST_POSTGRES_URL` names a server.
    pub(crate) fn each_database(bin: &std::path::Path) -> Vec<ServerOptions> {
        let mut all = vec![ServerOptions::new(bin.to_owned(), Db::Sqlite, "")];
        if let Ok(url) = std::env::var("KEYWARD_TEST_POSTGRES_URL") {
            all.push(ServerOptions::new(bin.to_owned(), Db::Postgres, &url));
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn starts_seeds_signs_in_and_stops_on_each_database() {
        let Some(bin) = testing::debug_binary() else {
            return;
        };
        for options in testing::each_database(&bin) {
            let server = KeywardServer::start(&options).await.expect("start");
            assert!(server.ready_after > Duration::ZERO);
            let lead = server.demo("demo.lead").expect("demo.lead").clone();
            let session = server
                .sign_in(&lead.username, &lead.password)
                .await
                .expect("sign in as demo.lead");
            let class = server
                .create_class(&session, "Bench test")
                .await
                .expect("create a class");
            let learners = server
                .join_learners(&class.code, 5, LEARNER_PASSWORD)
                .await
                .expect("join");
            assert_eq!(learners.len(), 5);
            server
                .sign_in(&learners[3].username, &learners[3].password)
                .await
                .expect("a learner signs in");
            let wrong = server
                .sign_in(&learners[0].username, "Wrong-Password-1")
                .await;
            assert!(wrong.is_err(), "a wrong password must not sign in");
            let data_dir = server.data_dir.clone();
            let stopped = server.stop().await.expect("stop");
            assert!(stopped.status.success(), "{stopped:?}");
            assert!(!stopped.killed);
            assert!(!data_dir.exists(), "the data folder is removed");
        }
    }
}
