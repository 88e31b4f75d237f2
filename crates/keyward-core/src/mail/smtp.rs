//! SMTP delivery over connections keyward opens itself and reuses. lettre
//! speaks the protocol ([`AsyncSmtpConnection`]: EHLO, STARTTLS, AUTH, MAIL,
//! RCPT, DATA); this module owns the socket and the idle connections:
//!
//! - the TCP socket has `TCP_NODELAY`: lettre writes a message's final
//!   `\r\n.\r\n` as a small write of its own, which Nagle's algorithm would
//!   hold until the server's delayed ACK (~40 ms a message); lettre 0.11 has
//!   no setting for it, so keyward connects and hands lettre the stream;
//! - a connection that delivered is kept for the next message (one per
//!   message in flight at most); one idle for more than [`IDLE_CHECK_AFTER`]
//!   is probed with `NOOP` first, one idle for more than [`IDLE_MAX`] is
//!   closed (servers close idle clients), and every idle one is dropped after
//!   a failure.
//!
//! With `mail.smtp.security = "tls"` (TLS from the first byte) lettre opens
//! the socket itself, without `TCP_NODELAY`; reuse and sending in parallel
//! still apply.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;

use super::SendError;

/// An idle connection older than this is asked `NOOP` before it is reused.
const IDLE_CHECK_AFTER: Duration = Duration::from_secs(1);
/// An idle connection older than this is closed instead of reused.
const IDLE_MAX: Duration = Duration::from_secs(60);

/// How the connection is secured.
pub(crate) enum Security {
    Plain,
    /// `STARTTLS`, required.
    Starttls(TlsParameters),
    /// TLS from the first byte (SMTPS).
    Wrapper(TlsParameters),
}

/// Where and how to deliver.
pub(crate) struct SmtpServer {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Longest the TCP connect may take.
    pub(crate) connect_timeout: Duration,
    pub(crate) hello: ClientId,
    pub(crate) security: Security,
    pub(crate) credentials: Option<Credentials>,
}

struct Idle {
    connection: AsyncSmtpConnection,
    since: Instant,
}

/// Sends messages to one SMTP server, reusing up to `keep` idle connections.
pub(crate) struct SmtpSender {
    server: SmtpServer,
    keep: usize,
    idle: Mutex<Vec<Idle>>,
}

impl SmtpSender {
    pub(crate) fn new(server: SmtpServer, keep: usize) -> SmtpSender {
        SmtpSender {
            server,
            keep: keep.max(1),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Delivers one message on an idle connection or a new one; the
    /// connection is kept for the next message only if this one went out.
    pub(crate) async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), SendError> {
        let mut connection = match self.reusable().await {
            Some(connection) => connection,
            None => self.connect().await?,
        };
        match connection.send(envelope, message).await {
            Ok(_) => {
                self.keep_idle(connection);
                Ok(())
            }
            Err(err) => {
                // lettre already sent QUIT (or found the connection broken).
                self.forget_idle();
                Err(smtp_error(&err))
            }
        }
    }

    /// The most recently used idle connection that still answers, if any.
    async fn reusable(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let idle = self.lock_idle().pop()?;
            let age = idle.since.elapsed();
            let mut connection = idle.connection;
            if age > IDLE_MAX || connection.has_broken() {
                // Dropped without QUIT: a server gone silent must not hold
                // the sender up.
                continue;
            }
            if age <= IDLE_CHECK_AFTER || connection.test_connected().await {
                return Some(connection);
            }
        }
    }

    fn keep_idle(&self, connection: AsyncSmtpConnection) {
        let mut idle = self.lock_idle();
        if idle.len() < self.keep {
            idle.push(Idle {
                connection,
                since: Instant::now(),
            });
        }
    }

    fn forget_idle(&self) {
        self.lock_idle().clear();
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        // A panic while holding the lock leaves a plain Vec behind: still usable.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new connection: TCP (with `TCP_NODELAY`), greeting and EHLO, TLS as
    /// configured, then AUTH when there are credentials.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let server = &self.server;
        let mut connection = match &server.security {
            Security::Wrapper(tls) => AsyncSmtpConnection::connect_tokio1(
                (server.host.as_str(), server.port),
                Some(server.connect_timeout),
                &server.hello,
                Some(tls.clone()),
                None,
            )
            .await
            .map_err(|e| smtp_error(&e))?,
            Security::Plain | Security::Starttls(_) => {
                let stream = self.tcp_no_delay().await?;
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &server.hello)
                    .await
                    .map_err(|e| smtp_error(&e))?
            }
        };
        if let Security::Starttls(tls) = &server.security {
            connection
                .starttls(tls.clone(), &server.hello)
                .await
                .map_err(|e| smtp_error(&e))?;
        }
        if let Some(credentials) = &server.credentials {
            connection
                .auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(|e| smtp_error(&e))?;
        }
        Ok(connection)
    }

    async fn tcp_no_delay(&self) -> Result<TcpStream, SendError> {
        let server = &self.server;
        let connecting = TcpStream::connect((server.host.as_str(), server.port));
        let stream = match tokio::time::timeout(server.connect_timeout, connecting).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                return Err(SendError::Transient(format!("smtp: cannot connect: {err}")));
            }
            Err(_) => {
                return Err(SendError::Transient(format!(
                    "smtp: connecting took longer than {}s",
                    server.connect_timeout.as_secs()
                )));
            }
        };
        stream
            .set_nodelay(true)
            .map_err(|e| SendError::Transient(format!("smtp: cannot set TCP_NODELAY: {e}")))?;
        Ok(stream)
    }
}

pub(crate) fn smtp_error(err: &lettre::transport::smtp::Error) -> SendError {
    // lettre's texts name the server's reply or the connection problem; they
    // never include the message.
    SendError::Transient(format!("smtp: {err}"))
}
