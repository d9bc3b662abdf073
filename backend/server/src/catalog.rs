//! Reading the breakdown: campaigns, the indicator tree, and tasks with
//! their filters, search and pagination.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::dsl::count_star;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer};
use duban_dto::api::{CampaignSummary, Indicator, IndicatorRef, ListCount, Page, Party, Target, TaskDetail, TaskSummary, UnitRef};
use duban_dto::{PartyRole, ScheduleLight, TaskList, TaskStatus};

use crate::authz::Area;
use crate::authz::{ReadCatalog, ReadProgress};
use crate::db::lookups::{self, campaign_id};
use crate::db::models::Campaign;
use crate::db::schema::{assignments, campaign_versions, campaigns, indicators, regions, task_parties, task_targets, tasks, units};
use crate::error::Error;
use crate::kept::Kept;
use crate::pagination::Cursor;
use crate::{clock, rollup, work};

/// The campaigns of the caller's area.
pub fn campaigns(conn: &mut PgConnection, can: &ReadCatalog) -> Result<Vec<CampaignSummary>, Error> {
    summaries(conn, can.area(), None)
}

pub fn campaign(conn: &mut PgConnection, can: &ReadCatalog, code: &str) -> Result<CampaignSummary, Error> {
    summaries(conn, can.area(), Some(code))?.pop().ok_or_else(|| Error::not_found(format!("there is no campaign {code:?}")))
}

/// The campaign the caller has just started: it lies in a region the
/// caller's area gained with it, which the area read at the start of the
/// request does not list yet.
pub fn started_campaign(conn: &mut PgConnection, _can: &crate::authz::ImportData, code: &str) -> Result<CampaignSummary, Error> {
    summaries(conn, &Area::Everywhere, Some(code))?.pop().ok_or_else(|| Error::not_found(format!("there is no campaign {code:?}")))
}

fn summaries(conn: &mut PgConnection, area: &Area, code: Option<&str>) -> Result<Vec<CampaignSummary>, Error> {
    let mut query =
        campaigns::table.inner_join(regions::table).order(campaigns::id).select((Campaign::as_select(), regions::name)).into_boxed();
    if let Some(code) = code {
        query = query.filter(campaigns::code.eq(code.to_owned()));
    }
    if let Some(regions) = area.region_ids() {
        query = query.filter(campaigns::region_id.eq_any(regions.to_vec()));
    }
    let rows: Vec<(Campaign, String)> = query.load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|(campaign, _)| campaign.id).collect();
    let task_counts: Vec<(i64, TaskList, i64)> = tasks::table
        .filter(tasks::campaign_id.eq_any(&ids))
        .group_by((tasks::campaign_id, tasks::list))
        .select((tasks::campaign_id, tasks::list, count_star()))
        .load(conn)?;
    let indicator_counts: BTreeMap<(i64, i16), i64> = indicators::table
        .filter(indicators::campaign_id.eq_any(&ids))
        .group_by((indicators::campaign_id, indicators::level))
        .select((indicators::campaign_id, indicators::level, count_star()))
        .load::<(i64, i16, i64)>(conn)?
        .into_iter()
        .map(|(campaign, level, count)| ((campaign, level), count))
        .collect();
    let vetoed: Vec<bool> = ids.iter().map(|id| crate::negative::vetoed(conn, *id)).collect::<QueryResult<_>>()?;
    Ok(rows
        .into_iter()
        .zip(vetoed)
        .map(|((campaign, region), vetoed)| CampaignSummary {
            id: campaign.id,
            vetoed,
            level1_indicators: indicator_counts.get(&(campaign.id, 1)).copied().unwrap_or(0),
            level2_indicators: indicator_counts.get(&(campaign.id, 2)).copied().unwrap_or(0),
            task_counts: TaskList::ALL
                .iter()
                .map(|&list| ListCount {
                    list,
                    tasks: task_counts.iter().find(|(id, l, _)| *id == campaign.id && *l == list).map_or(0, |(_, _, count)| *count),
                })
                .collect(),
            code: campaign.code,
            name: campaign.name,
            region,
            period_start: campaign.period_start.map(|date| date.to_string()),
            period_end: campaign.period_end.map(|date| date.to_string()),
        })
        .collect())
}

