//! Quantified tasks: a unit reports a measured value for a period, and
//! duban says whether it meets the task's target.
//!
//! A value is given directly, as a numerator and denominator (a rate, in
//! percent), or as start and end dates (a duration, counted in working
//! days for 工作日 and in calendar days for 日).

use chrono::NaiveDate;
use duban_dto::{Comparator, Outcome, TargetUnit};

use crate::calendar::Calendar;

/// How a measurement was reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reported {
    Value(f64),
    Ratio { numerator: f64, denominator: f64 },
    Span { start: NaiveDate, end: NaiveDate },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeasureError {
    /// The way of reporting does not fit the target's unit.
    Unsuitable(String),
    Invalid(String),
}

/// The value in the target's unit.
pub fn measured_value(unit: TargetUnit, reported: Reported, calendar: &Calendar) -> Result<f64, MeasureError> {
    match (reported, unit) {
        (Reported::Value(value), _) if !value.is_finite() || value < 0.0 => {
            Err(MeasureError::Invalid("a measured value is a finite number, not negative".to_owned()))
        }
        (Reported::Value(value), _) => Ok(value),
        (Reported::Ratio { numerator, denominator }, TargetUnit::Percent) => {
            if !(numerator.is_finite() && denominator.is_finite()) || numerator < 0.0 || denominator <= 0.0 {
                return Err(MeasureError::Invalid("a rate needs a numerator ≥ 0 and a denominator > 0".to_owned()));
            }
            if numerator > denominator {
                return Err(MeasureError::Invalid("the numerator of a rate cannot exceed its denominator".to_owned()));
            }
            Ok(numerator / denominator * 100.0)
        }
        (Reported::Span { start, end }, TargetUnit::WorkingDays | TargetUnit::Days) => {
            if end < start {
                return Err(MeasureError::Invalid("the end date is before the start date".to_owned()));
            }
            Ok(match unit {
                TargetUnit::WorkingDays => calendar.working_days_between(start, end) as f64,
                _ => (end - start).num_days() as f64,
            })
        }
        (Reported::Ratio { .. }, unit) => {
            Err(MeasureError::Unsuitable(format!("a numerator and denominator measure a rate (%), not {unit}")))
        }
        (Reported::Span { .. }, unit) => Err(MeasureError::Unsuitable(format!("start and end dates measure 工作日 or 日, not {unit}"))),
    }
}

/// Compares with a tolerance fit for figures typed by people.
const EPSILON: f64 = 1e-9;

/// Whether one measured value meets a target; unknown while a reference
/// target's figure is missing.
pub fn evaluate(comparator: Comparator, threshold: Option<f64>, measured: f64) -> Outcome {
    let Some(threshold) = threshold else { return Outcome::Unknown };
    let met = match comparator {
        Comparator::AtLeast => measured >= threshold - EPSILON,
        Comparator::AtMost => measured <= threshold + EPSILON,
        Comparator::Equal => (measured - threshold).abs() <= EPSILON,
        Comparator::MoreThan => measured > threshold + EPSILON,
        Comparator::LessThan => measured < threshold - EPSILON,
    };
    if met { Outcome::Met } else { Outcome::NotMet }
}

/// A target's outcome from every unit's measured value: unknown without
/// values or with an unknown one, met when every value meets it.
pub fn combine(outcomes: impl IntoIterator<Item = Outcome>) -> Outcome {
    let mut any = false;
    let mut all_met = true;
    for outcome in outcomes {
        any = true;
        match outcome {
            Outcome::Unknown => return Outcome::Unknown,
            Outcome::NotMet => all_met = false,
            Outcome::Met => {}
        }
    }
    match (any, all_met) {
        (false, _) => Outcome::Unknown,
        (true, true) => Outcome::Met,
        (true, false) => Outcome::NotMet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[test]
    fn every_comparator() {
        use Comparator::*;
        use Outcome::*;
        let cases = [
            (AtLeast, 90.0, 90.0, Met),
            (AtLeast, 90.0, 89.99, NotMet),
            (AtMost, 5.0, 5.0, Met),
            (AtMost, 5.0, 6.0, NotMet),
            (Equal, 100.0, 100.0, Met),
            (Equal, 100.0, 99.0, NotMet),
            (MoreThan, 2.0, 3.0, Met),
            (MoreThan, 2.0, 2.0, NotMet),
            (LessThan, 24.0, 23.0, Met),
            (LessThan, 24.0, 24.0, NotMet),
        ];
        for (comparator, threshold, measured, outcome) in cases {
            assert_eq!(evaluate(comparator, Some(threshold), measured), outcome, "{measured} {comparator} {threshold}");
        }
        assert_eq!(evaluate(AtMost, None, 3.0), Unknown, "a reference target without its figure");
        // 1/3 of a rate, typed as 33.333333333 by a person, still equals.
        assert_eq!(evaluate(AtLeast, Some(100.0), 3.0 / 3.0 * 100.0), Met);
    }

    #[test]
    fn a_target_is_met_when_every_value_meets_it() {
        use Outcome::*;
        assert_eq!(combine([]), Unknown);
        assert_eq!(combine([Met, Met]), Met);
        assert_eq!(combine([Met, NotMet]), NotMet);
        assert_eq!(combine([NotMet, Unknown]), Unknown);
    }

    #[test]
    fn every_unit_of_the_seed_targets() {
        let calendar = Calendar::default();
        let rate = measured_value(TargetUnit::Percent, Reported::Ratio { numerator: 45.0, denominator: 50.0 }, &calendar).unwrap();
        assert!((rate - 90.0).abs() < 1e-9);
        // 工作日 across the 2026 Spring Festival: 12 Feb to 26 Feb is 5 working days.
        let working = measured_value(TargetUnit::WorkingDays, Reported::Span { start: day(2, 12), end: day(2, 26) }, &calendar).unwrap();
        assert_eq!(working, 5.0);
        assert_eq!(evaluate(Comparator::AtMost, Some(5.0), working), Outcome::Met);
        let days = measured_value(TargetUnit::Days, Reported::Span { start: day(2, 12), end: day(2, 26) }, &calendar).unwrap();
        assert_eq!(days, 14.0);
        for unit in [
            TargetUnit::Hours,
            TargetUnit::StudyHours,
            TargetUnit::Times,
            TargetUnit::Sessions,
            TargetUnit::People,
            TargetUnit::Persons,
            TargetUnit::Items,
        ] {
            assert_eq!(measured_value(unit, Reported::Value(3.0), &calendar), Ok(3.0), "{unit}");
            assert!(matches!(
                measured_value(unit, Reported::Ratio { numerator: 1.0, denominator: 2.0 }, &calendar),
                Err(MeasureError::Unsuitable(_))
            ));
        }
        assert!(matches!(
            measured_value(TargetUnit::Percent, Reported::Ratio { numerator: 3.0, denominator: 2.0 }, &calendar),
            Err(MeasureError::Invalid(_))
        ));
        assert!(matches!(
            measured_value(TargetUnit::Days, Reported::Span { start: day(3, 2), end: day(3, 1) }, &calendar),
            Err(MeasureError::Invalid(_))
        ));
        assert!(matches!(measured_value(TargetUnit::Hours, Reported::Value(-1.0), &calendar), Err(MeasureError::Invalid(_))));
    }
}
