//! The database: one connection pool over SQLite or PostgreSQL (sqlx's `Any`
//! driver), chosen by the URL's scheme, and the two migration trees. The same
//! SQL runs on both; statements that truly differ are written twice, here or in
//! a capability's `store.rs`. Times are BIGINT unix seconds, ids TEXT, flags
//! SMALLINT 0/1, because `Any` carries only those types on both backends.
//!
//! The pool knows when the database is away (`Db::is_down`): a request that
//! found it unreachable, or that waits suspiciously long, asks for a probe
//! (`Db::suspect`), a direct connection outside the pool; while probes fail,
//! requests are refused at once instead of each waiting
//! `database.acquire_timeout` for a connection, and a probe every
//! [`PROBE_INTERVAL`] clears the flag as soon as the database answers. A
//! connection handed back still inside a transaction is closed, not reused
//! (see `reusable`).
//!
//! On SQLite the writers of one process take turns ([`Db::write_turn`]):
//! SQLite has one writer at a time, and a writer that finds the file locked
//! sleeps in SQLite's busy handler (1, 2, 5, 10, 15, 20, 25 ms …) however
//! soon the lock is free again; waiting for its turn in the process instead
//! wakes it the moment the previous writer is done. The busy timeout still
//! rules between processes (a second instance, the CLI).

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor};
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};
use tokio::sync::watch;

use crate::error::Internal;
use crate::settings::{Backend, DatabaseSettings};

/// The migrations of each backend, embedded in the binary. Both trees hold the
/// same version names (a test checks it).
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database.url: unknown scheme (use sqlite:// or postgres://)")]
    UnknownScheme,
    #[error("cannot create the data directory {path}: {cause}")]
    DataDir { path: String, cause: String },
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database migration failed: {0}")]
    Migrate(String),
}

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    health: Arc<Health>,
    /// On SQLite, the turn to write of this process's writers.
    write_gate: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// How long SQLite waits for another process's write lock (its busy
/// timeout), and a writer of this process for its turn.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A writer's turn on SQLite (see [`Db::write_turn`]); the next writer's
/// begins when it is dropped.
#[must_use = "the turn ends when it is dropped"]
pub struct WriteTurn {
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// A transaction that may write ([`Db::begin_write`]): the connection it runs
/// on, with `commit` and `rollback`; dropped, it rolls back. On SQLite it
/// holds this process's turn to write until then.
pub struct WriteTx {
    // Declared before the turn: dropped first, so its rollback is queued
    // before the next writer begins.
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: WriteTurn,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// How often a probe tries to reach a database that is down.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// The longest a probe waits for a connection.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// After a probe connected, how long further suspicions are not probed: a
/// busy server's slow requests must not open a connection each.
const PROBE_QUIET: Duration = Duration::from_secs(1);

/// What the clones of a [`Db`] know of the database's reachability.
struct Health {
    /// The last probe could not connect; requests in flight watch it.
    down: watch::Sender<bool>,
    /// A probe is running.
    probing: AtomicBool,
    /// When a probe last connected.
    reached_at: Mutex<Option<Instant>>,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            down: watch::Sender::new(false),
            probing: AtomicBool::new(false),
            reached_at: Mutex::new(None),
        }
    }
}

impl Db {
    /// Opens the pool. SQLite files (and their folder) are created when missing;
    /// every SQLite connection gets WAL, foreign keys and a busy timeout.
    pub async fn connect(settings: &DatabaseSettings) -> Result<Db, StoreError> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(install_default_drivers);
        let backend = Backend::of_url(&settings.url).ok_or(StoreError::UnknownScheme)?;
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(&settings.url)?,
            Backend::Postgres => settings.url.clone(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        let busy =
                            format!("PRAGMA busy_timeout = {}", SQLITE_BUSY_TIMEOUT.as_millis());
                        conn.execute(sqlx::AssertSqlSafe(busy)).await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .after_release(|conn, _meta| Box::pin(reusable(conn)))
            .connect(&url)
            .await
            .map_err(|e| StoreError::Connect(crate::settings::mask_url_password(&e.to_string())))?;
        Ok(Db {
            pool,
            backend,
            health: Arc::default(),
            write_gate: (backend == Backend::Sqlite).then(Arc::default),
        })
    }

