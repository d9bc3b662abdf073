//! The Chinese working-day calendar: weekends, statutory holidays and the
//! make-up working days (调休) that move work onto weekends around them.
//!
//! The published schedules come from the `chinese_holiday` crate (2004 to
//! late 2026). Overrides (which the server keeps in its `calendar_days`
//! table) come first, so an administrator can enter next year's schedule as
//! soon as the State Council publishes it; beyond both, Monday to Friday are
//! working days.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

#[derive(Debug, Clone, Default)]
pub struct Calendar {
    overrides: BTreeMap<NaiveDate, bool>,
}

/// Whether the published schedules cover `day`.
pub fn published_covers(day: NaiveDate) -> bool {
    let first = NaiveDate::from_ymd_opt(2004, 1, 1).expect("a date");
    let last = NaiveDate::from_ymd_opt(2026, 12, 25).expect("a date");
    (first..=last).contains(&day)
}

impl Calendar {
    pub fn with_overrides(overrides: impl IntoIterator<Item = (NaiveDate, bool)>) -> Calendar {
        Calendar { overrides: overrides.into_iter().collect() }
    }

    pub fn is_workday(&self, day: NaiveDate) -> bool {
        if let Some(&workday) = self.overrides.get(&day) {
            return workday;
        }
        if published_covers(day) {
            let ymd = chinese_holiday::Ymd::new(day.year() as u16, day.month() as u8, day.day() as u8);
            return chinese_holiday::chinese_holiday(ymd).is_workday();
        }
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The `n`th working day after `from` (`from` itself not counted).
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut day = from;
        let mut left = n;
        while left > 0 {
            day += Duration::days(1);
            if self.is_workday(day) {
                left -= 1;
            }
        }
        day
    }

    /// Working days after `start` up to and including `end`: how long
    /// something took that began on `start` and ended on `end`.
    pub fn working_days_between(&self, start: NaiveDate, end: NaiveDate) -> i64 {
        let mut count = 0;
        let mut day = start;
        while day < end {
            day += Duration::days(1);
            if self.is_workday(day) {
                count += 1;
            }
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn knows_the_2026_spring_festival_and_its_make_up_days() {
        let calendar = Calendar::default();
        // 2026: off 15–23 February; Saturday 14 and Saturday 28 February are working days.
        assert!(calendar.is_workday(day(2026, 2, 13)));
        assert!(calendar.is_workday(day(2026, 2, 14)), "a Saturday made a working day (调休)");
        for d in 15..=23 {
            assert!(!calendar.is_workday(day(2026, 2, d)), "2026-02-{d} is a holiday");
        }
        assert!(calendar.is_workday(day(2026, 2, 24)));
        assert!(calendar.is_workday(day(2026, 2, 28)), "a Saturday made a working day (调休)");
        assert!(!calendar.is_workday(day(2026, 3, 1)), "an ordinary Sunday");
    }

    #[test]
    fn counts_working_days_across_the_spring_festival() {
        let calendar = Calendar::default();
        // Five working days after Thursday 12 February 2026: Fri 13, Sat 14
        // (调休), then the holiday, then Tue 24, Wed 25, Thu 26.
        assert_eq!(calendar.add_working_days(day(2026, 2, 12), 5), day(2026, 2, 26));
        assert_eq!(calendar.working_days_between(day(2026, 2, 12), day(2026, 2, 26)), 5);
        // Without the holiday it would have been the following Thursday, 19 February.
        let plain = Calendar::with_overrides(
            (15..=23)
                .map(|d| (day(2026, 2, d), !matches!(day(2026, 2, d).weekday(), Weekday::Sat | Weekday::Sun)))
                .chain([(day(2026, 2, 14), false)]),
        );
        assert_eq!(plain.add_working_days(day(2026, 2, 12), 5), day(2026, 2, 19));
        assert_eq!(calendar.working_days_between(day(2026, 2, 26), day(2026, 2, 26)), 0);
    }

    #[test]
    fn overrides_enter_next_years_schedule() {
        // Beyond the crate's data, Monday to Friday work, unless overridden.
        let calendar = Calendar::with_overrides([(day(2027, 2, 8), false), (day(2027, 2, 6), true)]);
        assert!(!calendar.is_workday(day(2027, 2, 8)), "a Monday declared a holiday");
        assert!(calendar.is_workday(day(2027, 2, 6)), "a Saturday declared a working day");
        assert!(calendar.is_workday(day(2027, 2, 9)));
        assert!(!calendar.is_workday(day(2027, 2, 13)));
        // The crate's range ends on 25 December 2026; the days after are plain.
        assert!(!Calendar::default().is_workday(day(2026, 12, 26)));
        assert!(Calendar::default().is_workday(day(2026, 12, 28)));
    }
}
