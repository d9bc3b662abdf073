//! Supervision (督办): the lead office issues a notice on late work, each
//! addressed unit acknowledges it, replies (with files), may ask for more
//! time; the office grants or refuses, returns an insufficient reply, and
//! closes (销号). The office can also urge by hand. Every step is written
//! to the notice's history for that unit and to the audit log, and tells
//! whoever must act next, in the same transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use duban_dto::api::{
    ExtensionRequest, LateFilter, NewNotice, Notice, NoticeAction, NoticeEvent, NoticeFile, NoticeRecipient, NoticeSummary, Page, TaskRef,
    UnitLeader, UnitRef, UrgeRequest, Urged, UrgedAssignment,
};
use duban_dto::{AssignmentStatus, NoticeLevel, NoticeStep, NotificationKind, RecipientState, Role};
use duban_rules::supervision::{self, Party, ReminderRules};
use serde_json::json;

use crate::audit::{self, Event};
use crate::authz::{ActOnNotice, Caller, ReadLeader, ReadNotices, Supervise};
use crate::db::lookups;
use crate::db::schema::{
    assignments, blobs, campaign_documents, campaigns, indicators, notice_events, notice_files, notice_numbers, notice_recipients, notices,
    regions, server_settings, tasks, unit_leaders, units, users,
};
use crate::error::Error;
use crate::evidence::StoredFile;
use crate::limits::at_most;
use crate::messages::{self, Message};
use crate::pagination::Cursor;
use crate::{clock, notifications};

/// How a campaign's documents name their issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// The issuing organ, in the red header: 罗平县全面依法治县委员会办公室.
    pub organ: String,
    /// The prefix of document numbers: 罗法治办.
    pub prefix: String,
}

/// The issuer of a campaign's documents: as set by the lead office, or
/// derived from the county's name (罗平县 → 罗法治办).
pub fn issuer(conn: &mut PgConnection, campaign_id: i64) -> Result<Issuer, Error> {
    let set: Option<(String, String)> = campaign_documents::table
        .find(campaign_id)
        .select((campaign_documents::issuing_organ, campaign_documents::doc_prefix))
        .first(conn)
        .optional()?;
    if let Some((organ, prefix)) = set {
        return Ok(Issuer { organ, prefix });
    }
    let region: String =
        campaigns::table.inner_join(regions::table).filter(campaigns::id.eq(campaign_id)).select(regions::name).first(conn)?;
    let first = region.chars().next().map(String::from).unwrap_or_default();
    Ok(Issuer { organ: format!("{region}全面依法治县委员会办公室"), prefix: format!("{first}法治办") })
}

const RULES_KEY: &str = "reminder_rules";

/// The reminder rules in force: the lead office's, or the defaults.
pub fn reminder_rules(conn: &mut PgConnection) -> Result<ReminderRules, Error> {
    let stored: Option<String> = server_settings::table.find(RULES_KEY).select(server_settings::value).first(conn).optional()?;
    match stored {
        Some(text) => serde_json::from_str(&text).map_err(Error::internal),
        None => Ok(ReminderRules::default()),
    }
}

/// The lead office sets the reminder rules; audited with what they were.
pub fn set_reminder_rules(
    conn: &mut PgConnection,
    _can: &Supervise,
    caller: &Caller,
    rules: &ReminderRules,
) -> Result<ReminderRules, Error> {
    rules.check().map_err(|why| Error::invalid("invalid_rules", why))?;
    conn.transaction(|conn| {
        let before = reminder_rules(conn)?;
        let text = serde_json::to_string(rules).map_err(Error::internal)?;
        diesel::insert_into(server_settings::table)
            .values((server_settings::key.eq(RULES_KEY), server_settings::value.eq(&text)))
            .on_conflict(server_settings::key)
            .do_update()
            .set(server_settings::value.eq(&text))
            .execute(conn)?;
        audit::record(conn, &caller.audit_actor(), Event::new("reminder_rules.update").changed(&json!(before), &json!(rules)))?;
        Ok(rules.clone())
    })
}

/// The overdue, unapproved assignments of a campaign that a filter matches.
fn late_assignments(conn: &mut PgConnection, campaign_id: i64, filter: &LateFilter) -> Result<Vec<i64>, Error> {
    let today = clock::today();
    let mut query = assignments::table
        .inner_join(tasks::table)
        .filter(tasks::campaign_id.eq(campaign_id))
        .filter(assignments::status.ne(AssignmentStatus::Approved))
        .filter(assignments::due_date.lt(today))
        .select(assignments::id)
        .into_boxed();
    if let Some(task) = filter.task_id {
        query = query.filter(tasks::id.eq(task));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(assignments::unit_id.eq(unit));
    }
    if let Some(list) = filter.list {
        query = query.filter(tasks::list.eq(list));
    }
    if let Some(indicator) = filter.indicator_id {
        let children = indicators::table.filter(indicators::parent_id.eq(indicator)).select(indicators::id.nullable());
        query = query.filter(tasks::indicator_id.eq(indicator).or(tasks::indicator_id.eq_any(children)));
    }
    Ok(query.order(assignments::id).load(conn)?)
}

