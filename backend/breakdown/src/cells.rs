//! Text cells as duban writes them for spreadsheet programs and reads them
//! back.
//!
//! CSV has no types: Excel, WPS and LibreOffice take a cell that begins
//! with `=`, `+`, `-` or `@` — and some a tab or a carriage return — for a
//! formula, so a unit name, a progress note or a failed sign-in's username
//! could open a link or run a command on the computer of whoever opens an
//! export (CSV injection). duban writes such cells with a leading
//! apostrophe, which spreadsheet programs show as plain text, and its CSV
//! readers take the apostrophe away again, so exports still import without
//! changes.

use std::borrow::Cow;

/// The characters that make a spreadsheet program read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `text` as a CSV cell that a spreadsheet program shows as text.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) { Cow::Owned(format!("'{text}")) } else { Cow::Borrowed(text) }
}

/// The text of a CSV cell that [`neutralise`] wrote: without the apostrophe
/// it added, and unchanged otherwise.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// The most characters a workbook cell holds (Excel's limit).
pub const WORKBOOK_CELL_LIMIT: usize = 32_767;

/// `text` cut to what a workbook cell holds, marked as cut, so that an
/// export never fails on stored text.
pub fn fit_workbook_cell(text: &str) -> Cow<'_, str> {
    const MARK: &str = "…（已截断）";
    if text.chars().count() <= WORKBOOK_CELL_LIMIT {
        return Cow::Borrowed(text);
    }
    let keep = WORKBOOK_CELL_LIMIT - MARK.chars().count();
    Cow::Owned(text.chars().take(keep).chain(MARK.chars()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_come_back() {
        for formula in ["=HYPERLINK(\"http://evil.example/\",\"单位\")", "@SUM(1+1)*cmd|' /C calc'!A0", "+1", "-2+3", "\tx", "\rx"] {
            let written = neutralise(formula);
            assert!(written.starts_with('\''), "{formula:?}");
            assert_eq!(restore(&written), formula);
        }
        assert_eq!(neutralise("县司法局"), "县司法局");
        assert_eq!(restore("'quoted on purpose"), "'quoted on purpose", "an apostrophe duban did not add stays");
    }

    #[test]
    fn long_text_is_cut_to_a_workbook_cell() {
        let long = "字".repeat(WORKBOOK_CELL_LIMIT + 10);
        let fitted = fit_workbook_cell(&long);
        assert_eq!(fitted.chars().count(), WORKBOOK_CELL_LIMIT);
        assert!(fitted.ends_with("（已截断）"));
        assert_eq!(fit_workbook_cell("短"), "短");
    }
}
