//! What the parser tells its caller: the normalisations it applied to the
//! document, and the errors that stop an import. Both name the line of the
//! source file, and where it applies the table row and the column.

use std::fmt;

use serde::Serialize;

/// The six columns of the breakdown table, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Level1,
    Level2,
    Number,
    Task,
    Lead,
    Responsible,
}

impl Column {
    pub const ALL: [Column; 6] = [Column::Level1, Column::Level2, Column::Number, Column::Task, Column::Lead, Column::Responsible];

    /// The column's heading as the document writes it.
    pub const fn heading(self) -> &'static str {
        match self {
            Column::Level1 => "一级指标",
            Column::Level2 => "二级指标",
            Column::Number => "序号",
            Column::Task => "三级指标(具体任务事项)",
            Column::Lead => "牵头单位",
            Column::Responsible => "责任单位",
        }
    }
}

/// Where in the source something was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// 1-based line of a text file; for a sheet or a Word table, the row.
    pub line: u32,
    /// 1-based row of the table, header rows included; `None` outside the table.
    pub row: Option<u32>,
    pub column: Option<Column>,
    /// For a workbook or a Word document: the sheet or table, e.g.
    /// `sheet 基础任务清单`. `None` for a text file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
}

impl Location {
    /// The document as a whole, for errors that have no line (a file that
    /// is not a Word document, a workbook without the table …). Its line
    /// is 0.
    pub fn whole() -> Location {
        Location { line: 0, row: None, column: None, place: None }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 && self.place.is_none() {
            return f.write_str("the document");
        }
        if let Some(place) = &self.place {
            write!(f, "{place}, row {}", self.line)?;
            return match self.column {
                Some(column) => write!(f, ", cell {}", column.heading()),
                None => Ok(()),
            };
        }
        write!(f, "line {}", self.line)?;
        match (self.row, self.column) {
            (Some(row), Some(column)) => write!(f, " (table row {row}, cell {})", column.heading()),
            (Some(row), None) => write!(f, " (table row {row})"),
            (None, Some(column)) => write!(f, " (cell {})", column.heading()),
            (None, None) => Ok(()),
        }
    }
}

/// A kind of change the parser made so that the document reads as one
/// consistent table. Each is reported, never applied silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NormalisationKind {
    /// A repeated header row at a page break was skipped.
    PageHeaderSkipped,
    /// A page header named a level-1 indicator other than the one the
    /// continuing level-2 group belongs to; the group kept its parent.
    WrongLevel1Label,
    /// A page header repeated a level-1 label the table had already left behind.
    StaleLevel1Label,
    /// A page header beside the quantified, extended or negative list repeated
    /// a level-1 label; those lists have no indicators.
    Level1LabelBesideList,
    /// A Word artefact such as `[bookmark: _GoBack]` was removed.
    WordArtifactRemoved,
    /// Full-width characters (（）, digits, spaces) were made half-width.
    FullWidthNormalised,
    /// A cell written over several lines was joined into one.
    CellLinesJoined,
    /// Blank lines inside a cell were dropped.
    BlankLinesDropped,
    /// Leading or trailing spaces were trimmed.
    WhitespaceTrimmed,
    /// Trailing punctuation after an indicator title was dropped.
    TitlePunctuationDropped,
    /// Two occurrences of one indicator's title differed, one a prefix of the
    /// other; the longer one was kept.
    TruncatedTitleCompleted,
}

/// One normalisation applied at one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Normalisation {
    pub at: Location,
    pub kind: NormalisationKind,
    /// A sentence saying what was changed, quoting the text.
    pub detail: String,
}

impl fmt::Display for Normalisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.detail)
    }
}

/// Something in the document that the parser cannot read as a breakdown
/// table. An import with any such error writes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{at}: {message}")]
pub struct ParseError {
    pub at: Location,
    pub message: String,
}

impl ParseError {
    /// An error about the document as a whole.
    pub fn whole(message: impl Into<String>) -> ParseError {
        ParseError { at: Location::whole(), message: message.into() }
    }
}

/// All the errors found in one document, in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseErrors(pub Vec<ParseError>);

impl ParseErrors {
    /// One error about the document as a whole.
    pub fn message(message: impl Into<String>) -> ParseErrors {
        ParseErrors(vec![ParseError::whole(message)])
    }
}

impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        write!(f, "the document is not a readable breakdown table ({count} error{}):", if count == 1 { "" } else { "s" })?;
        for error in &self.0 {
            write!(f, "\n  {error}")?;
        }
        Ok(())
    }
}
