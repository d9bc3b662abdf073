//! A province-sized dataset for benchmarks: `duban gen-data --counties N`.
//!
//! County 1 is the demo county (罗平县, campaign `luoping`); counties 2 … N
//! are copies of its roster and breakdown under their own names (示范002县 …,
//! campaigns `county-002` …), imported through the same importer as real
//! tables. Then every campaign gets activity: responsible assignments per
//! the table (collective phrases expanded by the groups' rules), a
//! deterministic mix of statuses and due dates, progress notes, evidence
//! metadata (blobs without files), review decisions, and an audit trail of
//! all of it, hash-chained like every audit row. The activity is set-based
//! SQL and `COPY`, so the provincial case (N = 129) takes minutes, not hours.
//!
//! Everything generated says so: audit rows are written by the actor
//! `duban gen-data`, and `duban evidence verify` reports the generated
//! blobs as missing files. Running it again adds only what is missing.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use diesel::pg::CopyFormat;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use duban_breakdown::seed::{CampaignSeed, RosterSeed};
use serde::Serialize;

use crate::audit::{self, Actor};
use crate::authz::Operator;
use crate::db::schema::{assignments, audit_log, campaigns, task_parties, tasks};
use crate::import::{self, Source};
use crate::{rollup, seeds};

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("loading the demo data: {0}")]
    Seed(#[from] seeds::SeedError),
    #[error("importing county {county}: {error}")]
    Import { county: u32, error: import::ImportError },
}

/// What a run made, and how long its parts took.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Generated {
    pub counties: u32,
    pub campaigns: i64,
    pub tasks: i64,
    pub units: i64,
    pub assignments: i64,
    pub evidence: i64,
    pub decisions: i64,
    pub audit_rows: i64,
    /// Importing the counties' rosters and tables through the importer.
    pub import_seconds: f64,
    /// The breakdown tables alone, each a full import in one transaction.
    pub table_import_seconds: f64,
    pub activity_seconds: f64,
    pub audit_seconds: f64,
    pub total_seconds: f64,
}

/// The actor of everything the generator writes, so no one mistakes it for
/// a county's real work.
const GENERATOR: &str = "duban gen-data";

pub fn campaign_code(county: u32) -> String {
    if county == 1 { "luoping".to_owned() } else { format!("county-{county:03}") }
}

fn region_name(county: u32) -> String {
    format!("示范{county:03}县")
}

