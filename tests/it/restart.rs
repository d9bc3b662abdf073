//! PostgreSQL that duban does not run itself (DATABASE_URL), killed under
//! requests and started again by its operator: requests are refused at
//! once with 503 and `Retry-After` while it is down, never hang or fail
//! with 500, and duban serves again by itself once it is back, without
//! first handing out the connections that died with the old server.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use duban_pgcluster::Cluster;
use reqwest::StatusCode;

use crate::support::{Server, own_cluster};

#[test]
fn an_external_database_killed_and_started_again_is_used_again_without_restarting_duban() {
    let dir = tempfile::Builder::new().prefix("duban-restart-").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let mut cluster = own_cluster(&dir.path().join("pg"));
    diesel::sql_query("CREATE DATABASE duban").execute(&mut PgConnection::establish(&cluster.url("postgres")).unwrap()).unwrap();
    let data = dir.path().join("duban");
    std::fs::create_dir_all(&data).unwrap();
    let url = cluster.url("duban");
    let server = Server::start(&data, &[("DATABASE_URL", url.as_str())]);
    let token = crate::support::demo_token(&server.base, "yfzxb");
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(15)).build().unwrap();
    let get = |path: &str| http.get(format!("{}{path}", server.base)).bearer_auth(&token).send();
    fill_the_pool(&get);

    // Requests keep coming while the database is killed.
    let load = crate::support::RequestsUnderway::start(
        &server.base,
        &token,
        &["/api/v1/tasks?limit=5", "/api/v1/tasks/1", "/api/v1/campaigns/luoping/dashboard"],
    );
    std::thread::sleep(Duration::from_millis(300));
    kill_postmaster(&cluster);
    crate::support::until_refused(&server.base, &token, "/api/v1/tasks?limit=5");
    std::thread::sleep(Duration::from_secs(1));
    load.stop_served_or_refused();

    restart_and_wait(&mut cluster);
    assert_eq!(get("/api/v1/tasks?limit=5").unwrap().status(), StatusCode::OK, "served again, without a restart of duban");

    // Killed again while nothing is asked: the pool's idle connections all
    // die with it. Once duban has seen the database back, no request meets
    // one of them; each would otherwise fail once.
    fill_the_pool(&get);
    kill_postmaster(&cluster);
    std::thread::sleep(Duration::from_secs(2));
    restart_and_wait(&mut cluster);
    // Several at once, as the pool hands out its most recent connection
    // first: one at a time would never reach the dead ones.
    fill_the_pool(&get);
}

/// Uses several pooled connections at once (so that the pool keeps them),
/// every request answered with 200.
fn fill_the_pool(get: &(dyn Fn(&str) -> reqwest::Result<reqwest::blocking::Response> + Sync)) {
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| (0..20).for_each(|_| assert_eq!(get("/api/v1/tasks?limit=5").unwrap().status(), 200)));
        }
    });
}

fn kill_postmaster(cluster: &Cluster) {
    let pid_file = std::fs::read_to_string(cluster.data_dir().join("postmaster.pid")).unwrap();
    let pid: i32 = pid_file.lines().next().unwrap().trim().parse().unwrap();
    // SAFETY: killing the postmaster of a cluster the test started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// Starts the cluster again as its operator would (once the dead
/// postmaster's backends are gone) and waits until it accepts connections,
/// then a little longer for duban's monitor (which probes every 200 ms
/// while the database is down) to notice. duban itself is not asked:
/// asking would use up dead connections.
fn restart_and_wait(cluster: &mut Cluster) {
    let deadline = Instant::now() + Duration::from_secs(60);
    cluster.has_exited();
    while let Err(error) = cluster.restart() {
        assert!(Instant::now() < deadline, "the cluster did not start again: {error}");
        std::thread::sleep(Duration::from_millis(200));
    }
    while PgConnection::establish(&cluster.url("duban")).is_err() {
        assert!(Instant::now() < deadline, "the cluster does not accept connections");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
}
