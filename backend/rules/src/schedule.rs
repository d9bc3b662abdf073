//! Where a task stands against time: the share of its campaign's period
//! that has passed, and its schedule light (进度灯).
//!
//! A task's light is judged against the task's own window, not the campaign
//! calendar alone: from the day the task was given out (its first
//! assignment, or the campaign start if that is later) to its next due date
//! (or the campaign end when it has none). A task handed out yesterday is
//! not behind because the campaign began a year ago.
//!
//! Red: past due, or more than half its window behind; yellow: due within
//! seven days, or more than a fifth behind; green: otherwise, and always
//! once approved. "Behind" is the share of the window elapsed minus how far
//! along the task's status is ([`weight`]).
//!
//! Since the status and the dates only change when the task does, the light
//! is kept as the two days on which it turns yellow and red
//! ([`LightDates`]); the light on any day follows from them, and a database
//! can filter and count lights by comparing dates.

use chrono::{Days, NaiveDate};
use duban_dto::{ScheduleLight as Light, TaskStatus};

/// A task is far behind beyond this percentage of its window.
pub const FAR_BEHIND_PERCENT: i64 = 50;
/// A task is behind beyond this percentage of its window.
pub const BEHIND_PERCENT: i64 = 20;
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

/// How far along a status is, in percent, for comparing with the share of
/// the window elapsed.
pub fn weight(status: TaskStatus) -> i64 {
    match status {
        TaskStatus::NotStarted | TaskStatus::Overdue => 0,
        TaskStatus::InProgress | TaskStatus::Returned => 40,
        TaskStatus::Submitted => 80,
        TaskStatus::Approved => 100,
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
        today + Days::new(DUE_SOON_DAYS as u64)
    }
}

/// What a task's light depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskTiming {
    /// The stored status (`duban_rules::rollup::Stored`).
    pub status: TaskStatus,
    /// The earliest due date of its unapproved assignments.
    pub next_due: Option<NaiveDate>,
    /// The day it was given out: its first assignment.
    pub given_out: Option<NaiveDate>,
    pub campaign_start: Option<NaiveDate>,
    pub campaign_end: Option<NaiveDate>,
}

impl TaskTiming {
    /// The task's own window: from when it was given out (not before the
    /// campaign starts) to its next due date, else the campaign end.
    pub fn window(&self) -> Option<(NaiveDate, NaiveDate)> {
        let start = match (self.given_out, self.campaign_start) {
            (Some(given_out), Some(campaign_start)) => Some(given_out.max(campaign_start)),
            (given_out, campaign_start) => given_out.or(campaign_start),
        }?;
        let end = self.next_due.or(self.campaign_end)?;
        (end > start).then_some((start, end))
    }
}

/// The days from which a task's light is yellow and red; `None` when it
/// never turns so (approved, or no dates to judge by). Red implies yellow:
/// `yellow_from` is never later than `red_from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LightDates {
    pub yellow_from: Option<NaiveDate>,
    pub red_from: Option<NaiveDate>,
}

impl LightDates {
    pub fn of(timing: &TaskTiming) -> LightDates {
        if timing.status == TaskStatus::Approved {
            return LightDates::default();
        }
        let window = timing.window();
        let lagging_from = |limit: i64| window.and_then(|(start, end)| first_day_behind(start, end, limit + weight(timing.status)));
        let overdue_from = timing.next_due.map(|due| due + Days::new(1));
        let soon_from = timing.next_due.map(|due| due - Days::new(DUE_SOON_DAYS as u64));
        let red_from = earliest(overdue_from, lagging_from(FAR_BEHIND_PERCENT));
        let yellow_from = earliest(earliest(soon_from, lagging_from(BEHIND_PERCENT)), red_from);
        LightDates { yellow_from, red_from }
    }

    /// The light on `today`.
    pub fn on(&self, today: NaiveDate) -> Light {
        if self.red_from.is_some_and(|day| day <= today) {
            Light::Red
        } else if self.yellow_from.is_some_and(|day| day <= today) {
            Light::Yellow
        } else {
            Light::Green
        }
    }
}

