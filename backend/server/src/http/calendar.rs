use actix_web::{HttpResponse, delete, get, put, web};
use chrono::NaiveDate;
use duban_dto::api::{CalendarDay, CalendarOverride};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::calendar as days;

#[derive(Debug, Clone, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    from: NaiveDate,
    /// At most 366 days after `from`.
    to: NaiveDate,
}

/// The working-day calendar: which days are working days, and why.
#[utoipa::path(tag = "calendar", params(RangeQuery), responses((status = 200, description = "Every day of the range", body = Vec<CalendarDay>)))]
#[get("/calendar")]
pub async fn list_calendar_days(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<RangeQuery>,
) -> Result<web::Json<Vec<CalendarDay>>, ApiError> {
    caller.read_catalog()?;
    Ok(web::Json(state.db(move |conn| days::list(conn, query.from, query.to)).await?))
}

/// Declares a day a working day or a holiday, e.g. next year's schedule.
#[utoipa::path(tag = "calendar", params(("day" = NaiveDate, Path, description = "YYYY-MM-DD")), responses((status = 204, description = "Set")))]
#[put("/calendar/{day}")]
pub async fn set_calendar_day(
    state: web::Data<AppState>,
    caller: Caller,
    day: web::Path<NaiveDate>,
    body: web::Json<CalendarOverride>,
) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_calendar()?;
    let day = day.into_inner();
    state.db(move |conn| days::set(conn, &can, &caller, day, &body)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes an override: the published schedule applies again.
#[utoipa::path(tag = "calendar", params(("day" = NaiveDate, Path, description = "YYYY-MM-DD")), responses((status = 204, description = "Removed")))]
#[delete("/calendar/{day}")]
pub async fn clear_calendar_day(state: web::Data<AppState>, caller: Caller, day: web::Path<NaiveDate>) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_calendar()?;
    let day = day.into_inner();
    state.db(move |conn| days::clear(conn, &can, &caller, day)).await?;
    Ok(HttpResponse::NoContent().finish())
}
