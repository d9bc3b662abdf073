//! The reminder scheduler: by the lead office's rules
//! (`duban_rules::supervision::ReminderRules`), it reminds units of their
//! assignments' due dates and of notices they have not answered, and
//! escalates notices they have not even acknowledged — to the unit's
//! manager, then to the county leader in charge of the unit.
//!
//! Each reminder is sent once per subject, rule and due date: the row in
//! `reminders_sent` is inserted in the same statement as the messages, and
//! whichever duban instance inserts it first sends them; another finds it
//! there and sends nothing. Only one instance evaluates at a time (a
//! session advisory lock), which saves work but is not what makes it once.
//!
//! The rules are the rulebook's (`deadline_reminder`, `escalation`), worked
//! out here for each due date or notice; the sending is set-based, a few
//! statements whatever the number of assignments and notices (at
//! provincial scale a million assignments can be due at once, and a
//! transaction per notice took minutes: `cargo xtask bench`).

use std::time::Duration;

use chrono::{Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Text};
use duban_dto::{NoticeLevel, NotificationKind, RecipientState};
use duban_rules::calendar::Calendar;
use duban_rules::supervision::{self, Reminder, ReminderRule, ReminderRules};

use crate::authz::Operator;
use crate::db::PgPool;
use crate::db::schema::{notice_recipients, notices};
use crate::messages;
use crate::{clock, supervision as notices_domain};

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

/// The enabled users of a unit who do its work: those reminded.
const UNIT_USERS: &str = "u.disabled_at IS NULL AND u.role IN ('unit_manager', 'unit_staff')";

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
    let counted: Count = diesel::sql_query(format!(
        "WITH due AS (SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::text[]) AS d(due_date, rule, kind, note)),
         sent AS (
             INSERT INTO reminders_sent (subject, subject_id, rule, due_date, sent_on)
             SELECT 'assignment', a.id, d.rule, a.due_date, $5
             FROM assignments a JOIN due d ON d.due_date = a.due_date
             WHERE a.status <> 'approved'
             ON CONFLICT DO NOTHING
             RETURNING subject_id, rule, due_date),
         facts AS (
             SELECT 'reminder:assignment-' || a.id || ':' || d.rule || ':' || a.due_date AS event_key,
                    d.kind, '【提醒】任务 ' || t.code AS subject, '任务 ' || t.code || ' ' || d.note AS message,
                    c.code AS campaign, a.id AS assignment_id, NULL::bigint AS notice_id, a.unit_id, un.name AS unit_name
             FROM sent s
             JOIN due d ON d.due_date = s.due_date AND d.rule = s.rule
             JOIN assignments a ON a.id = s.subject_id
             JOIN tasks t ON t.id = a.task_id
             JOIN campaigns c ON c.id = t.campaign_id
             JOIN units un ON un.id = a.unit_id),
         addressed AS (SELECT f.*, u.id AS user_id FROM facts f JOIN users u ON u.unit_id = f.unit_id AND {UNIT_USERS}),
         extra_mail AS (SELECT f.*, NULL::text AS address FROM facts f WHERE false),
         {}
         SELECT count(*) AS reminders FROM sent",
        messages::FAN_OUT_CTES
    ))
    .bind::<Array<Date>, _>(dates)
    .bind::<Array<Text>, _>(rules)
    .bind::<Array<Text>, _>(kinds)
    .bind::<Array<Text>, _>(notes)
    .bind::<Date, _>(today)
    .get_result(conn)?;
    Ok(counted.reminders as usize)
}

/// An addressed unit of an open notice, as the rules need it.
#[derive(Debug, Clone, Queryable)]
struct OpenRecipient {
    id: i64,
    state: RecipientState,
    reply_due: NaiveDate,
    level: NoticeLevel,
    issued_at: chrono::DateTime<Utc>,
}

/// How many rows one statement takes at a time, to bound its memory.
const CHUNK: usize = 20_000;

