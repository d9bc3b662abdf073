//! The dashboard (总览): where a campaign stands, per list, indicator and
//! unit, with its schedule lights, quantified targets and the negative
//! list. Computed on request from the tasks' stored status (see
//! [`crate::rollup`]) and a few grouped queries.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};
use duban_dto::api::{
    AssignmentCounts, CampaignProgress, Dashboard, IndicatorProgress, ListProgress, NegativeSummary, Progress, ProvinceDashboard,
    QuantifiedSummary, UnitProgress, UnitRef,
};
use duban_dto::{Comparator, Outcome, ScheduleLight as Light, TaskList, TaskStatus};

use crate::authz::{ReadCatalog, ReadProgress};
use crate::db::schema::{assignments, campaigns, indicators, measurements, negative_reports, reference_values, task_targets, tasks};
use crate::http::ApiError;
use crate::{clock, quantified};

/// How far along a task's status is, against the share of the campaign's
/// time that has passed.
fn weight(status: TaskStatus) -> f64 {
    match status {
        TaskStatus::NotStarted | TaskStatus::Overdue => 0.0,
        TaskStatus::InProgress | TaskStatus::Returned => 0.4,
        TaskStatus::Submitted => 0.8,
        TaskStatus::Approved => 1.0,
    }
}

/// Where a task's next due date stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Overdue,
    /// Within [`DUE_SOON_DAYS`].
    Soon,
    /// Later, or no due date.
    Later,
}

impl Due {
    pub fn of(next_due: Option<NaiveDate>, today: NaiveDate) -> Due {
        match next_due {
            Some(due) if due < today => Due::Overdue,
            Some(due) if (due - today).num_days() <= DUE_SOON_DAYS => Due::Soon,
            _ => Due::Later,
        }
    }
}

/// The schedule light of one task. Red: past due, or more than half the
/// campaign's time behind; yellow: due within seven days, or more than a
/// fifth behind; green: otherwise, and always once approved.
/// [`light_condition`] states the same rule in SQL.
pub fn light(status: TaskStatus, due: Due, elapsed: Option<f64>) -> Light {
    if status == TaskStatus::Approved {
        return Light::Green;
    }
    let behind = elapsed.map_or(0.0, |elapsed| elapsed - weight(status));
    if due == Due::Overdue || behind > FAR_BEHIND {
        Light::Red
    } else if due == Due::Soon || behind > BEHIND {
        Light::Yellow
    } else {
        Light::Green
    }
}

const FAR_BEHIND: f64 = 0.5;
const BEHIND: f64 = 0.2;
const DUE_SOON_DAYS: i64 = 7;

/// [`light`] as an SQL condition on `tasks`, for the task list's filter.
/// A test checks that both agree on every task.
pub fn light_condition(wanted: Light, today: NaiveDate) -> String {
    let elapsed = format!("(SELECT {} FROM campaigns c WHERE c.id = tasks.campaign_id)", elapsed_sql("c", today));
    light_sql(wanted, today, &elapsed)
}

/// The share of a campaign's period elapsed on `today`, 0 to 1, as SQL on
/// the campaigns row `alias`; NULL without a period.
fn elapsed_sql(alias: &str, today: NaiveDate) -> String {
    format!(
        "CASE WHEN {alias}.period_start IS NULL OR {alias}.period_end IS NULL OR {alias}.period_end <= {alias}.period_start THEN NULL \
         ELSE LEAST(1.0, GREATEST(0.0, (DATE '{today}' - {alias}.period_start)::float8 / ({alias}.period_end - {alias}.period_start))) END"
    )
}

