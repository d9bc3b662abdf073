//! Lookups that several modules need, written once: a campaign's id by its
//! code, and what access to an assignment depends on.

use std::collections::BTreeMap;

use diesel::prelude::*;
use duban_dto::{AssignmentStatus, PartyRole};
use duban_rules::workflow::AssignmentFacts;

use super::schema::{assignments, campaigns, evidence, indicators, task_parties};
use crate::error::Error;

/// The id of the campaign `code`.
pub fn campaign_id(conn: &mut PgConnection, code: &str) -> Result<i64, Error> {
    campaign_id_within(conn, &crate::authz::Area::Everywhere, code)
}

/// The id of the campaign `code` when it lies in `area`: a campaign a
/// request names in its body is checked here, as the path's are by
/// `http::area`.
pub fn campaign_id_within(conn: &mut PgConnection, area: &crate::authz::Area, code: &str) -> Result<i64, Error> {
    campaigns::table
        .filter(campaigns::code.eq(code))
        .select((campaigns::id, campaigns::region_id))
        .first::<(i64, i64)>(conn)
        .optional()?
        .filter(|(_, region)| area.contains(*region))
        .map(|(id, _)| id)
        .ok_or_else(|| Error::not_found(format!("there is no campaign {code:?}")))
}

/// An assignment's status, task and round, and what access to it depends
/// on: its unit and its task's lead units.
#[derive(Debug, Clone)]
pub struct AssignmentState {
    pub id: i64,
    pub task_id: i64,
    pub status: AssignmentStatus,
    pub role: PartyRole,
    pub round: i32,
    pub facts: AssignmentFacts,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = assignments)]
struct StateRow {
    task_id: i64,
    unit_id: i64,
    status: AssignmentStatus,
    role: PartyRole,
    round: i32,
}

/// The state of assignment `id`; not found when there is none.
pub fn assignment_state(conn: &mut PgConnection, id: i64) -> Result<AssignmentState, Error> {
    let row: StateRow = assignments::table
        .find(id)
        .select(StateRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::not_found(format!("there is no assignment {id}")))?;
    let lead_unit_ids = lead_units(conn, &[row.task_id])?.remove(&row.task_id).unwrap_or_default();
    Ok(AssignmentState {
        id,
        task_id: row.task_id,
        status: row.status,
        role: row.role,
        round: row.round,
        facts: AssignmentFacts { unit_id: row.unit_id, lead_unit_ids },
    })
}

/// The state of the assignment that evidence `evidence_id` belongs to.
pub fn evidence_assignment(conn: &mut PgConnection, evidence_id: i64) -> Result<AssignmentState, Error> {
    let assignment: i64 = evidence::table
        .find(evidence_id)
        .select(evidence::assignment_id)
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::not_found(format!("there is no evidence {evidence_id}")))?;
    assignment_state(conn, assignment)
}

/// The lead units of each task, sorted: those with a lead assignment on
/// it and those named as its lead in the table. Every task asked about
/// has an entry.
pub fn lead_units(conn: &mut PgConnection, task_ids: &[i64]) -> QueryResult<BTreeMap<i64, Vec<i64>>> {
    // One round trip: the assigned and the named lead units together.
    let rows: Vec<(i64, Option<i64>)> = assignments::table
        .filter(assignments::task_id.eq_any(task_ids))
        .filter(assignments::role.eq(PartyRole::Lead))
        .select((assignments::task_id, assignments::unit_id.nullable()))
        .union(
            task_parties::table
                .filter(task_parties::task_id.eq_any(task_ids))
                .filter(task_parties::role.eq(PartyRole::Lead))
                .select((task_parties::task_id, task_parties::unit_id)),
        )
        .load(conn)?;
    let mut leads: BTreeMap<i64, Vec<i64>> = task_ids.iter().map(|id| (*id, Vec::new())).collect();
    for (task, unit) in rows {
        if let Some(unit) = unit {
            leads.entry(task).or_default().push(unit);
        }
    }
    for units in leads.values_mut() {
        units.sort_unstable();
        units.dedup();
    }
    Ok(leads)
}

/// An indicator with the indicators under it.
#[derive(Debug, Clone)]
pub struct IndicatorNode {
    pub id: i64,
    pub code: String,
    pub title: String,
    /// Level-2 indicators under a level-1 one; empty for level 2.
    pub children: Vec<IndicatorNode>,
}

/// A campaign's level-1 indicators, each with its level-2 indicators, in
/// the table's order.
pub fn indicator_tree(conn: &mut PgConnection, campaign_id: i64) -> QueryResult<Vec<IndicatorNode>> {
    let rows: Vec<(i64, i16, String, String, Option<i64>)> = indicators::table
        .filter(indicators::campaign_id.eq(campaign_id))
        .order((indicators::level, indicators::ordinal))
        .select((indicators::id, indicators::level, indicators::code, indicators::title, indicators::parent_id))
        .load(conn)?;
    Ok(rows
        .iter()
        .filter(|(_, level, ..)| *level == 1)
        .map(|(id, _, code, title, _)| IndicatorNode {
            id: *id,
            code: code.clone(),
            title: title.clone(),
            children: rows
                .iter()
                .filter(|row| row.4 == Some(*id))
                .map(|(child, _, code, title, _)| IndicatorNode {
                    id: *child,
                    code: code.clone(),
                    title: title.clone(),
                    children: Vec::new(),
                })
                .collect(),
        })
        .collect())
}
