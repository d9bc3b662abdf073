//! A task's status and schedule light in the database. The rules are the
//! rulebook's (`duban_rules::rollup`, `duban_rules::schedule`); this module
//! keeps their stored parts (`tasks.rollup_status`, `tasks.next_due`,
//! `tasks.given_out`, and the light's `tasks.yellow_from` and
//! `tasks.red_from`) current, refreshed in the transaction that changes an
//! assignment or a campaign's period.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use duban_dto::{AssignmentStatus, TaskStatus};
pub use duban_rules::rollup::{Stored, assignment_overdue, shown, stored};
use duban_rules::schedule::{LightDates, TaskTiming};

use crate::clock;
use crate::db::schema::{assignments, campaigns, tasks};

/// A task's stored facts, as [`refresh`] compares them.
#[derive(Queryable, Selectable, PartialEq, Eq, Debug)]
#[diesel(table_name = tasks)]
struct StoredFacts {
    id: i64,
    rollup_status: TaskStatus,
    next_due: Option<NaiveDate>,
    given_out: Option<NaiveDate>,
    yellow_from: Option<NaiveDate>,
    red_from: Option<NaiveDate>,
}

/// Recomputes the stored status and light of these tasks from their
/// assignments and campaign, and writes what changed.
pub fn refresh(conn: &mut PgConnection, task_ids: &[i64]) -> QueryResult<()> {
    if task_ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<(i64, AssignmentStatus, Option<NaiveDate>, DateTime<Utc>)> = assignments::table
        .filter(assignments::task_id.eq_any(task_ids))
        .select((assignments::task_id, assignments::status, assignments::due_date, assignments::created_at))
        .load(conn)?;
    let mut by_task: BTreeMap<i64, Vec<(AssignmentStatus, Option<NaiveDate>)>> = task_ids.iter().map(|id| (*id, Vec::new())).collect();
    let mut given_out: BTreeMap<i64, NaiveDate> = BTreeMap::new();
    for (task_id, status, due, created_at) in rows {
        by_task.entry(task_id).or_default().push((status, due));
        let day = clock::today_at(created_at);
        given_out.entry(task_id).and_modify(|first| *first = (*first).min(day)).or_insert(day);
    }
    let current: Vec<(StoredFacts, Option<NaiveDate>, Option<NaiveDate>)> = tasks::table
        .inner_join(campaigns::table)
        .filter(tasks::id.eq_any(task_ids))
        .select((StoredFacts::as_select(), campaigns::period_start, campaigns::period_end))
        .load(conn)?;
    for (facts, campaign_start, campaign_end) in current {
        let computed = stored(&by_task[&facts.id]);
        let timing = TaskTiming {
            status: computed.status,
            next_due: computed.next_due,
            given_out: given_out.get(&facts.id).copied(),
            campaign_start,
            campaign_end,
        };
        let lights = LightDates::of(&timing);
        let wanted = StoredFacts {
            id: facts.id,
            rollup_status: computed.status,
            next_due: computed.next_due,
            given_out: timing.given_out,
            yellow_from: lights.yellow_from,
            red_from: lights.red_from,
        };
        if wanted != facts {
            diesel::update(tasks::table.find(facts.id))
                .set((
                    tasks::rollup_status.eq(wanted.rollup_status),
                    tasks::next_due.eq(wanted.next_due),
                    tasks::given_out.eq(wanted.given_out),
                    tasks::yellow_from.eq(wanted.yellow_from),
                    tasks::red_from.eq(wanted.red_from),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Refreshes every task of these campaigns, after their periods changed
/// (or after the migration that made room for the lights).
pub fn refresh_campaigns(conn: &mut PgConnection, campaign_ids: &[i64]) -> QueryResult<()> {
    let ids: Vec<i64> = tasks::table.filter(tasks::campaign_id.eq_any(campaign_ids)).select(tasks::id).load(conn)?;
    for chunk in ids.chunks(5_000) {
        refresh(conn, chunk)?;
    }
    Ok(())
}

/// Fills the stored lights of every task, once, after the migration that
/// added them.
pub fn refresh_all(conn: &mut PgConnection) -> QueryResult<()> {
    let campaign_ids: Vec<i64> = campaigns::table.select(campaigns::id).load(conn)?;
    refresh_campaigns(conn, &campaign_ids)
}