/// The assignments a notice or an urging addresses: those named, which must
/// be the campaign's, or every late one matching the filter.
fn addressed(conn: &mut PgConnection, campaign_id: i64, ids: &[i64], late: Option<&LateFilter>) -> Result<Vec<i64>, Error> {
    let mut chosen: Vec<i64> = match late {
        Some(filter) => late_assignments(conn, campaign_id, filter)?,
        None => Vec::new(),
    };
    if !ids.is_empty() {
        let found: Vec<i64> = assignments::table
            .inner_join(tasks::table)
            .filter(tasks::campaign_id.eq(campaign_id))
            .filter(assignments::id.eq_any(ids))
            .select(assignments::id)
            .load(conn)?;
        if let Some(missing) = ids.iter().find(|id| !found.contains(id)) {
            return Err(Error::invalid("unknown_assignment", format!("assignment {missing} is not one of the campaign's")));
        }
        chosen.extend(found);
    }
    chosen.sort_unstable();
    chosen.dedup();
    if chosen.is_empty() {
        return Err(Error::invalid("no_assignments", "name the assignments, or a filter that matches late ones: nothing is addressed"));
    }
    Ok(chosen)
}

/// The enabled users of a unit with these roles.
fn users_of(conn: &mut PgConnection, unit_id: i64, roles: &[Role]) -> QueryResult<Vec<i64>> {
    users::table
        .filter(users::unit_id.eq(unit_id))
        .filter(users::role.eq_any(roles.iter().map(|role| role.as_str()).collect::<Vec<_>>()))
        .filter(users::disabled_at.is_null())
        .select(users::id)
        .load(conn)
}

const UNIT_ROLES: [Role; 2] = [Role::UnitManager, Role::UnitStaff];

/// Issues a notice: numbered without gaps per campaign and year, addressed
/// to each unit of the chosen assignments, with its attachments.
pub fn issue(
    conn: &mut PgConnection,
    _can: &Supervise,
    caller: &Caller,
    new: &NewNotice,
    attachments: &[StoredFile],
) -> Result<Notice, Error> {
    at_most("title", &new.title, duban_dto::limits::NAME)?;
    at_most("requirement", &new.requirement, duban_dto::limits::NOTE)?;
    let title = new.title.trim();
    let requirement = new.requirement.trim();
    if title.is_empty() || requirement.is_empty() {
        return Err(Error::invalid("blank", "a notice needs a title and its requirement"));
    }
    if !(1..=60).contains(&new.reply_working_days) {
        return Err(Error::invalid("invalid_reply_days", "the reply deadline is 1 to 60 working days"));
    }
    conn.transaction(|conn| {
        let campaign_id = lookups::campaign_id_within(conn, &caller.area(), &new.campaign)?;
        let chosen = addressed(conn, campaign_id, &new.assignment_ids, new.late.as_ref())?;
        let now = Utc::now();
        let today = clock::today_at(now);
        let year = today.year();
        let number: i32 = diesel::insert_into(notice_numbers::table)
            .values((notice_numbers::campaign_id.eq(campaign_id), notice_numbers::year.eq(year), notice_numbers::last.eq(1)))
            .on_conflict((notice_numbers::campaign_id, notice_numbers::year))
            .do_update()
            .set(notice_numbers::last.eq(notice_numbers::last + 1))
            .returning(notice_numbers::last)
            .get_result(conn)?;
        let issuer = issuer(conn, campaign_id)?;
        let doc_number = supervision::document_number(&format!("{}督", issuer.prefix), year, number as u32);
        let calendar = crate::calendar::load(conn)?;
        let reply_due = supervision::reply_due(today, new.reply_working_days, &calendar);
        let notice_id: i64 = diesel::insert_into(notices::table)
            .values((
                notices::campaign_id.eq(campaign_id),
                notices::year.eq(year),
                notices::number.eq(number),
                notices::doc_number.eq(&doc_number),
                notices::level.eq(new.level),
                notices::title.eq(title),
                notices::requirement.eq(requirement),
                notices::reply_working_days.eq(new.reply_working_days as i32),
                notices::issued_by.eq(caller.user_id()),
                notices::issued_at.eq(now),
            ))
            .returning(notices::id)
            .get_result(conn)?;
        store_files(conn, notice_id, None, attachments)?;
        let targets: Vec<(i64, i64, String, String)> = assignments::table
            .inner_join(units::table)
            .inner_join(tasks::table)
            .filter(assignments::id.eq_any(&chosen))
            .select((assignments::id, units::id, units::name, tasks::code))
            .load(conn)?;
        for (assignment, unit, unit_name, code) in &targets {
            let recipient: i64 = diesel::insert_into(notice_recipients::table)
                .values((
                    notice_recipients::notice_id.eq(notice_id),
                    notice_recipients::assignment_id.eq(assignment),
                    notice_recipients::unit_id.eq(unit),
                    notice_recipients::state.eq(RecipientState::Sent),
                    notice_recipients::reply_due.eq(reply_due),
                ))
                .returning(notice_recipients::id)
                .get_result(conn)?;
            event(conn, recipient, "issued", None, None, caller)?;
            let message = Message::new(
                NotificationKind::NoticeIssued,
                format!("【督办】{doc_number} {title}"),
                format!("{}督办单 {doc_number}《{title}》（任务 {code}）：请签收，并于 {reply_due} 前反馈办理情况。", new.level.zh_name()),
            )
            .about_notice(notice_id)
            .about_assignment(*assignment)
            .in_campaign(new.campaign.clone())
            .for_unit(UnitRef { id: *unit, name: unit_name.clone() })
            .keyed(format!("notice-{notice_id}:issued:recipient-{recipient}"));
            let to = users_of(conn, *unit, &UNIT_ROLES)?;
            messages::publish(conn, &to, &message)?;
        }
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("notice.issue").entity("notice", notice_id).after(json!({
                "doc_number": doc_number, "level": new.level, "title": title, "requirement": requirement,
                "reply_due": reply_due, "assignments": chosen,
                "attachments": attachments.iter().map(|file| json!({"file_name": file.file_name, "sha256": hex::encode(file.sha256)})).collect::<Vec<_>>(),
            })),
        )?;
        notice(conn, Some(caller), notice_id)
    })
}

