//! The review workflow end to end: submit, return with a reason, resubmit,
//! accept, approve — with history, sealing, notifications and status.

use duban_tests::{Client, TestDb, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::evidence::{pdf, upload};

fn post_json(client: &Client, path: &str, body: Value) -> reqwest::blocking::Response {
    client.post(path, &body)
}

fn review(client: &Client, assignment: i64, decision: &str, reason: Option<&str>) -> reqwest::blocking::Response {
    post_json(client, &format!("/api/v1/assignments/{assignment}/review"), json!({"decision": decision, "reason": reason}))
}

#[test]
fn a_submission_goes_through_return_resubmission_acceptance_and_approval() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    // B014 is led by 县政务局 (zwj) among others; 罗雄街道 (lxjd) is made responsible.
    let tasks: Value = office.get_json("/api/v1/tasks?q=B014");
    let task = tasks["items"][0]["id"].as_i64().unwrap();
    let street = server.login("lxjd");
    let street_unit = street.get_json("/api/v1/me")["unit"]["id"].as_i64().unwrap();
    let made: Value = office
        .post(
            &format!("/api/v1/tasks/{task}/assignments"),
            &json!({"unit_ids": [street_unit], "role": "responsible", "due_date": "2026-12-31"}),
        )
        .json()
        .unwrap();
    let assignment = made["created"][0]["id"].as_i64().unwrap();
    let inbox: Value = street.get_json("/api/v1/notifications?unread=true");
    assert_eq!(inbox["items"][0]["kind"], "assigned", "the unit hears of its new work");

    // The unit cannot submit nothing; it uploads and submits.
    let empty = post_json(&street, &format!("/api/v1/assignments/{assignment}/submit"), json!(null));
    assert_eq!(empty.json::<Value>().unwrap()["code"], "nothing_to_submit");
    let first: Value = upload(&street, assignment, &[("企业开办流程图.pdf", pdf("第一稿"))], &[("description", "流程图")]).json().unwrap();
    let evidence_id = first[0]["id"].as_i64().unwrap();
    let submitted: Value = post_json(&street, &format!("/api/v1/assignments/{assignment}/submit"), json!(null)).json().unwrap();
    assert_eq!(submitted["status"], "submitted");
    let frozen = upload(&street, assignment, &[("补充.pdf", pdf("补充"))], &[]);
    assert_eq!(frozen.status(), StatusCode::CONFLICT, "evidence is frozen under review");

    // The lead unit sees it in its queue; it returns it, with a reason.
    let lead = server.login("zwj");
    let queue: Value = lead.get_json("/api/v1/reviews");
    assert!(queue["items"].as_array().unwrap().iter().any(|a| a["id"] == assignment));
    assert_eq!(review(&lead, assignment, "approve", None).status(), StatusCode::FORBIDDEN, "final approval is the lead office's");
    assert_eq!(review(&lead, assignment, "return", Some("  ")).json::<Value>().unwrap()["code"], "reason_required");
    assert_eq!(review(&server.login("sfj"), assignment, "accept", None).status(), StatusCode::FORBIDDEN, "not a lead unit of the task");
    let returned: Value = review(&lead, assignment, "return", Some("流程图缺少办理时限，请补充。")).json().unwrap();
    assert_eq!(returned["status"], "returned");
    assert_eq!(office.get_json("/api/v1/tasks?q=B014")["items"][0]["status"], "returned");

    // The unit sees the reason, in its inbox and the history.
    let inbox: Value = street.get_json("/api/v1/notifications?unread=true");
    let notice = inbox["items"].as_array().unwrap().iter().find(|n| n["kind"] == "returned").unwrap();
    assert!(notice["message"].as_str().unwrap().contains("流程图缺少办理时限"));
    let history: Value = street.get_json(&format!("/api/v1/assignments/{assignment}/history"));
    assert_eq!(history[1]["action"], "return");
    assert_eq!(history[1]["reason"], "流程图缺少办理时限，请补充。");
    assert_eq!(history[1]["actor_unit"]["name"], "县政务局");
    // People are named as the office knows them, besides their account.
    assert_eq!(history[1]["actor"], "zwj");
    assert_eq!(history[1]["actor_name"], "县政务局管理员(演示)");

    // A new version, and a second round.
    let revised = upload(
        &street,
        assignment,
        &[("企业开办流程图(修订).pdf", pdf("第二稿，含办理时限"))],
        &[("evidence_id", &evidence_id.to_string())],
    );
    assert_eq!(revised.status(), 201);
    let resubmitted: Value = post_json(&street, &format!("/api/v1/assignments/{assignment}/submit"), json!(null)).json().unwrap();
    assert_eq!(resubmitted["status"], "submitted");
    let accepted: Value = review(&lead, assignment, "accept", None).json().unwrap();
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(
        review(&lead, assignment, "return", Some("又想了想")).status(),
        StatusCode::FORBIDDEN,
        "after acceptance only the lead office returns"
    );
    let approved: Value = review(&office, assignment, "approve", None).json().unwrap();
    assert_eq!(approved["status"], "approved");
    assert_eq!(review(&office, assignment, "approve", None).status(), StatusCode::CONFLICT, "approved is final");

    // The history: rounds, decisions, and the evidence each covered, with hashes.
    let history: Value = street.get_json(&format!("/api/v1/assignments/{assignment}/history"));
    let actions: Vec<(&str, i64)> =
        history.as_array().unwrap().iter().map(|d| (d["action"].as_str().unwrap(), d["round"].as_i64().unwrap())).collect();
    assert_eq!(actions, [("submit", 1), ("return", 1), ("submit", 2), ("accept", 2), ("approve", 2)]);
    let sealed = &history[4]["evidence"];
    assert_eq!(sealed.as_array().unwrap().len(), 1);
    assert_eq!(sealed[0]["version"], 2);
    assert_eq!(sealed[0]["file_name"], "企业开办流程图(修订).pdf");
    let listed: Value = street.get_json(&format!("/api/v1/assignments/{assignment}/evidence"));
    assert_eq!(listed[0]["current"]["sealed"], true);
    assert_eq!(listed[0]["versions"][1]["sealed"], false, "the returned first version was not approved");
    assert_eq!(sealed[0]["sha256"], listed[0]["current"]["sha256"], "the approval recorded the hash of what was approved");
    assert_eq!(upload(&street, assignment, &[("晚了.pdf", pdf("x"))], &[]).status(), StatusCode::CONFLICT, "sealed");
    let kinds: Vec<String> = street.get_json("/api/v1/notifications")["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains(&"accepted".to_owned()) && kinds.contains(&"approved".to_owned()), "{kinds:?}");
    assert_eq!(street.post("/api/v1/notifications/read-all", &json!(null)).status(), 204);
    assert_eq!(street.get_json("/api/v1/notifications?unread=true")["total"], 0);
}

#[test]
fn a_task_is_approved_when_all_its_assignments_are() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    // B012 has one assignment: 县司法局 leads it alone.
    let tasks: Value = office.get_json("/api/v1/tasks?q=B012");
    let task = &tasks["items"][0];
    assert_eq!(task["assignment_count"], 1);
    let detail: Value = office.get_json(&format!("/api/v1/tasks/{}", task["id"]));
    let assignment = detail["assignments"][0]["id"].as_i64().unwrap();
    let justice = server.login("sfj");
    upload(&justice, assignment, &[("告知承诺制.pdf", pdf("方案"))], &[]);
    post_json(&justice, &format!("/api/v1/assignments/{assignment}/submit"), json!(null));
    // A lead unit's own work: the lead office reviews both stages, and
    // (duties separated) another of its accounts gives the final approval.
    assert_eq!(review(&justice, assignment, "accept", None).status(), StatusCode::FORBIDDEN);
    let queue: Value = office.get_json("/api/v1/reviews");
    assert!(queue["items"].as_array().unwrap().iter().any(|a| a["id"] == assignment));
    assert_eq!(review(&office, assignment, "accept", None).status(), 200);
    assert_eq!(office.get_json("/api/v1/tasks?q=B012")["items"][0]["status"], "submitted");
    assert_eq!(review(&office, assignment, "approve", None).status(), StatusCode::FORBIDDEN, "not by the account that accepted");
    assert_eq!(review(&server.login("yfzxb-fz"), assignment, "approve", None).status(), 200);
    assert_eq!(office.get_json("/api/v1/tasks?q=B012")["items"][0]["status"], "approved");
    assert_eq!(office.get_json("/api/v1/tasks?status=approved")["total"], 1);
}

