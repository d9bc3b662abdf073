//! The bulk import API: jobs, progress, row-level reports, dry runs,
//! idempotence, permissions and the audit log.

use std::time::{Duration, Instant};

use duban_tests::{Client, TestDb, TestServer};
use serde_json::{Value, json};

use crate::support::{count, document, snapshot};

/// Sends a file and waits for its job to finish.
fn import(client: &Client, query: &str, content_type: &str, body: Vec<u8>) -> Value {
    let response = client
        .request(reqwest::Method::POST, &format!("/api/v1/imports?{query}"))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().unwrap());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let job: Value = response.json().unwrap();
    assert_eq!(location, format!("/api/v1/imports/{}", job["id"]));
    wait(client, &location)
}

fn wait(client: &Client, location: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let job = client.get_json(location);
        if !["queued", "running"].contains(&job["status"].as_str().unwrap()) {
            return job;
        }
        assert!(Instant::now() < deadline, "the job did not finish: {job}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn csv(text: &str) -> (&'static str, Vec<u8>) {
    ("text/csv", text.as_bytes().to_vec())
}

#[test]
fn units_import_creates_then_changes_nothing_and_is_audited() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let (content_type, body) = csv("单位名称,类型,行政执法单位,别名,备注\n\
         县数据局,government_department,否,数据局,2026年新设\n\
         县司法局,government_department,是,司法局,\n");
    let job = import(&office, "kind=units&file_name=units.csv", content_type, body.clone());
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(job["format"], "csv");
    assert_eq!(job["report"]["written"], true);
    let rows = job["report"]["rows"].as_array().unwrap();
    assert_eq!(rows[0]["action"], "created");
    assert_eq!(rows[0]["key"], "罗平县 县数据局");
    assert_eq!(rows[0]["row"], 2);
    assert_eq!(job["progress"], json!({"rows_total": 2, "rows_done": 2}));

    let again = import(&office, "kind=units&file_name=units.csv", content_type, body);
    assert_eq!(again["report"]["summary"], json!({"created": 0, "updated": 0, "unchanged": 2, "invalid": 0}), "{again:#}");
    assert_eq!(again["report"]["written"], false);

    let mut conn = db.conn();
    assert_eq!(count(&mut conn, "SELECT count(*) FROM unit_aliases WHERE alias = '数据局'"), 1);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM audit_log WHERE action = 'import.units'"), 1);
}

#[test]
fn a_dry_run_reports_every_rows_errors_and_writes_nothing() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let users = json!([
        {"username": "sjj-zhang", "display_name": "张三", "role": "unit_staff", "unit": "县司法局", "password": "Zhang-San-2026!"},
        {"username": "sjj-li", "display_name": "李四", "role": "单位管理员", "unit": "没有这个局", "password": "short"},
        {"username": "Bad Name!", "display_name": "王五", "role": "admin", "password": "Wang-Wu-2026-ok"},
        {"username": "sjj-zhao", "role": "unit_staff", "unit": "县司法局", "password": "Zhao-Liu-2026!"},
        {"username": "sjj-zhang", "display_name": "张三", "role": "unit_staff", "unit": "县司法局", "password": "Zhang-San-2026!"}
    ]);
    let mut conn = db.conn();
    let before = (snapshot(&mut conn), count(&mut conn, "SELECT count(*) FROM users"));
    let job = import(&office, "kind=users&dry_run=true", "application/json", users.to_string().into_bytes());
    assert_eq!(job["status"], "rejected", "{job:#}");
    let rows = job["report"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["action"], "created", "a valid row says what it would do");
    let errors = |row: usize| -> Vec<(String, String)> {
        rows[row]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap_or_default().to_owned(), e["message"].as_str().unwrap().to_owned()))
            .collect()
    };
    let fields = |row: usize| -> Vec<String> { errors(row).into_iter().map(|(field, _)| field).collect() };
    assert_eq!(fields(1), ["unit", "password"], "{:?}", errors(1));
    assert_eq!(fields(2), ["username", "role"], "{:?}", errors(2));
    assert_eq!(fields(3), ["display_name"], "{:?}", errors(3));
    assert_eq!(fields(4), ["username"], "{:?}", errors(4));
    assert!(errors(4)[0].1.contains("row 1"), "{:?}", errors(4));
    assert_eq!(job["report"]["summary"], json!({"created": 1, "updated": 0, "unchanged": 0, "invalid": 4}));
    assert_eq!(job["report"]["written"], false);
    assert_eq!((snapshot(&mut conn), count(&mut conn, "SELECT count(*) FROM users")), before);
}

