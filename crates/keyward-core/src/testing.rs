//! Test support shared by the core's and the web crate's tests: a fresh
//! database per test (SQLite in a temporary folder, or a new PostgreSQL
//! database when `KEYWARD_TEST_POSTGRES_URL` is set, dropped afterwards) with
//! its own data directory, a `Keyward` with cheap hashing, a fixed clock, the
//! demo school seeded with [`DEMO_PASSWORD`] and its people and classes looked
//! up by name ([`demo_keyward`], [`actor_named`]…), and [`SmtpCapture`], a
//! real SMTP server (Python's aiosmtpd) that keeps every message it receives
//! in a Maildir and can be stopped, stalled and started again on its port.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sqlx::Connection;
use std::collections::BTreeMap;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::accounts::Account;
use crate::admin::{CreatedUser, NewPendingUser};
use crate::authz::{Actor, Permission, PermissionSet};
use crate::demo::DEMO_PEOPLE;
use crate::settings::{
    DatabaseSettings, HashingSettings, MailTransportKind, Settings, SmtpSecurity,
};
use crate::store::Db;
use crate::types::random::SeededRandom;
use crate::types::{ClassId, Password, Role, UnixTime, UserId, Username};
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
        // Below OWASP's minimum on purpose: tests hash thousands of times.
        allow_weak: true,
    }
}

/// Settings for tests: defaults with cheap hashing, pointing at `db` and its
/// own data directory (so file-transport mail lands there), single sign-on
/// allowed to reach loopback providers.
pub fn settings_for(db: &TestDb) -> Settings {
    let mut settings = Settings::default();
    settings.database.url = db.url.clone();
    settings.server.data_dir = db.data_dir().to_path_buf();
    settings.hashing = cheap_hashing();
    // The test OpenID providers run on loopback.
    settings.sso.allow_private_addresses = true;
    settings.validate().expect("test settings valid")
}

/// A second keyward instance on `db` (its own pool, the same settings and
/// sealing key), as a second process behind a load balancer would be: every
/// promise must hold across the two.
pub async fn second_instance(db: &TestDb) -> Arc<Keyward> {
    let settings = settings_for(db);
    let second_db = Db::connect(&settings.database)
        .await
        .expect("connect the second instance");
    Keyward::new(second_db, settings, &SeededRandom::new(8)).expect("a second instance")
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

/// A context at [`MONDAY_MORNING`] for use cases that only read (and may
/// audit a refusal or a reveal): no randomness is drawn from it.
pub fn view_ctx() -> Ctx<'static> {
    Ctx::new(MONDAY_MORNING, &crate::types::random::OsRandom)
        .with_client(Some("192.0.2.10".into()), Some("test".into()))
}

/// A context at `now` with deterministic randomness.
pub fn ctx_at(now: UnixTime, rng: &SeededRandom) -> Ctx<'_> {
    Ctx::new(now, rng).with_client(Some("192.0.2.10".into()), Some("test".into()))
}

// ---------------------------------------------------------------------------
// The demo school, for use-case tests.

/// The password every demo person is seeded with by [`demo_keyward`].
pub const DEMO_PASSWORD: &str = "DemoPass42";

/// Every demo person's username with `password`, as `seed_demo` takes them.
pub fn demo_passwords(password: &str) -> BTreeMap<String, Password> {
    DEMO_PEOPLE
        .iter()
        .map(|p| (p.username.to_owned(), Password::from(password)))
        .collect()
}

/// Seeds the demo school into `kw` at [`MONDAY_MORNING`], every demo person
/// with [`DEMO_PASSWORD`]; for a `Keyward` a test built with its own settings.
pub async fn seed_demo_people(kw: &Keyward, rng: &SeededRandom) {
    kw.seed_demo(&ctx_at(MONDAY_MORNING, rng), &demo_passwords(DEMO_PASSWORD))
        .await
        .expect("seed the demo school");
}

/// [`keyward`] with the demo school seeded (see [`seed_demo_people`]), and
/// the test's randomness, `SeededRandom::new(seed)`, which seeded it.
pub async fn demo_keyward(seed: u64) -> (Arc<Keyward>, TestDb, SeededRandom) {
    let (kw, db) = keyward().await;
    let rng = SeededRandom::new(seed);
    seed_demo_people(&kw, &rng).await;
    (kw, db, rng)
}

