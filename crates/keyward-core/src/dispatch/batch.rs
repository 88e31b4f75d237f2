//! One batch of the outbox worker (issue 17). Up to `mail::claim_size` due
//! rows are claimed with a short lease ([`crate::mail::LEASE`]); a keeper
//! beside the sends renews it — one UPDATE for the rows still in hand —
//! three times in each lease, so a batch may take as long as its messages
//! need while the mail of an instance that died waits at most one lease for
//! another instance. Each claimed row is attempted once, at most
//! `mail.max_parallel` at a time.
//!
//! A message that went out is recorded together with the others that went
//! out meanwhile, in one UPDATE (a group commit), and its sending slot waits
//! for that record before it takes the next row: at any moment at most
//! `mail.max_parallel` messages have gone out unrecorded, which bounds the
//! doubles an instance that dies can cause (the duplicate rule in `mail`).
//!
//! Two workers never send one row at once: a claim names the attempt it
//! counted (`mail::store::Claim`), so a worker whose lease ran out can
//! neither renew nor overwrite another's claim; and once the lease a send
//! relies on is about to end unrenewed (the database out of reach), a sixth
//! of the lease before it ends, the sends in flight are abandoned and no
//! other row is started.
//!
//! When the worker stops (SIGTERM), no further row is started, the sends in
//! flight get at most `server.shutdown_grace` and are recorded, and the rows
//! never started are handed back at once, their attempt uncounted: the next
//! instance does not wait for the lease.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use tokio::sync::watch;
use tokio::time::Instant;

use super::{Outcome, Unsent};
use crate::error::Internal;
use crate::mail::store::{self, Claim};
use crate::mail::{OutboxRow, SendError};
use crate::{Ctx, Keyward};

/// Renewals of the lease while it runs.
const RENEWALS_PER_LEASE: u32 = 3;

/// What `last_error` says of a send abandoned before it ended.
const ABANDONED: &str =
    "not sent: the claim's lease was about to end unrenewed, or keyward was stopping";

/// How long after a renewal was asked for the rows may still be sent: the
/// lease less a sixth, a margin for clocks that differ between instances and
/// for leases kept in whole seconds.
fn usable(lease: Duration) -> Duration {
    lease - lease / 6
}

impl Keyward {
    /// Claims one batch of due rows and handles each, up to
    /// `mail.max_parallel` at once, renewing their lease meanwhile; returns
    /// how many were claimed. Each claimed row is attempted once, or handed
    /// back unattempted when `stop` turns true (or its sender is dropped)
    /// before it started. Every attempt started is seen through to its record
    /// even when another's record fails (the first such error is returned
    /// after), so a message that went out is never left unrecorded to be
    /// sent again after the lease.
    pub(crate) async fn deliver_batch(
        &self,
        ctx: &Ctx<'_>,
        stop: watch::Receiver<bool>,
    ) -> Result<usize, Internal> {
        let started = Instant::now();
        let lease = self.mail.lease;
        let limit = i64::try_from(self.mail_claim_size()).unwrap_or(i64::MAX);
        let rows = store::claim_due(&self.db, ctx.now, ctx.now.plus(lease), limit).await?;
        let claimed = rows.len();
        if claimed == 0 {
            return Ok(0);
        }
        let batch = Batch::new(self, ctx, &rows);
        let (cut_at, cut) = watch::channel(started + usable(lease));
        let recorded = tokio::select! {
            recorded = batch.send(rows, cut, stop.clone()) => recorded,
            never = batch.keep(started, &cut_at, stop) => match never {},
        };
        batch.hand_back().await;
        recorded?;
        Ok(claimed)
    }
}

/// A claimed row not yet recorded.
struct Held {
    /// The attempt its claim counted.
    attempts: i64,
    /// Whether its attempt began.
    started: bool,
}