/// The indicator tree of a campaign with task counts.
pub fn indicator_tree(conn: &mut PgConnection, _can: &ReadCatalog, code: &str) -> Result<Vec<Indicator>, Error> {
    let campaign = campaign_id(conn, code)?;
    let counts: BTreeMap<i64, i64> = tasks::table
        .filter(tasks::campaign_id.eq(campaign))
        .filter(tasks::indicator_id.is_not_null())
        .group_by(tasks::indicator_id)
        .select((tasks::indicator_id.assume_not_null(), count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(lookups::indicator_tree(conn, campaign)?
        .into_iter()
        .map(|level1| {
            let children: Vec<Indicator> = level1
                .children
                .into_iter()
                .map(|child| Indicator {
                    task_count: counts.get(&child.id).copied().unwrap_or(0),
                    id: child.id,
                    level: 2,
                    code: child.code,
                    title: child.title,
                    children: Vec::new(),
                })
                .collect();
            Indicator {
                id: level1.id,
                level: 1,
                code: level1.code,
                title: level1.title,
                task_count: children.iter().map(|child| child.task_count).sum(),
                children,
            }
        })
        .collect())
}

/// How a task list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub enum TaskSort {
    /// The table's order: list, then number (the default).
    #[serde(rename = "list")]
    List,
    #[serde(rename = "-list")]
    ListDescending,
    /// Earliest unapproved due date first; tasks without one last.
    #[serde(rename = "next_due")]
    NextDue,
    #[serde(rename = "-next_due")]
    NextDueDescending,
    /// Most recently changed first.
    #[serde(rename = "-updated_at")]
    RecentlyUpdated,
}

/// The filters of `GET /api/v1/tasks`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TaskFilter {
    pub campaign: Option<String>,
    pub list: Option<TaskList>,
    pub indicator: Option<i64>,
    pub lead_unit: Option<i64>,
    pub responsible_unit: Option<i64>,
    pub status: Option<TaskStatus>,
    pub overdue: Option<bool>,
    pub due_before: Option<NaiveDate>,
    pub light: Option<duban_dto::ScheduleLight>,
    pub q: Option<String>,
    pub sort: Option<TaskSort>,
}

/// Escapes LIKE's wildcards so a search for "100%" finds "100%".
fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// The schedule light on `today` as a condition on `tasks`: the stored
/// days it turns yellow and red (`duban_rules::schedule::LightDates`,
/// kept by `rollup::refresh`) compared with the day, a bound parameter.
fn light_condition(wanted: ScheduleLight, today: NaiveDate) -> Box<dyn BoxableExpression<tasks::table, Pg, SqlType = Bool>> {
    let red = || tasks::red_from.le(today).assume_not_null();
    let yellow = || tasks::yellow_from.le(today).assume_not_null();
    let not_red = || tasks::red_from.is_null().or(tasks::red_from.gt(today).assume_not_null());
    let not_yellow = || tasks::yellow_from.is_null().or(tasks::yellow_from.gt(today).assume_not_null());
    match wanted {
        ScheduleLight::Red => Box::new(red()),
        ScheduleLight::Yellow => Box::new(yellow().and(not_red())),
        ScheduleLight::Green => Box::new(not_yellow().and(not_red())),
    }
}

