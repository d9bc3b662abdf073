use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDate;
use duban_dto::api::{Assignment, AssignmentPatch, AssignmentsCreated, NewAssignments, Page};
use duban_dto::{AssignmentStatus, PartyRole};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::db::lookups;
use crate::error::Error;
use crate::pagination::Cursor;
use crate::work::{self, AssignmentFilter};

#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AssignmentQuery {
    /// Campaign code.
    campaign: Option<String>,
    /// Task id.
    task: Option<i64>,
    /// Unit id.
    unit: Option<i64>,
    role: Option<PartyRole>,
    status: Option<AssignmentStatus>,
    overdue: Option<bool>,
    /// Due before this date.
    due_before: Option<NaiveDate>,
    /// Unapproved and due within this many working days (Chinese calendar,
    /// 调休 included) from today, 0 to 250.
    due_within_working_days: Option<u32>,
    cursor: Option<String>,
    /// 1 to 200; 50 by default.
    limit: Option<i64>,
}

/// Assignments, earliest due first.
#[utoipa::path(tag = "assignments", params(AssignmentQuery), responses((status = 200, description = "A page of assignments", body = Page<Assignment>)))]
#[get("/assignments")]
pub async fn list_assignments(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AssignmentQuery>,
) -> Result<web::Json<Page<Assignment>>, ApiError> {
    let can = caller.read_progress()?;
    let filter = AssignmentFilter {
        campaign: query.campaign.clone(),
        task: query.task,
        unit: query.unit,
        role: query.role,
        status: query.status,
        overdue: query.overdue,
        due_before: query.due_before,
        due_within_working_days: query.due_within_working_days,
    };
    let cursor = Cursor::from_query(query.cursor.as_deref(), query.limit, &filter)?;
    Ok(web::Json(state.read(move |conn| work::assignments(conn, &can, &filter, &cursor)).await?))
}

fn with_etag(status: actix_web::http::StatusCode, assignment: &Assignment) -> HttpResponse {
    let mut response = HttpResponse::build(status).json(assignment);
    if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", assignment.version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// One assignment, with its version as the ETag.
#[utoipa::path(tag = "assignments", params(("id" = i64, Path, description = "Assignment id")), responses((status = 200, description = "The assignment", body = Assignment, headers(("ETag" = String, description = "The assignment's version")))))]
#[get("/assignments/{id}")]
pub async fn get_assignment(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let can = caller.read_progress()?;
    let id = id.into_inner();
    let assignment = state.db(move |conn| work::assignment(conn, &can, id)).await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, &assignment))
}

/// Assigns units to a task: listed units, and every member of a group at once.
#[utoipa::path(tag = "assignments", params(("id" = i64, Path, description = "Task id")), responses((status = 201, description = "Assignments made, and those that already existed", body = AssignmentsCreated)))]
#[post("/tasks/{id}/assignments")]
pub async fn create_assignments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<NewAssignments>,
) -> Result<HttpResponse, ApiError> {
    let can = caller.assign()?;
    let id = id.into_inner();
    let created = state.db(move |conn| work::create(conn, &can, &caller, id, &body)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// The version an `If-Match` header names; `*` means whatever is current.
pub(super) fn expected_version(request: &HttpRequest) -> Result<Option<i32>, ApiError> {
    let Some(value) = request.headers().get(header::IF_MATCH) else {
        return Err(ApiError::PreconditionRequired {
            detail: "send If-Match with the ETag you read, so that concurrent edits cannot overwrite each other".to_owned(),
        });
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let version = text
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i32>()
        .map_err(|_| Error::Stale(format!("If-Match {text:?} is not an ETag of this assignment")))?;
    Ok(Some(version))
}

/// Changes an assignment: the lead office sets due dates; the unit reports
/// progress. Requires If-Match with the current ETag (412 if stale, 428 if missing).
#[utoipa::path(
    tag = "assignments",
    params(("id" = i64, Path, description = "Assignment id"), ("If-Match" = String, Header, description = "The ETag of the version being changed")),
    responses((status = 200, description = "The changed assignment", body = Assignment, headers(("ETag" = String, description = "The new version"))))
)]
#[patch("/assignments/{id}")]
pub async fn update_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<AssignmentPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let expected = expected_version(&request)?;
    let assignment = state
        .db(move |conn| {
            let editor = caller.edit_assignment(&lookups::assignment_state(conn, id)?)?;
            work::update(conn, &editor, &caller, expected, &body)
        })
        .await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, &assignment))
}

/// Removes an assignment on which no work has started.
#[utoipa::path(tag = "assignments", params(("id" = i64, Path, description = "Assignment id")), responses((status = 204, description = "Removed")))]
#[delete("/assignments/{id}")]
pub async fn delete_assignment(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let can = caller.assign()?;
    let id = id.into_inner();
    state.db(move |conn| work::delete(conn, &can, &caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
