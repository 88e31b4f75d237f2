//! The purge task: runs [`Keyward::purge_expired`] at start and then every
//! [`PURGE_INTERVAL`], beside the server, on every instance (the purge is
//! safe to run on several at once). It stops when `shutdown` turns true (or
//! its sender is dropped). Errors are logged and tried again next time.

use std::sync::Arc;

use tokio::sync::watch;

use super::PURGE_INTERVAL;
use crate::types::UnixTime;
use crate::types::random::OsRandom;
use crate::{Ctx, Keyward};

/// Runs until shutdown, purging every [`PURGE_INTERVAL`].
pub async fn run_purge_worker(kw: Arc<Keyward>, mut shutdown: watch::Receiver<bool>) {
    let interval = PURGE_INTERVAL;
    let rng = OsRandom;
    tracing::info!(every_secs = interval.as_secs_f64(), "purge task started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let ctx = Ctx::new(UnixTime::now(), &rng);
        match kw.purge_expired(&ctx).await {
            Ok(report) if report.total() > 0 => tracing::info!(
                sessions = report.sessions,
                throttle_rows = report.throttle_rows,
                recovery_requests = report.recovery_requests,
                webauthn_ceremonies = report.webauthn_ceremonies,
                sso_flows = report.sso_flows,
                "purged expired rows"
            ),
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(cause = %err.cause(), "purge task: purge failed; trying again later");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    tracing::info!("purge task stopped");
}