/// Files of a notice (`event` none) or of a reply.
fn store_files(conn: &mut PgConnection, notice_id: i64, event: Option<i64>, files: &[StoredFile]) -> QueryResult<()> {
    for file in files {
        diesel::insert_into(blobs::table)
            .values((blobs::sha256.eq(file.sha256.as_slice()), blobs::size.eq(file.size as i64), blobs::content_type.eq(file.content_type)))
            .on_conflict_do_nothing()
            .execute(conn)?;
        diesel::insert_into(notice_files::table)
            .values((
                notice_files::notice_id.eq(notice_id),
                notice_files::event_id.eq(event),
                notice_files::sha256.eq(file.sha256.as_slice()),
                notice_files::file_name.eq(&file.file_name),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Writes a step into the history of a notice for one unit.
fn event(
    conn: &mut PgConnection,
    recipient: i64,
    kind: &str,
    text: Option<&str>,
    until: Option<NaiveDate>,
    caller: &Caller,
) -> QueryResult<i64> {
    let unit = caller.user().and_then(|user| user.unit_id);
    diesel::insert_into(notice_events::table)
        .values((
            notice_events::recipient_id.eq(recipient),
            notice_events::kind.eq(kind),
            notice_events::text.eq(text),
            notice_events::until.eq(until),
            notice_events::actor_id.eq(caller.user_id()),
            notice_events::actor_unit_id.eq(unit),
        ))
        .returning(notice_events::id)
        .get_result(conn)
}

/// What a step on a notice needs to know about its recipient.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notice_recipients, check_for_backend(diesel::pg::Pg))]
pub struct RecipientRow {
    pub id: i64,
    pub notice_id: i64,
    pub assignment_id: i64,
    pub unit_id: i64,
    pub state: RecipientState,
    pub reply_due: NaiveDate,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub urged: i32,
    pub extension_until: Option<NaiveDate>,
    pub extension_reason: Option<String>,
    pub extension_asked_at: Option<DateTime<Utc>>,
}

/// A recipient: not found when there is none.
pub fn recipient(conn: &mut PgConnection, id: i64) -> Result<RecipientRow, Error> {
    notice_recipients::table
        .find(id)
        .select(RecipientRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::not_found(format!("there is no addressed unit {id} of a notice")))
}

fn refusal(refusal: supervision::Refusal) -> Error {
    match refusal {
        supervision::Refusal::NotYours(why) => Error::forbidden(why),
        supervision::Refusal::WrongState(why) => Error::conflict("invalid_transition", why),
    }
}

/// Takes a step on a notice for one unit (all but replying, which brings
/// files: [`reply`]).
pub fn act(conn: &mut PgConnection, can: &ActOnNotice, caller: &Caller, action: &NoticeAction) -> Result<Notice, Error> {
    if action.step == NoticeStep::Reply {
        return Err(Error::invalid("reply_with_files", "a reply is sent with its text and files to …/reply"));
    }
    if let Some(text) = &action.text {
        at_most("text", text, duban_dto::limits::NOTE)?;
    }
    let text = action.text.as_deref().map(str::trim).filter(|text| !text.is_empty());
    conn.transaction(|conn| {
        let row: RecipientRow = notice_recipients::table
            .find(can.recipient_id())
            .for_update()
            .select(RecipientRow::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| Error::not_found("there is no such addressed unit"))?;
        let state = row.state;
        let to = supervision::next(state, action.step, can.party(), row.extension_until.is_some()).map_err(refusal)?;
        let (doc_number, title): (String, String) =
            notices::table.find(row.notice_id).select((notices::doc_number, notices::title)).first(conn)?;
        let mut until = None;
        let changes = notice_recipients::table.find(row.id);
        match action.step {
            NoticeStep::Acknowledge => {
                diesel::update(changes)
                    .set((notice_recipients::state.eq(to), notice_recipients::acknowledged_at.eq(Utc::now())))
                    .execute(conn)?;
            }
            NoticeStep::RequestExtension => {
                let wanted =
                    action.until.ok_or_else(|| Error::invalid("until_required", "an extension asks for a new reply date: give until"))?;
                let reason = text.ok_or_else(|| Error::invalid("reason_required", "an extension needs its reason"))?;
                if wanted <= row.reply_due {
                    return Err(Error::invalid("not_later", format!("the new reply date must be after {}", row.reply_due)));
                }
                diesel::update(changes)
                    .set((
                        notice_recipients::extension_until.eq(wanted),
                        notice_recipients::extension_reason.eq(reason),
                        notice_recipients::extension_asked_at.eq(Utc::now()),
                    ))
                    .execute(conn)?;
                until = Some(wanted);
            }
            NoticeStep::GrantExtension | NoticeStep::RefuseExtension => {
                if action.step == NoticeStep::RefuseExtension && text.is_none() {
                    return Err(Error::invalid("reason_required", "a refusal needs its reason"));
                }
                let granted = action.step == NoticeStep::GrantExtension;
                let new_due = if granted { row.extension_until.unwrap_or(row.reply_due) } else { row.reply_due };
                diesel::update(changes)
                    .set((
                        notice_recipients::reply_due.eq(new_due),
                        notice_recipients::extension_until.eq(None::<NaiveDate>),
                        notice_recipients::extension_reason.eq(None::<String>),
                        notice_recipients::extension_asked_at.eq(None::<DateTime<Utc>>),
                    ))
                    .execute(conn)?;
                if granted {
                    until = Some(new_due);
                    // The granted date is the assignment's new due date too.
                    let assignment: Option<NaiveDate> =
                        assignments::table.find(row.assignment_id).select(assignments::due_date).first(conn)?;
                    if assignment.is_none_or(|due| due < new_due) {
                        diesel::update(assignments::table.find(row.assignment_id))
                            .set((
                                assignments::due_date.eq(new_due),
                                assignments::version.eq(assignments::version + 1),
                                assignments::updated_at.eq(Utc::now()),
                            ))
                            .execute(conn)?;
                        let task: i64 = assignments::table.find(row.assignment_id).select(assignments::task_id).first(conn)?;
                        crate::rollup::refresh(conn, &[task])?;
                    }
                }
            }
            NoticeStep::Return => {
                if text.is_none() {
                    return Err(Error::invalid("reason_required", "a return needs a reason: say what is missing"));
                }
                diesel::update(changes).set(notice_recipients::state.eq(to)).execute(conn)?;
            }
            NoticeStep::Close => {
                diesel::update(changes).set(notice_recipients::state.eq(to)).execute(conn)?;
                let open: i64 = notice_recipients::table
                    .filter(notice_recipients::notice_id.eq(row.notice_id))
                    .filter(notice_recipients::state.ne(RecipientState::Closed))
                    .count()
                    .get_result(conn)?;
                if open == 0 {
                    diesel::update(notices::table.find(row.notice_id)).set(notices::closed_at.eq(Utc::now())).execute(conn)?;
                }
            }
            NoticeStep::Reply => unreachable!("refused above"),
        }
        event(conn, row.id, action.step.as_str(), text, until, caller)?;
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new(match action.step {
                NoticeStep::Acknowledge => "notice.acknowledge",
                NoticeStep::RequestExtension => "notice.request_extension",
                NoticeStep::GrantExtension => "notice.grant_extension",
                NoticeStep::RefuseExtension => "notice.refuse_extension",
                NoticeStep::Return => "notice.return",
                NoticeStep::Close => "notice.close",
                NoticeStep::Reply => "notice.reply",
            })
            .entity("notice_recipient", row.id)
            .before(json!({"state": state, "reply_due": row.reply_due}))
            .after(json!({"state": to, "text": text, "until": until})),
        )?;
        tell(conn, &row, action.step, &doc_number, &title, text, until)?;
        notice(conn, Some(caller), row.notice_id)
    })
}

/// Tells whoever must act next about a step.
fn tell(
    conn: &mut PgConnection,
    row: &RecipientRow,
    step: NoticeStep,
    doc_number: &str,
    title: &str,
    text: Option<&str>,
    until: Option<NaiveDate>,
) -> QueryResult<()> {
    let unit: String = units::table.find(row.unit_id).select(units::name).first(conn)?;
    let (kind, line, to_office) = match step {
        NoticeStep::Acknowledge => return Ok(()),
        NoticeStep::Reply => {
            (NotificationKind::NoticeReplied, format!("{unit} 反馈了督办单 {doc_number}《{title}》的办理情况，待审核。"), true)
        }
        NoticeStep::RequestExtension => (
            NotificationKind::NoticeReplied,
            format!(
                "{unit} 申请将督办单 {doc_number} 的反馈期限延至 {}：{}",
                until.map(|d| d.to_string()).unwrap_or_default(),
                text.unwrap_or_default()
            ),
            true,
        ),
        NoticeStep::GrantExtension => (
            NotificationKind::NoticeDecided,
            format!("督办单 {doc_number} 的延期申请已同意，反馈期限延至 {}。", until.map(|d| d.to_string()).unwrap_or_default()),
            false,
        ),
        NoticeStep::RefuseExtension => {
            (NotificationKind::NoticeDecided, format!("督办单 {doc_number} 的延期申请未同意：{}", text.unwrap_or_default()), false)
        }
        NoticeStep::Return => {
            (NotificationKind::NoticeDecided, format!("督办单 {doc_number} 的反馈被退回：{}", text.unwrap_or_default()), false)
        }
        NoticeStep::Close => (NotificationKind::NoticeDecided, format!("督办单 {doc_number}《{title}》已销号。"), false),
    };
    let to = if to_office { notifications::lead_office_users(conn)? } else { users_of(conn, row.unit_id, &UNIT_ROLES)? };
    let message = Message::new(kind, format!("【督办】{doc_number} {title}"), line)
        .about_notice(row.notice_id)
        .about_assignment(row.assignment_id)
        .for_unit(UnitRef { id: row.unit_id, name: unit });
    messages::publish(conn, &to, &message)
}

/// The unit replies: text and files. A reply closes nothing by itself; the
/// lead office closes or returns it.
pub fn reply(conn: &mut PgConnection, can: &ActOnNotice, caller: &Caller, text: &str, files: &[StoredFile]) -> Result<Notice, Error> {
    at_most("text", text, duban_dto::limits::NOTE)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid("text_required", "a reply says what was done"));
    }
    conn.transaction(|conn| {
        let row: RecipientRow = notice_recipients::table
            .find(can.recipient_id())
            .for_update()
            .select(RecipientRow::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| Error::not_found("there is no such addressed unit"))?;
        let state = row.state;
        let to = supervision::next(state, NoticeStep::Reply, can.party(), row.extension_until.is_some()).map_err(refusal)?;
        diesel::update(notice_recipients::table.find(row.id)).set(notice_recipients::state.eq(to)).execute(conn)?;
        let event_id = event(conn, row.id, NoticeStep::Reply.as_str(), Some(text), None, caller)?;
        store_files(conn, row.notice_id, Some(event_id), files)?;
        let (doc_number, title): (String, String) = notices::table.find(row.notice_id).select((notices::doc_number, notices::title)).first(conn)?;
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("notice.reply").entity("notice_recipient", row.id).before(json!({"state": state})).after(json!({
                "state": to, "text": text,
                "files": files.iter().map(|file| json!({"file_name": file.file_name, "sha256": hex::encode(file.sha256)})).collect::<Vec<_>>(),
            })),
        )?;
        tell(conn, &row, NoticeStep::Reply, &doc_number, &title, Some(text), None)?;
        notice(conn, Some(caller), row.notice_id)
    })
}

