//! Bulk imports: a job per uploaded file, with progress and a report of
//! every row.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ImportJobStatus, ImportKind, RowAction};

/// An import job: what was sent, how far it got, and, once finished, the
/// report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportJob {
    pub id: i64,
    pub kind: ImportKind,
    /// A dry run validates and reports, and writes nothing.
    pub dry_run: bool,
    pub status: ImportJobStatus,
    /// The file name the client gave, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The format the body was read as: csv, json, xlsx, docx or txt.
    pub format: String,
    pub progress: ImportProgress,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Present once the job has finished (completed, rejected or failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<ImportJobReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportProgress {
    /// Rows in the file, once it has been read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_total: Option<i32>,
    /// Rows checked (and, unless a dry run, applied) so far.
    pub rows_done: i32,
}

/// What an import did, or in a dry run would do, row by row.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportJobReport {
    /// Whether anything was written: false for a dry run and for a
    /// rejected file.
    pub written: bool,
    pub summary: ImportSummary,
    /// Every row of the file, in order, with its outcome.
    pub rows: Vec<RowOutcome>,
    /// Problems with the file as a whole (unreadable, unknown columns …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Things to check that do not stop the import.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// For a breakdown table: names the roster did not know, resolved
    /// through the built-in names of county units ("县政府办 → 县政府办公室").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved_by_builtin_names: Vec<String>,
    /// For a breakdown table: the normalisations applied to the document.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub normalisations: Vec<String>,
    /// For a breakdown table: every row of the database created, updated
    /// or deleted, by natural key (tasks, indicators, units, assignments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<EntityChange>,
}

/// How many rows were (or would be) created, updated, left unchanged, or
/// refused.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportSummary {
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub invalid: i32,
}

/// One row of the file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowOutcome {
    /// The row as the file counts it: the CSV line, the sheet row, or the
    /// position in a JSON array (from 1).
    pub row: i32,
    /// The sheet or Word table, for workbooks and Word documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// The natural key: a unit's name, a username, `B001 县司法局 lead` …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub action: RowAction,
    /// For updates, the fields that change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Why a row cannot be imported.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The column, where the problem is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

/// A database row a breakdown import creates, updates or deletes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntityChange {
    /// task, indicator, unit, unit_group, assignment, campaign or region.
    pub entity: String,
    pub key: String,
    pub action: RowAction,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}
