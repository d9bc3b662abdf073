//! Reader for the breakdown table as a workbook (.xlsx, and .xls).
//!
//! A county's own workbook has one sheet: rows above the header are the
//! preamble (the title), the indicator columns are merged down (a merged
//! cell's text is in its first row, the rest are empty — as in the text
//! dump), and a cell holding several units has them on separate lines.
//!
//! duban's own export has one sheet per list (基础任务清单, 量化任务清单 …);
//! those sheets are read in that order, as one table, and other sheets (the
//! per-unit list) are ignored. Columns are found by their headings, so extra
//! columns (status, progress …) do not matter; a 任务编码 column, when
//! present, must agree with the list and number.

use std::io::Cursor;

use calamine::{Data, Reader, Sheets};
use duban_dto::TaskList;

use crate::clean;
use crate::report::{Column, Location, ParseError};
use crate::table::{RawCell, RawRow, RawTable};

/// The heading of the column with the stable task code in duban's export.
pub const CODE_HEADING: &str = "任务编码";

fn text_of(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) => text.clone(),
        // 序号 typed as a number: 12.0 is 12.
        Data::Float(number) if number.fract() == 0.0 => format!("{}", *number as i64),
        Data::Float(number) => number.to_string(),
        Data::Int(number) => number.to_string(),
        Data::Bool(value) => value.to_string(),
        other => other.to_string(),
    }
}

fn squeezed(text: &str) -> String {
    text.chars().filter(|&c| !clean::is_space(c)).collect()
}

/// Where the six columns (and the code column) are, from a header row.
fn header_columns(cells: &[String]) -> Option<([usize; 6], Option<usize>)> {
    let find = |heading: &str| cells.iter().position(|cell| squeezed(cell).starts_with(heading));
    let columns = [find("一级指标")?, find("二级指标")?, find("序号")?, find("三级指标")?, find("牵头单位")?, find("责任单位")?];
    Some((columns, find(CODE_HEADING)))
}

pub fn read(bytes: &[u8]) -> Result<RawTable, ParseError> {
    crate::archive::check(bytes).map_err(|refused| ParseError::whole(refused.to_string()))?;
    let mut workbook: Sheets<_> = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| ParseError::whole(format!("not a readable workbook (.xlsx, .xls): {e}")))?;
    let names = workbook.sheet_names();
    let list_sheets: Vec<String> =
        TaskList::ALL.iter().filter_map(|list| names.iter().find(|name| squeezed(name).starts_with(list.zh_name())).cloned()).collect();
    let sheets = if list_sheets.is_empty() { names.into_iter().take(1).collect() } else { list_sheets };

    let mut table = RawTable::default();
    let mut number = 0;
    let mut seen_header = false;
    let mut problems = Vec::new();
    for sheet in sheets {
        let range = workbook.worksheet_range(&sheet).map_err(|e| ParseError::whole(format!("reading the sheet {sheet}: {e}")))?;
        let first_row = range.start().map_or(0, |(row, _)| row) + 1;
        let rows: Vec<Vec<String>> = range.rows().map(|row| row.iter().map(text_of).collect()).collect();
        let Some((header_at, (columns, code_column))) = rows.iter().enumerate().find_map(|(i, row)| header_columns(row).map(|c| (i, c)))
        else {
            return Err(ParseError::whole(format!(
                "the sheet {sheet} has no header row reading 一级指标 | 二级指标 | 序号 | 三级指标 | 牵头单位 | 责任单位"
            )));
        };
        let place = Some(format!("sheet {sheet}"));
        for (i, row) in rows.iter().enumerate().take(header_at) {
            let text: Vec<&str> = row.iter().map(String::as_str).filter(|cell| !cell.trim().is_empty()).collect();
            if !text.is_empty() && !seen_header {
                table.preamble.push((first_row + i as u32, text.join(" ")));
            }
        }
        // Each list sheet repeats the header; the table has it once.
        let first_data = if seen_header { header_at + 1 } else { header_at };
        seen_header = true;
        for (i, row) in rows.iter().enumerate().skip(first_data) {
            if row.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            let line = first_row + i as u32;
            number += 1;
            let cell = |index: usize| row.get(index).cloned().unwrap_or_default();
            let cells: Vec<RawCell> = columns
                .iter()
                .map(|&index| RawCell { line, paragraphs: cell(index).split('\n').map(|p| p.trim_end_matches('\r').to_owned()).collect() })
                .collect();
            if let Some(code_index) = code_column
                && i > header_at
            {
                problems.extend(code_check(&cell(code_index), &cell(columns[2]), &sheet, line, number));
            }
            table.rows.push(RawRow { number, line, cells, place: place.clone() });
        }
    }
    match problems.into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(table),
    }
}

/// A 任务编码 that disagrees with its row's number means rows were moved
/// by hand; refusing is safer than guessing which is right.
fn code_check(code: &str, number: &str, sheet: &str, line: u32, row: u32) -> Option<ParseError> {
    let code = code.trim();
    if code.is_empty() {
        return None;
    }
    let list = TaskList::ALL.iter().copied().find(|list| squeezed(sheet).starts_with(list.zh_name()))?;
    let number: u32 = squeezed(number).parse().ok()?;
    let expected = list.task_code(number);
    (code != expected).then(|| ParseError {
        at: Location { line, row: Some(row), column: Some(Column::Number), place: Some(format!("sheet {sheet}")) },
        message: format!("{CODE_HEADING} {code} does not belong to 序号 {number} of the {} (that is {expected})", list.zh_name()),
    })
}