/// Urges units by hand (催办): each urging is counted on the assignment
/// and, when a notice is open for it, on the notice's unit too.
pub fn urge(conn: &mut PgConnection, _can: &Supervise, caller: &Caller, request: &UrgeRequest) -> Result<Urged, Error> {
    if let Some(text) = &request.message {
        at_most("message", text, duban_dto::limits::NOTE)?;
    }
    conn.transaction(|conn| {
        let campaign_id = lookups::campaign_id_within(conn, &caller.area(), &request.campaign)?;
        let chosen = addressed(conn, campaign_id, &request.assignment_ids, request.late.as_ref())?;
        let counted: Vec<(i64, i32)> = diesel::update(assignments::table.filter(assignments::id.eq_any(&chosen)))
            .set(assignments::urged.eq(assignments::urged + 1))
            .returning((assignments::id, assignments::urged))
            .get_results(conn)?;
        let urged_count: BTreeMap<i64, i32> = counted.into_iter().collect();
        let open: Vec<i64> = diesel::update(
            notice_recipients::table
                .filter(notice_recipients::assignment_id.eq_any(&chosen))
                .filter(notice_recipients::state.ne(RecipientState::Closed)),
        )
        .set(notice_recipients::urged.eq(notice_recipients::urged + 1))
        .returning(notice_recipients::id)
        .get_results(conn)?;
        let remark = request.message.as_deref().map(str::trim).filter(|text| !text.is_empty());
        for recipient in &open {
            event(conn, *recipient, "urged", remark, None, caller)?;
        }
        let rows: Vec<(i64, i64, String, i64, String, String)> = assignments::table
            .inner_join(units::table)
            .inner_join(tasks::table)
            .filter(assignments::id.eq_any(&chosen))
            .order(assignments::id)
            .select((assignments::id, units::id, units::name, tasks::id, tasks::code, tasks::text))
            .load(conn)?;
        let mut urged = Vec::new();
        for (assignment, unit, unit_name, task, code, text) in rows {
            let times = urged_count.get(&assignment).copied().unwrap_or(0);
            let line = match remark {
                Some(remark) => format!("依法治县办催办任务 {code}（第 {times} 次）：{remark}"),
                None => format!("依法治县办催办任务 {code}（第 {times} 次）：请抓紧办理并报送。"),
            };
            let message = Message::new(NotificationKind::NoticeUrged, format!("【催办】任务 {code}"), line)
                .about_assignment(assignment)
                .in_campaign(request.campaign.clone())
                .for_unit(UnitRef { id: unit, name: unit_name.clone() });
            let to = users_of(conn, unit, &UNIT_ROLES)?;
            messages::publish(conn, &to, &message)?;
            urged.push(UrgedAssignment {
                assignment_id: assignment,
                unit: UnitRef { id: unit, name: unit_name },
                task: TaskRef { id: task, campaign: request.campaign.clone(), code, text },
                urged: times,
            });
        }
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("assignment.urge").after(json!({"campaign": request.campaign, "assignments": chosen, "message": remark})),
        )?;
        Ok(Urged { assignments: urged })
    })
}

