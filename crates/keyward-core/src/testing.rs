//! Test support shared by the core's and the web crate's tests: a fresh
//! database per test (SQLite in a temporary folder, or a new PostgreSQL
//! database when `KEYWARD_TEST_POSTGRES_URL` is set, dropped afterwards) with
//! its own data directory, a `Keyward` with cheap hashing, a fixed clock, and
//! [`SmtpCapture`], a real SMTP server (Python's aiosmtpd) that keeps every
//! message it receives in a Maildir.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sqlx::Connection;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::crypto::random::SeededRandom;
use crate::settings::{
    DatabaseSettings, HashingSettings, MailTransportKind, Settings, SmtpSecurity,
};
use crate::store::Db;
use crate::types::UnixTime;
use crate::{Ctx, Keyward};

/// The environment variable naming a PostgreSQL server for the tests.
pub const POSTGRES_URL_VAR: &str = "KEYWARD_TEST_POSTGRES_URL";

/// A fixed "now" for tests: 2026-09-07 08:00:00 UTC, a Monday morning.
pub const MONDAY_MORNING: UnixTime = UnixTime(1_788_768_000);

pub struct TestDb {
    pub db: Db,
    pub url: String,
    /// The data directory of this test (and the SQLite file, on SQLite).
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A migrated, empty database on the backend this test run uses.
    pub async fn new() -> TestDb {
        match std::env::var(POSTGRES_URL_VAR) {
            Ok(admin_url) if !admin_url.is_empty() => Self::postgres(&admin_url).await,
            _ => Self::sqlite().await,
        }
    }

    /// Which backend the tests run on, for messages.
    pub fn backend_name() -> &'static str {
        match std::env::var(POSTGRES_URL_VAR) {
            Ok(url) if !url.is_empty() => "postgres",
            _ => "sqlite",
        }
    }

    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/keyward.db", dir.path().display());
        let db = open(&url).await;
        TestDb {
            db,
            url,
            dir,
            postgres: None,
        }
    }

    /// This test's data directory (`server.data_dir` in [`settings_for`]).
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    async fn postgres(admin_url: &str) -> TestDb {
        sqlx::any::install_default_drivers();
        let mut name_bytes = [0u8; 8];
        getrandom::fill(&mut name_bytes).expect("random");
        let name = format!("kwtest_{}", hex::encode(name_bytes));
        let mut admin = sqlx::AnyConnection::connect(admin_url)
            .await
            .expect("connect to KEYWARD_TEST_POSTGRES_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let _ = admin.close().await;
        let mut url = url::Url::parse(admin_url).expect("postgres url");
        url.set_path(&format!("/{name}"));
        let url = url.to_string();
        let db = open(&url).await;
        TestDb {
            db,
            url,
            dir: tempfile::tempdir().expect("temp dir"),
            postgres: Some((admin_url.to_owned(), name)),
        }
    }
}

async fn open(url: &str) -> Db {
    let settings = DatabaseSettings {
        url: url.to_owned(),
        max_connections: 8,
        acquire_timeout: Duration::from_secs(10),
    };
    let db = Db::connect(&settings).await.expect("connect test database");
    db.migrate().await.expect("migrate test database");
    db
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async; a helper thread with its own runtime removes
        // the database (FORCE ends the pool's connections).
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async move {
                    if let Ok(mut admin) = sqlx::AnyConnection::connect(&admin_url).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&mut admin)
                        .await;
                    }
                });
            }
        })
        .join();
    }
}

/// Hashing parameters that make tests fast; production parameters are tested
/// in the hashing module itself.
pub fn cheap_hashing() -> HashingSettings {
    HashingSettings {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
        max_concurrent: 4,
        queue_timeout: Duration::from_secs(30),
    }
}

/// Settings for tests: defaults with cheap hashing, pointing at `db` and its
/// own data directory (so file-transport mail lands there).
pub fn settings_for(db: &TestDb) -> Settings {
    let mut settings = Settings::default();
    settings.database.url = db.url.clone();
    settings.server.data_dir = db.data_dir().to_path_buf();
    settings.hashing = cheap_hashing();
    settings.validate().expect("test settings valid")
}

/// [`settings_for`], sending mail over SMTP (no TLS, no credentials, a short
/// timeout) to `capture`.
pub fn settings_with_smtp(db: &TestDb, capture: &SmtpCapture) -> Settings {
    let mut settings = settings_for(db);
    settings.mail.transport = MailTransportKind::Smtp;
    settings.mail.smtp.host = "127.0.0.1".into();
    settings.mail.smtp.port = capture.port();
    settings.mail.smtp.security = SmtpSecurity::None;
    settings.mail.smtp.timeout = Duration::from_secs(5);
    settings.validate().expect("test settings valid")
}

/// A `Keyward` over a fresh test database, with cheap hashing.
pub async fn keyward() -> (Arc<Keyward>, TestDb) {
    let db = TestDb::new().await;
    let kw =
        Keyward::new(db.db.clone(), settings_for(&db), &SeededRandom::new(99)).expect("keyward");
    (kw, db)
}

