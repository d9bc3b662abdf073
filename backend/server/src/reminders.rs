//! The reminder scheduler: by the lead office's rules
//! (`duban_rules::supervision::ReminderRules`), it reminds units of their
//! assignments' due dates and of notices they have not answered, and
//! escalates notices they have not even acknowledged — to the unit's
//! manager, then to the county leader in charge of the unit.
//!
//! Each reminder is sent once per subject, rule and due date: the row in
//! `reminders_sent` is inserted in the same transaction as the messages,
//! and whichever duban instance inserts it first sends them; another finds
//! it there and sends nothing. Only one instance evaluates at a time (a
//! session advisory lock), which saves work but is not what makes it once.

use std::time::Duration;

use chrono::{Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Text};
use duban_dto::api::UnitRef;
use duban_dto::{NoticeLevel, NotificationKind, RecipientState, Role};
use duban_rules::calendar::Calendar;
use duban_rules::supervision::{self, Reminder, ReminderRule, ReminderRules};

use crate::authz::Operator;
use crate::db::PgPool;
use crate::db::schema::{assignments, notice_recipients, notices, reminders_sent, unit_leaders, units, users};
use crate::messages::{self, Message};
use crate::{clock, notifications, supervision as notices_domain};

/// Serialises evaluation across instances (not needed for correctness).
const SCHEDULER_LOCK: i64 = 0x7265_6d69_6e64; // "remind"

/// How far back overdue due dates are still reminded of, in days.
const OVERDUE_HORIZON_DAYS: i64 = 731;
/// How far ahead "before" reminders can reach, in days.
const AHEAD_HORIZON_DAYS: i64 = 62;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    reminders: i64,
}

/// Reminds the units of their assignments' due dates, by the rule for
/// deadlines: in one statement, whatever the number of assignments.
/// Returns how many reminders (assignment and rule) were sent.
pub fn sweep_deadlines(
    conn: &mut PgConnection,
    _can: &Operator,
    rule: &ReminderRule,
    calendar: &Calendar,
    today: NaiveDate,
) -> QueryResult<usize> {
    let mut dates = Vec::new();
    let mut rules = Vec::new();
    let mut kinds = Vec::new();
    let mut notes = Vec::new();
    let mut day = today - chrono::Days::new(OVERDUE_HORIZON_DAYS as u64);
    let last = today + chrono::Days::new(AHEAD_HORIZON_DAYS as u64);
    while day <= last {
        if let Some(reminder) = supervision::deadline_reminder(rule, day, today, calendar) {
            let (kind, note) = match reminder {
                Reminder::Before { working_days: 0 } => (NotificationKind::DueSoon, "今天到期，请抓紧办理并报送。".to_owned()),
                Reminder::Before { .. } => {
                    let left = calendar.working_days_between(today, day);
                    (NotificationKind::DueSoon, format!("将于 {day} 到期（还有 {left} 个工作日）。"))
                }
                Reminder::Overdue { .. } => (NotificationKind::Overdue, format!("已逾期：应于 {day} 完成。")),
                Reminder::EscalateToManager | Reminder::EscalateToLeader => unreachable!("deadlines do not escalate"),
            };
            dates.push(day);
            rules.push(reminder.key());
            kinds.push(kind.as_str());
            notes.push(note);
        }
        day = day.succ_opt().expect("a date after");
    }
    let counted: Count = diesel::sql_query(
        "WITH due AS (SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::text[]) AS d(due_date, rule, kind, note)),
         sent AS (
             INSERT INTO reminders_sent (subject, subject_id, rule, due_date, sent_on)
             SELECT 'assignment', a.id, d.rule, a.due_date, $5
             FROM assignments a JOIN due d ON d.due_date = a.due_date
             WHERE a.status <> 'approved'
             ON CONFLICT DO NOTHING
             RETURNING subject_id, rule, due_date),
         facts AS (
             SELECT a.id AS assignment_id, a.unit_id, un.name AS unit_name, c.code AS campaign, d.kind, a.due_date,
                    '任务 ' || t.code || ' ' || d.note AS message,
                    '【提醒】任务 ' || t.code AS subject,
                    'reminder:assignment-' || a.id || ':' || d.rule || ':' || a.due_date AS event_key
             FROM sent s
             JOIN due d ON d.due_date = s.due_date AND d.rule = s.rule
             JOIN assignments a ON a.id = s.subject_id
             JOIN tasks t ON t.id = a.task_id
             JOIN campaigns c ON c.id = t.campaign_id
             JOIN units un ON un.id = a.unit_id),
         inbox AS (
             INSERT INTO notifications (user_id, kind, assignment_id, message, due_date)
             SELECT u.id, f.kind, f.assignment_id, f.message, f.due_date
             FROM facts f JOIN users u ON u.unit_id = f.unit_id AND u.disabled_at IS NULL AND u.role IN ($6, $7)
             RETURNING 1),
         mail AS (
             INSERT INTO outbox (channel, destination, kind, payload, idempotency_key)
             SELECT 'email', u.email, f.kind, jsonb_build_object('subject', f.subject, 'body', f.message),
                    f.event_key || ':email:user-' || u.id
             FROM facts f
             JOIN users u ON u.unit_id = f.unit_id AND u.disabled_at IS NULL AND u.role IN ($6, $7) AND u.email IS NOT NULL
             JOIN channel_preferences p ON p.user_id = u.id AND p.kind = f.kind AND p.channel = 'email'
             ON CONFLICT (idempotency_key) DO NOTHING
             RETURNING 1),
         hooks AS (
             INSERT INTO outbox (channel, endpoint_id, destination, kind, payload, idempotency_key)
             SELECT e.channel, e.id, e.url, f.kind,
                    CASE WHEN e.channel = 'webhook'
                         THEN jsonb_build_object('id', f.event_key || ':endpoint-' || e.id, 'kind', f.kind, 'created_at', now(),
                                                 'message', f.message, 'campaign', f.campaign, 'assignment_id', f.assignment_id,
                                                 'unit', jsonb_build_object('id', f.unit_id, 'name', f.unit_name))
                         ELSE jsonb_build_object('title', f.subject, 'text', f.message) END,
                    f.event_key || ':endpoint-' || e.id
             FROM facts f JOIN endpoints e ON e.enabled AND f.kind = ANY (e.events)
             ON CONFLICT (idempotency_key) DO NOTHING
             RETURNING 1)
         SELECT count(*) AS reminders FROM sent",
    )
    .bind::<Array<Date>, _>(dates)
    .bind::<Array<Text>, _>(rules)
    .bind::<Array<Text>, _>(kinds)
    .bind::<Array<Text>, _>(notes)
    .bind::<Date, _>(today)
    .bind::<Text, _>(Role::UnitManager.as_str())
    .bind::<Text, _>(Role::UnitStaff.as_str())
    .get_result(conn)?;
    Ok(counted.reminders as usize)
}