    /// Brings the schema up to date. Safe to run on every start and on several
    /// instances at once (sqlx takes a lock on PostgreSQL).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that may write. On SQLite it starts as the writer
    /// (`BEGIN IMMEDIATE`), so it waits for the write lock under the busy
    /// timeout instead of failing with "database is locked" when it first
    /// writes after reading; reads outside it stay concurrent (WAL). On
    /// PostgreSQL it is a plain `BEGIN`. Every use case that writes in a
    /// transaction starts it here; on SQLite it waits for this process's
    /// turn to write first ([`Db::write_turn`]).
    pub async fn begin_write(&self) -> Result<WriteTx, Internal> {
        let turn = self.write_turn().await?;
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx { tx, _turn: turn })
    }

    /// On SQLite, waits for this process's turn to write (first come, first
    /// served) and holds it until the turn is dropped; at once on PostgreSQL,
    /// whose writers need no turns. A statement that writes outside
    /// [`Db::begin_write`] runs while it holds one. Waiting longer than the
    /// busy timeout is contention (`database_unavailable`), as SQLite's own
    /// "database is locked" would be. Never ask for a second turn while
    /// holding one.
    pub async fn write_turn(&self) -> Result<WriteTurn, Internal> {
        let Some(gate) = &self.write_gate else {
            return Ok(WriteTurn { _turn: None });
        };
        match tokio::time::timeout(SQLITE_BUSY_TIMEOUT, gate.clone().lock_owned()).await {
            Ok(turn) => Ok(WriteTurn { _turn: Some(turn) }),
            Err(_) => Err(Internal::contention(format!(
                "waited {} s for this process's turn to write to SQLite",
                SQLITE_BUSY_TIMEOUT.as_secs()
            ))),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers (for `/readyz`): at once no while it is
    /// known to be down; a failure asks for a probe.
    pub async fn ping(&self) -> bool {
        if self.is_down() {
            return false;
        }
        let answered = sqlx::query("SELECT 1").execute(&self.pool).await.is_ok();
        if !answered {
            self.suspect();
        }
        answered
    }

    /// Whether the database is known to be unreachable: the last probe's
    /// direct connection failed. Callers refuse work at once (503) rather
    /// than wait for the pool's acquire timeout.
    pub fn is_down(&self) -> bool {
        *self.health.down.borrow()
    }

    /// Completes when the database is known to be down (at once if it is):
    /// a request waiting for it can give up.
    pub async fn went_down(&self) {
        let mut down = self.health.down.subscribe();
        // The sender lives as long as `self`, so this only ends when down.
        let _ = down.wait_for(|down| *down).await;
    }

    /// Reports that an operation found the database unavailable, or waits
    /// suspiciously long. Unless a probe runs already, or one connected in
    /// the last [`PROBE_QUIET`], one starts: it connects outside the pool,
    /// marks the database down while that fails and tries again every
    /// [`PROBE_INTERVAL`], and ends when a connection succeeds (at once when
    /// the cause was contention or a busy pool, not an absent database).
    pub fn suspect(&self) {
        let recently_reached = self
            .health
            .reached_at
            .lock()
            .is_ok_and(|at| at.is_some_and(|at| at.elapsed() < PROBE_QUIET));
        if recently_reached || self.health.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let db = self.clone();
        tokio::spawn(async move {
            db.probe_until_reachable().await;
            db.health.probing.store(false, Ordering::Release);
        });
    }

    async fn probe_until_reachable(&self) {
        while !self.pool.is_closed() {
            if self.reachable().await {
                if let Ok(mut at) = self.health.reached_at.lock() {
                    *at = Some(Instant::now());
                }
                if self.health.down.send_replace(false) {
                    tracing::info!("the database answers again");
                }
                return;
            }
            if !self.health.down.send_replace(true) {
                tracing::warn!(
                    "the database cannot be reached: requests are answered 503 at once until it answers"
                );
            }
            tokio::time::sleep(PROBE_INTERVAL).await;
        }
    }

    /// Whether a new connection can be made now. Only a server that cannot
    /// be reached or is starting or stopping counts as unreachable; any
    /// other refusal (too many connections, a bad password) would not be
    /// cured by refusing requests.
    async fn reachable(&self) -> bool {
        let options = self.pool.connect_options();
        let timeout = self.pool.options().get_acquire_timeout().min(PROBE_TIMEOUT);
        match tokio::time::timeout(timeout, options.connect()).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                true
            }
            Ok(Err(err)) => !crate::error::is_unreachable(&err),
            Err(_) => false,
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Whether a connection handed back to the pool may be lent again: not while
/// sqlx still counts a transaction open on it. That happens when a COMMIT or
/// ROLLBACK failed: on a full disk SQLite rolls the transaction back by
/// itself, the ROLLBACK that follows fails ("no transaction is active") and
/// sqlx's count stays at one, so every later `BEGIN IMMEDIATE` on that
/// connection would be refused. Such a connection is closed and the pool
/// opens a fresh one. A rollback still queued on SQLite's worker thread is
/// waited for first (a ping runs after it).
async fn reusable(conn: &mut AnyConnection) -> Result<bool, sqlx::Error> {
    if conn.is_in_transaction() {
        conn.ping().await?;
    }
    Ok(!conn.is_in_transaction())
}

/// Makes sure the folder exists and the file will be created.
fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url
        .split_once(':')
        .map(|(_, rest)| rest.trim_start_matches("//"))
        .unwrap_or_default();
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_owned());
    }
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|e| StoreError::DataDir {
            path: parent.display().to_string(),
            cause: e.to_string(),
        })?;
    }
    Ok(match query {
        Some(query) if query.contains("mode=") => url.to_owned(),
        Some(_) => format!("{url}&mode=rwc"),
        None => format!("{url}?mode=rwc"),
    })
}

