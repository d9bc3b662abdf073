//! Scores and the scoring scheme.

use actix_web::{get, put, web};
use chrono::NaiveDate;
use duban_dto::api::{CampaignScores, Problem, ScoringScheme, UnitScoreDetail};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::{clock, scores};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// The scores as they stood at the end of this day (China time); today
    /// by default. A day to come is refused.
    as_of: Option<NaiveDate>,
}

/// The campaign's score and its units', ranked within their kind, each with
/// the counts it is made of.
#[utoipa::path(
    tag = "scores",
    params(("code" = String, Path, description = "Campaign code, e.g. luoping"), AsOfQuery),
    responses(
        (status = 200, description = "The scores", body = CampaignScores),
        (status = 404, description = "No such campaign", body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/campaigns/{code}/scores")]
pub async fn campaign_scores(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    query: web::Query<AsOfQuery>,
) -> Result<web::Json<CampaignScores>, ApiError> {
    let can = caller.read_progress()?;
    let as_of = query.as_of.unwrap_or_else(clock::today);
    Ok(web::Json(state.db(move |conn| scores::campaign_scores(conn, &can, &code, as_of)).await?))
}

/// One unit's score with every assignment and notice that went into it.
#[utoipa::path(
    tag = "scores",
    params(("code" = String, Path, description = "Campaign code"), ("unit_id" = i64, Path, description = "Unit id"), AsOfQuery),
    responses(
        (status = 200, description = "The unit's score and its inputs", body = UnitScoreDetail),
        (status = 404, description = "No such campaign, or the unit has no work in it", body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/campaigns/{code}/scores/units/{unit_id}")]
pub async fn unit_score(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, i64)>,
    query: web::Query<AsOfQuery>,
) -> Result<web::Json<UnitScoreDetail>, ApiError> {
    let can = caller.read_progress()?;
    let (code, unit_id) = path.into_inner();
    let as_of = query.as_of.unwrap_or_else(clock::today);
    Ok(web::Json(state.db(move |conn| scores::unit_detail(conn, &can, &code, unit_id, as_of)).await?))
}

/// How the campaign is scored.
#[utoipa::path(
    tag = "scores",
    params(("code" = String, Path, description = "Campaign code")),
    responses(
        (status = 200, description = "The scheme", body = ScoringScheme),
        (status = 404, description = "No such campaign", body = Problem, content_type = "application/problem+json")
    )
)]
#[get("/campaigns/{code}/scoring-scheme")]
pub async fn get_scheme(state: web::Data<AppState>, caller: Caller, code: web::Path<String>) -> Result<web::Json<ScoringScheme>, ApiError> {
    let can = caller.read_progress()?;
    Ok(web::Json(state.db(move |conn| scores::read_scheme(conn, &can, &code)).await?))
}

/// Replaces how the campaign is scored (lead office); audited.
#[utoipa::path(
    tag = "scores",
    params(("code" = String, Path, description = "Campaign code")),
    request_body = ScoringScheme,
    responses(
        (status = 200, description = "The scheme now in force", body = ScoringScheme),
        (status = 404, description = "No such campaign", body = Problem, content_type = "application/problem+json")
    )
)]
#[put("/campaigns/{code}/scoring-scheme")]
pub async fn set_scheme(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    body: web::Json<ScoringScheme>,
) -> Result<web::Json<ScoringScheme>, ApiError> {
    let can = caller.manage_scoring()?;
    let scheme = body.into_inner();
    Ok(web::Json(state.db(move |conn| scores::set_scheme(conn, &can, &caller, &code, &scheme)).await?))
}
