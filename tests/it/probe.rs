//! The holes an adversarial probe found, each reproduced as the attack
//! that found it: downloads escaping the audit log, formula injection in
//! CSV, unbounded text, zip bombs, web pages passing as evidence, corrupted
//! objects served, a racy login throttle, weak new passwords and one
//! account reviewing its own unit's work.

use std::io::{Cursor, Write};

use duban_tests::{Client, DEMO_PASSWORD, TestDb, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::evidence::{lead_assignment, pdf, upload};
use crate::support::count;

fn problem_code(response: reqwest::blocking::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

fn downloads_of(db: &TestDb, version: i64) -> i64 {
    count(&mut db.conn(), &format!("SELECT count(*) FROM audit_log WHERE action = 'evidence.download' AND entity_id = '{version}'"))
}

#[test]
fn every_download_that_sends_content_is_audited_once_a_minute() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let justice = server.login("sfj");
    let assignment = lead_assignment(&office, "B010", "县司法局");
    let created: Value = upload(&justice, assignment, &[("报告.pdf", pdf(&"x".repeat(4000)))], &[]).json().unwrap();
    let version = created[0]["current"]["id"].as_i64().unwrap();
    let content = format!("/api/v1/evidence-versions/{version}/content");

    // The probe's request: a range that does not start at 0.
    let part = office.request(reqwest::Method::GET, &content).header("Range", "bytes=1-").send().unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(downloads_of(&db, version), 1, "a range download is audited");
    // A player's next ranges within the minute are the same download.
    for range in ["bytes=0-99", "bytes=100-"] {
        assert_eq!(office.request(reqwest::Method::GET, &content).header("Range", range).send().unwrap().status(), 206);
    }
    assert_eq!(downloads_of(&db, version), 1, "ranges of one caller within a minute are one row");
    assert_eq!(server.login("inspector").get(&content).status(), StatusCode::OK);
    assert_eq!(downloads_of(&db, version), 2, "another caller's download is its own row");
    let unsatisfiable = office.request(reqwest::Method::GET, &content).header("Range", "bytes=999999-").send().unwrap();
    assert_eq!(unsatisfiable.status(), StatusCode::RANGE_NOT_SATISFIABLE);
}

fn cells(csv: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    reader.records().flatten().flat_map(|record| record.iter().map(str::to_owned).collect::<Vec<_>>()).collect()
}

#[test]
fn csv_exports_neutralise_formulas() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let link = "=HYPERLINK(\"http://evil.example/\",\"单位\")";
    let created = office.post("/api/v1/units", &json!({"region": "罗平县", "name": link, "kind": "other"}));
    assert_eq!(created.status(), StatusCode::CREATED);
    let unit = created.json::<Value>().unwrap()["id"].as_i64().unwrap();
    let tasks: Value = office.get_json("/api/v1/tasks?q=B010");
    let task = tasks["items"][0]["id"].as_i64().unwrap();
    let assigned = office.post(&format!("/api/v1/tasks/{task}/assignments"), &json!({"unit_ids": [unit], "role": "responsible"}));
    assert_eq!(assigned.status(), StatusCode::CREATED);
    let justice = server.login("sfj");
    let own = lead_assignment(&office, "B010", "县司法局");
    let command = "@SUM(1+1)*cmd|' /C calc'!A0";
    let noted = justice
        .request(reqwest::Method::PATCH, &format!("/api/v1/assignments/{own}"))
        .header("If-Match", "*")
        .json(&json!({"progress_note": command}))
        .send()
        .unwrap();
    assert_eq!(noted.status(), StatusCode::OK);

    let units_csv = office.get("/api/v1/campaigns/luoping/export.csv?table=units").text().unwrap();
    let all = cells(&units_csv);
    assert!(all.iter().any(|cell| cell == &format!("'{link}")), "the unit name is neutralised");
    assert!(all.iter().any(|cell| cell == &format!("'{command}")), "the note is neutralised");
    assert!(all.iter().all(|cell| !cell.starts_with(['=', '+', '-', '@', '\t', '\r'])), "no cell starts a formula");
    let tasks_csv = office.get("/api/v1/campaigns/luoping/export.csv").text().unwrap();
    assert!(cells(&tasks_csv).iter().all(|cell| !cell.starts_with(['=', '+', '-', '@', '\t', '\r'])));

    // A stranger needs no account to put a formula into the audit log.
    let stranger = server.anonymous().post("/api/v1/auth/login", &json!({"username": link, "password": "x"}));
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    // The installation's auditor reads it (a county's office sees failed
    // sign-ins on its own accounts only, and this name is nobody's).
    let audit_csv = server.login("auditor").get("/api/v1/audit/export?action=auth.login_failed").text().unwrap();
    let audit_cells = cells(&audit_csv);
    assert!(audit_cells.iter().any(|cell| cell.to_lowercase().starts_with("'=hyperlink")), "{audit_csv}");
    assert!(audit_cells.iter().all(|cell| !cell.starts_with(['=', '+', '-', '@', '\t', '\r'])));
}