/// The account of `username`, which must exist.
pub async fn account_named(kw: &Keyward, username: &str) -> Account {
    kw.find_account_by_username(&Username::parse(username).expect("a valid username"))
        .await
        .expect("look the account up")
        .unwrap_or_else(|| panic!("no account {username}"))
}

/// The actor of `username` (role, school, grants and classes as stored).
pub async fn actor_named(kw: &Keyward, username: &str) -> Actor {
    kw.actor_of(&account_named(kw, username).await)
        .await
        .expect("load the actor")
}

/// Class 4B, the class the demo teacher teaches.
pub async fn demo_class(kw: &Keyward) -> ClassId {
    actor_named(kw, "demo.teacher")
        .await
        .classes
        .first()
        .cloned()
        .expect("the demo teacher teaches a class")
}

/// Whether `username` signs in with `password` at [`MONDAY_MORNING`].
pub async fn signs_in(kw: &Keyward, rng: &SeededRandom, username: &str, password: &str) -> bool {
    kw.sign_in(&ctx_at(MONDAY_MORNING, rng), username, password.into())
        .await
        .is_ok()
}

/// A pending user `first last` with `role`, made by `by` in `by`'s school
/// and in `classes`, with no email.
pub async fn create_pending_user(
    kw: &Keyward,
    ctx: &Ctx<'_>,
    by: &Actor,
    role: Role,
    (first_name, last_name): (&str, &str),
    classes: &[ClassId],
) -> CreatedUser {
    kw.create_user(
        ctx,
        by,
        &NewPendingUser {
            first_name: first_name.into(),
            last_name: last_name.into(),
            role,
            school_id: by.school_id.clone(),
            class_ids: classes.to_vec(),
            email: None,
        },
    )
    .await
    .expect("create a pending user")
}

/// A second teacher of `lead`'s school (Ola Nowak, still pending), as an
/// actor who teaches no class yet.
pub async fn another_teacher(kw: &Keyward, ctx: &Ctx<'_>, lead: &Actor) -> Actor {
    let created = create_pending_user(kw, ctx, lead, Role::Teacher, ("Ola", "Nowak"), &[]).await;
    Actor {
        user_id: created.id,
        role: Role::Teacher,
        school_id: lead.school_id.clone(),
        granted: PermissionSet::EMPTY,
        classes: Vec::new(),
        token: None,
        second_factor_at_provider: false,
    }
}

/// An actor with `role` in a new school made by `admin` (Hill Top Academy),
/// acting as the existing user `user_id`: staff of another school.
pub async fn staff_of_another_school(
    kw: &Keyward,
    ctx: &Ctx<'_>,
    admin: &Actor,
    user_id: UserId,
    role: Role,
) -> Actor {
    let elsewhere = kw
        .create_school(ctx, admin, "Hill Top Academy")
        .await
        .expect("create a second school");
    Actor {
        user_id,
        role,
        school_id: Some(elsewhere.id),
        granted: PermissionSet::EMPTY,
        classes: Vec::new(),
        token: None,
        second_factor_at_provider: false,
    }
}

/// Gives `username` `permissions` through a new custom role of `lead`'s
/// school (the way a learner comes to hold more than their teacher).
pub async fn grant_through_custom_role(
    kw: &Keyward,
    ctx: &Ctx<'_>,
    lead: &Actor,
    username: &str,
    permissions: &[Permission],
) {
    let school = lead.school_id.clone().expect("a school's lead teacher");
    let role = kw
        .create_custom_role(ctx, lead, &school, "Helpers", permissions)
        .await
        .expect("create a custom role");
    let user = account_named(kw, username).await;
    kw.grant_custom_role(ctx, lead, &user.id, &role.id)
        .await
        .expect("grant the custom role");
}

/// Signs `username` in with `current` and changes their own password to
/// `new` (typed twice), as they would in Account Settings.
pub async fn change_own_password_as(
    kw: &Keyward,
    ctx: &Ctx<'_>,
    username: &str,
    current: &str,
    new: &str,
) {
    let signed_in = kw
        .sign_in(ctx, username, current.into())
        .await
        .expect("sign in")
        .complete()
        .expect("signed in without a second step");
    let session = kw
        .current_session(ctx, &signed_in.session_token)
        .await
        .expect("read the session")
        .expect("a live session");
    kw.change_own_password(
        ctx,
        &session,
        &signed_in.session_token,
        current.into(),
        new.into(),
        &new.into(),
    )
    .await
    .expect("change the password");
}

