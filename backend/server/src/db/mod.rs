//! The database: connecting (to DATABASE_URL or to the embedded cluster),
//! migrating, and the connection pool handlers borrow from.

pub mod areas;
pub mod groups;
pub mod health;
pub mod lookups;
pub mod models;
pub mod replica;
pub mod schema;

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::sql_types::{BigInt, Bool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use duban_pgcluster::{Cluster, ClusterOptions};

use crate::config::Settings;

/// Every schema change, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The name of duban's database in the embedded cluster.
pub const EMBEDDED_DATABASE: &str = "duban";

pub type PgPool = Pool<ConnectionManager<PgConnection>>;
pub type PgPooled = PooledConnection<ConnectionManager<PgConnection>>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Cluster(#[from] duban_pgcluster::ClusterError),
    #[error("connecting to the database: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migrating the database: {0}")]
    Migrate(String),
    #[error("creating the connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
}

/// How duban's connections plan their queries. duban runs many short
/// queries, each by a prepared statement with parameters:
/// - generic plans: PostgreSQL otherwise re-plans most of them on every
///   execution (arrays of ids, subqueries), and planning cost more than
///   running them — at provincial scale the task list went from 1,360 to
///   2,110 requests/s;
/// - no parallel workers and no JIT: on a small server they take cores
///   from the other requests and add start-up time to queries of a few
///   milliseconds (the county dashboard went from 62 to 169 requests/s).
///
/// The values are `duban_pgcluster::SESSION_SETTINGS`. Measured by
/// `cargo xtask bench`; see BENCHMARKS.md.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings;

impl diesel::r2d2::CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&duban_pgcluster::session_settings_sql()).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// How long a request waits for a pooled connection. The database monitor
/// refuses requests at once while the database is down; this bounds the
/// wait of those that arrive before it notices.
pub const CHECKOUT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A pool of connections to `url` with duban's [`SessionSettings`].
///
/// Connections are not tested at checkout: a `SELECT 1` before every
/// request was a round trip more than many requests need. A connection
/// whose server went away is dropped instead when it fails
/// ([`discard_if_dead`]), and the database monitor sweeps the idle ones
/// when the database answers again after an outage ([`sweep_dead`]).
pub fn pool(url: &str, size: u32) -> Result<PgPool, diesel::r2d2::PoolError> {
    Pool::builder()
        .max_size(size)
        .connection_timeout(CHECKOUT_TIMEOUT)
        .test_on_check_out(false)
        .connection_customizer(Box::new(SessionSettings))
        .build(ConnectionManager::new(url))
}

/// Marks `conn` for the pool to drop, instead of taking back, when it no
/// longer reaches its server. Called after work on it failed; diesel
/// itself only notices a lost connection inside a transaction.
/// Returns whether it was.
pub fn discard_if_dead(conn: &mut PgConnection) -> bool {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let dead = conn.batch_execute("SELECT 1").is_err();
    if dead {
        // A transaction manager in error makes `has_broken` true, and r2d2
        // closes a broken connection instead of returning it to the pool.
        AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
    }
    dead
}

/// Checks every idle connection of `pool` once and drops those whose
/// server went away, so that requests after a database restart do not
/// each meet a dead connection first.
pub fn sweep_dead(pool: &PgPool) {
    let idle = pool.state().idle_connections;
    // All are held until the end, so that each checkout is another one.
    let mut checked = Vec::with_capacity(idle as usize);
    let mut dropped = 0;
    for _ in 0..idle {
        let Some(mut conn) = pool.try_get() else { break };
        dropped += usize::from(discard_if_dead(&mut conn));
        checked.push(conn);
    }
    drop(checked);
    if dropped > 0 {
        tracing::info!(dropped, "dropped pooled connections that lost their server");
    }
}

/// An open database, with the embedded cluster it runs on, if any.
///
/// Fields drop in declaration order: the pool's connections close before
/// the cluster shuts down, so the shutdown need not terminate them.
pub struct Database {
    pub pool: PgPool,
    pub url: String,
    cluster: Option<std::sync::Arc<std::sync::Mutex<Cluster>>>,
}

