use actix_web::{HttpRequest, HttpResponse, get, post, web};
use duban_dto::api::{LoginRequest, Me, PasswordChange, RefreshRequest, TokenResponse};

use super::caller::request_info;
use super::{ApiError, AppState};
use crate::accounts::sessions;
use crate::authz::Caller;

/// Signs in with username and password. Failed sign-ins are throttled per
/// account and per address (429 with Retry-After).
#[utoipa::path(
    tag = "auth",
    security(()),
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 429, description = "Too many failed sign-ins; see Retry-After", body = duban_dto::api::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let info = request_info(&request);
    let state_for_db = state.clone();
    let tokens = state.db(move |conn| sessions::login(conn, &state_for_db.jwt, &state_for_db.sign_in, &info, &body)).await?;
    Ok(web::Json(tokens))
}

/// Exchanges a refresh token (once) for a new pair. Reusing a refresh
/// token ends its whole session.
#[utoipa::path(tag = "auth", security(()), responses((status = 200, description = "New tokens", body = TokenResponse)))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let info = request_info(&request);
    let state_for_db = state.clone();
    let tokens = state.db(move |conn| sessions::refresh(conn, &state_for_db.jwt, &info, &body.refresh_token)).await?;
    Ok(web::Json(tokens))
}

/// Ends the caller's session: its access and refresh tokens stop working.
#[utoipa::path(tag = "auth", responses((status = 204, description = "Signed out")))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let own = caller.own_account()?;
    state.db(move |conn| sessions::logout(conn, &own, &caller)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Changes the caller's password and ends its other sessions.
#[utoipa::path(tag = "auth", responses((status = 204, description = "Password changed")))]
#[post("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let own = caller.own_account()?;
    let limits = state.sign_in;
    state.db(move |conn| sessions::change_password(conn, &own, &caller, &limits, &body)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(tag = "auth", responses((status = 200, description = "The signed-in user", body = Me)))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<Me>, ApiError> {
    let own = caller.own_account()?;
    Ok(web::Json(state.db(move |conn| sessions::current_user(conn, &own)).await?))
}
