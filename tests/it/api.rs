//! The HTTP API's contract: resources, filters, pagination, ETags and
//! problem+json errors, against a real server and database.

use duban_dto::api::{CampaignSummary, Page, Problem, TaskDetail, TaskSummary};
use duban_tests::{Client, TestDb, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::workspace;

fn tasks(client: &Client, query: &str) -> Page<TaskSummary> {
    let response = client.get(&format!("/api/v1/tasks?{query}"));
    assert_eq!(response.status(), 200, "GET /api/v1/tasks?{query}");
    response.json().unwrap()
}

fn codes(page: &Page<TaskSummary>) -> Vec<String> {
    page.items.iter().map(|task| task.code.clone()).collect()
}

fn problem(response: reqwest::blocking::Response, status: StatusCode) -> Problem {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let problem: Problem = response.json().unwrap();
    assert_eq!(problem.request_id.as_deref(), Some(request_id.as_str()), "the body names the request id of the header");
    assert_eq!(problem.status, status.as_u16());
    problem
}

fn unit_id(client: &Client, name: &str) -> i64 {
    let page: Value = client.get_json(&format!("/api/v1/units?q={name}"));
    page["items"].as_array().unwrap().iter().find(|unit| unit["name"] == name).unwrap()["id"].as_i64().unwrap()
}

fn task_id(client: &Client, code: &str) -> i64 {
    tasks(client, &format!("q={code}")).items.iter().find(|task| task.code == code).unwrap().id
}

#[test]
fn health_answers_without_signing_in() {
    let db = TestDb::new();
    let server = TestServer::start(&db);
    let health: Value = server.anonymous().get_json("/healthz");
    assert_eq!(health["database"], true);
}

#[test]
fn campaigns_and_the_indicator_tree() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let client = server.login("inspector");
    let campaigns: Vec<CampaignSummary> = client.get("/api/v1/campaigns").json().unwrap();
    assert_eq!(campaigns.len(), 1);
    let counts: Vec<i64> = campaigns[0].task_counts.iter().map(|count| count.tasks).collect();
    assert_eq!(counts, [155, 32, 35, 7]);
    let luoping: CampaignSummary = client.get("/api/v1/campaigns/luoping").json().unwrap();
    assert_eq!(luoping, campaigns[0]);
    problem(client.get("/api/v1/campaigns/nowhere"), StatusCode::NOT_FOUND);

    let tree: Value = client.get_json("/api/v1/campaigns/luoping/indicators");
    let tree = tree.as_array().unwrap();
    assert_eq!(tree.len(), 9);
    assert_eq!(tree[0]["code"], "一");
    assert_eq!(tree[0]["children"].as_array().unwrap().len(), 5);
    let total: i64 = tree.iter().map(|level1| level1["task_count"].as_i64().unwrap()).sum();
    assert_eq!(total, 155, "every basic task sits under one indicator");
}

