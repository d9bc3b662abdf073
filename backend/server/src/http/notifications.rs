use actix_web::{HttpResponse, get, post, web};
use duban_dto::api::{Notification, Page};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::notifications;
use crate::pagination::Cursor;

#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// Only unread notifications.
    unread: Option<bool>,
    cursor: Option<String>,
    /// 1 to 200; 50 by default.
    limit: Option<i64>,
}

/// The signed-in user's notifications, newest first.
#[utoipa::path(tag = "notifications", params(InboxQuery), responses((status = 200, description = "A page of notifications", body = Page<Notification>)))]
#[get("/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<InboxQuery>,
) -> Result<web::Json<Page<Notification>>, ApiError> {
    let own = caller.own_account()?;
    let unread = query.unread.unwrap_or(false);
    let cursor = Cursor::from_query(query.cursor.as_deref(), query.limit, &unread)?;
    Ok(web::Json(state.db(move |conn| notifications::list(conn, &own, unread, &cursor)).await?))
}

#[utoipa::path(tag = "notifications", params(("id" = i64, Path, description = "Notification id")), responses((status = 204, description = "Marked read")))]
#[post("/notifications/{id}/read")]
pub async fn mark_notification_read(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let own = caller.own_account()?;
    let id = id.into_inner();
    state.db(move |conn| notifications::mark_read(conn, &own, Some(id))).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(tag = "notifications", responses((status = 204, description = "All marked read")))]
#[post("/notifications/read-all")]
pub async fn mark_all_notifications_read(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let own = caller.own_account()?;
    state.db(move |conn| notifications::mark_read(conn, &own, None)).await?;
    Ok(HttpResponse::NoContent().finish())
}
