//! Reporting periods: a year (`2026`) or a month (`2026-06`), as the
//! negative list's attestations and the quantified measurements use them.

/// Says what is wrong with `period`, if anything.
pub fn check(period: &str) -> Result<(), String> {
    let digits = |text: &str, len: usize| text.len() == len && text.bytes().all(|b| b.is_ascii_digit());
    let valid = match period.split_once('-') {
        None => digits(period, 4),
        Some((year, month)) => digits(year, 4) && digits(month, 2) && matches!(month.parse::<u8>(), Ok(1..=12)),
    };
    if valid { Ok(()) } else { Err(format!("{period:?} is not a period: write 2026 or 2026-06")) }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn years_and_months_only() {
        assert!(check("2026").is_ok() && check("2026-06").is_ok() && check("2026-12").is_ok());
        for bad in ["26", "2026-6", "2026-13", "2026-00", "2026-06-01", "二〇二六", ""] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
    }
}
