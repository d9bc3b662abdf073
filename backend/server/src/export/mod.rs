//! Exporting a campaign and a roster as seed files. Export followed by
//! import into an empty database reproduces the data exactly, and exporting
//! the demo seeds reproduces the committed files byte for byte.
//!
//! [`report`] exports the breakdown table with progress as a workbook or CSV.

mod report;

pub use report::{Breakdown, breakdown};

use std::collections::BTreeMap;

use diesel::prelude::*;
use duban_breakdown::seed::{
    CAMPAIGN_FORMAT, CampaignMeta, CampaignSeed, GroupSeed, Level1Seed, Level2Seed, ROSTER_FORMAT, RosterSeed, TargetSeed, TaskSeed,
    UnitSeed,
};
use duban_dto::{PartyRole, TaskList};

use crate::audit;
use crate::authz::{ReadCatalog, ReadProgress};
use crate::db::models::{Campaign, Indicator, Target, Task, TaskParty, Unit, UnitGroup};
use crate::db::schema::{
    campaigns, indicators, regions, task_parties, task_targets, tasks, unit_aliases, unit_group_members, unit_groups, units,
};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("there is no campaign {0:?}")]
    NoCampaign(String),
    #[error("there is no region {0:?}")]
    NoRegion(String),
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("writing the workbook: {0}")]
    Workbook(#[from] rust_xlsxwriter::XlsxError),
}

impl From<ExportError> for crate::error::Error {
    fn from(error: ExportError) -> Self {
        use crate::error::Error;
        match error {
            ExportError::NoCampaign(_) | ExportError::NoRegion(_) => Error::not_found(error.to_string()),
            ExportError::Database(error) => error.into(),
            ExportError::Workbook(_) => Error::internal(error),
        }
    }
}

/// The files the breakdown table exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakdownFile {
    /// .xlsx: a sheet per list in the province's layout, and the per-unit list.
    Workbook,
    /// .csv: the table in the flat format, one row per task.
    TasksCsv,
    /// .csv: the per-unit task list (单位任务清单).
    UnitTasksCsv,
}

