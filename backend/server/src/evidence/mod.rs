//! Evidence (佐证材料): files a unit uploads on an assignment, in versions,
//! stored once per content, and sealed by approval.

pub mod sniff;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use duban_dto::api::{CampaignEvidence, Evidence, EvidenceVersion, Page, TaskRef, UnitRef};
use duban_dto::{AssignmentStatus, PartyRole};
use duban_rules::workflow;
use serde_json::json;

use crate::audit::{self, Event};
use crate::authz::{Caller, ListEvidence, ReadEvidence, VerifyStore, WorkOn};
use crate::db::schema::{assignments, blobs, decision_evidence, decisions, evidence, evidence_versions, task_parties, tasks, units, users};
use crate::error::Error;
use crate::rollup;
use crate::storage::Storage;

/// Refuses a file name that cannot be kept exactly and shown safely: too
/// long for a file system, or holding control characters (NUL among them,
/// which the database cannot store).
pub fn check_file_name(name: &str) -> Result<(), Error> {
    if name.len() > duban_dto::limits::FILE_NAME_BYTES {
        return Err(Error::invalid(
            "invalid_file_name",
            format!("a file name may have at most {} bytes of UTF-8; this one has {}", duban_dto::limits::FILE_NAME_BYTES, name.len()),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid("invalid_file_name", "a file name must not contain control characters (NUL, line breaks, tabs)"));
    }
    Ok(())
}

/// Refuses changes to evidence and figures while the work is under review
/// or approved (the rulebook's [`workflow::evidence_editable`]).
pub fn ensure_editable(status: AssignmentStatus) -> Result<(), Error> {
    match workflow::evidence_frozen(status) {
        Some(why) => Err(Error::conflict("evidence_frozen", why)),
        None => Ok(()),
    }
}

/// Whether the capability's assignment takes uploads now: checked before
/// an upload's body is read, and again when it is recorded.
pub fn accepts_uploads(conn: &mut PgConnection, can: &WorkOn) -> Result<(), Error> {
    let status: AssignmentStatus = assignments::table.find(can.assignment_id()).select(assignments::status).first(conn)?;
    ensure_editable(status)
}

/// A version of a piece of evidence with its blob and uploader.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = evidence_versions, check_for_backend(diesel::pg::Pg))]
struct VersionRow {
    id: i64,
    evidence_id: i64,
    version: i32,
    sha256: Vec<u8>,
    file_name: String,
    uploaded_at: DateTime<Utc>,
    #[diesel(select_expression = users::username.nullable())]
    uploaded_by: Option<String>,
    #[diesel(select_expression = blobs::size)]
    size: i64,
    #[diesel(select_expression = blobs::content_type)]
    content_type: String,
}

/// A piece of evidence without its versions.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = evidence, check_for_backend(diesel::pg::Pg))]
struct HeadRow {
    id: i64,
    assignment_id: i64,
    description: String,
    effective_date: Option<NaiveDate>,
    created_at: DateTime<Utc>,
    withdrawn_at: Option<DateTime<Utc>>,
}

fn version_dto(row: &VersionRow, sealed: bool) -> EvidenceVersion {
    EvidenceVersion {
        id: row.id,
        version: row.version,
        file_name: row.file_name.clone(),
        size: row.size,
        content_type: row.content_type.clone(),
        sha256: hex::encode(&row.sha256),
        uploaded_at: row.uploaded_at,
        uploaded_by: row.uploaded_by.clone(),
        sealed,
    }
}

/// The evidence of an assignment, withdrawn items included (marked).
pub fn list(conn: &mut PgConnection, can: &ReadEvidence) -> Result<Vec<Evidence>, Error> {
    let ids = evidence::table.filter(evidence::assignment_id.eq(can.assignment_id())).select(evidence::id).load(conn)?;
    items(conn, ids)
}

/// Which evidence of a campaign to list.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EvidenceFilter {
    pub campaign: String,
    /// Handed in by this unit.
    pub unit: Option<i64>,
    /// For this task (its code).
    pub task: Option<String>,
    /// Created, given a new version or withdrawn at or after this time:
    /// what changed since a portal's last visit.
    pub changed_since: Option<DateTime<Utc>>,
    /// Withdrawn items too.
    pub include_withdrawn: bool,
}

