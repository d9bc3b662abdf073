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
        let listening = server.log_line(|line| line.contains("listening on http://") || line.starts_with("duban:"));
        assert!(!listening.starts_with("duban:"), "duban serve failed: {listening}");
        let at = listening.find("http://").unwrap();
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