#[test]
fn tasks_filter_search_and_sort() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let client = server.login("sfj");

    let all = tasks(&client, "limit=200");
    assert_eq!(all.total, 229);
    assert_eq!(all.items.len(), 200);
    assert_eq!(all.items[0].code, "B001");
    assert_eq!(tasks(&client, "list=quantified").total, 32);
    assert_eq!(tasks(&client, "list=negative&campaign=luoping").total, 7);
    assert_eq!(tasks(&client, "campaign=elsewhere").total, 0);

    // Chinese search in the task text, and search by code.
    let review = tasks(&client, "q=行政复议&limit=100");
    assert!(review.total >= 10, "{}", review.total);
    assert!(review.items.iter().all(|task| task.text.contains("行政复议")));
    assert!(codes(&review).contains(&"B124".to_owned()));
    assert_eq!(codes(&tasks(&client, "q=q29")), ["Q29"]);
    assert_eq!(tasks(&client, "q=100%25").items.iter().filter(|t| !t.text.contains("100%")).count(), 0, "% is not a wildcard");

    // By indicator: a level-2 id, and a level-1 id covering its children.
    let tree: Value = client.get_json("/api/v1/campaigns/luoping/indicators");
    let first = &tree[0];
    let first_child = first["children"][0]["id"].as_i64().unwrap();
    assert_eq!(tasks(&client, &format!("indicator={first_child}")).total, 14);
    assert_eq!(tasks(&client, &format!("indicator={}&limit=100", first["id"])).total, 41);

    // By unit: the lead units named in the table.
    let justice = unit_id(&client, "县司法局");
    let led = tasks(&client, &format!("lead_unit={justice}&limit=200"));
    assert!(led.items.iter().all(|task| task.leads.iter().any(|lead| lead.unit.as_ref().is_some_and(|u| u.id == justice))));
    assert!(led.total > 100);
    assert_eq!(tasks(&client, &format!("responsible_unit={justice}")).total, 0, "nobody has assigned it responsible work yet");

    // Sorted backwards: the negative list's last task first.
    assert_eq!(tasks(&client, "sort=-list&limit=1").items[0].code, "N7");
    assert_eq!(tasks(&client, "status=not_started").total, 229);
    assert_eq!(tasks(&client, "status=overdue").total, 0);

    // Bad filters are 400s that say what is wrong.
    let bad = problem(client.get("/api/v1/tasks?list=urgent"), StatusCode::BAD_REQUEST);
    assert_eq!(bad.code, "invalid_query");
    problem(client.get("/api/v1/tasks?color=red"), StatusCode::BAD_REQUEST);
    problem(client.get("/api/v1/tasks?due_before=yesterday"), StatusCode::BAD_REQUEST);
}

#[test]
fn pagination_edges() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let client = server.login("inspector");
    let first = tasks(&client, "list=negative&limit=3");
    assert_eq!(codes(&first), ["N1", "N2", "N3"]);
    let cursor = first.next_cursor.clone().unwrap();
    let second = tasks(&client, &format!("list=negative&limit=3&cursor={cursor}"));
    assert_eq!(codes(&second), ["N4", "N5", "N6"]);
    let last = tasks(&client, &format!("list=negative&limit=3&cursor={}", second.next_cursor.unwrap()));
    assert_eq!(codes(&last), ["N7"]);
    assert_eq!(last.next_cursor, None, "the last page has no cursor");
    assert_eq!(last.total, 7);

    let exact = tasks(&client, "list=negative&limit=7");
    assert_eq!(exact.items.len(), 7);
    assert_eq!(exact.next_cursor, None, "a page that ends exactly at the end has no cursor");

    let empty = tasks(&client, "q=没有这样的任务");
    assert_eq!((empty.total, empty.items.len(), empty.next_cursor.is_none()), (0, 0, true));

    assert_eq!(problem(client.get("/api/v1/tasks?cursor=garbage"), StatusCode::BAD_REQUEST).code, "invalid_cursor");
    // A cursor is bound to its filters.
    assert_eq!(
        problem(client.get(&format!("/api/v1/tasks?list=basic&limit=3&cursor={cursor}")), StatusCode::BAD_REQUEST).code,
        "invalid_cursor"
    );
    assert_eq!(problem(client.get("/api/v1/tasks?limit=0"), StatusCode::BAD_REQUEST).code, "invalid_limit");
    assert_eq!(problem(client.get("/api/v1/tasks?limit=1000"), StatusCode::BAD_REQUEST).code, "invalid_limit");
}

