//! Mail dispatch: the outbox worker's side of email, above every capability
//! that composes one. It claims due outbox rows with a lease, composes each
//! by its kind (`compose.rs` dispatches to the capability that owns the
//! kind), hands it to the transport and records how it ended, with retries
//! and back-off; `worker` runs it beside the server; `dev_inbox` reads the
//! captured `.eml` files for `/dev/mail`.

mod compose;
pub mod dev_inbox;
pub mod worker;

#[cfg(test)]
mod tests;

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};

use crate::error::Internal;
use crate::mail::store;
use crate::mail::{
    CLAIM_BATCH, Composed, MAX_RETRY_DELAY_SECS, OutboxRow, Outgoing, SendError, enqueue, kind,
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
            if i64::try_from(claimed).unwrap_or(i64::MAX) < CLAIM_BATCH {
                break;
            }
        }
        self.count_queued_mail().await?;
        Ok(handled)
    }

    /// Claims one batch of due rows and handles each, up to
    /// `mail.max_parallel` at once; returns how many were claimed. Each
    /// claimed row is attempted once. Every attempt started is seen through
    /// to its record even when another's record fails (the first such error
    /// is returned after), so a message that went out is never left
    /// unrecorded to be sent again after the lease.
    pub(crate) async fn deliver_mail_batch(&self, ctx: &Ctx<'_>) -> Result<usize, Internal> {
        let lease_until = ctx.now.plus(self.mail.lease);
        let rows = store::claim_due(&self.db, ctx.now, lease_until, CLAIM_BATCH).await?;
        let claimed = rows.len();
        // Owned rows: a closure over `&OutboxRow` would make the worker's
        // future fail the `Send` check (a higher-ranked lifetime).
        let recorded: Vec<Result<(), Internal>> = stream::iter(rows)
            .map(|row| async move {
                let outcome = self.attempt(ctx, &row).await;
                self.record(ctx, &row, outcome).await
            })
            .buffer_unordered(self.settings.mail.max_parallel)
            .collect()
            .await;
        recorded.into_iter().collect::<Result<(), Internal>>()?;
        Ok(claimed)
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
