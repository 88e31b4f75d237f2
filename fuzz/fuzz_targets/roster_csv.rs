//! The roster import's reading of an uploaded file (any bytes), as
//! `Keyward::import_roster` does before the database. Besides never
//! panicking: every accepted row is clean (names trimmed, within limits, no
//! control character, no formula start; usernames valid and unique by key,
//! emails valid), rows and problems come in file order with row numbers the
//! file can have, the report is capped, a refusal says why, and a UTF-8 BOM
//! changes nothing.
#![no_main]

use keyward_core::classroom::credentials::looks_like_formula;
use keyward_core::classroom::roster::{
    MAX_REPORTED_PROBLEMS, MAX_ROSTER_BYTES, MAX_ROSTER_LEARNERS, RosterRejection,
};
use keyward_core::fuzzing::{RosterRow, parse_roster};
use keyward_core::types::{EmailAddress, Username};
use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

const BOM: &[u8] = b"\xEF\xBB\xBF";

fuzz_target!(|data: &[u8]| {
    let parsed = parse_roster(data);
    // Rows are numbered like a spreadsheet: at most one more than the
    // file's line breaks (the header is row 1).
    let text = String::from_utf8_lossy(data);
    let last_row = line_breaks(&text) + 1;
    match &parsed {
        Ok((rows, problems)) => {
            assert!(!rows.is_empty() || problems.problem_count > 0);
            assert!(rows.len() <= MAX_ROSTER_LEARNERS);
            check_report(problems, last_row, true);
            let mut keys = HashSet::new();
            let mut previous = 1;
            for row in rows {
                check_row(row);
                assert!(row.row > previous, "rows in file order: {rows:?}");
                assert!(row.row <= last_row, "row {} of {last_row}", row.row);
                previous = row.row;
                if let Some(username) = &row.username {
                    assert!(keys.insert(username.key().to_owned()), "duplicate username");
                }
            }
        }
        Err(rejection) => check_report(rejection, last_row, false),
    }
    // A BOM (spreadsheets' "CSV UTF-8") changes nothing.
    if !data.starts_with(BOM) && data.len() + BOM.len() <= MAX_ROSTER_BYTES {
        let with_bom = [BOM, data].concat();
        assert_eq!(parse_roster(&with_bom), parsed);
    }
});

fn check_row(row: &RosterRow) {
    for (name, max) in [
        (&row.first_name, 80),
        (&row.last_name, 80),
        (&row.class_name, 120),
    ] {
        assert!(!name.is_empty());
        assert_eq!(name.trim(), name.as_str());
        assert!(name.chars().count() <= max);
        assert!(!name.chars().any(char::is_control));
        assert!(!looks_like_formula(name), "formula: {name:?}");
    }
    assert!(
        !row.class_name.contains("  "),
        "class names have single spaces"
    );
    if let Some(username) = &row.username {
        assert_eq!(Username::parse(username.as_str()).as_ref(), Ok(username));
    }
    if let Some(email) = &row.email {
        assert_eq!(EmailAddress::parse(email.as_str()).as_ref(), Ok(email));
    }
}

fn check_report(report: &RosterRejection, last_row: u64, partial: bool) {
    if !partial {
        assert!(!report.problems.is_empty(), "a refusal says why");
    }
    assert!(report.problems.len() <= MAX_REPORTED_PROBLEMS);
    assert!(report.problem_count >= report.problems.len());
    assert!(report.problems.len() == report.problem_count.min(MAX_REPORTED_PROBLEMS));
    let mut previous = None;
    for problem in &report.problems {
        assert!(problem.row >= previous, "problems in file order");
        previous = problem.row;
        if let Some(row) = problem.row {
            assert!((1..=last_row).contains(&row), "row {row} of {last_row}");
        }
        assert!(!problem.code.is_empty() && !problem.message.is_empty());
    }
}

/// Line breaks as a spreadsheet counts them: `\r\n`, `\n` or a lone `\r`.
fn line_breaks(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut count = 0;
    for (at, byte) in bytes.iter().enumerate() {
        if *byte == b'\n' || (*byte == b'\r' && bytes.get(at + 1) != Some(&b'\n')) {
            count += 1;
        }
    }
    count
}