/// One person for [`insert_many_users`].
pub struct BulkUser {
    pub role: Role,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub status: crate::accounts::AccountStatus,
    /// An authenticator app, switched on.
    pub authenticator_app: bool,
}

/// Inserts `count` people into `school` with multi-row INSERTs of 500 rows
/// (a school of 10,000 in seconds), person `i` as `person(i)` makes them:
/// username `bulk.NNNNN`, a placeholder username while pending, an unusable
/// password hash when not pending. Returns their ids, in order of `i`.
pub async fn insert_many_users(
    kw: &Keyward,
    school: &crate::types::SchoolId,
    count: usize,
    person: impl Fn(usize) -> BulkUser,
) -> Vec<UserId> {
    use crate::accounts::AccountStatus;
    const CHUNK: usize = 500;
    let ids: Vec<UserId> = (0..count)
        .map(|i| UserId::from_stored(format!("00000000-0000-4000-8000-{i:012}")))
        .collect();
    let mut tx = kw.db().begin_write().await.expect("begin");
    for start in (0..count).step_by(CHUNK) {
        let people: Vec<(usize, BulkUser)> = (start..count.min(start + CHUNK))
            .map(|i| (i, person(i)))
            .collect();
        let mut sql = String::from(
            "INSERT INTO users (id, school_id, role, username, username_key, email, email_key, \
             first_name, last_name, status, password_hash, created_at) VALUES ",
        );
        let columns = 12;
        for (row, _) in people.iter().enumerate() {
            let first = row * columns;
            let marks: Vec<String> = (1..=columns).map(|c| format!("${}", first + c)).collect();
            sql.push_str(if row == 0 { "(" } else { ", (" });
            sql.push_str(&marks.join(", "));
            sql.push(')');
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (i, p) in &people {
            let id = &ids[*i];
            let username = if p.status == AccountStatus::Pending {
                crate::admin::pending_username(id).to_string()
            } else {
                format!("bulk.{i:05}")
            };
            query = query
                .bind(id.as_str().to_owned())
                .bind(school.as_str().to_owned())
                .bind(p.role.as_str())
                .bind(username.clone())
                .bind(username.to_lowercase())
                .bind(p.email.clone())
                .bind(p.email.as_ref().map(|e| e.to_lowercase()))
                .bind(p.first_name.clone())
                .bind(p.last_name.clone())
                .bind(p.status.as_str())
                .bind((p.status != AccountStatus::Pending).then_some("not-a-hash"))
                .bind(MONDAY_MORNING.secs());
        }
        query.execute(&mut *tx).await.expect("insert users");
        for (i, p) in &people {
            if p.authenticator_app {
                sqlx::query(
                    "INSERT INTO mfa_totp (user_id, sealed_id, created_at, confirmed_at) \
                     VALUES ($1, 'none', $2, $2)",
                )
                .bind(ids[*i].as_str())
                .bind(MONDAY_MORNING.secs())
                .execute(&mut *tx)
                .await
                .expect("switch an authenticator app on");
            }
        }
    }
    tx.commit().await.expect("commit");
    ids
}

/// Moves the expiry of `username`'s temporary password (R-ADM-3) an hour
/// into the past, as if a day had gone by.
pub async fn expire_temporary_password(kw: &Keyward, username: &str) {
    let account = account_named(kw, username).await;
    sqlx::query(
        "UPDATE users SET password_must_change_by = $1 WHERE id = $2 \
         AND password_must_change_by IS NOT NULL",
    )
    .bind(UnixTime::now().secs() - 3600)
    .bind(account.id.as_str())
    .execute(kw.db().pool())
    .await
    .expect("expire the temporary password");
}

/// How many sealed copies of learner passwords the database holds.
pub async fn kept_learner_passwords(kw: &Keyward) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sealed_secrets WHERE purpose = 'learner_password'")
        .fetch_one(kw.db().pool())
        .await
        .expect("count sealed learner passwords")
}

