//! The dashboard (总览): where a campaign stands, per list, indicator and
//! unit, with its schedule lights, quantified targets and the negative
//! list. Computed from the tasks' stored status (see [`crate::rollup`]) and
//! a few grouped queries, and kept between requests while the campaign's
//! version stays the same (see [`crate::kept`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};
use duban_dto::api::{
    AssignmentCounts, CampaignProgress, Dashboard, IndicatorProgress, ListProgress, NegativeSummary, Progress, ProvinceDashboard,
    QuantifiedSummary, UnitProgress, UnitRef,
};
use duban_dto::{Comparator, Outcome, PartyRole, ScheduleLight as Light, TaskList, TaskStatus};
use duban_rules::quantified;
use duban_rules::rollup::Stored;
use duban_rules::schedule::{self, Due, LightDates};

use crate::authz::{ReadCatalog, ReadProgress};
use crate::clock;
use crate::db::lookups;
use crate::db::models::Campaign;
use crate::db::schema::{
    assignments, campaign_versions, campaigns, measurements, negative_reports, reference_values, regions, task_targets, tasks,
};
use crate::error::Error;
use crate::kept::Kept;

/// Tasks alike in list, indicator and status, as the dashboard counts
/// them: one task, or a group of the province's query.
struct TaskCounts {
    list: TaskList,
    indicator_id: Option<i64>,
    status: TaskStatus,
    tasks: i64,
    overdue: i64,
    red: i64,
    yellow: i64,
}

impl TaskCounts {
    /// One task on `today`.
    fn one(list: TaskList, indicator_id: Option<i64>, stored: Stored, lights: LightDates, today: NaiveDate) -> TaskCounts {
        let light = lights.on(today);
        TaskCounts {
            list,
            indicator_id,
            status: stored.status,
            tasks: 1,
            overdue: i64::from(stored.status != TaskStatus::Approved && Due::of(stored.next_due, today) == Due::Overdue),
            red: i64::from(light == Light::Red),
            yellow: i64::from(light == Light::Yellow),
        }
    }
}

/// Counts tasks into a [`Progress`].
fn progress_of<'a>(tasks: impl Iterator<Item = &'a TaskCounts>) -> Progress {
    let mut progress = Progress::default();
    for task in tasks {
        count_into(&mut progress, task);
    }
    progress
}

/// Adds `counts` to `progress`.
fn count_into(progress: &mut Progress, counts: &TaskCounts) {
    let count = counts.tasks;
    progress.tasks += count;
    match counts.status {
        TaskStatus::Approved => progress.approved += count,
        TaskStatus::Submitted => progress.submitted += count,
        TaskStatus::InProgress => progress.in_progress += count,
        TaskStatus::Returned => progress.returned += count,
        TaskStatus::NotStarted | TaskStatus::Overdue => progress.not_started += count,
    }
    progress.overdue += counts.overdue;
    progress.lights.red += counts.red;
    progress.lights.yellow += counts.yellow;
    progress.lights.green += count - counts.red - counts.yellow;
}

#[derive(QueryableByName)]
struct UnitRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    role: PartyRole,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    approved: i64,
    #[diesel(sql_type = BigInt)]
    in_review: i64,
    #[diesel(sql_type = BigInt)]
    returned: i64,
    #[diesel(sql_type = BigInt)]
    overdue: i64,
}

/// The dashboard of the campaign `code` today: the one kept in `kept` when
/// the campaign has not changed since, else computed (and kept).
pub fn dashboard(
    conn: &mut PgConnection,
    kept: &Kept,
    _catalog: &ReadCatalog,
    _progress: &ReadProgress,
    code: &str,
) -> Result<Dashboard, Error> {
    let today = clock::today();
    let page = kept.dashboards.page(
        conn,
        today,
        |conn| campaign_and_version(conn, code),
        || Error::not_found(format!("there is no campaign {code:?}")),
        |conn, campaign_id| compute_dashboard(conn, *campaign_id, today),
    )?;
    Ok(Dashboard::clone(&page))
}

/// A campaign's id and version, by code.
fn campaign_and_version(conn: &mut PgConnection, code: &str) -> QueryResult<Option<(i64, i64)>> {
    campaigns::table
        .inner_join(campaign_versions::table.on(campaign_versions::campaign_id.eq(campaigns::id)))
        .filter(campaigns::code.eq(code))
        .select((campaigns::id, campaign_versions::version))
        .first(conn)
        .optional()
}

