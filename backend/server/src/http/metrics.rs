//! Prometheus metrics (`GET /metrics`, scraped with the bearer token
//! `metrics_token`): requests by route, method and status with their
//! latency, the database pool, the outbox backlog and running import jobs.
//! Recorded with the `metrics` facade into its Prometheus exporter; the
//! gauges that describe the database are read at scrape time.

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, get, web};
use diesel::prelude::*;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::AppState;
use crate::db::schema::{import_jobs, outbox};

const REQUESTS: &str = "duban_http_requests_total";
const DURATION: &str = "duban_http_request_duration_seconds";

/// The process's recorder, installed on first use.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may be installed already (tests start several
        // servers in one process); this one still renders what it holds.
        let _ = ::metrics::set_global_recorder(recorder);
        handle
    })
}

/// Counts every request and times it, labelled by the route's pattern (not
/// the path, so ids do not make new series).
pub async fn record(request: ServiceRequest, next: Next<impl MessageBody>) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let _ = handle();
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let response = next.call(request).await?;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    ::metrics::counter!(REQUESTS, &labels).increment(1);
    ::metrics::histogram!(DURATION, &labels).record(started.elapsed().as_secs_f64());
    Ok(response)
}

/// The metrics in Prometheus's text format. Only with `Authorization:
/// Bearer <metrics_token>`; 404 when no token is configured, 401 otherwise.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String),
        (status = 404, description = "No metrics token is configured", body = duban_dto::api::Problem, content_type = "application/problem+json")
    ),
    security(("bearer" = []))
)]
#[get("/metrics")]
pub async fn scrape(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, super::ApiError> {
    let Some(token) = state.metrics_token.as_deref() else {
        return Err(crate::error::Error::not_found("metrics are not served: set metrics_token (DUBAN_METRICS_TOKEN)").into());
    };
    let presented = request.headers().get(actix_web::http::header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    let expected = crate::auth::secrets::digest(&format!("Bearer {token}"));
    if !presented.is_some_and(|presented| crate::auth::secrets::same_digest(&crate::auth::secrets::digest(presented), &expected)) {
        return Err(crate::error::Error::Unauthenticated("send the metrics token as a bearer token".to_owned()).into());
    }
    let pool = state.pool.state();
    ::metrics::gauge!("duban_db_pool_connections").set(f64::from(pool.connections));
    ::metrics::gauge!("duban_db_pool_in_use").set(f64::from(pool.connections - pool.idle_connections));
    ::metrics::gauge!("duban_db_up").set(if state.health.is_up() { 1.0 } else { 0.0 });
    let backlog = state
        .db(|conn| {
            let undelivered: i64 = outbox::table.filter(outbox::status.eq("pending")).count().get_result(conn)?;
            let running: i64 = import_jobs::table.filter(import_jobs::status.eq_any(["queued", "running"])).count().get_result(conn)?;
            Ok::<_, crate::error::Error>((undelivered, running))
        })
        .await;
    if let Ok((undelivered, running)) = backlog {
        ::metrics::gauge!("duban_outbox_backlog").set(undelivered as f64);
        ::metrics::gauge!("duban_import_jobs_running").set(running as f64);
    }
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(handle().render()))
}