/// The evidence of a campaign, oldest first, a page at a time: every
/// assignment's for those who oversee the campaign, else the caller's
/// unit's own and that of the tasks it leads.
pub fn list_campaign(
    conn: &mut PgConnection,
    can: &ListEvidence,
    filter: &EvidenceFilter,
    cursor: &crate::pagination::Cursor,
) -> Result<Page<CampaignEvidence>, Error> {
    let campaign_id = crate::db::lookups::campaign_id(conn, &filter.campaign)?;
    // The tasks the caller's unit leads, when it sees only its own.
    let unit_view: Option<(i64, Vec<i64>)> = match can.unit_id() {
        Some(unit) => {
            let mut led: Vec<i64> = assignments::table
                .filter(assignments::unit_id.eq(unit))
                .filter(assignments::role.eq(PartyRole::Lead))
                .select(assignments::task_id)
                .load(conn)?;
            led.extend(
                task_parties::table
                    .filter(task_parties::unit_id.eq(unit))
                    .filter(task_parties::role.eq(PartyRole::Lead))
                    .select(task_parties::task_id)
                    .load::<i64>(conn)?,
            );
            Some((unit, led))
        }
        None => None,
    };
    let query = || {
        let mut query = evidence::table
            .inner_join(assignments::table.inner_join(tasks::table))
            .filter(tasks::campaign_id.eq(campaign_id))
            .select(evidence::id)
            .into_boxed();
        if let Some((unit, led)) = &unit_view {
            query = query.filter(assignments::unit_id.eq(*unit).or(assignments::task_id.eq_any(led.clone())));
        }
        if let Some(unit) = filter.unit {
            query = query.filter(assignments::unit_id.eq(unit));
        }
        if let Some(code) = &filter.task {
            query = query.filter(tasks::code.eq(code.to_uppercase()));
        }
        if let Some(since) = filter.changed_since {
            let new_versions =
                evidence_versions::table.filter(evidence_versions::uploaded_at.ge(since)).select(evidence_versions::evidence_id);
            query = query.filter(
                evidence::created_at.ge(since).or(evidence::withdrawn_at.ge(since).assume_not_null()).or(evidence::id.eq_any(new_versions)),
            );
        }
        if !filter.include_withdrawn {
            query = query.filter(evidence::withdrawn_at.is_null());
        }
        query
    };
    let total: i64 = query().count().get_result(conn)?;
    let ids: Vec<i64> = query().order(evidence::id).limit(cursor.limit).offset(cursor.offset).load(conn)?;
    let places: BTreeMap<i64, (TaskRef, UnitRef)> = evidence::table
        .inner_join(assignments::table.inner_join(tasks::table).inner_join(units::table))
        .filter(evidence::id.eq_any(&ids))
        .select((evidence::id, tasks::id, tasks::code, tasks::text, units::id, units::name))
        .load::<(i64, i64, String, String, i64, String)>(conn)?
        .into_iter()
        .map(|(id, task_id, code, text, unit_id, name)| {
            (id, (TaskRef { id: task_id, campaign: filter.campaign.clone(), code, text }, UnitRef { id: unit_id, name }))
        })
        .collect();
    let found = items(conn, ids)?;
    let listed = found
        .into_iter()
        .map(|evidence| {
            let (task, unit) = places[&evidence.id].clone();
            CampaignEvidence { task, unit, evidence }
        })
        .collect();
    Ok(cursor.page(listed, total))
}

