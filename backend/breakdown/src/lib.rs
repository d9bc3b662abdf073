//! The county's task breakdown table (任务分解表): reading its documents,
//! normalising what real documents contain, and the seed file formats.
//!
//! Reading is two steps. A reader turns a document into a [`table::RawTable`]
//! of rows and cells; [`interpret::interpret`] gives the table meaning
//! ([`document::Document`]) and reports every normalisation it applied. No
//! database is involved: the server resolves unit names and writes.

pub mod clean;
pub mod document;
pub mod interpret;
pub mod numerals;
pub mod report;
pub mod resolve;
pub mod seed;
pub mod table;
pub mod text_dump;

pub use document::Document;
pub use report::{Column, Location, Normalisation, NormalisationKind, ParseError, ParseErrors};

/// Reads the plain-text dump of a breakdown table.
pub fn read_text_dump(text: &str) -> Result<Document, ParseErrors> {
    let table = text_dump::read(text).map_err(|error| ParseErrors(vec![error]))?;
    interpret::interpret(&table)
}