/// Reminds units of notices they have not answered (past the reply date an
/// urging, counted), and escalates those they have not acknowledged: to
/// the unit's manager, then also to the county leader in charge (by
/// e-mail, when the lead office entered an address) and the lead office.
/// Returns how many reminders and escalations were sent.
pub fn sweep_notices(
    conn: &mut PgConnection,
    _can: &Operator,
    rules: &ReminderRules,
    calendar: &Calendar,
    today: NaiveDate,
) -> QueryResult<usize> {
    let open: Vec<OpenRecipient> = notice_recipients::table
        .inner_join(notices::table)
        .filter(notice_recipients::state.eq_any([RecipientState::Sent, RecipientState::Acknowledged, RecipientState::Returned]))
        .select((notice_recipients::id, notice_recipients::state, notice_recipients::reply_due, notices::level, notices::issued_at))
        .load(conn)?;
    let mut reminders: (Vec<i64>, Vec<String>, Vec<NaiveDate>, Vec<bool>) = Default::default();
    let mut escalations: (Vec<i64>, Vec<String>, Vec<NaiveDate>, Vec<bool>) = Default::default();
    for recipient in &open {
        let rule = rules.for_level(recipient.level);
        if let Some(reminder) = supervision::deadline_reminder(rule, recipient.reply_due, today, calendar) {
            reminders.0.push(recipient.id);
            reminders.1.push(reminder.key());
            reminders.2.push(recipient.reply_due);
            reminders.3.push(matches!(reminder, Reminder::Overdue { .. }));
        }
        let issued = clock::today_at(recipient.issued_at);
        if recipient.state == RecipientState::Sent
            && let Some(escalation) = supervision::escalation(rule, issued, today, calendar)
        {
            escalations.0.push(recipient.id);
            escalations.1.push(escalation.key());
            escalations.2.push(issued);
            escalations.3.push(escalation == Reminder::EscalateToLeader);
        }
    }
    let mut sent = 0;
    for start in (0..reminders.0.len()).step_by(CHUNK) {
        let end = (start + CHUNK).min(reminders.0.len());
        sent += conn.transaction(|conn| {
            remind_of_notices(
                conn,
                &reminders.0[start..end],
                &reminders.1[start..end],
                &reminders.2[start..end],
                &reminders.3[start..end],
                today,
            )
        })?;
    }
    for start in (0..escalations.0.len()).step_by(CHUNK) {
        let end = (start + CHUNK).min(escalations.0.len());
        sent += conn.transaction(|conn| {
            escalate(
                conn,
                &escalations.0[start..end],
                &escalations.1[start..end],
                &escalations.2[start..end],
                &escalations.3[start..end],
                today,
            )
        })?;
    }
    Ok(sent)
}

/// The reminders of notices' reply dates, in one statement.
fn remind_of_notices(
    conn: &mut PgConnection,
    ids: &[i64],
    rules: &[String],
    dues: &[NaiveDate],
    overdue: &[bool],
    today: NaiveDate,
) -> QueryResult<usize> {
    let counted: Count = diesel::sql_query(format!(
        "WITH due AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::date[], $4::bool[]) AS d(recipient_id, rule, due_date, overdue)),
         sent AS (
             INSERT INTO reminders_sent (subject, subject_id, rule, due_date, sent_on)
             SELECT 'notice_recipient', recipient_id, rule, due_date, $5 FROM due
             ON CONFLICT DO NOTHING
             RETURNING subject_id, rule, due_date),
         facts AS (
             SELECT 'reminder:recipient-' || r.id || ':' || d.rule || ':' || d.due_date AS event_key,
                    CASE WHEN d.overdue THEN 'notice_urged' ELSE 'due_soon' END AS kind,
                    CASE WHEN d.overdue THEN '【催办】' ELSE '【提醒】' END || n.doc_number || ' ' || n.title AS subject,
                    CASE WHEN d.overdue
                         THEN '督办单 ' || n.doc_number || '《' || n.title || '》已超过反馈期限（' || d.due_date || '），请立即反馈办理情况。'
                         ELSE '督办单 ' || n.doc_number || '《' || n.title || '》请于 ' || d.due_date || ' 前反馈办理情况。' END AS message,
                    c.code AS campaign, r.assignment_id, r.notice_id, r.unit_id, un.name AS unit_name, r.id AS recipient_id, d.overdue
             FROM sent s
             JOIN due d ON d.recipient_id = s.subject_id AND d.rule = s.rule AND d.due_date = s.due_date
             JOIN notice_recipients r ON r.id = s.subject_id
             JOIN notices n ON n.id = r.notice_id
             JOIN campaigns c ON c.id = n.campaign_id
             JOIN units un ON un.id = r.unit_id),
         -- Past the reply date a reminder is an urging (催办): counted on the
         -- notice's unit and on its assignment, and written in the history.
         urged AS (
             UPDATE notice_recipients r SET urged = r.urged + 1
             FROM facts f WHERE f.overdue AND r.id = f.recipient_id
             RETURNING r.assignment_id),
         urged_work AS (
             UPDATE assignments a SET urged = a.urged + c.times
             FROM (SELECT assignment_id, count(*) AS times FROM urged GROUP BY assignment_id) c
             WHERE a.id = c.assignment_id
             RETURNING 1),
         history AS (
             INSERT INTO notice_events (recipient_id, kind, text)
             SELECT recipient_id, 'urged', message FROM facts WHERE overdue
             RETURNING 1),
         addressed AS (SELECT f.*, u.id AS user_id FROM facts f JOIN users u ON u.unit_id = f.unit_id AND {UNIT_USERS}),
         extra_mail AS (SELECT f.*, NULL::text AS address FROM facts f WHERE false),
         {}
         SELECT count(*) AS reminders FROM sent",
        messages::FAN_OUT_CTES
    ))
    .bind::<Array<BigInt>, _>(ids)
    .bind::<Array<Text>, _>(rules)
    .bind::<Array<Date>, _>(dues)
    .bind::<Array<Bool>, _>(overdue)
    .bind::<Date, _>(today)
    .get_result(conn)?;
    Ok(counted.reminders as usize)
}