pub(crate) fn items(conn: &mut PgConnection, ids: Vec<i64>) -> Result<Vec<Evidence>, Error> {
    let heads: Vec<HeadRow> =
        evidence::table.filter(evidence::id.eq_any(&ids)).order(evidence::id).select(HeadRow::as_select()).load(conn)?;
    let versions: Vec<VersionRow> = evidence_versions::table
        .inner_join(blobs::table)
        .left_join(users::table.on(users::id.nullable().eq(evidence_versions::uploaded_by)))
        .filter(evidence_versions::evidence_id.eq_any(&ids))
        .order((evidence_versions::evidence_id, evidence_versions::version.desc()))
        .select(VersionRow::as_select())
        .load(conn)?;
    let version_ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    let sealed: Vec<i64> = decision_evidence::table
        .inner_join(decisions::table)
        .filter(decisions::action.eq(workflow::Step::Approve.as_str()))
        .filter(decision_evidence::evidence_version_id.eq_any(&version_ids))
        .select(decision_evidence::evidence_version_id)
        .load(conn)?;
    let mut by_item: BTreeMap<i64, Vec<EvidenceVersion>> = BTreeMap::new();
    for row in &versions {
        by_item.entry(row.evidence_id).or_default().push(version_dto(row, sealed.contains(&row.id)));
    }
    Ok(heads
        .into_iter()
        .filter_map(|head| {
            let versions = by_item.remove(&head.id)?;
            Some(Evidence {
                id: head.id,
                assignment_id: head.assignment_id,
                description: head.description,
                effective_date: head.effective_date,
                created_at: head.created_at,
                withdrawn: head.withdrawn_at.is_some(),
                current: versions[0].clone(),
                versions,
            })
        })
        .collect())
}

/// A stored file as a download needs it.
#[derive(Debug, Clone)]
pub struct Download {
    pub sha256_hex: String,
    pub size: u64,
    pub content_type: String,
    pub file_name: String,
    pub assignment_id: i64,
    /// The stored object was found not to match its hash.
    pub corrupted: bool,
}

impl Download {
    /// Refuses to serve an object known to be corrupted.
    pub fn check_intact(&self) -> Result<(), Error> {
        if self.corrupted {
            return Err(Error::conflict(
                "evidence_corrupted",
                "the stored file no longer matches its fingerprint (SHA-256) and is not served; the unit must upload it again",
            ));
        }
        Ok(())
    }
}

/// The version to download. Access is decided with its assignment
/// (`Download::assignment_id`); [`record_download`] audits the download.
pub fn version_for_download(conn: &mut PgConnection, version_id: i64) -> Result<Download, Error> {
    let row: Option<(Vec<u8>, i64, String, String, i64, Option<DateTime<Utc>>)> = evidence_versions::table
        .inner_join(blobs::table)
        .inner_join(evidence::table)
        .filter(evidence_versions::id.eq(version_id))
        .select((
            evidence_versions::sha256,
            blobs::size,
            blobs::content_type,
            evidence_versions::file_name,
            evidence::assignment_id,
            blobs::corrupted_at,
        ))
        .first(conn)
        .optional()?;
    let (sha, size, content_type, file_name, assignment_id, corrupted_at) =
        row.ok_or_else(|| Error::not_found(format!("there is no evidence version {version_id}")))?;
    Ok(Download {
        sha256_hex: hex::encode(sha),
        size: size as u64,
        content_type,
        file_name,
        assignment_id,
        corrupted: corrupted_at.is_some(),
    })
}

/// A file that finished streaming in and was moved into the store.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub sha256: [u8; 32],
    pub size: u64,
    pub content_type: &'static str,
    pub file_name: String,
}

/// What the unit said about the files of an upload.
#[derive(Debug, Clone, Default)]
pub struct UploadDetails {
    pub description: String,
    pub effective_date: Option<NaiveDate>,
    /// A new version of this item, instead of new items.
    pub replaces: Option<i64>,
}

