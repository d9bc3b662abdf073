//! Importing breakdown tables and rosters: one library used by the CLI, the
//! first-start seeding and (later) the bulk import API.
//!
//! Guarantees, whatever the source:
//! - nothing is written unless the whole source is valid: documents are
//!   parsed and checked before the transaction begins, and every write
//!   happens in one transaction;
//! - importing the same source twice changes nothing the second time, and
//!   the report says "no changes";
//! - a dry run does everything, reports it, and rolls back;
//! - rows are matched by natural keys (campaign code, list and number,
//!   indicator level and number, unit name, group phrase), never by ids.

pub mod bulk;
mod campaign;
pub mod job;
mod report;
mod roster;
pub mod rows;

use std::path::Path;

use diesel::prelude::*;

use crate::audit;
use crate::authz::ImportData;
use duban_breakdown::seed::{CAMPAIGN_FORMAT, CampaignSeed, ROSTER_FORMAT, RosterSeed, SeedErrors, format_of};
use duban_breakdown::{Document, Format, ParseErrors};

pub use report::{Change, ChangeAction, Entity, ImportReport};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Document(#[from] ParseErrors),
    #[error(transparent)]
    Seed(#[from] SeedErrors),
    /// The source is valid but applying it would lose work or break a rule.
    #[error("{0}")]
    Refused(String),
    #[error("reading {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
}

/// What to import.
#[derive(Debug, Clone)]
pub enum Source {
    /// A breakdown table, read from any of its formats, into the campaign
    /// with this code (or the region's only campaign).
    Table {
        document: Box<Document>,
        campaign: Option<String>,
    },
    Campaign(Box<CampaignSeed>),
    Roster(Box<RosterSeed>),
}

impl Source {
    /// Reads a file, telling its format by the extension (or the content).
    pub fn read_file(path: &Path, campaign: Option<String>) -> Result<Source, ImportError> {
        let bytes = std::fs::read(path).map_err(|source| ImportError::Read { path: path.display().to_string(), source })?;
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned());
        Source::from_bytes(&bytes, name.as_deref(), campaign)
    }

    /// Reads a breakdown table in any [`Format`] told by the file name or
    /// the content, or a seed file.
    pub fn from_bytes(bytes: &[u8], file_name: Option<&str>, campaign: Option<String>) -> Result<Source, ImportError> {
        let format = Format::detect(file_name, bytes).ok_or_else(|| {
            ImportError::Refused(
                "cannot tell the file's format: name it .txt, .docx, .xlsx, .xls, .csv or .json (see seeds/README.md)".to_owned(),
            )
        })?;
        Source::from_format(format, bytes, campaign)
    }

    /// Reads a breakdown table in `format`, or a seed file: JSON that is an
    /// object is a seed (told apart by its `format` field), JSON that is an
    /// array is the flat format.
    pub fn from_format(format: Format, bytes: &[u8], campaign: Option<String>) -> Result<Source, ImportError> {
        if format == Format::Json {
            let text = std::str::from_utf8(bytes).map_err(|_| ImportError::Refused("the JSON file is not UTF-8 text".to_owned()))?;
            if text.trim_start_matches('\u{feff}').trim_start().starts_with('{') {
                return Source::from_json(text);
            }
        }
        let document = duban_breakdown::read_document(format, bytes)?;
        Ok(Source::Table { document: Box::new(document), campaign })
    }

    /// Places a table that names no county — flat rows have no title — in
    /// `region`, so a new campaign can be created for it. A table whose
    /// title names another county is refused.
    pub fn set_region(&mut self, region: &str) -> Result<(), ImportError> {
        let Source::Table { document, .. } = self else {
            return Err(ImportError::Refused("a county applies only to a breakdown table; seeds name their own".to_owned()));
        };
        match &document.region {
            Some(named) if named != region => Err(ImportError::Refused(format!("the table's title names {named}, not {region}"))),
            _ => {
                document.region = Some(region.to_owned());
                Ok(())
            }
        }
    }

    pub fn from_text_dump(text: &str, campaign: Option<String>) -> Result<Source, ImportError> {
        Source::from_bytes(text.as_bytes(), Some("table.txt"), campaign)
    }

    pub fn from_json(json: &str) -> Result<Source, ImportError> {
        match format_of(json).as_deref() {
            Some(CAMPAIGN_FORMAT) => Ok(Source::Campaign(Box::new(CampaignSeed::from_json(json)?))),
            Some(ROSTER_FORMAT) => Ok(Source::Roster(Box::new(RosterSeed::from_json(json)?))),
            other => Err(ImportError::Seed(SeedErrors(vec![duban_breakdown::seed::SeedError {
                path: "format".to_owned(),
                message: format!("expected {CAMPAIGN_FORMAT:?} or {ROSTER_FORMAT:?}, found {other:?}"),
            }]))),
        }
    }
}

/// Why an import's transaction ends without committing.
enum Rollback {
    /// A dry run: everything worked, and nothing may be kept.
    DryRun,
    Failed(ImportError),
}

impl From<diesel::result::Error> for Rollback {
    fn from(error: diesel::result::Error) -> Self {
        Rollback::Failed(ImportError::Database(error))
    }
}

/// Imports a source in one transaction and reports what changed; with
/// `dry_run`, reports what would change and writes nothing. An import that
/// changes something is audited (one row listing the changes).
pub fn run(
    conn: &mut PgConnection,
    can: &ImportData,
    actor: &audit::Actor,
    source: &Source,
    label: &str,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::new(label, dry_run);
    if let Source::Table { document, .. } = source {
        report.normalisations = document.normalisations.clone();
    }
    let outcome = conn.transaction::<(), Rollback, _>(|conn| {
        match source {
            Source::Table { document, campaign } => campaign::import_document(conn, can, document, campaign.as_deref(), &mut report),
            Source::Campaign(seed) => campaign::import_seed(conn, can, seed, &mut report),
            Source::Roster(seed) => roster::import(conn, can, seed, &mut report),
        }
        .map_err(Rollback::Failed)?;
        if dry_run {
            return Err(Rollback::DryRun);
        }
        if !report.is_unchanged() {
            let action = if matches!(source, Source::Roster(_)) { "import.roster" } else { "import.campaign" };
            let summary = serde_json::json!({"source": label, "changes": report.changes, "warnings": report.warnings});
            audit::record(conn, actor, audit::Event::new(action).after(summary))?;
        }
        Ok(())
    });
    match outcome {
        Ok(()) | Err(Rollback::DryRun) => Ok(report),
        Err(Rollback::Failed(error)) => Err(error),
    }
}
