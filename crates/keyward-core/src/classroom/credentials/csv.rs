//! The one place where a CSV for people to open is written (R-TCH-5):
//! [`write_csv`] makes RFC 4180 bytes (CRLF, UTF-8 without a byte-order
//! mark) and passes every cell through [`spreadsheet_safe`], which prefixes a
//! cell a spreadsheet would read as a formula with an apostrophe so that it
//! is shown as text.

use std::borrow::Cow;

use crate::error::Internal;

/// A header row and data rows as CSV, every cell made safe for spreadsheets.
pub fn write_csv<'a, Rows, Row>(header: &[&str], rows: Rows) -> Result<Vec<u8>, Internal>
where
    Rows: IntoIterator<Item = Row>,
    Row: IntoIterator<Item = &'a str>,
{
    let mut writer = csv_writer();
    writer.write_record(header).map_err(Internal::new)?;
    for row in rows {
        let cells: Vec<Cow<'_, str>> = row.into_iter().map(spreadsheet_safe).collect();
        writer
            .write_record(cells.iter().map(|cell| cell.as_bytes()))
            .map_err(Internal::new)?;
    }
    writer
        .into_inner()
        .map_err(|err| Internal::new(err.to_string()))
}

/// One data row as CSV bytes (CRLF at the end), every cell made safe for
/// spreadsheets as [`write_csv`] makes them: for files sent row by row.
pub fn csv_record<'a>(row: impl IntoIterator<Item = &'a str>) -> Result<Vec<u8>, Internal> {
    let mut writer = csv_writer();
    let cells: Vec<Cow<'_, str>> = row.into_iter().map(spreadsheet_safe).collect();
    writer
        .write_record(cells.iter().map(|cell| cell.as_bytes()))
        .map_err(Internal::new)?;
    writer
        .into_inner()
        .map_err(|err| Internal::new(err.to_string()))
}

/// RFC 4180 with CRLF line ends, into memory.
fn csv_writer() -> ::csv::Writer<Vec<u8>> {
    ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

/// Characters that make a spreadsheet treat a cell as a formula (or that
/// some spreadsheets strip before deciding so), including the full-width
/// forms that some spreadsheets fold to their ASCII counterparts.
const FORMULA_STARTS: &[char] = &[
    '=', '+', '-', '@', '\t', '\r', '\u{FF1D}', // ＝
    '\u{FF0B}', // ＋
    '\u{FF0D}', // －
    '\u{FF20}', // ＠
];

/// Returns `cell` unchanged unless a spreadsheet could take it for a formula,
/// in which case it is returned with a leading apostrophe. A cell counts as a
/// formula when its first character, or its first character after leading
/// whitespace, is `=`, `+`, `-`, `@`, a tab or a carriage return (or the
/// full-width `＝＋－＠`).
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    if looks_like_formula(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Whether a spreadsheet could take the cell for a formula (CSV injection),
/// by the rule of [`spreadsheet_safe`]. The roster import refuses such cells.
pub fn looks_like_formula(cell: &str) -> bool {
    cell.chars()
        .find(|c| !c.is_whitespace() || *c == '\t' || *c == '\r')
        .is_some_and(|c| FORMULA_STARTS.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;
    use std::borrow::Cow;

    #[test]
    fn formula_starts_are_prefixed() {
        for cell in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+1",
            "-1+2",
            "@SUM(A1)",
            "\tcmd",
            "\rcmd",
            "＝1+1",
            "＋1",
            "－1",
            "＠x",
            " =1+1",
            "\u{00A0}+1",
            "\n=1",
        ] {
            assert_eq!(spreadsheet_safe(cell), format!("'{cell}"), "{cell:?}");
        }
    }

    #[test]
    fn ordinary_cells_are_borrowed_unchanged() {
        for cell in [
            "",
            "   ",
            "Amy",
            "O'Neil",
            "demo.amy",
            "a=b",
            "1-2",
            "x@example.org",
            "'=already quoted",
            "Zoë",
        ] {
            let safe = spreadsheet_safe(cell);
            assert!(matches!(safe, Cow::Borrowed(_)), "{cell:?}");
            assert_eq!(safe, cell);
        }
    }
}
