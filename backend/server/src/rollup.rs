//! A task's status in the database. The rule is the rulebook's
//! (`duban_rules::rollup`); this module keeps its stored part
//! (`tasks.rollup_status`, `tasks.next_due`) current, refreshed in the
//! transaction that changes an assignment.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use duban_dto::{AssignmentStatus, TaskStatus};
pub use duban_rules::rollup::{Stored, assignment_overdue, shown, stored};

use crate::db::schema::{assignments, tasks};

/// Recomputes the stored status of these tasks from their assignments and
/// writes what changed.
pub fn refresh(conn: &mut PgConnection, task_ids: &[i64]) -> QueryResult<()> {
    if task_ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<(i64, AssignmentStatus, Option<NaiveDate>)> = assignments::table
        .filter(assignments::task_id.eq_any(task_ids))
        .select((assignments::task_id, assignments::status, assignments::due_date))
        .load(conn)?;
    let mut by_task: BTreeMap<i64, Vec<(AssignmentStatus, Option<NaiveDate>)>> = task_ids.iter().map(|id| (*id, Vec::new())).collect();
    for (task_id, status, due) in rows {
        by_task.entry(task_id).or_default().push((status, due));
    }
    let current: Vec<(i64, TaskStatus, Option<NaiveDate>)> =
        tasks::table.filter(tasks::id.eq_any(task_ids)).select((tasks::id, tasks::rollup_status, tasks::next_due)).load(conn)?;
    for (task_id, status, next_due) in current {
        let computed = stored(&by_task[&task_id]);
        if computed.status != status || computed.next_due != next_due {
            diesel::update(tasks::table.find(task_id))
                .set((tasks::rollup_status.eq(computed.status), tasks::next_due.eq(computed.next_due)))
                .execute(conn)?;
        }
    }
    Ok(())
}
