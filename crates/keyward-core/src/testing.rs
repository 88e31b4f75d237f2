//! Test support shared by the core's and the web crate's tests: a fresh
//! database per test (SQLite in a temporary folder, or a new PostgreSQL
//! database when `KEYWARD_TEST_POSTGRES_URL` is set, dropped afterwards), a
//! `Keyward` with cheap hashing, and a fixed clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::Connection;
use std::sync::Arc;
use std::time::Duration;

use crate::crypto::random::SeededRandom;
use crate::settings::{DatabaseSettings, HashingSettings, Settings};
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
    _dir: Option<tempfile::TempDir>,
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
            _dir: Some(dir),
            postgres: None,
        }
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
            _dir: None,
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

/// Settings for tests: defaults with cheap hashing, pointing at `db`.
pub fn settings_for(db: &TestDb) -> Settings {
    let mut settings = Settings::default();
    settings.database.url = db.url.clone();
    settings.hashing = cheap_hashing();
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