fn compute_dashboard(conn: &mut PgConnection, campaign_id: i64, today: NaiveDate) -> Result<Dashboard, Error> {
    let (code, name, start, end): (String, String, Option<NaiveDate>, Option<NaiveDate>) = campaigns::table
        .find(campaign_id)
        .select((campaigns::code, campaigns::name, campaigns::period_start, campaigns::period_end))
        .first(conn)?;
    let elapsed = schedule::elapsed_share(start, end, today);

    type Row = (TaskList, Option<i64>, TaskStatus, Option<NaiveDate>, Option<NaiveDate>, Option<NaiveDate>);
    let rows: Vec<Row> = tasks::table
        .filter(tasks::campaign_id.eq(campaign_id))
        .select((tasks::list, tasks::indicator_id, tasks::rollup_status, tasks::next_due, tasks::yellow_from, tasks::red_from))
        .load(conn)?;
    let facts: Vec<TaskCounts> = rows
        .into_iter()
        .map(|(list, indicator_id, status, next_due, yellow_from, red_from)| {
            TaskCounts::one(list, indicator_id, Stored { status, next_due }, LightDates { yellow_from, red_from }, today)
        })
        .collect();

    let lists =
        TaskList::ALL.iter().map(|&list| ListProgress { list, progress: progress_of(facts.iter().filter(|t| t.list == list)) }).collect();
    let indicators = lookups::indicator_tree(conn, campaign_id)?
        .into_iter()
        .map(|level1| {
            let children: Vec<IndicatorProgress> = level1
                .children
                .into_iter()
                .map(|child| IndicatorProgress {
                    progress: progress_of(facts.iter().filter(|t| t.indicator_id == Some(child.id))),
                    id: child.id,
                    code: child.code,
                    title: child.title,
                    children: Vec::new(),
                })
                .collect();
            let child_ids: Vec<i64> = children.iter().map(|child| child.id).collect();
            IndicatorProgress {
                id: level1.id,
                code: level1.code,
                title: level1.title,
                progress: progress_of(facts.iter().filter(|t| t.indicator_id.is_some_and(|i| child_ids.contains(&i)))),
                children,
            }
        })
        .collect();

    let unit_rows: Vec<UnitRow> = diesel::sql_query(
        // Counted first, named after: the names of the few units counted,
        // not of every unit of the province.
        "SELECT u.id, u.name, c.role, c.total, c.approved, c.in_review, c.returned, c.overdue
         FROM (SELECT a.unit_id, a.role, count(*) AS total,
                      count(*) FILTER (WHERE a.status = 'approved') AS approved,
                      count(*) FILTER (WHERE a.status IN ('submitted', 'accepted')) AS in_review,
                      count(*) FILTER (WHERE a.status = 'returned') AS returned,
                      count(*) FILTER (WHERE a.status <> 'approved' AND a.due_date < $2) AS overdue
               FROM assignments a JOIN tasks t ON t.id = a.task_id
               WHERE t.campaign_id = $1
               GROUP BY a.unit_id, a.role) AS c
         JOIN units u ON u.id = c.unit_id
         ORDER BY u.id, c.role",
    )
    .bind::<BigInt, _>(campaign_id)
    .bind::<Date, _>(today)
    .load(conn)?;
    let mut units: Vec<UnitProgress> = Vec::new();
    for row in unit_rows {
        if units.last().is_none_or(|last| last.unit.id != row.id) {
            units.push(UnitProgress {
                unit: UnitRef { id: row.id, name: row.name.clone() },
                lead: AssignmentCounts::default(),
                responsible: AssignmentCounts::default(),
            });
        }
        let unit = units.last_mut().expect("pushed above");
        let counts = AssignmentCounts {
            total: row.total,
            approved: row.approved,
            in_review: row.in_review,
            returned: row.returned,
            overdue: row.overdue,
        };
        if row.role == PartyRole::Lead {
            unit.lead = counts;
        } else {
            unit.responsible = counts;
        }
    }

    Ok(Dashboard {
        campaign: code,
        name,
        as_of: today,
        elapsed_percent: elapsed.map(schedule::percent),
        total: progress_of(facts.iter()),
        lists,
        indicators,
        units,
        quantified: quantified_summary(conn, campaign_id, &today.year().to_string())?,
        negative: negative_summary(conn, campaign_id)?,
    })
}