/// The filters of the notices' list.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct NoticeFilter {
    pub campaign: Option<String>,
    pub unit: Option<i64>,
    pub assignment: Option<i64>,
    /// Only notices not yet closed (or only closed ones).
    pub open: Option<bool>,
}

/// Notices, newest first, with how far their units are.
pub fn list(conn: &mut PgConnection, can: &ReadNotices, filter: &NoticeFilter, cursor: &Cursor) -> Result<Page<NoticeSummary>, Error> {
    // A unit's users see the notices addressed to their unit, whatever they ask.
    let unit_filter = can.unit_id().or(filter.unit);
    if can.unit_id().is_some() && filter.unit.is_some_and(|unit| Some(unit) != can.unit_id()) {
        return Ok(cursor.page(Vec::new(), 0));
    }
    let query = || {
        let mut query = notices::table.inner_join(campaigns::table).into_boxed();
        if let Some(regions) = can.area().region_ids() {
            query = query.filter(campaigns::region_id.eq_any(regions.to_vec()));
        }
        if let Some(code) = &filter.campaign {
            query = query.filter(campaigns::code.eq(code.clone()));
        }
        if let Some(unit) = unit_filter {
            query = query.filter(
                notices::id
                    .eq_any(notice_recipients::table.filter(notice_recipients::unit_id.eq(unit)).select(notice_recipients::notice_id)),
            );
        }
        if let Some(assignment) = filter.assignment {
            query = query.filter(notices::id.eq_any(
                notice_recipients::table.filter(notice_recipients::assignment_id.eq(assignment)).select(notice_recipients::notice_id),
            ));
        }
        match filter.open {
            Some(true) => query = query.filter(notices::closed_at.is_null()),
            Some(false) => query = query.filter(notices::closed_at.is_not_null()),
            None => {}
        }
        query
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<(i64, String, String, NoticeLevel, String, DateTime<Utc>, Option<DateTime<Utc>>)> = query()
        .order(notices::id.desc())
        .limit(cursor.limit)
        .offset(cursor.offset)
        .select((notices::id, campaigns::code, notices::doc_number, notices::level, notices::title, notices::issued_at, notices::closed_at))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|row| row.0).collect();
    let recipients: Vec<(i64, RecipientState, NaiveDate, Option<NaiveDate>)> = notice_recipients::table
        .filter(notice_recipients::notice_id.eq_any(&ids))
        .select((notice_recipients::notice_id, notice_recipients::state, notice_recipients::reply_due, notice_recipients::extension_until))
        .load(conn)?;
    let today = clock::today();
    let mut items = Vec::new();
    for (id, campaign, doc_number, level, title, issued_at, closed_at) in rows {
        let mine: Vec<_> = recipients.iter().filter(|row| row.0 == id).collect();
        let state = |row: &&(i64, RecipientState, NaiveDate, Option<NaiveDate>)| row.1;
        let not_closed: Vec<_> = mine.iter().filter(|row| state(row) != RecipientState::Closed).collect();
        items.push(NoticeSummary {
            id,
            campaign,
            doc_number,
            level,
            title,
            issued_at,
            closed_at,
            next_reply_due: not_closed.iter().map(|row| row.2).min(),
            units: mine.len() as i64,
            acknowledged: mine.iter().filter(|row| state(row) != RecipientState::Sent).count() as i64,
            replied: mine.iter().filter(|row| matches!(state(row), RecipientState::Replied | RecipientState::Closed)).count() as i64,
            closed: (mine.len() - not_closed.len()) as i64,
            overdue: not_closed.iter().filter(|row| overdue(state(row), row.2, today)).count() as i64,
            extensions_pending: mine.iter().filter(|row| row.3.is_some()).count() as i64,
        });
    }
    Ok(cursor.page(items, total))
}

