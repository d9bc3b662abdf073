use actix_web::{HttpResponse, delete, get, patch, post, web};
use duban_dto::UnitKind;
use duban_dto::api::{NewUnit, NewUnitGroup, Page, Unit, UnitGroup, UnitGroupPatch, UnitMerge, UnitPatch, UnitRef};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::pagination::Cursor;
use crate::units::{self, UnitFilter};

#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UnitQuery {
    /// County name, e.g. 罗平县.
    region: Option<String>,
    kind: Option<UnitKind>,
    law_enforcement: Option<bool>,
    /// Part of a name or alias.
    q: Option<String>,
    cursor: Option<String>,
    /// 1 to 200; 50 by default.
    limit: Option<i64>,
}

/// Units, in roster order.
#[utoipa::path(tag = "units", params(UnitQuery), responses((status = 200, description = "A page of units", body = Page<Unit>)))]
#[get("/units")]
pub async fn list_units(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<UnitQuery>,
) -> Result<web::Json<Page<Unit>>, ApiError> {
    let can = caller.read_catalog()?;
    let filter = UnitFilter { region: query.region.clone(), kind: query.kind, law_enforcement: query.law_enforcement, q: query.q.clone() };
    let cursor = Cursor::from_query(query.cursor.as_deref(), query.limit, &filter)?;
    Ok(web::Json(state.read(move |conn| units::list_units(conn, &can, &filter, &cursor)).await?))
}

#[utoipa::path(tag = "units", responses((status = 201, description = "Created", body = Unit)))]
#[post("/units")]
pub async fn create_unit(state: web::Data<AppState>, caller: Caller, body: web::Json<NewUnit>) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_catalog()?;
    let unit = state.db(move |conn| units::create_unit(conn, &can, &caller, &body)).await?;
    Ok(HttpResponse::Created().json(unit))
}

#[utoipa::path(tag = "units", params(("id" = i64, Path, description = "Unit id")), responses((status = 200, description = "The unit", body = Unit)))]
#[get("/units/{id}")]
pub async fn get_unit(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<web::Json<Unit>, ApiError> {
    let can = caller.read_catalog()?;
    let id = id.into_inner();
    Ok(web::Json(state.db(move |conn| units::unit(conn, &can, id)).await?))
}

#[utoipa::path(tag = "units", params(("id" = i64, Path, description = "Unit id")), responses((status = 200, description = "The changed unit", body = Unit)))]
#[patch("/units/{id}")]
pub async fn update_unit(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<UnitPatch>,
) -> Result<web::Json<Unit>, ApiError> {
    let can = caller.manage_catalog()?;
    let id = id.into_inner();
    Ok(web::Json(state.db(move |conn| units::update_unit(conn, &can, &caller, id, &body)).await?))
}

/// Deletes a unit that no task, assignment or account refers to.
#[utoipa::path(tag = "units", params(("id" = i64, Path, description = "Unit id")), responses((status = 204, description = "Deleted")))]
#[delete("/units/{id}")]
pub async fn delete_unit(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_catalog()?;
    let id = id.into_inner();
    state.db(move |conn| units::delete_unit(conn, &can, &caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GroupQuery {
    /// County name, e.g. 罗平县.
    region: Option<String>,
}

/// Collective groups (各有关部门…) with their rules.
#[utoipa::path(tag = "units", params(GroupQuery), responses((status = 200, description = "Unit groups", body = Vec<UnitGroup>)))]
#[get("/unit-groups")]
pub async fn list_groups(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<GroupQuery>,
) -> Result<web::Json<Vec<UnitGroup>>, ApiError> {
    let can = caller.read_catalog()?;
    Ok(web::Json(state.db(move |conn| units::list_groups(conn, &can, query.region.as_deref())).await?))
}

/// Merges the unit into another of its county: its assignments (with their
/// evidence and history), task parties, group memberships, accounts and
/// notices move, its name becomes an alias, and it is deleted; audited.
/// 409 when both units have work under way on the same task.
#[utoipa::path(
    tag = "units",
    params(("id" = i64, Path, description = "The unit merged away")),
    request_body = UnitMerge,
    responses((status = 200, description = "The unit that remains", body = Unit))
)]
#[post("/units/{id}/merge")]
pub async fn merge_unit(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<UnitMerge>,
) -> Result<web::Json<Unit>, ApiError> {
    let can = caller.manage_catalog()?;
    let (from, into) = (id.into_inner(), body.into);
    Ok(web::Json(state.db(move |conn| units::merge(conn, &can, &caller, from, into)).await?))
}

#[utoipa::path(tag = "units", responses((status = 201, description = "Created", body = UnitGroup)))]
#[post("/unit-groups")]
pub async fn create_group(state: web::Data<AppState>, caller: Caller, body: web::Json<NewUnitGroup>) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_catalog()?;
    let group = state.db(move |conn| units::create_group(conn, &can, &caller, &body)).await?;
    Ok(HttpResponse::Created().json(group))
}

#[utoipa::path(tag = "units", params(("id" = i64, Path, description = "Group id")), responses((status = 200, description = "The group", body = UnitGroup)))]
#[get("/unit-groups/{id}")]
pub async fn get_group(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<web::Json<UnitGroup>, ApiError> {
    let can = caller.read_catalog()?;
    let id = id.into_inner();
    Ok(web::Json(state.db(move |conn| units::group(conn, &can, id)).await?))
}

/// The units the group expands to now: a preview before assigning it.
#[utoipa::path(tag = "units", params(("id" = i64, Path, description = "Group id")), responses((status = 200, description = "Member units", body = Vec<UnitRef>)))]
#[get("/unit-groups/{id}/members")]
pub async fn group_members(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<web::Json<Vec<UnitRef>>, ApiError> {
    let can = caller.read_catalog()?;
    let id = id.into_inner();
    Ok(web::Json(state.db(move |conn| units::group_members(conn, &can, id)).await?))
}

#[utoipa::path(tag = "units", params(("id" = i64, Path, description = "Group id")), responses((status = 200, description = "The changed group", body = UnitGroup)))]
#[patch("/unit-groups/{id}")]
pub async fn update_group(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<UnitGroupPatch>,
) -> Result<web::Json<UnitGroup>, ApiError> {
    let can = caller.manage_catalog()?;
    let id = id.into_inner();
    Ok(web::Json(state.db(move |conn| units::update_group(conn, &can, &caller, id, &body)).await?))
}

/// Deletes a group no task names.
#[utoipa::path(tag = "units", params(("id" = i64, Path, description = "Group id")), responses((status = 204, description = "Deleted")))]
#[delete("/unit-groups/{id}")]
pub async fn delete_group(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_catalog()?;
    let id = id.into_inner();
    state.db(move |conn| units::delete_group(conn, &can, &caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