#[test]
fn task_detail_and_status_rollup() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let id = task_id(&office, "B014");
    let detail: TaskDetail = office.get(&format!("/api/v1/tasks/{id}")).json().unwrap();
    assert_eq!(detail.summary.code, "B014");
    assert_eq!(detail.summary.leads.len(), 4);
    assert_eq!(detail.assignments.len(), 4, "one lead assignment per concrete lead unit");
    assert_eq!(detail.responsible_parties[0].as_written, "各有关部门、各乡镇(街道)按职责分工分别负责");
    assert_eq!(detail.summary.level2.as_ref().unwrap().code, "(一)");
    assert_eq!(detail.summary.level1.as_ref().unwrap().code, "一");
    let quantified: TaskDetail = office.get(&format!("/api/v1/tasks/{}", task_id(&office, "Q29"))).json().unwrap();
    assert_eq!(quantified.targets.len(), 2);
    problem(office.get("/api/v1/tasks/999999"), StatusCode::NOT_FOUND);
    problem(office.get("/api/v1/tasks/not-a-number"), StatusCode::NOT_FOUND);

    // A unit starts work: the task is in progress.
    let market = server.login("scjgj");
    let assignment = detail.assignments.iter().find(|a| a.unit.name == "县市场监管局").unwrap();
    let response = market
        .request(reqwest::Method::PATCH, &format!("/api/v1/assignments/{}", assignment.id))
        .header("If-Match", format!("\"{}\"", assignment.version))
        .json(&json!({"status": "in_progress", "progress_note": "已梳理企业开办流程"}))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let summary = tasks(&office, "q=B014").items.remove(0);
    assert_eq!(summary.status.as_str(), "in_progress");

    // A due date in the past makes it overdue, whatever else.
    let government = detail.assignments.iter().find(|a| a.unit.name == "县政务局").unwrap();
    let response = office
        .request(reqwest::Method::PATCH, &format!("/api/v1/assignments/{}", government.id))
        .header("If-Match", "*")
        .json(&json!({"due_date": "2020-01-31"}))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(tasks(&office, "q=B014").items[0].status.as_str(), "overdue");
    assert_eq!(codes(&tasks(&office, "status=overdue")), ["B014"]);
    assert_eq!(codes(&tasks(&office, "overdue=true")), ["B014"]);
    assert_eq!(tasks(&office, "overdue=false").total, 228);
    assert_eq!(codes(&tasks(&office, "due_before=2020-02-01")), ["B014"]);
    assert_eq!(tasks(&office, "status=in_progress").total, 0, "an overdue task shows as overdue");
    assert_eq!(codes(&tasks(&office, "sort=next_due&limit=1")), ["B014"]);
    let overdue: Value = office.get_json("/api/v1/assignments?overdue=true");
    assert_eq!(overdue["total"], 1);
}

#[test]
fn assignments_are_made_by_the_lead_office_and_guarded_by_etags() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let task = task_id(&office, "B120");
    let groups: Value = office.get_json("/api/v1/unit-groups?region=罗平县");
    let townships = groups.as_array().unwrap().iter().find(|g| g["phrase"] == "各乡镇(街道)").unwrap();
    assert_eq!(townships["member_count"], 13);
    let preview: Value = office.get_json(&format!("/api/v1/unit-groups/{}/members", townships["id"]));
    assert_eq!(preview.as_array().unwrap().len(), 13);

    // The whole group in one call; again, and nothing is duplicated.
    let body = json!({"group_id": townships["id"], "role": "responsible", "due_date": "2026-12-20"});
    let response = office.post(&format!("/api/v1/tasks/{task}/assignments"), &body);
    assert_eq!(response.status(), 201);
    let created: Value = response.json().unwrap();
    assert_eq!(created["created"].as_array().unwrap().len(), 13);
    let again: Value = office.post(&format!("/api/v1/tasks/{task}/assignments"), &body).json().unwrap();
    assert_eq!((again["created"].as_array().unwrap().len(), again["existing"].as_array().unwrap().len()), (0, 13));

    let luoxiong = created["created"].as_array().unwrap().iter().find(|a| a["unit"]["name"] == "罗雄街道").unwrap().clone();
    let path = format!("/api/v1/assignments/{}", luoxiong["id"]);
    let read = office.get(&path);
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, "\"1\"");

    // Two people edit the same version: the second is refused, not lost.
    let street = server.login("lxjd");
    let first =
        street.request(reqwest::Method::PATCH, &path).header("If-Match", &etag).json(&json!({"progress_note": "第一稿"})).send().unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["etag"], "\"2\"");
    let second =
        office.request(reqwest::Method::PATCH, &path).header("If-Match", &etag).json(&json!({"due_date": "2026-12-25"})).send().unwrap();
    assert_eq!(problem(second, StatusCode::PRECONDITION_FAILED).code, "precondition_failed");
    let missing = office.patch(&path, &json!({"due_date": "2026-12-25"}));
    assert_eq!(problem(missing, StatusCode::PRECONDITION_REQUIRED).code, "precondition_required");

    // Each edits only what is theirs.
    let note_by_office =
        office.request(reqwest::Method::PATCH, &path).header("If-Match", "\"2\"").json(&json!({"progress_note": "x"})).send().unwrap();
    problem(note_by_office, StatusCode::FORBIDDEN);
    let date_by_unit =
        street.request(reqwest::Method::PATCH, &path).header("If-Match", "\"2\"").json(&json!({"due_date": "2027-01-01"})).send().unwrap();
    problem(date_by_unit, StatusCode::FORBIDDEN);
    let approve_self =
        street.request(reqwest::Method::PATCH, &path).header("If-Match", "\"2\"").json(&json!({"status": "approved"})).send().unwrap();
    assert_eq!(problem(approve_self, StatusCode::CONFLICT).code, "invalid_transition");
    let other_street = created["created"].as_array().unwrap().iter().find(|a| a["unit"]["name"] == "腊山街道").unwrap();
    let foreign = street
        .request(reqwest::Method::PATCH, &format!("/api/v1/assignments/{}", other_street["id"]))
        .header("If-Match", "*")
        .json(&json!({"progress_note": "不是我们的"}))
        .send()
        .unwrap();
    problem(foreign, StatusCode::FORBIDDEN);

    // Due within N days, and removal of untouched work only.
    let soon: Value = office.get_json(&format!("/api/v1/assignments?task={task}&due_within_working_days=60"));
    assert_eq!(soon["total"], 13);
    assert_eq!(problem(office.delete(&path), StatusCode::CONFLICT).code, "work_started");
    assert_eq!(office.delete(&format!("/api/v1/assignments/{}", other_street["id"])).status(), 204);
    problem(office.delete(&format!("/api/v1/assignments/{}", other_street["id"])), StatusCode::NOT_FOUND);
}

