//! Submissions and decisions: the workflow of `duban_rules::workflow` applied to
//! the database, with the evidence each step covered, notifications to
//! whoever must act next, and an audit row — all in one transaction.

use chrono::Utc;
use diesel::prelude::*;
use duban_dto::api::{Assignment, CoveredEvidence, Decision, Page, UnitRef};
use duban_dto::{AssignmentStatus, NotificationKind, PartyRole, Role};
use duban_rules::workflow::{self, Step};
use serde_json::json;

use crate::audit::{self, Event};
use crate::authz::{Caller, ReadEvidence, ReadProgress, TakeStep};
use crate::db::lookups::{self, AssignmentState};
use crate::db::schema::{assignments, decision_evidence, decisions, evidence_versions, measurements, tasks, units, users};
use crate::error::Error;
use crate::pagination::Cursor;
use crate::{evidence, notifications, rollup, work};

/// Takes a step of the workflow on the capability's assignment: the unit
/// submits, a lead unit or the lead office decides. The rulebook decides
/// whether the caller's standing allows the step from the current status.
pub fn take(conn: &mut PgConnection, can: &TakeStep, caller: &Caller, step: Step, reason: Option<&str>) -> Result<Assignment, Error> {
    crate::limits::at_most("reason", reason.unwrap_or_default(), duban_dto::limits::NOTE)?;
    let assignment_id = can.assignment_id();
    conn.transaction(|conn| {
        let version: i32 = assignments::table
            .find(assignment_id)
            .for_update()
            .select(assignments::version)
            .first(conn)
            .optional()?
            .ok_or_else(|| Error::not_found(format!("there is no assignment {assignment_id}")))?;
        let state = lookups::assignment_state(conn, assignment_id)?;
        let to = workflow::next(state.status, step, can.standing(), state.role)?;
        if step.is_review() && crate::policy::current(conn)?.separation_of_duties {
            let by = workflow::Taker { user_id: can.user_id(), unit_id: can.unit_id() };
            workflow::separated(step, &by, &round_takers(conn, assignment_id, state.round)?)?;
        }
        let reason = reason.map(str::trim).filter(|reason| !reason.is_empty());
        if step == Step::Return && reason.is_none() {
            return Err(Error::invalid("reason_required", "a return needs a reason: say what must change"));
        }
        let covered = evidence::current_versions(conn, assignment_id)?;
        if step == Step::Submit {
            let measured: i64 = measurements::table.filter(measurements::assignment_id.eq(assignment_id)).count().get_result(conn)?;
            if covered.is_empty() && measured == 0 {
                return Err(Error::invalid("nothing_to_submit", "upload evidence (or report a measured value) before submitting"));
            }
        }
        let round = if step == Step::Submit { state.round + 1 } else { state.round };
        let decision_id: i64 = diesel::insert_into(decisions::table)
            .values((
                decisions::assignment_id.eq(assignment_id),
                decisions::round.eq(round),
                decisions::action.eq(step.as_str()),
                decisions::from_status.eq(state.status),
                decisions::to_status.eq(to),
                decisions::actor_id.eq(can.user_id()),
                decisions::actor_unit_id.eq(can.unit_id()),
                decisions::reason.eq(reason),
            ))
            .returning(decisions::id)
            .get_result(conn)?;
        let rows: Vec<_> = covered
            .iter()
            .map(|(version_id, sha)| {
                (
                    decision_evidence::decision_id.eq(decision_id),
                    decision_evidence::evidence_version_id.eq(version_id),
                    decision_evidence::sha256.eq(sha),
                )
            })
            .collect();
        diesel::insert_into(decision_evidence::table).values(&rows).execute(conn)?;
        diesel::update(assignments::table.find(assignment_id))
            .set((
                assignments::status.eq(to),
                assignments::round.eq(round),
                assignments::version.eq(version + 1),
                assignments::updated_at.eq(Utc::now()),
                assignments::updated_by.eq(can.user_id()),
            ))
            .execute(conn)?;
        rollup::refresh(conn, &[state.task_id])?;
        notify(conn, &state, step, reason)?;
        let sealed: Vec<_> = covered.iter().map(|(id, sha)| json!({"version_id": id, "sha256": hex::encode(sha)})).collect();
        let event = Event::new(match step {
            Step::Start => "assignment.start",
            Step::Unstart => "assignment.unstart",
            Step::Submit => "assignment.submit",
            Step::Accept => "assignment.accept",
            Step::Return => "assignment.return",
            Step::Approve => "assignment.approve",
        })
        .entity("assignment", assignment_id)
        .before(json!({"status": state.status}))
        .after(json!({"status": to, "round": round, "reason": reason, "evidence": sealed}));
        audit::record(conn, &caller.audit_actor(), event)?;
        work::assignment(conn, &caller.read_progress()?, assignment_id)
    })
}