/// A campaign's tasks of one list and status, counted for a day.
#[derive(QueryableByName, Clone)]
pub(crate) struct ProvinceRow {
    #[diesel(sql_type = BigInt)]
    campaign_id: i64,
    #[diesel(sql_type = Text)]
    list: TaskList,
    #[diesel(sql_type = Text)]
    status: TaskStatus,
    #[diesel(sql_type = BigInt)]
    tasks: i64,
    #[diesel(sql_type = BigInt)]
    overdue: i64,
    #[diesel(sql_type = BigInt)]
    red: i64,
    #[diesel(sql_type = BigInt)]
    yellow: i64,
}

/// The province (every campaign of the caller's area) today: each county's
/// progress and the totals. Campaigns whose tasks have not changed since
/// they were last counted today are taken from `kept`; the
/// others are counted in one grouped query over the tasks' stored status
/// and light dates (an index-only scan). Versions and counts are read in
/// one snapshot, so what is kept matches its version exactly.
pub fn province(conn: &mut PgConnection, kept: &Kept, catalog: &ReadCatalog, _progress: &ReadProgress) -> Result<ProvinceDashboard, Error> {
    let today = clock::today();
    conn.build_transaction().read_only().repeatable_read().run(|conn| province_in_snapshot(conn, kept, catalog, today))
}

fn province_in_snapshot(conn: &mut PgConnection, kept: &Kept, catalog: &ReadCatalog, today: NaiveDate) -> Result<ProvinceDashboard, Error> {
    let mut campaigns_query =
        campaigns::table.inner_join(regions::table).order(campaigns::id).select((Campaign::as_select(), regions::name)).into_boxed();
    if let Some(regions) = catalog.area().region_ids() {
        campaigns_query = campaigns_query.filter(campaigns::region_id.eq_any(regions.to_vec()));
    }
    let campaign_rows: Vec<(Campaign, String)> = campaigns_query.load(conn)?;
    let ids: Vec<i64> = campaign_rows.iter().map(|(campaign, _)| campaign.id).collect();
    let versions: BTreeMap<i64, i64> = campaign_versions::table
        .filter(campaign_versions::campaign_id.eq_any(&ids))
        .select((campaign_versions::campaign_id, campaign_versions::version))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    let version_of = |id: &i64| versions.get(id).copied().unwrap_or(-1);
    let mut campaign_counts: BTreeMap<i64, Arc<Vec<ProvinceRow>>> = BTreeMap::new();
    let mut stale: Vec<i64> = Vec::new();
    for id in &ids {
        match kept.province_counts.get(id, version_of(id), today) {
            Some(rows) => {
                campaign_counts.insert(*id, rows);
            }
            None => stale.push(*id),
        }
    }
    if !stale.is_empty() {
        let counted: Vec<ProvinceRow> = diesel::sql_query(
            "SELECT campaign_id, list, rollup_status AS status, count(*) AS tasks,
                    count(*) FILTER (WHERE next_due < $1) AS overdue,
                    count(*) FILTER (WHERE red_from <= $1) AS red,
                    count(*) FILTER (WHERE yellow_from <= $1 AND (red_from IS NULL OR red_from > $1)) AS yellow
             FROM tasks WHERE campaign_id = ANY($2)
             GROUP BY 1, 2, 3",
        )
        .bind::<Date, _>(today)
        .bind::<diesel::sql_types::Array<BigInt>, _>(&stale)
        .load(conn)?;
        let mut by_campaign: BTreeMap<i64, Vec<ProvinceRow>> = stale.iter().map(|id| (*id, Vec::new())).collect();
        for row in counted {
            by_campaign.entry(row.campaign_id).or_default().push(row);
        }
        for (id, rows) in by_campaign {
            let rows = Arc::new(rows);
            kept.province_counts.put(id, version_of(&id), today, rows.clone());
            campaign_counts.insert(id, rows);
        }
    }
    let rows: Vec<&ProvinceRow> = campaign_counts.values().flat_map(|rows| rows.iter()).collect();
    let vetoed: Vec<i64> = negative_reports::table
        .inner_join(tasks::table)
        .filter(negative_reports::confirmed_at.is_not_null())
        .select(tasks::campaign_id)
        .distinct()
        .load(conn)?;

    let mut total = Progress::default();
    let mut per_list: BTreeMap<TaskList, Progress> = BTreeMap::new();
    let mut per_campaign: BTreeMap<i64, Progress> = BTreeMap::new();
    for row in rows {
        let counts = TaskCounts {
            list: row.list,
            indicator_id: None,
            status: row.status,
            tasks: row.tasks,
            // Approved tasks have no next due date, so none of them is counted overdue.
            overdue: row.overdue,
            red: row.red,
            yellow: row.yellow,
        };
        for progress in [&mut total, per_list.entry(row.list).or_default(), per_campaign.entry(row.campaign_id).or_default()] {
            count_into(progress, &counts);
        }
    }
    Ok(ProvinceDashboard {
        as_of: today,
        total,
        lists: TaskList::ALL.iter().map(|&list| ListProgress { list, progress: per_list.remove(&list).unwrap_or_default() }).collect(),
        campaigns: campaign_rows
            .into_iter()
            .map(|(campaign, region)| CampaignProgress {
                elapsed_percent: schedule::elapsed_share(campaign.period_start, campaign.period_end, today).map(schedule::percent),
                progress: per_campaign.remove(&campaign.id).unwrap_or_default(),
                vetoed: vetoed.contains(&campaign.id),
                code: campaign.code,
                name: campaign.name,
                region,
            })
            .collect(),
    })
}