#[test]
fn bodies_are_checked_precisely() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let admin = server.login("admin");
    let post_raw = |content_type: &str, body: Vec<u8>| {
        admin.request(reqwest::Method::POST, "/api/v1/units").header("content-type", content_type).body(body).send().unwrap()
    };
    assert_eq!(problem(post_raw("application/json", b"{\"region\": ".to_vec()), StatusCode::BAD_REQUEST).code, "malformed_body");
    let wrong_type = r#"{"region": "罗平县", "name": 7, "kind": "other"}"#.as_bytes().to_vec();
    assert_eq!(problem(post_raw("application/json", wrong_type), StatusCode::UNPROCESSABLE_ENTITY).code, "invalid_body");
    let unknown_field = r#"{"region": "罗平县", "name": "县档案馆", "kind": "other", "colour": "red"}"#.as_bytes().to_vec();
    let unknown = problem(post_raw("application/json", unknown_field), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.detail.unwrap().contains("colour"));
    let huge = serde_json::to_vec(&json!({"region": "罗平县", "name": "x".repeat(2 << 20), "kind": "other"})).unwrap();
    assert_eq!(problem(post_raw("application/json", huge), StatusCode::PAYLOAD_TOO_LARGE).code, "payload_too_large");
    let form = b"name=x".to_vec();
    assert_eq!(
        problem(post_raw("application/x-www-form-urlencoded", form), StatusCode::UNSUPPORTED_MEDIA_TYPE).code,
        "unsupported_media_type"
    );

    // Units: created, conflicts named, deleted only when unused.
    let created = admin.post("/api/v1/units", &json!({"region": "罗平县", "name": "县档案馆", "kind": "other", "aliases": ["档案馆"]}));
    assert_eq!(created.status(), 201);
    let unit: Value = created.json().unwrap();
    let clash = admin.post("/api/v1/units", &json!({"region": "罗平县", "name": "档案馆", "kind": "other"}));
    assert_eq!(problem(clash, StatusCode::CONFLICT).code, "name_taken");
    let alias_of_other = admin.patch(&format!("/api/v1/units/{}", unit["id"]), &json!({"aliases": ["县政府办"]}));
    assert_eq!(problem(alias_of_other, StatusCode::CONFLICT).code, "name_taken");
    let nowhere = admin.post("/api/v1/units", &json!({"region": "火星县", "name": "x", "kind": "other"}));
    assert_eq!(problem(nowhere, StatusCode::UNPROCESSABLE_ENTITY).code, "unknown_region");
    assert_eq!(admin.delete(&format!("/api/v1/units/{}", unit["id"])).status(), 204);
    let justice = unit_id(&admin, "县司法局");
    assert_eq!(problem(admin.delete(&format!("/api/v1/units/{justice}")), StatusCode::CONFLICT).code, "in_use");
    problem(admin.get("/api/v1/units/987654"), StatusCode::NOT_FOUND);
}