#[test]
fn text_has_limits_and_stored_text_cannot_break_the_workbook() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let justice = server.login("sfj");
    let own = lead_assignment(&office, "B010", "县司法局");
    let patch = |note: String| {
        justice
            .request(reqwest::Method::PATCH, &format!("/api/v1/assignments/{own}"))
            .header("If-Match", "*")
            .json(&json!({"progress_note": note}))
            .send()
            .unwrap()
    };
    assert_eq!(problem_code(patch("进".repeat(32_768))), (StatusCode::UNPROCESSABLE_ENTITY, "too_long".to_owned()));
    assert_eq!(problem_code(patch("x".repeat(1_000_000))), (StatusCode::UNPROCESSABLE_ENTITY, "too_long".to_owned()));
    let unit = office.post("/api/v1/units", &json!({"region": "罗平县", "name": "局".repeat(300_000), "kind": "other"}));
    assert!(matches!(unit.status(), StatusCode::UNPROCESSABLE_ENTITY | StatusCode::PAYLOAD_TOO_LARGE), "{}", unit.status());
    let unit = office.post("/api/v1/units", &json!({"region": "罗平县", "name": "局".repeat(1_000), "kind": "other"}));
    assert_eq!(problem_code(unit), (StatusCode::UNPROCESSABLE_ENTITY, "too_long".to_owned()));

    // A 500 KB username at sign-in is refused and still audited.
    let before = count(&mut db.conn(), "SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed'");
    let long_name = "a".repeat(500_000);
    let signed = server.anonymous().post("/api/v1/auth/login", &json!({"username": long_name, "password": "x"}));
    assert_eq!(problem_code(signed), (StatusCode::UNPROCESSABLE_ENTITY, "too_long".to_owned()));
    assert_eq!(count(&mut db.conn(), "SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed'"), before + 1);

    // Text stored before there were limits cannot make the export fail.
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!("UPDATE assignments SET progress_note = repeat('长', 40000) WHERE id = {own}")),
        &mut db.conn(),
    )
    .unwrap();
    let workbook = office.get("/api/v1/campaigns/luoping/export.xlsx");
    assert_eq!(workbook.status(), StatusCode::OK);
    let bytes = workbook.bytes().unwrap();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let units = book.worksheet_range("单位任务清单").unwrap();
    assert!(units.rows().flatten().any(|cell| cell.to_string().ends_with("（已截断）")), "the long note is cut, marked");
}

