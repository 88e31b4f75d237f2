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
/// A database that does not answer is told apart: callers should fail fast
/// with "try again shortly" rather than report a bug.
pub struct Internal {
    cause: Box<dyn std::error::Error + Send + Sync + 'static>,
    database_unavailable: bool,
}

/// Seconds a client is asked to wait when the database does not answer.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 5;

impl Internal {
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Internal {
            cause: cause.into(),
            database_unavailable: false,
        }
    }

    /// Whether the cause is an unreachable database (pool timeout, closed
    /// pool, broken connection) rather than a bug.
    pub fn is_database_unavailable(&self) -> bool {
        self.database_unavailable
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
    /// `database_unavailable` for an unreachable database, else `internal`.
    fn code(&self) -> Code {
        if self.database_unavailable {
            Code::DatabaseUnavailable
        } else {
            Code::Internal
        }
    }

    fn retry_after_secs(&self) -> Option<u64> {
        self.database_unavailable
            .then_some(DATABASE_RETRY_AFTER_SECS)
    }
}

impl fmt::Debug for Internal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Internal({})", self.cause())
    }
}

impl fmt::Display for Internal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.database_unavailable {
            f.write_str("The database is not answering. Try again in a moment.")
        } else {
            f.write_str("Something went wrong on our side. Try again.")
        }
    }
}

impl std::error::Error for Internal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.cause)
    }
}

impl From<sqlx::Error> for Internal {
    fn from(err: sqlx::Error) -> Self {
        let database_unavailable = matches!(
            err,
            sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
        ) || is_contention(&err);
        Internal {
            cause: Box::new(err),
            database_unavailable,
        }
    }
}

/// Whether the database refused for contention rather than a bug: SQLite's
/// busy or locked (primary codes 5 and 6, also in their extended forms) after
/// the busy timeout, or PostgreSQL's serialization failure, deadlock, lock
/// timeout or connection limit. Such a request answers 503 with `Retry-After`.
fn is_contention(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = err else {
        return false;
    };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        let code = db.code().and_then(|c| c.parse::<i32>().ok());
        return code.is_some_and(|code| matches!(code & 0xff, 5 | 6));
    }
    if let Some(postgres) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return matches!(
            postgres.code(),
            "40001" | "40P01" | "55P03" | "53300" | "57P03"
        );
    }
    false
}