#[test]
fn assigning_a_group_again_with_a_due_date_fills_the_empty_ones() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let groups: Value = office.get_json("/api/v1/unit-groups");
    let townships = groups.as_array().unwrap().iter().find(|g| g["phrase"] == "各乡镇(街道)").unwrap()["id"].as_i64().unwrap();
    let task = office.get_json("/api/v1/tasks?q=B120")["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/tasks/{task}/assignments");
    let first: Value = office.post(&path, &json!({"group_id": townships, "role": "responsible"})).json().unwrap();
    let created = first["created"].as_array().unwrap();
    assert!(created.len() > 3 && created.iter().all(|a| a["due_date"].is_null()));
    // One township already has a date of its own.
    let dated = &created[0];
    let own = office
        .request(reqwest::Method::PATCH, &format!("/api/v1/assignments/{}", dated["id"]))
        .header("If-Match", "*")
        .json(&json!({"due_date": "2026-12-20"}))
        .send()
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);

    let again: Value = office.post(&path, &json!({"group_id": townships, "role": "responsible", "due_date": "2026-12-31"})).json().unwrap();
    assert!(again["created"].as_array().unwrap().is_empty());
    for assignment in again["existing"].as_array().unwrap() {
        let expected = if assignment["id"] == dated["id"] { "2026-12-20" } else { "2026-12-31" };
        assert_eq!(assignment["due_date"], expected, "{}", assignment["unit"]["name"]);
    }
}