/// A Word document whose main part inflates to `megabytes` MiB of one letter.
fn bomb(megabytes: usize) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    writer.start_file("[Content_Types].xml", options).unwrap();
    writer.write_all(b"<Types/>").unwrap();
    writer.start_file("word/document.xml", options).unwrap();
    let block = vec![b'a'; 1 << 20];
    for _ in 0..megabytes {
        writer.write_all(&block).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn zip_bombs_are_refused_before_they_inflate() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let bomb = bomb(200);
    assert!(bomb.len() < 1 << 20, "the bomb is small: {} bytes", bomb.len());
    let response = office
        .request(reqwest::Method::POST, "/api/v1/imports?kind=breakdown&dry_run=true&file_name=bomb.docx")
        .header("Content-Type", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        .body(bomb)
        .send()
        .unwrap();
    assert_eq!(problem_code(response), (StatusCode::UNPROCESSABLE_ENTITY, "archive_refused".to_owned()));
    assert_eq!(count(&mut db.conn(), "SELECT count(*) FROM import_jobs"), 0, "no job was made for it");
}

#[test]
fn web_pages_with_a_magic_prefix_are_not_evidence() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let justice = server.login("sfj");
    let assignment = lead_assignment(&office, "B010", "县司法局");
    let page = b"<html><body><script>fetch('/api/v1/me')</script></body></html>".to_vec();
    for prefix in [b"BM".as_slice(), b"ID3", b"\xff\xe0", b"\0\0\0\x18ftypisom\0\0\0\0isomiso2"] {
        let mut file = prefix.to_vec();
        file.extend(&page);
        let (status, _) = problem_code(upload(&justice, assignment, &[("page.html", file)], &[]));
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{prefix:?}");
    }
    // A name that cannot be kept is refused before anything is stored; the
    // probe sent its NUL percent-encoded in RFC 5987 `filename*`.
    let boundary = "probe-boundary-0123456789";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.pdf\"; filename*=UTF-8''%E6%8A%A5%00%E5%91%8A.pdf\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend(pdf("x"));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let named = justice
        .request(reqwest::Method::POST, &format!("/api/v1/assignments/{assignment}/evidence"))
        .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .unwrap();
    assert_eq!(problem_code(named), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_file_name".to_owned()));
    let stored = actix_web::rt::System::new().block_on(server.storage.list()).unwrap();
    assert!(stored.is_empty(), "nothing reached the store: {stored:?}");
    assert_eq!(count(&mut db.conn(), "SELECT count(*) FROM blobs"), 0);

    // An accepted file downloads under a name of its own kind, never sniffed.
    let mut mp3 = Vec::new();
    for _ in 0..3 {
        mp3.extend([0xff, 0xfb, 0x90, 0x00]);
        mp3.extend(vec![0u8; 413]);
    }
    let created: Value = upload(&justice, assignment, &[("page.html", mp3)], &[]).json().unwrap();
    let version = created[0]["current"]["id"].as_i64().unwrap();
    let download = office.get(&format!("/api/v1/evidence-versions/{version}/content"));
    assert_eq!(download.headers()["content-type"], "audio/mpeg");
    assert_eq!(download.headers()["x-content-type-options"], "nosniff");
    let disposition = download.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains("filename*=UTF-8''page.html.mp3"), "{disposition}");
}

#[test]
fn a_corrupted_object_is_refused_and_repaired_by_uploading_it_again() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let justice = server.login("sfj");
    let assignment = lead_assignment(&office, "B010", "县司法局");
    let original = pdf("原件");
    let created: Value = upload(&justice, assignment, &[("原件.pdf", original.clone())], &[]).json().unwrap();
    let version = created[0]["current"]["id"].as_i64().unwrap();
    let sha = created[0]["current"]["sha256"].as_str().unwrap().to_owned();
    actix_web::rt::System::new().block_on(server.storage.overwrite_for_test(&sha, b"%PDF-1.7\n% tampered\n")).unwrap();

    let content = format!("/api/v1/evidence-versions/{version}/content");
    assert_eq!(problem_code(office.get(&content)), (StatusCode::CONFLICT, "evidence_corrupted".to_owned()));
    assert_eq!(count(&mut db.conn(), "SELECT count(*) FROM audit_log WHERE action = 'evidence.corrupted'"), 1, "reported");
    let range = office.request(reqwest::Method::GET, &content).header("Range", "bytes=0-3").send().unwrap();
    assert_eq!(problem_code(range).0, StatusCode::CONFLICT, "a range of a known-corrupted object is refused too");

    // The unit uploads the same content again: the store is repaired.
    assert_eq!(upload(&justice, assignment, &[("原件.pdf", original.clone())], &[]).status(), StatusCode::CREATED);
    let repaired = office.get(&content);
    assert_eq!(repaired.status(), StatusCode::OK);
    assert_eq!(repaired.bytes().unwrap().to_vec(), original);
}

