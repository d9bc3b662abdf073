//! Channels: each user's contacts and the kinds of message they also want
//! by e-mail; the portals' webhooks and group robots, and the log of every
//! delivery.

use actix_web::{HttpResponse, delete, get, post, put, web};
use duban_dto::api::{ChannelSettings, Delivery, Endpoint, NewEndpoint, Page};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{ApiError, AppState};
use crate::authz::Caller;
use crate::contacts;
use crate::endpoints;
use crate::pagination::Cursor;

/// The signed-in user's contacts and channels.
#[utoipa::path(tag = "channels", responses((status = 200, description = "Contacts and channels", body = ChannelSettings)))]
#[get("/me/channels")]
pub async fn get_my_channels(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<ChannelSettings>, ApiError> {
    let own = caller.own_account()?;
    let user = own.user_id();
    Ok(web::Json(
        state
            .db(move |conn| {
                let unit = contacts::unit_of(conn, user)?;
                let can = caller.manage_contacts(user, unit)?;
                contacts::settings(conn, &can)
            })
            .await?,
    ))
}

/// Sets the signed-in user's contacts and the kinds of message also sent by e-mail.
#[utoipa::path(tag = "channels", responses((status = 200, description = "Contacts and channels", body = ChannelSettings)))]
#[put("/me/channels")]
pub async fn set_my_channels(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ChannelSettings>,
) -> Result<web::Json<ChannelSettings>, ApiError> {
    let own = caller.own_account()?;
    let user = own.user_id();
    Ok(web::Json(
        state
            .db(move |conn| {
                let unit = contacts::unit_of(conn, user)?;
                let can = caller.manage_contacts(user, unit)?;
                contacts::set_settings(conn, &can, &caller, &body)
            })
            .await?,
    ))
}

/// A user's contacts and channels: for the user, their unit's manager and
/// administrators (personal data; others are told there is no such user).
#[utoipa::path(tag = "channels", params(("id" = i64, Path, description = "User id")), responses((status = 200, description = "Contacts and channels", body = ChannelSettings)))]
#[get("/users/{id}/channels")]
pub async fn get_user_channels(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<web::Json<ChannelSettings>, ApiError> {
    let user = id.into_inner();
    Ok(web::Json(
        state
            .db(move |conn| {
                let unit = contacts::unit_of(conn, user)?;
                let can = caller.manage_contacts(user, unit)?;
                contacts::settings(conn, &can)
            })
            .await?,
    ))
}

/// Sets a user's contacts and channels; audited without the contacts themselves.
#[utoipa::path(tag = "channels", params(("id" = i64, Path, description = "User id")), responses((status = 200, description = "Contacts and channels", body = ChannelSettings)))]
#[put("/users/{id}/channels")]
pub async fn set_user_channels(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: web::Json<ChannelSettings>,
) -> Result<web::Json<ChannelSettings>, ApiError> {
    let user = id.into_inner();
    Ok(web::Json(
        state
            .db(move |conn| {
                let unit = contacts::unit_of(conn, user)?;
                let can = caller.manage_contacts(user, unit)?;
                contacts::set_settings(conn, &can, &caller, &body)
            })
            .await?,
    ))
}

/// The registered webhooks and group robots (secrets are never shown).
#[utoipa::path(tag = "channels", responses((status = 200, description = "Endpoints", body = Vec<Endpoint>)))]
#[get("/endpoints")]
pub async fn list_endpoints(state: web::Data<AppState>, caller: Caller) -> Result<web::Json<Vec<Endpoint>>, ApiError> {
    let can = caller.manage_endpoints()?;
    Ok(web::Json(state.db(move |conn| endpoints::list(conn, &can)).await?))
}

/// Registers a portal's webhook or a group robot for kinds of event. A URL
/// that resolves to a loopback or link-local address is refused unless the
/// operator allows it.
///
/// Webhook deliveries are signed: `X-Duban-Signature: sha256=<hex>` is the
/// HMAC-SHA256, keyed with the endpoint's secret, of
/// `<X-Duban-Timestamp>.<raw body>`. A receiver recomputes it, compares in
/// constant time, refuses timestamps older than five minutes, and drops
/// repeats of `X-Duban-Delivery` (deliveries are at least once).
#[utoipa::path(tag = "channels", responses((status = 201, description = "The endpoint", body = Endpoint)))]
#[post("/endpoints")]
pub async fn create_endpoint(state: web::Data<AppState>, caller: Caller, body: web::Json<NewEndpoint>) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_endpoints()?;
    let allow_loopback = state.outbound_allow_loopback;
    let endpoint = state.db(move |conn| endpoints::create(conn, &can, &caller, &body, allow_loopback)).await?;
    Ok(HttpResponse::Created().json(endpoint))
}

/// Disables an endpoint; its delivery log stays, pending deliveries to it fail.
#[utoipa::path(tag = "channels", params(("id" = i64, Path, description = "Endpoint id")), responses((status = 204, description = "Disabled")))]
#[delete("/endpoints/{id}")]
pub async fn delete_endpoint(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_endpoints()?;
    let id = id.into_inner();
    state.db(move |conn| endpoints::delete(conn, &can, &caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Only the deliveries to this endpoint.
    endpoint_id: Option<i64>,
    cursor: Option<String>,
    /// 1 to 200; 50 by default.
    limit: Option<i64>,
}

/// Every outgoing message (e-mail, robots, webhooks), newest first, with
/// its attempts: status, response code and latency.
#[utoipa::path(tag = "channels", params(DeliveryQuery), responses((status = 200, description = "A page of deliveries", body = Page<Delivery>)))]
#[get("/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<DeliveryQuery>,
) -> Result<web::Json<Page<Delivery>>, ApiError> {
    let can = caller.manage_endpoints()?;
    let endpoint = query.endpoint_id;
    let cursor = Cursor::from_query(query.cursor.as_deref(), query.limit, &endpoint)?;
    Ok(web::Json(state.db(move |conn| endpoints::deliveries(conn, &can, endpoint, &cursor)).await?))
}

/// Delivers a message again now, with the same idempotency key.
#[utoipa::path(tag = "channels", params(("id" = i64, Path, description = "Delivery id")), responses((status = 202, description = "Queued for delivery")))]
#[post("/deliveries/{id}/redeliver")]
pub async fn redeliver(state: web::Data<AppState>, caller: Caller, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let can = caller.manage_endpoints()?;
    let id = id.into_inner();
    state.db(move |conn| endpoints::redeliver(conn, &can, &caller, id)).await?;
    Ok(HttpResponse::Accepted().finish())
}