/// Records that `rule` went out today for a notice's unit; false when it
/// already had (here or on another instance).
fn once(conn: &mut PgConnection, recipient: i64, rule: &str, due: NaiveDate, today: NaiveDate) -> QueryResult<bool> {
    diesel::insert_into(reminders_sent::table)
        .values((
            reminders_sent::subject.eq("notice_recipient"),
            reminders_sent::subject_id.eq(recipient),
            reminders_sent::rule.eq(rule),
            reminders_sent::due_date.eq(due),
            reminders_sent::sent_on.eq(today),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|inserted| inserted > 0)
}

/// Reminds units of notices they have not answered, and escalates those
/// they have not acknowledged. Each in its own transaction. Returns how
/// many reminders and escalations were sent.
pub fn sweep_notices(
    conn: &mut PgConnection,
    can: &Operator,
    rules: &ReminderRules,
    calendar: &Calendar,
    today: NaiveDate,
) -> QueryResult<usize> {
    #[allow(clippy::type_complexity)]
    let open: Vec<(i64, i64, i64, i64, String, RecipientState, NaiveDate, NoticeLevel, String, String, chrono::DateTime<Utc>)> =
        notice_recipients::table
            .inner_join(notices::table)
            .inner_join(units::table)
            .filter(notice_recipients::state.eq_any([RecipientState::Sent, RecipientState::Acknowledged, RecipientState::Returned]))
            .select((
                notice_recipients::id,
                notice_recipients::notice_id,
                notice_recipients::assignment_id,
                units::id,
                units::name,
                notice_recipients::state,
                notice_recipients::reply_due,
                notices::level,
                notices::doc_number,
                notices::title,
                notices::issued_at,
            ))
            .load(conn)?;
    let mut sent = 0;
    for (recipient, notice, assignment, unit, unit_name, state, reply_due, level, doc_number, title, issued_at) in open {
        let rule = rules.for_level(level);
        let issued = clock::today_at(issued_at);
        let unit_ref = UnitRef { id: unit, name: unit_name.clone() };
        if let Some(reminder) = supervision::deadline_reminder(rule, reply_due, today, calendar) {
            sent += conn.transaction(|conn| -> QueryResult<usize> {
                if !once(conn, recipient, &reminder.key(), reply_due, today)? {
                    return Ok(0);
                }
                // Past the reply date a reminder is an urging (催办), and counted.
                let (kind, subject, line) = match reminder {
                    Reminder::Overdue { .. } => {
                        diesel::update(notice_recipients::table.find(recipient))
                            .set(notice_recipients::urged.eq(notice_recipients::urged + 1))
                            .execute(conn)?;
                        diesel::update(assignments::table.find(assignment))
                            .set(assignments::urged.eq(assignments::urged + 1))
                            .execute(conn)?;
                        let line = format!("督办单 {doc_number}《{title}》已超过反馈期限（{reply_due}），请立即反馈办理情况。");
                        notices_domain::system_event(conn, can, recipient, "urged", &line)?;
                        (NotificationKind::NoticeUrged, format!("【催办】{doc_number} {title}"), line)
                    }
                    _ => {
                        let line = format!("督办单 {doc_number}《{title}》请于 {reply_due} 前反馈办理情况。");
                        (NotificationKind::DueSoon, format!("【提醒】{doc_number} {title}"), line)
                    }
                };
                let message = Message::new(kind, subject, line)
                    .about_notice(notice)
                    .about_assignment(assignment)
                    .for_unit(unit_ref.clone())
                    .keyed(format!("reminder:recipient-{recipient}:{}:{reply_due}", reminder.key()));
                let to = unit_users(conn, unit, &[Role::UnitManager, Role::UnitStaff])?;
                messages::publish(conn, &to, &message)?;
                Ok(1)
            })?;
        }
        if state != RecipientState::Sent {
            continue;
        }
        if let Some(escalation) = supervision::escalation(rule, issued, today, calendar) {
            sent += conn.transaction(|conn| -> QueryResult<usize> {
                if !once(conn, recipient, &escalation.key(), issued, today)? {
                    return Ok(0);
                }
                let key = format!("escalation:recipient-{recipient}:{}", escalation.key());
                match escalation {
                    Reminder::EscalateToManager => {
                        let line = format!("督办单 {doc_number}《{title}》发出后 {unit_name} 尚未签收，请单位负责人督促签收并办理。");
                        notices_domain::system_event(conn, can, recipient, "escalated_to_manager", &line)?;
                        let message = Message::new(NotificationKind::NoticeEscalated, format!("【督办升级】{doc_number} {title}"), line)
                            .about_notice(notice)
                            .about_assignment(assignment)
                            .for_unit(unit_ref.clone())
                            .keyed(key);
                        let to = unit_users(conn, unit, &[Role::UnitManager])?;
                        messages::publish(conn, &to, &message)?;
                    }
                    _ => {
                        let leader: Option<(String, Option<String>)> =
                            unit_leaders::table.find(unit).select((unit_leaders::name, unit_leaders::email)).first(conn).optional()?;
                        let leader_name = leader.as_ref().map_or("分管领导（未登记）".to_owned(), |(name, _)| name.clone());
                        let line = format!("督办单 {doc_number}《{title}》发出后 {unit_name} 仍未签收，已报分管领导 {leader_name}。");
                        notices_domain::system_event(conn, can, recipient, "escalated_to_leader", &line)?;
                        let message = Message::new(NotificationKind::NoticeEscalated, format!("【督办升级】{doc_number} {title}"), line)
                            .about_notice(notice)
                            .about_assignment(assignment)
                            .for_unit(unit_ref.clone())
                            .keyed(key);
                        // The leader is no user of duban: e-mail, if there is an address.
                        if let Some((_, Some(address))) = &leader {
                            messages::email_to(conn, address, &message)?;
                        }
                        let office = notifications::lead_office_users(conn)?;
                        let mut to = unit_users(conn, unit, &[Role::UnitManager])?;
                        to.extend(office);
                        messages::publish(conn, &to, &message)?;
                    }
                }
                Ok(1)
            })?;
        }
    }
    Ok(sent)
}

fn unit_users(conn: &mut PgConnection, unit: i64, roles: &[Role]) -> QueryResult<Vec<i64>> {
    users::table
        .filter(users::unit_id.eq(unit))
        .filter(users::role.eq_any(roles.iter().map(|role| role.as_str()).collect::<Vec<_>>()))
        .filter(users::disabled_at.is_null())
        .select(users::id)
        .load(conn)
}

/// One evaluation of every rule, on `today`: what the scheduler does each
/// round, and what `duban notify-deadlines` does once.
pub fn evaluate(conn: &mut PgConnection, can: &Operator, today: NaiveDate) -> anyhow::Result<(usize, usize)> {
    let rules = notices_domain::reminder_rules(conn).map_err(|error| anyhow::anyhow!("{error}"))?;
    let calendar = crate::calendar::load(conn)?;
    let deadlines = conn.transaction(|conn| sweep_deadlines(conn, can, &rules.deadlines, &calendar, today))?;
    let notices = sweep_notices(conn, can, &rules, &calendar, today)?;
    Ok((deadlines, notices))
}

/// Evaluates the rules now and then every `interval`, while duban serves,
/// when no other instance is doing it; as the operator who started duban.
pub fn start(pool: PgPool, interval: Duration, operator: Operator) {
    std::thread::Builder::new()
        .name("reminders".to_owned())
        .spawn(move || {
            loop {
                if let Err(error) = round(&pool, &operator) {
                    tracing::warn!(%error, "evaluating reminders");
                }
                std::thread::sleep(interval);
            }
        })
        .expect("starting a thread");
}

fn round(pool: &PgPool, operator: &Operator) -> anyhow::Result<()> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let mut conn = pool.get()?;
    let locked: Locked =
        diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked").bind::<BigInt, _>(SCHEDULER_LOCK).get_result(&mut conn)?;
    if !locked.locked {
        return Ok(());
    }
    let today = clock::today();
    let result = evaluate(&mut conn, operator, today);
    diesel::sql_query("SELECT pg_advisory_unlock($1)").bind::<BigInt, _>(SCHEDULER_LOCK).execute(&mut conn)?;
    let (deadlines, notices) = result?;
    if deadlines + notices > 0 {
        tracing::info!(deadlines, notices, weekday = %today.weekday(), "reminders sent");
    }
    Ok(())
}
