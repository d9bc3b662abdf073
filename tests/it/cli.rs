//! The `duban` command, run as a process.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use duban_tests::TestDb;

use crate::support::{DUBAN, Server, document, seed_file, snapshot, workspace};

fn duban(args: &[&str], database_url: Option<&str>) -> Output {
    let mut command = Command::new(DUBAN);
    command.args(args).env_remove("DATABASE_URL").env("DUBAN_LOG", "warn");
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn import_reports_no_changes_on_a_second_import() {
    let db = TestDb::with_demo();
    let path = workspace().join("seeds/luoping-task-breakdown.txt");
    let output = duban(&["import", path.to_str().unwrap()], Some(db.url()));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("no changes"), "{stdout}");
    assert!(stdout.contains("[bookmark: _GoBack]"), "normalisations are reported: {stdout}");
}

#[test]
fn import_of_a_malformed_file_fails_naming_row_and_cell() {
    let db = TestDb::with_demo();
    let before = snapshot(&mut db.conn());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.txt");
    // The lead cell of basic task 41 loses its tab: the row falls one cell short.
    std::fs::write(&path, document().replacen("\t县政务局\n\n\t各有关部门", "县政务局\n\n\t各有关部门", 1)).unwrap();
    let output = duban(&["import", path.to_str().unwrap()], Some(db.url()));
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert!(stderr.contains("line 348 (table row 46)"), "{stderr}");
    assert_eq!(snapshot(&mut db.conn()), before);
}

#[test]
fn dry_run_prints_what_would_change() {
    let db = TestDb::new();
    let roster = workspace().join("seeds/luoping.units.json");
    let output = duban(&["import", "--dry-run", roster.to_str().unwrap()], Some(db.url()));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("would change: 1 regions created, 57 units created, 5 unit groups created"), "{stdout}");
    assert_eq!(crate::support::count(&mut db.conn(), "SELECT count(*) FROM units"), 0);
}

#[test]
fn export_seeds_writes_the_committed_files() {
    let db = TestDb::with_demo();
    let out = tempfile::tempdir().unwrap();
    let output = duban(&["export-seeds", "--out", out.path().to_str().unwrap()], Some(db.url()));
    assert!(output.status.success(), "{}", text(&output.stderr));
    for name in ["luoping.campaign.json", "luoping.units.json"] {
        let exported = std::fs::read_to_string(out.path().join(name)).unwrap();
        assert!(exported == seed_file(name), "{name} differs from seeds/{name}");
    }
}

fn wait_for(mut condition: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_without_database_url_runs_its_own_database() {
    // Under /tmp: the cluster's OS user must be able to reach the directory.
    let data = tempfile::Builder::new().prefix("duban-serve-").tempdir_in("/tmp").unwrap();
    let lock = data.path().join("postgres/postmaster.pid");

    let mut server = Server::start(data.path(), &[("DUBAN_LOG_FORMAT", "json")]);
    let response = server.get("/healthz");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "serve-test-request-1");
    // JSON logs, one object per line, with the request id on the request's lines.
    let logged = server.log_line(|line| line.contains("request finished"));
    let entry: serde_json::Value = serde_json::from_str(&logged).unwrap_or_else(|_| panic!("not JSON: {logged}"));
    assert_eq!(entry["span"]["request_id"], "serve-test-request-1", "{logged}");
    assert_eq!(entry["status"], 200, "{logged}");
    let health: serde_json::Value = response.json().unwrap();
    assert_eq!(health["database"], true);
    let campaigns = server.get_as("inspector", "/api/v1/campaigns");
    assert_eq!(campaigns[0]["code"], "luoping", "the demo data is loaded on first start");
    assert!(lock.exists());

    // A clean shutdown stops the cluster too.
    server.signal(libc::SIGTERM);
    assert!(server.wait().success());
    assert!(!lock.exists(), "the cluster was shut down cleanly");

    // The second start reuses the cluster and its data.
    let mut server = Server::start(data.path(), &[]);
    let campaigns = server.get_as("inspector", "/api/v1/campaigns");
    assert_eq!(campaigns.as_array().unwrap().len(), 1, "the demo data is loaded once");
    let log = std::fs::read_to_string(data.path().join("postgres.log")).unwrap();
    assert_eq!(log.matches("Success. You can now start the database server").count(), 1, "initdb ran only once");

    // Even a killed server takes its cluster with it.
    server.signal(libc::SIGKILL);
    server.wait();
    wait_for(|| !lock.exists(), "the cluster stopped after its server was killed");
}

