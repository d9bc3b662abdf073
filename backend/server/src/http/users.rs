use actix_web::{HttpResponse, delete, get, patch, post, web};
use duban_dto::api::{NewUser, PasswordReset, SessionInfo, User, UserPatch};

use super::{ApiError, AppState};
use crate::accounts;
use crate::authz::Caller;

/// Accounts: all of them for the system and security administrators, the
/// lead office and inspectors; a unit manager sees its own unit's.
#[utoipa::path(tag = "accounts", responses((status = 200, description = "Accounts by username", body = Vec<User>)))]
#[get("/users")]
pub async fn list_users(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<Vec<User>>, ApiError> {
    let can = caller.read_accounts()?;
    Ok(web::Json(state.db(move |conn| accounts::users::list_users(conn, &can)).await?))
}

/// Creates an account: the campaign's for the system administrator, the
/// administrators' for the security administrator, staff of its own unit
/// for a unit manager. The user changes the password at the first sign-in.
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

/// Changes an account's display name, unit, or disables it (which ends its
/// sessions); its role is the security administrator's to change, and an
/// administrator's never changes. The last enabled administrator of each
/// kind cannot be disabled.
#[utoipa::path(tag = "accounts", params(("id" = i64, Path, description = "User id")), responses((status = 200, description = "The changed account", body = User)))]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<UserPatch>,
) -> Result<web::Json<User>, ApiError> {
    let can = caller.manage_accounts();
    let roles = caller.assign_roles();
    // Neither: the caller may change no account at all.
    if let (Err(refused), Err(_)) = (&can, &roles) {
        return Err(crate::error::Error::forbidden(refused.to_string()).into());
    }
    let id = id.into_inner();
    Ok(web::Json(
        state
            .db(move |conn| accounts::users::update_user(conn, can.as_ref().ok(), roles.as_ref().ok(), &caller.audit_actor(), id, &body))
            .await?,
    ))
}

/// Sets a new password for an account and ends its sessions; the user
/// changes it at the next sign-in.
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

/// The security administrator unlocks an account locked after failed sign-ins.
#[utoipa::path(tag = "accounts", params(("id" = i64, Path, description = "User id")), responses((status = 204, description = "Unlocked")))]
#[post("/users/{id}/unlock")]
pub async fn unlock_user(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let can = caller.unlock_accounts()?;
    let id = id.into_inner();
    state.db(move |conn| accounts::users::unlock(conn, &can, &caller.audit_actor(), id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The security administrator takes away a user's second factor (a lost
/// device); the user enrols again.
#[utoipa::path(tag = "accounts", params(("id" = i64, Path, description = "User id")), responses((status = 204, description = "The second factor is off")))]
#[post("/users/{id}/mfa-reset")]
pub async fn reset_user_mfa(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let can = caller.unlock_accounts()?;
    let id = id.into_inner();
    state.db(move |conn| accounts::users::reset_mfa(conn, &can, &caller.audit_actor(), id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SessionQuery {
    /// Only this user's sessions.
    user_id: Option<i64>,
}

/// Every user's live sessions (system and security administrators).
#[utoipa::path(tag = "accounts", params(SessionQuery), responses((status = 200, description = "Live sessions, newest first", body = Vec<SessionInfo>)))]
#[get("/sessions")]
pub async fn list_sessions(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<SessionQuery>,
) -> Result<web::Json<Vec<SessionInfo>>, ApiError> {
    let can = caller.manage_sessions()?;
    let user = query.user_id;
    Ok(web::Json(state.db(move |conn| accounts::sessions::all_sessions(conn, &can, user)).await?))
}

/// Ends any user's session (system and security administrators).
#[utoipa::path(tag = "accounts", params(("id" = String, Path, description = "Session id")), responses((status = 204, description = "Ended")))]
#[delete("/sessions/{id}")]
pub async fn end_session(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_sessions()?;
    let id = id.into_inner();
    state.db(move |conn| accounts::sessions::end_any_session(conn, &can, &caller, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
