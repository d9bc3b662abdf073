//! Assignments: which unit works on which task, by when, and how far along.
//! The lead office assigns (one unit at a time or a whole group at once) and
//! sets due dates; a unit reports its progress. Every change refreshes the
//! task's status (see [`crate::rollup`]) and writes an audit row in the same
//! transaction.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use duban_dto::api::{Assignment, AssignmentPatch, AssignmentsCreated, NewAssignments, Page, TaskRef, UnitRef};
use duban_dto::{AssignmentStatus, PartyRole};
use duban_rules::workflow;
use serde_json::{Value, json};

use crate::audit::{self, Event};
use crate::authz::{Assign, Caller, EditAssignment, ReadProgress};
use crate::db::lookups;
use crate::db::schema::{assignments, campaigns, tasks, units};
use crate::error::Error;
use crate::limits::Bounded;
use crate::pagination::Cursor;
use crate::{clock, rollup};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = assignments)]
struct Row {
    id: i64,
    task_id: i64,
    unit_id: i64,
    role: PartyRole,
    status: AssignmentStatus,
    due_date: Option<NaiveDate>,
    progress_note: Option<String>,
    version: i32,
    updated_at: DateTime<Utc>,
    urged: i32,
}

impl Row {
    fn snapshot(&self) -> Value {
        json!({
            "task_id": self.task_id,
            "unit_id": self.unit_id,
            "role": self.role,
            "status": self.status,
            "due_date": self.due_date,
            "progress_note": self.progress_note,
        })
    }
}

/// The filters of `GET /api/v1/assignments`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AssignmentFilter {
    pub campaign: Option<String>,
    pub task: Option<i64>,
    pub unit: Option<i64>,
    pub role: Option<PartyRole>,
    pub status: Option<AssignmentStatus>,
    pub overdue: Option<bool>,
    pub due_before: Option<NaiveDate>,
    /// Unapproved and due within this many working days from today
    /// (today counts when it is due today).
    pub due_within_working_days: Option<u32>,
}

impl AssignmentFilter {
    /// `due_until` is the last day of `due_within_working_days`, worked out
    /// with the calendar by the caller.
    fn query(
        &self,
        today: NaiveDate,
        due_until: Option<NaiveDate>,
        area: &crate::authz::Area,
    ) -> assignments::BoxedQuery<'static, diesel::pg::Pg> {
        let mut query = assignments::table.into_boxed();
        if let Some(regions) = area.region_ids() {
            query =
                query.filter(assignments::unit_id.eq_any(units::table.filter(units::region_id.eq_any(regions.to_vec())).select(units::id)));
        }
        if let Some(code) = &self.campaign {
            let campaign_tasks = tasks::table.inner_join(campaigns::table).filter(campaigns::code.eq(code.clone())).select(tasks::id);
            query = query.filter(assignments::task_id.eq_any(campaign_tasks));
        }
        if let Some(task) = self.task {
            query = query.filter(assignments::task_id.eq(task));
        }
        if let Some(unit) = self.unit {
            query = query.filter(assignments::unit_id.eq(unit));
        }
        if let Some(role) = self.role {
            query = query.filter(assignments::role.eq(role));
        }
        if let Some(status) = self.status {
            query = query.filter(assignments::status.eq(status));
        }
        let unapproved = assignments::status.ne(AssignmentStatus::Approved);
        match self.overdue {
            Some(true) => query = query.filter(unapproved).filter(assignments::due_date.lt(today)),
            Some(false) => {
                query = query.filter(
                    assignments::status
                        .eq(AssignmentStatus::Approved)
                        .or(assignments::due_date.is_null())
                        .or(assignments::due_date.ge(today)),
                )
            }
            None => {}
        }
        if let Some(date) = self.due_before {
            query = query.filter(assignments::due_date.lt(date));
        }
        if let Some(until) = due_until {
            query = query
                .filter(assignments::status.ne(AssignmentStatus::Approved))
                .filter(assignments::due_date.ge(today))
                .filter(assignments::due_date.le(until));
        }
        query
    }
}

pub fn assignments(
    conn: &mut PgConnection,
    can: &ReadProgress,
    filter: &AssignmentFilter,
    cursor: &Cursor,
) -> Result<Page<Assignment>, Error> {
    if filter.due_within_working_days.is_some_and(|days| days > 250) {
        return Err(Error::bad_parameter("invalid_query", "due_within_working_days must be between 0 and 250"));
    }
    let today = clock::today();
    let due_until = match filter.due_within_working_days {
        Some(days) => Some(crate::calendar::load(conn)?.add_working_days(today, days)),
        None => None,
    };
    let rows: Vec<Row> = filter
        .query(today, due_until, can.area())
        .order((assignments::due_date.asc().nulls_last(), assignments::id.asc()))
        .limit(cursor.limit)
        .offset(cursor.offset)
        .select(Row::as_select())
        .load(conn)?;
    let total = cursor.total(rows.len(), || filter.query(today, due_until, can.area()).count().get_result(conn))?;
    Ok(cursor.page(dtos(conn, &rows, today)?, total))
}