/// Generates counties 1 … `counties`, reporting each step to `say`.
pub fn generate(
    conn: &mut PgConnection,
    operator: &Operator,
    counties: u32,
    say: &mut dyn FnMut(String),
) -> Result<Generated, GenerateError> {
    let started = Instant::now();
    let mut generated = Generated { counties, ..Generated::default() };
    if seeds::load_demo_if_empty(conn, operator)? {
        say("county 1: loaded the demo data (罗平县)".to_owned());
    }

    let roster = RosterSeed::from_json(seeds::LUOPING_ROSTER).expect("the embedded roster is valid");
    let campaign = CampaignSeed::from_json(seeds::LUOPING_CAMPAIGN).expect("the embedded campaign is valid");
    let can = operator.import_data();
    let province = seeds::demo_accounts().province;
    let actor = Actor::system(GENERATOR);
    let mut table_time = Duration::ZERO;
    for county in 2..=counties {
        let code = campaign_code(county);
        let exists: bool = diesel::select(diesel::dsl::exists(campaigns::table.filter(campaigns::code.eq(&code)))).get_result(conn)?;
        if exists {
            continue;
        }
        let region = region_name(county);
        let mut county_roster = roster.clone();
        county_roster.region = region.clone();
        let mut county_campaign = campaign.clone();
        county_campaign.campaign.code = code.clone();
        county_campaign.campaign.region = region.clone();
        county_campaign.campaign.name = format!("{region}法治政府建设示范创建");
        county_campaign.campaign.source_title = Some(format!("{region}法治政府建设示范创建指标任务分解表"));
        let fail = |error| GenerateError::Import { county, error };
        import::run(conn, &can, &actor, &Source::Roster(Box::new(county_roster)), &format!("gen-data {region} roster"), false)
            .map_err(fail)?;
        // The generated counties lie in the demo's province, whose office reads them all.
        seeds::place_regions(conn, operator, &province, std::slice::from_ref(&region))?;
        let table_started = Instant::now();
        import::run(conn, &can, &actor, &Source::Campaign(Box::new(county_campaign)), &format!("gen-data {code}"), false).map_err(fail)?;
        table_time += table_started.elapsed();
        if county % 10 == 0 || county == counties {
            say(format!("counties 2–{county}: rosters and breakdown tables imported"));
        }
    }
    generated.import_seconds = started.elapsed().as_secs_f64();
    generated.table_import_seconds = table_time.as_secs_f64();

    // Each county's activity and its audit trail commit together, so a
    // county is either complete or absent, and a second run can tell.
    let activity_started = Instant::now();
    let mut audit_time = Duration::ZERO;
    for county in 1..=counties {
        let code = campaign_code(county);
        let campaign_id: i64 = campaigns::table.filter(campaigns::code.eq(&code)).select(campaigns::id).first(conn)?;
        if activity_exists(conn, campaign_id)? {
            continue;
        }
        conn.transaction(|conn| {
            activity(conn, campaign_id)?;
            let audit_started = Instant::now();
            audit_trail(conn, campaign_id)?;
            audit_time += audit_started.elapsed();
            QueryResult::Ok(())
        })?;
        if county % 10 == 0 || county == counties {
            say(format!("counties 1–{county}: assignments, evidence, reviews and their audit trail generated"));
        }
    }
    generated.activity_seconds = (activity_started.elapsed() - audit_time).as_secs_f64();
    generated.audit_seconds = audit_time.as_secs_f64();

    let count = |conn: &mut PgConnection, table: &str| -> QueryResult<i64> {
        diesel::select(diesel::dsl::sql::<BigInt>(&format!("(SELECT count(*) FROM {table})"))).get_result(conn)
    };
    generated.campaigns = count(conn, "campaigns")?;
    generated.tasks = count(conn, "tasks")?;
    generated.units = count(conn, "units")?;
    generated.assignments = count(conn, "assignments")?;
    generated.evidence = count(conn, "evidence")?;
    generated.decisions = count(conn, "decisions")?;
    generated.audit_rows = count(conn, "audit_log")?;
    // VACUUM, not only ANALYZE: rolling the statuses up rewrote every task
    // and assignment row once, and the dead versions left behind would slow
    // every scan (and keep index-only scans from being index-only) until
    // autovacuum came round.
    diesel::sql_query("VACUUM (ANALYZE)").execute(conn)?;
    generated.total_seconds = started.elapsed().as_secs_f64();
    Ok(generated)
}

/// Whether a campaign already has generated activity (any responsible
/// assignment, which the importer never makes).
fn activity_exists(conn: &mut PgConnection, campaign_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        assignments::table.inner_join(tasks::table).filter(tasks::campaign_id.eq(campaign_id)).filter(assignments::role.eq("responsible")),
    ))
    .get_result(conn)
}