/// `count` attempts to sign in as `username` with a wrong password, all at once.
fn wrong_sign_ins_at_once(server: &TestServer, username: &str, attempts: usize) -> Vec<StatusCode> {
    let base = server.base.clone();
    let threads: Vec<_> = (0..attempts)
        .map(|_| {
            let (base, username) = (base.clone(), username.to_owned());
            std::thread::spawn(move || {
                reqwest::blocking::Client::new()
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({"username": username, "password": "wrong-password"}))
                    .send()
                    .unwrap()
                    .status()
            })
        })
        .collect();
    threads.into_iter().map(|thread| thread.join().unwrap()).collect()
}

#[test]
fn parallel_guesses_cannot_outrun_the_lockout() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let statuses = wrong_sign_ins_at_once(&server, "zwj", 40);
    let checked = statuses.iter().filter(|status| **status == StatusCode::UNAUTHORIZED).count();
    assert!(checked <= 5, "{checked} of 40 parallel guesses had their password checked: {statuses:?}");
    assert_eq!(
        count(&mut db.conn(), "SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed' AND entity_id = 'zwj'"),
        checked as i64
    );
    // Locked now: even the right password waits, and the answer says until when.
    let right = server.anonymous().post("/api/v1/auth/login", &json!({"username": "zwj", "password": DEMO_PASSWORD}));
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(right.headers().contains_key("retry-after"));
    let detail = right.json::<Value>().unwrap()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("locked") && detail.contains("until"), "{detail}");
}

#[test]
fn guessing_the_current_password_is_throttled_and_audited() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let justice = server.login("sfj-staff");
    let mut statuses = Vec::new();
    for _ in 0..30 {
        let response =
            justice.post("/api/v1/auth/password", &json!({"current_password": "a-wrong-guess", "new_password": "罗平县Fazhi建设2027"}));
        statuses.push(response.status());
    }
    let checked = statuses.iter().filter(|status| **status == StatusCode::UNPROCESSABLE_ENTITY).count();
    assert!(checked <= 5, "{checked} guesses were checked: {statuses:?}");
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(count(&mut db.conn(), "SELECT count(*) FROM audit_log WHERE action = 'user.password_change_failed'"), checked as i64);
    let right = justice.post("/api/v1/auth/password", &json!({"current_password": DEMO_PASSWORD, "new_password": "罗平县Fazhi建设2027"}));
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS, "the right password after the guesses waits out the lock");
}

#[test]
fn weak_new_passwords_are_refused() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let staff = server.login("sfj-staff");
    for (weak, code) in [
        ("Ab1!", "password_too_short"),
        ("1234567890", "password_too_simple"),
        ("password12", "password_too_simple"),
        ("Sfj-Staff-2026", "password_contains_username"),
        ("Password@123", "password_common"),
        (DEMO_PASSWORD, "password_reused"),
    ] {
        let response = staff.post("/api/v1/auth/password", &json!({"current_password": DEMO_PASSWORD, "new_password": weak}));
        assert_eq!(problem_code(response), (StatusCode::UNPROCESSABLE_ENTITY, code.to_owned()), "{weak}");
    }
    let admin = server.login("admin");
    let users: Value = admin.get_json("/api/v1/users");
    let staff_id = users.as_array().unwrap().iter().find(|user| user["username"] == "sfj-staff").unwrap()["id"].as_i64().unwrap();
    let reset = admin.post(&format!("/api/v1/users/{staff_id}/password"), &json!({"new_password": DEMO_PASSWORD}));
    assert_eq!(problem_code(reset), (StatusCode::UNPROCESSABLE_ENTITY, "password_common".to_owned()), "the published password");
    let good = staff.post("/api/v1/auth/password", &json!({"current_password": DEMO_PASSWORD, "new_password": "罗平县Fazhi建设2027"}));
    assert_eq!(good.status(), StatusCode::NO_CONTENT);
}

