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
//! Rule 3 depends on the day, so the server keeps the status without it
//! ([`Stored`], in `tasks.rollup_status`) and the earliest due date of the
//! unapproved assignments (`tasks.next_due`); "overdue" is computed when
//! read ([`shown`]).

use chrono::NaiveDate;
use duban_dto::{AssignmentStatus, TaskStatus};

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
