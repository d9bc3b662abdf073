//! The figures of running more than one of everything: one instance against
//! two behind HAProxy, reads on the primary against reads on a streaming
//! replica, and how long requests fail after PostgreSQL is killed and
//! started again. All on this one machine, so the first two are ratios of
//! the same operation in the same run, not capacities.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use duban_pgcluster::{Cluster, ClusterOptions};
use serde_json::{Value, json};

use super::{Load, Operation, Server, free_port, lua, wait_until, wrk};

/// What the scaling figures run against.
pub(super) struct Setup<'a> {
    pub duban: &'a Path,
    pub env: &'a dyn Fn(&mut Command),
    pub scratch: &'a Path,
    /// The instance the other loads ran on.
    pub base: &'a str,
    /// A read that goes to the replica when there is one (the task list).
    pub list: &'a Operation,
    /// A read that needs the database on every request (one task's page
    /// reads its campaign's version).
    pub task: &'a Operation,
    pub seconds: u32,
}

pub(super) fn measure(setup: &Setup, cluster: &mut Cluster) -> anyhow::Result<Value> {
    let instances = one_against_two(setup)?;
    let replica = primary_against_replica(setup, cluster)?;
    let restart = postgres_restart(setup, cluster)?;
    Ok(json!({"instances": instances, "replica": replica, "postgres_restart": restart}))
}

/// Another `duban serve` on the same database, with `extra` settings.
fn another_instance(setup: &Setup, extra: &[(&str, &str)]) -> anyhow::Result<(Server, String)> {
    let port = free_port()?;
    let mut command = Command::new(setup.duban);
    (setup.env)(&mut command);
    for (name, value) in extra {
        command.env(name, value);
    }
    let server =
        Server(command.args(["serve", "--listen", &format!("127.0.0.1:{port}")]).stdout(Stdio::null()).stderr(Stdio::inherit()).spawn()?);
    let base = format!("http://127.0.0.1:{port}");
    wait_until(|| http_status(&base, "/readyz", "").is_some_and(|status| status == 200), "another instance to be ready")?;
    Ok((server, base))
}

/// HAProxy in the foreground before `backends`, keeping connections to them
/// open as a production balancer does.
struct Balancer(Child, String);

impl Balancer {
    fn start(dir: &Path, backends: &[&str]) -> anyhow::Result<Balancer> {
        let port = free_port()?;
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(index, base)| format!("    server duban{index} {} check inter 1s\n", base.trim_start_matches("http://")))
            .collect();
        let config = format!(
            "global\n    maxconn 1000\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\
             frontend bench\n    bind 127.0.0.1:{port}\n    default_backend duban\n\
             backend duban\n    balance roundrobin\n    option httpchk GET /readyz\n{servers}"
        );
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, config)?;
        let child = Command::new("haproxy").arg("-db").arg("-f").arg(&path).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
        let balancer = Balancer(child, format!("http://127.0.0.1:{port}"));
        wait_until(|| http_status(&balancer.1, "/readyz", "").is_some_and(|status| status == 200), "HAProxy to answer")?;
        Ok(balancer)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn load_of(setup: &Setup, base: &str, operation: &Operation, concurrency: u32) -> anyhow::Result<Load> {
    let script = setup.scratch.join("scaling.lua");
    std::fs::write(&script, lua(operation))?;
    wrk(&format!("{base}{}", operation.path), &script, concurrency, setup.seconds)
}

/// The same reads through HAProxy to one instance, then to two.
fn one_against_two(setup: &Setup) -> anyhow::Result<Value> {
    crate::setup::debian_packages(&["haproxy"])?;
    let (_second, second_base) = another_instance(setup, &[])?;
    let mut figures = Vec::new();
    for operation in [setup.task, setup.list] {
        eprintln!("xtask: {} through HAProxy, one instance and two", operation.name);
        let one = Balancer::start(setup.scratch, &[setup.base])?;
        let alone = load_of(setup, &one.1, operation, 16)?;
        drop(one);
        let two = Balancer::start(setup.scratch, &[setup.base, &second_base])?;
        let both = load_of(setup, &two.1, operation, 16)?;
        drop(two);
        figures.push(json!({
            "operation": operation.name, "concurrency": 16,
            "one_instance": alone.json(), "two_instances": both.json(),
            "ratio": both.requests_per_second / alone.requests_per_second.max(f64::MIN_POSITIVE),
        }));
    }
    Ok(json!(figures))
}

