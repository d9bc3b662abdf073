//! Helpers shared by the integration tests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

pub fn seed_file(name: &str) -> String {
    std::fs::read_to_string(workspace().join("seeds").join(name)).unwrap()
}

pub fn document() -> String {
    seed_file("luoping-task-breakdown.txt")
}

/// Every row of every table, as text, in a stable order: equal snapshots
/// mean the import changed nothing at all.
pub fn snapshot(conn: &mut PgConnection) -> Vec<String> {
    let tables = [
        "regions",
        "campaigns",
        "indicators",
        "tasks",
        "task_targets",
        "units",
        "unit_aliases",
        "unit_groups",
        "unit_group_members",
        "task_parties",
        "assignments",
    ];
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut rows = Vec::new();
    for table in tables {
        let query = format!("SELECT t::text AS row FROM {table} t ORDER BY t::text");
        rows.extend(diesel::sql_query(query).load::<Row>(conn).unwrap().into_iter().map(|r| format!("{table}: {}", r.row)));
    }
    rows
}

pub fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!("({sql})"))).get_result(conn).unwrap()
}

/// An access token of a demo account, signed in through the server at `base`.
pub fn demo_token(base: &str, username: &str) -> String {
    let login: serde_json::Value = reqwest::blocking::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": username, "password": duban_tests::DEMO_PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    login["access_token"].as_str().expect("signed in").to_owned()
}

/// The password of 师宗县's lead office, `szfzb`.
pub const SHIZONG_PASSWORD: &str = "Shizong-county-2026";

/// 曲靖市's office starts 师宗县's campaign (`shizong`) from 罗平县's
/// checklist, and the system administrator gives the county its lead
/// office, `szfzb`, ready to work (no first password change).
pub fn second_county_with_its_office(db: &duban_tests::TestDb, base: &str) {
    let http = reqwest::blocking::Client::new();
    let new = serde_json::json!({"code": "shizong", "name": "师宗县法治政府建设示范创建", "region": "师宗县", "template": "luoping"});
    let started = http.post(format!("{base}/api/v1/campaigns")).bearer_auth(demo_token(base, "qjfzb")).json(&new).send().unwrap();
    assert_eq!(started.status(), 201, "{}", started.text().unwrap());
    let office = serde_json::json!({"username": "szfzb", "display_name": "师宗县依法治县办", "role": "lead_office", "region": "师宗县", "password": SHIZONG_PASSWORD});
    let admin = duban_tests::session_token(db.url(), "admin");
    let created = http.post(format!("{base}/api/v1/users")).bearer_auth(admin).json(&office).send().unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().unwrap());
    duban_tests::skip_first_password_change(db, "szfzb");
}

/// One bigint column named `value`, for raw queries.
#[derive(QueryableByName)]
pub struct Int8Row {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub value: i64,
}

/// The duban binary the tests built.
pub const DUBAN: &str = env!("CARGO_BIN_EXE_duban-under-test");

/// A `duban serve` process, the address it listens on, and its log lines.
pub struct Server {
    child: Child,
    pub base: String,
    log: std::sync::mpsc::Receiver<String>,
}

