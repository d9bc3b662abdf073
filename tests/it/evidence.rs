//! Evidence: streamed uploads, exact file names, versions, downloads with
//! ranges, type and size checks, who may see what, and verification.

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;

use duban_tests::{Client, ServerOptions, TestDb, TestServer};
use reqwest::StatusCode;
use reqwest::blocking::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::support::count;

/// A small PDF-looking file with some distinct content.
pub fn pdf(content: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {content}\n%%EOF\n").into_bytes()
}

pub fn upload(client: &Client, assignment: i64, files: &[(&str, Vec<u8>)], fields: &[(&str, &str)]) -> reqwest::blocking::Response {
    let mut form = Form::new();
    for (name, bytes) in files {
        form = form.part("file", Part::bytes(bytes.clone()).file_name(name.to_string()));
    }
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    client.request(reqwest::Method::POST, &format!("/api/v1/assignments/{assignment}/evidence")).multipart(form).send().unwrap()
}

/// The id of a unit's lead assignment on a task, e.g. 县司法局's on B010.
pub fn lead_assignment(client: &Client, task_code: &str, unit: &str) -> i64 {
    let tasks: Value = client.get_json(&format!("/api/v1/tasks?q={task_code}"));
    let task = tasks["items"].as_array().unwrap().iter().find(|t| t["code"] == task_code).unwrap()["id"].as_i64().unwrap();
    let detail: Value = client.get_json(&format!("/api/v1/tasks/{task}"));
    detail["assignments"].as_array().unwrap().iter().find(|a| a["unit"]["name"] == unit && a["role"] == "lead").unwrap()["id"]
        .as_i64()
        .unwrap()
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn uploads_keep_chinese_names_and_download_with_ranges() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let staff = server.login("sfj-staff");
    let assignment = lead_assignment(&staff, "B012", "县司法局");
    let name = "罗平县司法局 证明事项告知承诺制(2026年)  终稿.pdf";
    let content = pdf(&"告知承诺制实施方案。".repeat(200));
    let response = upload(&staff, assignment, &[(name, content.clone())], &[("description", "实施方案"), ("effective_date", "2026-03-01")]);
    assert_eq!(response.status(), 201, "{}", response.text().unwrap());
    let created: Value = response.json().unwrap();
    let item = &created[0];
    assert_eq!(item["current"]["file_name"], name, "the name is kept byte for byte");
    assert_eq!(item["current"]["content_type"], "application/pdf");
    assert_eq!(item["current"]["size"], content.len());
    assert_eq!(item["effective_date"], "2026-03-01");
    assert_eq!(item["description"], "实施方案");
    let sha = item["current"]["sha256"].as_str().unwrap().to_owned();

    // Uploading started the work.
    let assignment_now: Value = staff.get_json(&format!("/api/v1/assignments/{assignment}"));
    assert_eq!(assignment_now["status"], "in_progress");

    let version = item["current"]["id"].as_i64().unwrap();
    let download = staff.get(&format!("/api/v1/evidence-versions/{version}/content"));
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert_eq!(download.headers()["accept-ranges"], "bytes");
    assert_eq!(download.headers()["etag"].to_str().unwrap(), format!("\"{sha}\""));
    let disposition = download.headers()["content-disposition"].to_str().unwrap().to_owned();
    let encoded = disposition.split("filename*=UTF-8''").nth(1).unwrap();
    assert_eq!(percent_decode(encoded), name.as_bytes(), "filename* names the file exactly");
    assert_eq!(download.bytes().unwrap().as_ref(), content.as_slice());

    let part = staff
        .request(reqwest::Method::GET, &format!("/api/v1/evidence-versions/{version}/content"))
        .header("Range", "bytes=9-20")
        .send()
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-range"].to_str().unwrap(), format!("bytes 9-20/{}", content.len()));
    assert_eq!(part.bytes().unwrap().as_ref(), &content[9..=20]);
    let tail = staff
        .request(reqwest::Method::GET, &format!("/api/v1/evidence-versions/{version}/content"))
        .header("Range", "bytes=-5")
        .send()
        .unwrap();
    assert_eq!(tail.bytes().unwrap().as_ref(), &content[content.len() - 5..]);
    let outside = staff
        .request(reqwest::Method::GET, &format!("/api/v1/evidence-versions/{version}/content"))
        .header("Range", "bytes=999999-")
        .send()
        .unwrap();
    assert_eq!(outside.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(outside.headers()["content-range"].to_str().unwrap(), format!("bytes */{}", content.len()));

    // The full download is audited; range requests that continue one are not.
    let mut conn = db.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) FROM audit_log WHERE action = 'evidence.download'"), 1);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM audit_log WHERE action = 'evidence.upload'"), 1);
}

