use actix_web::{HttpResponse, get, post, put, web};
use duban_dto::api::{Measurement, NewMeasurement, ReferenceValue, TargetEvaluation};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::db::lookups;
use crate::quantified as records;

/// The unit reports a measured value of one of its quantified task's
/// targets for a period; duban says whether it meets the target.
#[utoipa::path(tag = "quantified", params(("id" = i64, Path, description = "Assignment id")), responses((status = 201, description = "The measurement, evaluated", body = Measurement)))]
#[post("/assignments/{id}/measurements")]
pub async fn report_measurement(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<NewMeasurement>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let measurement = state
        .db(move |conn| {
            let can = caller.work_on(&lookups::assignment_state(conn, id)?)?;
            records::report(conn, &can, &caller, &body)
        })
        .await?;
    Ok(HttpResponse::Created().json(measurement))
}

#[derive(Debug, Clone, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// `2026` or `2026-06`.
    period: String,
}

/// Each target of a quantified task with every unit's measured value for a
/// period, and whether it is met.
#[utoipa::path(tag = "quantified", params(("id" = i64, Path, description = "Task id"), PeriodQuery), responses((status = 200, description = "The task's targets, evaluated", body = Vec<TargetEvaluation>)))]
#[get("/tasks/{id}/evaluation")]
pub async fn evaluate_task_targets(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    query: web::Query<PeriodQuery>,
) -> Result<web::Json<Vec<TargetEvaluation>>, ApiError> {
    let can = caller.read_progress()?;
    let id = id.into_inner();
    Ok(web::Json(state.db(move |conn| records::evaluation(conn, &can, id, &query.period)).await?))
}

/// The lead office enters the figure a relative target is compared with
/// for a period (Q22: last year's national average).
#[utoipa::path(
    tag = "quantified",
    params(("id" = i64, Path, description = "Task id"), ("position" = i16, Path, description = "Target position, from 1")),
    responses((status = 204, description = "Set"))
)]
#[put("/tasks/{id}/targets/{position}/reference")]
pub async fn set_reference(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, i16)>,
    body: web::Json<ReferenceValue>,
) -> Result<HttpResponse, ApiError> {
    let can = caller.set_reference()?;
    let (id, position) = path.into_inner();
    state.db(move |conn| records::set_reference(conn, &can, &caller, id, position, &body)).await?;
    Ok(HttpResponse::NoContent().finish())
}