/// Creates an account; signs it in.
fn account(server: &TestServer, admin: &Client, username: &str, role: &str, unit: Option<i64>) -> Client {
    let password = "罗平县Fazhi建设2026";
    let created = admin.post(
        "/api/v1/users",
        &json!({"username": username, "display_name": username, "role": role, "unit_id": unit, "password": password}),
    );
    assert_eq!(created.status(), StatusCode::CREATED, "{}", created.text().unwrap());
    let tokens: Value = server.anonymous().post("/api/v1/auth/login", &json!({"username": username, "password": password})).json().unwrap();
    let client = server.with_bearer(tokens["access_token"].as_str().unwrap());
    // The administrator chose the password, so the holder changes it first.
    let changed = client.post("/api/v1/auth/password", &json!({"current_password": password, "new_password": "罗平县Fazhi建设2027"}));
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    client
}

#[test]
fn nobody_reviews_work_of_their_own_or_approves_what_they_accepted() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let admin = server.login("admin");
    let office = server.login("yfzxb");
    let units: Value = office.get_json("/api/v1/units?q=依法治县办");
    let office_unit = units["items"][0]["id"].as_i64().unwrap();
    // Work of 依法治县办 itself, submitted by one of its staff.
    let tasks: Value = office.get_json(&format!("/api/v1/assignments?unit={office_unit}&role=lead&limit=1"));
    let assignment = tasks["items"][0]["id"].as_i64().unwrap();
    let clerk = account(&server, &admin, "yfzxb-clerk", "unit_staff", Some(office_unit));
    assert_eq!(upload(&clerk, assignment, &[("方案.pdf", pdf("方案"))], &[]).status(), StatusCode::CREATED);
    assert_eq!(clerk.post(&format!("/api/v1/assignments/{assignment}/submit"), &json!({})).status(), StatusCode::OK);

    let review =
        |client: &Client, decision: &str| client.post(&format!("/api/v1/assignments/{assignment}/review"), &json!({"decision": decision}));
    assert_eq!(review(&office, "accept").status(), StatusCode::FORBIDDEN, "its own unit's work");
    let second = account(&server, &admin, "office-two", "lead_office", None);
    assert_eq!(review(&second, "accept").status(), StatusCode::OK);
    assert_eq!(review(&second, "approve").status(), StatusCode::FORBIDDEN, "approving what it accepted");
    assert_eq!(review(&office, "approve").status(), StatusCode::FORBIDDEN, "approving its own unit's work");
    let third = account(&server, &admin, "office-three", "lead_office", None);
    assert_eq!(review(&third, "approve").status(), StatusCode::OK);

    // A tiny office may switch the rule off; the switch is audited.
    assert_eq!(office.patch("/api/v1/policy", &json!({"separation_of_duties": false})).status(), StatusCode::FORBIDDEN);
    assert_eq!(
        admin.patch("/api/v1/policy", &json!({"separation_of_duties": false})).status(),
        StatusCode::FORBIDDEN,
        "the security administrator sets the policy"
    );
    let switched = server.login("security").patch("/api/v1/policy", &json!({"separation_of_duties": false}));
    assert_eq!(switched.json::<Value>().unwrap()["separation_of_duties"], false);
    assert_eq!(count(&mut db.conn(), "SELECT count(*) FROM audit_log WHERE action = 'policy.update'"), 1);
    let another: Value = office.get_json(&format!("/api/v1/assignments?unit={office_unit}&role=lead&limit=2"));
    let next = another["items"].as_array().unwrap().iter().find(|a| a["id"] != assignment).unwrap()["id"].as_i64().unwrap();
    assert_eq!(upload(&clerk, next, &[("方案.pdf", pdf("方案二"))], &[]).status(), StatusCode::CREATED);
    assert_eq!(clerk.post(&format!("/api/v1/assignments/{next}/submit"), &json!({})).status(), StatusCode::OK);
    let decide = |decision: &str| office.post(&format!("/api/v1/assignments/{next}/review"), &json!({"decision": decision}));
    assert_eq!(decide("accept").status(), StatusCode::OK);
    assert_eq!(decide("approve").status(), StatusCode::OK);
}