/// One batch in hand.
struct Batch<'k, 'c> {
    kw: &'k Keyward,
    ctx: &'k Ctx<'c>,
    in_hand: Mutex<BTreeMap<String, Held>>,
    /// Sent messages waiting for their record.
    sent_waiting: Mutex<Vec<String>>,
    /// Held while the sent messages are written, one group at a time.
    sent_writing: tokio::sync::Mutex<()>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind: still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<'k, 'c> Batch<'k, 'c> {
    fn new(kw: &'k Keyward, ctx: &'k Ctx<'c>, rows: &[OutboxRow]) -> Self {
        let in_hand = rows
            .iter()
            .map(|row| {
                let held = Held {
                    attempts: row.claim().attempts,
                    started: false,
                };
                (row.id.clone(), held)
            })
            .collect();
        Batch {
            kw,
            ctx,
            in_hand: Mutex::new(in_hand),
            sent_waiting: Mutex::new(Vec::new()),
            sent_writing: tokio::sync::Mutex::new(()),
        }
    }

    /// Attempts the rows, `mail.max_parallel` at a time, until they are all
    /// started or the worker stops or the lease is about to end (`cut`).
    async fn send(
        &self,
        rows: Vec<OutboxRow>,
        cut: watch::Receiver<Instant>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), Internal> {
        let no_more = {
            let cut = cut.clone();
            async move {
                tokio::select! {
                    _ = stop.wait_for(|stopping| *stopping) => {}
                    () = passed(cut) => {}
                }
            }
        };
        // Owned rows: a closure over `&OutboxRow` would make the worker's
        // future fail the `Send` check (a higher-ranked lifetime).
        let recorded: Vec<Result<(), Internal>> = stream::iter(rows)
            .take_until(no_more)
            .map(|row| self.handle(row, cut.clone()))
            .buffer_unordered(self.kw.settings.mail.max_parallel)
            .collect()
            .await;
        recorded.into_iter().collect()
    }

    /// One row: its attempt, abandoned if `cut` passes first, then its record.
    async fn handle(&self, row: OutboxRow, cut: watch::Receiver<Instant>) -> Result<(), Internal> {
        if let Some(held) = lock(&self.in_hand).get_mut(&row.id) {
            held.started = true;
        }
        let outcome = tokio::select! {
            outcome = self.kw.attempt(self.ctx, &row) => outcome,
            () = passed(cut) => Outcome::Unsent(Unsent::Failed(SendError::Transient(ABANDONED.into()))),
        };
        match outcome {
            Outcome::Sent => self.record_sent(&row).await,
            Outcome::Unsent(unsent) => {
                let recorded = self.kw.record_unsent(self.ctx, &row, unsent).await?;
                lock(&self.in_hand).remove(&row.id);
                if !recorded {
                    tracing::warn!(
                        outbox_id = %row.id, kind = %row.kind,
                        "outbox: another worker claimed the row after this one's lease ended; its record is theirs"
                    );
                }
                Ok(())
            }
        }
    }

    /// Records a sent message with every other one waiting: whoever finds no
    /// write under way writes them all, the others wait for that write.
    async fn record_sent(&self, row: &OutboxRow) -> Result<(), Internal> {
        lock(&self.sent_waiting).push(row.id.clone());
        let writing = self.sent_writing.lock().await;
        let ids = std::mem::take(&mut *lock(&self.sent_waiting));
        if !ids.is_empty() {
            store::mark_sent(&self.kw.db, &ids, self.ctx.now).await?;
            let mut in_hand = lock(&self.in_hand);
            for id in &ids {
                in_hand.remove(id);
            }
        }
        drop(writing);
        self.kw.mail.stats.sent.fetch_add(1, Ordering::Relaxed);
        tracing::info!(outbox_id = %row.id, kind = %row.kind, attempts = row.attempts, "email sent");
        Ok(())
    }

    /// Renews the lease three times in each lease for as long as the batch
    /// runs, and moves `cut_at`, the moment by which every send must end: a
    /// sixth of the lease before the last renewal asked for runs out, or
    /// `server.shutdown_grace` after the worker was told to stop.
    async fn keep(
        &self,
        started: Instant,
        cut_at: &watch::Sender<Instant>,
        mut stop: watch::Receiver<bool>,
    ) -> Infallible {
        let lease = self.kw.mail.lease;
        let every = lease / RENEWALS_PER_LEASE;
        let grace = self.kw.settings.server.shutdown_grace;
        let mut held_until = started + usable(lease);
        let mut stopping_by = (*stop.borrow()).then(|| Instant::now() + grace);
        let mut next = started + every;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(next) => {
                    next += every;
                    if let Some(until) = self.renew(started).await {
                        held_until = until;
                    }
                }
                changed = stop.changed(), if stopping_by.is_none() => {
                    if changed.is_err() || *stop.borrow() {
                        stopping_by = Some(Instant::now() + grace);
                    }
                }
            }
            let at = stopping_by.map_or(held_until, |by| by.min(held_until));
            cut_at.send_replace(at);
        }
    }

    /// Extends the lease of the rows in hand; the new moment their sends
    /// must end by, or `None` when nothing was renewed.
    async fn renew(&self, started: Instant) -> Option<Instant> {
        let claims = self.claims(|_| true);
        if claims.is_empty() {
            return None;
        }
        let lease = self.kw.mail.lease;
        let asked = Instant::now();
        let until = self.ctx.now.plus(asked.duration_since(started) + lease);
        match store::renew(&self.kw.db, &claims, until).await {
            Ok(_) => Some(asked + usable(lease)),
            Err(err) => {
                tracing::warn!(
                    cause = %err.cause(), rows = claims.len(),
                    "outbox: renewing the lease failed; the batch stops sending before it ends"
                );
                None
            }
        }
    }

    /// Hands back the rows never started, so that the next worker need not
    /// wait for their lease.
    async fn hand_back(&self) {
        let unstarted = self.claims(|held| !held.started);
        if unstarted.is_empty() {
            return;
        }
        match store::release(&self.kw.db, &unstarted).await {
            Ok(rows) => tracing::info!(rows, "outbox: rows not started handed back"),
            Err(err) => tracing::warn!(
                cause = %err.cause(), rows = unstarted.len(),
                "outbox: handing back rows not started failed; they wait for their lease"
            ),
        }
    }

    /// The claims of the rows in hand that `keep` selects.
    fn claims(&self, keep: impl Fn(&Held) -> bool) -> Vec<Claim> {
        lock(&self.in_hand)
            .iter()
            .filter(|(_, held)| keep(held))
            .map(|(id, held)| Claim {
                id: id.clone(),
                attempts: held.attempts,
            })
            .collect()
    }
}

/// Resolves once the moment in `cut` has passed; the moment may move.
async fn passed(mut cut: watch::Receiver<Instant>) {
    loop {
        let at = *cut.borrow_and_update();
        if at <= Instant::now() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep_until(at) => {}
            changed = cut.changed() => {
                if changed.is_err() {
                    // The keeper is gone; the moment can no longer move.
                    tokio::time::sleep_until(at).await;
                    return;
                }
            }
        }
    }
}