fn dtos(conn: &mut PgConnection, rows: &[Row], today: NaiveDate) -> Result<Vec<Assignment>, Error> {
    let mut task_ids: Vec<i64> = rows.iter().map(|row| row.task_id).collect();
    task_ids.sort_unstable();
    task_ids.dedup();
    let unit_ids: Vec<i64> = rows.iter().map(|row| row.unit_id).collect();
    let tasks: std::collections::BTreeMap<i64, TaskRef> = tasks::table
        .inner_join(campaigns::table)
        .filter(tasks::id.eq_any(&task_ids))
        .select((tasks::id, campaigns::code, tasks::code, tasks::text))
        .load::<(i64, String, String, String)>(conn)?
        .into_iter()
        .map(|(id, campaign, code, text)| (id, TaskRef { id, campaign, code, text }))
        .collect();
    let units: std::collections::BTreeMap<i64, String> = units::table
        .filter(units::id.eq_any(&unit_ids))
        .select((units::id, units::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let leads = lookups::lead_units(conn, &task_ids)?;
    Ok(rows
        .iter()
        .map(|row| Assignment {
            id: row.id,
            task: tasks[&row.task_id].clone(),
            unit: UnitRef { id: row.unit_id, name: units[&row.unit_id].clone() },
            role: row.role,
            status: row.status,
            lead_unit_ids: leads.get(&row.task_id).cloned().unwrap_or_default(),
            due_date: row.due_date,
            overdue: rollup::assignment_overdue(row.status, row.due_date, today),
            progress_note: row.progress_note.clone(),
            urged: row.urged,
            version: row.version,
            updated_at: row.updated_at,
        })
        .collect())
}

fn load(conn: &mut PgConnection, id: i64) -> Result<Row, Error> {
    assignments::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::not_found(format!("there is no assignment {id}")))
}

pub fn assignment(conn: &mut PgConnection, _can: &ReadProgress, id: i64) -> Result<Assignment, Error> {
    let row = load(conn, id)?;
    Ok(dtos(conn, &[row], clock::today())?.remove(0))
}

/// Assigns units to a task: the listed ones and a group's members. Units
/// that already have the assignment are reported, and given the due date
/// when theirs is empty.
pub fn create(
    conn: &mut PgConnection,
    _can: &Assign,
    caller: &Caller,
    task_id: i64,
    new: &NewAssignments,
) -> Result<AssignmentsCreated, Error> {
    if new.unit_ids.is_empty() && new.group_id.is_none() {
        return Err(Error::invalid("no_units", "name units in unit_ids, or a group in group_id"));
    }
    conn.transaction(|conn| {
        let region: Option<i64> =
            tasks::table.inner_join(campaigns::table).filter(tasks::id.eq(task_id)).select(campaigns::region_id).first(conn).optional()?;
        let region = region.ok_or_else(|| Error::not_found(format!("there is no task {task_id}")))?;
        let mut unit_ids = new.unit_ids.clone();
        if let Some(group) = new.group_id {
            let group_region: Option<i64> = crate::db::schema::unit_groups::table
                .find(group)
                .select(crate::db::schema::unit_groups::region_id)
                .first(conn)
                .optional()?;
            match group_region {
                None => return Err(Error::invalid("unknown_group", format!("there is no unit group {group}"))),
                Some(other) if other != region => {
                    return Err(Error::invalid("wrong_region", "the group belongs to another county than the task"));
                }
                Some(_) => unit_ids.extend(crate::db::groups::expand(conn, group)?.into_iter().map(|unit| unit.id)),
            }
        }
        unit_ids.sort_unstable();
        unit_ids.dedup();
        let known: Vec<i64> =
            units::table.filter(units::id.eq_any(&unit_ids)).filter(units::region_id.eq(region)).select(units::id).load(conn)?;
        if let Some(unknown) = unit_ids.iter().find(|id| !known.contains(id)) {
            return Err(Error::invalid("unknown_unit", format!("unit {unknown} does not exist in the task's county")));
        }
        let rows: Vec<_> = unit_ids
            .iter()
            .map(|unit| {
                (
                    assignments::task_id.eq(task_id),
                    assignments::unit_id.eq(*unit),
                    assignments::role.eq(new.role),
                    assignments::due_date.eq(new.due_date),
                    assignments::updated_by.eq(caller.user_id()),
                )
            })
            .collect();
        let created: Vec<Row> = diesel::insert_into(assignments::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .returning(Row::as_returning())
            .get_results(conn)?;
        let created_ids: Vec<i64> = created.iter().map(|row| row.id).collect();
        // Assigning again with a due date gives it to the units that had
        // none; a date already set is the office's earlier decision and stays.
        if let Some(due) = new.due_date {
            let undated: Vec<Row> = assignments::table
                .filter(assignments::task_id.eq(task_id))
                .filter(assignments::role.eq(new.role))
                .filter(assignments::unit_id.eq_any(&unit_ids))
                .filter(assignments::id.ne_all(&created_ids))
                .filter(assignments::due_date.is_null())
                .for_update()
                .select(Row::as_select())
                .load(conn)?;
            for row in undated {
                let dated: Row = diesel::update(assignments::table.find(row.id))
                    .set((
                        assignments::due_date.eq(due),
                        assignments::version.eq(row.version + 1),
                        assignments::updated_at.eq(Utc::now()),
                        assignments::updated_by.eq(caller.user_id()),
                    ))
                    .returning(Row::as_returning())
                    .get_result(conn)?;
                let event = Event::new("assignment.update").entity("assignment", row.id).changed(&row.snapshot(), &dated.snapshot());
                audit::record(conn, &caller.audit_actor(), event)?;
            }
        }
        let existing: Vec<Row> = assignments::table
            .filter(assignments::task_id.eq(task_id))
            .filter(assignments::role.eq(new.role))
            .filter(assignments::unit_id.eq_any(&unit_ids))
            .filter(assignments::id.ne_all(&created_ids))
            .order(assignments::id)
            .select(Row::as_select())
            .load(conn)?;
        rollup::refresh(conn, &[task_id])?;
        let code: String = tasks::table.find(task_id).select(tasks::code).first(conn)?;
        for row in &created {
            audit::record(conn, &caller.audit_actor(), Event::new("assignment.create").entity("assignment", row.id).after(row.snapshot()))?;
            let due = row.due_date.map(|due| format!("，截止 {due}")).unwrap_or_default();
            let message = format!("您单位有新的任务：{code}{due}。");
            crate::notifications::send_to_unit(conn, row.unit_id, duban_dto::NotificationKind::Assigned, row.id, &message)?;
        }
        let today = clock::today();
        Ok(AssignmentsCreated { created: dtos(conn, &created, today)?, existing: dtos(conn, &existing, today)? })
    })
}

/// Applies a change, if `expected_version` is still current: the lead
/// office sets the due date, the unit reports its progress and starts or
/// un-starts its work (a step of the workflow).
pub fn update(
    conn: &mut PgConnection,
    editor: &EditAssignment,
    caller: &Caller,
    expected_version: Option<i32>,
    patch: &AssignmentPatch,
) -> Result<Assignment, Error> {
    patch.check_lengths()?;
    let id = editor.assignment_id();
    conn.transaction(|conn| {
        let row: Row = assignments::table
            .find(id)
            .for_update()
            .select(Row::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| Error::not_found(format!("there is no assignment {id}")))?;
        if expected_version.is_some_and(|expected| expected != row.version) {
            return Err(Error::Stale(format!(
                "the assignment changed since you read it (now version {}); read it again and reapply your change",
                row.version
            )));
        }
        let mut status = row.status;
        let mut due_date = row.due_date;
        let mut progress_note = row.progress_note.clone();
        match editor {
            EditAssignment::LeadOffice { .. } => {
                if patch.status.is_some() || patch.progress_note.is_some() {
                    return Err(Error::forbidden("progress and status are reported by the unit itself"));
                }
                if let Some(date) = patch.due_date {
                    due_date = date;
                }
            }
            EditAssignment::Unit(work_on) => {
                work_on.check(row.id)?;
                if patch.due_date.is_some() {
                    return Err(Error::forbidden("due dates are set by the lead office"));
                }
                if let Some(note) = &patch.progress_note {
                    progress_note = note.as_deref().map(str::trim).filter(|note| !note.is_empty()).map(str::to_owned);
                }
                if let Some(wanted) = patch.status
                    && let Some(step) = workflow::step_toward(status, wanted)?
                {
                    status = workflow::next(status, step, workflow::Standing::OwnUnit, row.role)?;
                }
            }
        }
        let updated: Row = diesel::update(assignments::table.find(id))
            .set((
                assignments::status.eq(status),
                assignments::due_date.eq(due_date),
                assignments::progress_note.eq(&progress_note),
                assignments::version.eq(row.version + 1),
                assignments::updated_at.eq(Utc::now()),
                assignments::updated_by.eq(caller.user_id()),
            ))
            .returning(Row::as_returning())
            .get_result(conn)?;
        rollup::refresh(conn, &[row.task_id])?;
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("assignment.update").entity("assignment", id).changed(&row.snapshot(), &updated.snapshot()),
        )?;
        Ok(dtos(conn, &[updated], clock::today())?.remove(0))
    })
}

/// Removes an assignment on which no work has started: not started, and
/// no progress reported.
pub fn delete(conn: &mut PgConnection, _can: &Assign, caller: &Caller, id: i64) -> Result<(), Error> {
    conn.transaction(|conn| {
        let row = load(conn, id)?;
        if row.status != AssignmentStatus::NotStarted || row.progress_note.is_some() {
            return Err(Error::conflict(
                "work_started",
                format!(
                    "the unit has started ({}, progress reported: {}); an assignment with work on it is kept",
                    row.status,
                    row.progress_note.is_some()
                ),
            ));
        }
        diesel::delete(assignments::table.find(id)).execute(conn)?;
        rollup::refresh(conn, &[row.task_id])?;
        audit::record(conn, &caller.audit_actor(), Event::new("assignment.delete").entity("assignment", id).before(row.snapshot()))?;
        Ok(())
    })
}
