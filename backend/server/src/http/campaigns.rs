use actix_web::{get, web};
use duban_dto::api::{CampaignSummary, Indicator};

use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::catalog;

/// Every campaign with its task counts per list.
#[utoipa::path(tag = "campaigns", responses((status = 200, description = "All campaigns, oldest first", body = Vec<CampaignSummary>)))]
#[get("/campaigns")]
pub async fn list_campaigns(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<Vec<CampaignSummary>>, ApiError> {
    let can = caller.read_catalog()?;
    Ok(web::Json(state.db(move |conn| catalog::campaigns(conn, &can)).await?))
}

#[utoipa::path(
    tag = "campaigns",
    params(("code" = String, Path, description = "Campaign code, e.g. luoping")),
    responses((status = 200, description = "The campaign", body = CampaignSummary))
)]
#[get("/campaigns/{code}")]
pub async fn get_campaign(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
) -> Result<web::Json<CampaignSummary>, ApiError> {
    let can = caller.read_catalog()?;
    Ok(web::Json(state.db(move |conn| catalog::campaign(conn, &can, &code)).await?))
}

/// The indicator tree: level-1 indicators with their level-2 children and task counts.
#[utoipa::path(
    tag = "campaigns",
    params(("code" = String, Path, description = "Campaign code, e.g. luoping")),
    responses((status = 200, description = "Level-1 indicators in order, each with its children", body = Vec<Indicator>))
)]
#[get("/campaigns/{code}/indicators")]
pub async fn indicator_tree(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
) -> Result<web::Json<Vec<Indicator>>, ApiError> {
    let can = caller.read_catalog()?;
    Ok(web::Json(state.db(move |conn| catalog::indicator_tree(conn, &can, &code)).await?))
}
