//! Reading a roster file: size, encoding, the header and every row, checked
//! before anything touches the database. It returns either every row, clean,
//! or every problem found (up to a cap), each with the row number a
//! spreadsheet shows; it never returns a partial list.

use std::collections::HashMap;

use super::{
    MAX_REPORTED_PROBLEMS, MAX_ROSTER_BYTES, MAX_ROSTER_LEARNERS, RosterProblem, RosterRejection,
};
use crate::classroom::credentials::looks_like_formula;
use crate::types::{EmailAddress, Username};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// Longest first or last name (the same limit as creating one user).
const MAX_NAME_CHARS: usize = 80;
/// Longest class name (the same limit as creating one class).
const MAX_CLASS_CHARS: usize = 120;
/// How much of a header cell a report repeats.
const MAX_ECHOED_CHARS: usize = 40;

/// The columns a roster may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Column {
    FirstName,
    LastName,
    Class,
    Username,
    Email,
}

impl Column {
    const ALL: [Column; 5] = [
        Column::FirstName,
        Column::LastName,
        Column::Class,
        Column::Username,
        Column::Email,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Column::FirstName => "first_name",
            Column::LastName => "last_name",
            Column::Class => "class",
            Column::Username => "username",
            Column::Email => "email",
        }
    }

    fn required(self) -> bool {
        matches!(self, Column::FirstName | Column::LastName | Column::Class)
    }

    /// A header cell as people write it: `First name`, ` FIRST_NAME `,
    /// `first-name` all mean `first_name`.
    fn from_header(cell: &str) -> Option<Column> {
        let normalised: String = cell
            .trim()
            .to_lowercase()
            .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        Column::ALL.into_iter().find(|c| c.name() == normalised)
    }
}

/// One learner of the file, checked.
#[derive(Debug, Clone)]
pub(crate) struct RosterRow {
    /// The row as a spreadsheet numbers it (the header is row 1).
    pub row: u64,
    pub first_name: String,
    pub last_name: String,
    pub class_name: String,
    pub username: Option<Username>,
    pub email: Option<EmailAddress>,
}

/// Problems found so far, kept up to the cap and counted beyond it.
#[derive(Default)]
pub(crate) struct Problems {
    list: Vec<RosterProblem>,
    total: usize,
}

impl Problems {
    pub(super) fn push(
        &mut self,
        row: Option<u64>,
        column: Option<&str>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.total += 1;
        if self.list.len() < MAX_REPORTED_PROBLEMS {
            self.list.push(RosterProblem {
                row,
                column: column.map(str::to_owned),
                code,
                message: message.into(),
            });
        }
    }

    /// One problem of the whole file.
    pub(super) fn single(code: &'static str, message: impl Into<String>) -> Problems {
        let mut problems = Problems::default();
        problems.push(None, None, code, message);
        problems
    }

    pub(super) fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The report, in the order of the file (problems of the whole file first).
    pub(crate) fn into_rejection(mut self) -> RosterRejection {
        self.list.sort_by_key(|p| p.row);
        RosterRejection {
            problems: self.list,
            problem_count: self.total,
        }
    }
}

fn file_problem(code: &'static str, message: impl Into<String>) -> RosterRejection {
    Problems::single(code, message).into_rejection()
}

