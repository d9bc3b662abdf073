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

/// Reporting and evaluating measurements in the database.
pub mod records {
    use std::collections::BTreeMap;

    use chrono::Utc;
    use diesel::prelude::*;
    use duban_dto::api::{Measurement, NewMeasurement, ReferenceValue, TargetEvaluation, UnitRef};
    use duban_dto::{Comparator, Outcome, TargetUnit, TaskList};
    use serde_json::json;

    use super::{MeasureError, Reported, evaluate, measured_value};
    use crate::audit::{self, Event};
    use crate::authz::{Caller, ReadProgress, SetReference};
    use crate::calendar::Calendar;
    use crate::db::schema::{assignments, measurements, reference_values, task_targets, tasks, units};
    use crate::evidence;
    use crate::http::ApiError;
    use crate::negative::{body_period, query_period};
    use crate::workflow;

    struct TargetRow {
        position: i16,
        metric: String,
        comparator: Comparator,
        value: Option<f64>,
        reference: Option<String>,
        unit: TargetUnit,
    }

    fn targets(conn: &mut PgConnection, task_id: i64) -> QueryResult<Vec<TargetRow>> {
        let rows: Vec<crate::db::models::Target> = task_targets::table
            .filter(task_targets::task_id.eq(task_id))
            .order(task_targets::position)
            .select(crate::db::models::Target::as_select())
            .load(conn)?;
        Ok(rows
            .iter()
            .map(|row| {
                let seed = crate::export::target_seed(row);
                TargetRow {
                    position: row.position,
                    metric: seed.metric,
                    comparator: seed.comparator,
                    value: seed.value,
                    reference: seed.reference,
                    unit: seed.unit,
                }
            })
            .collect())
    }

    fn threshold(conn: &mut PgConnection, task_id: i64, target: &TargetRow, period: &str) -> QueryResult<Option<f64>> {
        if target.value.is_some() {
            return Ok(target.value);
        }
        reference_values::table.find((task_id, target.position, period)).select(reference_values::value).first(conn).optional()
    }

    /// A unit reports a measured value of one of its task's targets for a
    /// period; a value already reported for it is replaced.
    pub fn report(conn: &mut PgConnection, caller: &Caller, assignment_id: i64, new: &NewMeasurement) -> Result<Measurement, ApiError> {
        body_period(&new.period)?;
        conn.transaction(|conn| {
            let state = evidence::assignment_state(conn, assignment_id)?;
            caller.work_on(state.facts.unit_id)?;
            if !workflow::evidence_editable(state.status) {
                return Err(ApiError::conflict(
                    "evidence_frozen",
                    format!("the assignment is {}: its figures cannot change now", state.status),
                ));
            }
            let list: String = tasks::table.find(state.task_id).select(tasks::list).first(conn)?;
            if list != TaskList::Quantified.as_str() {
                return Err(ApiError::unprocessable("not_quantified", "measured values belong to quantified tasks"));
            }
            let target = targets(conn, state.task_id)?
                .into_iter()
                .find(|target| target.position == new.target_position)
                .ok_or_else(|| ApiError::unprocessable("unknown_target", format!("the task has no target {}", new.target_position)))?;
            let reported = match (new.value, new.numerator.zip(new.denominator), new.start_date.zip(new.end_date)) {
                (Some(value), None, None) => Reported::Value(value),
                (None, Some((numerator, denominator)), None) => Reported::Ratio { numerator, denominator },
                (None, None, Some((start, end))) => Reported::Span { start, end },
                _ => {
                    return Err(ApiError::unprocessable(
                        "one_way_of_measuring",
                        "give value, or numerator and denominator, or start_date and end_date — exactly one of them",
                    ));
                }
            };
            let calendar = Calendar::load(conn)?;
            let value = measured_value(target.unit, reported, &calendar).map_err(|error| match error {
                MeasureError::Unsuitable(detail) | MeasureError::Invalid(detail) => ApiError::unprocessable("invalid_measurement", detail),
            })?;
            let note = new.note.as_deref().map(str::trim).filter(|note| !note.is_empty());
            let values = (
                measurements::value.eq(value),
                measurements::numerator.eq(new.numerator),
                measurements::denominator.eq(new.denominator),
                measurements::start_date.eq(new.start_date),
                measurements::end_date.eq(new.end_date),
                measurements::note.eq(note),
                measurements::reported_by.eq(caller.user().map(|user| user.id)),
                measurements::reported_at.eq(Utc::now()),
            );
            let id: i64 = diesel::insert_into(measurements::table)
                .values((
                    measurements::assignment_id.eq(assignment_id),
                    measurements::target_position.eq(new.target_position),
                    measurements::period.eq(&new.period),
                    values.clone(),
                ))
                .on_conflict((measurements::assignment_id, measurements::target_position, measurements::period))
                .do_update()
                .set(values)
                .returning(measurements::id)
                .get_result(conn)?;
            let event = Event::new("measurement.report")
                .entity("assignment", assignment_id)
                .after(json!({"target": new.target_position, "period": new.period, "value": value, "note": note}));
            audit::record(conn, &caller.audit_actor(), event)?;
            let outcome = evaluate(target.comparator, threshold(conn, state.task_id, &target, &new.period)?, value);
            Ok(load(conn, &[id], |_| outcome)?.remove(0))
        })
    }