/// Who submitted and who accepted in round `round` of an assignment.
fn round_takers(conn: &mut PgConnection, assignment_id: i64, round: i32) -> QueryResult<workflow::Round> {
    let steps: Vec<(String, Option<i64>, Option<i64>)> = decisions::table
        .filter(decisions::assignment_id.eq(assignment_id))
        .filter(decisions::round.eq(round))
        .filter(decisions::action.eq_any([Step::Submit.as_str(), Step::Accept.as_str()]))
        .order(decisions::id)
        .select((decisions::action, decisions::actor_id, decisions::actor_unit_id))
        .load(conn)?;
    let mut takers = workflow::Round::default();
    for (action, user_id, unit_id) in steps {
        let taker = user_id.map(|user_id| workflow::Taker { user_id, unit_id });
        if action == Step::Submit.as_str() {
            takers.submitted_by = taker;
        } else {
            takers.accepted_by = taker;
        }
    }
    Ok(takers)
}

fn notify(conn: &mut PgConnection, state: &AssignmentState, step: Step, reason: Option<&str>) -> QueryResult<()> {
    let (code, unit): (String, String) = assignments::table
        .inner_join(tasks::table)
        .inner_join(units::table)
        .filter(assignments::id.eq(state.id))
        .select((tasks::code, units::name))
        .first(conn)?;
    match step {
        Step::Submit => {
            let message = format!("{unit} 报送了任务 {code} 的材料，待审核。");
            let reviewers: Vec<i64> = if state.role == PartyRole::Responsible {
                state.facts.lead_unit_ids.iter().copied().filter(|lead| *lead != state.facts.unit_id).collect()
            } else {
                Vec::new()
            };
            notifications::send_to_units(conn, &reviewers, NotificationKind::Submitted, state.id, &message)?;
            if reviewers.is_empty() {
                let office = notifications::lead_office_users(conn)?;
                notifications::send(conn, &office, NotificationKind::Submitted, Some(state.id), &message)?;
            }
        }
        Step::Accept => {
            notifications::send_to_unit(
                conn,
                state.facts.unit_id,
                NotificationKind::Accepted,
                state.id,
                &format!("任务 {code} 的材料已通过牵头单位审核，待终审。"),
            )?;
            let office = notifications::lead_office_users(conn)?;
            notifications::send(conn, &office, NotificationKind::Submitted, Some(state.id), &format!("{unit} 的任务 {code} 材料待终审。"))?;
        }
        Step::Return => {
            let message = format!("任务 {code} 的材料被退回：{}", reason.unwrap_or_default());
            notifications::send_to_unit(conn, state.facts.unit_id, NotificationKind::Returned, state.id, &message)?;
        }
        Step::Approve => {
            notifications::send_to_unit(
                conn,
                state.facts.unit_id,
                NotificationKind::Approved,
                state.id,
                &format!("任务 {code} 已通过终审。"),
            )?;
        }
        // A unit's own progress concerns nobody else.
        Step::Start | Step::Unstart => {}
    }
    Ok(())
}

/// A decision with who took it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = decisions, check_for_backend(diesel::pg::Pg))]
struct DecisionRow {
    id: i64,
    round: i32,
    action: String,
    from_status: AssignmentStatus,
    to_status: AssignmentStatus,
    #[diesel(select_expression = users::username.nullable())]
    actor: Option<String>,
    #[diesel(select_expression = users::display_name.nullable())]
    actor_name: Option<String>,
    #[diesel(select_expression = units::id.nullable())]
    actor_unit_id: Option<i64>,
    #[diesel(select_expression = units::name.nullable())]
    actor_unit_name: Option<String>,
    reason: Option<String>,
    at: chrono::DateTime<Utc>,
}

