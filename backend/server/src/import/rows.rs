//! Rows of a bulk import file, whatever its format: a JSON array of
//! objects (or `{"rows": [...]}`), CSV with a header row, or the first sheet
//! of a workbook with a header row. Each row becomes a map from canonical
//! column names to text, remembering where it came from.
//!
//! Columns are named in English or Chinese; each kind of import says which
//! it accepts ([`Columns`]). An unknown column refuses the whole file: a
//! misspelt heading would otherwise silently drop data.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, Sheets};

/// A row's cells by canonical column name; blank cells are left out.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// The row as the file counts it: CSV line, sheet row, JSON position.
    pub number: i32,
    pub place: Option<String>,
    pub cells: BTreeMap<&'static str, String>,
}

impl Row {
    pub fn get(&self, column: &str) -> Option<&str> {
        self.cells.get(column).map(String::as_str)
    }
}

/// The columns one kind of import accepts: canonical name and the other
/// headings that mean it.
pub struct Columns(pub &'static [(&'static str, &'static [&'static str])]);

impl Columns {
    fn canonical(&self, heading: &str) -> Option<&'static str> {
        let heading: String = heading.trim().trim_start_matches('\u{feff}').chars().filter(|c| !c.is_whitespace()).collect();
        self.0
            .iter()
            .find(|(name, aliases)| name.eq_ignore_ascii_case(&heading) || aliases.contains(&heading.as_str()))
            .map(|(name, _)| *name)
    }

    fn names(&self) -> String {
        self.0.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
    }

    fn headings(&self, headings: &[String]) -> Result<Vec<Option<&'static str>>, String> {
        let mut seen = Vec::new();
        let mut canonical = Vec::new();
        for heading in headings {
            if heading.trim().is_empty() {
                canonical.push(None);
                continue;
            }
            let name = self.canonical(heading).ok_or_else(|| format!("unknown column {heading:?}; the columns are {}", self.names()))?;
            if seen.contains(&name) {
                return Err(format!("the column {name} appears twice"));
            }
            seen.push(name);
            canonical.push(Some(name));
        }
        Ok(canonical)
    }
}

/// The formats a row file comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFormat {
    Json,
    Csv,
    Workbook,
}

/// Reads every row, or says why the file as a whole cannot be read.
pub fn read(format: RowFormat, bytes: &[u8], columns: &Columns) -> Result<Vec<Row>, String> {
    match format {
        RowFormat::Json => read_json(bytes, columns),
        RowFormat::Csv => read_csv(bytes, columns),
        RowFormat::Workbook => read_workbook(bytes, columns),
    }
}

fn read_json(bytes: &[u8], columns: &Columns) -> Result<Vec<Row>, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| format!("the body is not JSON: {error}"))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut object) => match object.remove("rows") {
            Some(serde_json::Value::Array(items)) => items,
            _ => return Err("a JSON body is an array of rows, or an object whose \"rows\" is one".to_owned()),
        },
        _ => return Err("a JSON body is an array of rows, or an object whose \"rows\" is one".to_owned()),
    };
    let mut rows = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let number = index as i32 + 1;
        let serde_json::Value::Object(object) = item else {
            return Err(format!("row {number} is not an object"));
        };
        let mut cells = BTreeMap::new();
        for (key, value) in object {
            let name = columns
                .canonical(&key)
                .ok_or_else(|| format!("row {number}: unknown field {key:?}; the fields are {}", columns.names()))?;
            let text = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(text) => text,
                serde_json::Value::Array(items) => {
                    items.iter().map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_owned)).collect::<Vec<_>>().join("\n")
                }
                other => other.to_string(),
            };
            if !text.trim().is_empty() {
                cells.insert(name, text);
            }
        }
        rows.push(Row { number, place: None, cells });
    }
    Ok(rows)
}

fn read_csv(bytes: &[u8], columns: &Columns) -> Result<Vec<Row>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the CSV file is not UTF-8 text (save it as \"CSV UTF-8\")".to_owned())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headings: Vec<String> =
        reader.headers().map_err(|error| format!("the CSV header cannot be read: {error}"))?.iter().map(str::to_owned).collect();
    let canonical = columns.headings(&headings)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| format!("the CSV cannot be read: {error}"))?;
        let number = record.position().map_or(0, |position| position.line() as i32);
        if record.len() > headings.len() && record.iter().skip(headings.len()).any(|cell| !cell.trim().is_empty()) {
            return Err(format!("line {number} has {} cells but the header has {}", record.len(), headings.len()));
        }
        let cells = canonical
            .iter()
            .zip(record.iter())
            .filter_map(|(name, cell)| Some(((*name)?, duban_breakdown::cells::restore(cell).to_owned())))
            .filter(|(_, cell)| !cell.trim().is_empty())
            .collect();
        rows.push(Row { number, place: None, cells });
    }
    Ok(rows)
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) => text.clone(),
        Data::Float(number) if number.fract() == 0.0 => format!("{}", *number as i64),
        // A date cell (a due date): Excel counts days from 1899-12-30.
        Data::DateTime(date) if date.is_datetime() => chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(date.as_f64().floor() as i64)))
            .map_or_else(|| date.to_string(), |day| day.to_string()),
        other => other.to_string(),
    }
}

fn read_workbook(bytes: &[u8], columns: &Columns) -> Result<Vec<Row>, String> {
    duban_breakdown::archive::check(bytes).map_err(|refused| refused.to_string())?;
    let mut workbook: Sheets<_> =
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|error| format!("not a readable workbook: {error}"))?;
    let sheet = workbook.sheet_names().into_iter().next().ok_or("the workbook has no sheets")?;
    let range = workbook.worksheet_range(&sheet).map_err(|error| format!("reading the sheet {sheet}: {error}"))?;
    let first_row = range.start().map_or(0, |(row, _)| row) as i32 + 1;
    let mut lines = range.rows().enumerate().filter(|(_, cells)| cells.iter().any(|cell| !cell_text(cell).trim().is_empty()));
    let Some((_, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let headings: Vec<String> = header.iter().map(cell_text).collect();
    let canonical = columns.headings(&headings)?;
    let place = Some(format!("sheet {sheet}"));
    Ok(lines
        .map(|(index, cells)| Row {
            number: first_row + index as i32,
            place: place.clone(),
            cells: canonical
                .iter()
                .zip(cells)
                .filter_map(|(name, cell)| Some(((*name)?, cell_text(cell))))
                .filter(|(_, text)| !text.trim().is_empty())
                .collect(),
        })
        .collect())
}
