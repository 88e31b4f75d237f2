//! The one place where a cell bound for a spreadsheet is made safe
//! (R-TCH-5): a cell that a spreadsheet would read as a formula is prefixed
//! with an apostrophe so that it is shown as text. Every CSV the service
//! writes for people to open passes each cell through [`spreadsheet_safe`].

use std::borrow::Cow;

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