#[test]
fn versions_supersede_and_identical_files_are_stored_once() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let staff = server.login("sfj-staff");
    let first = lead_assignment(&staff, "B010", "县司法局");
    let second = lead_assignment(&staff, "B011", "县司法局");
    let same = pdf("同一份文件");
    let a: Value = upload(&staff, first, &[("清单.pdf", same.clone())], &[]).json().unwrap();
    upload(&staff, second, &[("清单副本.pdf", same.clone())], &[]);
    let mut conn = db.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) FROM blobs"), 1, "the same content is stored once");
    let stored = actix_web::rt::System::new().block_on(server.storage.list()).unwrap();
    assert_eq!(stored.len(), 1);

    // A new version of the first piece of evidence; the old one stays in the history.
    let item = a[0]["id"].as_i64().unwrap();
    let replaced = upload(&staff, first, &[("清单(修订).pdf", pdf("修订版"))], &[("evidence_id", &item.to_string())]);
    assert_eq!(replaced.status(), 201);
    let replaced: Value = replaced.json().unwrap();
    assert_eq!(replaced[0]["current"]["version"], 2);
    assert_eq!(replaced[0]["current"]["file_name"], "清单(修订).pdf");
    assert_eq!(replaced[0]["versions"].as_array().unwrap().len(), 2);
    assert_eq!(replaced[0]["versions"][1]["file_name"], "清单.pdf");
    let listed: Value = staff.get_json(&format!("/api/v1/assignments/{first}/evidence"));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // Several files at once, and withdrawal.
    let several: Value =
        upload(&staff, first, &[("一.jpg", b"\xff\xd8\xff\xe0 jpeg".to_vec()), ("二.png", b"\x89PNG\r\n\x1a\n png".to_vec())], &[])
            .json()
            .unwrap();
    assert_eq!(several.as_array().unwrap().len(), 2);
    assert_eq!(staff.delete(&format!("/api/v1/evidence/{}", several[0]["id"])).status(), 204);
    let listed: Value = staff.get_json(&format!("/api/v1/assignments/{first}/evidence"));
    assert_eq!(listed.as_array().unwrap().iter().filter(|e| e["withdrawn"] == true).count(), 1);
}

#[test]
fn wrong_types_and_sizes_are_refused_and_leave_nothing() {
    let db = TestDb::with_demo();
    let server = TestServer::start_with_options(&db, ServerOptions { max_upload_bytes: 1 << 20, ..ServerOptions::default() });
    let staff = server.login("sfj-staff");
    let assignment = lead_assignment(&staff, "B012", "县司法局");

    let program = upload(&staff, assignment, &[("报告.pdf", b"MZ\x90\0 this is a windows program".to_vec())], &[]);
    assert_eq!(program.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = program.json().unwrap();
    assert!(body["detail"].as_str().unwrap().contains("报告.pdf"));

    let mut big = pdf("big");
    big.resize(2 << 20, b'x');
    let too_big = upload(&staff, assignment, &[("大文件.pdf", big)], &[]);
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let no_file = upload(&staff, assignment, &[], &[("description", "没有文件")]);
    assert_eq!(no_file.json::<Value>().unwrap()["code"], "no_file");
    let bad_date = upload(&staff, assignment, &[("a.pdf", pdf("a"))], &[("effective_date", "三月一日")]);
    assert_eq!(bad_date.json::<Value>().unwrap()["code"], "invalid_date");

    let mut conn = db.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) FROM evidence"), 0);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM blobs"), 0);
    assert_eq!(std::fs::read_dir(server.storage.staging_dir()).unwrap().count(), 0, "no staging file is left behind");
}