    fn load(conn: &mut PgConnection, ids: &[i64], outcome: impl Fn(&Measurement) -> Outcome) -> QueryResult<Vec<Measurement>> {
        type Row = (
            i64,
            i64,
            i64,
            String,
            i16,
            String,
            f64,
            Option<f64>,
            Option<f64>,
            Option<chrono::NaiveDate>,
            Option<chrono::NaiveDate>,
            Option<String>,
            chrono::DateTime<Utc>,
        );
        let rows: Vec<Row> = measurements::table
            .inner_join(assignments::table.inner_join(units::table))
            .filter(measurements::id.eq_any(ids))
            .order((measurements::target_position, units::id))
            .select((
                measurements::id,
                measurements::assignment_id,
                units::id,
                units::name,
                measurements::target_position,
                measurements::period,
                measurements::value,
                measurements::numerator,
                measurements::denominator,
                measurements::start_date,
                measurements::end_date,
                measurements::note,
                measurements::reported_at,
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    assignment_id,
                    unit_id,
                    unit_name,
                    target_position,
                    period,
                    value,
                    numerator,
                    denominator,
                    start_date,
                    end_date,
                    note,
                    reported_at,
                )| {
                    let mut measurement = Measurement {
                        id,
                        assignment_id,
                        unit: UnitRef { id: unit_id, name: unit_name },
                        target_position,
                        period,
                        value,
                        numerator,
                        denominator,
                        start_date,
                        end_date,
                        note,
                        outcome: Outcome::Unknown,
                        reported_at,
                    };
                    measurement.outcome = outcome(&measurement);
                    measurement
                },
            )
            .collect())
    }

    /// Every target of a task with each unit's measurement for the period.
    pub fn evaluation(conn: &mut PgConnection, _can: &ReadProgress, task_id: i64, period: &str) -> Result<Vec<TargetEvaluation>, ApiError> {
        query_period(period)?;
        let exists: bool = diesel::select(diesel::dsl::exists(tasks::table.find(task_id))).get_result(conn)?;
        if !exists {
            return Err(ApiError::not_found(format!("there is no task {task_id}")));
        }
        let ids: Vec<i64> = measurements::table
            .inner_join(assignments::table)
            .filter(assignments::task_id.eq(task_id))
            .filter(measurements::period.eq(period))
            .select(measurements::id)
            .load(conn)?;
        let targets = targets(conn, task_id)?;
        let mut thresholds = BTreeMap::new();
        for target in &targets {
            thresholds.insert(target.position, (target.comparator, threshold(conn, task_id, target, period)?));
        }
        let all = load(conn, &ids, |m| {
            let (comparator, threshold) = thresholds[&m.target_position];
            evaluate(comparator, threshold, m.value)
        })?;
        Ok(targets
            .into_iter()
            .map(|target| {
                let measurements: Vec<Measurement> = all.iter().filter(|m| m.target_position == target.position).cloned().collect();
                let outcome = if measurements.is_empty() || measurements.iter().any(|m| m.outcome == Outcome::Unknown) {
                    Outcome::Unknown
                } else if measurements.iter().all(|m| m.outcome == Outcome::Met) {
                    Outcome::Met
                } else {
                    Outcome::NotMet
                };
                TargetEvaluation {
                    position: target.position,
                    metric: target.metric,
                    comparator: target.comparator,
                    threshold: thresholds[&target.position].1,
                    reference: target.reference,
                    unit: target.unit,
                    measurements,
                    outcome,
                }
            })
            .collect())
    }

    /// The lead office enters the figure a relative target compares with.
    pub fn set_reference(
        conn: &mut PgConnection,
        _can: &SetReference,
        caller: &Caller,
        task_id: i64,
        position: i16,
        value: &ReferenceValue,
    ) -> Result<(), ApiError> {
        body_period(&value.period)?;
        if !value.value.is_finite() || value.value < 0.0 {
            return Err(ApiError::unprocessable("invalid_value", "a reference figure is a finite number, not negative"));
        }
        conn.transaction(|conn| {
            let target = targets(conn, task_id)?
                .into_iter()
                .find(|target| target.position == position)
                .ok_or_else(|| ApiError::not_found(format!("task {task_id} has no target {position}")))?;
            if target.reference.is_none() {
                return Err(ApiError::conflict("fixed_target", "this target has a fixed value; only reference targets take a figure"));
            }
            let row = (
                reference_values::value.eq(value.value),
                reference_values::set_by.eq(caller.user().map(|user| user.id)),
                reference_values::set_at.eq(Utc::now()),
            );
            diesel::insert_into(reference_values::table)
                .values((
                    reference_values::task_id.eq(task_id),
                    reference_values::target_position.eq(position),
                    reference_values::period.eq(&value.period),
                    row.clone(),
                ))
                .on_conflict((reference_values::task_id, reference_values::target_position, reference_values::period))
                .do_update()
                .set(row)
                .execute(conn)?;
            let event = Event::new("target.reference")
                .entity("task", task_id)
                .after(json!({"target": position, "period": value.period, "value": value.value}));
            audit::record(conn, &caller.audit_actor(), event)?;
            Ok(())
        })
    }
}