/// Connects a single sign-on provider called `name` to the demo school, as
/// its lead teacher would (`Keyward::add_sso_provider`, as the operator).
pub async fn demo_sso_provider(kw: &Keyward, name: &str) -> crate::sso::SsoProviderId {
    let lead = actor_named(kw, "demo.lead").await;
    let school = lead.school_id.clone().expect("the demo school");
    let ctx = Ctx::new(MONDAY_MORNING, &crate::types::random::OsRandom);
    let new = crate::sso::NewSsoProvider {
        name: name.into(),
        issuer: "https://accounts.google.com".into(),
        client_id: "1234.apps.googleusercontent.com".into(),
        client_secret: zeroize::Zeroizing::new("s3cr3t-from-the-provider".into()),
        scopes: None,
        claim: None,
        roles: None,
        jit_roles: None,
        trust_mfa: false,
    };
    // As the operator: the lead teacher would need two-step verification of
    // their own, and tests of other rules want them without it.
    kw.add_sso_provider(&ctx, &Keyward::operator_actor(), &school, new)
        .await
        .expect("connect a provider")
        .id
}

/// Gives `user` an authenticator app that is on (a confirmed row whose
/// secret no test knows): for rules that ask whether one has a second
/// factor of their own, such as connecting a sign-in provider.
pub async fn give_second_factor(kw: &Keyward, user: &UserId) {
    sqlx::query(
        "INSERT INTO mfa_totp (user_id, sealed_id, created_at, confirmed_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (user_id) DO UPDATE SET confirmed_at = $3",
    )
    .bind(user.as_str())
    .bind(format!("test-{user}"))
    .bind(MONDAY_MORNING.secs())
    .execute(kw.db().pool())
    .await
    .expect("turn on an authenticator app");
}

/// Links `user` to `provider` as its `subject`, linked at [`MONDAY_MORNING`]
/// (the sign-in flow makes links; tests of what links mean make them here).
pub async fn link_sso(
    kw: &Keyward,
    provider: &crate::sso::SsoProviderId,
    subject: &str,
    user: &UserId,
) {
    sqlx::query(
        "INSERT INTO sso_links (provider_id, subject, user_id, linked_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(provider.as_str())
    .bind(subject)
    .bind(user.as_str())
    .bind(MONDAY_MORNING.secs())
    .execute(kw.db().pool())
    .await
    .expect("link a person to a provider");
}

/// Removes `user`'s keyward password (and any sealed copy), as a person
/// made just in time by single sign-on has none.
pub async fn remove_password(kw: &Keyward, user: &UserId) {
    sqlx::query(
        "UPDATE users SET password_hash = NULL, password_sealed_id = NULL, password_set_by = NULL \
         WHERE id = $1",
    )
    .bind(user.as_str())
    .execute(kw.db().pool())
    .await
    .expect("remove the password");
}

/// Makes `username` SSO-only: linked to `provider` (subject: the username)
/// and without a keyward password. Returns their account.
pub async fn make_sso_only(
    kw: &Keyward,
    provider: &crate::sso::SsoProviderId,
    username: &str,
) -> Account {
    let account = account_named(kw, username).await;
    link_sso(kw, provider, username, &account.id).await;
    remove_password(kw, &account.id).await;
    account
}

/// The actions of the newest `limit` audit rows, newest first.
pub async fn audited_actions(kw: &Keyward, limit: i64) -> Vec<String> {
    crate::audit::recent(kw.db(), limit)
        .await
        .expect("read the audit log")
        .into_iter()
        .map(|row| row.action)
        .collect()
}

/// A CSV file (with a header row) read back: the header and every record.
pub fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .expect("a CSV header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
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

    /// How many messages arrived so far, without reading them.
    pub fn count(&self) -> usize {
        ["new", "cur"]
            .iter()
            .map(|sub| std::fs::read_dir(self.maildir().join(sub)).map_or(0, Iterator::count))
            .sum()
    }

    /// Stalls the server (SIGSTOP): the system still accepts connections,
    /// but nobody greets them, as with a server that hangs; messages already
    /// received are kept. [`SmtpCapture::resume`] lets it answer again.
    pub fn pause(&self) {
        self.signal("STOP");
    }

    /// Lets a paused server answer again (SIGCONT), the waiting connections
    /// first.
    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, name: &str) {
        let child = self.child.as_ref().expect("aiosmtpd is running");
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} aiosmtpd failed");
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
