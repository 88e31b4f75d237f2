//! A roster written by a CSV writer (any column order, header spellings as
//! people type them, LF or CRLF, blank lines, quoted cells with commas,
//! quotes and line breaks, a BOM or not), read back by the roster import:
//! every learner row comes back with the values written (trimmed; a class's
//! spaces squeezed) and the row number a spreadsheet shows, or is named by
//! a problem of its row; blank rows are skipped; nothing else is invented.
#![no_main]

use keyward_core::classroom::roster::MAX_REPORTED_PROBLEMS;
use keyward_core::fuzzing::{RosterRow, parse_roster};
use keyward_core::types::{EmailAddress, Username};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, BTreeSet};

/// Pieces cells are made of: plain letters, the characters CSV quotes, the
/// ones the import refuses or trims, and some that Unicode folds.
const PIECES: &[&str] = &[
    "a", "b", "Z", "e", "7", " ", "  ", "-", "_", ".", "@", "x.org", ",", "\"", "\n", "\r\n", "\r",
    "\t", "=", "+", "é", "ß", "İ", "Ａ", "\u{FF1D}", "\u{a0}", "\u{0}", "ab", "Amy", "Ng",
];

#[derive(Arbitrary, Debug)]
struct Cell(Vec<u8>);

impl Cell {
    fn text(&self) -> String {
        self.0
            .iter()
            .map(|b| PIECES[usize::from(*b) % PIECES.len()])
            .collect()
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Which columns, in which order: first name, last name and class always.
    with_username: bool,
    with_email: bool,
    order: u16,
    /// How each header cell is spelled.
    spelling: u8,
    crlf: bool,
    bom: bool,
    /// Blank lines before each record (the header first).
    rows: Vec<(u8, [Cell; 5])>,
    blank_before_header: u8,
}

const COLUMNS: [&str; 5] = ["first_name", "last_name", "class", "username", "email"];

fn spell(column: &str, how: u8) -> String {
    match how % 4 {
        0 => column.to_owned(),
        1 => format!(" {} ", column.to_uppercase()),
        2 => column.replace('_', " "),
        _ => column.replace('_', "-"),
    }
}

fuzz_target!(|input: Input| {
    let mut columns: Vec<usize> = vec![0, 1, 2];
    if input.with_username {
        columns.push(3);
    }
    if input.with_email {
        columns.push(4);
    }
    // A permutation from `order`.
    let mut rest = columns;
    let mut order = usize::from(input.order);
    let mut columns = Vec::new();
    while !rest.is_empty() {
        columns.push(rest.remove(order % rest.len()));
        order /= 5;
    }

    let newline = if input.crlf { "\r\n" } else { "\n" };
    let mut file = Vec::new();
    if input.bom {
        file.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let blanks = |n: u8| newline.repeat(usize::from(n % 3));
    file.extend(blanks(input.blank_before_header).bytes());
    let header: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| spell(COLUMNS[*c], input.spelling.rotate_left(i as u32 * 2)))
        .collect();
    file.extend(record(&header, input.crlf));
    let mut row = 1 + u64::from(input.blank_before_header % 3);
    // What each data row is expected to be: its row number and its cells.
    let mut expected: BTreeMap<u64, [String; 5]> = BTreeMap::new();
    let mut blank_rows = BTreeSet::new();
    for (blank, cells) in &input.rows {
        file.extend(blanks(*blank).bytes());
        row += 1 + u64::from(*blank % 3);
        let texts: [String; 5] = std::array::from_fn(|i| cells[i].text());
        let written: Vec<String> = columns.iter().map(|c| texts[*c].clone()).collect();
        file.extend(record(&written, input.crlf));
        if written.iter().all(|cell| cell.trim().is_empty()) {
            blank_rows.insert(row);
        } else {
            let mut present: [String; 5] = Default::default();
            for c in &columns {
                present[*c] = texts[*c].clone();
            }
            expected.insert(row, present);
        }
    }

    let Ok((rows, problems)) = parse_roster(&file) else {
        // Only a file of blank rows (or too big a one) is refused whole.
        assert!(
            expected.is_empty() || file.len() > 5 * 1024 * 1024,
            "{file:?}"
        );
        return;
    };
    let mut taken = BTreeSet::new();
    for got in &rows {
        let cells = expected
            .get(&got.row)
            .unwrap_or_else(|| panic!("row {} was not written: {rows:?}", got.row));
        assert_eq!(got, &expected_row(got.row, cells), "{file:?}");
        taken.insert(got.row);
    }
    let mut seen = taken.clone();
    for problem in &problems.problems {
        let row = problem.row.expect("a problem of a row");
        assert!(
            expected.contains_key(&row),
            "problem of row {row}: {problem:?}"
        );
        assert!(!taken.contains(&row), "row {row} both taken and refused");
        seen.insert(row);
    }
    if problems.problem_count <= MAX_REPORTED_PROBLEMS {
        let all: BTreeSet<u64> = expected.keys().copied().collect();
        assert_eq!(seen, all, "every learner row is taken or refused");
    }
});

/// One record as a CSV writer makes it.
fn record(cells: &[String], crlf: bool) -> Vec<u8> {
    let terminator = if crlf {
        csv::Terminator::CRLF
    } else {
        csv::Terminator::Any(b'\n')
    };
    let mut writer = csv::WriterBuilder::new()
        .terminator(terminator)
        .from_writer(Vec::new());
    writer.write_record(cells).expect("write");
    writer.into_inner().expect("flush")
}

/// The row the import takes from cells it accepts.
fn expected_row(row: u64, cells: &[String; 5]) -> RosterRow {
    let optional = |text: &str| {
        Some(text.trim())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    RosterRow {
        row,
        first_name: cells[0].trim().to_owned(),
        last_name: cells[1].trim().to_owned(),
        class_name: cells[2].split_whitespace().collect::<Vec<_>>().join(" "),
        username: optional(&cells[3]).map(|u| Username::parse(&u).expect("accepted")),
        email: optional(&cells[4]).map(|e| EmailAddress::parse(&e).expect("accepted")),
    }
}
