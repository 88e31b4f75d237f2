//! One module per command. Each loads what it needs, calls the core, and
//! reports in a sentence.

pub mod admin;
pub mod check_config;
pub mod demo;
pub mod export;
pub mod import;
pub mod keys;
pub mod migrate;
pub mod serve;
pub mod token;
pub mod user;

use std::fmt;
use std::sync::Arc;

use keyward_core::Keyward;
use keyward_core::rotation::RotateError;
use keyward_core::settings::Settings;
use keyward_core::store::Db;
use keyward_core::types::UnixTime;
use keyward_core::types::random::OsRandom;

/// A command's failure: one line for the person at the terminal.
#[derive(Debug)]
pub enum CommandError {
    /// A setting is missing or wrong (exit code 2).
    Config(String),
    /// Anything else (exit code 1).
    Failed(String),
}

impl CommandError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Config(_) => 2,
            CommandError::Failed(_) => 1,
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Config(message) | CommandError::Failed(message) => f.write_str(message),
        }
    }
}

pub fn failed(err: impl fmt::Display) -> CommandError {
    CommandError::Failed(err.to_string())
}

/// Connects, migrates, builds the core and checks that its sealing keys are
/// the ones the database was first used with (several instances must share
/// them).
pub async fn open(settings: Settings) -> Result<Arc<Keyward>, CommandError> {
    let db = Db::connect(&settings.database).await.map_err(failed)?;
    db.migrate().await.map_err(failed)?;
    let kw = Keyward::new(db, settings, &OsRandom).map_err(|e| failed(e.cause()))?;
    match kw.check_sealing_keys(UnixTime::now()).await {
        Ok(()) => Ok(kw),
        Err(RotateError::Internal(err)) => Err(failed(err.cause())),
        Err(err) => Err(failed(err)),
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