impl Server {
    pub fn start(data_dir: &Path, extra_env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(DUBAN);
        command
            .arg("serve")
            .env_remove("DATABASE_URL")
            .env("DUBAN_DATA_DIR", data_dir)
            .env("DUBAN_LISTEN", "127.0.0.1:0")
            .env("DUBAN_LOG", "info")
            .env_remove("DUBAN_STATIC_DIR")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in extra_env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, log) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server { child, base: String::new(), log };
        let listening = server.log_line(|line| line.contains("listening on http") || line.starts_with("duban:"));
        assert!(!listening.starts_with("duban:"), "duban serve failed: {listening}");
        let at = listening.find("listening on ").unwrap() + "listening on ".len();
        server.base = listening[at..].split(['"', ' ']).next().unwrap().to_owned();
        server
    }

    /// The next log line that satisfies `wanted`.
    pub fn log_line(&self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.log.recv_timeout(left).expect("duban serve did not log what was expected in time");
            if wanted(&line) {
                return line;
            }
        }
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        reqwest::blocking::Client::new().get(format!("{}{path}", self.base)).header("x-request-id", "serve-test-request-1").send().unwrap()
    }

    /// GET as a demo account, signing in first.
    pub fn get_as(&self, username: &str, path: &str) -> serde_json::Value {
        let http = reqwest::blocking::Client::new();
        let login: serde_json::Value = http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({"username": username, "password": duban_tests::DEMO_PASSWORD}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let token = login["access_token"].as_str().expect("signed in");
        http.get(format!("{}{path}", self.base)).bearer_auth(token).send().unwrap().json().unwrap()
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    pub fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "duban did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    /// A test that fails half-way must not leave duban running.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A free TCP port on 127.0.0.1.
/// A PostgreSQL cluster of the test's own in `dir` (which the postgres
/// user must be able to create it in), stopped when dropped.
pub fn own_cluster(dir: &Path) -> duban_pgcluster::Cluster {
    let mut options = duban_pgcluster::ClusterOptions::new(dir);
    options.durable = false;
    duban_pgcluster::Cluster::start(&options).unwrap_or_else(|error| panic!("starting a cluster in {}: {error}", dir.display()))
}

/// GET requests that keep coming, one after another on a thread per path,
/// until stopped; what each got is kept (a status, or the error).
pub struct RequestsUnderway {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    outcomes: std::sync::Arc<std::sync::Mutex<Vec<Result<u16, String>>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl RequestsUnderway {
    pub fn start(base: &str, token: &str, paths: &[&str]) -> RequestsUnderway {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let outcomes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(15)).build().unwrap();
        let threads = paths
            .iter()
            .map(|path| {
                let (stop, outcomes, http, token, url) =
                    (stop.clone(), outcomes.clone(), http.clone(), token.to_owned(), format!("{base}{path}"));
                std::thread::spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let outcome = http
                            .get(&url)
                            .bearer_auth(&token)
                            .send()
                            .map(|response| response.status().as_u16())
                            .map_err(|error| error.to_string());
                        outcomes.lock().unwrap().push(outcome);
                        std::thread::sleep(Duration::from_millis(20));
                    }
                })
            })
            .collect();
        RequestsUnderway { stop, outcomes, threads }
    }

    /// Stops the requests, each of which got 200 or 503 (never a hang, an
    /// error or a 500), and some 503; what each got, in order.
    pub fn stop_served_or_refused(self) -> Vec<Result<u16, String>> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for thread in self.threads {
            thread.join().unwrap();
        }
        let outcomes = std::mem::take(&mut *self.outcomes.lock().unwrap());
        let unexpected: Vec<_> = outcomes.iter().filter(|outcome| !matches!(outcome, Ok(200) | Ok(503))).collect();
        assert!(unexpected.is_empty(), "only 200 and 503 while the database was away, never a hang or a 500: {unexpected:?}");
        assert!(outcomes.iter().any(|outcome| *outcome == Ok(503)), "the outage was seen");
        outcomes
    }
}

/// The first answer to GET `path` that is a 503 with `Retry-After`, asked
/// every 50 ms for up to 30 s: an outage answered at once.
pub fn until_refused(base: &str, token: &str, path: &str) -> reqwest::blocking::Response {
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(15)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = http.get(format!("{base}{path}")).bearer_auth(token).send().unwrap();
        if response.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            assert!(response.headers().contains_key("retry-after"), "a 503 says when to come back");
            return response;
        }
        assert!(Instant::now() < deadline, "the outage was never answered with 503");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A real SMTP server (aiosmtpd) that records what it receives, decoded.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    out: tempfile::NamedTempFile,
}

impl SmtpServer {
    /// Plain SMTP with AUTH (duban / test-password).
    pub fn start() -> SmtpServer {
        Self::start_with(&[])
    }