/// The list on an instance reading from the primary, then on one reading
/// from a streaming replica of it (pg_basebackup).
fn primary_against_replica(setup: &Setup, primary: &Cluster) -> anyhow::Result<Value> {
    eprintln!("xtask: making a streaming replica (pg_basebackup)");
    let mut options = ClusterOptions::new(setup.scratch.join("replica"));
    options.log_file = setup.scratch.join("replica.log");
    let copy_started = Instant::now();
    let mut replica = primary.start_replica(&options)?;
    let copy_seconds = copy_started.elapsed().as_secs_f64();
    const TOKEN: &str = "bench-metrics";
    let replica_url = replica.url("bench");
    let (reader, reader_base) = another_instance(setup, &[("DATABASE_REPLICA_URL", &replica_url), ("DUBAN_METRICS_TOKEN", TOKEN)])?;
    // Wait until the lag monitor lets reads through to the replica.
    wait_until(
        || {
            http_status(&reader_base, &setup.list.path, &setup.list.bearer);
            replica_reads(&reader_base, TOKEN) > 0.0
        },
        "reads on the replica",
    )?;
    eprintln!("xtask: {} on the primary and on the replica", setup.list.name);
    let on_primary = load_of(setup, setup.base, setup.list, 16)?;
    let before = replica_reads(&reader_base, TOKEN);
    let on_replica = load_of(setup, &reader_base, setup.list, 16)?;
    let served_by_replica = replica_reads(&reader_base, TOKEN) - before;
    drop(reader);
    replica.stop();
    Ok(json!({
        "operation": setup.list.name, "concurrency": 16, "base_backup_seconds": copy_seconds,
        "primary": on_primary.json(), "replica": on_replica.json(),
        "ratio": on_replica.requests_per_second / on_primary.requests_per_second.max(f64::MIN_POSITIVE),
        "reads_served_by_replica": served_by_replica,
    }))
}

fn replica_reads(base: &str, token: &str) -> f64 {
    let Some(text) = http_get(base, "/metrics", token).map(|(_, body)| body) else { return 0.0 };
    text.lines()
        .find_map(|line| line.strip_prefix("duban_db_reads_total{source=\"replica\"} "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

/// PostgreSQL's postmaster killed (SIGKILL) while a client asks for a task
/// every 10 ms, then started again: what the client saw, and how long after
/// the database accepted connections again the first request succeeded.
fn postgres_restart(setup: &Setup, cluster: &mut Cluster) -> anyhow::Result<Value> {
    eprintln!("xtask: killing PostgreSQL under requests and starting it again");
    let pid_file = std::fs::read_to_string(cluster.data_dir().join("postmaster.pid")).context("postmaster.pid")?;
    let pid = pid_file.lines().next().context("a pid")?.trim().to_owned();
    let (base, path, bearer) = (setup.base.to_owned(), setup.task.path.clone(), setup.task.bearer.clone());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let polling = stop.clone();
    let poller = std::thread::spawn(move || {
        let mut answers: Vec<(Instant, Option<u16>)> = Vec::new();
        while !polling.load(std::sync::atomic::Ordering::Relaxed) {
            answers.push((Instant::now(), http_status(&base, &path, &bearer)));
            std::thread::sleep(Duration::from_millis(10));
        }
        answers
    });
    std::thread::sleep(Duration::from_secs(1));
    let killed = Instant::now();
    Command::new("kill").args(["-KILL", &pid]).status()?;
    // Started again as soon as the dead postmaster's backends let go of its memory.
    let mut restarted = None;
    while restarted.is_none() {
        if killed.elapsed() > Duration::from_secs(60) {
            bail!("PostgreSQL did not start again within a minute");
        }
        cluster.has_exited();
        if cluster.restart().is_ok() {
            restarted = Some(Instant::now());
        } else {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let restarted = restarted.expect("set above");
    std::thread::sleep(Duration::from_secs(5));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let answers = poller.join().map_err(|_| anyhow::anyhow!("the poller panicked"))?;
    let after_kill: Vec<&(Instant, Option<u16>)> = answers.iter().filter(|(at, _)| *at >= killed).collect();
    let first_ok_after_restart = after_kill.iter().find(|(at, status)| *at >= restarted && *status == Some(200)).map(|(at, _)| *at);
    let mut statuses: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for (_, status) in &after_kill {
        *statuses.entry(status.map_or_else(|| "no answer".to_owned(), |status| status.to_string())).or_default() += 1;
    }
    let slowest_ms = answers.windows(2).map(|pair| (pair[1].0 - pair[0].0).as_secs_f64() * 1000.0 - 10.0).fold(0.0, f64::max);
    Ok(json!({
        "database_down_ms": (restarted - killed).as_secs_f64() * 1000.0,
        "first_success_after_database_back_ms": first_ok_after_restart.map(|at| (at - restarted).as_secs_f64() * 1000.0),
        "first_success_after_kill_ms": first_ok_after_restart.map(|at| (at - killed).as_secs_f64() * 1000.0),
        "answers_after_kill": statuses,
        "slowest_answer_ms": slowest_ms,
    }))
}

/// A GET over a fresh connection; the status, or `None` when nothing answered.
fn http_status(base: &str, path: &str, bearer: &str) -> Option<u16> {
    http_get(base, path, bearer).map(|(status, _)| status)
}

fn http_get(base: &str, path: &str, bearer: &str) -> Option<(u16, String)> {
    let address = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect_timeout(&address.parse().ok()?, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let authorization = if bearer.is_empty() { String::new() } else { format!("Authorization: Bearer {bearer}\r\n") };
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\n{authorization}Connection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    Some((status, body))
}
