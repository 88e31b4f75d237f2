//! keyward under test: builds the release binary, starts `keyward demo` on a
//! free loopback port with a fresh SQLite file or PostgreSQL database, waits
//! for `/readyz`, seeds learners, staff and classes through keyward's own
//! API, and stops it with SIGTERM.

use std::path::PathBuf;
use std::time::Duration;

use crate::Db;

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

/// A running `keyward demo`; stopped when dropped (SIGTERM), its database
/// (file or PostgreSQL database) removed.
pub struct KeywardServer {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    pub pid: u32,
    /// From spawning the process to the first 200 from `/readyz`.
    pub ready_after: Duration,
}

/// A signed-in session's headers (cookie and CSRF token), to add to requests.
#[derive(Debug, Clone)]
pub struct Session {
    pub headers: Vec<(String, String)>,
}

impl KeywardServer {
    pub async fn start(_options: &ServerOptions) -> anyhow::Result<KeywardServer> {
        anyhow::bail!("keyward is not started yet")
    }
}