#[test]
fn evidence_is_seen_by_its_unit_its_lead_units_and_overseers_only() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    // B014 is led by 县政务局, 县市场监管局, 县税务局 and 县人社局; 罗雄街道 is assigned responsible work.
    let tasks: Value = office.get_json("/api/v1/tasks?q=B014");
    let task = tasks["items"][0]["id"].as_i64().unwrap();
    let street = server.login("lxjd");
    let street_unit = street.get_json("/api/v1/me")["unit"]["id"].as_i64().unwrap();
    let made: Value = office
        .post(&format!("/api/v1/tasks/{task}/assignments"), &json!({"unit_ids": [street_unit], "role": "responsible"}))
        .json()
        .unwrap();
    let assignment = made["created"][0]["id"].as_i64().unwrap();
    let created: Value = upload(&street, assignment, &[("企业开办台账.pdf", pdf("台账"))], &[]).json().unwrap();
    let version = created[0]["current"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/evidence-versions/{version}/content");

    assert_eq!(street.get(&path).status(), 200, "its own unit");
    assert_eq!(server.login("zwj").get(&path).status(), 200, "a lead unit of the task");
    assert_eq!(server.login("inspector").get(&path).status(), 200, "an inspector reads everything");
    assert_eq!(office.get(&path).status(), 200);
    assert_eq!(server.login("sfj").get(&path).status(), 403, "another unit");
    assert_eq!(server.login("sfj").get(&format!("/api/v1/assignments/{assignment}/evidence")).status(), 403);
    assert_eq!(upload(&server.login("zwj"), assignment, &[("x.pdf", pdf("x"))], &[]).status(), 403, "only the unit itself uploads");
}

#[test]
fn an_interrupted_upload_leaves_no_row_and_no_file() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let staff = server.login("sfj-staff");
    let assignment = lead_assignment(&staff, "B012", "县司法局");
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).unwrap();
    let boundary = "duban-test-boundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"中断.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    );
    write!(
        stream,
        "POST /api/v1/assignments/{assignment}/evidence HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 10000000\r\n\r\n{head}",
        staff.token.as_deref().unwrap()
    )
    .unwrap();
    stream.write_all(&vec![b'x'; 300_000]).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let staging = server.storage.staging_dir();
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 1, "the upload was streaming to a staging file");
    drop(stream);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_dir(&staging).unwrap().count() > 0 {
        assert!(std::time::Instant::now() < deadline, "the partial file was not removed");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut conn = db.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) FROM evidence"), 0);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM evidence_versions"), 0);
}