/// A unit is late with a notice while it has not replied by the reply date.
fn overdue(state: RecipientState, reply_due: NaiveDate, today: NaiveDate) -> bool {
    matches!(state, RecipientState::Sent | RecipientState::Acknowledged | RecipientState::Returned) && reply_due < today
}

/// One notice with every unit it addresses and their histories; the steps
/// each may take now are worked out for `caller`.
pub fn notice(conn: &mut PgConnection, caller: Option<&Caller>, id: i64) -> Result<Notice, Error> {
    #[allow(clippy::type_complexity)]
    let head: Option<(String, String, NoticeLevel, String, String, i32, DateTime<Utc>, Option<String>, Option<DateTime<Utc>>)> =
        notices::table
            .inner_join(campaigns::table)
            .left_join(users::table.on(users::id.nullable().eq(notices::issued_by)))
            .filter(notices::id.eq(id))
            .select((
                campaigns::code,
                notices::doc_number,
                notices::level,
                notices::title,
                notices::requirement,
                notices::reply_working_days,
                notices::issued_at,
                users::display_name.nullable(),
                notices::closed_at,
            ))
            .first(conn)
            .optional()?;
    let (campaign, doc_number, level, title, requirement, reply_working_days, issued_at, issued_by, closed_at) =
        head.ok_or_else(|| Error::not_found(format!("there is no notice {id}")))?;
    let files: Vec<(i64, Option<i64>, String, String, i64, Vec<u8>)> = notice_files::table
        .inner_join(blobs::table)
        .filter(notice_files::notice_id.eq(id))
        .order(notice_files::id)
        .select((notice_files::id, notice_files::event_id, notice_files::file_name, blobs::content_type, blobs::size, blobs::sha256))
        .load(conn)?;
    let file = |row: &(i64, Option<i64>, String, String, i64, Vec<u8>)| NoticeFile {
        id: row.0,
        file_name: row.2.clone(),
        size: row.4,
        content_type: row.3.clone(),
        sha256: hex::encode(&row.5),
    };
    let rows: Vec<RecipientRow> = notice_recipients::table
        .filter(notice_recipients::notice_id.eq(id))
        .order(notice_recipients::id)
        .select(RecipientRow::as_select())
        .load(conn)?;
    let assignment_ids: Vec<i64> = rows.iter().map(|row| row.assignment_id).collect();
    let refs: BTreeMap<i64, (TaskRef, UnitRef)> = assignments::table
        .inner_join(units::table)
        .inner_join(tasks::table.inner_join(campaigns::table))
        .filter(assignments::id.eq_any(&assignment_ids))
        .select((assignments::id, tasks::id, campaigns::code, tasks::code, tasks::text, units::id, units::name))
        .load::<(i64, i64, String, String, String, i64, String)>(conn)?
        .into_iter()
        .map(|(assignment, task, campaign, code, text, unit, name)| {
            (assignment, (TaskRef { id: task, campaign, code, text }, UnitRef { id: unit, name }))
        })
        .collect();
    let recipient_ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    #[allow(clippy::type_complexity)]
    let events: Vec<(i64, i64, String, Option<String>, Option<NaiveDate>, Option<String>, Option<i64>, Option<String>, DateTime<Utc>)> =
        notice_events::table
            .left_join(users::table.on(users::id.nullable().eq(notice_events::actor_id)))
            .left_join(units::table.on(units::id.nullable().eq(notice_events::actor_unit_id)))
            .filter(notice_events::recipient_id.eq_any(&recipient_ids))
            .order(notice_events::id)
            .select((
                notice_events::id,
                notice_events::recipient_id,
                notice_events::kind,
                notice_events::text,
                notice_events::until,
                users::display_name.nullable(),
                units::id.nullable(),
                units::name.nullable(),
                notice_events::at,
            ))
            .load(conn)?;
    let today = clock::today();
    let mut recipients = Vec::new();
    for row in rows {
        let state = row.state;
        let (task, unit) =
            refs.get(&row.assignment_id).cloned().ok_or_else(|| Error::internal(anyhow::anyhow!("a recipient without its assignment")))?;
        let party = caller.map_or(Party::Other, |caller| party_of(caller, row.unit_id));
        let pending = row.extension_until.is_some();
        let open_steps = NoticeStep::ALL.iter().copied().filter(|step| supervision::next(state, *step, party, pending).is_ok()).collect();
        let history = events
            .iter()
            .filter(|event| event.1 == row.id)
            .map(|event| NoticeEvent {
                id: event.0,
                kind: event.2.clone(),
                text: event.3.clone(),
                until: event.4,
                actor: event.5.clone(),
                actor_unit: event.6.zip(event.7.clone()).map(|(id, name)| UnitRef { id, name }),
                at: event.8,
                files: files.iter().filter(|file| file.1 == Some(event.0)).map(file).collect(),
            })
            .collect();
        recipients.push(NoticeRecipient {
            id: row.id,
            assignment_id: row.assignment_id,
            task,
            unit,
            state,
            reply_due: row.reply_due,
            overdue: overdue(state, row.reply_due, today),
            acknowledged_at: row.acknowledged_at,
            urged: row.urged,
            extension: row
                .extension_until
                .zip(row.extension_reason.clone())
                .zip(row.extension_asked_at)
                .map(|((until, reason), requested_at)| ExtensionRequest { until, reason, requested_at }),
            open_steps,
            history,
        });
    }
    Ok(Notice {
        id,
        campaign,
        doc_number,
        level,
        title,
        requirement,
        reply_working_days: reply_working_days as u32,
        issued_at,
        issued_by,
        closed_at,
        attachments: files.iter().filter(|row| row.1.is_none()).map(file).collect(),
        recipients,
    })
}

