//! An optional PostgreSQL streaming replica for reads that need not see
//! the request's own writes (dashboards, lists, the audit query). A monitor
//! measures how far the replica is behind the primary; above the bound, or
//! when the replica does not answer, reads go to the primary. Everything
//! that writes, or reads what it has just written, uses the primary.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::PgPool;

/// How often the lag is measured.
const MEASURE_EVERY: Duration = Duration::from_millis(250);

/// The lag recorded while it is unknown (the replica does not answer).
const UNKNOWN: u64 = u64::MAX;

/// A replica, its pool and its last measured lag.
pub struct Replica {
    pool: PgPool,
    lag_ms: AtomicU64,
    max_lag: Duration,
}

impl Replica {
    /// A replica at `url`; it is not used until the monitor has measured it.
    pub fn open(url: &str, size: u32, max_lag: Duration) -> Arc<Replica> {
        // Built unchecked: a replica that is down at start is measured,
        // and used, once it answers.
        let pool = diesel::r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(2))
            .connection_customizer(Box::new(super::SessionSettings))
            .build_unchecked(diesel::r2d2::ConnectionManager::new(url));
        Arc::new(Replica { pool, lag_ms: AtomicU64::new(UNKNOWN), max_lag })
    }

    /// The replica's pool when it is within the lag bound.
    pub fn usable(&self) -> Option<&PgPool> {
        let lag = self.lag_ms.load(Ordering::Acquire);
        (lag != UNKNOWN && Duration::from_millis(lag) <= self.max_lag).then_some(&self.pool)
    }

    /// The last measured lag; `None` while the replica does not answer.
    pub fn lag(&self) -> Option<Duration> {
        match self.lag_ms.load(Ordering::Acquire) {
            UNKNOWN => None,
            lag => Some(Duration::from_millis(lag)),
        }
    }

    /// Measures the lag every [`MEASURE_EVERY`] on a thread of its own.
    pub fn start_monitor(self: &Arc<Self>, primary: PgPool) {
        let replica = Arc::clone(self);
        std::thread::Builder::new()
            .name("replica-lag".to_owned())
            .spawn(move || {
                loop {
                    let lag = match measure(&primary, &replica.pool) {
                        Ok(lag) => u64::try_from(lag.as_millis()).unwrap_or(UNKNOWN - 1),
                        Err(error) => {
                            tracing::debug!(%error, "the replica's lag could not be measured");
                            UNKNOWN
                        }
                    };
                    let before = replica.lag_ms.swap(lag, Ordering::AcqRel);
                    if (before == UNKNOWN) != (lag == UNKNOWN) {
                        if lag == UNKNOWN {
                            tracing::warn!("the read replica does not answer: reads go to the primary");
                        } else {
                            tracing::info!(lag_ms = lag, "the read replica answers");
                            super::sweep_dead(&replica.pool);
                        }
                    }
                    metrics::gauge!("duban_replica_lag_seconds").set(if lag == UNKNOWN { -1.0 } else { lag as f64 / 1000.0 });
                    std::thread::sleep(MEASURE_EVERY);
                }
            })
            .expect("starting a thread");
    }
}

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = Nullable<Text>)]
    lsn: Option<String>,
}

#[derive(QueryableByName)]
struct Behind {
    #[diesel(sql_type = Nullable<BigInt>)]
    bytes: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    replay_age_ms: Option<i64>,
}

/// How far the replica is behind: nothing when it has replayed all the
/// primary has written, else the age of the last transaction it replayed.
/// (The age alone would call an idle, caught-up replica late.)
/// A connection that fails here is dropped if it lost its server, so the
/// next measurement opens a new one.
fn measure(primary: &PgPool, replica: &PgPool) -> anyhow::Result<Duration> {
    let mut primary = primary.get()?;
    let mut replica = replica.get()?;
    let measured = measure_on(&mut primary, &mut replica);
    if measured.is_err() {
        super::discard_if_dead(&mut primary);
        super::discard_if_dead(&mut replica);
    }
    measured
}

fn measure_on(primary: &mut PgConnection, replica: &mut PgConnection) -> anyhow::Result<Duration> {
    let written: Position = diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn").get_result(primary)?;
    let written = written.lsn.ok_or_else(|| anyhow::anyhow!("the primary reports no WAL position"))?;
    let behind: Behind = diesel::sql_query(
        "SELECT pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::bigint AS bytes,
                (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint AS replay_age_ms",
    )
    .bind::<Text, _>(&written)
    .get_result(replica)?;
    match behind.bytes {
        None => Err(anyhow::anyhow!("the database at DATABASE_REPLICA_URL is not a replica")),
        Some(bytes) if bytes <= 0 => Ok(Duration::ZERO),
        Some(_) => Ok(Duration::from_millis(behind.replay_age_ms.unwrap_or(i64::MAX).max(0) as u64)),
    }
}
