//! The shared vocabulary of failure: every capability's error enum maps each of
//! its cases to an [`ErrorKind`] (which the web layer turns into a status) and a
//! stable code (which clients may rely on). Internal causes are logged, never shown.

use std::fmt;

mod codes;

pub use codes::Code;

/// What kind of outcome an error is, independent of any transport; the web
/// layer gives each kind its one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request cannot be read (not JSON, an unreadable body).
    Malformed,
    /// The input is malformed or breaks a rule; nothing was changed.
    BadInput,
    /// Who is acting is unknown, or the credentials are wrong.
    Unauthenticated,
    /// The actor is known but may not do this.
    Forbidden,
    /// The thing does not exist, or the actor may not know it exists.
    NotFound,
    /// The address does not accept the method.
    MethodNotAllowed,
    /// The request conflicts with the current state (for example a taken name).
    Conflict,
    /// The thing existed but is no longer usable (an expired or used link).
    Gone,
    /// The request is larger than accepted.
    TooLarge,
    /// The request's content type is not accepted.
    UnsupportedMediaType,
    /// Too many attempts; try again after `retry_after_secs`.
    TooManyRequests,
    /// The server is overloaded or a dependency is down; try again later.
    Unavailable,
    /// A bug or an unexpected failure; the cause is logged, not shown.
    Internal,
}

/// Implemented by every capability's error enum.
pub trait CodedError: fmt::Display {
    /// The stable machine-readable code, from the one list ([`Code`]).
    fn code(&self) -> Code;

    /// The kind of outcome: the code's.
    fn kind(&self) -> ErrorKind {
        self.code().kind()
    }

    /// How long to wait before trying again, for the kinds that say so
    /// (`TooManyRequests`, `Unavailable`).
    fn retry_after_secs(&self) -> Option<u64> {
        None
    }

    /// Extra fields for a JSON error body, never a secret: for example the
    /// `violations` of a password that breaks the rules.
    fn details(&self) -> Vec<(&'static str, serde_json::Value)> {
        Vec::new()
    }
}

/// An unexpected failure with its cause chain. Its `Display` is generic so the
/// cause can never reach a client; log it with `{:?}` or [`Internal::cause`].
/// Two failures of the database that are not bugs are told apart: one that
/// does not answer (callers should fail fast with "try again shortly") and
/// one whose disk is full (nothing can be saved until an operator frees
/// space; reads still work).
pub struct Internal {
    cause: Box<dyn std::error::Error + Send + Sync + 'static>,
    trouble: Trouble,
}

/// What an [`Internal`] failure is, as far as a client is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trouble {
    /// A bug or a failure keyward cannot name: `internal`.
    Unexpected,
    /// The database does not answer, or refused for contention: `database_unavailable`.
    DatabaseUnavailable,
    /// The database's disk is full: `storage_full`.
    StorageFull,
}

/// Seconds a client is asked to wait when the database does not answer.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 5;

/// Seconds a client is asked to wait when the database's disk is full: an
/// operator has to free space, which takes longer than a restart.
pub const STORAGE_FULL_RETRY_AFTER_SECS: u64 = 30;

impl Internal {
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Internal {
            cause: cause.into(),
            trouble: Trouble::Unexpected,
        }
    }

    /// The database refused for contention, as keyward itself found it
    /// (`database_unavailable`, 503 with `Retry-After`).
    pub fn contention(
        cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Internal {
            cause: cause.into(),
            trouble: Trouble::DatabaseUnavailable,
        }
    }

    /// Whether the cause is an unreachable database (pool timeout, closed
    /// pool, broken connection, a server shutting down) or contention, rather
    /// than a bug.
    pub fn is_database_unavailable(&self) -> bool {
        self.trouble == Trouble::DatabaseUnavailable
    }

    /// Whether the cause is a database whose disk is full (SQLite's
    /// `SQLITE_FULL`, PostgreSQL's `disk_full`, 53100).
    pub fn is_storage_full(&self) -> bool {
        self.trouble == Trouble::StorageFull
    }

    /// Whether the cause is a foreign-key violation from the database (a
    /// row it names was deleted meanwhile).
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(
            self.cause.downcast_ref::<sqlx::Error>(),
            Some(sqlx::Error::Database(db)) if db.is_foreign_key_violation()
        )
    }

    /// The full cause chain, for the log.
    pub fn cause(&self) -> String {
        let mut text = self.cause.to_string();
        let mut source = self.cause.source();
        while let Some(err) = source {
            text.push_str(": ");
            text.push_str(&err.to_string());
            source = err.source();
        }
        text
    }
}