/// Who a caller is to a notice's unit, for showing the steps it may take;
/// the capability decides when a step is taken.
fn party_of(caller: &Caller, unit_id: i64) -> Party {
    match caller.user() {
        Some(user) if user.role == Role::LeadOffice => Party::LeadOffice,
        Some(user) if user.role.is_unit_role() && user.unit_id == Some(unit_id) => Party::Unit,
        _ => Party::Other,
    }
}

/// Whether a reader may see a notice: a unit's users only those addressed
/// to their unit (others are not found, so that their numbers say nothing).
fn check_readable(conn: &mut PgConnection, can: &ReadNotices, id: i64) -> Result<(), Error> {
    let Some(unit) = can.unit_id() else { return Ok(()) };
    let addressed: bool = diesel::select(diesel::dsl::exists(
        notice_recipients::table.filter(notice_recipients::notice_id.eq(id)).filter(notice_recipients::unit_id.eq(unit)),
    ))
    .get_result(conn)?;
    if addressed { Ok(()) } else { Err(Error::not_found(format!("there is no notice {id}"))) }
}

/// A notice, for a reader.
pub fn get(conn: &mut PgConnection, can: &ReadNotices, caller: &Caller, id: i64) -> Result<Notice, Error> {
    check_readable(conn, can, id)?;
    notice(conn, Some(caller), id)
}

