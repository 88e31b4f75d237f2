//! The database: one connection pool over SQLite or PostgreSQL (sqlx's `Any`
//! driver), chosen by the URL's scheme, and the two migration trees. The same
//! SQL runs on both; statements that truly differ are written twice, here or in
//! a capability's `store.rs`. Times are BIGINT unix seconds, ids TEXT, flags
//! SMALLINT 0/1, because `Any` carries only those types on both backends.

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::path::Path;
use std::sync::Once;

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
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| StoreError::Connect(crate::settings::mask_url_password(&e.to_string())))?;
        Ok(Db { pool, backend })
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
    /// transaction starts it here.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, Internal> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
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
