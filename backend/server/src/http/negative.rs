use actix_web::{HttpResponse, get, post, web};
use duban_dto::api::{NegativeReport, NegativeStatus, NewNegativeReport};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::negative;

/// A unit attests that a negative-list item did not occur in a period, or
/// reports that it did. A report for the same item and period replaces the
/// earlier one, unless that was a confirmed occurrence.
#[utoipa::path(
    tag = "negative list",
    params(("code" = String, Path, description = "Campaign code")),
    responses((status = 201, description = "The report", body = NegativeReport))
)]
#[post("/campaigns/{code}/negative-reports")]
pub async fn report_negative(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    body: web::Json<NewNegativeReport>,
) -> Result<HttpResponse, ApiError> {
    let can = caller.report_negative(body.unit_id)?;
    let saved = state.db(move |conn| negative::report(conn, &can, &caller, &code, &body)).await?;
    Ok(HttpResponse::Created().json(saved))
}

/// The lead office confirms a reported occurrence: the campaign is vetoed (否决).
#[utoipa::path(tag = "negative list", params(("id" = i64, Path, description = "Report id")), responses((status = 200, description = "The confirmed report", body = NegativeReport)))]
#[post("/negative-reports/{id}/confirm")]
pub async fn confirm_negative_report(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<NegativeReport>, ApiError> {
    let can = caller.confirm_negative()?;
    let id = id.into_inner();
    Ok(web::Json(state.db(move |conn| negative::confirm(conn, &can, &caller, id)).await?))
}

#[derive(Debug, Clone, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// `2026` or `2026-06`.
    period: String,
}

/// The negative list for a period: attestations, units yet to report,
/// occurrences, and whether the campaign is vetoed.
#[utoipa::path(tag = "negative list", params(("code" = String, Path, description = "Campaign code"), PeriodQuery), responses((status = 200, description = "The list's status", body = NegativeStatus)))]
#[get("/campaigns/{code}/negative-status")]
pub async fn negative_status(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    query: web::Query<PeriodQuery>,
) -> Result<web::Json<NegativeStatus>, ApiError> {
    let can = caller.read_progress()?;
    Ok(web::Json(state.db(move |conn| negative::status(conn, &can, &code, &query.period)).await?))
}
