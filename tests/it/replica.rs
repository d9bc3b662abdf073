//! Reads from a real PostgreSQL streaming replica (pg_basebackup from the
//! test's own primary): dashboards and lists go to the replica while it
//! keeps up, to the primary when it falls behind its bound or stops, and
//! back once it catches up. What a request writes is always on the primary.

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use duban_pgcluster::Cluster;
use serde_json::{Value, json};

use crate::support::{Server, own_cluster};

const TOKEN: &str = "replica-test-metrics-token";

/// A streaming replica of `primary`, started.
fn replica_of(primary: &Cluster, dir: &Path) -> Cluster {
    let mut options = duban_pgcluster::ClusterOptions::new(dir);
    options.durable = false;
    primary.start_replica(&options).unwrap_or_else(|error| panic!("a replica in {}: {error}", dir.display()))
}

fn sql(url: &str, statement: &str) {
    let mut conn = PgConnection::establish(url).unwrap();
    diesel::sql_query(statement).execute(&mut conn).unwrap();
}

/// How many reads each source has served, from /metrics.
fn reads(server: &Server, source: &str) -> f64 {
    let text = reqwest::blocking::Client::new().get(format!("{}/metrics", server.base)).bearer_auth(TOKEN).send().unwrap().text().unwrap();
    let prefix = format!("duban_db_reads_total{{source=\"{source}\"}} ");
    text.lines().find_map(|line| line.strip_prefix(&prefix)).map_or(0.0, |value| value.trim().parse().unwrap())
}

fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "{what} did not happen in time");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn reads_go_to_the_replica_while_it_keeps_up_and_to_the_primary_when_it_does_not() {
    // Directories the postgres user can reach.
    let dir = tempfile::Builder::new().prefix("duban-replica-").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let primary = own_cluster(&dir.path().join("primary"));
    sql(&primary.url("postgres"), "CREATE DATABASE duban");
    let mut replica = replica_of(&primary, &dir.path().join("replica"));

    let data = dir.path().join("duban");
    std::fs::create_dir_all(&data).unwrap();
    let (primary_url, replica_url) = (primary.url("duban"), replica.url("duban"));
    let server = Server::start(
        &data,
        &[
            ("DATABASE_URL", primary_url.as_str()),
            ("DATABASE_REPLICA_URL", replica_url.as_str()),
            ("DUBAN_REPLICA_MAX_LAG_MS", "500"),
            ("DUBAN_METRICS_TOKEN", TOKEN),
        ],
    );
    let http = reqwest::blocking::Client::new();
    let token = crate::support::demo_token(&server.base, "yfzxb");
    let get =
        |path: &str| -> reqwest::blocking::Response { http.get(format!("{}{path}", server.base)).bearer_auth(&token).send().unwrap() };
    let units_named = |name: &str| -> i64 {
        let response = get(&format!("/api/v1/units?q={name}"));
        assert_eq!(response.status(), 200);
        response.json::<Value>().unwrap()["total"].as_i64().unwrap()
    };

    // Caught up: the dashboard and the lists are read on the replica.
    until("a read on the replica", || {
        assert_eq!(get("/api/v1/campaigns/luoping/dashboard").status(), 200);
        reads(&server, "replica") > 0.0
    });
    let on_replica = reads(&server, "replica");
    for path in [
        "/api/v1/dashboard",
        "/api/v1/tasks?campaign=luoping&limit=5",
        "/api/v1/assignments?limit=5",
        "/api/v1/units?limit=5",
        "/api/v1/campaigns/luoping/export.csv",
    ] {
        assert_eq!(get(path).status(), 200, "{path}");
    }
    assert!(reads(&server, "replica") >= on_replica + 5.0, "lists and an export on the replica");

    // Replay paused: the replica falls behind with the next write, and the
    // lists show that write at once, read on the primary.
    sql(&replica.url("postgres"), "SELECT pg_wal_replay_pause()");
    let created = http
        .post(format!("{}/api/v1/units", server.base))
        .bearer_auth(&token)
        .json(&json!({"region": "罗平县", "name": "县数据局", "kind": "government_department"}))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().unwrap());
    std::thread::sleep(Duration::from_millis(700));
    let (replica_before, primary_before) = (reads(&server, "replica"), reads(&server, "primary"));
    assert_eq!(units_named("县数据局"), 1, "the write is seen");
    assert_eq!(reads(&server, "replica"), replica_before, "nothing read on the lagging replica");
    assert!(reads(&server, "primary") > primary_before);

    // Replay resumed: the replica catches up and takes the reads again.
    sql(&replica.url("postgres"), "SELECT pg_wal_replay_resume()");
    until("reads back on the replica", || {
        let before = reads(&server, "replica");
        units_named("县数据局") == 1 && reads(&server, "replica") > before
    });

    // The replica stops: reads carry on, on the primary.
    replica.stop();
    std::thread::sleep(Duration::from_millis(700));
    for path in ["/api/v1/campaigns/luoping/dashboard", "/api/v1/units?limit=5"] {
        assert_eq!(get(path).status(), 200, "{path} without the replica");
    }
    assert_eq!(units_named("县数据局"), 1);
    drop(server);
}