/// Checks a whole roster file. Sizes and encoding are checked before any
/// parsing, the header before any row. A problem of the whole file is an
/// error at once; otherwise the good rows come with the problems of the
/// others, so that the caller can add what only the database knows and
/// report everything in one go.
pub(crate) fn parse_roster(bytes: &[u8]) -> Result<(Vec<RosterRow>, Problems), RosterRejection> {
    if bytes.len() > MAX_ROSTER_BYTES {
        return Err(file_problem(
            "file_too_large",
            format!(
                "The file is larger than {} MB. Split the roster into several files.",
                MAX_ROSTER_BYTES / (1024 * 1024)
            ),
        ));
    }
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let valid = bytes.get(..err.valid_up_to()).unwrap_or_default();
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        file_problem(
            "not_utf8",
            format!(
                "The file is not UTF-8 text (line {line} has a character in another encoding). \
                 In your spreadsheet, save it as \"CSV UTF-8\" and upload it again."
            ),
        )
    })?;
    if text.trim().is_empty() {
        return Err(file_problem(
            "empty_file",
            "The file is empty. Its first row names the columns: first_name, last_name, class \
             (and, if you like, username and email); each further row is one learner.",
        ));
    }

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let mut rows_seen = RowNumbers::new(text);
    let mut row_of = |record: &csv::StringRecord| rows_seen.row_of(record);

    let header = match records.next() {
        Some(Ok(record)) => record,
        Some(Err(err)) => return Err(malformed(&err)),
        None => return Err(file_problem("empty_file", "The file has no rows.")),
    };
    let header_row = row_of(&header);
    let columns = read_header(&header, header_row)?;

    let mut problems = Problems::default();
    let mut rows = Vec::new();
    let mut learner_rows = 0usize;
    let mut usernames: HashMap<String, u64> = HashMap::new();
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(err) => return Err(malformed(&err)),
        };
        let row = row_of(&record);
        // Spreadsheets export empty rows as `,,,`: nothing to import.
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        learner_rows += 1;
        if learner_rows > MAX_ROSTER_LEARNERS {
            return Err(file_problem(
                "too_many_rows",
                format!(
                    "The file has more than {MAX_ROSTER_LEARNERS} learners. Split it into several files."
                ),
            ));
        }
        if let Some(learner) = read_row(&record, row, &columns, &mut usernames, &mut problems) {
            rows.push(learner);
        }
    }
    if rows.is_empty() && problems.is_empty() {
        return Err(file_problem(
            "no_learners",
            "The file has a header row but no learners. Add one row per learner below it.",
        ));
    }
    Ok((rows, problems))
}

/// Numbers records as a spreadsheet numbers rows: every line break between
/// records counts (so blank lines are rows), line breaks inside a quoted
/// cell do not. (The csv crate's own line numbers count a record's leading
/// blank lines after it, so they are not used.)
struct RowNumbers<'a> {
    text: &'a str,
    previous_start: usize,
    previous_row: u64,
    previous_inner_breaks: u64,
}

impl<'a> RowNumbers<'a> {
    fn new(text: &'a str) -> Self {
        RowNumbers {
            text,
            previous_start: 0,
            previous_row: 1,
            previous_inner_breaks: 0,
        }
    }

    fn row_of(&mut self, record: &csv::StringRecord) -> u64 {
        let reported = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(self.previous_start);
        // The reported start is before any blank lines the reader skipped.
        let rest = self.text.get(reported..).unwrap_or_default();
        let start = reported + (rest.len() - rest.trim_start_matches(['\r', '\n']).len());
        let between = self
            .text
            .get(self.previous_start..start)
            .unwrap_or_default();
        let row = (self.previous_row + line_breaks(between))
            .saturating_sub(self.previous_inner_breaks)
            .max(1);
        self.previous_start = start;
        self.previous_row = row;
        self.previous_inner_breaks = record.iter().map(line_breaks).sum();
        row
    }
}

/// Line breaks in a text: `\r\n`, `\n` or a lone `\r` each count once.
fn line_breaks(text: &str) -> u64 {
    let newlines = text.matches('\n').count();
    let lone_returns = text
        .match_indices('\r')
        .filter(|(at, _)| text.as_bytes().get(at + 1) != Some(&b'\n'));
    (newlines + lone_returns.count()) as u64
}

fn malformed(err: &csv::Error) -> RosterRejection {
    let line = err.position().map(csv::Position::line).unwrap_or(1);
    file_problem(
        "malformed_csv",
        format!("The file is not valid CSV near line {line}."),
    )
}

/// The column of each cell position; `None` for unnamed, empty columns.
fn read_header(
    header: &csv::StringRecord,
    row: u64,
) -> Result<Vec<Option<Column>>, RosterRejection> {
    let mut problems = Problems::default();
    let mut columns = Vec::with_capacity(header.len());
    for cell in header.iter() {
        let echoed: String = cell.trim().chars().take(MAX_ECHOED_CHARS).collect();
        if cell.trim().is_empty() {
            columns.push(None);
            continue;
        }
        match Column::from_header(cell) {
            Some(column) if columns.contains(&Some(column)) => {
                problems.push(
                    Some(row),
                    Some(&echoed),
                    "duplicate_column",
                    format!("The column {} appears twice.", column.name()),
                );
                columns.push(None);
            }
            Some(column) => columns.push(Some(column)),
            None => {
                problems.push(
                    Some(row),
                    Some(&echoed),
                    "unknown_column",
                    format!(
                        "The column \"{echoed}\" is not one keyward knows. The columns are \
                         first_name, last_name, class, username and email."
                    ),
                );
                columns.push(None);
            }
        }
    }
    for column in Column::ALL.into_iter().filter(|c| c.required()) {
        if !columns.contains(&Some(column)) {
            problems.push(
                Some(row),
                Some(column.name()),
                "missing_column",
                format!("The first row must name a column {}.", column.name()),
            );
        }
    }
    if problems.is_empty() {
        Ok(columns)
    } else {
        Err(problems.into_rejection())
    }
}

