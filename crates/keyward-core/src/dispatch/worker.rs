//! The outbox worker: a background task that sends due mail. It wakes when
//! this instance wrote mail ([`Keyward::wake_mail_worker`]) and otherwise
//! every `mail.poll_interval`, for mail written by other instances, due for
//! another attempt, or left by an instance that died once its lease has run
//! out. Safe to run on every instance at once: rows are claimed atomically
//! with a short lease, renewed while they are sending. It stops when
//! `shutdown` turns true (or its sender is dropped): the messages in flight
//! (at most `mail.max_parallel`) are sent within `server.shutdown_grace` and
//! recorded, and the rows of the batch not yet started are handed back.

use std::sync::Arc;

use tokio::sync::watch;

use crate::types::UnixTime;
use crate::types::random::OsRandom;
use crate::{Ctx, Keyward};

/// Runs until shutdown. Errors (a database away, a broken transport) are
/// logged and retried at the next wake; nothing is lost, rows stay queued.
pub async fn run_outbox_worker(kw: Arc<Keyward>, mut shutdown: watch::Receiver<bool>) {
    let rng = OsRandom;
    let poll = kw.settings().mail.poll_interval;
    tracing::info!(
        transport = ?kw.settings().mail.transport,
        poll_secs = poll.as_secs_f64(),
        "outbox worker started"
    );
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Batch after batch, the clock read afresh for each lease.
        loop {
            if *shutdown.borrow() {
                break;
            }
            let ctx = Ctx::new(UnixTime::now(), &rng);
            match kw.deliver_batch(&ctx, shutdown.clone()).await {
                Ok(claimed) if claimed >= kw.mail_claim_size() => {}
                Ok(_) => break,
                Err(err) => {
                    tracing::warn!(cause = %err.cause(), "outbox worker: delivery failed; trying again later");
                    break;
                }
            }
        }
        if let Err(err) = kw.count_queued_mail().await {
            tracing::warn!(cause = %err.cause(), "outbox worker: cannot count queued mail");
        }
        tokio::select! {
            () = kw.mail.wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    tracing::info!("outbox worker stopped");
}
