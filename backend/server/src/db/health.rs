//! Watching the database while duban serves: a probe on a connection of
//! its own, once a second. While the database does not answer, requests are
//! answered at once with 503 and `Retry-After` instead of each waiting for
//! a pooled connection. When the database is duban's embedded cluster and
//! its postmaster has died, the monitor reaps it and starts the cluster
//! again, with back-off, until it runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use duban_pgcluster::Cluster;

/// Whether the database answered the last probe.
#[derive(Debug)]
pub struct Health {
    up: AtomicBool,
}

impl Default for Health {
    fn default() -> Self {
        Health { up: AtomicBool::new(true) }
    }
}

impl Health {
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Records the probe's answer.
    fn set(&self, up: bool) {
        let was = self.up.swap(up, Ordering::Relaxed);
        if was && !up {
            tracing::error!("the database does not answer: requests are refused with 503 until it does");
        } else if !was && up {
            tracing::info!("the database answers again");
        }
    }
}

/// How often the database is probed while it answers.
const PROBE_EVERY: Duration = Duration::from_secs(1);
/// How often while it does not: requests are refused until the probe sees
/// it back, so a short wait here shortens every outage.
const PROBE_WHILE_DOWN: Duration = Duration::from_millis(200);
/// The longest wait between attempts to restart the embedded cluster.
const MOST_BACK_OFF: Duration = Duration::from_secs(30);

/// Starts the monitor on a thread of its own; it runs as long as duban. It
/// holds the cluster weakly: when duban drops its database, the cluster
/// stops as usual and the monitor only probes.
/// When the database comes back, the monitor drops the pool's connections
/// that lost their server.
pub fn monitor(url: String, cluster: Option<Weak<Mutex<Cluster>>>, pool: super::PgPool) -> Arc<Health> {
    let health = Arc::new(Health::default());
    let shared = health.clone();
    std::thread::Builder::new()
        .name("database-monitor".to_owned())
        .spawn(move || watch(&url, cluster, &pool, &shared))
        .expect("starting the database monitor");
    health
}

fn watch(url: &str, cluster: Option<Weak<Mutex<Cluster>>>, pool: &super::PgPool, health: &Health) {
    let mut probe: Option<PgConnection> = None;
    let mut back_off = PROBE_EVERY;
    let mut next_restart = Instant::now();
    loop {
        if let Some(cluster) = cluster.as_ref().and_then(Weak::upgrade) {
            let mut cluster = cluster.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if cluster.has_exited().is_some() {
                health.set(false);
                probe = None;
                back_off = PROBE_EVERY;
                next_restart = Instant::now();
            }
            if !health.is_up() && !cluster.is_running() && Instant::now() >= next_restart {
                match cluster.restart() {
                    Ok(()) => {
                        tracing::info!("restarted the embedded PostgreSQL cluster");
                        back_off = PROBE_EVERY;
                    }
                    Err(error) => {
                        tracing::warn!(%error, retry_in_s = back_off.as_secs(), "restarting the embedded PostgreSQL cluster");
                        next_restart = Instant::now() + back_off;
                        back_off = (back_off * 2).min(MOST_BACK_OFF);
                    }
                }
            }
        }
        let answered = match probe.as_mut() {
            Some(connection) => connection.batch_execute("SELECT 1").is_ok(),
            None => match PgConnection::establish(url) {
                Ok(connection) => {
                    probe = Some(connection);
                    true
                }
                Err(_) => false,
            },
        };
        if !answered {
            probe = None;
        }
        // Back after an outage: the pool's idle connections died with the
        // old server. They go before requests are let through again.
        if answered && !health.is_up() {
            super::sweep_dead(pool);
        }
        health.set(answered);
        std::thread::sleep(if answered { PROBE_EVERY } else { PROBE_WHILE_DOWN });
    }
}