/// The pid of `program` once it runs, started by `runuser` as `parent`'s
/// child (or as `parent` itself, when runuser replaced itself with it).
/// Found by its command line: runuser may fork helpers first, and a child
/// that has not yet executed `program` still shows runuser's.
fn wait_for_program(parent: u32, program: &std::path::Path) -> u32 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let runs_program = |pid: &str| {
        let command = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        command.split(|byte| *byte == 0).next() == Some(program.as_os_str().as_encoded_bytes())
    };
    loop {
        let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children")).unwrap_or_default();
        if let Some(child) = children.split_whitespace().find(|child| runs_program(child)) {
            return child.parse().unwrap();
        }
        if runs_program(&parent.to_string()) {
            return parent;
        }
        assert!(std::time::Instant::now() < deadline, "the decoy did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn the_embedded_database_comes_back_after_its_postmaster_is_killed() {
    use std::time::{Duration, Instant};

    let data = tempfile::Builder::new().prefix("duban-recover-").tempdir_in("/tmp").unwrap();
    let mut server = crate::support::Server::start(data.path(), &[]);
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(15)).build().unwrap();
    let token = crate::support::demo_token(&server.base, "inspector");

    // Requests keep coming while the database goes away and comes back.
    let load = crate::support::RequestsUnderway::start(&server.base, &token, &["/api/v1/tasks?limit=5"; 3]);

    let lock_file = data.path().join("postgres/postmaster.pid");
    let lock = std::fs::read_to_string(&lock_file).unwrap();
    let postmaster: i32 = lock.lines().next().unwrap().trim().parse().unwrap();
    // Something named postgres that is alive, for a lock file that looks
    // like a running postmaster's: PostgreSQL refuses to start past it, so
    // the outage lasts until it goes.
    // It runs as the postgres user, as a postmaster would: PostgreSQL takes
    // a lock naming another user's process for stale.
    let decoy_dir = tempfile::Builder::new().prefix("duban-decoy-").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(decoy_dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let decoy_path = decoy_dir.path().join("postgres");
    std::fs::copy("/bin/sleep", &decoy_path).unwrap();
    let mut decoy = std::process::Command::new("runuser").args(["-u", "postgres", "--"]).arg(&decoy_path).arg("120").spawn().unwrap();
    // The lock file must name the decoy itself, which runuser starts as its child.
    let decoy_pid = wait_for_program(decoy.id(), &decoy_path);
    // The decoy takes over the lock file first, so that duban's monitor,
    // however soon it looks, finds the lock of a live postgres.
    std::fs::write(&lock_file, lock.replacen(&postmaster.to_string(), &decoy_pid.to_string(), 1)).unwrap();
    // SAFETY: killing the test's own server's postmaster, as the probe did.
    unsafe { libc::kill(postmaster, libc::SIGKILL) };

    // While it is down, the answer is an immediate 503 that says when to come back.
    let down = crate::support::until_refused(&server.base, &token, "/api/v1/tasks?limit=5");
    assert_eq!(down.json::<Value>().unwrap()["code"], "unavailable");
    let ready = http.get(format!("{}/readyz", server.base)).send().unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE, "readyz says so at once");
    assert!(ready.headers().contains_key("retry-after"));
    assert_eq!(ready.json::<Value>().unwrap()["database"], false);
    let alive = http.get(format!("{}/healthz", server.base)).send().unwrap();
    assert_eq!(alive.status(), StatusCode::OK, "the process is alive all the same");
    // The lock file's process is gone: the file is stale now.
    // SAFETY: killing the decoy this test started.
    unsafe { libc::kill(decoy_pid as i32, libc::SIGKILL) };
    let _ = decoy.kill();
    decoy.wait().unwrap();

    // duban reaps the postmaster and starts the cluster again by itself.
    let deadline = Instant::now() + Duration::from_secs(90);
    while !http.get(format!("{}/readyz", server.base)).send().is_ok_and(|response| response.status() == StatusCode::OK) {
        assert!(Instant::now() < deadline, "the database did not come back");
        std::thread::sleep(Duration::from_millis(200));
    }
    let tasks: Value = http.get(format!("{}/api/v1/tasks?limit=5", server.base)).bearer_auth(&token).send().unwrap().json().unwrap();
    assert_eq!(tasks["total"], 229, "the data is all there: {tasks}");
    let outcomes = load.stop_served_or_refused();
    assert!(outcomes.iter().any(|outcome| *outcome == Ok(200)));
    server.signal(libc::SIGTERM);
    assert!(server.wait().success());
}