#[test]
fn serve_names_what_to_install_when_postgres_is_missing() {
    let data = tempfile::Builder::new().prefix("duban-serve-").tempdir_in("/tmp").unwrap();
    let output = Command::new(DUBAN)
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("DUBAN_DATA_DIR", data.path())
        .env("DUBAN_PG_BIN_DIR", "/nonexistent/postgresql/bin")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("apt-get install postgresql") && stderr.contains("DATABASE_URL"), "{stderr}");
}

fn duban_with_stdin(args: &[&str], database_url: &str, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(DUBAN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("DUBAN_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn login_status(server: &duban_tests::TestServer, username: &str, password: &str) -> u16 {
    server.anonymous().post("/api/v1/auth/login", &serde_json::json!({"username": username, "password": password})).status().as_u16()
}

#[test]
fn user_commands_bootstrap_and_manage_accounts() {
    let db = TestDb::with_demo();
    let server = duban_tests::TestServer::start(&db);
    let created =
        duban(&["user", "create", "--username", "chief", "--display-name", "县局管理员", "--role", "system_admin"], Some(db.url()));
    assert!(created.status.success(), "{}", text(&created.stderr));
    let stdout = text(&created.stdout);
    let password = stdout.lines().find_map(|line| line.strip_prefix("password: ")).expect("a generated password, printed once").to_owned();
    assert_eq!(login_status(&server, "chief", &password), 200);

    // By alias, with the password from standard input.
    let clerk = duban_with_stdin(
        &[
            "user",
            "create",
            "--username",
            "gov-clerk",
            "--display-name",
            "办公室文员",
            "--role",
            "unit_staff",
            "--unit",
            "县政府办",
            "--password-stdin",
        ],
        db.url(),
        "政府办公室Clerk密码1\n",
    );
    assert!(clerk.status.success(), "{}", text(&clerk.stderr));
    assert!(!text(&clerk.stdout).contains("password:"), "a password given is not printed");
    assert_eq!(login_status(&server, "gov-clerk", "政府办公室Clerk密码1"), 200);

    let reset = duban_with_stdin(&["user", "reset-password", "gov-clerk", "--password-stdin"], db.url(), "重新设置的Clerk密码2\n");
    assert!(reset.status.success(), "{}", text(&reset.stderr));
    assert_eq!(login_status(&server, "gov-clerk", "政府办公室Clerk密码1"), 401);
    assert_eq!(login_status(&server, "gov-clerk", "重新设置的Clerk密码2"), 200);

    let disabled = duban(&["user", "disable", "gov-clerk"], Some(db.url()));
    assert!(disabled.status.success(), "{}", text(&disabled.stderr));
    assert_eq!(login_status(&server, "gov-clerk", "重新设置的Clerk密码2"), 401);

    let listed = text(&duban(&["user", "list"], Some(db.url())).stdout);
    assert!(listed.lines().any(|line| line.starts_with("gov-clerk\tunit_staff") && line.ends_with("disabled")), "{listed}");
    assert!(listed.lines().any(|line| line.starts_with("admin\tsystem_admin") && line.ends_with("demo")), "{listed}");

    let bad_role = duban(&["user", "create", "--username", "x1", "--display-name", "x", "--role", "boss"], Some(db.url()));
    assert!(!bad_role.status.success());
    assert!(text(&bad_role.stderr).contains("lead_office"), "names the roles: {}", text(&bad_role.stderr));
    // Everything the command line did is on the audit record as the operator.
    let audited =
        crate::support::count(&mut db.conn(), "SELECT count(*) FROM audit_log WHERE actor_name LIKE 'cli:%' AND action LIKE 'user.%'");
    assert_eq!(audited, 4);
}

#[test]
fn production_mode_refuses_enabled_demo_accounts() {
    let db = TestDb::with_demo();
    let serve = |extra: &[(&str, &str)]| {
        let mut command = Command::new(DUBAN);
        command.arg("serve").env("DATABASE_URL", db.url()).env("DUBAN_PRODUCTION", "true").env("DUBAN_LISTEN", "127.0.0.1:0");
        for (name, value) in extra {
            command.env(name, value);
        }
        command
    };
    let refused = serve(&[]).output().unwrap();
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("demo accounts") && stderr.contains("yfzxb") && stderr.contains("duban user disable"), "{stderr}");

    diesel::sql_query("UPDATE users SET disabled_at = now() WHERE is_demo").execute(&mut db.conn()).unwrap();
    let mut started = serve(&[]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(started.stderr.take().unwrap()).lines();
    let listening = lines.find(|line| line.as_ref().is_ok_and(|line| line.contains("listening on") || line.starts_with("duban:")));
    started.kill().unwrap();
    started.wait().unwrap();
    assert!(listening.unwrap().unwrap().contains("listening on"));
    let demo = duban(&["seed-demo"], Some(db.url()));
    let mut production = Command::new(DUBAN);
    let refused = production.arg("seed-demo").env("DATABASE_URL", db.url()).env("DUBAN_PRODUCTION", "true").output().unwrap();
    assert!(demo.status.success() && !refused.status.success());
}

#[test]
fn logs_hold_no_secrets() {
    let db = TestDb::with_demo();
    let mut child = Command::new(DUBAN)
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("DUBAN_LISTEN", "127.0.0.1:0")
        .env("DUBAN_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    let base = loop {
        let line = receiver.recv_timeout(Duration::from_secs(60)).expect("duban serve started");
        log.push(line.clone());
        if let Some(at) = line.find("listening on http://") {
            break line[at + "listening on ".len()..].split_whitespace().next().unwrap().to_owned();
        }
    };
    let http = reqwest::blocking::Client::new();
    let post = |path: &str, token: Option<&str>, body: serde_json::Value| {
        let mut request = http.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().unwrap().json::<serde_json::Value>().unwrap_or_default()
    };
    let otp = duban_tests::demo_otp(0);
    let admin =
        post("/api/v1/auth/login", None, serde_json::json!({"username": "admin", "password": duban_tests::DEMO_PASSWORD, "otp": otp}));
    let access = admin["access_token"].as_str().unwrap().to_owned();
    let refreshed = post("/api/v1/auth/refresh", None, serde_json::json!({"refresh_token": admin["refresh_token"]}));
    let security =
        post("/api/v1/auth/login", None, serde_json::json!({"username": "security", "password": duban_tests::DEMO_PASSWORD, "otp": otp}));
    let security_access = security["access_token"].as_str().unwrap().to_owned();
    let client = post("/api/v1/api-clients", Some(&security_access), serde_json::json!({"name": "logging portal"}));
    let key =
        post(&format!("/api/v1/api-clients/{}/keys", client["id"]), Some(&security_access), serde_json::json!({"scopes": ["tasks:read"]}));
    let key = key["key"].as_str().unwrap().to_owned();
    http.get(format!("{base}/api/v1/tasks")).bearer_auth(&key).send().unwrap();
    post("/api/v1/auth/login", None, serde_json::json!({"username": "sfj", "password": "a-wrong-password"}));
    post(
        "/api/v1/users",
        Some(&access),
        serde_json::json!({"username": "log-user", "display_name": "x", "role": "inspector", "password": "日志测试User的密码1"}),
    );
    child.kill().unwrap();
    child.wait().unwrap();
    log.extend(receiver.try_iter());
    let log = log.join("\n");
    assert!(log.contains("request finished"), "requests are logged");
    for secret in [
        duban_tests::DEMO_PASSWORD,
        "a-wrong-password",
        "日志测试User的密码1",
        &access,
        &security_access,
        admin["refresh_token"].as_str().unwrap(),
        refreshed["access_token"].as_str().unwrap(),
        refreshed["refresh_token"].as_str().unwrap(),
        &key[13..],
    ] {
        assert!(!log.contains(secret), "the log holds a secret: {secret}");
    }
}

#[test]
fn export_then_import_and_bulk_rows_from_the_command_line() {
    let db = TestDb::with_demo();
    let dir = tempfile::tempdir().unwrap();
    let workbook = dir.path().join("luoping.xlsx");
    let output = duban(&["export", workbook.to_str().unwrap()], Some(db.url()));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = duban(&["import", "--dry-run", workbook.to_str().unwrap()], Some(db.url()));
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("no changes"), "{}", text(&output.stdout));

    let units = dir.path().join("units.csv");
    std::fs::write(&units, "name,kind,aliases\n县数据局,government_department,数据局\n县档案馆,museum,\n").unwrap();
    let output = duban(&["import", "--kind", "units", units.to_str().unwrap()], Some(db.url()));
    assert!(!output.status.success());
    let stdout = text(&output.stdout);
    assert!(stdout.contains("rejected: nothing was written"), "{stdout}");
    assert!(stdout.contains("row 3 (罗平县 县档案馆): kind: \"museum\" is not a kind of unit"), "{stdout}");
    assert!(stdout.contains("would be 1 created, 0 updated, 0 unchanged, 1 invalid"), "{stdout}");
}

#[test]
fn serve_speaks_https_directly_with_the_configured_certificate() {
    let db = TestDb::with_demo();
    let certificates = crate::support::Certificates::make();
    let data = tempfile::tempdir().unwrap();
    let (cert, key) = (certificates.path("server.pem"), certificates.path("server.key"));
    let server = Server::start(
        data.path(),
        &[("DATABASE_URL", db.url()), ("DUBAN_TLS_CERT_FILE", cert.to_str().unwrap()), ("DUBAN_TLS_KEY_FILE", key.to_str().unwrap())],
    );
    assert!(server.base.starts_with("https://127.0.0.1:"), "{}", server.base);
    let ca = reqwest::Certificate::from_pem(&std::fs::read(certificates.path("ca.pem")).unwrap()).unwrap();
    let https = reqwest::blocking::Client::builder().add_root_certificate(ca).build().unwrap();
    let health = https.get(format!("{}/healthz", server.base)).send().unwrap();
    assert_eq!(health.status(), 200);
    let hsts = health.headers().get("strict-transport-security").map(|value| value.to_str().unwrap().to_owned());
    assert!(hsts.is_some_and(|value| value.starts_with("max-age=")), "HSTS over TLS");
    // Plain HTTP to the TLS port gets nowhere, and only a trusted chain is accepted.
    let plain = server.base.replacen("https://", "http://", 1);
    assert!(reqwest::blocking::get(format!("{plain}/healthz")).map(|response| response.status() != 200).unwrap_or(true));
    assert!(reqwest::blocking::get(format!("{}/healthz", server.base)).is_err(), "the test CA is not a public root");

    // Half a configuration is refused by name.
    let half = Command::new(DUBAN)
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("DUBAN_DATA_DIR", data.path())
        .env("DUBAN_TLS_CERT_FILE", &cert)
        .env_remove("DUBAN_TLS_KEY_FILE")
        .output()
        .unwrap();
    assert!(!half.status.success());
    assert!(text(&half.stderr).contains("DUBAN_TLS_KEY_FILE"), "{}", text(&half.stderr));
}
