//! idle: what a subject costs before anyone uses it — its resident memory
//! just after start, and the time from spawning it to its first ready answer.

use std::time::Duration;

use crate::process;

use super::figures::{Rows, at_most};
use super::{Context, Figures};

const RSS_GOAL_MIB: f64 = 40.0;
const READY_GOAL_MS: f64 = 200.0;

/// Reads the processes now, before seeding; `ready_after` when the subject
/// measured it.
pub fn run(
    context: &Context,
    pids: &[u32],
    ready_after: Option<Duration>,
) -> anyhow::Result<Figures> {
    let mut rows = Rows::new("idle", &context.database);
    let rss_mib = process::read_all(pids)?.rss_kib as f64 / 1024.0;
    rows.add(
        "RSS after start MiB",
        rss_mib,
        &format!("≤ {RSS_GOAL_MIB:.0} MiB"),
        at_most(rss_mib, RSS_GOAL_MIB),
    );
    if let Some(ready_after) = ready_after {
        let ms = ready_after.as_secs_f64() * 1e3;
        rows.add(
            "start → ready ms",
            ms,
            &format!("≤ {READY_GOAL_MS:.0} ms"),
            at_most(ms, READY_GOAL_MS),
        );
    }
    Ok(Figures {
        rows: rows.rows,
        series: Vec::new(),
    })
}
