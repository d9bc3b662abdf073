//! The flat format for scripts: one row per task, as CSV (with a header
//! row) or as a JSON array of objects.
//!
//! | column        | also accepted as     | content                                       |
//! |---------------|----------------------|-----------------------------------------------|
//! | `code`        | 任务编码             | optional: B001, Q01 … checked against list and number |
//! | `list`        | 清单                 | basic, quantified, extended, negative (or 基础任务清单 …) |
//! | `number`      | 序号                 | 1, 2 … within the list                        |
//! | `level1`      | 一级指标             | basic tasks: 一、政府职能依法全面履行          |
//! | `level2`      | 二级指标             | basic tasks: (一)加大简政放权力度              |
//! | `text`        | 三级指标(具体任务事项) | the task                                      |
//! | `leads`       | 牵头单位             | lead units, one per line (or separated by ;)  |
//! | `responsible` | 责任单位             | the responsible units' phrase; may be empty   |
//!
//! Rows are turned into a table and read by the same interpreter as every
//! other format, so the same rules and normalisations apply.

use duban_dto::TaskList;
use serde::Deserialize;

use crate::report::{Column, Location, ParseError, ParseErrors};
use crate::table::{RawCell, RawRow, RawTable};

/// One task of the flat format.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FlatRow {
    #[serde(default)]
    pub code: Option<String>,
    pub list: String,
    pub number: serde_json::Value,
    #[serde(default)]
    pub level1: Option<String>,
    #[serde(default)]
    pub level2: Option<String>,
    pub text: String,
    pub leads: serde_json::Value,
    #[serde(default)]
    pub responsible: Option<String>,
}

fn list_of(text: &str) -> Option<TaskList> {
    let text = text.trim();
    TaskList::parse(text).or_else(|| TaskList::ALL.iter().copied().find(|list| text.starts_with(list.zh_name())))
}

fn number_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn leads_of(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::Array(items) => items.iter().map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_owned)).collect(),
        serde_json::Value::String(text) => text.split(['\n', ';', '；']).map(str::to_owned).collect(),
        serde_json::Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

/// Builds the table; rows are (line, row) pairs.
fn table(rows: Vec<(u32, FlatRow)>, place: &str) -> Result<RawTable, ParseErrors> {
    let place = Some(place.to_owned());
    let header = Column::ALL.iter().map(|column| RawCell { line: 1, paragraphs: vec![column.heading().to_owned()] }).collect();
    let mut table = RawTable { preamble: Vec::new(), rows: vec![RawRow { number: 1, line: 1, cells: header, place: place.clone() }] };
    let mut errors = Vec::new();
    let mut previous_list = TaskList::Basic;
    for (index, (line, row)) in rows.into_iter().enumerate() {
        let number = index as u32 + 2;
        let at = |column: Column| Location { line, row: Some(number), column: Some(column), place: place.clone() };
        let Some(list) = list_of(&row.list) else {
            errors.push(ParseError {
                at: at(Column::Level2),
                message: format!("list {:?} is not basic, quantified, extended or negative", row.list),
            });
            continue;
        };
        let number_written = number_text(&row.number);
        if let (Some(code), Ok(parsed)) =
            (row.code.as_deref().map(str::trim).filter(|c| !c.is_empty()), number_written.trim().parse::<u32>())
        {
            let expected = list.task_code(parsed);
            if code != expected {
                errors.push(ParseError {
                    at: at(Column::Number),
                    message: format!("code {code} does not belong to {list} task {parsed} (that is {expected})"),
                });
            }
        }
        let level2 = if list == TaskList::Basic {
            row.level2.clone().unwrap_or_default()
        } else if list != previous_list {
            list.zh_name().to_owned()
        } else {
            String::new()
        };
        let level1 = if list == TaskList::Basic { row.level1.clone().unwrap_or_default() } else { String::new() };
        previous_list = list;
        let cell = |text: String| RawCell { line, paragraphs: vec![text] };
        table.rows.push(RawRow {
            number,
            line,
            cells: vec![
                cell(level1),
                cell(level2),
                cell(number_written),
                cell(row.text.clone()),
                RawCell { line, paragraphs: leads_of(&row.leads) },
                cell(row.responsible.clone().unwrap_or_default()),
            ],
            place: place.clone(),
        });
    }
    if errors.is_empty() { Ok(table) } else { Err(ParseErrors(errors)) }
}

/// Reads the flat format as CSV (UTF-8, a BOM allowed; English or Chinese headings).
pub fn read_csv(bytes: &[u8]) -> Result<RawTable, ParseErrors> {
    let text = std::str::from_utf8(bytes).map_err(|_| ParseErrors::message("the CSV file is not UTF-8 text"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headings: Vec<String> =
        reader.headers().map_err(|e| ParseErrors::message(format!("the CSV header cannot be read: {e}")))?.iter().map(canonical).collect();
    for required in ["list", "number", "text", "leads"] {
        if !headings.iter().any(|h| h == required) {
            return Err(ParseErrors::message(format!("the CSV has no column {required:?} (see the flat format in seeds/README.md)")));
        }
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(1, |p| p.line() as u32);
                errors.push(ParseError {
                    at: Location { line, row: None, column: None, place: Some("CSV".to_owned()) },
                    message: error.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as u32);
        let field = |name: &str| {
            headings.iter().position(|h| h == name).and_then(|i| record.get(i)).map(|cell| crate::cells::restore(cell).to_owned())
        };
        rows.push((
            line,
            FlatRow {
                code: field("code"),
                list: field("list").unwrap_or_default(),
                number: serde_json::Value::String(field("number").unwrap_or_default()),
                level1: field("level1"),
                level2: field("level2"),
                text: field("text").unwrap_or_default(),
                leads: serde_json::Value::String(field("leads").unwrap_or_default()),
                responsible: field("responsible"),
            },
        ));
    }
    if !errors.is_empty() {
        return Err(ParseErrors(errors));
    }
    table(rows, "CSV")
}

/// Reads the flat format as a JSON array of objects with the English names.
pub fn read_json(json: &str) -> Result<RawTable, ParseErrors> {
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    let rows: Vec<FlatRow> = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        ParseErrors::message(format!("{path}: {}", error.into_inner()))
    })?;
    table(rows.into_iter().enumerate().map(|(i, row)| (i as u32 + 1, row)).collect(), "JSON")
}

/// English column names for Chinese headings.
fn canonical(heading: &str) -> String {
    let heading: String = heading.trim().chars().filter(|c| !c.is_whitespace()).collect();
    match heading.as_str() {
        "任务编码" | "编码" => "code",
        "清单" => "list",
        "序号" => "number",
        "一级指标" => "level1",
        "二级指标" => "level2",
        "牵头单位" => "leads",
        "责任单位" => "responsible",
        other if other.starts_with("三级指标") => "text",
        other => return other.to_lowercase(),
    }
    .to_owned()
}