/// [`light`] in SQL, given the SQL of the elapsed share.
fn light_sql(wanted: Light, today: NaiveDate, elapsed: &str) -> String {
    let weight = format!(
        "(CASE tasks.rollup_status WHEN 'in_progress' THEN {progress} WHEN 'returned' THEN {progress} \
         WHEN 'submitted' THEN {submitted} WHEN 'approved' THEN 1.0 ELSE 0.0 END)",
        progress = weight(TaskStatus::InProgress),
        submitted = weight(TaskStatus::Submitted),
    );
    let behind = format!("COALESCE(({elapsed}) - {weight}, 0.0)");
    let open = "tasks.rollup_status <> 'approved'";
    // COALESCE: a task without a due date is not due, where SQL would say "unknown".
    let red = format!("({open} AND (COALESCE(tasks.next_due < DATE '{today}', false) OR {behind} > {FAR_BEHIND}))");
    let yellow =
        format!("({open} AND NOT {red} AND (COALESCE(tasks.next_due <= DATE '{today}' + {DUE_SOON_DAYS}, false) OR {behind} > {BEHIND}))");
    match wanted {
        Light::Red => red,
        Light::Yellow => yellow,
        Light::Green => format!("(NOT {red} AND NOT {yellow})"),
    }
}

/// One task as the dashboard counts it.
struct TaskFacts {
    list: TaskList,
    indicator_id: Option<i64>,
    status: TaskStatus,
    overdue: bool,
    light: Light,
}

/// Counts tasks into a [`Progress`].
fn progress_of<'a>(tasks: impl Iterator<Item = &'a TaskFacts>) -> Progress {
    let mut progress = Progress::default();
    for task in tasks {
        count_into(&mut progress, task, 1);
    }
    progress
}

/// Adds `count` tasks like `task` to `progress`.
fn count_into(progress: &mut Progress, task: &TaskFacts, count: i64) {
    progress.tasks += count;
    match task.status {
        TaskStatus::Approved => progress.approved += count,
        TaskStatus::Submitted => progress.submitted += count,
        TaskStatus::InProgress => progress.in_progress += count,
        TaskStatus::Returned => progress.returned += count,
        TaskStatus::NotStarted | TaskStatus::Overdue => progress.not_started += count,
    }
    if task.overdue {
        progress.overdue += count;
    }
    match task.light {
        Light::Red => progress.lights.red += count,
        Light::Yellow => progress.lights.yellow += count,
        Light::Green => progress.lights.green += count,
    }
}

#[derive(QueryableByName)]
struct UnitRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    role: String,
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