/// A file of a notice or of a reply, for downloading; the download is audited.
pub fn file(
    conn: &mut PgConnection,
    can: &ReadNotices,
    caller: &Caller,
    notice_id: i64,
    file_id: i64,
) -> Result<crate::evidence::Download, Error> {
    check_readable(conn, can, notice_id)?;
    let row: Option<(Vec<u8>, i64, String, String, Option<DateTime<Utc>>)> = notice_files::table
        .inner_join(blobs::table)
        .filter(notice_files::id.eq(file_id))
        .filter(notice_files::notice_id.eq(notice_id))
        .select((blobs::sha256, blobs::size, blobs::content_type, notice_files::file_name, blobs::corrupted_at))
        .first(conn)
        .optional()?;
    let (sha, size, content_type, file_name, corrupted_at) =
        row.ok_or_else(|| Error::not_found(format!("notice {notice_id} has no file {file_id}")))?;
    let download = crate::evidence::Download {
        sha256_hex: hex::encode(sha),
        size: size as u64,
        content_type,
        file_name,
        assignment_id: 0,
        corrupted: corrupted_at.is_some(),
    };
    download.check_intact()?;
    audit::record(
        conn,
        &caller.audit_actor(),
        Event::new("notice.file_download")
            .entity("notice_file", file_id)
            .after(json!({"notice_id": notice_id, "file_name": download.file_name, "sha256": download.sha256_hex})),
    )?;
    Ok(download)
}

/// The notice as a document (.docx): its file name and bytes. Printing a
/// notice is reading it.
pub fn document(conn: &mut PgConnection, can: &ReadNotices, caller: &Caller, id: i64) -> Result<(String, Vec<u8>), Error> {
    check_readable(conn, can, id)?;
    let notice = notice(conn, Some(caller), id)?;
    let campaign_id = lookups::campaign_id(conn, &notice.campaign)?;
    let issuer = issuer(conn, campaign_id)?;
    let issued = clock::today_at(notice.issued_at);
    let bytes = crate::documents::notice::document(&notice, &issuer.organ, issued).to_bytes();
    Ok((format!("{} {}.docx", notice.doc_number, notice.title), bytes))
}

/// A notice's file did not match its hash while it was sent: it is refused
/// from now on, until someone uploads it again.
pub fn report_corrupted_file(
    conn: &mut PgConnection,
    can: &ReadNotices,
    caller: &Caller,
    download: &crate::evidence::Download,
) -> Result<(), Error> {
    let _ = can;
    crate::evidence::mark_corrupted(conn, &caller.audit_actor(), &download.sha256_hex)
}

/// A unit's leader in charge (分管领导), if the lead office has entered one.
pub fn leader(conn: &mut PgConnection, can: &ReadLeader) -> Result<Option<UnitLeader>, Error> {
    let row: Option<(String, Option<String>, Option<String>, Option<String>)> = unit_leaders::table
        .find(can.unit_id())
        .select((unit_leaders::name, unit_leaders::title, unit_leaders::email, unit_leaders::phone))
        .first(conn)
        .optional()?;
    Ok(row.map(|(name, title, email, phone)| UnitLeader { name, title, email, phone }))
}

/// The lead office enters a unit's leader in charge; audited.
pub fn set_leader(
    conn: &mut PgConnection,
    _can: &Supervise,
    caller: &Caller,
    unit_id: i64,
    leader: &UnitLeader,
) -> Result<UnitLeader, Error> {
    at_most("name", &leader.name, duban_dto::limits::NAME)?;
    for (field, value) in [("title", &leader.title), ("email", &leader.email), ("phone", &leader.phone)] {
        at_most(field, value.as_deref().unwrap_or_default(), duban_dto::limits::NAME)?;
    }
    if leader.name.trim().is_empty() {
        return Err(Error::invalid("blank", "the leader's name must not be blank"));
    }
    if leader.email.as_deref().is_some_and(|email| !crate::contacts::is_email(email)) {
        return Err(Error::invalid("invalid_email", "the e-mail address is not one"));
    }
    conn.transaction(|conn| {
        let exists: bool = diesel::select(diesel::dsl::exists(units::table.find(unit_id))).get_result(conn)?;
        if !exists {
            return Err(Error::not_found(format!("there is no unit {unit_id}")));
        }
        let values = (
            unit_leaders::name.eq(leader.name.trim()),
            unit_leaders::title.eq(&leader.title),
            unit_leaders::email.eq(&leader.email),
            unit_leaders::phone.eq(&leader.phone),
            unit_leaders::updated_at.eq(Utc::now()),
        );
        diesel::insert_into(unit_leaders::table)
            .values((unit_leaders::unit_id.eq(unit_id), values.clone()))
            .on_conflict(unit_leaders::unit_id)
            .do_update()
            .set(values)
            .execute(conn)?;
        // Contacts are personal data: the audit row names who, not how to reach them.
        audit::record(
            conn,
            &caller.audit_actor(),
            Event::new("unit.leader").entity("unit", unit_id).after(json!({"name": leader.name.trim(), "title": leader.title})),
        )?;
        Ok(leader.clone())
    })
}