/// An exported file, ready to write or send.
pub struct ExportedFile {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

pub const XLSX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// Exports the breakdown table with progress, for the CLI and the API
/// alike, and records the export in the audit log: what leaves the system
/// for a report upward is worth knowing.
pub fn breakdown_file(
    conn: &mut PgConnection,
    catalog: &ReadCatalog,
    progress: &ReadProgress,
    actor: &audit::Actor,
    code: &str,
    file: BreakdownFile,
) -> Result<ExportedFile, ExportError> {
    let exported = make_breakdown_file(conn, catalog, progress, code, file)?;
    record_breakdown_export(conn, catalog, actor, code, &exported)?;
    Ok(exported)
}

/// The breakdown file alone, read without writing (on a replica, when the
/// server has one); [`record_breakdown_export`] then records it, on the
/// primary, before it is handed out.
pub fn make_breakdown_file(
    conn: &mut PgConnection,
    _catalog: &ReadCatalog,
    _progress: &ReadProgress,
    code: &str,
    file: BreakdownFile,
) -> Result<ExportedFile, ExportError> {
    let breakdown = breakdown(conn, code)?;
    let (suffix, content_type, bytes) = match file {
        BreakdownFile::Workbook => ("任务分解表.xlsx", XLSX_CONTENT_TYPE, breakdown.workbook()?),
        BreakdownFile::TasksCsv => ("任务分解表.csv", CSV_CONTENT_TYPE, breakdown.tasks_csv()),
        BreakdownFile::UnitTasksCsv => ("单位任务清单.csv", CSV_CONTENT_TYPE, breakdown.unit_tasks_csv()),
    };
    Ok(ExportedFile { file_name: format!("{code}-{suffix}"), content_type, bytes })
}

/// Records in the audit log that `exported`, which reading the catalogue
/// allowed, leaves the system.
pub fn record_breakdown_export(
    conn: &mut PgConnection,
    _catalog: &ReadCatalog,
    actor: &audit::Actor,
    code: &str,
    exported: &ExportedFile,
) -> Result<(), ExportError> {
    let event = audit::Event::new("export.breakdown")
        .entity("campaign", code)
        .after(serde_json::json!({"file": exported.file_name, "bytes": exported.bytes.len()}));
    audit::record(conn, actor, event)?;
    Ok(())
}

/// The campaign `code` as a `duban.campaign/1` seed.
pub fn campaign_seed(conn: &mut PgConnection, code: &str) -> Result<CampaignSeed, ExportError> {
    let (campaign, region): (Campaign, String) = campaigns::table
        .inner_join(regions::table)
        .filter(campaigns::code.eq(code))
        .select((Campaign::as_select(), regions::name))
        .first(conn)
        .optional()?
        .ok_or_else(|| ExportError::NoCampaign(code.to_owned()))?;

    let indicator_rows: Vec<Indicator> = indicators::table
        .filter(indicators::campaign_id.eq(campaign.id))
        .order((indicators::level, indicators::ordinal))
        .select(Indicator::as_select())
        .load(conn)?;
    let level2_codes: BTreeMap<i64, String> =
        indicator_rows.iter().filter(|row| row.level == 2).map(|row| (row.id, row.code.clone())).collect();
    let indicators = indicator_rows
        .iter()
        .filter(|row| row.level == 1)
        .map(|level1| Level1Seed {
            code: level1.code.clone(),
            title: level1.title.clone(),
            children: indicator_rows
                .iter()
                .filter(|row| row.parent_id == Some(level1.id))
                .map(|level2| Level2Seed { code: level2.code.clone(), title: level2.title.clone() })
                .collect(),
        })
        .collect();

    let task_rows: Vec<Task> = tasks::table.filter(tasks::campaign_id.eq(campaign.id)).select(Task::as_select()).load(conn)?;
    let task_ids: Vec<i64> = task_rows.iter().map(|task| task.id).collect();
    let mut leads: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for party in task_parties::table
        .filter(task_parties::task_id.eq_any(&task_ids))
        .filter(task_parties::role.eq(PartyRole::Lead.as_str()))
        .order((task_parties::task_id, task_parties::position))
        .select(TaskParty::as_select())
        .load(conn)?
    {
        leads.entry(party.task_id).or_default().push(party.as_written);
    }
    let mut targets: BTreeMap<i64, Vec<TargetSeed>> = BTreeMap::new();
    for target in task_targets::table
        .filter(task_targets::task_id.eq_any(&task_ids))
        .order((task_targets::task_id, task_targets::position))
        .select(Target::as_select())
        .load(conn)?
    {
        targets.entry(target.task_id).or_default().push(target.seed());
    }

    let mut tasks: Vec<TaskSeed> = task_rows
        .into_iter()
        .map(|task| {
            let list = task.list;
            TaskSeed {
                code: task.code,
                list,
                number: task.number as u32,
                indicator: task.indicator_id.map(|id| level2_codes[&id].clone()),
                text: task.text,
                leads: leads.remove(&task.id).unwrap_or_default(),
                responsible: task.responsible_text,
                // Quantified tasks always state their targets, even none.
                targets: (list == TaskList::Quantified).then(|| targets.remove(&task.id).unwrap_or_default()),
                source_line: task.source_line.map(|line| line as u32),
            }
        })
        .collect();
    tasks.sort_by_key(|task| (task.list, task.number));

    Ok(CampaignSeed {
        format: CAMPAIGN_FORMAT.to_owned(),
        campaign: CampaignMeta {
            code: campaign.code,
            name: campaign.name,
            region,
            period_start: campaign.period_start,
            period_end: campaign.period_end,
            source_title: campaign.source_title,
        },
        indicators,
        tasks,
    })
}

/// The region's units and groups as a `duban.roster/1` seed, in the order
/// they were first imported.
pub fn roster_seed(conn: &mut PgConnection, region: &str) -> Result<RosterSeed, ExportError> {
    let region_id: i64 = regions::table
        .filter(regions::name.eq(region))
        .select(regions::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| ExportError::NoRegion(region.to_owned()))?;
    let unit_rows: Vec<Unit> = units::table.filter(units::region_id.eq(region_id)).order(units::id).select(Unit::as_select()).load(conn)?;
    let mut aliases: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (unit_id, alias) in unit_aliases::table
        .filter(unit_aliases::region_id.eq(region_id))
        .order(unit_aliases::id)
        .select((unit_aliases::unit_id, unit_aliases::alias))
        .load::<(i64, String)>(conn)?
    {
        aliases.entry(unit_id).or_default().push(alias);
    }
    let names: BTreeMap<i64, String> = unit_rows.iter().map(|unit| (unit.id, unit.name.clone())).collect();
    let units = unit_rows
        .into_iter()
        .map(|unit| UnitSeed {
            kind: unit.kind,
            aliases: aliases.remove(&unit.id).unwrap_or_default(),
            name: unit.name,
            law_enforcement: unit.law_enforcement,
            note: unit.note,
        })
        .collect();

    let group_rows: Vec<UnitGroup> =
        unit_groups::table.filter(unit_groups::region_id.eq(region_id)).order(unit_groups::id).select(UnitGroup::as_select()).load(conn)?;
    let mut members: BTreeMap<(i64, String), Vec<String>> = BTreeMap::new();
    for (group_id, unit_id, inclusion) in unit_group_members::table
        .filter(unit_group_members::region_id.eq(region_id))
        .order((unit_group_members::group_id, unit_group_members::unit_id))
        .select((unit_group_members::group_id, unit_group_members::unit_id, unit_group_members::inclusion))
        .load::<(i64, i64, String)>(conn)?
    {
        members.entry((group_id, inclusion)).or_default().push(names[&unit_id].clone());
    }
    let groups = group_rows
        .into_iter()
        .map(|group| GroupSeed {
            member_kinds: group.member_kinds.clone(),
            law_enforcement_only: group.law_enforcement_only,
            include: members.remove(&(group.id, "include".to_owned())).unwrap_or_default(),
            exclude: members.remove(&(group.id, "exclude".to_owned())).unwrap_or_default(),
            note: group.note,
            phrase: group.phrase,
        })
        .collect();

    Ok(RosterSeed { format: ROSTER_FORMAT.to_owned(), region: region.to_owned(), units, groups })
}
