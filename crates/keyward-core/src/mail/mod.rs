//! Email (R-MAIL-1, R-MAIL-2): the outbox, composition, templates and
//! transports. A use case that causes an email calls [`enqueue`] inside its
//! own transaction; the row holds no body and no secret, only the kind of
//! message, the recipient and a JSON payload of non-secret ids. The outbox
//! worker ([`worker::run_outbox_worker`]) claims due rows with a lease,
//! composes each message at send time ([`Keyward::compose`], which may mint a
//! token then), and hands it to the configured transport (SMTP, `.eml` files,
//! or the log). Failures are retried with exponential back-off; after
//! `mail.max_attempts` the row is given up.
//!
//! Delivery is at least once until the row is recorded as sent, and never
//! again after: a crash between the SMTP server's acceptance and the
//! `sent_at` update may send one message twice (with the same `Message-ID`,
//! so mail clients can tell); a sent row is never claimed again.
//!
//! How a row ends: `sent_at` set (sent), or `failed_at` set (finished without
//! sending) with `last_error` saying why — a plain error text when it was
//! given up after its last attempt, `skipped: <reason>` when composition
//! decided not to send (for example the account is gone).
//!
//! This module must not log a message body or store one: bodies carry links
//! and codes.

mod compose;
pub mod dev_inbox;
mod store;
mod templates;
mod transport;
pub mod worker;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use sqlx::{Any, Executor};
use tokio::sync::Notify;

use crate::error::Internal;
use crate::settings::Settings;
use crate::types::{EmailAddress, UnixTime, UserId};
use crate::{Ctx, Keyward};

pub use compose::Composed;
pub use store::{OutboxState, outbox_states};
pub(crate) use templates::{MailFrame, render_pair};
use transport::{SendError, Transport};

/// Rows one worker claims at once.
pub const CLAIM_BATCH: i64 = 10;

/// The longest wait between two attempts, however many failed.
pub const MAX_RETRY_DELAY_SECS: u64 = 3600;

/// Longest `last_error` text kept.
const MAX_ERROR_CHARS: usize = 300;

/// Stable names of the kinds of email. The recovery and account kinds are
/// added beside their use cases; `compose` dispatches on these names.
pub mod kind {
    /// "keyward can send email": a test message to the address in the payload.
    pub const MAIL_TEST: &str = "mail.test";
}

/// An email to write to the outbox. The payload carries only non-secret ids
/// and facts; anything secret is minted when the message is composed.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub kind: &'static str,
    pub user_id: Option<&'a UserId>,
    pub to_address: &'a str,
    pub payload: serde_json::Value,
}

/// An outbox row as the worker claimed it.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub user_id: Option<UserId>,
    pub to_address: String,
    pub payload: serde_json::Value,
    pub created_at: UnixTime,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

