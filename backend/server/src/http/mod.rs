//! The HTTP server: the JSON API under `/api/v1`, health, API docs, and the
//! browser client's static files.
//!
//! Every API route is registered through [`routes`] with a
//! `#[utoipa::path]`, which is how it gets into the OpenAPI document; the
//! document is built from the same registration the server serves.

mod api_clients;
pub mod area;
mod assignments;
mod audit;
mod auth;
mod bulletins;
mod caching;
mod calendar;
pub mod caller;
mod campaigns;
mod channels;
pub mod error;
mod evidence;
mod health;
mod imports;
mod measurements;
pub mod metrics;
mod negative;
mod notifications;
pub mod openapi;
mod policy;
pub mod request_connection;
pub mod request_context;
mod reviews;
mod scores;
pub mod security_headers;
mod supervision;
mod tasks;
pub mod tls;
mod units;
mod upload;
mod users;

use std::path::PathBuf;
use std::sync::Arc;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::db::{PgPool, PgPooled};
use crate::error::Error;
pub use error::ApiError;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub jwt: crate::auth::tokens::JwtKeys,
    /// How sign-in attempts are limited (the counts are in the database).
    pub sign_in: crate::auth::throttle::Limits,
    pub storage: Arc<crate::storage::Storage>,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// Whether the database answers (see `db::health`); requests are
    /// refused at once with 503 while it does not.
    pub health: Arc<crate::db::health::Health>,
    /// Whether webhooks and robots may be registered on loopback and
    /// link-local addresses (`outbound_allow_loopback`).
    pub outbound_allow_loopback: bool,
    /// The bearer token of `/metrics`; none: not served.
    pub metrics_token: Option<String>,
    /// A streaming replica for reads that need not see their own writes.
    pub replica: Option<Arc<crate::db::replica::Replica>>,
    /// Set on SIGTERM: `/readyz` answers 503 so balancers stop sending
    /// new requests before the listener closes.
    pub stopping: Arc<std::sync::atomic::AtomicBool>,
    /// Pages kept between requests while their campaign is unchanged.
    pub kept: Arc<crate::kept::Kept>,
}

impl AppState {
    /// The state for a server on this database: the JWT key is the
    /// configured one, or the one generated on first start.
    pub fn new(
        pool: PgPool,
        configured_secret: Option<&str>,
        storage: Arc<crate::storage::Storage>,
        max_upload_bytes: u64,
    ) -> Result<AppState, crate::error::Error> {
        let mut conn = pool.get()?;
        let secret = crate::auth::tokens::signing_secret(&mut conn, configured_secret)?;
        Ok(AppState {
            pool,
            jwt: crate::auth::tokens::JwtKeys::new(&secret),
            sign_in: crate::auth::throttle::Limits::default(),
            storage,
            max_upload_bytes,
            health: Arc::default(),
            outbound_allow_loopback: false,
            metrics_token: None,
            replica: None,
            stopping: Arc::default(),
            kept: Arc::default(),
        })
    }

    /// Serves `/metrics` to scrapers presenting this bearer token.
    pub fn with_metrics_token(mut self, token: Option<String>) -> AppState {
        self.metrics_token = token;
        self
    }

    /// Sends [`read`](AppState::read)s to this replica while it keeps up.
    pub fn with_replica(mut self, replica: Option<Arc<crate::db::replica::Replica>>) -> AppState {
        self.replica = replica;
        self
    }

    /// Lets webhooks and robots be registered on loopback addresses.
    pub fn with_outbound_allow_loopback(mut self, allow: bool) -> AppState {
        self.outbound_allow_loopback = allow;
        self
    }

    /// Refuses requests at once while the monitor finds the database down.
    pub fn with_health(mut self, health: Arc<crate::db::health::Health>) -> AppState {
        self.health = health;
        self
    }