impl CodedError for Internal {
    /// `database_unavailable` for an unreachable database, `storage_full`
    /// for a full disk, else `internal`.
    fn code(&self) -> Code {
        match self.trouble {
            Trouble::Unexpected => Code::Internal,
            Trouble::DatabaseUnavailable => Code::DatabaseUnavailable,
            Trouble::StorageFull => Code::StorageFull,
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        match self.trouble {
            Trouble::Unexpected => None,
            Trouble::DatabaseUnavailable => Some(DATABASE_RETRY_AFTER_SECS),
            Trouble::StorageFull => Some(STORAGE_FULL_RETRY_AFTER_SECS),
        }
    }
}

impl fmt::Debug for Internal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Internal({})", self.cause())
    }
}

impl fmt::Display for Internal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.trouble {
            Trouble::Unexpected => "Something went wrong on our side. Try again.",
            Trouble::DatabaseUnavailable => "The database is not answering. Try again in a moment.",
            Trouble::StorageFull => {
                "Nothing can be saved right now: the server's storage is full. \
                 Try again later; if it lasts, tell your administrator."
            }
        })
    }
}

impl std::error::Error for Internal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.cause)
    }
}

impl From<sqlx::Error> for Internal {
    fn from(err: sqlx::Error) -> Self {
        let trouble = if is_storage_full(&err) {
            Trouble::StorageFull
        } else if matches!(
            err,
            sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
        ) || is_contention(&err)
            || is_connection_lost(&err)
        {
            Trouble::DatabaseUnavailable
        } else {
            Trouble::Unexpected
        };
        Internal {
            cause: Box::new(err),
            trouble,
        }
    }
}

/// The SQLite primary result code of a database error (the extended code's
/// low byte), if it is SQLite's.
fn sqlite_code(db: &dyn sqlx::error::DatabaseError) -> Option<i32> {
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    let code = db.code().and_then(|c| c.parse::<i32>().ok())?;
    Some(code & 0xff)
}

/// The SQLSTATE of a PostgreSQL error.
fn postgres_code(db: &dyn sqlx::error::DatabaseError) -> Option<&str> {
    db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .map(|postgres| postgres.code())
}

/// Whether the database's disk is full: SQLite's `SQLITE_FULL` (13) or
/// PostgreSQL's `disk_full` (53100).
fn is_storage_full(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = err else {
        return false;
    };
    sqlite_code(db.as_ref()) == Some(13) || postgres_code(db.as_ref()) == Some("53100")
}

/// Whether the database refused for contention rather than a bug: SQLite's
/// busy or locked (primary codes 5 and 6, also in their extended forms) after
/// the busy timeout, or PostgreSQL's serialization failure, deadlock, lock
/// timeout or connection limit. Such a request answers 503 with `Retry-After`.
fn is_contention(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = err else {
        return false;
    };
    if let Some(code) = sqlite_code(db.as_ref()) {
        return matches!(code, 5 | 6);
    }
    postgres_code(db.as_ref())
        .is_some_and(|code| matches!(code, "40001" | "40P01" | "55P03" | "53300"))
}

/// Whether a failed connection attempt shows the database server away (not
/// listening, cut off, starting up or shutting down), as opposed to one that
/// refused us (too many connections, a wrong password).
pub(crate) fn is_unreachable(err: &sqlx::Error) -> bool {
    matches!(
        err,
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut
    ) || is_connection_lost(err)
}

/// Whether PostgreSQL ended the connection or cannot take one now: an
/// administrator's or a crash's shutdown (57P01, 57P02), a server starting up
/// or shutting down (57P03), or a connection exception (class 08).
fn is_connection_lost(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = err else {
        return false;
    };
    postgres_code(db.as_ref())
        .is_some_and(|code| matches!(code, "57P01" | "57P02" | "57P03") || code.starts_with("08"))
}