/// A context at `now` with deterministic randomness.
pub fn ctx_at(now: UnixTime, rng: &SeededRandom) -> Ctx<'_> {
    Ctx::new(now, rng).with_client(Some("192.0.2.10".into()), Some("test".into()))
}

// ---------------------------------------------------------------------------
// A real SMTP server for tests.

/// The workspace root (where `tests/smtp/requirements.txt` lives).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The virtual environment with aiosmtpd, created on first use from
/// `tests/smtp/requirements.txt` (`scripts/lib/smtp.sh` makes the same one).
/// A lock file keeps concurrent test binaries from building it twice; a
/// marker holding the requirements it was built from says it is complete.
pub fn smtp_venv() -> PathBuf {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let root = workspace_root();
        let tools = root.join("target/test-tools");
        let venv = tools.join("smtp-venv");
        let requirements_path = root.join("tests/smtp/requirements.txt");
        let requirements =
            std::fs::read(&requirements_path).expect("tests/smtp/requirements.txt readable");
        let marker = venv.join(".keyward-requirements");
        let ready = || {
            venv.join("bin/python").exists()
                && std::fs::read(&marker).is_ok_and(|m| m == requirements)
        };
        if ready() {
            return venv;
        }
        std::fs::create_dir_all(&tools).expect("create target/test-tools");
        let lock = std::fs::File::create(tools.join("smtp-venv.lock")).expect("lock file");
        lock.lock().expect("lock the SMTP venv");
        if !ready() {
            let _ = std::fs::remove_dir_all(&venv);
            run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
            run(Command::new(venv.join("bin/python"))
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "-q",
                    "-r",
                ])
                .arg(&requirements_path));
            std::fs::write(&marker, &requirements).expect("write the venv marker");
        }
        drop(lock);
        venv
    })
    .clone()
}

fn run(command: &mut Command) {
    let output = command.output().expect("start a command");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A message the capture received, parsed.
#[derive(Debug, Clone)]
pub struct CapturedMail {
    /// The envelope recipients (`RCPT TO`).
    pub envelope_to: Vec<String>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub message_id: Option<String>,
    /// The text/plain part, if there is one.
    pub text: Option<String>,
    /// The text/html part, if there is one.
    pub html: Option<String>,
    pub raw: String,
}

/// Parses one raw message (an `.eml` file or a Maildir entry).
pub fn parse_mail(raw: &[u8]) -> CapturedMail {
    let message = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a parseable message");
    let first = |address: Option<&mail_parser::Address<'_>>| {
        address
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_owned()
    };
    let header_text = |name: &str| {
        message
            .header(name)
            .and_then(|v| v.as_text())
            .map(str::to_owned)
    };
    CapturedMail {
        envelope_to: header_text("X-RcptTo")
            .map(|v| v.split(',').map(|a| a.trim().to_owned()).collect())
            .unwrap_or_default(),
        from: first(message.from()),
        to: first(message.to()),
        subject: message.subject().unwrap_or_default().to_owned(),
        message_id: message.message_id().map(str::to_owned),
        text: message
            .text_part(0)
            .filter(|p| p.is_text() && !p.is_text_html())
            .and_then(|p| p.text_contents())
            .map(str::to_owned),
        html: message
            .html_part(0)
            .filter(|p| p.is_text_html())
            .and_then(|p| p.text_contents())
            .map(str::to_owned),
        raw: String::from_utf8_lossy(raw).into_owned(),
    }
}

/// A real SMTP server on 127.0.0.1 (aiosmtpd with its Maildir handler) for
/// the tests: no mocks, the same protocol a school's relay speaks. Stopped
/// and started again on the same port to play an outage; killed on drop.
pub struct SmtpCapture {
    python: PathBuf,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl SmtpCapture {
    /// Starts a server on a free port and waits until it accepts connections.
    pub fn start() -> SmtpCapture {
        let python = smtp_venv().join("bin/python");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut capture = SmtpCapture {
            python,
            port,
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
        };
        capture.spawn();
        capture
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("aiosmtpd.log")
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("aiosmtpd log file");
        let child = Command::new(&self.python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start aiosmtpd");
        self.child = Some(child);
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("aiosmtpd exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on port {} within 30s: {}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(self.log_path()) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// Stops the server (an SMTP outage); messages received so far are kept.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Every message received so far, in the order the server wrote them.
    pub fn messages(&self) -> Vec<CapturedMail> {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(entries) = std::fs::read_dir(self.maildir().join(sub)) {
                files.extend(entries.flatten().map(|e| e.path()));
            }
        }
        files.sort();
        files
            .iter()
            .map(|path| parse_mail(&std::fs::read(path).expect("read a Maildir file")))
            .collect()
    }

    /// Waits (up to `timeout`) until at least `count` messages arrived.
    pub async fn wait_for_messages(&self, count: usize, timeout: Duration) -> Vec<CapturedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() >= deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpCapture {
    fn drop(&mut self) {
        self.stop();
    }
}