    /// Runs blocking database work on actix's blocking pool, inside the
    /// request's tracing span. The work may fail with a domain error or an
    /// HTTP one; either is answered as a problem. The request's first work
    /// runs on the connection its caller was identified on
    /// ([`request_connection`]), so a request checks out one connection.
    pub async fn db<T, E, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgPooled) -> Result<T, E> + Send + 'static,
        E: Into<ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.on_connection(request_connection::take(), false, work).await
    }

    /// Like [`db`](AppState::db), and keeps the connection for the
    /// request's next work: the `Caller` extractor identifies the caller
    /// with this, and the handler goes on on the same connection.
    pub(crate) async fn db_handing_over<T, E, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgPooled) -> Result<T, E> + Send + 'static,
        E: Into<ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.on_connection(None, true, work).await
    }

    /// Runs `work` on `handed_over`, or a connection from the pool; with
    /// `keep`, a connection that did its work well stays for the request.
    async fn on_connection<T, E, F>(&self, handed_over: Option<PgPooled>, keep: bool, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgPooled) -> Result<T, E> + Send + 'static,
        E: Into<ApiError> + Send + 'static,
        T: Send + 'static,
    {
        if !self.health.is_up() {
            return Err(Error::Unavailable("the database is not available; try again shortly".to_owned()).into());
        }
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        let (result, conn) = web::block(move || {
            let _entered = span.enter();
            let mut conn = match handed_over {
                Some(conn) => conn,
                None => pool.get().map_err(ApiError::from)?,
            };
            let result = work(&mut conn).map_err(Into::into);
            forget_if_lost(&mut conn, &result);
            Ok::<_, ApiError>((result, conn))
        })
        .await??;
        if keep && result.is_ok() {
            request_connection::keep(conn);
        }
        result
    }

    /// Like [`db`](AppState::db), for work that only reads and need not see
    /// the request's own writes (dashboards, lists, the audit query): on
    /// the replica while it is within its lag bound, else on the primary.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgPooled) -> Result<T, E> + Send + 'static,
        E: Into<ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let Some(replica) = self.replica.as_ref().and_then(|replica| replica.usable()).cloned() else {
            ::metrics::counter!("duban_db_reads_total", "source" => "primary").increment(1);
            return self.db(work).await;
        };
        let span = tracing::Span::current();
        let primary = self.pool.clone();
        web::block(move || {
            let _entered = span.enter();
            // A replica that stopped answering since it was last measured
            // is passed over for the primary.
            let (mut conn, source) = match replica.get() {
                Ok(conn) => (conn, "replica"),
                Err(_) => (primary.get().map_err(ApiError::from)?, "primary"),
            };
            ::metrics::counter!("duban_db_reads_total", "source" => source).increment(1);
            let result = work(&mut conn).map_err(Into::into);
            forget_if_lost(&mut conn, &result);
            result
        })
        .await?
    }
}

/// After work that failed on the server's side, drops the connection from
/// the pool if it lost its server (see [`crate::db::pool`]).
fn forget_if_lost<T>(conn: &mut PgPooled, result: &Result<T, ApiError>) {
    if let Err(error) = result
        && actix_web::ResponseError::status_code(error).is_server_error()
    {
        crate::db::discard_if_dead(conn);
    }
}

