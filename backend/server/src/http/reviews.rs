use actix_web::{get, post, web};
use duban_dto::api::{Assignment, Decision, Page, Review};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use duban_rules::workflow::Step;

use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::db::lookups;
use crate::pagination::Cursor;
use crate::review;

/// The unit submits its work (evidence, measured values) for review.
#[utoipa::path(tag = "review", params(("id" = i64, Path, description = "Assignment id")), responses((status = 200, description = "The submitted assignment", body = Assignment)))]
#[post("/assignments/{id}/submit")]
pub async fn submit_assignment(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<web::Json<Assignment>, ApiError> {
    let id = id.into_inner();
    let assignment = state
        .db(move |conn| {
            let can = caller.take_step(&lookups::assignment_state(conn, id)?, Step::Submit)?;
            review::take(conn, &can, &caller, Step::Submit, None)
        })
        .await?;
    Ok(web::Json(assignment))
}

/// A lead unit accepts or returns a responsible unit's submission; the
/// lead office returns or approves accepted work. A return needs a reason.
#[utoipa::path(tag = "review", params(("id" = i64, Path, description = "Assignment id")), responses((status = 200, description = "The assignment after the decision", body = Assignment)))]
#[post("/assignments/{id}/review")]
pub async fn review_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<Review>,
) -> Result<web::Json<Assignment>, ApiError> {
    let id = id.into_inner();
    let step = Step::from(body.decision);
    let assignment = state
        .db(move |conn| {
            let can = caller.take_step(&lookups::assignment_state(conn, id)?, step)?;
            review::take(conn, &can, &caller, step, body.reason.as_deref())
        })
        .await?;
    Ok(web::Json(assignment))
}

/// Every submission and decision on an assignment, with who, when, why
/// and which evidence versions (and their hashes) each covered.
#[utoipa::path(tag = "review", params(("id" = i64, Path, description = "Assignment id")), responses((status = 200, description = "Oldest first", body = Vec<Decision>)))]
#[get("/assignments/{id}/history")]
pub async fn assignment_history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<Vec<Decision>>, ApiError> {
    let id = id.into_inner();
    let decisions = state
        .db(move |conn| {
            let assignment = lookups::assignment_state(conn, id)?;
            let can = caller.read_evidence(assignment.id, &assignment.facts)?;
            review::history(conn, &can)
        })
        .await?;
    Ok(web::Json(decisions))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    cursor: Option<String>,
    /// 1 to 200; 50 by default.
    limit: Option<i64>,
}

/// What waits for the caller's review (待审核): submissions on the tasks its
/// unit leads; for the lead office, everything submitted or accepted.
#[utoipa::path(tag = "review", params(QueueQuery), responses((status = 200, description = "Oldest first", body = Page<Assignment>)))]
#[get("/reviews")]
pub async fn review_queue(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<QueueQuery>,
) -> Result<web::Json<Page<Assignment>>, ApiError> {
    let cursor = Cursor::from_query(query.cursor.as_deref(), query.limit, &())?;
    let progress = caller.read_progress()?;
    Ok(web::Json(state.db(move |conn| review::queue(conn, &progress, &caller, &cursor)).await?))
}