impl TaskFilter {
    fn query(&self, today: NaiveDate, area: &Area) -> tasks::BoxedQuery<'static, diesel::pg::Pg> {
        let mut query = tasks::table.into_boxed();
        if let Some(regions) = area.region_ids() {
            query = query.filter(
                tasks::campaign_id.eq_any(campaigns::table.filter(campaigns::region_id.eq_any(regions.to_vec())).select(campaigns::id)),
            );
        }
        if let Some(code) = &self.campaign {
            query =
                query.filter(tasks::campaign_id.eq_any(campaigns::table.filter(campaigns::code.eq(code.clone())).select(campaigns::id)));
        }
        if let Some(list) = self.list {
            query = query.filter(tasks::list.eq(list));
        }
        if let Some(indicator) = self.indicator {
            let children = indicators::table.filter(indicators::parent_id.eq(indicator)).select(indicators::id.nullable());
            query = query.filter(tasks::indicator_id.eq(indicator).or(tasks::indicator_id.eq_any(children)));
        }
        for (unit, role) in [(self.lead_unit, PartyRole::Lead), (self.responsible_unit, PartyRole::Responsible)] {
            if let Some(unit) = unit {
                let assigned = assignments::table
                    .filter(assignments::unit_id.eq(unit))
                    .filter(assignments::role.eq(role))
                    .select(assignments::task_id);
                let named = task_parties::table
                    .filter(task_parties::unit_id.eq(unit))
                    .filter(task_parties::role.eq(role))
                    .select(task_parties::task_id);
                query = query.filter(tasks::id.eq_any(assigned).or(tasks::id.eq_any(named)));
            }
        }
        let overdue = tasks::next_due.lt(today).assume_not_null();
        let not_overdue = tasks::next_due.is_null().or(tasks::next_due.ge(today));
        match self.status {
            Some(TaskStatus::Overdue) => query = query.filter(overdue),
            Some(status) => query = query.filter(tasks::rollup_status.eq(status)).filter(not_overdue),
            None => {}
        }
        match self.overdue {
            Some(true) => query = query.filter(tasks::next_due.lt(today)),
            Some(false) => query = query.filter(tasks::next_due.is_null().or(tasks::next_due.ge(today))),
            None => {}
        }
        if let Some(date) = self.due_before {
            query = query.filter(tasks::next_due.lt(date));
        }
        if let Some(light) = self.light {
            query = query.filter(light_condition(light, today));
        }
        if let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            query = query.filter(tasks::text.ilike(like_pattern(q)).or(tasks::code.eq(q.to_uppercase())));
        }
        query
    }
}

pub fn tasks(conn: &mut PgConnection, can: &ReadCatalog, filter: &TaskFilter, cursor: &Cursor) -> Result<Page<TaskSummary>, Error> {
    crate::limits::parameter("q", filter.q.as_deref().unwrap_or_default(), duban_dto::limits::SEARCH)?;
    let today = clock::today();
    // The lists' ordinals in the province's order, as diesel's CASE rather
    // than an SQL literal: diesel never caches a statement holding a literal,
    // and PostgreSQL would plan it anew on every request.
    let list_order = || {
        diesel::dsl::case_when::<_, _, Integer>(tasks::list.eq(TaskList::Basic), 1)
            .when(tasks::list.eq(TaskList::Quantified), 2)
            .when(tasks::list.eq(TaskList::Extended), 3)
            .otherwise(4)
    };
    let query = filter.query(today, can.area()).select(tasks::id).limit(cursor.limit).offset(cursor.offset);
    let ids: Vec<i64> = match filter.sort.unwrap_or(TaskSort::List) {
        TaskSort::List => query.order((list_order().asc(), tasks::number.asc())).load(conn)?,
        TaskSort::ListDescending => query.order((list_order().desc(), tasks::number.desc())).load(conn)?,
        TaskSort::NextDue => query.order((tasks::next_due.asc().nulls_last(), list_order().asc(), tasks::number.asc())).load(conn)?,
        TaskSort::NextDueDescending => {
            query.order((tasks::next_due.desc().nulls_last(), list_order().asc(), tasks::number.asc())).load(conn)?
        }
        TaskSort::RecentlyUpdated => query.order((tasks::updated_at.desc(), tasks::id.desc())).load(conn)?,
    };
    let total = cursor.total(ids.len(), || filter.query(today, can.area()).count().get_result(conn))?;
    let items = summaries_of(conn, &ids, today)?;
    Ok(cursor.page(items, total))
}

