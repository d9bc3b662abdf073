use actix_web::{HttpResponse, delete, get, post, web};
use duban_dto::api::{ApiClient, CreatedApiKey, NewApiClient, NewApiKey};

use super::{ApiError, AppState};
use crate::accounts;
use crate::authz::Caller;

/// Portals and scripts that call the API, with their keys (never secrets).
#[utoipa::path(tag = "accounts", responses((status = 200, description = "API clients", body = Vec<ApiClient>)))]
#[get("/api-clients")]
pub async fn list_api_clients(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<Vec<ApiClient>>, ApiError> {
    let can = caller.manage_api_clients()?;
    Ok(web::Json(state.db(move |conn| accounts::api_clients::list_api_clients(conn, &can)).await?))
}

#[utoipa::path(tag = "accounts", responses((status = 201, description = "Created", body = ApiClient)))]
#[post("/api-clients")]
pub async fn create_api_client(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<NewApiClient>,
) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_api_clients()?;
    let client = state.db(move |conn| accounts::api_clients::create_api_client(conn, &can, &caller, &body)).await?;
    Ok(HttpResponse::Created().json(client))
}

/// Creates a key with the given scopes. The key is in this answer only.
#[utoipa::path(tag = "accounts", params(("id" = i64, Path, description = "API client id")), responses((status = 201, description = "The new key, shown once", body = CreatedApiKey)))]
#[post("/api-clients/{id}/keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<NewApiKey>,
) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_api_clients()?;
    let id = id.into_inner();
    let key = state.db(move |conn| accounts::api_clients::create_api_key(conn, &can, &caller, id, &body)).await?;
    Ok(HttpResponse::Created().json(key))
}

/// Revokes a key; it stops working at once.
#[utoipa::path(
    tag = "accounts",
    params(("id" = i64, Path, description = "API client id"), ("key_id" = i64, Path, description = "Key id")),
    responses((status = 204, description = "Revoked"))
)]
#[delete("/api-clients/{id}/keys/{key_id}")]
pub async fn revoke_api_key(state: web::Data<AppState>, caller: Caller, path: web::Path<(i64, i64)>) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_api_clients()?;
    let (id, key_id) = path.into_inner();
    state.db(move |conn| accounts::api_clients::revoke_api_key(conn, &can, &caller, id, key_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