/// One data row; `None` when it has a problem (recorded in `problems`).
fn read_row(
    record: &csv::StringRecord,
    row: u64,
    columns: &[Option<Column>],
    usernames: &mut HashMap<String, u64>,
    problems: &mut Problems,
) -> Option<RosterRow> {
    let before = problems.total;
    // The cell of each column, `None` where the column is absent or the cell
    // was refused as a formula (already reported).
    let mut cells: [Option<&str>; 5] = [Some(""); 5];
    for (index, cell) in record.iter().enumerate() {
        let column = columns.get(index).copied().flatten();
        let slot = column
            .and_then(|c| Column::ALL.iter().position(|known| *known == c))
            .and_then(|i| cells.get_mut(i));
        if looks_like_formula(cell) {
            problems.push(
                Some(row),
                column.map(Column::name),
                "formula_cell",
                "This cell starts with =, +, -, @ or a tab, which a spreadsheet would run as a \
                 formula. Remove that first character.",
            );
            if let Some(slot) = slot {
                *slot = None;
            }
            continue;
        }
        match slot {
            Some(slot) => *slot = Some(cell),
            None if !cell.trim().is_empty() => problems.push(
                Some(row),
                None,
                "cell_outside_columns",
                "This row has a value in a column without a name. Remove it or name the column.",
            ),
            None => {}
        }
    }
    let [first, last, class, username, email] = cells;
    let first_name = name_cell(first, row, Column::FirstName, MAX_NAME_CHARS, problems);
    let last_name = name_cell(last, row, Column::LastName, MAX_NAME_CHARS, problems);
    let class_name = name_cell(class, row, Column::Class, MAX_CLASS_CHARS, problems)
        .map(|name| name.split_whitespace().collect::<Vec<_>>().join(" "));
    let username = match username.unwrap_or_default().trim() {
        "" => None,
        typed => match Username::parse(typed) {
            Ok(username) => match usernames.get(username.key()) {
                Some(first_row) => {
                    problems.push(
                        Some(row),
                        Some(Column::Username.name()),
                        "username_duplicate",
                        format!("Row {first_row} already has the username {typed}."),
                    );
                    None
                }
                None => {
                    usernames.insert(username.key().to_owned(), row);
                    Some(username)
                }
            },
            Err(err) => {
                problems.push(
                    Some(row),
                    Some(Column::Username.name()),
                    err.code().as_str(),
                    err.to_string(),
                );
                None
            }
        },
    };
    let email = match email.unwrap_or_default().trim() {
        "" => None,
        typed => match EmailAddress::parse(typed) {
            Ok(email) => Some(email),
            Err(_) => {
                problems.push(
                    Some(row),
                    Some(Column::Email.name()),
                    "email_invalid",
                    "Enter an email address like name@example.org, or leave the cell empty.",
                );
                None
            }
        },
    };
    if problems.total != before {
        return None;
    }
    Some(RosterRow {
        row,
        first_name: first_name?,
        last_name: last_name?,
        class_name: class_name?,
        username,
        email,
    })
}

/// A required name cell: trimmed, not empty, not too long, no control
/// characters. A formula cell (`None`) was already reported.
fn name_cell(
    cell: Option<&str>,
    row: u64,
    column: Column,
    max_chars: usize,
    problems: &mut Problems,
) -> Option<String> {
    let value = cell?.trim();
    let what = match column {
        Column::FirstName => "first name",
        Column::LastName => "last name",
        _ => "class",
    };
    if value.is_empty() {
        problems.push(
            Some(row),
            Some(column.name()),
            "missing_value",
            format!("Enter the learner's {what}."),
        );
        return None;
    }
    if value.chars().count() > max_chars || value.chars().any(char::is_control) {
        problems.push(
            Some(row),
            Some(column.name()),
            "value_invalid",
            format!("The {what} has more than {max_chars} characters or a line break."),
        );
        return None;
    }
    Some(value.to_owned())
}