/// Whether a path answers with data for programs (the API, the health and
/// readiness probes, the metrics) rather than the browser client: such
/// responses are never stored and get the API's strict CSP.
pub(crate) fn answers_with_data(path: &str) -> bool {
    path.starts_with("/api/") || matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// Registers every documented route: health and the API under `/api/v1`.
pub fn routes(config: &mut ServiceConfig) {
    config
        .service(health::healthz)
        .service(health::readyz)
        .service(metrics::scrape)
        .service(utoipa_actix_web::scope("/api/v1").configure(api_routes));
}

/// Registers every API route; paths are relative to `/api/v1`. A handler
/// can only be registered here with its `#[utoipa::path]` documentation.
fn api_routes(config: &mut ServiceConfig) {
    config
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::change_password)
        .service(auth::me)
        .service(auth::my_sessions)
        .service(auth::end_my_session)
        .service(auth::start_totp)
        .service(auth::confirm_totp)
        .service(auth::renew_recovery_codes)
        .service(auth::disable_mfa)
        .service(users::list_users)
        .service(users::create_user)
        .service(users::get_user)
        .service(users::update_user)
        .service(users::reset_password)
        .service(users::unlock_user)
        .service(users::reset_user_mfa)
        .service(users::list_sessions)
        .service(users::end_session)
        .service(api_clients::list_api_clients)
        .service(api_clients::create_api_client)
        .service(api_clients::create_api_key)
        .service(api_clients::revoke_api_key)
        .service(audit::list_audit)
        .service(audit::export_audit)
        .service(campaigns::list_campaigns)
        .service(campaigns::create_campaign)
        .service(campaigns::get_campaign)
        .service(campaigns::indicator_tree)
        .service(campaigns::campaign_dashboard)
        .service(campaigns::province_dashboard)
        .service(campaigns::export_workbook)
        .service(campaigns::export_csv)
        .service(tasks::list_tasks)
        .service(tasks::get_task)
        .service(assignments::create_assignments)
        .service(assignments::list_assignments)
        .service(assignments::get_assignment)
        .service(assignments::update_assignment)
        .service(assignments::delete_assignment)
        .service(units::list_units)
        .service(units::create_unit)
        .service(units::get_unit)
        .service(units::update_unit)
        .service(units::delete_unit)
        .service(units::list_groups)
        .service(units::merge_unit)
        .service(units::create_group)
        .service(units::get_group)
        .service(units::group_members)
        .service(units::update_group)
        .service(units::delete_group)
        .service(evidence::upload_evidence)
        .service(evidence::list_evidence)
        .service(evidence::list_campaign_evidence)
        .service(scores::campaign_scores)
        .service(scores::unit_score)
        .service(scores::get_scheme)
        .service(scores::set_scheme)
        .service(bulletins::list_bulletins)
        .service(bulletins::create_bulletin)
        .service(bulletins::get_bulletin)
        .service(bulletins::update_bulletin)
        .service(bulletins::issue_bulletin)
        .service(bulletins::bulletin_inputs)
        .service(bulletins::bulletin_inputs_csv)
        .service(bulletins::bulletin_document)
        .service(bulletins::bulletin_pdf)
        .service(evidence::withdraw_evidence)
        .service(evidence::download_evidence)
        .service(reviews::submit_assignment)
        .service(reviews::review_assignment)
        .service(reviews::assignment_history)
        .service(reviews::review_queue)
        .service(measurements::report_measurement)
        .service(measurements::evaluate_task_targets)
        .service(measurements::set_reference)
        .service(negative::report_negative)
        .service(negative::confirm_negative_report)
        .service(negative::negative_status)
        .service(notifications::list_notifications)
        .service(notifications::mark_notification_read)
        .service(notifications::mark_all_notifications_read)
        .service(calendar::list_calendar_days)
        .service(calendar::set_calendar_day)
        .service(calendar::clear_calendar_day)
        .service(imports::create_import)
        .service(imports::get_import)
        .service(policy::get_policy)
        .service(policy::update_policy)
        .service(supervision::issue_notice)
        .service(supervision::list_notices)
        .service(supervision::get_notice)
        .service(supervision::notice_document)
        .service(supervision::download_notice_file)
        .service(supervision::act_on_notice)
        .service(supervision::reply_to_notice)
        .service(supervision::urge_units)
        .service(supervision::get_reminder_rules)
        .service(supervision::set_reminder_rules)
        .service(supervision::get_unit_leader)
        .service(supervision::set_unit_leader)
        .service(channels::get_my_channels)
        .service(channels::set_my_channels)
        .service(channels::get_user_channels)
        .service(channels::set_user_channels)
        .service(channels::list_endpoints)
        .service(channels::create_endpoint)
        .service(channels::delete_endpoint)
        .service(channels::list_deliveries)
        .service(channels::redeliver);
}

/// Request-body and query-string errors answered as problem+json.
fn extractor_config(config: &mut web::ServiceConfig) {
    config
        .app_data(web::JsonConfig::default().limit(1 << 20).error_handler(|error, _| {
            let api_error = match &error {
                actix_web::error::JsonPayloadError::OverflowKnownLength { .. } | actix_web::error::JsonPayloadError::Overflow { .. } => {
                    ApiError::PayloadTooLarge { detail: error.to_string() }
                }
                actix_web::error::JsonPayloadError::ContentType => {
                    ApiError::UnsupportedMediaType { detail: "the body must be application/json".to_owned() }
                }
                actix_web::error::JsonPayloadError::Deserialize(inner) if inner.is_data() => {
                    ApiError::from(Error::invalid("invalid_body", inner.to_string()))
                }
                _ => ApiError::malformed("malformed_body", error.to_string()),
            };
            api_error.into()
        }))
        .app_data(web::QueryConfig::default().error_handler(|error, _| ApiError::malformed("invalid_query", error.to_string()).into()))
        .app_data(
            web::PathConfig::default()
                .error_handler(|error, _| ApiError::from(Error::not_found(format!("no such resource: {error}"))).into()),
        );
}