/// Records stored files as evidence, in one transaction, if the
/// assignment still takes evidence. Starting to upload starts the work.
pub fn record(
    conn: &mut PgConnection,
    can: &WorkOn,
    caller: &Caller,
    details: &UploadDetails,
    files: &[StoredFile],
) -> Result<Vec<Evidence>, Error> {
    let assignment_id = can.assignment_id();
    conn.transaction(|conn| {
        let (unit_id, status, role, version): (i64, AssignmentStatus, duban_dto::PartyRole, i32) = assignments::table
            .find(assignment_id)
            .for_update()
            .select((assignments::unit_id, assignments::status, assignments::role, assignments::version))
            .first(conn)?;
        if unit_id != can.unit_id() {
            return Err(Error::forbidden("this assignment belongs to another unit"));
        }
        ensure_editable(status)?;
        let user = caller.user_id();
        let blob_rows: Vec<_> = files
            .iter()
            .map(|file| {
                (blobs::sha256.eq(file.sha256.as_slice()), blobs::size.eq(file.size as i64), blobs::content_type.eq(file.content_type))
            })
            .collect();
        diesel::insert_into(blobs::table).values(&blob_rows).on_conflict_do_nothing().execute(conn)?;
        // A good copy of a corrupted object has just replaced it in the store.
        let stored: Vec<&[u8]> = files.iter().map(|file| file.sha256.as_slice()).collect();
        let repaired = diesel::update(blobs::table.filter(blobs::sha256.eq_any(stored)).filter(blobs::corrupted_at.is_not_null()))
            .set(blobs::corrupted_at.eq(None::<DateTime<Utc>>))
            .execute(conn)?;

        let mut item_ids = Vec::new();
        match details.replaces {
            Some(item) => {
                if files.len() != 1 {
                    return Err(Error::invalid("one_file_per_version", "a new version replaces one file: send exactly one"));
                }
                let owner: Option<(i64, Option<DateTime<Utc>>)> =
                    evidence::table.find(item).select((evidence::assignment_id, evidence::withdrawn_at)).first(conn).optional()?;
                match owner {
                    Some((owner, None)) if owner == assignment_id => {}
                    Some((owner, Some(_))) if owner == assignment_id => {
                        return Err(Error::conflict("withdrawn", format!("evidence {item} was withdrawn")));
                    }
                    _ => {
                        return Err(Error::invalid("unknown_evidence", format!("evidence {item} is not on assignment {assignment_id}")));
                    }
                }
                let latest: i32 = evidence_versions::table
                    .filter(evidence_versions::evidence_id.eq(item))
                    .select(diesel::dsl::max(evidence_versions::version))
                    .first::<Option<i32>>(conn)?
                    .unwrap_or(0);
                insert_version(conn, item, latest + 1, &files[0], user)?;
                if !details.description.is_empty() || details.effective_date.is_some() {
                    diesel::update(evidence::table.find(item))
                        .set((evidence::description.eq(&details.description), evidence::effective_date.eq(details.effective_date)))
                        .execute(conn)?;
                }
                item_ids.push(item);
            }
            None => {
                for file in files {
                    let item: i64 = diesel::insert_into(evidence::table)
                        .values((
                            evidence::assignment_id.eq(assignment_id),
                            evidence::description.eq(&details.description),
                            evidence::effective_date.eq(details.effective_date),
                            evidence::created_by.eq(user),
                        ))
                        .returning(evidence::id)
                        .get_result(conn)?;
                    insert_version(conn, item, 1, file, user)?;
                    item_ids.push(item);
                }
            }
        }
        // Uploading starts the work: the unit's own step of the workflow.
        if status == AssignmentStatus::NotStarted {
            let started = workflow::next(status, workflow::Step::Start, workflow::Standing::OwnUnit, role)?;
            diesel::update(assignments::table.find(assignment_id))
                .set((assignments::status.eq(started), assignments::version.eq(version + 1), assignments::updated_at.eq(Utc::now())))
                .execute(conn)?;
            let task: i64 = assignments::table.find(assignment_id).select(assignments::task_id).first(conn)?;
            rollup::refresh(conn, &[task])?;
        }
        let uploaded: Vec<_> = files
            .iter()
            .map(|f| json!({"file_name": f.file_name, "sha256": hex::encode(f.sha256), "size": f.size, "content_type": f.content_type}))
            .collect();
        let event = Event::new("evidence.upload").entity("assignment", assignment_id).after(
            json!({"evidence": item_ids, "files": uploaded, "description": details.description, "effective_date": details.effective_date,
                   "repaired": repaired}),
        );
        audit::record(conn, &caller.audit_actor(), event)?;
        items(conn, item_ids)
    })
}

