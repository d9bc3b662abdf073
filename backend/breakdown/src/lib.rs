//! The county's task breakdown table (任务分解表): reading its documents,
//! normalising what real documents contain, and the seed file formats.
//!
//! Reading is two steps. A reader turns a document into a [`table::RawTable`]
//! of rows and cells; [`interpret::interpret`] gives the table meaning
//! ([`document::Document`]) and reports every normalisation it applied. No
//! database is involved: the server resolves unit names and writes.
//!
//! Every format goes through the same interpreter, so a table means the same
//! whether it arrives as a text dump, a Word document, a workbook or flat
//! rows from a script.

pub mod archive;
pub mod cells;
pub mod clean;
pub mod document;
pub mod docx;
pub mod flat;
pub mod interpret;
pub mod knowledge;
pub mod numerals;
pub mod report;
pub mod resolve;
pub mod seed;
pub mod table;
pub mod text_dump;
pub mod xlsx;

pub use document::Document;
pub use report::{Column, Location, Normalisation, NormalisationKind, ParseError, ParseErrors};

/// The formats a breakdown table can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The plain-text dump of the Word table (cells on tab-prefixed lines).
    TextDump,
    /// A Word document (.docx).
    Docx,
    /// A workbook (.xlsx, .xls, .ods).
    Workbook,
    /// The flat format as CSV.
    Csv,
    /// The flat format as a JSON array.
    Json,
}

impl Format {
    /// Tells the format by the file name's extension, or, without one, by
    /// the content: a zip archive with `word/document.xml` is Word, other
    /// zip and OLE files are workbooks, `[` starts flat JSON.
    pub fn detect(file_name: Option<&str>, bytes: &[u8]) -> Option<Format> {
        let extension = file_name.and_then(|name| name.rsplit_once('.')).map(|(_, ext)| ext.to_ascii_lowercase());
        match extension.as_deref() {
            Some("txt") => return Some(Format::TextDump),
            Some("docx") => return Some(Format::Docx),
            Some("xlsx" | "xlsm" | "xls" | "ods") => return Some(Format::Workbook),
            Some("csv") => return Some(Format::Csv),
            Some("json") => return Some(Format::Json),
            _ => {}
        }
        if bytes.starts_with(b"PK\x03\x04") {
            let is_word = bytes.windows(b"word/document.xml".len()).any(|window| window == b"word/document.xml");
            return Some(if is_word { Format::Docx } else { Format::Workbook });
        }
        if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            return Some(Format::Workbook);
        }
        let text = std::str::from_utf8(bytes).ok()?;
        let text = text.trim_start_matches('\u{feff}').trim_start();
        if text.starts_with('[') {
            Some(Format::Json)
        } else if text.lines().any(|line| line.starts_with('\t')) {
            Some(Format::TextDump)
        } else if text.lines().next().is_some_and(|header| header.contains(',')) {
            Some(Format::Csv)
        } else {
            None
        }
    }
}

/// Reads the plain-text dump of a breakdown table.
pub fn read_text_dump(text: &str) -> Result<Document, ParseErrors> {
    read_document(Format::TextDump, text.as_bytes())
}

/// Reads a breakdown table in any of the [`Format`]s.
pub fn read_document(format: Format, bytes: &[u8]) -> Result<Document, ParseErrors> {
    let one = |error: ParseError| ParseErrors(vec![error]);
    let table = match format {
        Format::TextDump => {
            let text = std::str::from_utf8(bytes).map_err(|_| ParseErrors::message("the text dump is not UTF-8 text"))?;
            text_dump::read(text).map_err(one)?
        }
        Format::Docx => docx::read(bytes).map_err(one)?,
        Format::Workbook => xlsx::read(bytes).map_err(one)?,
        Format::Csv => flat::read_csv(bytes)?,
        Format::Json => {
            let text = std::str::from_utf8(bytes).map_err(|_| ParseErrors::message("the JSON file is not UTF-8 text"))?;
            flat::read_json(text)?
        }
    };
    let mut document = interpret::interpret(&table)?;
    document.lines_are_source_lines = format == Format::TextDump;
    Ok(document)
}
