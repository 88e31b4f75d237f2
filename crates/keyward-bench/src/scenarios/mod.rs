//! The scenarios (signin_storm, signin_steady, recovery_request,
//! outbox_drain, class_reset, school_export, page, idle) and the run that
//! strings them together into one table.

use crate::Args;
use crate::report::Table;

pub async fn run(_args: &Args) -> anyhow::Result<Table> {
    anyhow::bail!("the scenarios are not written yet")
}
