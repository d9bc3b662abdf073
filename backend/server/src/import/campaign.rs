//! Importing a campaign's breakdown: campaign, indicators, tasks with their
//! parties and targets, and the lead assignments the table implies.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use duban_breakdown::Document;
use duban_breakdown::resolve::Resolved;
use duban_breakdown::seed::{CampaignMeta, CampaignSeed, TargetSeed};
use duban_dto::{AssignmentStatus, PartyRole, TaskList};

use super::roster::RegionRoster;
use super::{ChangeAction, Entity, ImportError, ImportReport};
use crate::authz::ImportData;
use crate::db::models::{Campaign, Indicator, Target, Task, TaskParty};
use crate::db::schema::{assignments, campaigns, indicators, regions, task_parties, task_targets, tasks, units};

/// Imports a document into the campaign `code`, or into the only campaign of
/// the document's county. A new code creates the campaign.
pub(super) fn import_document(
    conn: &mut PgConnection,
    can: &ImportData,
    document: &Document,
    code: Option<&str>,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let meta = meta_for_document(conn, document, code)?;
    import_seed(conn, can, &CampaignSeed::from_document(document, meta), report)
}

/// The campaign a document goes into: an existing one keeps its description.
fn meta_for_document(conn: &mut PgConnection, document: &Document, code: Option<&str>) -> Result<CampaignMeta, ImportError> {
    let existing = |conn: &mut PgConnection, filter_code: Option<&str>| -> QueryResult<Vec<(Campaign, String)>> {
        let mut query = campaigns::table.inner_join(regions::table).select((Campaign::as_select(), regions::name)).into_boxed();
        if let Some(code) = filter_code {
            query = query.filter(campaigns::code.eq(code.to_owned()));
        } else if let Some(region) = &document.region {
            query = query.filter(regions::name.eq(region.clone()));
        }
        query.order(campaigns::id).load(conn)
    };
    let found = existing(conn, code)?;
    let meta_of = |(campaign, region): &(Campaign, String)| CampaignMeta {
        code: campaign.code.clone(),
        name: campaign.name.clone(),
        region: region.clone(),
        period_start: campaign.period_start,
        period_end: campaign.period_end,
        source_title: campaign.source_title.clone(),
    };
    match (code, found.as_slice()) {
        (Some(_), [one]) => {
            let meta = meta_of(one);
            if let Some(region) = &document.region
                && *region != meta.region
            {
                return Err(ImportError::Refused(format!(
                    "the document is the breakdown of {region}, but campaign {:?} belongs to {}",
                    meta.code, meta.region
                )));
            }
            Ok(meta)
        }
        (Some(code), _) => {
            let region = document.region.clone().ok_or_else(|| {
                ImportError::Refused(
                    "the document's title names no county (such as 罗平县…), so a new campaign cannot be placed; \
                     import the roster and campaign as JSON instead"
                        .to_owned(),
                )
            })?;
            let title = document.title.clone().unwrap_or_default();
            let name = ["指标任务分解表", "任务分解表", "分解表"]
                .iter()
                .find_map(|suffix| title.strip_suffix(suffix))
                .unwrap_or(&title)
                .to_owned();
            Ok(CampaignMeta {
                code: code.to_owned(),
                name: if name.is_empty() { format!("{region}法治政府建设示范创建") } else { name },
                region,
                period_start: None,
                period_end: None,
                source_title: document.title.clone(),
            })
        }
        (None, [one]) => Ok(meta_of(one)),
        (None, []) => Err(ImportError::Refused(format!(
            "there is no campaign for {} yet: pass --campaign CODE to create one",
            document.region.as_deref().unwrap_or("this document's county")
        ))),
        (None, several) => Err(ImportError::Refused(format!(
            "{} has several campaigns ({}): pass --campaign CODE to choose one",
            document.region.as_deref().unwrap_or("the county"),
            several.iter().map(|(campaign, _)| campaign.code.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Brings the campaign `seed.campaign.code` to exactly what the seed says.
pub(super) fn import_seed(
    conn: &mut PgConnection,
    can: &ImportData,
    seed: &CampaignSeed,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    seed.validate()?;
    let mut roster = RegionRoster::load_or_create(conn, can, &seed.campaign.region, report)?;
    let campaign_id = upsert_campaign(conn, roster.region_id, &seed.campaign, report)?;
    let parties = resolve_parties(conn, seed, &mut roster, report)?;
    let level2_ids = sync_indicators(conn, campaign_id, seed, report)?;
    let task_ids = sync_tasks(conn, campaign_id, seed, &parties, &level2_ids, report)?;
    sync_lead_assignments(conn, campaign_id, &task_ids, &parties, &roster, report)?;
    delete_stale_tasks(conn, campaign_id, &task_ids, report)?;
    delete_stale_indicators(conn, campaign_id, seed, report)?;
    let all_tasks: Vec<i64> = task_ids.iter().map(|(_, id)| *id).collect();
    crate::rollup::refresh(conn, &all_tasks)?;
    Ok(())
}

fn upsert_campaign(conn: &mut PgConnection, region_id: i64, meta: &CampaignMeta, report: &mut ImportReport) -> Result<i64, ImportError> {
    let existing: Option<Campaign> =
        campaigns::table.filter(campaigns::code.eq(&meta.code)).select(Campaign::as_select()).first(conn).optional()?;
    let Some(existing) = existing else {
        let id = diesel::insert_into(campaigns::table)
            .values((
                campaigns::region_id.eq(region_id),
                campaigns::code.eq(&meta.code),
                campaigns::name.eq(&meta.name),
                campaigns::period_start.eq(meta.period_start),
                campaigns::period_end.eq(meta.period_end),
                campaigns::source_title.eq(&meta.source_title),
            ))
            .returning(campaigns::id)
            .get_result(conn)?;
        report.record(Entity::Campaign, &meta.code, ChangeAction::Created);
        return Ok(id);
    };
    if existing.region_id != region_id {
        return Err(ImportError::Refused(format!(
            "campaign {:?} belongs to another county; its units and assignments cannot move to {}",
            meta.code, meta.region
        )));
    }
    let mut fields = Vec::new();
    if existing.name != meta.name {
        fields.push("name");
    }
    if (existing.period_start, existing.period_end) != (meta.period_start, meta.period_end) {
        fields.push("period");
    }
    if existing.source_title != meta.source_title {
        fields.push("source_title");
    }
    if !fields.is_empty() {
        diesel::update(campaigns::table.find(existing.id))
            .set((
                campaigns::name.eq(&meta.name),
                campaigns::period_start.eq(meta.period_start),
                campaigns::period_end.eq(meta.period_end),
                campaigns::source_title.eq(&meta.source_title),
                campaigns::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
    }
    report.record_update(Entity::Campaign, &meta.code, fields);
    Ok(existing.id)
}

/// A task's party as it will be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PartyRow {
    role: PartyRole,
    as_written: String,
    unit_id: Option<i64>,
    group_id: Option<i64>,
}

/// Resolves every task's leads and responsible units against the roster,
/// creating the units and groups the roster does not know yet.
fn resolve_parties(
    conn: &mut PgConnection,
    seed: &CampaignSeed,
    roster: &mut RegionRoster,
    report: &mut ImportReport,
) -> Result<Vec<Vec<PartyRow>>, ImportError> {
    let resolve_all = |roster: &RegionRoster| -> Vec<Vec<(PartyRole, duban_breakdown::resolve::Party)>> {
        seed.tasks
            .iter()
            .map(|task| {
                let leads = roster.index.resolve_leads(&task.leads).into_iter().map(|party| (PartyRole::Lead, party));
                let responsible = task
                    .responsible
                    .iter()
                    .flat_map(|phrase| roster.index.resolve_responsible(phrase))
                    .map(|party| (PartyRole::Responsible, party));
                leads.chain(responsible).collect()
            })
            .collect()
    };

    // The names resolved once, against the roster as it is, for both passes
    // below: first what the built-in names resolved and the other forms each
    // new unit was written in (its aliases), then the creations.
    let before_creation = resolve_all(roster);
    let mut aliases: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for parties in &before_creation {
        for (_, party) in parties {
            if !party.by_builtin_names {
                continue;
            }
            let name = match &party.resolved {
                Resolved::Unit { name } | Resolved::NewUnit { name, .. } => name,
                Resolved::Group { phrase } | Resolved::NewGroup { phrase } => phrase,
            };
            if *name != party.as_written {
                let line = format!("{} → {name}", party.as_written);
                if !report.resolved_by_builtin_names.contains(&line) {
                    report.resolved_by_builtin_names.push(line);
                }
                if let Resolved::NewUnit { name, .. } = &party.resolved {
                    aliases.entry(name.clone()).or_default().insert(party.as_written.clone());
                }
            }
        }
    }

    // Create what the roster lacks (each once, in document order), then
    // resolve again so every name finds its row.
    let mut created = BTreeSet::new();
    for (task, parties) in seed.tasks.iter().zip(before_creation) {
        for (_, party) in parties {
            match party.resolved {
                Resolved::NewUnit { name, kind } if created.insert(name.clone()) => {
                    let forms: Vec<String> = aliases.remove(&name).unwrap_or_default().into_iter().collect();
                    roster.create_unit(conn, &name, kind, &forms, report)?;
                    report.warn(if party.by_builtin_names {
                        format!(
                            "{}: unit {name:?} is not in the roster; created from the built-in names as {} ({}){}",
                            task.code,
                            kind,
                            kind.zh_name(),
                            if forms.is_empty() { String::new() } else { format!(", also written {}", forms.join("、")) }
                        )
                    } else {
                        format!(
                            "{}: unit {name:?} is not in the roster; created as {} ({}) — check its kind and law-enforcement flag",
                            task.code,
                            kind,
                            kind.zh_name()
                        )
                    });
                }
                Resolved::NewGroup { phrase } if created.insert(phrase.clone()) => {
                    roster.create_group(conn, &phrase, report)?;
                    report.warn(if party.by_builtin_names {
                        format!("{}: collective phrase {phrase:?} is not in the roster; created with the built-in rule for who belongs to it", task.code)
                    } else {
                        format!(
                            "{}: collective phrase {phrase:?} is not in the roster; created as a group without members — define who belongs to it",
                            task.code
                        )
                    });
                }
                _ => {}
            }
        }
    }
    resolve_all(roster)
        .into_iter()
        .map(|parties| {
            parties
                .into_iter()
                .map(|(role, party)| {
                    let (unit_id, group_id) = match &party.resolved {
                        Resolved::Unit { name } => (Some(roster.unit_id(name)), None),
                        Resolved::Group { phrase } => (None, Some(roster.group_id(phrase))),
                        other => unreachable!("{other:?} was created above"),
                    };
                    Ok(PartyRow { role, as_written: party.as_written, unit_id, group_id })
                })
                .collect()
        })
        .collect()
}

/// Brings the indicators up to date (deletions wait until no task needs
/// them) and returns the level-2 ids by code.
fn sync_indicators(
    conn: &mut PgConnection,
    campaign_id: i64,
    seed: &CampaignSeed,
    report: &mut ImportReport,
) -> Result<BTreeMap<String, i64>, ImportError> {
    let existing: Vec<Indicator> =
        indicators::table.filter(indicators::campaign_id.eq(campaign_id)).select(Indicator::as_select()).load(conn)?;
    let mut by_key: BTreeMap<(i16, i32), Indicator> = existing.into_iter().map(|row| ((row.level, row.ordinal), row)).collect();

    let mut upsert =
        |conn: &mut PgConnection, level: i16, ordinal: i32, code: &str, title: &str, parent_id: Option<i64>| -> QueryResult<i64> {
            match by_key.remove(&(level, ordinal)) {
                Some(row) => {
                    let mut fields = Vec::new();
                    if row.code != code {
                        fields.push("code");
                    }
                    if row.title != title {
                        fields.push("title");
                    }
                    if row.parent_id != parent_id {
                        fields.push("parent");
                    }
                    if !fields.is_empty() {
                        diesel::update(indicators::table.find(row.id))
                            .set((indicators::code.eq(code), indicators::title.eq(title), indicators::parent_id.eq(parent_id)))
                            .execute(conn)?;
                    }
                    report.record_update(Entity::Indicator, code, fields);
                    Ok(row.id)
                }
                None => {
                    let id = diesel::insert_into(indicators::table)
                        .values((
                            indicators::campaign_id.eq(campaign_id),
                            indicators::level.eq(level),
                            indicators::ordinal.eq(ordinal),
                            indicators::code.eq(code),
                            indicators::title.eq(title),
                            indicators::parent_id.eq(parent_id),
                        ))
                        .returning(indicators::id)
                        .get_result(conn)?;
                    report.record(Entity::Indicator, code, ChangeAction::Created);
                    Ok(id)
                }
            }
        };

    // Codes are unique per level, so a renumbering could collide with a row
    // not yet updated; the validated seed numbers codes by position, which
    // keeps (level, ordinal) and code in step.
    let mut level2_ids = BTreeMap::new();
    let mut ordinal2 = 0;
    for (i, level1) in seed.indicators.iter().enumerate() {
        let level1_id = upsert(conn, 1, i as i32 + 1, &level1.code, &level1.title, None)?;
        for level2 in &level1.children {
            ordinal2 += 1;
            let id = upsert(conn, 2, ordinal2, &level2.code, &level2.title, Some(level1_id))?;
            level2_ids.insert(level2.code.clone(), id);
        }
    }
    Ok(level2_ids)
}

/// Level-2 first: they reference level-1 indicators.
fn delete_stale_indicators(
    conn: &mut PgConnection,
    campaign_id: i64,
    seed: &CampaignSeed,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let level1_count = seed.indicators.len() as i32;
    let level2_count = seed.indicators.iter().map(|level1| level1.children.len()).sum::<usize>() as i32;
    for (level, count) in [(2_i16, level2_count), (1, level1_count)] {
        let stale: Vec<(i64, String)> = indicators::table
            .filter(indicators::campaign_id.eq(campaign_id))
            .filter(indicators::level.eq(level))
            .filter(indicators::ordinal.gt(count))
            .select((indicators::id, indicators::code))
            .load(conn)?;
        for (id, code) in stale {
            diesel::delete(indicators::table.find(id)).execute(conn)?;
            report.record(Entity::Indicator, code, ChangeAction::Deleted);
        }
    }
    Ok(())
}

/// A task's code and id, in the seed's order.
type TaskIds = Vec<(String, i64)>;

/// Brings every task of the seed up to date and returns their ids.
fn sync_tasks(
    conn: &mut PgConnection,
    campaign_id: i64,
    seed: &CampaignSeed,
    parties: &[Vec<PartyRow>],
    level2_ids: &BTreeMap<String, i64>,
    report: &mut ImportReport,
) -> Result<TaskIds, ImportError> {
    let existing: Vec<Task> = tasks::table.filter(tasks::campaign_id.eq(campaign_id)).select(Task::as_select()).load(conn)?;
    let existing_ids: Vec<i64> = existing.iter().map(|task| task.id).collect();
    let mut stored_parties: BTreeMap<i64, Vec<PartyRow>> = BTreeMap::new();
    for party in task_parties::table
        .filter(task_parties::task_id.eq_any(&existing_ids))
        .order((task_parties::task_id, task_parties::role, task_parties::position))
        .select(TaskParty::as_select())
        .load(conn)?
    {
        stored_parties.entry(party.task_id).or_default().push(PartyRow {
            role: party.role,
            as_written: party.as_written,
            unit_id: party.unit_id,
            group_id: party.group_id,
        });
    }
    let mut stored_targets: BTreeMap<i64, Vec<TargetSeed>> = BTreeMap::new();
    for target in task_targets::table
        .filter(task_targets::task_id.eq_any(&existing_ids))
        .order((task_targets::task_id, task_targets::position))
        .select(Target::as_select())
        .load(conn)?
    {
        stored_targets.entry(target.task_id).or_default().push(target.seed());
    }
    let mut by_key: BTreeMap<(TaskList, i32), Task> = existing.into_iter().map(|task| ((task.list, task.number), task)).collect();

    let mut ids: Vec<Option<i64>> = vec![None; seed.tasks.len()];
    let mut new_tasks = Vec::new();
    for (index, (task, desired_parties)) in seed.tasks.iter().zip(parties).enumerate() {
        let indicator_id = task.indicator.as_ref().map(|code| level2_ids[code]);
        let Some(row) = by_key.remove(&(task.list, task.number as i32)) else {
            new_tasks.push((index, task, desired_parties, indicator_id, task.source_line.map(|line| line as i32)));
            continue;
        };
        // A source without lines of its own (Word, a workbook, flat rows)
        // keeps the line the text dump gave the task.
        let source_line = task.source_line.map(|line| line as i32).or(row.source_line);
        let mut fields = Vec::new();
        if row.indicator_id != indicator_id {
            fields.push("indicator");
        }
        if row.text != task.text {
            fields.push("text");
        }
        if row.responsible_text != task.responsible {
            fields.push("responsible");
        }
        if row.source_line != source_line {
            fields.push("source_line");
        }
        if !fields.is_empty() {
            diesel::update(tasks::table.find(row.id))
                .set((
                    tasks::indicator_id.eq(indicator_id),
                    tasks::text.eq(&task.text),
                    tasks::responsible_text.eq(&task.responsible),
                    tasks::source_line.eq(source_line),
                    tasks::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)?;
        }
        let stored = stored_parties.remove(&row.id).unwrap_or_default();
        let (stored_leads, stored_responsible) = split_roles(&stored);
        let (desired_leads, desired_responsible) = split_roles(desired_parties);
        if stored_leads != desired_leads {
            fields.push("leads");
        }
        if stored_responsible != desired_responsible {
            fields.push("responsible_units");
        }
        if stored != *desired_parties {
            diesel::delete(task_parties::table.filter(task_parties::task_id.eq(row.id))).execute(conn)?;
            insert_parties(conn, row.id, desired_parties)?;
        }
        if let Some(targets) = &task.targets
            && stored_targets.remove(&row.id).unwrap_or_default() != *targets
        {
            fields.push("targets");
            diesel::delete(task_targets::table.filter(task_targets::task_id.eq(row.id))).execute(conn)?;
            insert_targets(conn, row.id, targets)?;
        }
        report.record_update(Entity::Task, &row.code, fields);
        ids[index] = Some(row.id);
    }

    if !new_tasks.is_empty() {
        let rows: Vec<_> = new_tasks
            .iter()
            .map(|(_, task, _, indicator_id, source_line)| {
                (
                    tasks::campaign_id.eq(campaign_id),
                    tasks::list.eq(task.list.as_str()),
                    tasks::number.eq(task.number as i32),
                    tasks::indicator_id.eq(*indicator_id),
                    tasks::text.eq(&task.text),
                    tasks::responsible_text.eq(&task.responsible),
                    tasks::source_line.eq(*source_line),
                )
            })
            .collect();
        let inserted: Vec<(i64, String)> =
            diesel::insert_into(tasks::table).values(&rows).returning((tasks::id, tasks::code)).get_results(conn)?;
        let mut party_rows = Vec::new();
        let mut target_rows = Vec::new();
        for ((id, code), (index, task, desired_parties, _, _)) in inserted.into_iter().zip(&new_tasks) {
            debug_assert_eq!(code, task.code, "the database computes the same task code");
            party_rows.extend(party_values(id, desired_parties));
            target_rows.extend(task.targets.iter().flatten().enumerate().map(|(i, target)| target_values(id, i, target)));
            report.record(Entity::Task, &code, ChangeAction::Created);
            ids[*index] = Some(id);
        }
        diesel::insert_into(task_parties::table).values(&party_rows).execute(conn)?;
        if !target_rows.is_empty() {
            diesel::insert_into(task_targets::table).values(&target_rows).execute(conn)?;
        }
    }
    Ok(seed.tasks.iter().zip(ids).map(|(task, id)| (task.code.clone(), id.expect("every task was updated or inserted"))).collect())
}

fn split_roles(parties: &[PartyRow]) -> (Vec<&PartyRow>, Vec<&PartyRow>) {
    parties.iter().partition(|party| party.role == PartyRole::Lead)
}

type PartyValues<'a> = (
    diesel::dsl::Eq<task_parties::task_id, i64>,
    diesel::dsl::Eq<task_parties::role, &'static str>,
    diesel::dsl::Eq<task_parties::position, i16>,
    diesel::dsl::Eq<task_parties::as_written, &'a str>,
    diesel::dsl::Eq<task_parties::unit_id, Option<i64>>,
    diesel::dsl::Eq<task_parties::group_id, Option<i64>>,
);

/// Rows for a task's parties; positions count from 1 within each role.
fn party_values(task_id: i64, parties: &[PartyRow]) -> Vec<PartyValues<'_>> {
    let mut positions: BTreeMap<PartyRole, i16> = BTreeMap::new();
    parties
        .iter()
        .map(|party| {
            let position = positions.entry(party.role).or_insert(0);
            *position += 1;
            (
                task_parties::task_id.eq(task_id),
                task_parties::role.eq(party.role.as_str()),
                task_parties::position.eq(*position),
                task_parties::as_written.eq(party.as_written.as_str()),
                task_parties::unit_id.eq(party.unit_id),
                task_parties::group_id.eq(party.group_id),
            )
        })
        .collect()
}

fn insert_parties(conn: &mut PgConnection, task_id: i64, parties: &[PartyRow]) -> QueryResult<()> {
    diesel::insert_into(task_parties::table).values(party_values(task_id, parties)).execute(conn).map(drop)
}

type TargetValues<'a> = (
    diesel::dsl::Eq<task_targets::task_id, i64>,
    diesel::dsl::Eq<task_targets::position, i16>,
    diesel::dsl::Eq<task_targets::metric, &'a str>,
    diesel::dsl::Eq<task_targets::comparator, &'static str>,
    diesel::dsl::Eq<task_targets::value, Option<f64>>,
    diesel::dsl::Eq<task_targets::reference, Option<&'a str>>,
    diesel::dsl::Eq<task_targets::unit, &'static str>,
);

fn target_values(task_id: i64, index: usize, target: &TargetSeed) -> TargetValues<'_> {
    (
        task_targets::task_id.eq(task_id),
        task_targets::position.eq(index as i16 + 1),
        task_targets::metric.eq(target.metric.as_str()),
        task_targets::comparator.eq(target.comparator.as_str()),
        task_targets::value.eq(target.value),
        task_targets::reference.eq(target.reference.as_deref()),
        task_targets::unit.eq(target.unit.as_str()),
    )
}

fn insert_targets(conn: &mut PgConnection, task_id: i64, targets: &[TargetSeed]) -> QueryResult<()> {
    let rows: Vec<_> = targets.iter().enumerate().map(|(i, target)| target_values(task_id, i, target)).collect();
    diesel::insert_into(task_targets::table).values(&rows).execute(conn).map(drop)
}

/// Every concrete lead unit the table names gets a lead assignment; one
/// whose unit is no longer named goes, unless work on it has started.
fn sync_lead_assignments(
    conn: &mut PgConnection,
    campaign_id: i64,
    task_ids: &TaskIds,
    parties: &[Vec<PartyRow>],
    roster: &RegionRoster,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let code_of: BTreeMap<i64, &str> = task_ids.iter().map(|(code, id)| (*id, code.as_str())).collect();
    let mut desired: BTreeSet<(i64, i64)> = BTreeSet::new();
    for ((_, task_id), task_parties) in task_ids.iter().zip(parties) {
        for party in task_parties.iter().filter(|party| party.role == PartyRole::Lead) {
            if let Some(unit_id) = party.unit_id {
                desired.insert((*task_id, unit_id));
            }
        }
    }
    let existing: Vec<(i64, i64, i64, String)> = assignments::table
        .inner_join(tasks::table)
        .filter(tasks::campaign_id.eq(campaign_id))
        .filter(assignments::role.eq(PartyRole::Lead.as_str()))
        .select((assignments::id, assignments::task_id, assignments::unit_id, assignments::status))
        .load(conn)?;
    let mut present = BTreeSet::new();
    for (id, task_id, unit_id, status) in existing {
        present.insert((task_id, unit_id));
        if desired.contains(&(task_id, unit_id)) || !code_of.contains_key(&task_id) {
            // Kept, or on a task that is about to be deleted (handled there).
            continue;
        }
        let key = format!("{}/{}/lead", code_of[&task_id], roster.unit_name(unit_id));
        if status == AssignmentStatus::NotStarted.as_str() {
            diesel::delete(assignments::table.find(id)).execute(conn)?;
            report.record(Entity::Assignment, key, ChangeAction::Deleted);
        } else {
            report.warn(format!("{key}: the unit no longer leads the task, but its work is {status}; the assignment is kept"));
        }
    }
    let missing: Vec<_> = desired
        .iter()
        .filter(|pair| !present.contains(pair))
        .map(|&(task_id, unit_id)| {
            (assignments::task_id.eq(task_id), assignments::unit_id.eq(unit_id), assignments::role.eq(PartyRole::Lead.as_str()))
        })
        .collect();
    if !missing.is_empty() {
        diesel::insert_into(assignments::table).values(&missing).execute(conn)?;
        for &(task_id, unit_id) in desired.iter().filter(|pair| !present.contains(pair)) {
            report.record(Entity::Assignment, format!("{}/{}/lead", code_of[&task_id], roster.unit_name(unit_id)), ChangeAction::Created);
        }
    }
    Ok(())
}

/// Tasks the seed no longer holds are deleted with their untouched
/// assignments; a task some unit has worked on stops the import.
fn delete_stale_tasks(conn: &mut PgConnection, campaign_id: i64, task_ids: &TaskIds, report: &mut ImportReport) -> Result<(), ImportError> {
    let kept: Vec<i64> = task_ids.iter().map(|(_, id)| *id).collect();
    let stale: Vec<(i64, String)> = tasks::table
        .filter(tasks::campaign_id.eq(campaign_id))
        .filter(tasks::id.ne_all(&kept))
        .select((tasks::id, tasks::code))
        .load(conn)?;
    for (task_id, code) in stale {
        let worked_on: Vec<(String, String)> = assignments::table
            .inner_join(units::table)
            .filter(assignments::task_id.eq(task_id))
            .filter(assignments::status.ne(AssignmentStatus::NotStarted.as_str()))
            .select((units::name, assignments::status))
            .load(conn)?;
        if !worked_on.is_empty() {
            let who: Vec<String> = worked_on.iter().map(|(unit, status)| format!("{unit} ({status})")).collect();
            return Err(ImportError::Refused(format!(
                "task {code} is not in the source any more, but work on it has started: {}; \
                 nothing was imported — keep the task in the source or close those assignments first",
                who.join(", ")
            )));
        }
        diesel::delete(assignments::table.filter(assignments::task_id.eq(task_id))).execute(conn)?;
        diesel::delete(tasks::table.find(task_id)).execute(conn)?;
        report.record(Entity::Task, code, ChangeAction::Deleted);
    }
    Ok(())
}
