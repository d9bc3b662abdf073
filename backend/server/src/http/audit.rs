use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use duban_dto::api::{AuditEntry, Page};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{ApiError, AppState};
use crate::audit::{self, Event, Filter};
use crate::authz::Caller;
use crate::pagination;

/// Filters of the audit log.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Rows at or after this time (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Rows before this time (RFC 3339).
    to: Option<DateTime<Utc>>,
    /// `user`, `api_client`, `system` or `anonymous`.
    actor_kind: Option<String>,
    actor_id: Option<i64>,
    unit_id: Option<i64>,
    entity_type: Option<String>,
    entity_id: Option<String>,
    /// e.g. `auth.login_failed`.
    action: Option<String>,
    /// From `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1 to 200; 50 by default.
    limit: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> Filter {
        Filter {
            from: self.from,
            to: self.to,
            actor_kind: self.actor_kind.clone(),
            actor_id: self.actor_id,
            unit_id: self.unit_id,
            entity_type: self.entity_type.clone(),
            entity_id: self.entity_id.clone(),
            action: self.action.clone(),
            before_id: None,
        }
    }

    fn fingerprint(&self) -> AuditQuery {
        AuditQuery { cursor: None, limit: None, ..self.clone() }
    }
}

/// The audit log, newest first.
#[utoipa::path(tag = "audit", params(AuditQuery), responses((status = 200, description = "A page of audit rows", body = Page<AuditEntry>)))]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<Page<AuditEntry>>, ApiError> {
    let _can = caller.read_audit()?;
    let query = query.into_inner();
    // Keyset pagination: the cursor is the last id seen, inside the usual opaque wrapper.
    let cursor = pagination::Cursor::from_query(query.cursor.as_deref(), query.limit, &query.fingerprint())?;
    let page = state
        .db(move |conn| {
            let mut filter = query.filter();
            let total = filter.count(conn)?;
            if cursor.offset > 0 {
                filter.before_id = Some(cursor.offset);
            }
            let rows = filter.rows(conn, cursor.limit)?;
            let last_id = rows.last().map(|row| row.id);
            let items: Vec<AuditEntry> = rows.into_iter().map(audit::Row::entry).collect();
            let more = match last_id {
                Some(last) => {
                    let remaining = Filter { before_id: Some(last), ..query.filter() };
                    !remaining.rows(conn, 1)?.is_empty()
                }
                None => false,
            };
            Ok(Page { next_cursor: more.then(|| cursor.encode_at(last_id.unwrap_or(0))), items, total, limit: cursor.limit })
        })
        .await?;
    Ok(web::Json(page))
}

/// At most this many rows go into one CSV export.
const EXPORT_LIMIT: i64 = 100_000;

/// The audit log as CSV (UTF-8 with BOM, so Excel and WPS read Chinese
/// correctly). The export itself is audited.
#[utoipa::path(tag = "audit", params(AuditQuery), responses((status = 200, description = "CSV of the matching rows", content_type = "text/csv", body = String)))]
#[get("/audit/export")]
pub async fn export_audit(state: web::Data<AppState>, caller: Caller, query: web::Query<AuditQuery>) -> Result<HttpResponse, ApiError> {
    let _can = caller.read_audit()?;
    let query = query.into_inner();
    if query.cursor.is_some() || query.limit.is_some() {
        return Err(ApiError::bad_request("invalid_query", "the export takes filters only, not cursor or limit"));
    }
    let csv = state
        .db(move |conn| {
            let filter = query.filter();
            let total = filter.count(conn)?;
            if total > EXPORT_LIMIT {
                return Err(ApiError::unprocessable(
                    "too_many_rows",
                    format!("{total} rows match; narrow the filters to at most {EXPORT_LIMIT}"),
                ));
            }
            let rows = filter.rows(conn, EXPORT_LIMIT)?;
            audit::record(
                conn,
                &caller.audit_actor(),
                Event::new("audit.export").after(serde_json::json!({"filters": query.fingerprint(), "rows": rows.len()})),
            )?;
            let mut bytes = "\u{feff}".as_bytes().to_vec();
            bytes.extend(audit::to_csv(&rows));
            Ok(bytes)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"duban-audit.csv\""))
        .body(csv))
}
