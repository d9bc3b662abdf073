use actix_web::{HttpResponse, get, web};
use diesel::prelude::*;
use duban_dto::api::Health;

use super::AppState;

/// Liveness and database reachability, for load balancers and operators.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "duban and its database answer", body = Health),
        (status = 503, description = "duban answers but its database does not", body = Health),
    )
)]
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let database = state
        .db(|conn| diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>("true")).get_result::<bool>(conn))
        .await
        .unwrap_or(false);
    let body = Health { status: "ok".to_owned(), database, version: env!("CARGO_PKG_VERSION").to_owned() };
    if database { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}