/// A task as its summary needs it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = tasks, check_for_backend(diesel::pg::Pg))]
struct SummaryRow {
    id: i64,
    #[diesel(select_expression = campaigns::code)]
    campaign: String,
    code: String,
    list: TaskList,
    number: i32,
    indicator_id: Option<i64>,
    text: String,
    responsible_text: Option<String>,
    rollup_status: TaskStatus,
    next_due: Option<NaiveDate>,
}

/// Summaries of these tasks, in this order.
fn summaries_of(conn: &mut PgConnection, ids: &[i64], today: NaiveDate) -> Result<Vec<TaskSummary>, Error> {
    Ok(summaries_and_parties_of(conn, ids, today)?.0)
}

/// The tasks' summaries, and the parties of theirs a summary does not
/// show (the responsible ones), so one task's page needs no second query.
fn summaries_and_parties_of(
    conn: &mut PgConnection,
    ids: &[i64],
    today: NaiveDate,
) -> Result<(Vec<TaskSummary>, BTreeMap<(i64, PartyRole), Vec<Party>>), Error> {
    let rows: Vec<SummaryRow> =
        tasks::table.inner_join(campaigns::table).filter(tasks::id.eq_any(ids)).select(SummaryRow::as_select()).load(conn)?;
    let level2_ids: Vec<i64> = rows.iter().filter_map(|row| row.indicator_id).collect();
    // The tasks' level-2 indicators and their level-1 parents, in one query.
    let child = diesel::alias!(indicators as child);
    let parents_of_level2 = child.filter(child.field(indicators::id).eq_any(&level2_ids)).select(child.field(indicators::parent_id));
    let both: Vec<(i64, String, String, Option<i64>)> = indicators::table
        .filter(indicators::id.eq_any(&level2_ids).or(indicators::id.nullable().eq_any(parents_of_level2)))
        .select((indicators::id, indicators::code, indicators::title, indicators::parent_id))
        .load(conn)?;
    let mut level2: BTreeMap<i64, (IndicatorRef, Option<i64>)> = BTreeMap::new();
    let mut level1: BTreeMap<i64, IndicatorRef> = BTreeMap::new();
    for (id, code, title, parent) in both {
        let indicator = IndicatorRef { id, code, title };
        if level2_ids.contains(&id) {
            level2.insert(id, (indicator.clone(), parent));
        }
        level1.insert(id, indicator);
    }
    let mut parties = parties_of(conn, ids)?;
    let counts: BTreeMap<i64, i64> = assignments::table
        .filter(assignments::task_id.eq_any(ids))
        .group_by(assignments::task_id)
        .select((assignments::task_id, count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    let mut by_id: BTreeMap<i64, TaskSummary> = rows
        .into_iter()
        .map(|row| {
            let level2_ref = row.indicator_id.and_then(|i| level2.get(&i));
            let stored = rollup::Stored { status: row.rollup_status, next_due: row.next_due };
            let summary = TaskSummary {
                id: row.id,
                campaign: row.campaign,
                code: row.code,
                list: row.list,
                number: row.number,
                level1: level2_ref.and_then(|(_, parent)| parent.and_then(|p| level1.get(&p).cloned())),
                level2: level2_ref.map(|(indicator, _)| indicator.clone()),
                text: row.text,
                leads: parties.remove(&(row.id, PartyRole::Lead)).unwrap_or_default(),
                responsible: row.responsible_text,
                status: rollup::shown(stored, today),
                next_due: row.next_due,
                assignment_count: counts.get(&row.id).copied().unwrap_or(0),
            };
            (row.id, summary)
        })
        .collect();
    Ok((ids.iter().filter_map(|id| by_id.remove(id)).collect(), parties))
}

/// A party of a task as written, with the unit it resolved to.
#[derive(Queryable, Selectable)]
#[diesel(table_name = task_parties, check_for_backend(diesel::pg::Pg))]
struct PartyRow {
    task_id: i64,
    role: PartyRole,
    as_written: String,
    #[diesel(select_expression = units::id.nullable())]
    unit_id: Option<i64>,
    #[diesel(select_expression = units::name.nullable())]
    unit_name: Option<String>,
    group_id: Option<i64>,
}

fn parties_of(conn: &mut PgConnection, task_ids: &[i64]) -> Result<BTreeMap<(i64, PartyRole), Vec<Party>>, Error> {
    let rows: Vec<PartyRow> = task_parties::table
        .left_join(units::table)
        .filter(task_parties::task_id.eq_any(task_ids))
        .order((task_parties::task_id, task_parties::role, task_parties::position))
        .select(PartyRow::as_select())
        .load(conn)?;
    let mut parties: BTreeMap<(i64, PartyRole), Vec<Party>> = BTreeMap::new();
    for row in rows {
        let unit = row.unit_id.zip(row.unit_name).map(|(id, name)| UnitRef { id, name });
        parties.entry((row.task_id, row.role)).or_default().push(Party { as_written: row.as_written, unit, group_id: row.group_id });
    }
    Ok(parties)
}

/// One task's page today: the one kept in `kept` when its campaign has not
/// changed since, else computed (and kept). Kept per area, as the
/// assignments shown are the reader's area's.
pub fn task(conn: &mut PgConnection, kept: &Kept, can: &ReadCatalog, progress: &ReadProgress, id: i64) -> Result<TaskDetail, Error> {
    let today = clock::today();
    let key = (id, progress.area().root());
    let page = kept.tasks.page(
        conn,
        today,
        |conn| Ok(version_of_task(conn, id)?.map(|version| (key, version))),
        || Error::not_found(format!("there is no task {id}")),
        |conn, _| compute_task(conn, can, progress, id, today),
    )?;
    Ok(TaskDetail::clone(&page))
}

/// The version of a task's campaign.
fn version_of_task(conn: &mut PgConnection, id: i64) -> QueryResult<Option<i64>> {
    tasks::table
        .inner_join(campaign_versions::table.on(campaign_versions::campaign_id.eq(tasks::campaign_id)))
        .filter(tasks::id.eq(id))
        .select(campaign_versions::version)
        .first(conn)
        .optional()
}

/// One task with its parties, targets and assignments.
fn compute_task(
    conn: &mut PgConnection,
    _can: &ReadCatalog,
    progress: &ReadProgress,
    id: i64,
    today: NaiveDate,
) -> Result<TaskDetail, Error> {
    let (mut summaries, mut parties) = summaries_and_parties_of(conn, &[id], today)?;
    let summary = summaries.pop().ok_or_else(|| Error::not_found(format!("there is no task {id}")))?;
    let responsible_parties = parties.remove(&(id, PartyRole::Responsible)).unwrap_or_default();
    let targets = task_targets::table
        .filter(task_targets::task_id.eq(id))
        .order(task_targets::position)
        .select(crate::db::models::Target::as_select())
        .load(conn)?
        .iter()
        .map(|target| {
            let seed = target.seed();
            Target { metric: seed.metric, comparator: seed.comparator, value: seed.value, reference: seed.reference, unit: seed.unit }
        })
        .collect();
    let filter = work::AssignmentFilter { task: Some(id), ..Default::default() };
    let assignments = work::assignments(conn, progress, &filter, &Cursor::all())?.items;
    Ok(TaskDetail { summary, responsible_parties, targets, assignments })
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn escapes_like_wildcards() {
        assert_eq!(like_pattern("行政复议"), "%行政复议%");
        assert_eq!(like_pattern("100%_x"), "%100\\%\\_x%");
    }
}
