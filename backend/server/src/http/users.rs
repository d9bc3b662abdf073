use actix_web::{HttpResponse, get, patch, post, web};
use duban_dto::api::{NewUser, PasswordReset, User, UserPatch};

use super::{ApiError, AppState};
use crate::accounts;
use crate::authz::Caller;

/// Accounts: all of them for the admin, lead office and inspectors; a unit
/// manager sees its own unit's.
#[utoipa::path(tag = "accounts", responses((status = 200, description = "Accounts by username", body = Vec<User>)))]
#[get("/users")]
pub async fn list_users(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<Vec<User>>, ApiError> {
    let can = caller.read_accounts()?;
    Ok(web::Json(state.db(move |conn| accounts::users::list_users(conn, &can)).await?))
}

/// Creates an account: any for the admin, staff of its own unit for a unit manager.
#[utoipa::path(tag = "accounts", responses((status = 201, description = "Created", body = User)))]
#[post("/users")]
pub async fn create_user(state: web::Data<AppState>, caller: Caller, body: web::Json<NewUser>) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_accounts()?;
    let user = state.db(move |conn| accounts::users::create_user(conn, &can, &caller.audit_actor(), &body)).await?;
    Ok(HttpResponse::Created().json(user))
}

#[utoipa::path(tag = "accounts", params(("id" = i64, Path, description = "User id")), responses((status = 200, description = "The account", body = User)))]
#[get("/users/{id}")]
pub async fn get_user(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<web::Json<User>, ApiError> {
    let can = caller.read_accounts()?;
    let id = id.into_inner();
    Ok(web::Json(state.db(move |conn| accounts::users::get_user(conn, &can, id)).await?))
}

/// Changes an account's display name, role, unit, or disables it (which
/// ends its sessions). The last enabled administrator cannot be removed.
#[utoipa::path(tag = "accounts", params(("id" = i64, Path, description = "User id")), responses((status = 200, description = "The changed account", body = User)))]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<UserPatch>,
) -> Result<web::Json<User>, ApiError> {
    let can = caller.manage_accounts()?;
    let id = id.into_inner();
    Ok(web::Json(state.db(move |conn| accounts::users::update_user(conn, &can, &caller.audit_actor(), id, &body)).await?))
}

/// Sets a new password for an account and ends its sessions.
#[utoipa::path(tag = "accounts", params(("id" = i64, Path, description = "User id")), responses((status = 204, description = "Password set")))]
#[post("/users/{id}/password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<PasswordReset>,
) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_accounts()?;
    let id = id.into_inner();
    state.db(move |conn| accounts::users::reset_password(conn, &can, &caller.audit_actor(), id, &body.new_password)).await?;
    Ok(HttpResponse::NoContent().finish())
}
