//! Quantified tasks in the database: a unit reports a measured value for a
//! period, the lead office enters reference figures, and each target is
//! evaluated by the rulebook (`duban_rules::quantified`).

use std::collections::BTreeMap;

use chrono::Utc;
use diesel::prelude::*;
use duban_dto::api::{Measurement, NewMeasurement, ReferenceValue, TargetEvaluation, UnitRef};
use duban_dto::{Comparator, Outcome, TargetUnit, TaskList};
use serde_json::json;

use duban_rules::quantified::{MeasureError, Reported, combine, evaluate, measured_value};

use crate::audit::{self, Event};
use crate::authz::{Caller, ReadProgress, SetReference, WorkOn};
use crate::db::lookups;
use crate::db::schema::{assignments, measurements, reference_values, task_targets, tasks, units};
use crate::error::Error;
use crate::limits::Bounded;
use crate::negative::{body_period, query_period};

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
            let seed = row.seed();
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
pub fn report(conn: &mut PgConnection, can: &WorkOn, caller: &Caller, new: &NewMeasurement) -> Result<Measurement, Error> {
    new.check_lengths()?;
    body_period(&new.period)?;
    let assignment_id = can.assignment_id();
    conn.transaction(|conn| {
        let state = lookups::assignment_state(conn, assignment_id)?;
        crate::evidence::ensure_editable(state.status)?;
        let list: TaskList = tasks::table.find(state.task_id).select(tasks::list).first(conn)?;
        if list != TaskList::Quantified {
            return Err(Error::invalid("not_quantified", "measured values belong to quantified tasks"));
        }
        let target = targets(conn, state.task_id)?
            .into_iter()
            .find(|target| target.position == new.target_position)
            .ok_or_else(|| Error::invalid("unknown_target", format!("the task has no target {}", new.target_position)))?;
        let reported = match (new.value, new.numerator.zip(new.denominator), new.start_date.zip(new.end_date)) {
            (Some(value), None, None) => Reported::Value(value),
            (None, Some((numerator, denominator)), None) => Reported::Ratio { numerator, denominator },
            (None, None, Some((start, end))) => Reported::Span { start, end },
            _ => {
                return Err(Error::invalid(
                    "one_way_of_measuring",
                    "give value, or numerator and denominator, or start_date and end_date — exactly one of them",
                ));
            }
        };
        let calendar = crate::calendar::load(conn)?;
        let value = measured_value(target.unit, reported, &calendar).map_err(|error| match error {
            MeasureError::Unsuitable(detail) | MeasureError::Invalid(detail) => Error::invalid("invalid_measurement", detail),
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

/// A measurement with its unit, as the API shows it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = measurements, check_for_backend(diesel::pg::Pg))]
struct MeasurementRow {
    id: i64,
    assignment_id: i64,
    #[diesel(select_expression = units::id)]
    unit_id: i64,
    #[diesel(select_expression = units::name)]
    unit_name: String,
    target_position: i16,
    period: String,
    value: f64,
    numerator: Option<f64>,
    denominator: Option<f64>,
    start_date: Option<chrono::NaiveDate>,
    end_date: Option<chrono::NaiveDate>,
    note: Option<String>,
    reported_at: chrono::DateTime<Utc>,
}

fn load(conn: &mut PgConnection, ids: &[i64], outcome: impl Fn(&Measurement) -> Outcome) -> QueryResult<Vec<Measurement>> {
    let rows: Vec<MeasurementRow> = measurements::table
        .inner_join(assignments::table.inner_join(units::table))
        .filter(measurements::id.eq_any(ids))
        .order((measurements::target_position, units::id))
        .select(MeasurementRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut measurement = Measurement {
                id: row.id,
                assignment_id: row.assignment_id,
                unit: UnitRef { id: row.unit_id, name: row.unit_name },
                target_position: row.target_position,
                period: row.period,
                value: row.value,
                numerator: row.numerator,
                denominator: row.denominator,
                start_date: row.start_date,
                end_date: row.end_date,
                note: row.note,
                outcome: Outcome::Unknown,
                reported_at: row.reported_at,
            };
            measurement.outcome = outcome(&measurement);
            measurement
        })
        .collect())
}

/// Every target of a task with each unit's measurement for the period.
pub fn evaluation(conn: &mut PgConnection, _can: &ReadProgress, task_id: i64, period: &str) -> Result<Vec<TargetEvaluation>, Error> {
    query_period(period)?;
    let exists: bool = diesel::select(diesel::dsl::exists(tasks::table.find(task_id))).get_result(conn)?;
    if !exists {
        return Err(Error::not_found(format!("there is no task {task_id}")));
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
            let outcome = combine(measurements.iter().map(|m| m.outcome));
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
) -> Result<(), Error> {
    value.check_lengths()?;
    body_period(&value.period)?;
    if !value.value.is_finite() || value.value < 0.0 {
        return Err(Error::invalid("invalid_value", "a reference figure is a finite number, not negative"));
    }
    conn.transaction(|conn| {
        let target = targets(conn, task_id)?
            .into_iter()
            .find(|target| target.position == position)
            .ok_or_else(|| Error::not_found(format!("task {task_id} has no target {position}")))?;
        if target.reference.is_none() {
            return Err(Error::conflict("fixed_target", "this target has a fixed value; only reference targets take a figure"));
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
