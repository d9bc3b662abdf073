//! The inbox of each user: new assignments, submissions waiting for review,
//! returns, acceptances and approvals, supervision notices and reminders.
//! Every message is published through [`crate::messages`], in the
//! transaction of its event, so that it also reaches the user's e-mail and
//! the portals' webhooks by the outbox. Deadline reminders are the
//! scheduler's ([`crate::reminders`]).

use diesel::prelude::*;
use duban_dto::api::{Notification, Page};
use duban_dto::{NotificationKind, Role};

use crate::authz::OwnAccount;
use crate::db::schema::{notifications, users};
use crate::error::Error;
use crate::messages::{self, Message};
use crate::pagination::Cursor;

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

/// Tells users about an event of the review: in their inbox, and by the
/// channels they chose.
pub fn send(conn: &mut PgConnection, to: &[i64], kind: NotificationKind, assignment_id: Option<i64>, text: &str) -> QueryResult<()> {
    let mut message = Message::new(kind, format!("【督办】{}", kind.zh_name()), text);
    if let Some(assignment) = assignment_id {
        message = message.about_assignment(assignment);
    }
    messages::publish(conn, to, &message)
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
    notice_id: Option<i64>,
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
            notice_id: row.notice_id,
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
