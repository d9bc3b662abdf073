use actix_web::{HttpResponse, get, web};
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;
use duban_dto::api::{Health, Readiness};

use super::AppState;

/// Liveness: the process answers. Always 200 while it does; `database`
/// says whether the database answered a trivial query just now. Balancers
/// route by `/readyz`.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "duban answers", body = Health))
)]
#[get("/healthz")]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let database = state
        .db(|conn| diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>("true")).get_result::<bool>(conn))
        .await
        .unwrap_or(false);
    HttpResponse::Ok().json(Health { status: "ok".to_owned(), database, version: env!("CARGO_PKG_VERSION").to_owned() })
}

/// Readiness, for load balancers: the database answers, no migration of
/// this version is pending, uploads can be staged, and the instance is not
/// stopping. 503 with
/// `Retry-After` otherwise, naming what is not ready.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready to take requests", body = Readiness),
        (status = 503, description = "Not ready: the body says which check failed", body = Readiness),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let schema = state
        .db(|conn| conn.has_pending_migration(crate::db::MIGRATIONS).map_err(|error| crate::error::Error::Unavailable(error.to_string())))
        .await;
    let (database, migrations_current) = match schema {
        Ok(pending) => (true, !pending),
        Err(_) => (false, false),
    };
    let staging = state.storage.staging_dir();
    let storage_writable = web::block(move || {
        std::fs::create_dir_all(&staging)?;
        tempfile::Builder::new().prefix("readyz-").tempfile_in(&staging).map(drop)
    })
    .await
    .is_ok_and(|written| written.is_ok());
    let stopping = state.stopping.load(std::sync::atomic::Ordering::Acquire);
    let ready = database && migrations_current && storage_writable && !stopping;
    let body = Readiness { ready, database, migrations_current, storage_writable, stopping, version: env!("CARGO_PKG_VERSION").to_owned() };
    if ready { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().insert_header(("Retry-After", "5")).json(body) }
}
