//! The inbox of each user: new assignments, submissions waiting for review,
//! returns, acceptances and approvals — written in the transaction of the
//! event — and deadline notices, written by a sweep that runs while duban
//! serves, each notice once per due date.

use chrono::NaiveDate;
use diesel::prelude::*;
use duban_dto::api::{Notification, Page};
use duban_dto::{AssignmentStatus, NotificationKind, Role};

use crate::authz::{Operator, OwnAccount};
use crate::db::schema::{notifications, users};
use crate::error::Error;
use crate::pagination::Cursor;
use duban_rules::calendar::Calendar;

/// Working days before its due date an assignment counts as due soon.
pub const DUE_SOON_WORKING_DAYS: u32 = 3;

/// The enabled users who work for a unit.
fn unit_users(conn: &mut PgConnection, unit_id: i64) -> QueryResult<Vec<i64>> {
    users::table
        .filter(users::unit_id.eq(unit_id))
        .filter(users::role.eq_any([Role::UnitManager.as_str(), Role::UnitStaff.as_str()]))
        .filter(users::disabled_at.is_null())
        .select(users::id)
        .load(conn)
}

pub fn lead_office_users(conn: &mut PgConnection) -> QueryResult<Vec<i64>> {
    users::table.filter(users::role.eq(Role::LeadOffice.as_str())).filter(users::disabled_at.is_null()).select(users::id).load(conn)
}

pub fn send(conn: &mut PgConnection, to: &[i64], kind: NotificationKind, assignment_id: Option<i64>, message: &str) -> QueryResult<()> {
    let rows: Vec<_> = to
        .iter()
        .map(|user| {
            (
                notifications::user_id.eq(*user),
                notifications::kind.eq(kind.as_str()),
                notifications::assignment_id.eq(assignment_id),
                notifications::message.eq(message),
            )
        })
        .collect();
    diesel::insert_into(notifications::table).values(&rows).execute(conn).map(drop)
}

/// Tells a unit's users about one of its assignments.
pub fn send_to_unit(conn: &mut PgConnection, unit_id: i64, kind: NotificationKind, assignment_id: i64, message: &str) -> QueryResult<()> {
    let to = unit_users(conn, unit_id)?;
    send(conn, &to, kind, Some(assignment_id), message)
}

/// Tells the users of several units.
pub fn send_to_units(
    conn: &mut PgConnection,
    unit_ids: &[i64],
    kind: NotificationKind,
    assignment_id: i64,
    message: &str,
) -> QueryResult<()> {
    for unit in unit_ids {
        send_to_unit(conn, *unit, kind, assignment_id, message)?;
    }
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = notifications, check_for_backend(diesel::pg::Pg))]
struct NotificationRow {
    id: i64,
    kind: NotificationKind,
    message: String,
    assignment_id: Option<i64>,
    created_at: chrono::DateTime<chrono::Utc>,
    read_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub fn list(conn: &mut PgConnection, own: &OwnAccount, unread_only: bool, cursor: &Cursor) -> Result<Page<Notification>, Error> {
    let user_id = own.user_id();
    let query = || {
        let mut query = notifications::table.filter(notifications::user_id.eq(user_id)).into_boxed();
        if unread_only {
            query = query.filter(notifications::read_at.is_null());
        }
        query
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<NotificationRow> = query()
        .order(notifications::id.desc())
        .limit(cursor.limit)
        .offset(cursor.offset)
        .select(NotificationRow::as_select())
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|row| Notification {
            id: row.id,
            kind: row.kind,
            message: row.message,
            assignment_id: row.assignment_id,
            created_at: row.created_at,
            read: row.read_at.is_some(),
        })
        .collect();
    Ok(cursor.page(items, total))
}

/// Marks one of the user's notifications read, or all of them.
pub fn mark_read(conn: &mut PgConnection, own: &OwnAccount, id: Option<i64>) -> Result<(), Error> {
    let user_id = own.user_id();
    let mut query = diesel::update(notifications::table)
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .into_boxed();
    if let Some(id) = id {
        let exists: bool = diesel::select(diesel::dsl::exists(notifications::table.find(id).filter(notifications::user_id.eq(user_id))))
            .get_result(conn)?;
        if !exists {
            return Err(Error::not_found(format!("you have no notification {id}")));
        }
        query = query.filter(notifications::id.eq(id));
    }
    query.set(notifications::read_at.eq(diesel::dsl::now)).execute(conn)?;
    Ok(())
}

/// Sends "due soon" and "overdue" notices for unapproved assignments, each
/// once per assignment, kind and due date, to the users of the
/// assignment's unit. Returns how many were sent.
///
/// One statement, whatever the number of assignments: at provincial scale
/// a million assignments may be late at once, and a loop over them held a
/// connection and hundreds of MiB for minutes (`cargo xtask bench`).
pub fn sweep_deadlines(conn: &mut PgConnection, _can: &Operator, calendar: &Calendar, today: NaiveDate) -> QueryResult<usize> {
    let soon_until = calendar.add_working_days(today, DUE_SOON_WORKING_DAYS);
    diesel::sql_query(
        "INSERT INTO notifications (user_id, kind, assignment_id, message, due_date)
         SELECT u.id,
                CASE WHEN a.due_date < $1 THEN $3 ELSE $4 END,
                a.id,
                CASE WHEN a.due_date < $1 THEN '任务 ' || t.code || ' 已逾期：应于 ' || to_char(a.due_date, 'YYYY-MM-DD') || ' 完成。'
                     ELSE '任务 ' || t.code || ' 将于 ' || to_char(a.due_date, 'YYYY-MM-DD') || ' 到期。' END,
                a.due_date
         FROM assignments a
         JOIN tasks t ON t.id = a.task_id
         JOIN users u ON u.unit_id = a.unit_id AND u.disabled_at IS NULL AND u.role IN ($5, $6)
         WHERE a.status <> $7 AND a.due_date <= $2
         ON CONFLICT DO NOTHING",
    )
    .bind::<diesel::sql_types::Date, _>(today)
    .bind::<diesel::sql_types::Date, _>(soon_until)
    .bind::<diesel::sql_types::Text, _>(NotificationKind::Overdue.as_str())
    .bind::<diesel::sql_types::Text, _>(NotificationKind::DueSoon.as_str())
    .bind::<diesel::sql_types::Text, _>(Role::UnitManager.as_str())
    .bind::<diesel::sql_types::Text, _>(Role::UnitStaff.as_str())
    .bind::<diesel::sql_types::Text, _>(AssignmentStatus::Approved.as_str())
    .execute(conn)
}
