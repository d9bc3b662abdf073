//! Bulletins (通报): a draft with its figures, issue and freeze, the same
//! bytes from the frozen inputs, a change behind the scenes that only the
//! next bulletin shows, and the document as LibreOffice renders it.

use std::process::Command;

use chrono::Days;
use diesel::RunQueryDsl;
use duban_tests::{TestDb, TestServer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{count, workspace};

fn draft(title: &str) -> Value {
    let today = duban::clock::today();
    json!({
        "period": "month",
        "from": today - Days::new(30),
        "as_of": today,
        "title": title,
        "addressees": "各乡镇（街道），县直各有关部门",
        "summary": "现将本月法治政府建设示范创建工作进展情况通报如下。",
        "requirements": "各单位要对照逾期任务逐项整改，于下月5日前报送整改情况。"
    })
}

/// The text of a PDF, without whitespace (pdftotext spaces Chinese from digits).
fn pdf_text(pdf: &std::path::Path) -> String {
    let output = Command::new("pdftotext").args(["-layout"]).arg(pdf).arg("-").output().expect("pdftotext (poppler-utils)");
    String::from_utf8(output.stdout).unwrap().chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn a_bulletin_is_drafted_issued_frozen_and_rendered() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    // Work given out a while ago; one of 县司法局's assignments is five days late.
    for sql in [
        "UPDATE assignments SET created_at = now() - interval '60 days', due_date = NULL".to_owned(),
        format!(
            "UPDATE assignments SET due_date = '{}' WHERE id = (SELECT min(a.id) FROM assignments a JOIN units u ON u.id = a.unit_id WHERE u.name = '县司法局')",
            duban::clock::today() - Days::new(5)
        ),
    ] {
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let inspector = server.login("inspector");

    let response = office.post("/api/v1/campaigns/luoping/bulletins", &draft("关于法治政府建设示范创建工作进展情况的通报"));
    assert_eq!(response.status(), 201);
    let created: Value = response.json().unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["state"], "draft");
    assert!(created.get("doc_number").is_none());
    // A draft is the lead office's until it is issued.
    assert_eq!(inspector.get(&format!("/api/v1/bulletins/{id}")).status(), 404);
    assert_eq!(inspector.get_json("/api/v1/campaigns/luoping/bulletins"), json!([]));
    let inputs: Value = office.get_json(&format!("/api/v1/bulletins/{id}/inputs"));
    assert_eq!(inputs["late"][0]["unit"]["name"], "县司法局");
    assert_eq!(inputs["late"][0]["most_days"], 5);
    assert_eq!(inputs["negative"].as_array().unwrap().len(), 7);
    let preview = office.get(&format!("/api/v1/bulletins/{id}/document"));
    assert_eq!(preview.status(), 200);
    assert_eq!(preview.headers()["content-type"], duban::documents::DOCX);

    // Issued with the version reviewed: numbered, frozen, hashed, audited, announced.
    let stale =
        office.request(reqwest::Method::POST, &format!("/api/v1/bulletins/{id}/issue")).header("If-Match", "\"99\"").send().unwrap();
    assert_eq!(stale.status(), 412);
    assert_eq!(
        inspector.request(reqwest::Method::POST, &format!("/api/v1/bulletins/{id}/issue")).header("If-Match", "*").send().unwrap().status(),
        403
    );
    let response =
        office.request(reqwest::Method::POST, &format!("/api/v1/bulletins/{id}/issue")).header("If-Match", "\"1\"").send().unwrap();
    assert_eq!(response.status(), 200);
    let issued: Value = response.json().unwrap();
    let year = duban::clock::today().format("%Y").to_string();
    let doc_number = format!("罗法治办通〔{year}〕1号");
    assert_eq!(issued["state"], "issued");
    assert_eq!(issued["doc_number"], doc_number.as_str());
    let document = inspector.get(&format!("/api/v1/bulletins/{id}/document")).bytes().unwrap().to_vec();
    assert_eq!(hex::encode(Sha256::digest(&document)), issued["sha256"].as_str().unwrap());
    assert_eq!(inspector.get(&format!("/api/v1/bulletins/{id}/document")).bytes().unwrap().to_vec(), document);
    assert_eq!(duban::bulletins::regenerate(&mut conn, id).unwrap(), document, "the frozen inputs give the same bytes");
    assert_eq!(count(&mut conn, &format!("SELECT count(*) FROM audit_log WHERE action = 'bulletin.issue' AND entity_id = '{id}'")), 1);
    let inbox: Value = server.login("sfj").get_json("/api/v1/notifications?limit=50");
    assert!(inbox["items"].as_array().unwrap().iter().any(|n| n["kind"] == "bulletin_issued"), "{inbox}");
    assert_eq!(inspector.get_json("/api/v1/campaigns/luoping/bulletins")[0]["id"], id);

    // Frozen: the API refuses edits, and so does the database.
    let edit =
        office.request(reqwest::Method::PUT, &format!("/api/v1/bulletins/{id}")).header("If-Match", "*").json(&draft("改")).send().unwrap();
    assert_eq!(edit.status(), 409);
    assert!(diesel::sql_query(format!("UPDATE bulletins SET title = '改' WHERE id = {id}")).execute(&mut conn).is_err());
    assert!(diesel::sql_query(format!("DELETE FROM bulletins WHERE id = {id}")).execute(&mut conn).is_err());

    // Behind the scenes, 县司法局's late work is approved after the issue.
    let frozen_inputs: Value = inspector.get_json(&format!("/api/v1/bulletins/{id}/inputs"));
    diesel::sql_query(
        "INSERT INTO decisions (assignment_id, round, action, from_status, to_status, at)
         SELECT min(a.id), 1, 'approve', 'submitted', 'approved', now() FROM assignments a JOIN units u ON u.id = a.unit_id WHERE u.name = '县司法局'",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("UPDATE assignments SET status = 'approved' WHERE id = (SELECT min(a.id) FROM assignments a JOIN units u ON u.id = a.unit_id WHERE u.name = '县司法局')")
        .execute(&mut conn)
        .unwrap();
    assert_eq!(inspector.get_json(&format!("/api/v1/bulletins/{id}/inputs")), frozen_inputs, "the issued bulletin does not move");
    assert_eq!(inspector.get(&format!("/api/v1/bulletins/{id}/document")).bytes().unwrap().to_vec(), document);
    assert_eq!(duban::bulletins::regenerate(&mut conn, id).unwrap(), document);
    let next: Value = office.post("/api/v1/campaigns/luoping/bulletins", &draft("关于示范创建工作进展情况的第二期通报")).json().unwrap();
    let next_inputs: Value = office.get_json(&format!("/api/v1/bulletins/{}/inputs", next["id"]));
    assert_eq!(next_inputs["late"], json!([]), "the next bulletin shows the change");

    // The inputs as CSV name each unit's counts and every late assignment.
    let csv = inspector.get(&format!("/api/v1/bulletins/{id}/inputs.csv")).text().unwrap();
    assert!(csv.lines().any(|line| line.starts_with("late,县司法局,")), "{csv}");

    // The PDF, rendered by LibreOffice, says what the document says; its pages are pictured.
    let response = inspector.get(&format!("/api/v1/bulletins/{id}/document.pdf"));
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("bulletin.pdf");
    std::fs::write(&pdf, response.bytes().unwrap()).unwrap();
    let text = pdf_text(&pdf);
    let justice = frozen_inputs["scores"]["units"].as_array().unwrap().iter().find(|u| u["unit"]["name"] == "县司法局").unwrap().clone();
    for expected in [
        "罗平县全面依法治县委员会办公室".to_owned(),
        doc_number.clone(),
        "关于法治政府建设示范创建工作进展情况的通报".to_owned(),
        "各乡镇（街道），县直各有关部门：".to_owned(),
        "点名通报".to_owned(),
        format!("{}县司法局{:.1}", justice["rank"], justice["score"].as_f64().unwrap()),
    ] {
        assert!(text.contains(&expected), "{expected:?} is not in the rendered bulletin:\n{text}");
    }
    assert_eq!(count(&mut conn, &format!("SELECT count(*) FROM bulletins WHERE id = {id} AND pdf IS NOT NULL")), 1, "the PDF is kept");
    let shots = workspace().join("target/screenshots/bulletin");
    std::fs::create_dir_all(&shots).unwrap();
    let status =
        Command::new("pdftoppm").args(["-png", "-r", "60"]).arg(&pdf).arg(shots.join("page")).status().expect("pdftoppm (poppler-utils)");
    assert!(status.success());
}