/// How long the downloads of one version by one caller count as one: a
/// video player fetches a file in many ranges.
const DOWNLOAD_COALESCING: chrono::Duration = chrono::Duration::minutes(1);

const DOWNLOAD_ACTION: &str = "evidence.download";

/// Audits a download of evidence version `version_id` that sends content,
/// whatever range it asks for: once per version and caller per minute.
pub fn record_download(
    conn: &mut PgConnection,
    can: &ReadEvidence,
    caller: &Caller,
    version_id: i64,
    download: &Download,
) -> Result<(), Error> {
    use crate::db::schema::audit_log;
    can.check(download.assignment_id)?;
    let actor = caller.audit_actor();
    let mut recent = audit_log::table
        .filter(audit_log::action.eq(DOWNLOAD_ACTION))
        .filter(audit_log::entity_type.eq("evidence_version"))
        .filter(audit_log::entity_id.eq(version_id.to_string()))
        .filter(audit_log::actor_kind.eq(actor.kind.as_str()))
        .filter(audit_log::at.gt(Utc::now() - DOWNLOAD_COALESCING))
        .into_boxed();
    recent = match actor.id {
        Some(id) => recent.filter(audit_log::actor_id.eq(id)),
        None => recent.filter(audit_log::actor_id.is_null()),
    };
    let already: bool = diesel::select(diesel::dsl::exists(recent)).get_result(conn)?;
    if !already {
        let event = Event::new(DOWNLOAD_ACTION).entity("evidence_version", version_id).after(json!({"sha256": download.sha256_hex}));
        audit::record(conn, &actor, event)?;
    }
    Ok(())
}

/// Records that a stored object does not match its hash, found while
/// serving it: it is refused from now on, until the same content is
/// uploaded again, and the finding is audited.
pub fn report_corrupted(conn: &mut PgConnection, can: &ReadEvidence, caller: &Caller, download: &Download) -> Result<(), Error> {
    can.check(download.assignment_id)?;
    mark_corrupted(conn, &caller.audit_actor(), &download.sha256_hex)
}

/// `duban evidence verify` found these objects corrupted.
pub fn record_verified_corruption(conn: &mut PgConnection, _can: &VerifyStore, sha256_hex: &[String]) -> Result<(), Error> {
    for sha in sha256_hex {
        mark_corrupted(conn, &audit::Actor::command_line(), sha)?;
    }
    Ok(())
}

pub(crate) fn mark_corrupted(conn: &mut PgConnection, actor: &audit::Actor, sha256_hex: &str) -> Result<(), Error> {
    let sha = hex::decode(sha256_hex).map_err(Error::internal)?;
    conn.transaction(|conn| {
        let marked = diesel::update(blobs::table.find(&sha).filter(blobs::corrupted_at.is_null()))
            .set(blobs::corrupted_at.eq(Utc::now()))
            .execute(conn)?;
        if marked > 0 {
            tracing::error!(sha256 = sha256_hex, "a stored evidence file does not match its hash");
            audit::record(conn, actor, Event::new("evidence.corrupted").entity("blob", sha256_hex))?;
        }
        Ok(())
    })
}

/// Which of these contents are stored but known to be corrupted: an upload
/// of the same content replaces them.
pub fn corrupted_among(conn: &mut PgConnection, _can: &WorkOn, sha256: &[[u8; 32]]) -> Result<Vec<[u8; 32]>, Error> {
    let wanted: Vec<&[u8]> = sha256.iter().map(|sha| sha.as_slice()).collect();
    let found: Vec<Vec<u8>> =
        blobs::table.filter(blobs::sha256.eq_any(wanted)).filter(blobs::corrupted_at.is_not_null()).select(blobs::sha256).load(conn)?;
    Ok(sha256.iter().filter(|sha| found.iter().any(|bad| bad.as_slice() == sha.as_slice())).copied().collect())
}