/// The dashboard of the campaign `code` today.
pub fn dashboard(conn: &mut PgConnection, _catalog: &ReadCatalog, _progress: &ReadProgress, code: &str) -> Result<Dashboard, ApiError> {
    let today = clock::today();
    let (campaign_id, name, start, end): (i64, String, Option<NaiveDate>, Option<NaiveDate>) = campaigns::table
        .filter(campaigns::code.eq(code))
        .select((campaigns::id, campaigns::name, campaigns::period_start, campaigns::period_end))
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("there is no campaign {code:?}")))?;
    let elapsed = match (start, end) {
        (Some(start), Some(end)) if end > start => {
            Some(((today - start).num_days() as f64 / (end - start).num_days() as f64).clamp(0.0, 1.0))
        }
        _ => None,
    };

    let rows: Vec<(i64, String, Option<i64>, String, Option<NaiveDate>)> = tasks::table
        .filter(tasks::campaign_id.eq(campaign_id))
        .select((tasks::id, tasks::list, tasks::indicator_id, tasks::rollup_status, tasks::next_due))
        .load(conn)?;
    let facts: Vec<TaskFacts> = rows
        .iter()
        .map(|(_, list, indicator_id, status, next_due)| {
            let status = TaskStatus::parse(status).expect("the CHECK constraint admits only known statuses");
            TaskFacts {
                list: TaskList::parse(list).expect("the CHECK constraint admits only known lists"),
                indicator_id: *indicator_id,
                status,
                overdue: status != TaskStatus::Approved && next_due.is_some_and(|due| due < today),
                light: light(status, Due::of(*next_due, today), elapsed),
            }
        })
        .collect();

    let lists =
        TaskList::ALL.iter().map(|&list| ListProgress { list, progress: progress_of(facts.iter().filter(|t| t.list == list)) }).collect();
    let indicator_rows: Vec<(i64, i16, String, String, Option<i64>)> = indicators::table
        .filter(indicators::campaign_id.eq(campaign_id))
        .order((indicators::level, indicators::ordinal))
        .select((indicators::id, indicators::level, indicators::code, indicators::title, indicators::parent_id))
        .load(conn)?;
    let indicators = indicator_rows
        .iter()
        .filter(|(_, level, ..)| *level == 1)
        .map(|(id, _, code, title, _)| {
            let children: Vec<IndicatorProgress> = indicator_rows
                .iter()
                .filter(|row| row.4 == Some(*id))
                .map(|(child, _, code, title, _)| IndicatorProgress {
                    id: *child,
                    code: code.clone(),
                    title: title.clone(),
                    progress: progress_of(facts.iter().filter(|t| t.indicator_id == Some(*child))),
                    children: Vec::new(),
                })
                .collect();
            let child_ids: Vec<i64> = children.iter().map(|child| child.id).collect();
            IndicatorProgress {
                id: *id,
                code: code.clone(),
                title: title.clone(),
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
        if row.role == "lead" {
            unit.lead = counts;
        } else {
            unit.responsible = counts;
        }
    }

    Ok(Dashboard {
        campaign: code.to_owned(),
        name,
        as_of: today,
        elapsed_percent: elapsed.map(|share| (share * 1000.0).round() / 10.0),
        total: progress_of(facts.iter()),
        lists,
        indicators,
        units,
        quantified: quantified_summary(conn, campaign_id, &today.year().to_string())?,
        negative: negative_summary(conn, campaign_id)?,
    })
}

#[derive(QueryableByName)]
struct ProvinceRow {
    #[diesel(sql_type = BigInt)]
    campaign_id: i64,
    #[diesel(sql_type = Text)]
    list: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    tasks: i64,
    #[diesel(sql_type = BigInt)]
    overdue: i64,
    #[diesel(sql_type = BigInt)]
    soon: i64,
}

/// The province (every campaign) today: each county's progress and the
/// totals. One grouped query over the tasks' stored status (an index-only
/// scan of `tasks_rollup_idx`), its rows few (campaign × list × status, with
/// how many are overdue and due soon), and the lights worked out from them
/// by the same rule as a single task's.
pub fn province(conn: &mut PgConnection, _catalog: &ReadCatalog, _progress: &ReadProgress) -> Result<ProvinceDashboard, ApiError> {
    let today = clock::today();
    let rows: Vec<ProvinceRow> = diesel::sql_query(
        "SELECT campaign_id, list, rollup_status AS status, count(*) AS tasks,
                count(*) FILTER (WHERE next_due < $1) AS overdue,
                count(*) FILTER (WHERE next_due >= $1 AND next_due <= $2) AS soon
         FROM tasks
         GROUP BY 1, 2, 3",
    )
    .bind::<Date, _>(today)
    .bind::<Date, _>(today + chrono::Days::new(DUE_SOON_DAYS as u64))
    .load(conn)?;
    let campaign_rows: Vec<(i64, String, String, String, Option<NaiveDate>, Option<NaiveDate>)> = campaigns::table
        .inner_join(crate::db::schema::regions::table)
        .order(campaigns::id)
        .select((
            campaigns::id,
            campaigns::code,
            campaigns::name,
            crate::db::schema::regions::name,
            campaigns::period_start,
            campaigns::period_end,
        ))
        .load(conn)?;
    let elapsed: BTreeMap<i64, Option<f64>> =
        campaign_rows.iter().map(|(id, _, _, _, start, end)| (*id, elapsed_share(*start, *end, today))).collect();
    let vetoed: Vec<i64> = negative_reports::table
        .inner_join(tasks::table)
        .filter(negative_reports::confirmed_at.is_not_null())
        .select(tasks::campaign_id)
        .distinct()
        .load(conn)?;

    let mut total = Progress::default();
    let mut per_list: BTreeMap<TaskList, Progress> = BTreeMap::new();
    let mut per_campaign: BTreeMap<i64, Progress> = BTreeMap::new();
    for row in &rows {
        let status = TaskStatus::parse(&row.status).expect("the CHECK constraint admits only known statuses");
        let list = TaskList::parse(&row.list).expect("the CHECK constraint admits only known lists");
        let elapsed = elapsed.get(&row.campaign_id).copied().flatten();
        for (due, count) in [(Due::Overdue, row.overdue), (Due::Soon, row.soon), (Due::Later, row.tasks - row.overdue - row.soon)] {
            let facts = TaskFacts {
                list,
                indicator_id: None,
                status,
                overdue: status != TaskStatus::Approved && due == Due::Overdue,
                light: light(status, due, elapsed),
            };
            for progress in [&mut total, per_list.entry(list).or_default(), per_campaign.entry(row.campaign_id).or_default()] {
                count_into(progress, &facts, count);
            }
        }
    }
    Ok(ProvinceDashboard {
        as_of: today,
        total,
        lists: TaskList::ALL.iter().map(|&list| ListProgress { list, progress: per_list.remove(&list).unwrap_or_default() }).collect(),
        campaigns: campaign_rows
            .into_iter()
            .map(|(id, code, name, region, _, _)| CampaignProgress {
                code,
                name,
                region,
                elapsed_percent: elapsed[&id].map(|share| (share * 1000.0).round() / 10.0),
                progress: per_campaign.remove(&id).unwrap_or_default(),
                vetoed: vetoed.contains(&id),
            })
            .collect(),
    })
}

/// The share of a period elapsed on `today`, 0 to 1.
fn elapsed_share(start: Option<NaiveDate>, end: Option<NaiveDate>, today: NaiveDate) -> Option<f64> {
    match (start, end) {
        (Some(start), Some(end)) if end > start => {
            Some(((today - start).num_days() as f64 / (end - start).num_days() as f64).clamp(0.0, 1.0))
        }
        _ => None,
    }
}

/// Each quantified task's outcome for the year, from every target's
/// measurements: the same rule as a task's evaluation, in three queries.
fn quantified_summary(conn: &mut PgConnection, campaign_id: i64, period: &str) -> QueryResult<QuantifiedSummary> {
    let targets: Vec<(i64, i16, String, Option<f64>)> = task_targets::table
        .inner_join(tasks::table)
        .filter(tasks::campaign_id.eq(campaign_id))
        .filter(tasks::list.eq(TaskList::Quantified.as_str()))
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
        let comparator = Comparator::parse(&comparator).expect("the CHECK constraint admits only known comparators");
        let threshold = value.or_else(|| references.get(&(task, position)).copied());
        let outcomes: Vec<Outcome> = measured
            .get(&(task, position))
            .into_iter()
            .flatten()
            .map(|value| quantified::evaluate(comparator, threshold, *value))
            .collect();
        let outcome = if outcomes.is_empty() || outcomes.contains(&Outcome::Unknown) {
            Outcome::Unknown
        } else if outcomes.iter().all(|outcome| *outcome == Outcome::Met) {
            Outcome::Met
        } else {
            Outcome::NotMet
        };
        per_task.entry(task).or_default().push(outcome);
    }
    let quantified_tasks: i64 = tasks::table
        .filter(tasks::campaign_id.eq(campaign_id))
        .filter(tasks::list.eq(TaskList::Quantified.as_str()))
        .count()
        .get_result(conn)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn lights_follow_due_dates_and_elapsed_time() {
        let today = day("2026-06-01");
        let due = |date: &str| Due::of(Some(day(date)), today);
        assert_eq!(due("2026-06-08"), Due::Soon);
        assert_eq!(due("2026-06-09"), Due::Later);
        assert_eq!(light(TaskStatus::Approved, due("2026-01-01"), Some(0.9)), Light::Green);
        assert_eq!(light(TaskStatus::InProgress, due("2026-05-31"), Some(0.1)), Light::Red);
        assert_eq!(light(TaskStatus::NotStarted, Due::Later, Some(0.6)), Light::Red);
        assert_eq!(light(TaskStatus::InProgress, due("2026-06-08"), Some(0.1)), Light::Yellow);
        assert_eq!(light(TaskStatus::NotStarted, Due::Later, Some(0.3)), Light::Yellow);
        assert_eq!(light(TaskStatus::Submitted, due("2026-07-01"), Some(0.9)), Light::Green);
        assert_eq!(light(TaskStatus::NotStarted, Due::Later, None), Light::Green);
    }
}