#[test]
fn a_portal_key_with_import_write_assigns_units_from_a_workbook() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let client: Value = server.login("security").post("/api/v1/api-clients", &json!({"name": "市级平台"})).json().unwrap();
    let key = |scopes: Value| -> String {
        let created: Value = server
            .login("security")
            .post(&format!("/api/v1/api-clients/{}/keys", client["id"]), &json!({"scopes": scopes}))
            .json()
            .unwrap();
        created["key"].as_str().unwrap().to_owned()
    };
    let portal = server.with_bearer(&key(json!(["import:write"])));
    let reader = server.with_bearer(&key(json!(["tasks:read"])));

    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (column, heading) in ["任务编码", "单位", "角色", "截止日期"].iter().enumerate() {
        sheet.write_string(0, column as u16, *heading).unwrap();
    }
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (row, (task, unit, role)) in
        [("Q05", "县司法局", "牵头"), ("Q05", "县人民法院", "责任"), ("E03", "县法院", "responsible")].iter().enumerate()
    {
        let row = row as u32 + 1;
        sheet.write_string(row, 0, *task).unwrap();
        sheet.write_string(row, 1, *unit).unwrap();
        sheet.write_string(row, 2, *role).unwrap();
        sheet.write_datetime_with_format(row, 3, &rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 9, 30).unwrap(), &date).unwrap();
    }
    let bytes = workbook.save_to_buffer().unwrap();
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    let refused = reader
        .request(reqwest::Method::POST, "/api/v1/imports?kind=assignments")
        .header("Content-Type", xlsx)
        .body(bytes.clone())
        .send()
        .unwrap();
    assert_eq!(refused.status(), 403);

    let mut conn = db.conn();
    let assignments = count(&mut conn, "SELECT count(*) FROM assignments");
    let job = import(&portal, "kind=assignments&campaign=luoping", xlsx, bytes.clone());
    assert_eq!(job["status"], "completed", "{job:#}");
    let actions: Vec<&str> = job["report"]["rows"].as_array().unwrap().iter().map(|row| row["action"].as_str().unwrap()).collect();
    // The demo data already has some of these; every row is accounted for.
    assert_eq!(actions.len(), 3);
    assert!(actions.iter().all(|action| ["created", "updated", "unchanged"].contains(action)), "{actions:?}");
    let created = actions.iter().filter(|action| **action == "created").count() as i64;
    assert_eq!(count(&mut conn, "SELECT count(*) FROM assignments"), assignments + created);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE t.code = 'Q05' AND a.due_date = '2026-09-30'"
        ),
        2
    );
    // The portal is named in the audit log.
    assert_eq!(count(&mut conn, "SELECT count(*) FROM audit_log WHERE action = 'import.assignments' AND actor_kind = 'api_client'"), 1);

    let again = import(&portal, "kind=assignments&campaign=luoping", xlsx, bytes);
    assert_eq!(again["report"]["summary"]["unchanged"], 3, "{again:#}");
}

#[test]
fn the_breakdown_table_goes_in_through_the_api_in_any_format() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let job = import(&office, "kind=breakdown&dry_run=true", "text/plain; charset=utf-8", document().into_bytes());
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(job["report"]["summary"]["unchanged"], 229);
    assert!(job["report"]["normalisations"].as_array().unwrap().len() > 10);

    // The export of the table goes back in without changes.
    let exported = office.get("/api/v1/campaigns/luoping/export.csv").bytes().unwrap().to_vec();
    let job = import(&office, "kind=breakdown&file_name=luoping.csv", "application/octet-stream", exported);
    assert_eq!(job["status"], "completed", "{job:#}");
    assert_eq!(job["format"], "csv");
    assert_eq!(job["report"]["summary"]["unchanged"], 229, "{job:#}");

    // A broken table is rejected row by row.
    let broken = document().replacen("\t县政务局\n", "\t\n", 1);
    let job = import(&office, "kind=breakdown", "text/plain", broken.into_bytes());
    assert_eq!(job["status"], "rejected");
    let row = &job["report"]["rows"][0];
    assert_eq!(row["action"], "invalid");
    assert_eq!(row["errors"][0]["field"], "牵头单位");
}

