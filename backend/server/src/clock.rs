//! The county's calendar day. Due dates are dates in China Standard Time
//! (UTC+8, no daylight saving), whatever the server's time zone.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

pub fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Today's date in China.
pub fn today() -> NaiveDate {
    today_at(Utc::now())
}

pub fn today_at(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&china()).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_turns_at_midnight_in_beijing() {
        let late_utc: DateTime<Utc> = "2026-11-28T16:30:00Z".parse().unwrap();
        assert_eq!(today_at(late_utc), NaiveDate::from_ymd_opt(2026, 11, 29).unwrap());
        let early_utc: DateTime<Utc> = "2026-11-28T15:59:59Z".parse().unwrap();
        assert_eq!(today_at(early_utc), NaiveDate::from_ymd_opt(2026, 11, 28).unwrap());
    }
}
