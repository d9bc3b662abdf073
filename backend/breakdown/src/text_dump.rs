//! Reader for the plain-text dump of a Word table, the format of
//! `seeds/luoping-task-breakdown.txt`.
//!
//! The format, as the county's tool writes it: lines before the first tab
//! are the preamble; a line starting with a tab starts a new cell; a line
//! without a tab continues the cell before it (a cell written over several
//! lines); a blank line after a row's sixth cell ends the row. A blank line
//! before the sixth cell is an empty paragraph inside a cell — Word writes
//! one where a cell ends with an empty line — and never ends a row.

use crate::report::{Location, ParseError};
use crate::table::{RawCell, RawRow, RawTable};

/// The breakdown table has exactly these many columns.
pub const COLUMNS: usize = 6;

/// Splits a text dump into preamble and rows. Fails only when the cells
/// cannot be grouped into rows of six; what the cells mean is checked later.
pub fn read(text: &str) -> Result<RawTable, ParseError> {
    let mut table = RawTable::default();
    let mut row: Option<RawRow> = None;
    let mut rows_started = 0u32;

    for (index, raw_line) in text.split('\n').enumerate() {
        let line = u32::try_from(index + 1).expect("a seed document has fewer than 4 billion lines");
        let content = raw_line.strip_suffix('\r').unwrap_or(raw_line);

        if let Some(cell_text) = content.strip_prefix('\t') {
            let current = row.get_or_insert_with(|| {
                rows_started += 1;
                RawRow { number: rows_started, line, cells: Vec::new(), place: None }
            });
            if current.cells.len() == COLUMNS {
                return Err(overfull_row(current, line));
            }
            current.cells.push(RawCell { line, paragraphs: vec![cell_text.to_owned()] });
        } else if content.trim().is_empty() {
            match row.take() {
                Some(current) if current.cells.len() == COLUMNS => table.rows.push(current),
                Some(mut current) => {
                    let cell = current.cells.last_mut().expect("a started row has a cell");
                    cell.paragraphs.push(String::new());
                    row = Some(current);
                }
                None => {}
            }
        } else if let Some(current) = row.as_mut() {
            let cell = current.cells.last_mut().expect("a started row has a cell");
            cell.paragraphs.push(content.to_owned());
        } else if let Some(previous) = table.rows.last_mut() {
            // Text after a finished row continues that row's last cell: a
            // blank paragraph inside the last cell looked like the row's end.
            let cell = previous.cells.last_mut().expect("a finished row has six cells");
            cell.paragraphs.push(String::new());
            cell.paragraphs.push(content.to_owned());
        } else {
            table.preamble.push((line, content.to_owned()));
        }
    }

    if let Some(current) = row {
        if current.cells.len() == COLUMNS {
            table.rows.push(current);
        } else {
            return Err(ParseError {
                at: Location { line: current.line, row: Some(current.number), column: None, place: None },
                message: format!("the file ends inside a row: the row has {} of its {COLUMNS} cells", current.cells.len()),
            });
        }
    }
    Ok(table)
}

fn overfull_row(row: &RawRow, line: u32) -> ParseError {
    ParseError {
        at: Location { line: row.line, row: Some(row.number), column: None, place: None },
        message: format!(
            "a row has {COLUMNS} cells (一级指标, 二级指标, 序号, 三级指标, 牵头单位, 责任单位), \
             but the row starting here goes on with a seventh cell at line {line}; \
             a cell of this row is probably missing, or its end (a blank line) is"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_cells_into_rows_and_keeps_continuations() {
        let text = "title\n\n\ta\n\tb\n\t1\n\ttext\n\tlead one\nlead two\n\tresp\nonse\n\n\t\n\t\n\t2\n\tt\n\tl\n\n\tr\n\n";
        let table = read(text).unwrap();
        assert_eq!(table.preamble, vec![(1, "title".to_owned())]);
        assert_eq!(table.rows.len(), 2);
        let first = &table.rows[0];
        assert_eq!((first.number, first.line), (1, 3));
        assert_eq!(first.cells[4].paragraphs, ["lead one", "lead two"]);
        assert_eq!(first.cells[5].paragraphs, ["resp", "onse"]);
        // The blank line after the fifth cell is a paragraph, not a row end.
        let second = &table.rows[1];
        assert_eq!(second.cells[4].paragraphs, ["l", ""]);
        assert_eq!(second.cells[5].paragraphs, ["r"]);
    }

    #[test]
    fn names_the_row_that_has_too_many_cells() {
        let text = "\ta\n\tb\n\tc\n\td\n\te\n\tf\n\tg\n";
        let error = read(text).unwrap_err();
        assert_eq!(error.at.line, 1);
        assert_eq!(error.at.row, Some(1));
        assert!(error.message.contains("line 7"), "{}", error.message);
    }

    #[test]
    fn names_an_unfinished_last_row() {
        let error = read("\ta\n\tb\n\tc\n").unwrap_err();
        assert_eq!(error.at.row, Some(1));
        assert!(error.message.contains("3 of its 6"), "{}", error.message);
    }

    #[test]
    fn accepts_windows_line_ends() {
        let table = read("\ta\r\n\tb\r\n\tc\r\n\td\r\n\te\r\n\tf\r\n\r\n").unwrap();
        assert_eq!(table.rows[0].cells[5].paragraphs, ["f"]);
    }
}