fn insert_version(conn: &mut PgConnection, item: i64, version: i32, file: &StoredFile, user: Option<i64>) -> QueryResult<()> {
    diesel::insert_into(evidence_versions::table)
        .values((
            evidence_versions::evidence_id.eq(item),
            evidence_versions::version.eq(version),
            evidence_versions::sha256.eq(file.sha256.as_slice()),
            evidence_versions::file_name.eq(&file.file_name),
            evidence_versions::uploaded_by.eq(user),
        ))
        .execute(conn)
        .map(drop)
}

/// Withdraws evidence that is not under review or sealed; its versions stay on record.
pub fn withdraw(conn: &mut PgConnection, can: &WorkOn, caller: &Caller, evidence_id: i64) -> Result<(), Error> {
    conn.transaction(|conn| {
        let assignment: i64 = evidence::table
            .find(evidence_id)
            .select(evidence::assignment_id)
            .first(conn)
            .optional()?
            .ok_or_else(|| Error::not_found(format!("there is no evidence {evidence_id}")))?;
        can.check(assignment)?;
        let status: AssignmentStatus = assignments::table.find(assignment).for_update().select(assignments::status).first(conn)?;
        ensure_editable(status)?;
        let withdrawn = diesel::update(evidence::table.find(evidence_id).filter(evidence::withdrawn_at.is_null()))
            .set(evidence::withdrawn_at.eq(Utc::now()))
            .execute(conn)?;
        if withdrawn > 0 {
            audit::record(conn, &caller.audit_actor(), Event::new("evidence.withdraw").entity("evidence", evidence_id))?;
        }
        Ok(())
    })
}

/// The current (newest, not withdrawn) version of each piece of evidence of
/// an assignment, with its hash: what a submission or decision covers.
pub(crate) fn current_versions(conn: &mut PgConnection, assignment_id: i64) -> QueryResult<Vec<(i64, Vec<u8>)>> {
    let rows: Vec<(i64, i64, i32, Vec<u8>)> = evidence_versions::table
        .inner_join(evidence::table)
        .filter(evidence::assignment_id.eq(assignment_id))
        .filter(evidence::withdrawn_at.is_null())
        .order((evidence_versions::evidence_id, evidence_versions::version.desc()))
        .select((evidence_versions::id, evidence_versions::evidence_id, evidence_versions::version, evidence_versions::sha256))
        .load(conn)?;
    let mut seen = std::collections::BTreeSet::new();
    Ok(rows.into_iter().filter(|(_, item, ..)| seen.insert(*item)).map(|(id, _, _, sha)| (id, sha)).collect())
}

/// What `duban evidence verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub checked: usize,
    /// Objects whose content no longer has the hash they are stored under.
    pub mismatched: Vec<String>,
    /// Blobs the database references that the store does not have.
    pub missing: Vec<String>,
    /// Stored objects no blob row references (an upload interrupted after storing).
    pub orphans: Vec<String>,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.mismatched.is_empty() && self.missing.is_empty() && self.orphans.is_empty()
    }
}

/// Re-hashes every stored object against the database.
pub async fn verify(pool: &crate::db::PgPool, storage: &Storage, _can: &VerifyStore) -> anyhow::Result<VerifyReport> {
    let pool = pool.clone();
    let known: Vec<(Vec<u8>, i64)> = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut conn = pool.get()?;
        Ok(blobs::table.select((blobs::sha256, blobs::size)).load(&mut conn)?)
    })
    .await??;
    let known: BTreeMap<String, i64> = known.into_iter().map(|(sha, size)| (hex::encode(sha), size)).collect();
    let stored = storage.list().await?;
    let mut report = VerifyReport::default();
    for name in &stored {
        if !known.contains_key(name) {
            report.orphans.push(name.clone());
        }
    }
    for (name, size) in &known {
        if !stored.contains(name) {
            report.missing.push(name.clone());
            continue;
        }
        let (hash, actual_size) = storage.rehash(name).await?;
        report.checked += 1;
        if hex::encode(hash) != *name || actual_size as i64 != *size {
            report.mismatched.push(name.clone());
        }
    }
    Ok(report)
}