/// A composed message, ready for a transport. It lives only in memory.
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl std::fmt::Debug for RenderedEmail {
    // The bodies carry links and codes: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderedEmail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Live numbers for `/metrics`.
#[derive(Debug, Default)]
pub struct MailStats {
    /// Messages waiting in the outbox (every instance's), as last counted by
    /// this instance's worker.
    pub queued: AtomicI64,
    /// Messages this instance handed to the transport.
    pub sent: AtomicU64,
    /// Messages this instance gave up after their last attempt.
    pub failed: AtomicU64,
    /// Failed attempts this instance scheduled to be tried again.
    pub retries: AtomicU64,
    /// Rows this instance finished without sending, on purpose.
    pub skipped: AtomicU64,
}

/// The mail services held by `Keyward`.
pub(crate) struct MailService {
    transport: Transport,
    wake: Notify,
    stats: Arc<MailStats>,
    /// How long a claimed row stays reserved for its worker.
    lease: Duration,
}

impl MailService {
    pub(crate) fn new(settings: &Settings) -> Result<MailService, Internal> {
        let transport = Transport::from_settings(settings)?;
        Ok(MailService {
            lease: lease_for(transport.send_deadline()),
            transport,
            wake: Notify::new(),
            stats: Arc::new(MailStats::default()),
        })
    }
}

/// The lease covers a whole batch sent one after another, each send cut off at
/// its deadline, plus a margin: a worker never loses a row it is still sending.
fn lease_for(send_deadline: Duration) -> Duration {
    let per_row = send_deadline + Duration::from_secs(10);
    let batch = u32::try_from(CLAIM_BATCH).unwrap_or(10);
    per_row * batch + Duration::from_secs(60)
}

/// Writes an email to the outbox, inside the caller's transaction: it is sent
/// only if that transaction commits. Call [`Keyward::wake_mail_worker`] after
/// the commit so it goes out at once.
pub(crate) async fn enqueue<'c, E: Executor<'c, Database = Any>>(
    exec: E,
    ctx: &Ctx<'_>,
    message: &Outgoing<'_>,
) -> Result<(), Internal> {
    let mut bytes = [0u8; 16];
    ctx.rng.fill(&mut bytes)?;
    let id = uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string();
    let payload = serde_json::to_string(&message.payload).map_err(Internal::new)?;
    store::insert(
        exec,
        &store::NewOutboxRow {
            id: &id,
            kind: message.kind,
            user_id: message.user_id.map(|u| u.as_str()),
            to_address: message.to_address,
            payload: &payload,
            created_at: ctx.now,
        },
    )
    .await
}

/// An absolute link to a page of this keyward, built only from
/// `server.public_url` (never from a request's Host header). Works whether the
/// public URL ends with `/` or not, and keeps a path prefix
/// (`https://school.example/keyward` + `/recover?x=1` →
/// `https://school.example/keyward/recover?x=1`).
pub(crate) fn public_link(settings: &Settings, path_and_query: &str) -> String {
    let base = settings.server.public_url.as_str().trim_end_matches('/');
    let rest = path_and_query.trim_start_matches('/');
    format!("{base}/{rest}")
}

/// The wait before attempt `attempts + 1`: `retry_base × 2^(attempts−1)`,
/// at least a second and at most an hour.
fn retry_delay(retry_base: Duration, attempts: u32) -> Duration {
    let base = retry_base.as_secs().max(1);
    let factor = 1u64
        .checked_shl(attempts.saturating_sub(1))
        .unwrap_or(u64::MAX);
    Duration::from_secs(base.saturating_mul(factor).min(MAX_RETRY_DELAY_SECS))
}

/// How one attempt at one row ended.
enum Outcome {
    Sent,
    Skipped(&'static str),
    Failed(SendError),
}

fn short(text: &str) -> String {
    text.chars().take(MAX_ERROR_CHARS).collect()
}

impl Keyward {
    /// Tells this instance's outbox worker that mail is waiting, so it goes
    /// out at once instead of at the next poll. Call after the commit.
    pub fn wake_mail_worker(&self) {
        self.mail.wake.notify_one();
    }

    pub fn mail_stats(&self) -> Arc<MailStats> {
        self.mail.stats.clone()
    }

    /// Writes a test message ("keyward can send email") to `to` and wakes the
    /// worker: for `keyward mail test` and for checking a deployment's mail
    /// settings.
    pub async fn send_test_email(&self, ctx: &Ctx<'_>, to: &EmailAddress) -> Result<(), Internal> {
        let mut tx = self.db.begin_write().await?;
        enqueue(
            &mut *tx,
            ctx,
            &Outgoing {
                kind: kind::MAIL_TEST,
                user_id: None,
                to_address: to.as_str(),
                payload: serde_json::json!({ "to": to.as_str() }),
            },
        )
        .await?;
        tx.commit().await?;
        self.wake_mail_worker();
        Ok(())
    }

    /// Sends every message due at `ctx.now`, batch after batch, and returns
    /// how many rows were handled (sent, retried later, given up or skipped).
    /// One pass, for tests and one-shot commands; the worker reads the clock
    /// afresh before each batch instead.
    pub async fn deliver_due_mail(&self, ctx: &Ctx<'_>) -> Result<usize, Internal> {
        let mut handled = 0;
        loop {
            let claimed = self.deliver_mail_batch(ctx).await?;
            handled += claimed;
            if i64::try_from(claimed).unwrap_or(i64::MAX) < CLAIM_BATCH {
                break;
            }
        }
        self.count_queued_mail().await?;
        Ok(handled)
    }

    /// Claims one batch of due rows and handles each; returns how many were
    /// claimed.
    pub(crate) async fn deliver_mail_batch(&self, ctx: &Ctx<'_>) -> Result<usize, Internal> {
        let lease_until = ctx.now.plus(self.mail.lease);
        let rows = store::claim_due(&self.db, ctx.now, lease_until, CLAIM_BATCH).await?;
        for row in &rows {
            let outcome = self.attempt(ctx, row).await;
            self.record(ctx, row, outcome).await?;
        }
        Ok(rows.len())
    }

    /// Refreshes the "queued" gauge from the outbox.
    pub(crate) async fn count_queued_mail(&self) -> Result<(), Internal> {
        let pending = store::count_pending(&self.db).await?;
        self.mail.stats.queued.store(pending, Ordering::Relaxed);
        Ok(())
    }

    async fn attempt(&self, ctx: &Ctx<'_>, row: &OutboxRow) -> Outcome {
        let email = match self.compose(ctx, row).await {
            Ok(Composed::Send(email)) => email,
            Ok(Composed::Skip(reason)) => return Outcome::Skipped(reason),
            Err(err) => {
                tracing::error!(outbox_id = %row.id, kind = %row.kind, cause = %err.cause(), "composing an email failed");
                return Outcome::Failed(SendError::Transient(
                    "composing the message failed (see the server log)".into(),
                ));
            }
        };
        match self.mail.transport.send(ctx, row, &email).await {
            Ok(()) => Outcome::Sent,
            Err(err) => Outcome::Failed(err),
        }
    }

    async fn record(
        &self,
        ctx: &Ctx<'_>,
        row: &OutboxRow,
        outcome: Outcome,
    ) -> Result<(), Internal> {
        let stats = &self.mail.stats;
        match outcome {
            Outcome::Sent => {
                store::mark_sent(&self.db, &row.id, ctx.now).await?;
                stats.sent.fetch_add(1, Ordering::Relaxed);
                tracing::info!(outbox_id = %row.id, kind = %row.kind, attempts = row.attempts, "email sent");
            }
            Outcome::Skipped(reason) => {
                let text = short(&format!("skipped: {reason}"));
                store::mark_finished_unsent(&self.db, &row.id, ctx.now, &text).await?;
                stats.skipped.fetch_add(1, Ordering::Relaxed);
                tracing::info!(outbox_id = %row.id, kind = %row.kind, reason, "email skipped");
            }
            Outcome::Failed(err) => {
                let text = short(err.text());
                let max_attempts = self.settings.mail.max_attempts;
                if err.is_permanent() || row.attempts >= max_attempts {
                    store::mark_finished_unsent(&self.db, &row.id, ctx.now, &text).await?;
                    stats.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(
                        outbox_id = %row.id, kind = %row.kind, attempts = row.attempts, error = %text,
                        "email given up"
                    );
                } else {
                    let delay = retry_delay(self.settings.mail.retry_base, row.attempts);
                    store::mark_retry(&self.db, &row.id, ctx.now.plus(delay), &text).await?;
                    stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        outbox_id = %row.id, kind = %row.kind, attempts = row.attempts,
                        retry_in_secs = delay.as_secs(), error = %text,
                        "email not sent; will retry"
                    );
                }
            }
        }
        Ok(())
    }
}