/// Each quantified task's outcome for the year, from every target's
/// measurements: the same rule as a task's evaluation, in three queries.
pub(crate) fn quantified_summary(conn: &mut PgConnection, campaign_id: i64, period: &str) -> QueryResult<QuantifiedSummary> {
    let targets: Vec<(i64, i16, Comparator, Option<f64>)> = task_targets::table
        .inner_join(tasks::table)
        .filter(tasks::campaign_id.eq(campaign_id))
        .filter(tasks::list.eq(TaskList::Quantified))
        .select((task_targets::task_id, task_targets::position, task_targets::comparator, task_targets::value))
        .load(conn)?;
    let references: BTreeMap<(i64, i16), f64> = reference_values::table
        .inner_join(tasks::table)
        .filter(tasks::campaign_id.eq(campaign_id))
        .filter(reference_values::period.eq(period))
        .select((reference_values::task_id, reference_values::target_position, reference_values::value))
        .load::<(i64, i16, f64)>(conn)?
        .into_iter()
        .map(|(task, position, value)| ((task, position), value))
        .collect();
    let mut measured: BTreeMap<(i64, i16), Vec<f64>> = BTreeMap::new();
    for (task, position, value) in measurements::table
        .inner_join(assignments::table.inner_join(tasks::table))
        .filter(tasks::campaign_id.eq(campaign_id))
        .filter(measurements::period.eq(period))
        .select((assignments::task_id, measurements::target_position, measurements::value))
        .load::<(i64, i16, f64)>(conn)?
    {
        measured.entry((task, position)).or_default().push(value);
    }
    let mut per_task: BTreeMap<i64, Vec<Outcome>> = BTreeMap::new();
    for (task, position, comparator, value) in targets {
        let threshold = value.or_else(|| references.get(&(task, position)).copied());
        let outcome = quantified::combine(
            measured.get(&(task, position)).into_iter().flatten().map(|value| quantified::evaluate(comparator, threshold, *value)),
        );
        per_task.entry(task).or_default().push(outcome);
    }
    let quantified_tasks: i64 =
        tasks::table.filter(tasks::campaign_id.eq(campaign_id)).filter(tasks::list.eq(TaskList::Quantified)).count().get_result(conn)?;
    let mut summary = QuantifiedSummary { period: period.to_owned(), ..QuantifiedSummary::default() };
    for outcomes in per_task.values() {
        if outcomes.contains(&Outcome::NotMet) {
            summary.not_met += 1;
        } else if outcomes.iter().all(|outcome| *outcome == Outcome::Met) {
            summary.met += 1;
        }
    }
    // Tasks without structured targets cannot be judged yet either.
    summary.unknown = quantified_tasks - summary.met - summary.not_met;
    Ok(summary)
}

fn negative_summary(conn: &mut PgConnection, campaign_id: i64) -> QueryResult<NegativeSummary> {
    let occurrences: Vec<bool> = negative_reports::table
        .inner_join(tasks::table)
        .filter(tasks::campaign_id.eq(campaign_id))
        .filter(negative_reports::occurred.eq(true))
        .select(negative_reports::confirmed_at.is_not_null())
        .load(conn)?;
    let confirmed = occurrences.iter().filter(|confirmed| **confirmed).count() as i64;
    Ok(NegativeSummary { vetoed: confirmed > 0, confirmed, awaiting_confirmation: occurrences.len() as i64 - confirmed })
}
