//! Several duban instances on one database behind a real load balancer
//! (Debian's HAProxy, checking each instance's /readyz): a county's work
//! goes on while an instance is killed and restarted, and a rolling restart
//! by SIGTERM fails no request at all. Nothing acknowledged is lost.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use duban_tests::TestDb;
use serde_json::{Value, json};

use crate::support::{Server, free_port};

/// HAProxy in the foreground with a configuration of its own.
struct Balancer {
    child: Child,
    base: String,
}

impl Balancer {
    /// Balances `backends` (host:port) round robin. Each instance is
    /// checked on /readyz every 200 ms; a request whose connection an
    /// instance refuses (it stopped, or is stopping) is sent to another
    /// one, which is safe for any method because the first never saw it.
    fn start(dir: &Path, backends: &[String]) -> Balancer {
        let port = free_port();
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(index, address)| format!("    server duban{index} {address} check inter 200ms fall 1 rise 2\n"))
            .collect();
        let config = format!(
            "global\n    log stderr format raw local0 warning\n\
             defaults\n    mode http\n    log global\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\
             \x20   retries 3\n    option redispatch 1\n    retry-on conn-failure\n    option http-server-close\n    option httplog\n\
             frontend county\n    bind 127.0.0.1:{port}\n    default_backend duban\n\
             backend duban\n    balance roundrobin\n    option httpchk GET /readyz\n    http-check expect status 200\n{servers}"
        );
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting HAProxy (apt-get install haproxy)");
        let balancer = Balancer { child, base: format!("http://127.0.0.1:{port}") };
        balancer.until_ready();
        balancer
    }

    fn until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let http = reqwest::blocking::Client::new();
        while http.get(format!("{}/readyz", self.base)).send().map(|r| r.status().as_u16()).unwrap_or(0) != 200 {
            assert!(Instant::now() < deadline, "HAProxy never had a ready instance");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One duban instance on the shared database, always on the same port, so
/// it can stop and come back where the balancer expects it.
struct Instance {
    address: String,
    data_dir: std::path::PathBuf,
    database_url: String,
    server: Option<Server>,
}

impl Instance {
    fn new(db: &TestDb, data_dir: &Path) -> Instance {
        let mut instance = Instance {
            address: format!("127.0.0.1:{}", free_port()),
            data_dir: data_dir.to_owned(),
            database_url: db.url().to_owned(),
            server: None,
        };
        instance.start();
        instance
    }

    fn start(&mut self) {
        let env = [("DATABASE_URL", self.database_url.as_str()), ("DUBAN_LISTEN", self.address.as_str()), ("DUBAN_LOG", "warn,duban=info")];
        self.server = Some(Server::start(&self.data_dir, &env));
        let deadline = Instant::now() + Duration::from_secs(30);
        let http = reqwest::blocking::Client::new();
        while http.get(format!("http://{}/readyz", self.address)).send().map(|r| r.status().as_u16()).unwrap_or(0) != 200 {
            assert!(Instant::now() < deadline, "the instance never became ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        // The balancer counts it up after two good checks (200 ms apart).
        std::thread::sleep(Duration::from_millis(600));
    }

    /// SIGKILL: the instance dies with whatever it was doing.
    fn kill(&mut self) {
        let mut server = self.server.take().unwrap();
        server.signal(libc::SIGKILL);
        server.wait();
    }

    /// SIGTERM: the instance stops accepting, finishes what it has, exits.
    fn stop(&mut self) {
        let mut server = self.server.take().unwrap();
        server.signal(libc::SIGTERM);
        let status = server.wait();
        assert!(status.success(), "a SIGTERM ends duban cleanly: {status}");
    }
}

/// What the county's lead office got while it worked through the balancer.
#[derive(Debug, Default)]
struct Tally {
    urged: u64,
    reads: u64,
    failed: Vec<String>,
}

/// The lead office's work, through the balancer, until `stop`: urging one
/// assignment (a write whose every acknowledgement shows in its counter)
/// and reading the task list, one request at a time.
fn work(base: String, token: String, assignment: i64, stop: Arc<AtomicBool>) -> Tally {
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let mut tally = Tally::default();
    let mut turn = 0u64;
    while !stop.load(Ordering::Acquire) {
        turn += 1;
        let (outcome, write) = if turn % 2 == 0 {
            let body = json!({"campaign": "luoping", "assignment_ids": [assignment], "message": format!("第{turn}次催办")});
            (http.post(format!("{base}/api/v1/urgings")).bearer_auth(&token).json(&body).send(), true)
        } else {
            (http.get(format!("{base}/api/v1/tasks?campaign=luoping&limit=5")).bearer_auth(&token).send(), false)
        };
        match outcome {
            Ok(response) if response.status().is_success() => {
                if write {
                    tally.urged += 1;
                } else {
                    tally.reads += 1;
                }
            }
            Ok(response) => tally.failed.push(format!("{} {}", response.status(), response.text().unwrap_or_default())),
            Err(error) => tally.failed.push(error.to_string()),
        }
    }
    tally
}

/// The lead office's [`work`] on a thread of its own, until the flag is set.
fn start_work(balancer: &Balancer, token: String, assignment: i64) -> (Arc<AtomicBool>, std::thread::JoinHandle<Tally>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (base, flag) = (balancer.base.clone(), stop.clone());
    (stop, std::thread::spawn(move || work(base, token, assignment, flag)))
}

fn urged(db: &TestDb, assignment: i64) -> u64 {
    crate::support::count(&mut db.conn(), &format!("SELECT urged::bigint FROM assignments WHERE id = {assignment}")) as u64
}

/// Two instances and HAProxy on a demo database; the lead office's token
/// and the assignment it urges.
fn county_behind_a_balancer(db: &TestDb, dir: &Path) -> (Vec<Instance>, Balancer, String, i64) {
    let instances = vec![Instance::new(db, dir), Instance::new(db, dir)];
    let addresses: Vec<String> = instances.iter().map(|instance| instance.address.clone()).collect();
    let balancer = Balancer::start(dir, &addresses);
    let http = reqwest::blocking::Client::new();
    let token = crate::support::demo_token(&balancer.base, "yfzxb");
    let page: Value = http
        .get(format!("{}/api/v1/assignments?campaign=luoping&limit=1", balancer.base))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    (instances, balancer, token, page["items"][0]["id"].as_i64().unwrap())
}

#[test]
fn the_county_works_on_while_an_instance_is_killed_and_restarted() {
    let db = TestDb::with_demo();
    let dir = tempfile::tempdir().unwrap();
    let (mut instances, balancer, token, assignment) = county_behind_a_balancer(&db, dir.path());
    let before = urged(&db, assignment);
    let (stop, worker) = start_work(&balancer, token, assignment);
    std::thread::sleep(Duration::from_millis(1500));
    instances[0].kill();
    std::thread::sleep(Duration::from_millis(1500));
    instances[0].start();
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Release);
    let tally = worker.join().unwrap();

    assert!(tally.urged > 10 && tally.reads > 10, "work went on: {tally:?}");
    // One request at a time: at most the one under way in the killed instance fails.
    assert!(tally.failed.len() <= 1, "{tally:?}");
    // Every acknowledged urging is in the record; a failed one may or may not be.
    let counted = urged(&db, assignment) - before;
    assert!(counted == tally.urged || counted == tally.urged + tally.failed.len() as u64, "{counted} counted, {tally:?}");
}

#[test]
fn a_rolling_restart_by_sigterm_fails_no_request() {
    let db = TestDb::with_demo();
    let dir = tempfile::tempdir().unwrap();
    let (mut instances, balancer, token, assignment) = county_behind_a_balancer(&db, dir.path());
    let before = urged(&db, assignment);
    let (stop, worker) = start_work(&balancer, token, assignment);
    for instance in &mut instances {
        std::thread::sleep(Duration::from_millis(700));
        instance.stop();
        std::thread::sleep(Duration::from_millis(300));
        instance.start();
    }
    std::thread::sleep(Duration::from_millis(700));
    stop.store(true, Ordering::Release);
    let tally = worker.join().unwrap();

    assert!(tally.urged > 10 && tally.reads > 10, "work went on: {tally:?}");
    assert!(tally.failed.is_empty(), "a rolling restart fails nothing: {tally:?}");
    assert_eq!(urged(&db, assignment) - before, tally.urged, "every acknowledged urging, exactly once");
}