/// Builds the application: API, health, docs and (when configured) the SPA.
/// `cors_origins` are the portal origins allowed to call the API from a
/// browser; none by default.
pub fn app(
    state: AppState,
    static_dir: Option<PathBuf>,
    cors_origins: Vec<String>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let index_html = static_dir.as_ref().and_then(|dir| std::fs::read_to_string(dir.join("index.html")).ok());
    let app = App::new()
        .app_data(web::Data::new(state))
        .app_data(web::Data::new(security_headers::SecurityHeaders::for_client(index_html.as_deref())))
        .configure(extractor_config)
        // Before the /api/v1 scope, which would otherwise answer 404 for it.
        .route("/api/v1/openapi.json", web::get().to(|| async { HttpResponse::Ok().json(openapi::document()) }))
        .into_utoipa_app()
        .openapi(openapi::base())
        .configure(routes)
        .into_app()
        .service(utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").url("/docs/openapi.json", openapi::document().clone()))
        .service(web::redirect("/docs", "/docs/"));
    let app = match static_dir {
        Some(dir) => app.service(
            actix_files::Files::new("/", dir.clone())
                .index_file("index.html")
                .default_handler(web::to(move |request: HttpRequest| spa_fallback(request, dir.clone()))),
        ),
        None => app.default_service(web::to(not_found)),
    };
    app.wrap(from_fn(metrics::record))
        .wrap(from_fn(caching::cache_control))
        .wrap(from_fn(security_headers::add))
        .wrap(cors(&cors_origins))
        .wrap(from_fn(request_context::request_context))
        // Outermost, so that what is compressed is the finished body: a
        // problem's request_id is added before, never into compressed bytes.
        .wrap(Compress::default())
}

fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([actix_web::http::header::AUTHORIZATION, actix_web::http::header::CONTENT_TYPE, actix_web::http::header::IF_MATCH])
        .expose_headers([actix_web::http::header::ETAG, request_context::REQUEST_ID_HEADER])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

async fn not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(Error::not_found(format!("there is nothing at {}", request.path())).into())
}

/// Client-side routes (/tasks/B001 …) are answered with the SPA's
/// index.html; unknown API paths stay 404 problems.
async fn spa_fallback(request: HttpRequest, dir: PathBuf) -> Result<HttpResponse, ApiError> {
    if request.path().starts_with("/api/") {
        return not_found(request).await;
    }
    let index = actix_files::NamedFile::open_async(dir.join("index.html")).await.map_err(Error::internal)?;
    Ok(index.into_response(&request))
}

/// How long requests under way may take to finish after SIGTERM.
pub const SHUTDOWN_GRACE_SECONDS: u64 = 30;

/// How long an instance says it is not ready before it stops accepting:
/// a few of a balancer's health-check intervals.
pub const STOP_DRAIN: std::time::Duration = std::time::Duration::from_millis(1500);

/// Serves until SIGINT or SIGTERM, then finishes in-flight requests; over
/// HTTPS when `tls` is given.
pub async fn serve(
    state: AppState,
    listen: &str,
    tls: Option<rustls::ServerConfig>,
    static_dir: Option<PathBuf>,
    cors_origins: Vec<String>,
) -> std::io::Result<()> {
    // On SIGTERM (or SIGINT) an instance first says it is not ready, for
    // STOP_DRAIN, while it still takes requests: a balancer checking
    // /readyz sends new ones elsewhere. Then the listener closes and
    // requests under way, uploads included, get SHUTDOWN_GRACE_SECONDS to
    // finish before the process exits.
    let stopping = state.stopping.clone();
    let server = HttpServer::new(move || app(state.clone(), static_dir.clone(), cors_origins.clone()))
        .shutdown_timeout(SHUTDOWN_GRACE_SECONDS)
        .disable_signals();
    let (server, scheme) = match tls {
        Some(config) => (server.bind_rustls_0_23(listen, config)?, "https"),
        None => (server.bind(listen)?, "http"),
    };
    for address in server.addrs() {
        tracing::info!("listening on {scheme}://{address}");
    }
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        use actix_web::rt::signal::unix::{SignalKind, signal};
        let (Ok(mut terminate), Ok(mut interrupt)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            tracing::error!("could not listen for SIGTERM and SIGINT");
            return;
        };
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        stopping.store(true, std::sync::atomic::Ordering::Release);
        tracing::info!(drain_ms = STOP_DRAIN.as_millis() as u64, "stopping: not ready, then finishing the requests under way");
        actix_web::rt::time::sleep(STOP_DRAIN).await;
        handle.stop(true).await;
    });
    server.await
}