/// An evidence version a decision covered, with the hash it had.
#[derive(Queryable, Selectable)]
#[diesel(table_name = decision_evidence, check_for_backend(diesel::pg::Pg))]
struct CoveredRow {
    decision_id: i64,
    #[diesel(select_expression = evidence_versions::evidence_id)]
    evidence_id: i64,
    #[diesel(select_expression = evidence_versions::id)]
    version_id: i64,
    #[diesel(select_expression = evidence_versions::version)]
    version: i32,
    #[diesel(select_expression = evidence_versions::file_name)]
    file_name: String,
    sha256: Vec<u8>,
}

/// Every submission and decision on an assignment, oldest first, with the
/// evidence each covered.
pub fn history(conn: &mut PgConnection, can: &ReadEvidence) -> Result<Vec<Decision>, Error> {
    let rows: Vec<DecisionRow> = decisions::table
        .left_join(users::table.on(users::id.nullable().eq(decisions::actor_id)))
        .left_join(units::table.on(units::id.nullable().eq(decisions::actor_unit_id)))
        .filter(decisions::assignment_id.eq(can.assignment_id()))
        .order(decisions::id)
        .select(DecisionRow::as_select())
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let covered: Vec<CoveredRow> = decision_evidence::table
        .inner_join(evidence_versions::table)
        .filter(decision_evidence::decision_id.eq_any(&ids))
        .order((decision_evidence::decision_id, evidence_versions::evidence_id))
        .select(CoveredRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| Decision {
            id: row.id,
            round: row.round,
            action: row.action,
            from_status: row.from_status,
            to_status: row.to_status,
            actor: row.actor,
            actor_name: row.actor_name,
            actor_unit: row.actor_unit_id.zip(row.actor_unit_name).map(|(id, name)| UnitRef { id, name }),
            reason: row.reason,
            at: row.at,
            evidence: covered
                .iter()
                .filter(|covered| covered.decision_id == row.id)
                .map(|covered| CoveredEvidence {
                    evidence_id: covered.evidence_id,
                    version_id: covered.version_id,
                    version: covered.version,
                    file_name: covered.file_name.clone(),
                    sha256: hex::encode(&covered.sha256),
                })
                .collect(),
        })
        .collect())
}

/// The assignments waiting for the caller's decision: for a lead unit, the
/// submitted work of the responsible units on the tasks it leads; for the
/// lead office, everything submitted or accepted.
pub fn queue(conn: &mut PgConnection, progress: &ReadProgress, caller: &Caller, cursor: &Cursor) -> Result<Page<Assignment>, Error> {
    let user = caller.user().ok_or_else(|| Error::forbidden("an API key reviews nothing"))?;
    let ids: Vec<i64> = match (user.role, user.unit_id) {
        (Role::LeadOffice, _) => {
            let mut query = assignments::table
                .filter(assignments::status.eq_any([AssignmentStatus::Submitted, AssignmentStatus::Accepted]))
                .into_boxed();
            if let Some(regions) = user.area.region_ids() {
                query = query
                    .filter(assignments::unit_id.eq_any(units::table.filter(units::region_id.eq_any(regions.to_vec())).select(units::id)));
            }
            query.order(assignments::updated_at).select(assignments::id).load(conn)?
        }
        (role, Some(unit)) if role.is_unit_role() => {
            let led_tasks = diesel::alias!(assignments as led);
            let led = led_tasks
                .filter(led_tasks.field(assignments::unit_id).eq(unit))
                .filter(led_tasks.field(assignments::role).eq(PartyRole::Lead))
                .select(led_tasks.field(assignments::task_id));
            assignments::table
                .filter(assignments::status.eq(AssignmentStatus::Submitted))
                .filter(assignments::role.eq(PartyRole::Responsible))
                .filter(assignments::unit_id.ne(unit))
                .filter(assignments::task_id.eq_any(led))
                .order(assignments::updated_at)
                .select(assignments::id)
                .load(conn)?
        }
        _ => return Err(Error::forbidden("only lead units and the lead office review submissions")),
    };
    let total = ids.len() as i64;
    let page: Vec<i64> = ids.into_iter().skip(cursor.offset as usize).take(cursor.limit as usize).collect();
    let mut items = Vec::new();
    for id in page {
        items.push(work::assignment(conn, progress, id)?);
    }
    Ok(cursor.page(items, total))
}