/// The escalations of unacknowledged notices, in one statement.
fn escalate(
    conn: &mut PgConnection,
    ids: &[i64],
    rules: &[String],
    issued: &[NaiveDate],
    to_leader: &[bool],
    today: NaiveDate,
) -> QueryResult<usize> {
    let counted: Count = diesel::sql_query(format!(
        "WITH due AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::date[], $4::bool[]) AS d(recipient_id, rule, issued_on, to_leader)),
         sent AS (
             INSERT INTO reminders_sent (subject, subject_id, rule, due_date, sent_on)
             SELECT 'notice_recipient', recipient_id, rule, issued_on, $5 FROM due
             ON CONFLICT DO NOTHING
             RETURNING subject_id, rule, due_date),
         facts AS (
             SELECT 'escalation:recipient-' || r.id || ':' || d.rule AS event_key,
                    'notice_escalated' AS kind,
                    '【督办升级】' || n.doc_number || ' ' || n.title AS subject,
                    CASE WHEN d.to_leader
                         THEN '督办单 ' || n.doc_number || '《' || n.title || '》发出后 ' || un.name || ' 仍未签收，已报分管领导 '
                              || coalesce(l.name, '（未登记）') || '。'
                         ELSE '督办单 ' || n.doc_number || '《' || n.title || '》发出后 ' || un.name || ' 尚未签收，请单位负责人督促签收并办理。' END
                    AS message,
                    c.code AS campaign, r.assignment_id, r.notice_id, r.unit_id, un.name AS unit_name, r.id AS recipient_id,
                    d.to_leader, l.email AS leader_email
             FROM sent s
             JOIN due d ON d.recipient_id = s.subject_id AND d.rule = s.rule
             JOIN notice_recipients r ON r.id = s.subject_id
             JOIN notices n ON n.id = r.notice_id
             JOIN campaigns c ON c.id = n.campaign_id
             JOIN units un ON un.id = r.unit_id
             LEFT JOIN unit_leaders l ON l.unit_id = r.unit_id),
         history AS (
             INSERT INTO notice_events (recipient_id, kind, text)
             SELECT recipient_id, CASE WHEN to_leader THEN 'escalated_to_leader' ELSE 'escalated_to_manager' END, message FROM facts
             RETURNING 1),
         -- The unit's manager; for the leader in charge, the lead office too.
         addressed AS (
             SELECT f.*, u.id AS user_id FROM facts f
             JOIN users u ON u.unit_id = f.unit_id AND u.disabled_at IS NULL AND u.role = 'unit_manager'
             UNION ALL
             SELECT f.*, u.id FROM facts f
             JOIN users u ON f.to_leader AND u.disabled_at IS NULL AND u.role = 'lead_office'),
         -- The leader is no user of duban: e-mail, if the office entered an address.
         extra_mail AS (SELECT f.*, leader_email AS address FROM facts f WHERE to_leader AND leader_email IS NOT NULL),
         {}
         SELECT count(*) AS reminders FROM sent",
        messages::FAN_OUT_CTES
    ))
    .bind::<Array<BigInt>, _>(ids)
    .bind::<Array<Text>, _>(rules)
    .bind::<Array<Date>, _>(issued)
    .bind::<Array<Bool>, _>(to_leader)
    .bind::<Date, _>(today)
    .get_result(conn)?;
    Ok(counted.reminders as usize)
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
    // An instance that died with a job running leaves it to whichever
    // instance holds the scheduler once the job's lease runs out.
    match crate::import::job::fail_interrupted(&mut conn, operator) {
        Ok(0) => {}
        Ok(failed) => tracing::warn!(failed, "import jobs whose instance stopped are marked failed; nothing of them was written"),
        Err(error) => tracing::warn!(%error, "failing interrupted import jobs"),
    }
    let result = evaluate(&mut conn, operator, today);
    diesel::sql_query("SELECT pg_advisory_unlock($1)").bind::<BigInt, _>(SCHEDULER_LOCK).execute(&mut conn)?;
    let (deadlines, notices) = result?;
    if deadlines + notices > 0 {
        tracing::info!(deadlines, notices, weekday = %today.weekday(), "reminders sent");
    }
    Ok(())
}
