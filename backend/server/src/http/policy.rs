use actix_web::{get, patch, web};
use duban_dto::api::{SecurityPolicy, SecurityPolicyPatch};

use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::policy;

/// The security policy in force.
#[utoipa::path(tag = "policy", responses((status = 200, description = "The policy", body = SecurityPolicy)))]
#[get("/policy")]
pub async fn get_policy(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<SecurityPolicy>, ApiError> {
    caller.manage_policy()?;
    Ok(web::Json(state.db(|conn| policy::current(conn)).await?))
}

/// Changes the security policy; audited with what it was before.
#[utoipa::path(tag = "policy", responses((status = 200, description = "The policy now in force", body = SecurityPolicy)))]
#[patch("/policy")]
pub async fn update_policy(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<SecurityPolicyPatch>,
) -> Result<web::Json<SecurityPolicy>, ApiError> {
    let can = caller.manage_policy()?;
    Ok(web::Json(state.db(move |conn| policy::update(conn, &can, &caller, &body)).await?))
}