#[test]
fn bad_files_get_clear_answers() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");

    let job = import(&office, "kind=units", "text/csv", "单位名称,颜色\n县数据局,红\n".as_bytes().to_vec());
    assert_eq!(job["status"], "rejected");
    assert!(job["report"]["errors"][0].as_str().unwrap().contains("unknown column \"颜色\""), "{job:#}");

    let job = import(&office, "kind=users", "text/plain", b"hello".to_vec());
    assert_eq!(job["status"], "rejected");
    assert!(job["report"]["errors"][0].as_str().unwrap().contains("CSV, JSON or a workbook"), "{job:#}");

    let post = |query: &str, content_type: Option<&str>, body: Vec<u8>| {
        let mut request = office.request(reqwest::Method::POST, &format!("/api/v1/imports?{query}"));
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        request.body(body).send().unwrap()
    };
    let response = post("kind=units", Some("text/csv"), Vec::new());
    assert_eq!(response.status(), 422);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    assert_eq!(post("kind=units", Some("image/png"), b"\x89PNG....".to_vec()).status(), 415);
    assert_eq!(post("kind=nonsense", Some("text/csv"), b"a\n".to_vec()).status(), 400);
    assert_eq!(post("kind=units", Some("text/csv"), vec![b'a'; (32 << 20) + 1]).status(), 413);
    assert_eq!(office.get("/api/v1/imports/424242").status(), 404);
}

#[test]
fn a_large_file_reports_its_progress() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    // Every township on every extended task: some thousand rows.
    let mut conn = db.conn();
    #[derive(diesel::QueryableByName)]
    struct Pair {
        #[diesel(sql_type = diesel::sql_types::Text)]
        code: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let pairs: Vec<Pair> = diesel::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT t.code, u.name FROM tasks t CROSS JOIN units u WHERE t.list <> 'negative' AND u.kind = 'township' ORDER BY 1, 2",
        ),
        &mut conn,
    )
    .unwrap();
    let mut body = String::from("task,unit,role,due_date\n");
    for pair in &pairs {
        body.push_str(&format!("{},{},responsible,2026-12-31\n", pair.code, pair.name));
    }
    let job = import(&office, "kind=assignments&dry_run=true", "text/csv", body.into_bytes());
    assert_eq!(job["status"], "completed", "{}", job["report"]["errors"]);
    let total = pairs.len() as i64;
    assert!(total > 2000, "{total}");
    assert_eq!(job["progress"], json!({"rows_total": total, "rows_done": total}));
    assert_eq!(job["report"]["rows"].as_array().unwrap().len() as i64, total);
    assert_eq!(job["report"]["written"], false);
}

/// Several instances share the jobs table: a job is failed only once the
/// lease of the instance running it has run out, never while a live
/// instance renews it; a job made through the API starts with a lease.
#[test]
fn only_jobs_whose_lease_ran_out_are_failed_as_interrupted() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let (content_type, body) = csv("单位名称,类型\n县数据局,government_department\n");
    let job = import(&office, "kind=units&file_name=units.csv&dry_run=true", content_type, body);
    let mut conn = db.conn();
    let leased_for =
        count(&mut conn, &format!("SELECT extract(epoch FROM lease_until - created_at)::bigint FROM import_jobs WHERE id = {}", job["id"]));
    assert!((50..=70).contains(&leased_for), "a minute's lease, got {leased_for} s");

    let insert = |lease: &str, conn: &mut diesel::PgConnection| {
        diesel::RunQueryDsl::execute(
            diesel::sql_query(format!(
                "INSERT INTO import_jobs (kind, dry_run, status, format, user_id, lease_until) \
                 VALUES ('units', false, 'running', 'csv', (SELECT id FROM users WHERE username = 'yfzxb'), now() + interval '{lease}')"
            )),
            conn,
        )
        .unwrap();
        count(conn, "SELECT max(id) FROM import_jobs")
    };
    let dead = insert("-5 seconds", &mut conn);
    let alive = insert("50 seconds", &mut conn);
    let failed = duban::import::job::fail_interrupted(&mut conn, &duban::authz::Operator::for_tests()).unwrap();
    assert_eq!(failed, 1);
    let status = |id: i64, conn: &mut diesel::PgConnection| {
        count(
            conn,
            &format!("SELECT CASE status WHEN 'failed' THEN 1 WHEN 'running' THEN 2 ELSE 0 END::bigint FROM import_jobs WHERE id = {id}"),
        )
    };
    assert_eq!(status(dead, &mut conn), 1, "the dead instance's job is failed");
    assert_eq!(status(alive, &mut conn), 2, "the live instance's job runs on");
    let job = office.get_json(&format!("/api/v1/imports/{dead}"));
    assert!(job["report"]["errors"][0].as_str().unwrap().contains("nothing was written"), "{job}");
}
