//! Reading the audit log: filters, pages newest first (keyset pagination
//! on the row id), and the rows of an export.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use duban_dto::api::{AuditEntry, Page};

use super::chain::{Actor, Event, Row, record};
use crate::authz::{Area, ReadAudit};
use crate::db::schema::{audit_log, users};
use crate::error::Error;
use crate::pagination::Cursor;

/// Filters of the audit log's list and export.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub actor_kind: Option<String>,
    pub actor_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    /// Only rows older than this id (the cursor of the previous page).
    pub before_id: Option<i64>,
}

impl Filter {
    /// The matching rows a reader of `area` may see: in a bounded area, what
    /// the area's accounts did and the failed sign-ins on them; the whole
    /// installation's processes (the scheduler, the operator) and other
    /// areas' accounts are the installation's auditors' to read.
    fn query(&self, area: &Area) -> audit_log::BoxedQuery<'static, diesel::pg::Pg> {
        let mut query = audit_log::table.into_boxed();
        if let Some(regions) = area.region_ids() {
            let accounts = users::table.filter(users::region_id.eq_any(regions.to_vec()));
            let by_account =
                audit_log::actor_kind.eq("user").and(audit_log::actor_id.eq_any(accounts.clone().select(users::id.nullable())));
            let on_account =
                audit_log::actor_kind.eq("anonymous").and(audit_log::entity_id.eq_any(accounts.select(users::username.nullable())));
            query = query.filter(by_account.or(on_account));
        }
        if let Some(from) = self.from {
            query = query.filter(audit_log::at.ge(from));
        }
        if let Some(to) = self.to {
            query = query.filter(audit_log::at.lt(to));
        }
        if let Some(kind) = &self.actor_kind {
            query = query.filter(audit_log::actor_kind.eq(kind.clone()));
        }
        if let Some(id) = self.actor_id {
            query = query.filter(audit_log::actor_id.eq(id));
        }
        if let Some(unit) = self.unit_id {
            query = query.filter(audit_log::unit_id.eq(unit));
        }
        if let Some(entity_type) = &self.entity_type {
            query = query.filter(audit_log::entity_type.eq(entity_type.clone()));
        }
        if let Some(entity_id) = &self.entity_id {
            query = query.filter(audit_log::entity_id.eq(entity_id.clone()));
        }
        if let Some(action) = &self.action {
            query = query.filter(audit_log::action.eq(action.clone()));
        }
        query
    }

    /// Matching rows, newest first, at most `limit`.
    pub(crate) fn rows(&self, conn: &mut PgConnection, area: &Area, limit: i64) -> QueryResult<Vec<Row>> {
        let mut query = self.query(area);
        if let Some(before) = self.before_id {
            query = query.filter(audit_log::id.lt(before));
        }
        query.order(audit_log::id.desc()).limit(limit).select(Row::as_select()).load(conn)
    }

    pub fn count(&self, conn: &mut PgConnection, area: &Area) -> QueryResult<i64> {
        self.query(area).count().get_result(conn)
    }
}

/// A page of matching rows, newest first. The cursor carries the last id
/// seen (in the usual opaque wrapper), so a page stays put while new rows
/// are appended.
pub fn page(conn: &mut PgConnection, can: &ReadAudit, filter: &Filter, cursor: &Cursor) -> Result<Page<AuditEntry>, Error> {
    let total = filter.count(conn, can.area())?;
    let from = Filter { before_id: (cursor.offset > 0).then_some(cursor.offset), ..filter.clone() };
    let rows = from.rows(conn, can.area(), cursor.limit)?;
    let last_id = rows.last().map(|row| row.id);
    let items: Vec<AuditEntry> = rows.into_iter().map(Row::entry).collect();
    let more = match last_id {
        Some(last) => !Filter { before_id: Some(last), ..filter.clone() }.rows(conn, can.area(), 1)?.is_empty(),
        None => false,
    };
    Ok(Page { next_cursor: more.then(|| cursor.encode_at(last_id.unwrap_or(0))), items, total, limit: cursor.limit })
}

/// At most this many rows go into one export.
pub const EXPORT_LIMIT: i64 = 100_000;

/// The rows an export of `filter` gives, read without writing (on a
/// replica, when the server has one); refused above [`EXPORT_LIMIT`].
pub fn rows_to_export(conn: &mut PgConnection, can: &ReadAudit, filter: &Filter) -> Result<Vec<Row>, Error> {
    conn.build_transaction().read_only().repeatable_read().run(|conn| {
        let total = filter.count(conn, can.area())?;
        if total > EXPORT_LIMIT {
            return Err(Error::invalid("too_many_rows", format!("{total} rows match; narrow the filters to at most {EXPORT_LIMIT}")));
        }
        Ok(filter.rows(conn, can.area(), EXPORT_LIMIT)?)
    })
}

/// Records in the audit log that `rows` rows, which reading the log
/// allowed, were exported, with the filters as the caller gave them.
pub fn record_export(
    conn: &mut PgConnection,
    _can: &ReadAudit,
    actor: &Actor,
    filters_given: serde_json::Value,
    rows: usize,
) -> Result<(), Error> {
    record(conn, actor, Event::new("audit.export").after(serde_json::json!({"filters": filters_given, "rows": rows})))?;
    Ok(())
}
