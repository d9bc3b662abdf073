//! Bulk imports from portals and scripts: one call, [`run_bulk`], imports a
//! file of any kind and reports every row; the API runs it as a job in the
//! background (so a large file shows its progress) and the CLI runs it
//! directly.
//!
//! Guarantees: a file with any invalid row writes nothing and is
//! `rejected` with every row's errors; a dry run reports the same and
//! writes nothing; a completed import is audited in the same transaction;
//! a job interrupted by a restart is marked `failed`, its transaction
//! having rolled back.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use duban_breakdown::Format;
use duban_dto::api::{EntityChange, FieldError, ImportJob, ImportJobReport, ImportProgress, ImportSummary, RowOutcome};
use duban_dto::{ImportJobStatus, ImportKind, RowAction};

use super::bulk::{self, BulkError, Defaults};
use super::rows::{self, RowFormat};
use super::{ChangeAction, Entity, ImportError, ImportReport, Source};
use crate::audit;
use crate::authz::ImportData;
use crate::db::PgPool;
use crate::db::schema::import_jobs;
use crate::error::Error;

/// The format of an uploaded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadFormat {
    Csv,
    Json,
    Xlsx,
    Docx,
    Txt,
}

impl UploadFormat {
    pub const fn as_str(self) -> &'static str {
        match self {
            UploadFormat::Csv => "csv",
            UploadFormat::Json => "json",
            UploadFormat::Xlsx => "xlsx",
            UploadFormat::Docx => "docx",
            UploadFormat::Txt => "txt",
        }
    }

    /// Tells the format by the Content-Type, else by the file name or the
    /// content.
    pub fn detect(content_type: Option<&str>, file_name: Option<&str>, bytes: &[u8]) -> Option<UploadFormat> {
        let essence = content_type.map(|value| value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        match essence.as_deref() {
            Some("text/csv") => return Some(UploadFormat::Csv),
            Some("application/json") => return Some(UploadFormat::Json),
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" | "application/vnd.ms-excel") => {
                return Some(UploadFormat::Xlsx);
            }
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document") => return Some(UploadFormat::Docx),
            Some("text/plain") => return Some(UploadFormat::Txt),
            _ => {}
        }
        Some(match Format::detect(file_name, bytes)? {
            Format::Csv => UploadFormat::Csv,
            Format::Json => UploadFormat::Json,
            Format::Workbook => UploadFormat::Xlsx,
            Format::Docx => UploadFormat::Docx,
            Format::TextDump => UploadFormat::Txt,
        })
    }

    fn table_format(self) -> Format {
        match self {
            UploadFormat::Csv => Format::Csv,
            UploadFormat::Json => Format::Json,
            UploadFormat::Xlsx => Format::Workbook,
            UploadFormat::Docx => Format::Docx,
            UploadFormat::Txt => Format::TextDump,
        }
    }

    fn row_format(self) -> Option<RowFormat> {
        match self {
            UploadFormat::Csv => Some(RowFormat::Csv),
            UploadFormat::Json => Some(RowFormat::Json),
            UploadFormat::Xlsx => Some(RowFormat::Workbook),
            UploadFormat::Docx | UploadFormat::Txt => None,
        }
    }
}

/// What to import and how.
#[derive(Debug, Clone)]
pub struct BulkRequest {
    pub kind: ImportKind,
    pub format: UploadFormat,
    pub dry_run: bool,
    /// The file name, or a description, for reports and the audit log.
    pub label: String,
    pub defaults: Defaults,
}

/// How a finished import ended.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Completed or rejected; a failure is an `Err`.
    pub status: ImportJobStatus,
    pub report: ImportJobReport,
}

/// Why a row import's transaction ends without committing.
enum Rollback {
    /// A dry run, or invalid rows: the report stands, nothing is kept.
    Report(Vec<RowOutcome>),
    Failed(BulkError),
}

impl From<diesel::result::Error> for Rollback {
    fn from(error: diesel::result::Error) -> Self {
        Rollback::Failed(BulkError::Database(error))
    }
}

impl From<BulkError> for Rollback {
    fn from(error: BulkError) -> Self {
        Rollback::Failed(error)
    }
}