    /// With STARTTLS required, on this certificate and key.
    pub fn start_with_tls(cert: &Path, key: &Path) -> SmtpServer {
        Self::start_with(&[cert.to_str().unwrap(), key.to_str().unwrap()])
    }

    fn start_with(tls: &[&str]) -> SmtpServer {
        let out = tempfile::NamedTempFile::new().unwrap();
        let port = free_port();
        // Debian's interpreter, which has python3-aiosmtpd (a python3 earlier
        // on PATH, e.g. pyenv's, would not).
        let mut child = Command::new("/usr/bin/python3")
            .arg(workspace().join("tests/it/fixtures/smtp_server.py"))
            .arg(out.path())
            .arg(port.to_string())
            .args(tls)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting the SMTP server (apt-get install python3-aiosmtpd)");
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut ready).unwrap();
        assert_eq!(ready.trim(), "ready", "the SMTP server did not start");
        SmtpServer { child, port, out }
    }

    /// The messages received so far.
    pub fn received(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.out.path()).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A certificate authority and a certificate it issued for 127.0.0.1, made
/// with the openssl command.
pub struct Certificates {
    pub dir: tempfile::TempDir,
}

impl Certificates {
    pub fn make() -> Certificates {
        let dir = tempfile::tempdir().unwrap();
        let openssl = |args: &[&str]| {
            let output = Command::new("openssl").args(args).current_dir(dir.path()).output().expect("running openssl");
            assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=duban test CA",
        ]);
        openssl(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
        std::fs::write(
            dir.path().join("server.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]);
        Certificates { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// One HTTP request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// A query parameter of the target, as sent (percent-encoded).
    pub fn query(&self, name: &str) -> Option<String> {
        let (_, query) = self.target.split_once('?')?;
        query.split('&').find_map(|pair| pair.split_once('=').filter(|(key, _)| *key == name).map(|(_, value)| value.to_owned()))
    }
}

/// A real HTTP receiver on 127.0.0.1 for webhooks and robots: it records
/// every request and answers the requests to a path with the statuses it
/// is told for it, in turn (200 with `{"errcode":0}` when none is left),
/// optionally after a delay.
#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    answers: std::sync::Arc<std::sync::Mutex<Vec<(String, std::collections::VecDeque<u16>)>>>,
    delay: std::sync::Arc<std::sync::Mutex<Duration>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let receiver = Receiver {
            base: format!("http://{}", listener.local_addr().unwrap()),
            received: Default::default(),
            answers: Default::default(),
            delay: Default::default(),
        };
        let serving = receiver.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let serving = serving.clone();
                std::thread::spawn(move || serving.answer(stream));
            }
        });
        receiver
    }

    /// Answers the next requests to paths starting with `path` with these statuses, in turn.
    pub fn answer_with(&self, path: &str, statuses: &[u16]) {
        self.answers.lock().unwrap().push((path.to_owned(), statuses.iter().copied().collect()));
    }

    /// Waits this long before answering each request.
    pub fn delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived (at most a minute).
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            assert!(Instant::now() < deadline, "the receiver got {} of {n} requests", received.len());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn answer(&self, stream: std::net::TcpStream) {
        use std::io::{Read, Write};
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or_default().to_owned(), parts.next().unwrap_or_default().to_owned());
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        let length: usize =
            headers.iter().find(|(name, _)| name.eq_ignore_ascii_case("content-length")).map_or(0, |(_, value)| value.parse().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        self.received.lock().unwrap().push(Received { method, target: target.clone(), headers, body });
        let delay = *self.delay.lock().unwrap();
        std::thread::sleep(delay);
        let status = self
            .answers
            .lock()
            .unwrap()
            .iter_mut()
            .find(|(path, left)| target.starts_with(path.as_str()) && !left.is_empty())
            .and_then(|(_, left)| left.pop_front())
            .unwrap_or(200);
        let body = if status == 200 { r#"{"errcode":0,"errmsg":"ok"}"# } else { r#"{"error":"the receiver was told to fail"}"# };
        let mut stream = stream;
        let _ = write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
}