#[test]
fn a_killed_server_leaves_nothing_referenced_and_verify_finds_tampering() {
    let db = TestDb::with_demo();
    let evidence_dir = tempfile::Builder::new().prefix("duban-evidence-").tempdir_in("/tmp").unwrap();
    let serve = || {
        Command::new(env!("CARGO_BIN_EXE_duban-under-test"))
            .arg("serve")
            .env("DATABASE_URL", db.url())
            .env("DUBAN_LISTEN", "127.0.0.1:0")
            .env("DUBAN_EVIDENCE_DIR", evidence_dir.path())
            .env("DUBAN_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let address_of = |child: &mut std::process::Child| -> String {
        use std::io::BufRead;
        let stderr = child.stderr.take().unwrap();
        let mut lines = std::io::BufReader::new(stderr).lines();
        let line = lines.find(|line| line.as_ref().is_ok_and(|l| l.contains("listening on http://"))).unwrap().unwrap();
        std::thread::spawn(move || for _ in lines {});
        line[line.find("http://").unwrap() + 7..].split_whitespace().next().unwrap().to_owned()
    };

    let mut child = serve();
    let address = address_of(&mut child);
    let http = reqwest::blocking::Client::new();
    let login: Value = http
        .post(format!("http://{address}/api/v1/auth/login"))
        .json(&json!({"username": "sfj-staff", "password": duban_tests::DEMO_PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let client =
        Client { base: format!("http://{address}"), http: http.clone(), token: Some(login["access_token"].as_str().unwrap().to_owned()) };
    let assignment = lead_assignment(&client, "B012", "县司法局");
    let kept: Value = upload(&client, assignment, &[("保留.pdf", pdf("保留的证据"))], &[]).json().unwrap();

    // Kill the server in the middle of a second upload.
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "POST /api/v1/assignments/{assignment}/evidence HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"被打断.pdf\"\r\n\r\n%PDF-1.7\n",
        client.token.as_deref().unwrap()
    )
    .unwrap();
    stream.write_all(&vec![b'y'; 200_000]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let staging = evidence_dir.path().join("staging");
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 1, "a killed server leaves its partial file");

    // The next start clears it; nothing refers to it.
    let mut child = serve();
    address_of(&mut child);
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0);
    child.kill().unwrap();
    child.wait().unwrap();
    let mut conn = db.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) FROM evidence_versions"), 1);

    let verify = || {
        let output = Command::new(env!("CARGO_BIN_EXE_duban-under-test"))
            .args(["evidence", "verify"])
            .env("DATABASE_URL", db.url())
            .env("DUBAN_EVIDENCE_DIR", evidence_dir.path())
            .env("DUBAN_LOG", "warn")
            .output()
            .unwrap();
        (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let (clean, report) = verify();
    assert!(clean && report.contains("evidence intact"), "{report}");

    // Tamper with the stored file: verify names it.
    let sha = kept[0]["current"]["sha256"].as_str().unwrap();
    let object = evidence_dir.path().join("objects").join(&sha[..2]).join(&sha[2..4]).join(sha);
    std::fs::write(&object, b"%PDF-1.7\n% forged\n").unwrap();
    let orphan = "0".repeat(64);
    std::fs::create_dir_all(evidence_dir.path().join("objects/00/00")).unwrap();
    std::fs::write(evidence_dir.path().join("objects/00/00").join(&orphan), b"stray").unwrap();
    let (clean, report) = verify();
    assert!(!clean);
    assert!(report.contains(&format!("content does not match its hash: {sha}")), "{report}");
    assert!(report.contains(&format!("orphan): {orphan}")), "{report}");
}

/// A portal lists a campaign's evidence in pages, with task and unit, and
/// what changed since its last visit; units see only what they could open
/// one assignment at a time.
#[test]
fn a_campaigns_evidence_is_listed_in_pages_for_those_who_may_see_it() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let staff = server.login("sfj-staff");
    let b012 = lead_assignment(&staff, "B012", "县司法局");
    let b010 = lead_assignment(&staff, "B010", "县司法局");
    let before = chrono::Utc::now();
    for (assignment, name) in [(b012, "行政执法公示.pdf"), (b012, "执法全过程记录.pdf"), (b010, "合法性审查目录.pdf")] {
        assert_eq!(upload(&staff, assignment, &[(name, pdf(name))], &[]).status(), 201);
    }

    let inspector = server.login("inspector");
    let first: Value = inspector.get_json("/api/v1/campaigns/luoping/evidence?limit=2");
    assert_eq!(first["total"], 3);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let item = &first["items"][0];
    assert_eq!(item["task"]["code"], "B012");
    assert_eq!(item["unit"]["name"], "县司法局");
    assert_eq!(item["evidence"]["current"]["file_name"], "行政执法公示.pdf");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = inspector.get_json(&format!("/api/v1/campaigns/luoping/evidence?limit=2&cursor={cursor}"));
    assert_eq!(second["items"][0]["evidence"]["current"]["file_name"], "合法性审查目录.pdf");
    assert!(second.get("next_cursor").is_none());
    assert_eq!(inspector.get_json("/api/v1/campaigns/luoping/evidence?task=b010")["total"], 1);

    // Withdrawn evidence leaves the listing unless asked for, and counts as a change.
    let withdrawn = first["items"][1]["evidence"]["id"].as_i64().unwrap();
    assert_eq!(staff.delete(&format!("/api/v1/evidence/{withdrawn}")).status(), 204);
    assert_eq!(inspector.get_json("/api/v1/campaigns/luoping/evidence")["total"], 2);
    assert_eq!(inspector.get_json("/api/v1/campaigns/luoping/evidence?include_withdrawn=true")["total"], 3);
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true).replace('+', "%2B");
    let changed =
        |since: &str| inspector.get_json(&format!("/api/v1/campaigns/luoping/evidence?include_withdrawn=true&changed_since={since}"));
    assert_eq!(changed(&since)["total"], 0);
    let earlier = before.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    assert_eq!(changed(&earlier)["total"], 3);

    // Another unit with nothing of its own, leading neither task, sees none.
    assert_eq!(server.login("lxjd").get_json("/api/v1/campaigns/luoping/evidence")["total"], 0);
    assert_eq!(staff.get_json("/api/v1/campaigns/luoping/evidence")["total"], 2);
    assert_eq!(inspector.get("/api/v1/campaigns/nowhere/evidence").status(), 404);
}
