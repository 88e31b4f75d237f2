//! `keyward keys rotate`: adds a sealing key to the key file and re-seals
//! every stored secret under it; with `sealing.keys` (keys from a secret
//! store), re-seals under the last key given there, which the operator adds.
//! A server already running picks the new key up by itself; with several
//! instances, each needs the new key file (or `sealing.keys`) before it
//! restarts.

use keyward_core::Ctx;
use keyward_core::error::CodedError;
use keyward_core::rotation::{RotateError, RotationReport};
use keyward_core::settings::Settings;
use keyward_core::types::UnixTime;
use keyward_core::types::random::OsRandom;

use super::{CommandError, failed, open};

pub async fn rotate(settings: Settings) -> Result<(), CommandError> {
    let kw = open(settings).await?;
    let ctx = Ctx::new(UnixTime::now(), &OsRandom);
    let outcome = kw.rotate_sealing_key(&ctx).await;
    kw.db().close().await;
    match outcome {
        Ok(report) => {
            println!("{}", summary(&report));
            Ok(())
        }
        Err(RotateError::Internal(err)) => Err(failed(err.cause())),
        Err(err) => Err(failed(format!("{err} ({})", err.code()))),
    }
}

fn summary(report: &RotationReport) -> String {
    let count = |n: u64| format!("{n} secret{}", if n == 1 { "" } else { "s" });
    let mut line = if report.added_key {
        format!(
            "Sealing key {} is now current; re-sealed {}.",
            report.key_id,
            count(report.resealed)
        )
    } else {
        format!(
            "Re-sealed {} under sealing key {} (from sealing.keys).",
            count(report.resealed),
            report.key_id
        )
    };
    if report.left > 0 {
        line.push_str(&format!(
            " {} could not be re-sealed (see the log).",
            count(report.left)
        ));
    }
    line
}
