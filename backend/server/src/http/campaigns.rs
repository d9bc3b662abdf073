use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use duban_dto::api::{CampaignSummary, Dashboard, Indicator, NewCampaign, ProvinceDashboard};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::evidence::content_disposition;
use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::export::{self, BreakdownFile, ExportedFile};
use crate::{catalog, dashboard};

/// Every campaign with its task counts per list.
/// Starts a county's campaign from another campaign's checklist (the
/// province's indicators, tasks and targets, without that county's units);
/// the county then imports its own breakdown table into it, or assigns.
#[utoipa::path(
    tag = "campaigns",
    request_body = NewCampaign,
    responses(
        (status = 201, description = "The new campaign", body = CampaignSummary),
        (status = 404, description = "No such template campaign", body = duban_dto::api::Problem, content_type = "application/problem+json")
    )
)]
#[post("/campaigns")]
pub async fn create_campaign(state: web::Data<AppState>, caller: Caller, body: web::Json<NewCampaign>) -> Result<HttpResponse, ApiError> {
    let can = caller.start_campaigns()?;
    let new = body.into_inner();
    let created = state.db(move |conn| crate::templates::create_campaign(conn, &can, &caller, &new)).await?;
    Ok(HttpResponse::Created().json(created))
}

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

/// The breakdown table with progress as a workbook: one sheet per list
/// (基础任务清单, 量化任务清单, 延伸任务清单, 负面清单) in the province's layout
/// with merged 一级/二级 cells, then the per-unit task list (单位任务清单).
/// Importing it again changes nothing. Each export is audited.
#[utoipa::path(
    tag = "campaigns",
    params(("code" = String, Path, description = "Campaign code, e.g. luoping")),
    responses((status = 200, description = "The workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = inline(super::openapi::Binary)))
)]
#[get("/campaigns/{code}/export.xlsx")]
pub async fn export_workbook(state: web::Data<AppState>, caller: Caller, code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    export_file(state, caller, code.into_inner(), BreakdownFile::Workbook).await
}

/// Which table a CSV export holds.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CsvTable {
    /// The breakdown table in the flat format, one row per task.
    #[default]
    Tasks,
    /// The per-unit task list (单位任务清单), one row per assignment.
    Units,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CsvExportQuery {
    /// `tasks` (the default) or `units`.
    table: Option<CsvTable>,
}

/// The breakdown table with progress as CSV (UTF-8 with a BOM), in the flat
/// format `duban import` and `POST /imports` read back; or the per-unit
/// task list. Each export is audited.
#[utoipa::path(
    tag = "campaigns",
    params(("code" = String, Path, description = "Campaign code, e.g. luoping"), CsvExportQuery),
    responses((status = 200, description = "The CSV file", content_type = "text/csv", body = String))
)]
#[get("/campaigns/{code}/export.csv")]
pub async fn export_csv(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    query: web::Query<CsvExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let file = match query.table.unwrap_or_default() {
        CsvTable::Tasks => BreakdownFile::TasksCsv,
        CsvTable::Units => BreakdownFile::UnitTasksCsv,
    };
    export_file(state, caller, code.into_inner(), file).await
}

async fn export_file(state: web::Data<AppState>, caller: Caller, code: String, file: BreakdownFile) -> Result<HttpResponse, ApiError> {
    let catalog = caller.read_catalog()?;
    let progress = caller.read_progress()?;
    let actor = caller.audit_actor();
    let recording = caller.read_catalog()?;
    // Made where reads may lag (a replica), recorded on the primary before it is sent.
    let read_code = code.clone();
    let exported = state.read(move |conn| export::make_breakdown_file(conn, &catalog, &progress, &read_code, file)).await?;
    let ExportedFile { file_name, content_type, bytes } =
        state.db(move |conn| export::record_breakdown_export(conn, &recording, &actor, &code, &exported).map(|()| exported)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_DISPOSITION, content_disposition(&file_name, false)))
        .body(bytes))
}

/// Where the campaign stands today: per list, level-1 and level-2
/// indicator and unit; overdue counts; schedule lights; quantified targets
/// met this year; the negative list and its veto.
#[utoipa::path(
    tag = "campaigns",
    params(("code" = String, Path, description = "Campaign code, e.g. luoping")),
    responses((status = 200, description = "The dashboard", body = Dashboard))
)]
#[get("/campaigns/{code}/dashboard")]
pub async fn campaign_dashboard(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
) -> Result<web::Json<Dashboard>, ApiError> {
    let catalog = caller.read_catalog()?;
    let progress = caller.read_progress()?;
    let kept = state.kept.clone();
    Ok(web::Json(state.read(move |conn| dashboard::dashboard(conn, &kept, &catalog, &progress, &code)).await?))
}

/// Every campaign at once (a province running the checklist in all its
/// counties): each county's progress and schedule lights, and the totals.
#[utoipa::path(tag = "campaigns", responses((status = 200, description = "The province's dashboard", body = ProvinceDashboard)))]
#[get("/dashboard")]
pub async fn province_dashboard(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<ProvinceDashboard>, ApiError> {
    let catalog = caller.read_catalog()?;
    let progress = caller.read_progress()?;
    let kept = state.kept.clone();
    Ok(web::Json(state.read(move |conn| dashboard::province(conn, &kept, &catalog, &progress)).await?))
}