/// The first day on which more than `percent` of the window has passed;
/// `None` if that never happens (the share stops at the whole window).
fn first_day_behind(start: NaiveDate, end: NaiveDate, percent: i64) -> Option<NaiveDate> {
    if percent >= 100 {
        return None;
    }
    let span = (end - start).num_days();
    // 100·(day − start) > percent·span, in whole days.
    let days = (percent * span).div_euclid(100) + 1;
    Some(start + Days::new(days as u64))
}

fn earliest(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn light_on(timing: TaskTiming, today: &str) -> Light {
        LightDates::of(&timing).on(day(today))
    }

    fn timing(status: TaskStatus, next_due: Option<&str>, given_out: &str) -> TaskTiming {
        TaskTiming {
            status,
            next_due: next_due.map(day),
            given_out: Some(day(given_out)),
            campaign_start: Some(day("2026-01-01")),
            campaign_end: Some(day("2026-12-31")),
        }
    }

    #[test]
    fn lights_follow_the_tasks_own_due_dates_and_window() {
        let today = day("2026-06-01");
        let due = |date: &str| Due::of(Some(day(date)), today);
        assert_eq!(due("2026-06-08"), Due::Soon);
        assert_eq!(due("2026-06-09"), Due::Later);
        assert_eq!(Due::soon_until(today), day("2026-06-08"));

        // Approved is green, however late.
        assert_eq!(light_on(timing(TaskStatus::Approved, Some("2026-01-05"), "2026-01-01"), "2026-12-01"), Light::Green);
        // Past its due date: red; within seven days of it: yellow.
        assert_eq!(light_on(timing(TaskStatus::InProgress, Some("2026-05-31"), "2026-05-01"), "2026-06-01"), Light::Red);
        assert_eq!(light_on(timing(TaskStatus::InProgress, Some("2026-06-08"), "2026-05-25"), "2026-06-01"), Light::Yellow);
        // Given out late in the campaign: judged by its own window, green.
        assert_eq!(light_on(timing(TaskStatus::NotStarted, None, "2026-11-30"), "2026-12-03"), Light::Green);
        // Given out at the start, never begun, most of the year gone: red.
        assert_eq!(light_on(timing(TaskStatus::NotStarted, None, "2026-01-01"), "2026-12-03"), Light::Red);
        // Behind by more than a fifth of its window: yellow (40 of 100 days, not started).
        let hundred_days = timing(TaskStatus::NotStarted, Some("2026-04-11"), "2026-01-01");
        assert_eq!(light_on(hundred_days, "2026-01-21"), Light::Green);
        assert_eq!(light_on(hundred_days, "2026-01-22"), Light::Yellow);
        assert_eq!(light_on(hundred_days, "2026-02-20"), Light::Yellow);
        assert_eq!(light_on(hundred_days, "2026-02-21"), Light::Red);
        // Submitted work is never behind its window, only late.
        assert_eq!(light_on(timing(TaskStatus::Submitted, None, "2026-01-01"), "2026-12-30"), Light::Green);
        // No dates at all: nothing to judge by.
        let undated =
            TaskTiming { status: TaskStatus::NotStarted, next_due: None, given_out: None, campaign_start: None, campaign_end: None };
        assert_eq!(LightDates::of(&undated), LightDates::default());
    }

    #[test]
    fn the_light_dates_agree_with_the_light_on_every_day() {
        // Yellow never starts after red, and each day's light is the one
        // the dates give.
        for status in TaskStatus::ALL {
            for next_due in [None, Some("2026-03-01"), Some("2026-07-15")] {
                let dates = LightDates::of(&timing(*status, next_due, "2026-02-01"));
                if let (Some(yellow), Some(red)) = (dates.yellow_from, dates.red_from) {
                    assert!(yellow <= red, "{status:?} {next_due:?}");
                }
                assert!(dates.red_from.is_none() || dates.yellow_from.is_some());
            }
        }
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