/// Imports a file and reports every row; `progress` hears (rows done, rows
/// in the file).
pub fn run_bulk(
    conn: &mut PgConnection,
    can: &ImportData,
    actor: &audit::Actor,
    request: &BulkRequest,
    bytes: &[u8],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Finished, BulkError> {
    if request.kind == ImportKind::Breakdown {
        return breakdown(conn, can, actor, request, bytes, progress);
    }
    let Some(format) = request.format.row_format() else {
        return Ok(rejected(format!("{} rows come as CSV, JSON or a workbook (.xlsx), not {}", request.kind, request.format.as_str())));
    };
    let columns = match request.kind {
        ImportKind::Units => &bulk::UNIT_COLUMNS,
        ImportKind::Users => &bulk::USER_COLUMNS,
        ImportKind::Assignments => &bulk::ASSIGNMENT_COLUMNS,
        ImportKind::Breakdown => unreachable!("handled above"),
    };
    let rows = match rows::read(format, bytes, columns) {
        Ok(rows) => rows,
        Err(message) => return Ok(rejected(message)),
    };
    let total = rows.len();
    progress(0, total);
    let mut warnings = Vec::new();
    let outcome = conn.transaction::<Vec<RowOutcome>, Rollback, _>(|conn| {
        let mut step = |done: usize| progress(done, total);
        let outcomes = match request.kind {
            ImportKind::Units => bulk::units(conn, can, &rows, &request.defaults, &mut step)?,
            ImportKind::Users => {
                let import = bulk::users(conn, can, &rows, &request.defaults, &mut step)?;
                if import.passwords_ignored > 0 {
                    warnings.push(format!(
                        "{} rows give a password for an account that already exists; passwords are set only when an account is \
                         created, so those were left as they are",
                        import.passwords_ignored
                    ));
                }
                import.outcomes
            }
            ImportKind::Assignments => bulk::assignments(conn, can, &rows, &request.defaults, &mut step)?,
            ImportKind::Breakdown => unreachable!("handled above"),
        };
        if request.dry_run || outcomes.iter().any(|row| row.action == RowAction::Invalid) {
            return Err(Rollback::Report(outcomes));
        }
        let changes: Vec<_> = outcomes
            .iter()
            .filter(|row| matches!(row.action, RowAction::Created | RowAction::Updated))
            .map(|row| serde_json::json!({"key": row.key, "action": row.action, "fields": row.fields}))
            .collect();
        if !changes.is_empty() {
            let action = match request.kind {
                ImportKind::Units => "import.units",
                ImportKind::Users => "import.users",
                ImportKind::Assignments => "import.assignments",
                ImportKind::Breakdown => unreachable!("handled above"),
            };
            let event = audit::Event::new(action).after(serde_json::json!({"source": request.label, "changes": changes}));
            audit::record(conn, actor, event)?;
        }
        Ok(outcomes)
    });
    let (outcomes, committed) = match outcome {
        Ok(outcomes) => (outcomes, true),
        Err(Rollback::Report(outcomes)) => (outcomes, false),
        Err(Rollback::Failed(error)) => return Err(error),
    };
    let summary = summarise(&outcomes);
    let written = committed && summary.created + summary.updated > 0;
    let status = if summary.invalid > 0 { ImportJobStatus::Rejected } else { ImportJobStatus::Completed };
    Ok(Finished { status, report: ImportJobReport { written, summary, rows: outcomes, warnings, ..ImportJobReport::default() } })
}

/// The report as the CLI prints it: what happened, then every invalid row
/// with its errors, every update with its fields, and the warnings.
pub fn describe(request: &BulkRequest, finished: &Finished) -> String {
    use std::fmt::Write;
    let report = &finished.report;
    let mut text = String::new();
    let verdict = match (finished.status, request.dry_run) {
        (ImportJobStatus::Completed, true) => "valid (dry run: nothing was written)",
        (ImportJobStatus::Completed, false) if report.written => "imported",
        (ImportJobStatus::Completed, false) => "no changes",
        _ => "rejected: nothing was written",
    };
    let _ = writeln!(text, "{} ({}): {verdict}", request.label, request.kind);
    for error in &report.errors {
        let _ = writeln!(text, "  {error}");
    }
    for row in &report.rows {
        let place = row.place.as_deref().map(|place| format!("{place}, ")).unwrap_or_default();
        let key = row.key.as_deref().map(|key| format!(" ({key})")).unwrap_or_default();
        for error in &row.errors {
            let field = error.field.as_deref().map(|field| format!("{field}: ")).unwrap_or_default();
            let _ = writeln!(text, "  {place}row {}{key}: {field}{}", row.row, error.message);
        }
        if row.action == RowAction::Updated {
            let _ = writeln!(text, "  {place}row {}{key}: updates {}", row.row, row.fields.join(", "));
        }
    }
    for warning in &report.warnings {
        let _ = writeln!(text, "  warning: {warning}");
    }
    let summary = &report.summary;
    let would = if report.written || summary.created + summary.updated == 0 { "" } else { "would be " };
    let _ = writeln!(
        text,
        "{would}{} created, {} updated, {} unchanged, {} invalid",
        summary.created, summary.updated, summary.unchanged, summary.invalid
    );
    text
}

fn rejected(message: String) -> Finished {
    Finished { status: ImportJobStatus::Rejected, report: ImportJobReport { errors: vec![message], ..ImportJobReport::default() } }
}

fn summarise(rows: &[RowOutcome]) -> ImportSummary {
    let mut summary = ImportSummary::default();
    for row in rows {
        match row.action {
            RowAction::Created => summary.created += 1,
            RowAction::Updated => summary.updated += 1,
            RowAction::Unchanged => summary.unchanged += 1,
            RowAction::Invalid => summary.invalid += 1,
            RowAction::Deleted => {}
        }
    }
    summary
}

fn row_action(action: ChangeAction) -> RowAction {
    match action {
        ChangeAction::Created => RowAction::Created,
        ChangeAction::Updated => RowAction::Updated,
        ChangeAction::Deleted => RowAction::Deleted,
    }
}

/// The breakdown table through the same importer as `duban import`; its
/// rows are the table's tasks.
fn breakdown(
    conn: &mut PgConnection,
    can: &ImportData,
    actor: &audit::Actor,
    request: &BulkRequest,
    bytes: &[u8],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Finished, BulkError> {
    let source = Source::from_format(request.format.table_format(), bytes, request.defaults.campaign.clone()).and_then(|mut source| {
        if let Some(region) = &request.defaults.region {
            source.set_region(region)?;
        }
        Ok(source)
    });
    let imported = source.and_then(|source| {
        let total = match &source {
            Source::Table { document, .. } => document.tasks.len(),
            _ => 0,
        };
        progress(0, total);
        let report = super::run(conn, can, actor, &source, &request.label, request.dry_run)?;
        progress(total, total);
        Ok((source, report))
    });
    match imported {
        Ok((source, report)) => Ok(Finished { status: ImportJobStatus::Completed, report: breakdown_report(&source, &report) }),
        Err(ImportError::Database(error)) => Err(BulkError::Database(error)),
        Err(ImportError::Document(errors)) => {
            let mut report = ImportJobReport::default();
            for error in errors.0 {
                if error.at.row.is_none() {
                    report.errors.push(error.to_string());
                    continue;
                }
                report.rows.push(RowOutcome {
                    row: error.at.line as i32,
                    place: error.at.place.clone(),
                    key: None,
                    action: RowAction::Invalid,
                    fields: Vec::new(),
                    errors: vec![FieldError { field: error.at.column.map(|column| column.heading().to_owned()), message: error.message }],
                });
            }
            report.summary = summarise(&report.rows);
            Ok(Finished { status: ImportJobStatus::Rejected, report })
        }
        Err(ImportError::Seed(errors)) => {
            let report = ImportJobReport { errors: errors.0.iter().map(ToString::to_string).collect(), ..ImportJobReport::default() };
            Ok(Finished { status: ImportJobStatus::Rejected, report })
        }
        Err(error @ (ImportError::Refused(_) | ImportError::Read { .. })) => Ok(rejected(error.to_string())),
    }
}

fn breakdown_report(source: &Source, report: &ImportReport) -> ImportJobReport {
    let changes: Vec<EntityChange> = report
        .changes
        .iter()
        .map(|change| EntityChange {
            entity: change.entity.as_str().to_owned(),
            key: change.key.clone(),
            action: row_action(change.action),
            fields: change.fields.iter().map(|field| (*field).to_owned()).collect(),
        })
        .collect();
    let rows: Vec<RowOutcome> = match source {
        Source::Table { document, .. } => document
            .tasks
            .iter()
            .map(|task| {
                let code = task.code();
                let change = report.changes.iter().find(|change| change.entity == Entity::Task && change.key == code);
                RowOutcome {
                    row: task.line as i32,
                    place: None,
                    key: Some(code),
                    action: change.map_or(RowAction::Unchanged, |change| row_action(change.action)),
                    fields: change.map(|change| change.fields.iter().map(|field| (*field).to_owned()).collect()).unwrap_or_default(),
                    errors: Vec::new(),
                }
            })
            .collect(),
        Source::Campaign(_) | Source::Roster(_) => Vec::new(),
    };
    ImportJobReport {
        written: !report.dry_run && !report.is_unchanged(),
        summary: summarise(&rows),
        rows,
        errors: Vec::new(),
        warnings: report.warnings.clone(),
        resolved_by_builtin_names: report.resolved_by_builtin_names.clone(),
        normalisations: report.normalisations.iter().map(ToString::to_string).collect(),
        changes,
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = import_jobs)]
struct JobRow {
    id: i64,
    kind: ImportKind,
    dry_run: bool,
    status: ImportJobStatus,
    file_name: Option<String>,
    format: String,
    rows_total: Option<i32>,
    rows_done: i32,
    report: Option<serde_json::Value>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl JobRow {
    fn dto(self) -> ImportJob {
        ImportJob {
            id: self.id,
            kind: self.kind,
            dry_run: self.dry_run,
            status: self.status,
            file_name: self.file_name,
            format: self.format,
            progress: ImportProgress { rows_total: self.rows_total, rows_done: self.rows_done },
            created_at: self.created_at,
            finished_at: self.finished_at,
            report: self.report.map(|report| serde_json::from_value(report).expect("duban wrote the report it reads")),
        }
    }
}

/// Who sent a job: a user or an API client.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sender {
    pub user_id: Option<i64>,
    pub client_id: Option<i64>,
}

/// Records a job, queued.
pub fn create(
    conn: &mut PgConnection,
    _can: &ImportData,
    sender: Sender,
    request: &BulkRequest,
    file_name: Option<&str>,
) -> QueryResult<ImportJob> {
    diesel::insert_into(import_jobs::table)
        .values((
            import_jobs::kind.eq(request.kind.as_str()),
            import_jobs::dry_run.eq(request.dry_run),
            import_jobs::file_name.eq(file_name),
            import_jobs::format.eq(request.format.as_str()),
            import_jobs::user_id.eq(sender.user_id),
            import_jobs::client_id.eq(sender.client_id),
            import_jobs::lease_until.eq(lease_end()),
        ))
        .returning(JobRow::as_returning())
        .get_result(conn)
        .map(JobRow::dto)
}

pub fn get(conn: &mut PgConnection, _can: &ImportData, id: i64) -> Result<ImportJob, Error> {
    import_jobs::table
        .find(id)
        .select(JobRow::as_select())
        .first(conn)
        .optional()?
        .map(JobRow::dto)
        .ok_or_else(|| Error::not_found(format!("there is no import job {id}")))
}

/// How long a job's lease lasts; the instance running it renews it every
/// [`LEASE_RENEWAL`], so only a dead instance lets it run out.
pub const LEASE: Duration = Duration::from_secs(60);
const LEASE_RENEWAL: Duration = Duration::from_secs(10);

fn lease_end() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(LEASE).expect("a short lease")
}

/// Renews job `id`'s lease until `done` is set, on a thread of its own
/// (the job's own connection is inside its transaction).
fn keep_lease(pool: PgPool, id: i64, done: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let spawned = std::thread::Builder::new().name(format!("import-{id}-lease")).spawn(move || {
        while !done.load(std::sync::atomic::Ordering::Acquire) {
            std::thread::park_timeout(LEASE_RENEWAL);
            if done.load(std::sync::atomic::Ordering::Acquire) {
                break;
            }
            let renewed = pool.get().map_err(|error| error.to_string()).and_then(|mut conn| {
                diesel::update(import_jobs::table.find(id).filter(import_jobs::status.eq_any(["queued", "running"])))
                    .set(import_jobs::lease_until.eq(lease_end()))
                    .execute(&mut conn)
                    .map_err(|error| error.to_string())
            });
            if let Err(error) = renewed {
                tracing::warn!(job = id, %error, "could not renew an import job's lease");
            }
        }
    });
    if let Err(error) = spawned {
        tracing::error!(job = id, %error, "could not start an import job's lease keeper");
    }
}

/// Jobs whose instance stopped while they were queued or running never
/// finished: their transactions rolled back, and their leases ran out.
/// Marks them failed, saying so. Jobs another live instance is running
/// keep their leases and are left alone. Run at start and by the scheduler.
pub fn fail_interrupted(conn: &mut PgConnection, _can: &crate::authz::Operator) -> QueryResult<usize> {
    let report = ImportJobReport {
        errors: vec!["duban stopped while the job ran; nothing was written. Send the file again.".to_owned()],
        ..ImportJobReport::default()
    };
    diesel::update(
        import_jobs::table.filter(import_jobs::status.eq_any(["queued", "running"])).filter(import_jobs::lease_until.lt(Utc::now())),
    )
    .set((
        import_jobs::status.eq(ImportJobStatus::Failed.as_str()),
        import_jobs::report.eq(serde_json::to_value(report).expect("a report serialises")),
        import_jobs::finished_at.eq(Utc::now()),
    ))
    .execute(conn)
}

/// Progress is written at most this often: often enough to watch, rarely
/// enough not to slow the import.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

/// Runs a job on a thread of its own; the job row follows its progress
/// and, at the end, holds the report.
pub fn start(pool: PgPool, can: ImportData, actor: audit::Actor, id: i64, request: BulkRequest, bytes: Vec<u8>) {
    let leased = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    keep_lease(pool.clone(), id, leased.clone());
    let unstarted = leased.clone();
    let spawned = std::thread::Builder::new().name(format!("import-{id}")).spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| execute(&pool, &can, &actor, id, &request, &bytes)));
        leased.store(true, std::sync::atomic::Ordering::Release);
        let (status, report) = match outcome {
            Ok(Ok(finished)) => (finished.status, finished.report),
            Ok(Err(error)) => {
                tracing::error!(job = id, %error, "import job failed");
                (
                    ImportJobStatus::Failed,
                    ImportJobReport {
                        errors: vec!["an internal error stopped the import; nothing was written".to_owned()],
                        ..ImportJobReport::default()
                    },
                )
            }
            Err(_) => {
                tracing::error!(job = id, "import job panicked");
                (
                    ImportJobStatus::Failed,
                    ImportJobReport {
                        errors: vec!["an internal error stopped the import; nothing was written".to_owned()],
                        ..ImportJobReport::default()
                    },
                )
            }
        };
        let finished = pool.get().map_err(|error| error.to_string()).and_then(|mut conn| {
            diesel::update(import_jobs::table.find(id))
                .set((
                    import_jobs::status.eq(status.as_str()),
                    import_jobs::report.eq(serde_json::to_value(&report).expect("a report serialises")),
                    import_jobs::finished_at.eq(Utc::now()),
                ))
                .execute(&mut conn)
                .map_err(|error| error.to_string())
        });
        if let Err(error) = finished {
            tracing::error!(job = id, %error, "could not record the end of an import job");
        }
    });
    if let Err(error) = spawned {
        tracing::error!(job = id, %error, "could not start an import job");
        unstarted.store(true, std::sync::atomic::Ordering::Release);
    }
}

fn execute(
    pool: &PgPool,
    can: &ImportData,
    actor: &audit::Actor,
    id: i64,
    request: &BulkRequest,
    bytes: &[u8],
) -> Result<Finished, BulkError> {
    let pooled = |pool: &PgPool| pool.get().map_err(|error| BulkError::Internal(error.to_string()));
    let mut conn = pooled(pool)?;
    let mut progress_conn = pooled(pool)?;
    diesel::update(import_jobs::table.find(id)).set(import_jobs::status.eq(ImportJobStatus::Running.as_str())).execute(&mut conn)?;
    let mut last_written = Instant::now();
    let mut progress = |done: usize, total: usize| {
        if done == 0 || done == total || last_written.elapsed() >= PROGRESS_INTERVAL {
            last_written = Instant::now();
            let written = diesel::update(import_jobs::table.find(id))
                .set((import_jobs::rows_total.eq(total as i32), import_jobs::rows_done.eq(done as i32)))
                .execute(&mut progress_conn);
            if let Err(error) = written {
                tracing::warn!(job = id, %error, "could not record an import job's progress");
            }
        }
    };
    run_bulk(&mut conn, can, actor, request, bytes, &mut progress)
}