#[test]
fn cors_admits_configured_portals_only() {
    let db = TestDb::new();
    let server = TestServer::start_with(&db, vec!["https://portal.example.cn".to_owned()]);
    let client = server.anonymous();
    let preflight = |origin: &str| {
        client
            .request(reqwest::Method::OPTIONS, "/api/v1/tasks")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
            .unwrap()
    };
    let allowed = preflight("https://portal.example.cn");
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://portal.example.cn");
    let refused = preflight("https://evil.example.com");
    assert!(refused.headers().get("access-control-allow-origin").is_none());
}

#[test]
fn serves_the_openapi_document_and_its_docs_page() {
    let db = TestDb::new();
    let server = TestServer::start(&db);
    let client = server.anonymous();
    let document: Value = client.get_json("/api/v1/openapi.json");
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(document["paths"]["/api/v1/tasks"]["get"].is_object());
    let page = client.get("/docs/").text().unwrap();
    assert!(page.contains("swagger-ui"), "the docs page is Swagger UI, served by duban itself");
    assert!(!page.contains("https://"), "the docs page loads nothing from the network");
}

#[test]
fn committed_openapi_document_matches_the_code() {
    let path = workspace().join("openapi/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == duban::cli::openapi_json(), "openapi/openapi.json is out of date: run `cargo xtask openapi`");
}

#[test]
fn nul_characters_are_refused_not_crashed_on() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    assert_eq!(problem(office.get("/api/v1/audit?action=x%00y"), StatusCode::BAD_REQUEST).code, "invalid_query");
    assert_eq!(problem(office.get("/api/v1/tasks?q=%00"), StatusCode::BAD_REQUEST).code, "invalid_query");
    let body = office.post("/api/v1/units", &json!({"region": "罗平县", "name": "县\u{0}档案馆", "kind": "other"}));
    assert_eq!(problem(body, StatusCode::UNPROCESSABLE_ENTITY).code, "invalid_text");
}

#[test]
fn responses_say_how_they_may_be_cached() {
    let db = TestDb::with_demo();
    let client_files = tempfile::tempdir().unwrap();
    std::fs::write(client_files.path().join("index.html"), "<!doctype html><title>duban</title>").unwrap();
    std::fs::write(client_files.path().join("duban-frontend-0123456789abcdef.js"), "export {};").unwrap();
    let server = TestServer::start_with_options(
        &db,
        duban_tests::ServerOptions { static_dir: Some(client_files.path().to_owned()), ..Default::default() },
    );
    let office = server.login("yfzxb");
    let cache_control = |response: reqwest::blocking::Response| -> String {
        response.headers().get("cache-control").map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default()
    };
    // The county's material, and answers that depend on who asks: never stored.
    assert_eq!(cache_control(office.get("/api/v1/tasks?limit=1")), "no-store");
    assert_eq!(cache_control(office.get("/api/v1/tasks/999999")), "no-store");
    assert_eq!(cache_control(server.anonymous().get("/healthz")), "no-store");
    // Public, but it changes with a release.
    assert_eq!(cache_control(server.anonymous().get("/api/v1/openapi.json")), "no-cache");
    // The client: index.html (also for its own routes) revalidated, hashed files kept.
    assert_eq!(cache_control(server.anonymous().get("/")), "no-cache");
    assert_eq!(cache_control(server.anonymous().get("/tasks/B001")), "no-cache");
    let hashed = server.anonymous().get("/duban-frontend-0123456789abcdef.js");
    assert_eq!(hashed.status(), 200);
    assert_eq!(cache_control(hashed), "public, max-age=31536000, immutable");
}

