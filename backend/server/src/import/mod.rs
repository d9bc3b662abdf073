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

mod campaign;
mod report;
mod roster;

use std::path::Path;

use diesel::prelude::*;

use crate::audit;
use crate::authz::ImportData;
use duban_breakdown::seed::{CAMPAIGN_FORMAT, CampaignSeed, ROSTER_FORMAT, RosterSeed, SeedErrors, format_of};
use duban_breakdown::{Document, ParseErrors};

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
    /// A text dump of the breakdown table, into the campaign with this code
    /// (or the region's only campaign).
    TextDump {
        document: Box<Document>,
        campaign: Option<String>,
    },
    Campaign(Box<CampaignSeed>),
    Roster(Box<RosterSeed>),
}

impl Source {
    /// Reads a file, telling the format by its extension and, for JSON, its
    /// `format` field.
    pub fn read_file(path: &Path, campaign: Option<String>) -> Result<Source, ImportError> {
        let text = std::fs::read_to_string(path).map_err(|source| ImportError::Read { path: path.display().to_string(), source })?;
        let is_json = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        if is_json { Source::from_json(&text) } else { Source::from_text_dump(&text, campaign) }
    }

    pub fn from_text_dump(text: &str, campaign: Option<String>) -> Result<Source, ImportError> {
        let document = duban_breakdown::read_text_dump(text)?;
        Ok(Source::TextDump { document: Box::new(document), campaign })
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
    _can: &ImportData,
    actor: &audit::Actor,
    source: &Source,
    label: &str,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::new(label, dry_run);
    if let Source::TextDump { document, .. } = source {
        report.normalisations = document.normalisations.clone();
    }
    let outcome = conn.transaction::<(), Rollback, _>(|conn| {
        match source {
            Source::TextDump { document, campaign } => campaign::import_document(conn, document, campaign.as_deref(), &mut report),
            Source::Campaign(seed) => campaign::import_seed(conn, seed, &mut report),
            Source::Roster(seed) => roster::import(conn, seed, &mut report),
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