/// Whether a database error is a unique-constraint violation (a name taken
/// between our check and our insert).
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl From<StoreError> for Internal {
    fn from(err: StoreError) -> Self {
        Internal::new(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn versions(dir: &str) -> BTreeSet<String> {
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn both_migration_trees_have_the_same_versions() {
        let sqlite = versions("migrations/sqlite");
        let postgres = versions("migrations/postgres");
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
    }

    #[tokio::test]
    async fn unknown_scheme_is_refused() {
        let settings = DatabaseSettings {
            url: "mysql://localhost/x".into(),
            ..DatabaseSettings::default()
        };
        assert!(matches!(
            Db::connect(&settings).await,
            Err(StoreError::UnknownScheme)
        ));
    }

    /// A database nobody answers at (a closed port): the probe that a failed
    /// request starts marks it down, and `ping` then answers at once rather
    /// than wait for the pool's acquire timeout.
    #[tokio::test]
    async fn a_database_nobody_answers_is_marked_down_and_refused_at_once() {
        install_default_drivers();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .unwrap()
            .port();
        let pool = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy(&format!("postgres://nobody@127.0.0.1:{port}/none"))
            .unwrap();
        let db = Db {
            pool,
            backend: Backend::Postgres,
            health: Arc::default(),
            write_gate: None,
        };
        assert!(!db.is_down());
        db.suspect();
        let started = std::time::Instant::now();
        while !db.is_down() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "never marked down"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::timeout(Duration::from_secs(1), db.went_down())
            .await
            .expect("went_down completes once down");
        let started = std::time::Instant::now();
        assert!(!db.ping().await);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "ping waited for the pool"
        );
        db.close().await;
    }

    /// On SQLite, 32 writers of one process at once each take their turn:
    /// every one commits, none meets "database is locked", and a writer
    /// waits while another holds its turn.
    #[tokio::test]
    async fn writers_of_one_process_take_turns_on_sqlite() {
        let test = crate::testing::TestDb::sqlite().await;
        let db = &test.db;
        sqlx::query("CREATE TABLE turns (n BIGINT NOT NULL)")
            .execute(db.pool())
            .await
            .unwrap();
        let held = db.begin_write().await.unwrap();
        let waiting = tokio::spawn({
            let db = db.clone();
            async move { db.begin_write().await.map(drop) }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!waiting.is_finished(), "a second writer began meanwhile");
        held.commit().await.unwrap();
        waiting
            .await
            .unwrap()
            .expect("the second writer's turn came");

        let writers = (0..32_i64).map(|n| {
            let db = db.clone();
            tokio::spawn(async move {
                // Half in a transaction, half alone in their turn.
                if n % 2 == 0 {
                    let mut tx = db.begin_write().await?;
                    sqlx::query("INSERT INTO turns (n) VALUES ($1)")
                        .bind(n)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                } else {
                    let _turn = db.write_turn().await?;
                    sqlx::query("INSERT INTO turns (n) VALUES ($1)")
                        .bind(n)
                        .execute(db.pool())
                        .await?;
                }
                Ok::<_, Internal>(())
            })
        });
        for writer in futures_util::future::join_all(writers).await {
            writer.unwrap().expect("every writer commits");
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM turns")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(count, 32);
        test.db.close().await;
    }

    /// A writer that waits for its turn longer than the busy timeout is told
    /// contention (`database_unavailable`), as SQLite's own busy timeout
    /// would, instead of waiting on.
    #[tokio::test]
    async fn a_turn_waited_for_past_the_busy_timeout_is_contention() {
        let test = crate::testing::TestDb::sqlite().await;
        let held = test.db.begin_write().await.unwrap();
        // Only the turn is waited for below: the clock may jump.
        tokio::time::pause();
        let Err(err) = test.db.write_turn().await else {
            panic!("a second turn while the first is held");
        };
        assert!(err.is_database_unavailable(), "{}", err.cause());
        tokio::time::resume();
        drop(held);
        let _turn = test.db.write_turn().await.expect("the turn is free again");
    }

    /// PostgreSQL's writers need no turns: a turn is handed out at once
    /// even while a write transaction is open.
    #[tokio::test]
    async fn postgres_writers_take_no_turns() {
        let test = crate::testing::TestDb::new().await;
        if test.db.backend() != Backend::Postgres {
            return;
        }
        let _held = test.db.begin_write().await.unwrap();
        let _turn = tokio::time::timeout(Duration::from_secs(5), test.db.write_turn())
            .await
            .expect("no waiting on PostgreSQL")
            .unwrap();
    }

    /// Contention or a busy pool is not absence: a probe that connects
    /// leaves the database up.
    #[tokio::test]
    async fn a_probe_that_connects_leaves_the_database_up() {
        let test = crate::testing::TestDb::new().await;
        test.db.suspect();
        let started = std::time::Instant::now();
        while test.db.health.probing.load(Ordering::Acquire) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the probe never ended"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!test.db.is_down());
        assert!(test.db.ping().await);
    }

    /// SQLite may end a transaction by itself (a full disk does): sqlx's own
    /// ROLLBACK then fails and its count of open transactions stays at one.
    /// Lent again, that connection would refuse every `BEGIN IMMEDIATE`; it
    /// is closed instead.
    #[tokio::test]
    async fn a_connection_left_inside_a_transaction_is_not_lent_again() {
        let dir = tempfile::tempdir().unwrap();
        let settings = DatabaseSettings {
            url: format!("sqlite://{}/keyward.db", dir.path().display()),
            max_connections: 1,
            acquire_timeout: Duration::from_secs(10),
        };
        let db = Db::connect(&settings).await.unwrap();
        {
            let mut tx = db.begin_write().await.unwrap();
            sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
        }
        for _ in 0..3 {
            let tx = db.begin_write().await.expect("a write transaction");
            tx.commit().await.unwrap();
        }
        db.close().await;
    }

    #[tokio::test]
    async fn sqlite_connections_use_wal_foreign_keys_and_busy_timeout() {
        let db = crate::testing::TestDb::sqlite().await;
        if db.db.backend() != Backend::Sqlite {
            return;
        }
        let mut conn = db.db.pool().acquire().await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(mode.to_lowercase(), "wal");
        assert_eq!(fk, 1);
        assert_eq!(busy, 5000);
    }
}
