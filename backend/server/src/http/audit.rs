use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use duban_dto::api::{AuditEntry, Page};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{ApiError, AppState};
use crate::audit::{self, Filter};
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
    let can = caller.read_audit()?;
    let query = query.into_inner();
    let cursor = pagination::Cursor::from_query(query.cursor.as_deref(), query.limit, &query.fingerprint())?;
    Ok(web::Json(state.read(move |conn| audit::query::page(conn, &can, &query.filter(), &cursor)).await?))
}

/// The audit log as CSV (UTF-8 with BOM, so Excel and WPS read Chinese
/// correctly). The export itself is audited.
#[utoipa::path(tag = "audit", params(AuditQuery), responses((status = 200, description = "CSV of the matching rows", content_type = "text/csv", body = String)))]
#[get("/audit/export")]
pub async fn export_audit(state: web::Data<AppState>, caller: Caller, query: web::Query<AuditQuery>) -> Result<HttpResponse, ApiError> {
    let can = caller.read_audit()?;
    let query = query.into_inner();
    if query.cursor.is_some() || query.limit.is_some() {
        return Err(ApiError::malformed("invalid_query", "the export takes filters only, not cursor or limit"));
    }
    let given = serde_json::to_value(query.fingerprint()).map_err(crate::error::Error::internal)?;
    let filter = query.filter();
    // Read where reads may lag (a replica), recorded on the primary before it is sent.
    let rows = state.read(move |conn| audit::query::rows_to_export(conn, &can, &filter)).await?;
    let actor = caller.audit_actor();
    let recording = caller.read_audit()?;
    let rows = state.db(move |conn| audit::query::record_export(conn, &recording, &actor, given, rows.len()).map(|()| rows)).await?;
    let mut csv = "\u{feff}".as_bytes().to_vec();
    csv.extend(audit::csv::to_csv(&rows));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"duban-audit.csv\""))
        .body(csv))
}
