//! Periodic purge (issue 10): deletes what no longer does anything — expired
//! sessions, throttle counters that count for nothing, recovery requests long
//! over, sign-ins that never finished their second step, passkey ceremonies
//! and single sign-ons (`sso_flows`) past their expiry — so traffic, anonymous traffic above all, cannot grow the database
//! without end. It owns the rules of *when* a row may go; each table's
//! DELETE lives in the store of the capability that owns the table. Audit
//! rows are never purged. [`worker`] runs [`Keyward::purge_expired`] every
//! [`PURGE_INTERVAL`].

pub mod worker;

use std::time::Duration;

use crate::error::Internal;
use crate::{Ctx, Keyward};

/// How often the background task purges (a constant: nothing to tune, and
/// a row left a few minutes longer harms nobody).
pub const PURGE_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Rows deleted per write transaction, so a large backlog never holds the
/// SQLite writer (or PostgreSQL row locks) for long.
pub const PURGE_BATCH_ROWS: i64 = 1000;

/// Throttle counters are kept at least this long after their last failure,
/// whatever `throttle.forget_after` says: the code-entry throttles forget
/// after up to an hour, and a row deleted early would forget too soon.
pub const THROTTLE_KEEP_AT_LEAST: Duration = Duration::from_secs(3600);

/// How long a recovery request is kept after it ended (used, superseded,
/// …) or after its link and code expired: long enough for the page of an
/// old link to still say "already used" or "expired" rather than "not
/// valid" for a week, well beyond the hourly request and link limits (which
/// count rows of the last hour), while the audit trail keeps the lasting
/// record of every request and reset.
pub const RECOVERY_KEEP_AFTER_END: Duration = Duration::from_secs(7 * 24 * 3600);

/// An open request whose email never went out (no link was minted, so the
/// outbox never delivered it) is kept this long after it was made; its mail
/// would by then be long given up, and is skipped if it is not.
pub const RECOVERY_KEEP_UNSENT: Duration = Duration::from_secs(30 * 24 * 3600);

/// What one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub sessions: u64,
    pub throttle_rows: u64,
    pub recovery_requests: u64,
    /// Sign-ins that waited for their second step in vain.
    pub sign_in_steps: u64,
    /// Passkey ceremonies never finished.
    pub webauthn_ceremonies: u64,
    /// Single sign-ons that never came back from the provider.
    pub sso_flows: u64,
}

impl PurgeReport {
    pub fn total(&self) -> u64 {
        self.sessions
            + self.throttle_rows
            + self.recovery_requests
            + self.sign_in_steps
            + self.webauthn_ceremonies
            + self.sso_flows
    }
}

/// The purges, one table each: a batch of up to `PURGE_BATCH_ROWS` rows.
#[derive(Clone, Copy)]
enum Table {
    Sessions,
    Throttle,
    RecoveryRequests,
    SignInSteps,
    WebauthnCeremonies,
    SsoFlows,
}

impl Keyward {
    /// Deletes expired sessions, stale throttle counters, recovery requests
    /// over for longer than [`RECOVERY_KEEP_AFTER_END`], expired second
    /// steps, expired passkey ceremonies and single sign-ons past their time, as of `ctx.now`, in batches of one short write transaction each. Safe on
    /// several instances at once: each DELETE only takes rows that are due,
    /// and a row another instance took first is simply not counted.
    pub async fn purge_expired(&self, ctx: &Ctx<'_>) -> Result<PurgeReport, Internal> {
        Ok(PurgeReport {
            sessions: self.purge_table(ctx, Table::Sessions).await?,
            throttle_rows: self.purge_table(ctx, Table::Throttle).await?,
            recovery_requests: self.purge_table(ctx, Table::RecoveryRequests).await?,
            sign_in_steps: self.purge_table(ctx, Table::SignInSteps).await?,
            webauthn_ceremonies: self.purge_table(ctx, Table::WebauthnCeremonies).await?,
            sso_flows: self.purge_table(ctx, Table::SsoFlows).await?,
        })
    }

    async fn purge_table(&self, ctx: &Ctx<'_>, table: Table) -> Result<u64, Internal> {
        let now = ctx.now;
        let idle_before = now.minus(self.settings.session.idle_timeout);
        let forget_before = now.minus(
            self.settings
                .throttle
                .forget_after
                .max(THROTTLE_KEEP_AT_LEAST),
        );
        let over_before = now.minus(RECOVERY_KEEP_AFTER_END);
        let unsent_before = now.minus(RECOVERY_KEEP_UNSENT);
        let mut total = 0;
        loop {
            let mut tx = self.db.begin_write().await?;
            let deleted = match table {
                Table::Sessions => {
                    crate::accounts::delete_expired_sessions(
                        &mut tx,
                        now,
                        idle_before,
                        PURGE_BATCH_ROWS,
                    )
                    .await?
                }
                Table::Throttle => {
                    crate::accounts::delete_stale_throttle_rows(
                        &mut tx,
                        now,
                        forget_before,
                        PURGE_BATCH_ROWS,
                    )
                    .await?
                }
                Table::RecoveryRequests => {
                    crate::accounts::recovery_requests::delete_finished_requests(
                        &mut tx,
                        over_before,
                        unsent_before,
                        PURGE_BATCH_ROWS,
                    )
                    .await?
                }
                Table::SignInSteps => {
                    crate::accounts::delete_expired_sign_in_steps(&mut tx, now, PURGE_BATCH_ROWS)
                        .await?
                }
                Table::WebauthnCeremonies => {
                    crate::passkeys::store::delete_expired_ceremonies(
                        &mut tx,
                        now,
                        PURGE_BATCH_ROWS,
                    )
                    .await?
                }
                Table::SsoFlows => {
                    crate::sso::store::flows::delete_expired(&mut tx, now, PURGE_BATCH_ROWS).await?
                }
            };
            tx.commit().await?;
            total += deleted;
            if i64::try_from(deleted).unwrap_or(i64::MAX) < PURGE_BATCH_ROWS {
                return Ok(total);
            }
        }
    }
}

#[cfg(test)]
mod tests;
