//! `keyward import --school SCHOOL_ID FILE.csv`: roster import (R-TCH-6) run
//! by the operator, who acts with a platform admin's rights. The created
//! learners' codes go to standard output as CSV (redirect it to a file); the
//! summary and any problems go to standard error, one line each.

use std::io::{Read, Write};
use std::path::Path;

use keyward_core::classroom::roster::{MAX_ROSTER_BYTES, RosterError, RosterProblem};
use keyward_core::error::CodedError;
use keyward_core::settings::Settings;
use keyward_core::types::random::OsRandom;
use keyward_core::types::{SchoolId, UnixTime};
use keyward_core::{Ctx, Keyward};

use super::{CommandError, failed, open};

pub async fn run(settings: Settings, school: &str, file: &Path) -> Result<(), CommandError> {
    let school = SchoolId::parse(school.trim())
        .ok_or_else(|| failed(format!("--school: {school:?} is not a school id")))?;
    let bytes = read_roster(file)?;
    let kw = open(settings).await?;
    let ctx = Ctx::new(UnixTime::now(), &OsRandom);
    let outcome = kw
        .import_roster(&ctx, &Keyward::operator_actor(), &school, &bytes)
        .await;
    kw.db().close().await;
    let report = match outcome {
        Ok(report) => report,
        Err(RosterError::Invalid(rejection)) => {
            for problem in &rejection.problems {
                eprintln!("keyward: {}", describe(problem));
            }
            let unlisted = rejection
                .problem_count
                .saturating_sub(rejection.problems.len());
            if unlisted > 0 {
                eprintln!("keyward: … and {unlisted} more problems");
            }
            return Err(failed(format!(
                "{} was not imported: {} problem{} to fix; nothing was changed (roster_invalid)",
                file.display(),
                rejection.problem_count,
                if rejection.problem_count == 1 {
                    ""
                } else {
                    "s"
                }
            )));
        }
        Err(RosterError::Internal(internal)) => return Err(failed(internal.cause())),
        Err(err) => return Err(failed(format!("{err} ({})", err.code()))),
    };
    let csv = report.codes_csv().map_err(|e| failed(e.cause()))?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&csv)
        .and_then(|()| stdout.flush())
        .map_err(|e| failed(format!("cannot write the codes to standard output: {e}")))?;
    let classes = match report.new_classes.len() {
        0 => String::new(),
        1 => format!("; new class: {}", report.new_classes.join(", ")),
        _ => format!("; new classes: {}", report.new_classes.join(", ")),
    };
    eprintln!(
        "Imported {} learners into {}{classes}. Their access codes and parent access codes are on standard output.",
        report.learners.len(),
        report.school.name,
    );
    Ok(())
}

/// The file, read up to one byte over the roster limit (the core refuses
/// larger files by their size, so more is never read).
fn read_roster(file: &Path) -> Result<Vec<u8>, CommandError> {
    let cannot = |e: std::io::Error| failed(format!("cannot read {}: {e}", file.display()));
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .map_err(cannot)?
        .take(MAX_ROSTER_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    Ok(bytes)
}

/// One problem on one line: where, what, and its code.
fn describe(problem: &RosterProblem) -> String {
    let place = match (problem.row, &problem.column) {
        (Some(row), Some(column)) => format!("row {row}, {column}"),
        (Some(row), None) => format!("row {row}"),
        (None, _) => "the file".to_owned(),
    };
    format!("{place}: {} ({})", problem.message, problem.code)
}
