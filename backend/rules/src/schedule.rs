//! Where a task stands against time: the share of its campaign's period
//! that has passed, and its schedule light (进度灯).
//!
//! Red: past due, or more than half the campaign's time behind; yellow: due
//! within seven days, or more than a fifth behind; green: otherwise, and
//! always once approved. "Behind" is the elapsed share minus how far along
//! the task's status is ([`weight`]).

use chrono::NaiveDate;
use duban_dto::{ScheduleLight as Light, TaskStatus};

/// A task is far behind beyond this share of the campaign's time.
pub const FAR_BEHIND: f64 = 0.5;
/// A task is behind beyond this share of the campaign's time.
pub const BEHIND: f64 = 0.2;
/// A due date within this many days is due soon.
pub const DUE_SOON_DAYS: i64 = 7;

/// The share of a period elapsed on `today`, 0 to 1; `None` without a
/// period (or with an empty one).
pub fn elapsed_share(start: Option<NaiveDate>, end: Option<NaiveDate>, today: NaiveDate) -> Option<f64> {
    match (start, end) {
        (Some(start), Some(end)) if end > start => {
            Some(((today - start).num_days() as f64 / (end - start).num_days() as f64).clamp(0.0, 1.0))
        }
        _ => None,
    }
}

/// The share as a percentage with one decimal, as the dashboards show it.
pub fn percent(share: f64) -> f64 {
    (share * 1000.0).round() / 10.0
}

/// How far along a status is, 0 to 1, for comparing with the time elapsed.
pub fn weight(status: TaskStatus) -> f64 {
    match status {
        TaskStatus::NotStarted | TaskStatus::Overdue => 0.0,
        TaskStatus::InProgress | TaskStatus::Returned => 0.4,
        TaskStatus::Submitted => 0.8,
        TaskStatus::Approved => 1.0,
    }
}

/// How far a task in `status` lags the time elapsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lag {
    OnTrack,
    /// More than [`BEHIND`].
    Behind,
    /// More than [`FAR_BEHIND`].
    FarBehind,
}

impl Lag {
    pub fn of(status: TaskStatus, elapsed: Option<f64>) -> Lag {
        let behind = elapsed.map_or(0.0, |elapsed| elapsed - weight(status));
        if behind > FAR_BEHIND {
            Lag::FarBehind
        } else if behind > BEHIND {
            Lag::Behind
        } else {
            Lag::OnTrack
        }
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

    /// The last day that is still due soon, seen from `today`.
    pub fn soon_until(today: NaiveDate) -> NaiveDate {
        today + chrono::Days::new(DUE_SOON_DAYS as u64)
    }
}

/// The schedule light of one task.
pub fn light(status: TaskStatus, due: Due, elapsed: Option<f64>) -> Light {
    if status == TaskStatus::Approved {
        return Light::Green;
    }
    let lag = Lag::of(status, elapsed);
    if due == Due::Overdue || lag == Lag::FarBehind {
        Light::Red
    } else if due == Due::Soon || lag == Lag::Behind {
        Light::Yellow
    } else {
        Light::Green
    }
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
        assert_eq!(Due::soon_until(today), day("2026-06-08"));
        assert_eq!(light(TaskStatus::Approved, due("2026-01-01"), Some(0.9)), Light::Green);
        assert_eq!(light(TaskStatus::InProgress, due("2026-05-31"), Some(0.1)), Light::Red);
        assert_eq!(light(TaskStatus::NotStarted, Due::Later, Some(0.6)), Light::Red);
        assert_eq!(light(TaskStatus::InProgress, due("2026-06-08"), Some(0.1)), Light::Yellow);
        assert_eq!(light(TaskStatus::NotStarted, Due::Later, Some(0.3)), Light::Yellow);
        assert_eq!(light(TaskStatus::Submitted, due("2026-07-01"), Some(0.9)), Light::Green);
        assert_eq!(light(TaskStatus::NotStarted, Due::Later, None), Light::Green);
    }

    #[test]
    fn the_elapsed_share_is_clamped_and_needs_a_period() {
        let (start, end) = (Some(day("2026-01-01")), Some(day("2026-12-31")));
        assert_eq!(elapsed_share(start, end, day("2025-06-01")), Some(0.0));
        assert_eq!(elapsed_share(start, end, day("2027-06-01")), Some(1.0));
        assert!(elapsed_share(start, end, day("2026-07-02")).is_some_and(|share| (share - 0.5).abs() < 0.01));
        assert_eq!(elapsed_share(None, end, day("2026-07-02")), None);
        assert_eq!(elapsed_share(end, start, day("2026-07-02")), None);
        assert_eq!(percent(0.12345), 12.3);
    }
}
