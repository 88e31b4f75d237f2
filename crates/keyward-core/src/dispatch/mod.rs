//! Mail dispatch: the outbox worker's side of email, above every capability
//! that composes one. It claims due outbox rows with a short lease, renewed
//! while they are sending (`batch.rs`), composes each by its kind
//! (`compose.rs` dispatches to the capability that owns the kind), hands it
//! to the transport and records how it ended, with retries and back-off;
//! `worker` runs it beside the server; `dev_inbox` reads the captured `.eml`
//! files for `/dev/mail`.

mod batch;
mod compose;
pub mod dev_inbox;
pub mod worker;

#[cfg(test)]
mod tests;

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::error::Internal;
use crate::mail::store;
use crate::mail::{
    Composed, MAX_RETRY_DELAY_SECS, OutboxRow, Outgoing, SendError, claim_size, enqueue, kind,
};
use crate::types::EmailAddress;
use crate::{Ctx, Keyward};

/// Longest `last_error` text kept.
const MAX_ERROR_CHARS: usize = 300;

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
    Unsent(Unsent),
}

/// An attempt that sent nothing.
enum Unsent {
    Skipped(&'static str),
    Failed(SendError),
}

fn short(text: &str) -> String {
    text.chars().take(MAX_ERROR_CHARS).collect()
}

impl Keyward {
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
            if claimed < self.mail_claim_size() {
                break;
            }
        }
        self.count_queued_mail().await?;
        Ok(handled)
    }

    /// Claims one batch of due rows and handles each (see `batch.rs`);
    /// returns how many were claimed.
    pub(crate) async fn deliver_mail_batch(&self, ctx: &Ctx<'_>) -> Result<usize, Internal> {
        let (_running, stop) = tokio::sync::watch::channel(false);
        self.deliver_batch(ctx, stop).await
    }

    /// Rows the worker claims at once.
    pub(crate) fn mail_claim_size(&self) -> usize {
        claim_size(self.settings.mail.max_parallel)
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
            Ok(Composed::Skip(reason)) => return Outcome::Unsent(Unsent::Skipped(reason)),
            Err(err) => {
                tracing::error!(outbox_id = %row.id, kind = %row.kind, cause = %err.cause(), "composing an email failed");
                return Outcome::Unsent(Unsent::Failed(SendError::Transient(
                    "composing the message failed (see the server log)".into(),
                )));
            }
        };
        match self.mail.transport.send(ctx, row, &email).await {
            Ok(()) => Outcome::Sent,
            Err(err) => Outcome::Unsent(Unsent::Failed(err)),
        }
    }

    /// Records a failed or skipped attempt, under the row's claim; a sent
    /// message is recorded by the batch (`batch::Batch::record_sent`). False when
    /// the claim was no longer this worker's (its lease ran out and another
    /// worker claimed the row): nothing is written or counted then.
    async fn record_unsent(
        &self,
        ctx: &Ctx<'_>,
        row: &OutboxRow,
        outcome: Unsent,
    ) -> Result<bool, Internal> {
        let stats = &self.mail.stats;
        let claim = row.claim();
        match outcome {
            Unsent::Skipped(reason) => {
                let text = short(&format!("skipped: {reason}"));
                if !store::mark_finished_unsent(&self.db, &claim, ctx.now, &text).await? {
                    return Ok(false);
                }
                stats.skipped.fetch_add(1, Ordering::Relaxed);
                tracing::info!(outbox_id = %row.id, kind = %row.kind, reason, "email skipped");
            }
            Unsent::Failed(err) => {
                let text = short(err.text());
                let max_attempts = self.settings.mail.max_attempts;
                if err.is_permanent() || row.attempts >= max_attempts {
                    if !store::mark_finished_unsent(&self.db, &claim, ctx.now, &text).await? {
                        return Ok(false);
                    }
                    stats.failed.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(
                        outbox_id = %row.id, kind = %row.kind, attempts = row.attempts, error = %text,
                        "email given up"
                    );
                } else {
                    let delay = retry_delay(self.settings.mail.retry_base, row.attempts);
                    if !store::mark_retry(&self.db, &claim, ctx.now.plus(delay), &text).await? {
                        return Ok(false);
                    }
                    stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        outbox_id = %row.id, kind = %row.kind, attempts = row.attempts,
                        retry_in_secs = delay.as_secs(), error = %text,
                        "email not sent; will retry"
                    );
                }
            }
        }
        Ok(true)
    }
}
