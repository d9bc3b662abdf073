//! A task's status, derived from its assignments. This is the one place the
//! rule is written:
//!
//! 1. no assignments: not started;
//! 2. every assignment approved: approved;
//! 3. an unapproved assignment is past its due date: overdue;
//! 4. an assignment was returned: returned;
//! 5. every assignment submitted or further (accepted, approved): submitted;
//! 6. any assignment in progress or further: in progress;
//! 7. otherwise: not started.
//!
//! Rule 3 depends on the day, so the database keeps the status without it
//! (`tasks.rollup_status`) and the earliest due date of the unapproved
//! assignments (`tasks.next_due`); "overdue" is computed when read. Both
//! columns are refreshed in the transaction that changes an assignment.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use duban_dto::{AssignmentStatus, TaskStatus};

use crate::db::schema::{assignments, tasks};

/// The stored part of a task's status: rules 1, 2 and 4–7, and the date
/// from which rule 3 applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub status: TaskStatus,
    pub next_due: Option<NaiveDate>,
}

pub fn stored(assignments: &[(AssignmentStatus, Option<NaiveDate>)]) -> Stored {
    use AssignmentStatus::*;
    let statuses = || assignments.iter().map(|(status, _)| *status);
    let next_due = assignments.iter().filter(|(status, _)| *status != Approved).filter_map(|(_, due)| *due).min();
    let status = if assignments.is_empty() {
        TaskStatus::NotStarted
    } else if statuses().all(|s| s == Approved) {
        TaskStatus::Approved
    } else if statuses().any(|s| s == Returned) {
        TaskStatus::Returned
    } else if statuses().all(|s| matches!(s, Submitted | Accepted | Approved)) {
        TaskStatus::Submitted
    } else if statuses().any(|s| matches!(s, InProgress | Submitted | Accepted | Approved)) {
        TaskStatus::InProgress
    } else {
        TaskStatus::NotStarted
    };
    Stored { status, next_due }
}

/// The status as shown on `today`.
pub fn shown(stored: Stored, today: NaiveDate) -> TaskStatus {
    match stored.next_due {
        Some(due) if due < today => TaskStatus::Overdue,
        _ => stored.status,
    }
}

/// Whether one assignment is overdue on `today`.
pub fn assignment_overdue(status: AssignmentStatus, due: Option<NaiveDate>, today: NaiveDate) -> bool {
    status != AssignmentStatus::Approved && due.is_some_and(|due| due < today)
}

/// Recomputes the stored status of these tasks from their assignments and
/// writes what changed.
pub fn refresh(conn: &mut PgConnection, task_ids: &[i64]) -> QueryResult<()> {
    if task_ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<(i64, String, Option<NaiveDate>)> = assignments::table
        .filter(assignments::task_id.eq_any(task_ids))
        .select((assignments::task_id, assignments::status, assignments::due_date))
        .load(conn)?;
    let mut by_task: BTreeMap<i64, Vec<(AssignmentStatus, Option<NaiveDate>)>> = task_ids.iter().map(|id| (*id, Vec::new())).collect();
    for (task_id, status, due) in rows {
        let status = AssignmentStatus::parse(&status).expect("the CHECK constraint admits only known statuses");
        by_task.entry(task_id).or_default().push((status, due));
    }
    let current: Vec<(i64, String, Option<NaiveDate>)> =
        tasks::table.filter(tasks::id.eq_any(task_ids)).select((tasks::id, tasks::rollup_status, tasks::next_due)).load(conn)?;
    for (task_id, status, next_due) in current {
        let computed = stored(&by_task[&task_id]);
        if computed.status.as_str() != status || computed.next_due != next_due {
            diesel::update(tasks::table.find(task_id))
                .set((tasks::rollup_status.eq(computed.status.as_str()), tasks::next_due.eq(computed.next_due)))
                .execute(conn)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2026, 12, d)
    }

    fn status_of(assignments: &[(AssignmentStatus, Option<NaiveDate>)], today: u32) -> TaskStatus {
        shown(stored(assignments), day(today).unwrap())
    }

    #[test]
    fn applies_the_rules_in_order() {
        use AssignmentStatus::*;
        assert_eq!(status_of(&[], 1), TaskStatus::NotStarted);
        assert_eq!(status_of(&[(NotStarted, None), (NotStarted, day(9))], 1), TaskStatus::NotStarted);
        assert_eq!(status_of(&[(NotStarted, None), (InProgress, None)], 1), TaskStatus::InProgress);
        assert_eq!(status_of(&[(Submitted, None), (Accepted, None)], 1), TaskStatus::Submitted);
        assert_eq!(status_of(&[(Submitted, None), (NotStarted, None)], 1), TaskStatus::InProgress);
        assert_eq!(status_of(&[(Returned, None), (Approved, None)], 1), TaskStatus::Returned);
        assert_eq!(status_of(&[(Approved, day(1)), (Approved, None)], 20), TaskStatus::Approved, "approved work is never overdue");
        // Overdue comes before returned and in progress.
        assert_eq!(status_of(&[(Returned, day(5)), (InProgress, None)], 6), TaskStatus::Overdue);
        assert_eq!(status_of(&[(Returned, day(5)), (InProgress, None)], 5), TaskStatus::Returned, "due today is not overdue");
        assert_eq!(status_of(&[(Approved, day(1)), (InProgress, day(10))], 5), TaskStatus::InProgress);
    }

    #[test]
    fn next_due_ignores_approved_assignments() {
        use AssignmentStatus::*;
        let stored = stored(&[(Approved, day(1)), (InProgress, day(10)), (NotStarted, day(8))]);
        assert_eq!(stored.next_due, day(8));
    }
}