#[test]
fn every_response_carries_the_security_headers() {
    let db = TestDb::with_demo();
    let client_files = tempfile::tempdir().unwrap();
    let loader = "import init from '/duban-frontend-0123456789abcdef.js'; await init();";
    std::fs::write(client_files.path().join("index.html"), format!("<!doctype html><script type=\"module\">{loader}</script>")).unwrap();
    let server = TestServer::start_with_options(
        &db,
        duban_tests::ServerOptions { static_dir: Some(client_files.path().to_owned()), ..Default::default() },
    );
    let header = |response: &reqwest::blocking::Response, name: &str| -> String {
        response.headers().get(name).map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default()
    };
    let anonymous = server.anonymous();
    for path in ["/", "/tasks/1", "/api/v1/tasks", "/api/v1/openapi.json", "/healthz", "/docs/"] {
        let response = anonymous.get(path);
        assert_eq!(header(&response, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&response, "referrer-policy"), "same-origin", "{path}");
        assert!(header(&response, "permissions-policy").contains("camera=()"), "{path}");
        assert!(header(&response, "content-security-policy").contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(header(&response, "strict-transport-security"), "", "{path}: no HSTS over plain HTTP");
    }
    // The client's one inline script, the module loader, is allowed by its hash; no other.
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(loader.as_bytes()));
    let client = header(&anonymous.get("/"), "content-security-policy");
    assert!(client.contains(&format!("'sha256-{hash}'")), "{client}");
    assert!(!client.contains("unsafe-inline"), "{client}");
    assert!(header(&anonymous.get("/api/v1/tasks"), "content-security-policy").starts_with("default-src 'none'"));
    // Behind a TLS-terminating proxy that says so, browsers are told to keep to HTTPS.
    let proxied = anonymous.request(reqwest::Method::GET, "/healthz").header("X-Forwarded-Proto", "https").send().unwrap();
    assert!(header(&proxied, "strict-transport-security").starts_with("max-age="));
}

#[test]
fn compressed_problems_keep_their_request_id() {
    use std::io::Read;
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    for encoding in ["gzip", "identity"] {
        let response = office
            .request(reqwest::Method::GET, "/api/v1/tasks/999999")
            .header("Accept-Encoding", encoding)
            .header("x-request-id", format!("compressed-{encoding}"))
            .send()
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let compressed = response.headers().get("content-encoding").is_some_and(|value| value == "gzip");
        assert_eq!(compressed, encoding == "gzip", "{encoding}");
        let bytes = response.bytes().unwrap();
        let mut body = String::new();
        if compressed {
            flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut body).unwrap();
        } else {
            body = String::from_utf8(bytes.to_vec()).unwrap();
        }
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["request_id"], format!("compressed-{encoding}"), "{encoding}: {body}");
    }
}

/// Prometheus scrapes `/metrics` with its token: requests by route and
/// status with latency buckets, the pool, the outbox backlog.
#[test]
fn metrics_are_scraped_with_their_token() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let inspector = server.login("inspector");
    for _ in 0..3 {
        inspector.get_json("/api/v1/tasks?limit=1");
    }
    assert_eq!(server.anonymous().get("/metrics").status(), 401);
    let scrape = server.anonymous().request(reqwest::Method::GET, "/metrics").bearer_auth(duban_tests::METRICS_TOKEN).send().unwrap();
    assert_eq!(scrape.status(), 200);
    assert_eq!(scrape.headers()["cache-control"], "no-store", "scrapes are never stored");
    let text = scrape.text().unwrap();
    for wanted in [
        r#"duban_http_requests_total{route="/api/v1/tasks",method="GET",status="200"}"#,
        "duban_http_request_duration_seconds_bucket",
        "duban_db_pool_connections",
        "duban_db_pool_in_use",
        "duban_outbox_backlog",
        "duban_import_jobs_running",
    ] {
        assert!(text.contains(wanted), "{wanted} is not in:\n{text}");
    }
}