/// One campaign's work: assignments, statuses, evidence, decisions.
fn activity(conn: &mut PgConnection, campaign_id: i64) -> QueryResult<()> {
    // Responsible assignments per the table: named units, and the members
    // of the groups its collective phrases stand for.
    let parties: Vec<(i64, Option<i64>, Option<i64>)> = task_parties::table
        .inner_join(tasks::table)
        .filter(tasks::campaign_id.eq(campaign_id))
        .filter(task_parties::role.eq("responsible"))
        .select((task_parties::task_id, task_parties::unit_id, task_parties::group_id))
        .load(conn)?;
    let mut members: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut pairs: Vec<(i64, i64)> = Vec::new();
    for (task_id, unit_id, group_id) in parties {
        if let Some(unit_id) = unit_id {
            pairs.push((task_id, unit_id));
        }
        if let Some(group_id) = group_id {
            if !members.contains_key(&group_id) {
                let units = crate::db::groups::expand(conn, group_id)?.into_iter().map(|unit| unit.id).collect();
                members.insert(group_id, units);
            }
            pairs.extend(members[&group_id].iter().map(|unit| (task_id, *unit)));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    for chunk in pairs.chunks(5000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(task, unit)| (assignments::task_id.eq(task), assignments::unit_id.eq(unit), assignments::role.eq("responsible")))
            .collect();
        diesel::insert_into(assignments::table).values(&rows).on_conflict_do_nothing().execute(conn)?;
    }

    // A deterministic mix: a third not started, a quarter in progress, the
    // rest in review or done; due dates spread over the year.
    diesel::sql_query(
        "UPDATE assignments a SET
            status = CASE WHEN r < 30 THEN 'not_started' WHEN r < 55 THEN 'in_progress' WHEN r < 68 THEN 'submitted'
                          WHEN r < 73 THEN 'returned' WHEN r < 83 THEN 'accepted' ELSE 'approved' END,
            round = CASE WHEN r >= 68 AND r < 73 THEN 2 ELSE 1 END,
            due_date = DATE '2026-03-31' + ((a.id * 7919) % 270)::int,
            progress_note = CASE WHEN r >= 30 THEN '已按要求推进，相关材料已整理。' END,
            created_at = TIMESTAMPTZ '2026-01-05 09:00+08' + ((a.id * 104729) % 2000000) * INTERVAL '1 second',
            updated_at = TIMESTAMPTZ '2026-02-01 09:00+08' + ((a.id * 104729) % 20000000) * INTERVAL '1 second'
         FROM (SELECT a2.id, (a2.id * 2654435761) % 100 AS r FROM assignments a2 JOIN tasks t ON t.id = a2.task_id
               WHERE t.campaign_id = $1) AS mix
         WHERE a.id = mix.id",
    )
    .bind::<BigInt, _>(campaign_id)
    .execute(conn)?;

    // Evidence for work that has started: one or two items, each one file.
    diesel::sql_query(
        "INSERT INTO evidence (assignment_id, description, effective_date, created_at)
         SELECT a.id, '佐证材料（' || n || '）', DATE '2026-01-01' + ((a.id + n) % 300)::int,
                a.updated_at - (n * INTERVAL '1 day')
         FROM assignments a JOIN tasks t ON t.id = a.task_id
         CROSS JOIN LATERAL generate_series(1, 1 + (a.id % 2)::int) AS n
         WHERE t.campaign_id = $1 AND a.status <> 'not_started'",
    )
    .bind::<BigInt, _>(campaign_id)
    .execute(conn)?;
    let new_evidence = "SELECT e.id, e.created_at FROM evidence e JOIN assignments a ON a.id = e.assignment_id
                        JOIN tasks t ON t.id = a.task_id
                        WHERE t.campaign_id = $1 AND NOT EXISTS (SELECT 1 FROM evidence_versions v WHERE v.evidence_id = e.id)";
    diesel::sql_query(format!(
        "INSERT INTO blobs (sha256, size, content_type, created_at)
         SELECT sha256(('duban gen-data ' || e.id)::bytea), 20000 + (e.id * 7919) % 4000000, 'application/pdf', e.created_at
         FROM ({new_evidence}) e ON CONFLICT DO NOTHING"
    ))
    .bind::<BigInt, _>(campaign_id)
    .execute(conn)?;
    diesel::sql_query(format!(
        "INSERT INTO evidence_versions (evidence_id, version, sha256, file_name, uploaded_at)
         SELECT e.id, 1, sha256(('duban gen-data ' || e.id)::bytea), '材料' || e.id || '.pdf', e.created_at
         FROM ({new_evidence}) e"
    ))
    .bind::<BigInt, _>(campaign_id)
    .execute(conn)?;

    // The review history each status implies.
    for (action, from, to, statuses, round, offset) in [
        ("submit", "in_progress", "submitted", "'submitted','returned','accepted','approved'", 1, 0),
        ("return", "submitted", "returned", "'returned'", 1, 1),
        ("submit", "returned", "submitted", "'returned'", 2, 2),
        ("accept", "submitted", "accepted", "'accepted','approved'", 1, 3),
        ("approve", "accepted", "approved", "'approved'", 1, 4),
    ] {
        diesel::sql_query(format!(
            "INSERT INTO decisions (assignment_id, round, action, from_status, to_status, actor_unit_id, reason, at)
             SELECT a.id, {round}, '{action}', '{from}', '{to}', a.unit_id,
                    CASE WHEN '{action}' = 'return' THEN '请补充盖章页和具体数据。' END,
                    a.updated_at + {offset} * INTERVAL '1 hour'
             FROM assignments a JOIN tasks t ON t.id = a.task_id
             WHERE t.campaign_id = $1 AND a.status IN ({statuses})"
        ))
        .bind::<BigInt, _>(campaign_id)
        .execute(conn)?;
    }

    let task_ids: Vec<i64> = tasks::table.filter(tasks::campaign_id.eq(campaign_id)).select(tasks::id).load(conn)?;
    rollup::refresh(conn, &task_ids)
}

/// One audit row to be written.
struct Row {
    at: DateTime<Utc>,
    action: &'static str,
    entity_type: &'static str,
    entity_id: String,
    after: serde_json::Value,
}

#[derive(QueryableByName)]
struct Event {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    detail: String,
    #[diesel(sql_type = BigInt)]
    at_seconds: i64,
}

/// The audit trail of one campaign's generated activity: each assignment
/// made and progress reported, evidence uploaded and read, and each
/// decision; appended to the chain after its current head, under the same
/// lock as every append.
fn audit_trail(conn: &mut PgConnection, campaign_id: i64) -> QueryResult<i64> {
    let events: Vec<Event> = diesel::sql_query(
        "SELECT 'assignment' AS kind, a.id, a.status AS detail, extract(epoch FROM a.created_at)::bigint AS at_seconds
           FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE t.campaign_id = $1 AND a.role = 'responsible'
         UNION ALL
         SELECT 'evidence', e.id, e.assignment_id::text, extract(epoch FROM e.created_at)::bigint
           FROM evidence e JOIN assignments a ON a.id = e.assignment_id JOIN tasks t ON t.id = a.task_id WHERE t.campaign_id = $1
         UNION ALL
         SELECT 'decision', d.id, d.action, extract(epoch FROM d.at)::bigint
           FROM decisions d JOIN assignments a ON a.id = d.assignment_id JOIN tasks t ON t.id = a.task_id WHERE t.campaign_id = $1",
    )
    .bind::<BigInt, _>(campaign_id)
    .load(conn)?;
    let mut rows = Vec::with_capacity(events.len() * 3);
    for event in &events {
        let at = Utc.timestamp_opt(event.at_seconds, 0).single().unwrap_or_else(Utc::now);
        match event.kind.as_str() {
            "assignment" => {
                rows.push(Row {
                    at,
                    action: "assignment.create",
                    entity_type: "assignment",
                    entity_id: event.id.to_string(),
                    after: serde_json::json!({"role": "responsible"}),
                });
                if event.detail != "not_started" {
                    rows.push(Row {
                        at: at + chrono::Duration::days(3),
                        action: "assignment.update",
                        entity_type: "assignment",
                        entity_id: event.id.to_string(),
                        after: serde_json::json!({"status": "in_progress", "progress_note": "已按要求推进，相关材料已整理。"}),
                    });
                }
            }
            "evidence" => {
                rows.push(Row {
                    at,
                    action: "evidence.upload",
                    entity_type: "evidence",
                    entity_id: event.id.to_string(),
                    after: serde_json::json!({"assignment": event.detail, "version": 1}),
                });
                // Reviewers and inspectors read the material several times.
                for reading in 1..=3 {
                    rows.push(Row {
                        at: at + chrono::Duration::hours(reading * 7),
                        action: "evidence.download",
                        entity_type: "evidence",
                        entity_id: event.id.to_string(),
                        after: serde_json::Value::Null,
                    });
                }
            }
            _ => rows.push(Row {
                at,
                action: match event.detail.as_str() {
                    "submit" => "review.submit",
                    "return" => "review.return",
                    "accept" => "review.accept",
                    _ => "review.approve",
                },
                entity_type: "decision",
                entity_id: event.id.to_string(),
                after: serde_json::json!({"decision": event.id}),
            }),
        }
    }
    rows.sort_by_key(|row| row.at);
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(audit::CHAIN_LOCK).execute(conn)?;
    append_rows(conn, &rows)
}

fn append_rows(conn: &mut PgConnection, rows: &[Row]) -> QueryResult<i64> {
    let actor = Actor::system(GENERATOR);
    let head: Option<(i64, Vec<u8>)> =
        audit_log::table.order(audit_log::id.desc()).select((audit_log::id, audit_log::hash)).first(conn).optional()?;
    let (mut id, mut prev_hash) = head.unwrap_or((0, audit::GENESIS.to_vec()));
    let function = audit::ChainHash::of(conn)?;
    for chunk in rows.chunks(100_000) {
        let mut csv = Vec::with_capacity(chunk.len() * 300);
        for row in chunk {
            id += 1;
            let entry = audit::Content {
                id,
                at: row.at,
                actor: &actor,
                action: row.action,
                entity_type: Some(row.entity_type),
                entity_id: Some(&row.entity_id),
                before: None,
                after: (!row.after.is_null()).then_some(&row.after),
            };
            let hash = entry.hash(function, &prev_hash);
            entry.write_csv(&prev_hash, &hash, &mut csv);
            prev_hash = hash.to_vec();
        }
        diesel::copy_from(audit_log::table)
            .from_raw_data(audit::COPY_COLUMNS, |copy| {
                copy.write_all(&csv).map_err(|error| diesel::result::Error::SerializationError(Box::new(error)))
            })
            .with_format(CopyFormat::Csv)
            .execute(conn)?;
    }
    diesel::sql_query("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), $1)").bind::<BigInt, _>(id.max(1)).execute(conn)?;
    Ok(rows.len() as i64)
}
