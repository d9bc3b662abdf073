use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use duban_dto::api::{
    LoginRequest, Me, PasswordChange, RecoveryCodes, RefreshRequest, SessionInfo, TokenResponse, TotpCode, TotpEnrolment,
};

use super::caller::request_info;
use super::{ApiError, AppState};
use crate::accounts::{mfa, sessions};
use crate::authz::Caller;

/// Signs in with username and password, and the code of the account's
/// authenticator when it has a second factor (401 `mfa_required` asks for
/// it). Failed sign-ins are throttled per account and per address (429 with
/// Retry-After); after 5 an account is locked for 30 minutes. The user may
/// have to change the password or enrol a second factor first
/// (`user.restriction`).
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
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "Password changed"),
        (status = 429, description = "Too many wrong current passwords: the account is locked for a while; see Retry-After", body = duban_dto::api::Problem, content_type = "application/problem+json")
    )
)]
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

/// The caller's live sessions, this one marked.
#[utoipa::path(tag = "auth", responses((status = 200, description = "Live sessions, newest first", body = Vec<SessionInfo>)))]
#[get("/me/sessions")]
pub async fn my_sessions(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<Vec<SessionInfo>>, ApiError> {
    let own = caller.own_account()?;
    Ok(web::Json(state.db(move |conn| sessions::own_sessions(conn, &own)).await?))
}

/// Ends one of the caller's sessions (on another device, say).
#[utoipa::path(tag = "auth", params(("id" = String, Path, description = "Session id")), responses((status = 204, description = "Ended")))]
#[delete("/me/sessions/{id}")]
pub async fn end_my_session(state: web::Data<AppState>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let own = caller.own_account()?;
    let id = id.into_inner();
    state.db(move |conn| sessions::end_own_session(conn, &own, &caller, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Starts enrolling an authenticator (TOTP): the secret and its QR code.
/// Nothing changes for signing in until a code is confirmed.
#[utoipa::path(tag = "auth", responses((status = 200, description = "The secret to enrol", body = TotpEnrolment)))]
#[post("/me/mfa/totp")]
pub async fn start_totp(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<TotpEnrolment>, ApiError> {
    let own = caller.own_account()?;
    Ok(web::Json(state.db(move |conn| mfa::start(conn, &own, &caller)).await?))
}

/// Confirms the authenticator with a code from it: the second factor is on,
/// and the one-time recovery codes are shown, once.
#[utoipa::path(tag = "auth", responses((status = 200, description = "The recovery codes", body = RecoveryCodes), (status = 429, description = "Too many wrong codes: the account is locked for a while; see Retry-After", body = duban_dto::api::Problem, content_type = "application/problem+json")))]
#[post("/me/mfa/totp/confirm")]
pub async fn confirm_totp(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TotpCode>,
) -> Result<web::Json<RecoveryCodes>, ApiError> {
    let own = caller.own_account()?;
    let limits = state.sign_in.clone();
    Ok(web::Json(state.db(move |conn| mfa::confirm(conn, &own, &caller, &limits, &body.code)).await?))
}

/// New recovery codes (the earlier ones stop working), with a current code.
#[utoipa::path(tag = "auth", responses((status = 200, description = "The new recovery codes", body = RecoveryCodes), (status = 429, description = "Too many wrong codes: the account is locked for a while; see Retry-After", body = duban_dto::api::Problem, content_type = "application/problem+json")))]
#[post("/me/mfa/recovery-codes")]
pub async fn renew_recovery_codes(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<TotpCode>,
) -> Result<web::Json<RecoveryCodes>, ApiError> {
    let own = caller.own_account()?;
    let limits = state.sign_in.clone();
    Ok(web::Json(state.db(move |conn| mfa::renew_recovery_codes(conn, &own, &caller, &limits, &body.code)).await?))
}

/// Turns the second factor off, with a current code; refused where the
/// policy requires it (administrators, or everyone).
#[utoipa::path(tag = "auth", responses((status = 204, description = "The second factor is off"), (status = 429, description = "Too many wrong codes: the account is locked for a while; see Retry-After", body = duban_dto::api::Problem, content_type = "application/problem+json")))]
#[post("/me/mfa/disable")]
pub async fn disable_mfa(state: web::Data<AppState>, caller: Caller, body: web::Json<TotpCode>) -> Result<HttpResponse, ApiError> {
    let own = caller.own_account()?;
    let limits = state.sign_in.clone();
    state.db(move |conn| mfa::disable(conn, &own, &caller, &limits, &body.code)).await?;
    Ok(HttpResponse::NoContent().finish())
}