impl Database {
    /// Opens DATABASE_URL when set, else the embedded cluster in the data
    /// directory (started, or initialised on first use); then migrates.
    pub fn open(settings: &Settings) -> Result<Database, DbError> {
        let (url, cluster) = locate(settings)?;
        let mut conn = PgConnection::establish(&url)?;
        migrate(&mut conn)?;
        let in_force = crate::audit::ChainHash::install(&mut conn, settings.audit_hash)?;
        if in_force != settings.audit_hash {
            tracing::warn!(
                configured = settings.audit_hash.as_str(),
                in_force = in_force.as_str(),
                "the audit chain's hash is fixed when the log is first written; the configured one is not used"
            );
        }
        let pool = pool(&url, settings.db_pool_size)?;
        Ok(Database { pool, url, cluster: cluster.map(|cluster| std::sync::Arc::new(std::sync::Mutex::new(cluster))) })
    }

    /// Opens the database like [`Database::open`] but changes nothing in it:
    /// a restore needs it empty.
    pub fn open_unmigrated(settings: &Settings) -> Result<Database, DbError> {
        let (url, cluster) = locate(settings)?;
        let pool = pool(&url, 2)?;
        Ok(Database { pool, url, cluster: cluster.map(|cluster| std::sync::Arc::new(std::sync::Mutex::new(cluster))) })
    }

    /// Watches the database while serving (see [`health`]).
    pub fn monitor(&self) -> std::sync::Arc<health::Health> {
        health::monitor(self.url.clone(), self.cluster.as_ref().map(std::sync::Arc::downgrade), self.pool.clone())
    }

    /// Whether the database runs in duban's own embedded cluster.
    pub fn is_embedded(&self) -> bool {
        self.cluster.is_some()
    }
}

/// DATABASE_URL when set, else the embedded cluster in the data directory
/// (started, or initialised on first use) with duban's database in it.
fn locate(settings: &Settings) -> Result<(String, Option<Cluster>), DbError> {
    match &settings.database_url {
        Some(url) => Ok((url.clone(), None)),
        None => {
            let cluster = start_embedded(&settings.data_dir)?;
            create_database_if_missing(&cluster.url("postgres"), EMBEDDED_DATABASE)?;
            Ok((cluster.url(EMBEDDED_DATABASE), Some(cluster)))
        }
    }
}

fn start_embedded(data_dir: &Path) -> Result<Cluster, DbError> {
    let mut options = ClusterOptions::new(data_dir.join("postgres"));
    options.log_file = data_dir.join("postgres.log");
    tracing::info!(data_dir = %data_dir.display(), "no DATABASE_URL: using the embedded PostgreSQL cluster");
    Ok(Cluster::start(&options)?)
}

fn create_database_if_missing(admin_url: &str, name: &str) -> Result<(), DbError> {
    let mut admin = PgConnection::establish(admin_url)?;
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = Bool)]
        exists: bool,
    }
    let exists = diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result::<Exists>(&mut admin)?
        .exists;
    if !exists {
        // The name is a constant of ours, never user input.
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut admin)?;
        tracing::info!(database = name, "created the database");
    }
    Ok(())
}

/// Runs pending migrations under an advisory lock, so two processes
/// starting at once do not both try.
pub fn migrate(conn: &mut PgConnection) -> Result<(), DbError> {
    const MIGRATION_LOCK: i64 = 0x6475_6261_6e00; // "duban\0"
    diesel::sql_query("SELECT pg_advisory_lock($1)").bind::<BigInt, _>(MIGRATION_LOCK).execute(conn)?;
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|applied| applied.iter().map(ToString::to_string).collect::<Vec<_>>())
        .map_err(|error| DbError::Migrate(error.to_string()))
        .and_then(|applied| fill_after_migrations(conn, &applied).map(|()| applied.len()));
    diesel::sql_query("SELECT pg_advisory_unlock($1)").bind::<BigInt, _>(MIGRATION_LOCK).execute(conn)?;
    let applied = result?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    Ok(())
}

/// Fills the columns a schema migration added whose values only the
/// rulebook can compute (SQL would need a second copy of the rule).
fn fill_after_migrations(conn: &mut PgConnection, applied: &[String]) -> Result<(), DbError> {
    const TASK_LIGHTS: &str = "20261205000009";
    if applied.iter().any(|version| version == TASK_LIGHTS) {
        conn.transaction(crate::rollup::refresh_all)?;
        tracing::info!("filled the stored schedule lights of every task");
    }
    Ok(())
}
