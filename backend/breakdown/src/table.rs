//! A table as a document reader found it: rows of cells, each cell a list of
//! paragraphs, each remembering where it came from. Readers for the text
//! dump (and later Word and Excel) produce this; [`crate::interpret`] gives
//! it meaning.

/// One cell: the paragraphs it holds, in order, exactly as read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawCell {
    /// 1-based source line where the cell starts.
    pub line: u32,
    pub paragraphs: Vec<String>,
}

/// One table row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    /// 1-based position among the table's rows, header rows included.
    pub number: u32,
    /// 1-based source line where the row starts; for a sheet or a Word
    /// table, its row.
    pub line: u32,
    pub cells: Vec<RawCell>,
    /// The sheet or Word table the row is in; `None` for a text file.
    pub place: Option<String>,
}

/// A document's text before the table, and the table itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawTable {
    /// Non-blank lines before the table, with their line numbers.
    pub preamble: Vec<(u32, String)>,
    pub rows: Vec<RawRow>,
}
