//! Supervision (督办): a notice through its whole cycle with each role
//! taking only its steps; urging by hand; reminders and escalation once
//! each, also with several instances; the notice document rendered by
//! LibreOffice; and every message delivered to real receivers — an SMTP
//! server, a webhook receiver, the group robots' APIs — at least once,
//! even when duban is killed mid-delivery.

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::NaiveDate;
use duban::config::{Messaging, Smtp, SmtpTls};
use duban_tests::{Client, ServerOptions, TestDb, TestServer};
use hmac::{Hmac, Mac};
use reqwest::blocking::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::evidence::{lead_assignment, pdf};
use crate::support::{Certificates, Receiver, Server, SmtpServer, count};

/// Makes a unit's lead assignment on a task overdue (due yesterday).
fn make_late(office: &Client, task: &str, unit: &str) -> i64 {
    let assignment = lead_assignment(office, task, unit);
    let yesterday = duban::clock::today().pred_opt().unwrap();
    let response = office
        .request(reqwest::Method::PATCH, &format!("/api/v1/assignments/{assignment}"))
        .header("If-Match", "*")
        .json(&json!({"due_date": yesterday}))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assignment
}

fn issue(office: &Client, assignment_ids: &[i64]) -> Value {
    let response = office.post(
        "/api/v1/notices",
        &json!({
            "campaign": "luoping",
            "level": "key",
            "title": "关于加快落实行政执法“三项制度”的督办通知",
            "requirement": "你单位承担的任务已超过完成时限。\n请对照任务要求抓紧办理，按时反馈办理情况并上传佐证材料。",
            "reply_working_days": 5,
            "assignment_ids": assignment_ids,
        }),
    );
    assert_eq!(response.status(), 201, "{}", response.text().unwrap_or_default());
    response.json().unwrap()
}

fn step(client: &Client, recipient: i64, body: Value) -> reqwest::blocking::Response {
    client.post(&format!("/api/v1/notice-recipients/{recipient}/actions"), &body)
}

fn code_of(response: reqwest::blocking::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().unwrap_or_default();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

fn recipient_of<'a>(notice: &'a Value, unit: &str) -> &'a Value {
    notice["recipients"].as_array().unwrap().iter().find(|r| r["unit"]["name"] == unit).unwrap()
}

fn messaging(smtp: Option<Smtp>) -> Messaging {
    Messaging { smtp, allow_loopback: true, ..Messaging::default() }
}

#[test]
fn a_notice_goes_through_its_whole_cycle_and_each_role_takes_only_its_steps() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let manager = server.login("sfj");
    let staff = server.login("sfj-staff");
    let other_unit = server.login("zwj");
    let not_addressed = server.login("scjgj");
    let inspector = server.login("inspector");
    let justice_assignment = make_late(&office, "B012", "县司法局");
    let government_assignment = make_late(&office, "B015", "县政务局");

    for refused in [&manager, &inspector, &server.login("admin")] {
        let response = refused.post("/api/v1/notices", &json!({"campaign": "luoping", "level": "general", "title": "x", "requirement": "x", "reply_working_days": 3, "assignment_ids": [justice_assignment]}));
        assert_eq!(response.status(), 403, "only the lead office issues notices");
    }
    let notice = issue(&office, &[justice_assignment, government_assignment]);
    let year = duban::clock::today().format("%Y").to_string();
    assert_eq!(notice["doc_number"], format!("罗法治办督〔{year}〕1号"));
    assert_eq!(notice["level"], "key");
    let id = notice["id"].as_i64().unwrap();
    let justice = recipient_of(&notice, "县司法局");
    let recipient = justice["id"].as_i64().unwrap();
    assert_eq!(justice["state"], "sent");
    assert!(justice["open_steps"].as_array().unwrap().is_empty(), "the lead office can take no step on an unacknowledged notice");
    let due: NaiveDate = serde_json::from_value(justice["reply_due"].clone()).unwrap();
    let calendar = duban::calendar::load(&mut db.conn()).unwrap();
    assert_eq!(due, calendar.add_working_days(duban::clock::today(), 5), "five working days by the Chinese calendar");

    // The unit sees it in its inbox and in the notices list; a unit it
    // does not address does not see it at all.
    let inbox: Value = manager.get_json("/api/v1/notifications");
    assert!(inbox["items"].as_array().unwrap().iter().any(|n| n["kind"] == "notice_issued" && n["notice_id"] == id));
    assert_eq!(manager.get_json("/api/v1/notices")["items"][0]["id"], id);
    assert_eq!(not_addressed.get_json("/api/v1/notices")["total"], 0);
    assert_eq!(not_addressed.get(&format!("/api/v1/notices/{id}")).status(), 404);
    let as_unit: Value = manager.get_json(&format!("/api/v1/notices/{id}"));
    assert_eq!(recipient_of(&as_unit, "县司法局")["open_steps"], json!(["acknowledge"]));

    // Steps out of order, or by the wrong party, are refused.
    assert_eq!(
        code_of(manager.post(&format!("/api/v1/notice-recipients/{recipient}/reply"), &json!({"text": "已办理"}))),
        (409, "invalid_transition".into())
    );
    assert_eq!(step(&other_unit, recipient, json!({"step": "acknowledge"})).status(), 403, "another unit's notice");
    assert_eq!(step(&office, recipient, json!({"step": "acknowledge"})).status(), 403, "the office does not sign for the unit");
    assert_eq!(step(&inspector, recipient, json!({"step": "acknowledge"})).status(), 403);

    // 签收 by the unit's staff.
    let after: Value = step(&staff, recipient, json!({"step": "acknowledge"})).json().unwrap();
    assert_eq!(recipient_of(&after, "县司法局")["state"], "acknowledged");
    assert!(recipient_of(&after, "县司法局")["acknowledged_at"].is_string());
    assert_eq!(code_of(step(&staff, recipient, json!({"step": "acknowledge"}))), (409, "invalid_transition".into()));

    // 申请延期, granted: the reply date and the assignment's due date move.
    let until = due + chrono::Days::new(7);
    assert_eq!(code_of(step(&manager, recipient, json!({"step": "request_extension", "until": until}))).1, "reason_required");
    assert_eq!(
        code_of(step(&manager, recipient, json!({"step": "request_extension", "text": "需协调多个部门", "until": due}))).1,
        "not_later"
    );
    let asked: Value =
        step(&manager, recipient, json!({"step": "request_extension", "text": "需协调多个部门", "until": until})).json().unwrap();
    assert_eq!(recipient_of(&asked, "县司法局")["extension"]["until"], json!(until));
    assert_eq!(
        code_of(step(&manager, recipient, json!({"step": "request_extension", "text": "再延", "until": until}))),
        (409, "invalid_transition".into())
    );
    assert_eq!(step(&manager, recipient, json!({"step": "grant_extension"})).status(), 403, "a unit does not grant itself more time");
    let office_view: Value = office.get_json(&format!("/api/v1/notices/{id}"));
    assert_eq!(recipient_of(&office_view, "县司法局")["open_steps"], json!(["grant_extension", "refuse_extension"]));
    assert_eq!(office.get_json("/api/v1/notices")["items"][0]["extensions_pending"], 1);
    let granted: Value = step(&office, recipient, json!({"step": "grant_extension"})).json().unwrap();
    let justice = recipient_of(&granted, "县司法局");
    assert_eq!(justice["reply_due"], json!(until));
    assert!(justice["extension"].is_null());
    assert_eq!(justice["history"].as_array().unwrap().last().unwrap()["until"], json!(until));
    assert_eq!(office.get_json(&format!("/api/v1/assignments/{justice_assignment}"))["due_date"], json!(until));

    // 办理情况反馈 with a file, returned as insufficient, replied again, closed.
    let form = Form::new()
        .text("text", "已完成行政执法公示平台建设，附工作报告。")
        .part("file", Part::bytes(pdf("督办反馈报告")).file_name("督办反馈 报告(2026).pdf"));
    let response =
        manager.request(reqwest::Method::POST, &format!("/api/v1/notice-recipients/{recipient}/reply")).multipart(form).send().unwrap();
    assert_eq!(response.status(), 200);
    let replied: Value = response.json().unwrap();
    let justice = recipient_of(&replied, "县司法局");
    assert_eq!(justice["state"], "replied");
    let reply = justice["history"].as_array().unwrap().last().unwrap();
    assert_eq!(reply["kind"], "reply");
    assert_eq!(reply["actor_unit"]["name"], "县司法局");
    let file = &reply["files"][0];
    assert_eq!(file["file_name"], "督办反馈 报告(2026).pdf");
    let download = office.get(&format!("/api/v1/notices/{id}/files/{}", file["id"]));
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().unwrap().to_vec(), pdf("督办反馈报告"));
    assert_eq!(not_addressed.get(&format!("/api/v1/notices/{id}/files/{}", file["id"])).status(), 404);

    assert_eq!(step(&manager, recipient, json!({"step": "close"})).status(), 403, "a unit does not close its own notice");
    assert_eq!(code_of(step(&office, recipient, json!({"step": "return"}))).1, "reason_required");
    let returned: Value = step(&office, recipient, json!({"step": "return", "text": "缺少整改台账，请补充。"})).json().unwrap();
    assert_eq!(recipient_of(&returned, "县司法局")["state"], "returned");
    assert!(
        manager.get_json("/api/v1/notifications")["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "notice_decided" && n["message"].as_str().unwrap().contains("缺少整改台账")),
        "the unit is told why"
    );
    let again: Value =
        manager.post(&format!("/api/v1/notice-recipients/{recipient}/reply"), &json!({"text": "已补充整改台账。"})).json().unwrap();
    assert_eq!(recipient_of(&again, "县司法局")["state"], "replied");
    assert!(office.get_json("/api/v1/notifications")["items"].as_array().unwrap().iter().any(|n| n["kind"] == "notice_replied"));
    let closed: Value = step(&office, recipient, json!({"step": "close", "text": "同意销号"})).json().unwrap();
    assert_eq!(recipient_of(&closed, "县司法局")["state"], "closed");
    assert!(closed["closed_at"].is_null(), "the notice stays open while 县政务局 has not been closed");
    let kinds: Vec<&str> =
        recipient_of(&closed, "县司法局")["history"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["issued", "acknowledge", "request_extension", "grant_extension", "reply", "return", "reply", "close"]);

    // The other unit: acknowledged, extension refused (with a reason), replied, closed: the notice is closed.
    let government = recipient_of(&closed, "县政务局")["id"].as_i64().unwrap();
    assert_eq!(step(&other_unit, government, json!({"step": "acknowledge"})).status(), 200);
    assert_eq!(step(&other_unit, government, json!({"step": "request_extension", "text": "人手不足", "until": until})).status(), 200);
    assert_eq!(code_of(step(&office, government, json!({"step": "refuse_extension"}))).1, "reason_required");
    let refused: Value = step(&office, government, json!({"step": "refuse_extension", "text": "时限不能延"})).json().unwrap();
    assert_eq!(recipient_of(&refused, "县政务局")["reply_due"], json!(due), "a refusal keeps the date");
    assert_eq!(other_unit.post(&format!("/api/v1/notice-recipients/{government}/reply"), &json!({"text": "已办结"})).status(), 200);
    let done: Value = step(&office, government, json!({"step": "close"})).json().unwrap();
    assert!(done["closed_at"].is_string());
    assert_eq!(office.get_json("/api/v1/notices?open=false")["items"][0]["id"], id);

    // Every step is audited.
    let audit: Value = office.get_json("/api/v1/audit?limit=200");
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in [
        "notice.issue",
        "notice.acknowledge",
        "notice.request_extension",
        "notice.grant_extension",
        "notice.refuse_extension",
        "notice.reply",
        "notice.return",
        "notice.close",
        "notice.file_download",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }

    // Numbers have no gaps: a refused notice takes none.
    let refused = office.post("/api/v1/notices", &json!({"campaign": "luoping", "level": "urgent", "title": " ", "requirement": "x", "reply_working_days": 3, "assignment_ids": [justice_assignment]}));
    assert_eq!(refused.status(), 422);
    assert_eq!(issue(&office, &[justice_assignment])["doc_number"], format!("罗法治办督〔{year}〕2号"));
}

#[test]
fn a_notice_on_every_late_assignment_of_a_filter_and_its_document() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let late = make_late(&office, "B012", "县司法局");
    let detail: Value = office.get_json(&format!("/api/v1/assignments/{late}"));
    let task = detail["task"]["id"].as_i64().unwrap();

    let nothing = office.post("/api/v1/notices", &json!({"campaign": "luoping", "level": "urgent", "title": "督办", "requirement": "x", "reply_working_days": 3, "late": {"task_id": task, "unit_id": 999999}}));
    assert_eq!(code_of(nothing), (422, "no_assignments".into()));
    // Multipart: the notice with an attachment.
    let notice_json = json!({"campaign": "luoping", "level": "urgent", "title": "关于逾期任务的督办通知", "requirement": "请立即办理。", "reply_working_days": 3, "late": {"task_id": task}}).to_string();
    let form = Form::new().text("notice", notice_json).part("file", Part::bytes(pdf("督办附件")).file_name("任务清单.pdf"));
    let response = office.request(reqwest::Method::POST, "/api/v1/notices").multipart(form).send().unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().unwrap_or_default());
    let notice: Value = response.json().unwrap();
    assert_eq!(notice["recipients"].as_array().unwrap().len(), 1, "only the late assignment of the task");
    assert_eq!(notice["recipients"][0]["assignment_id"], late);
    assert_eq!(notice["attachments"][0]["file_name"], "任务清单.pdf");

    // The document, in the official layout, as LibreOffice renders it.
    let response = office.get(&format!("/api/v1/notices/{}/document", notice["id"]));
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], duban::documents::DOCX);
    let dir = tempfile::tempdir().unwrap();
    let docx = dir.path().join("notice.docx");
    std::fs::write(&docx, response.bytes().unwrap()).unwrap();
    let output = Command::new("soffice")
        .args([
            "--headless",
            "--norestore",
            &format!("-env:UserInstallation=file://{}/profile", dir.path().display()),
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(dir.path())
        .arg(&docx)
        .output()
        .expect("running LibreOffice (apt-get install libreoffice-writer-nogui)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = Command::new("pdftotext")
        .args(["-layout"])
        .arg(dir.path().join("notice.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    // pdftotext spaces Chinese from digits: compare without whitespace.
    let text: String = String::from_utf8(text.stdout).unwrap().chars().filter(|c| !c.is_whitespace()).collect();
    let year = duban::clock::today().format("%Y").to_string();
    for expected in [
        "罗平县全面依法治县委员会办公室".to_owned(),
        format!("罗法治办督〔{year}〕1号"),
        "关于逾期任务的督办通知".to_owned(),
        "县司法局：".to_owned(),
        "请立即办理。".to_owned(),
        "督办等级：紧急（红色）".to_owned(),
        "任务清单.pdf".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} is not in the rendered notice:\n{text}");
    }
}

#[test]
fn urging_by_hand_is_counted_and_reaches_the_late_units() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let manager = server.login("sfj");
    let late = make_late(&office, "B012", "县司法局");
    let justice = manager.get_json("/api/v1/me")["unit"]["id"].as_i64().unwrap();
    assert_eq!(manager.post("/api/v1/urgings", &json!({"campaign": "luoping", "assignment_ids": [late]})).status(), 403);
    for times in 1..=3 {
        let urged: Value = office
            .post("/api/v1/urgings", &json!({"campaign": "luoping", "late": {"unit_id": justice}, "message": "请于本周内报送。"}))
            .json()
            .unwrap();
        let ours = urged["assignments"].as_array().unwrap().iter().find(|a| a["assignment_id"] == late).unwrap();
        assert_eq!(ours["urged"], times);
    }
    assert_eq!(office.get_json(&format!("/api/v1/assignments/{late}"))["urged"], 3, "催办 3 次");
    let inbox: Value = manager.get_json("/api/v1/notifications");
    let urgings: Vec<&Value> = inbox["items"].as_array().unwrap().iter().filter(|n| n["kind"] == "notice_urged").collect();
    assert!(urgings.len() >= 3);
    assert!(urgings[0]["message"].as_str().unwrap().contains("第 3 次"), "{}", urgings[0]["message"]);
    assert_eq!(
        code_of(office.post("/api/v1/urgings", &json!({"campaign": "luoping", "assignment_ids": [i64::MAX]}))).1,
        "unknown_assignment"
    );
}

#[test]
fn reminders_and_escalations_go_out_once_each_by_the_rules() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let late = make_late(&office, "B012", "县司法局");
    let justice = server.login("sfj").get_json("/api/v1/me")["unit"]["id"].as_i64().unwrap();
    let notice = issue(&office, &[late]);
    let recipient = notice["recipients"][0]["id"].as_i64().unwrap();
    let operator = duban::authz::Operator::for_tests();
    let today = duban::clock::today();
    let calendar = duban::calendar::load(&mut db.conn()).unwrap();

    // The rules are the lead office's; bad rules are refused.
    let mut rules: Value = office.get_json("/api/v1/reminder-rules");
    assert_eq!(rules["key"]["escalate_to_manager_after"], 1);
    rules["key"]["overdue_every"] = json!(0);
    assert_eq!(office.request(reqwest::Method::PUT, "/api/v1/reminder-rules").json(&rules).send().unwrap().status(), 422);
    assert_eq!(server.login("sfj").request(reqwest::Method::PUT, "/api/v1/reminder-rules").json(&rules).send().unwrap().status(), 403);

    // Today: the overdue assignment is reminded of, once.
    let (deadlines, _) = duban::reminders::evaluate(&mut db.conn(), &operator, today).unwrap();
    assert!(deadlines >= 1);
    assert_eq!(duban::reminders::evaluate(&mut db.conn(), &operator, today).unwrap(), (0, 0), "nothing twice on one day");

    // One working day later the unacknowledged notice goes to the unit's manager …
    let next = calendar.add_working_days(today, 1);
    let (_, notices) = duban::reminders::evaluate(&mut db.conn(), &operator, next).unwrap();
    assert_eq!(notices, 1);
    assert_eq!(duban::reminders::evaluate(&mut db.conn(), &operator, next).unwrap().1, 0);
    let manager_inbox: Value = server.login("sfj").get_json("/api/v1/notifications");
    assert!(manager_inbox["items"].as_array().unwrap().iter().any(|n| n["kind"] == "notice_escalated"));
    assert_eq!(
        count(
            &mut db.conn(),
            "SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.kind = 'notice_escalated' AND u.username = 'sfj-staff'"
        ),
        0,
        "to the manager only"
    );

    // … after three to the county leader in charge, whom the lead office keeps.
    let leader = json!({"name": "张副县长", "title": "副县长", "email": "zhang@luoping.gov.cn", "phone": "0874-0000000"});
    assert_eq!(
        server
            .login("sfj")
            .request(reqwest::Method::PUT, &format!("/api/v1/units/{justice}/leader"))
            .json(&leader)
            .send()
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        office.request(reqwest::Method::PUT, &format!("/api/v1/units/{justice}/leader")).json(&leader).send().unwrap().status(),
        200
    );
    assert_eq!(server.login("sfj").get_json(&format!("/api/v1/units/{justice}/leader"))["name"], "张副县长");
    assert_eq!(server.login("sfj-staff").get(&format!("/api/v1/units/{justice}/leader")).status(), 403, "contacts are personal data");
    // (That day the reply date is three working days away: a reminder too.)
    let third = calendar.add_working_days(today, 3);
    assert_eq!(duban::reminders::evaluate(&mut db.conn(), &operator, third).unwrap().1, 2);
    assert_eq!(count(&mut db.conn(), "SELECT count(*) FROM outbox WHERE channel = 'email' AND destination = 'zhang@luoping.gov.cn'"), 1);
    let history: Value = office.get_json(&format!("/api/v1/notices/{}", notice["id"]));
    let kinds: Vec<&str> = history["recipients"][0]["history"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"escalated_to_manager") && kinds.contains(&"escalated_to_leader"), "{kinds:?}");
    assert!(office.get_json("/api/v1/notifications")["items"].as_array().unwrap().iter().any(|n| n["kind"] == "notice_escalated"));

    // Past the reply date it is urged, and the urging is counted; evaluated
    // by two threads at once it still goes out once.
    let reply_due: NaiveDate = serde_json::from_value(history["recipients"][0]["reply_due"].clone()).unwrap();
    let overdue = calendar.add_working_days(reply_due, 1);
    let evaluations: Vec<(usize, usize)> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| duban::reminders::evaluate(&mut db.conn(), &duban::authz::Operator::for_tests(), overdue).unwrap()))
            .collect();
        threads.into_iter().map(|thread| thread.join().unwrap()).collect()
    });
    assert_eq!(evaluations.iter().map(|(_, notices)| notices).sum::<usize>(), 1, "{evaluations:?}");
    assert_eq!(office.get_json(&format!("/api/v1/notices/{}", notice["id"]))["recipients"][0]["urged"], 1);
    let _ = recipient;
}

#[test]
fn mail_reaches_a_real_smtp_server_with_its_chinese_intact() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let manager = server.login("sfj");
    let late = make_late(&office, "B012", "县司法局");

    // Contacts are the user's own, their manager's and admins' to see.
    assert_eq!(
        code_of(
            manager.request(reqwest::Method::PUT, "/api/v1/me/channels").json(&json!({"email_kinds": ["notice_issued"]})).send().unwrap()
        )
        .1,
        "email_required"
    );
    let settings = json!({"email": "sfj@luoping.gov.cn", "phone": "13800000000", "email_kinds": ["notice_issued", "notice_urged"]});
    assert_eq!(manager.request(reqwest::Method::PUT, "/api/v1/me/channels").json(&settings).send().unwrap().status(), 200);
    let me: Value = manager.get_json("/api/v1/me");
    let users: Value = server.login("admin").get_json("/api/v1/users");
    let sfj = users.as_array().unwrap().iter().find(|u| u["username"] == "sfj").unwrap()["id"].as_i64().unwrap();
    assert_eq!(server.login("admin").get_json(&format!("/api/v1/users/{sfj}/channels"))["email"], "sfj@luoping.gov.cn");
    assert_eq!(office.get(&format!("/api/v1/users/{sfj}/channels")).status(), 404);
    assert_eq!(server.login("zwj").get(&format!("/api/v1/users/{sfj}/channels")).status(), 404);
    let _ = me;

    let smtp = SmtpServer::start();
    let notice = issue(&office, &[late]);
    let doc_number = notice["doc_number"].as_str().unwrap();
    let config = |port: u16, tls: SmtpTls, ca_file: Option<std::path::PathBuf>| Smtp {
        host: "127.0.0.1".into(),
        port,
        tls,
        username: Some("duban".into()),
        password: Some("test-password".into()),
        from: "duban@luoping.gov.cn".into(),
        ca_file,
    };
    let dispatcher = duban::dispatch::Dispatcher::new(db.pool(), messaging(Some(config(smtp.port, SmtpTls::None, None))));
    assert_eq!(dispatcher.round().unwrap(), 1);
    let mail = &smtp.received()[0];
    assert_eq!(mail["to"], json!(["sfj@luoping.gov.cn"]));
    assert_eq!(mail["from"], "duban@luoping.gov.cn");
    assert_eq!(mail["user"], "duban", "signed in with the configured account");
    assert_eq!(mail["subject"], format!("【督办】{doc_number} 关于加快落实行政执法“三项制度”的督办通知"));
    assert!(mail["body"].as_str().unwrap().contains("重点督办单"), "{}", mail["body"]);
    assert!(mail["body"].as_str().unwrap().contains("请签收"));
    assert!(mail["message_id"].as_str().unwrap().contains("notice-"), "the idempotency key: {}", mail["message_id"]);
    assert_eq!(count(&mut db.conn(), "SELECT count(*) FROM outbox WHERE channel = 'email' AND status = 'delivered'"), 1);
    assert_eq!(dispatcher.round().unwrap(), 0, "delivered once");

    // STARTTLS to a server whose certificate an internal CA issued: refused
    // without the CA, delivered with it.
    let certificates = Certificates::make();
    let secure = SmtpServer::start_with_tls(&certificates.path("server.pem"), &certificates.path("server.key"));
    office.post("/api/v1/urgings", &json!({"campaign": "luoping", "assignment_ids": [late]}));
    let untrusted = duban::dispatch::Dispatcher::new(db.pool(), messaging(Some(config(secure.port, SmtpTls::StartTls, None))));
    assert_eq!(untrusted.round().unwrap(), 1);
    assert!(secure.received().is_empty());
    let error = count(&mut db.conn(), "SELECT count(*) FROM outbox_attempts WHERE error ILIKE '%certificate%' OR error ILIKE '%issuer%'");
    assert_eq!(error, 1, "the failed attempt says why");
    diesel::RunQueryDsl::execute(diesel::sql_query("UPDATE outbox SET next_attempt_at = now() WHERE status = 'pending'"), &mut db.conn())
        .unwrap();
    let trusted = duban::dispatch::Dispatcher::new(
        db.pool(),
        messaging(Some(config(secure.port, SmtpTls::StartTls, Some(certificates.path("ca.pem"))))),
    );
    assert_eq!(trusted.round().unwrap(), 1);
    let mail = &secure.received()[0];
    assert_eq!(mail["tls"], true);
    assert_eq!(mail["subject"], "【催办】任务 B012");
    assert!(mail["body"].as_str().unwrap().contains("依法治县办催办任务 B012（第 1 次）"));
}

fn hmac_hex(secret: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

#[test]
fn webhooks_and_robots_get_signed_payloads_and_failed_deliveries_are_retried() {
    let db = TestDb::with_demo();
    let receiver = Receiver::start();
    let guarded = TestServer::start(&db);
    let refused = guarded.login("admin").post("/api/v1/endpoints", &json!({"channel": "webhook", "name": "本机", "url": format!("{}/hook", receiver.base), "secret": "a-webhook-secret-of-32-characters", "events": ["notice_issued"]}));
    assert_eq!(code_of(refused), (422, "refused_url".into()), "loopback is refused unless configured (SSRF)");
    drop(guarded);

    let server = TestServer::start_with_options(&db, ServerOptions { outbound_allow_loopback: true, ..ServerOptions::default() });
    let admin = server.login("admin");
    let office = server.login("yfzxb");
    assert_eq!(
        office
            .post("/api/v1/endpoints", &json!({"channel": "wecom", "name": "x", "url": "http://10.0.0.1/", "events": ["notice_issued"]}))
            .status(),
        403
    );
    let secret = "a-webhook-secret-of-32-characters";
    let register = |body: Value| -> i64 {
        let response = admin.post("/api/v1/endpoints", &body);
        assert_eq!(response.status(), 201, "{}", response.text().unwrap_or_default());
        response.json::<Value>().unwrap()["id"].as_i64().unwrap()
    };
    let hook = register(
        json!({"channel": "webhook", "name": "市级督办平台", "url": format!("{}/hook", receiver.base), "secret": secret, "events": ["notice_issued", "notice_replied"]}),
    );
    register(
        json!({"channel": "dingtalk", "name": "依法治县办钉钉群", "url": format!("{}/robot/send?access_token=abc", receiver.base), "secret": "SECdingtalk", "events": ["notice_issued"]}),
    );
    register(
        json!({"channel": "wecom", "name": "企业微信群", "url": format!("{}/cgi-bin/webhook/send?key=k1", receiver.base), "events": ["notice_issued"]}),
    );
    assert!(admin.get_json("/api/v1/endpoints").to_string().find(secret).is_none(), "secrets are never shown");

    receiver.answer_with("/hook", &[500, 500]);
    let late = make_late(&office, "B012", "县司法局");
    let notice = issue(&office, &[late]);
    let doc_number = notice["doc_number"].as_str().unwrap().to_owned();
    let dispatcher = duban::dispatch::Dispatcher::new(db.pool(), messaging(None));
    assert_eq!(dispatcher.round().unwrap(), 3);
    let received = receiver.wait_for(3);

    // DingTalk: signed in the URL as DingTalk specifies, a markdown message.
    let ding = received.iter().find(|r| r.target.starts_with("/robot/send")).unwrap();
    let timestamp = ding.query("timestamp").unwrap();
    let expected = base64::engine::general_purpose::STANDARD
        .encode(hex::decode(hmac_hex(b"SECdingtalk", format!("{timestamp}\nSECdingtalk").as_bytes())).unwrap());
    let sign = ding.query("sign").unwrap().replace("%2B", "+").replace("%2F", "/").replace("%3D", "=");
    assert_eq!(sign, expected);
    assert_eq!(ding.query("access_token").as_deref(), Some("abc"));
    let body = ding.json();
    assert_eq!(body["msgtype"], "markdown");
    assert!(body["markdown"]["title"].as_str().unwrap().contains(&doc_number));
    assert!(body["markdown"]["text"].as_str().unwrap().contains("请签收"));
    // WeCom: a markdown message.
    let wecom = received.iter().find(|r| r.target.starts_with("/cgi-bin/webhook/send")).unwrap().json();
    assert_eq!(wecom["msgtype"], "markdown");
    assert!(wecom["markdown"]["content"].as_str().unwrap().contains(&doc_number));

    // The webhook failed: retried with back-off, then delivered.
    let first = received.iter().find(|r| r.target == "/hook").unwrap().clone();
    let verify = |request: &crate::support::Received| {
        let timestamp = request.header("X-Duban-Timestamp").unwrap();
        let mut signed = format!("{timestamp}.").into_bytes();
        signed.extend_from_slice(&request.body);
        assert_eq!(request.header("X-Duban-Signature").unwrap(), format!("sha256={}", hmac_hex(secret.as_bytes(), &signed)));
        let event = request.json();
        assert_eq!(event["id"], request.header("X-Duban-Delivery").unwrap());
        assert_eq!(request.method, "POST");
        assert_eq!(event["kind"], "notice_issued");
        assert_eq!(request.header("X-Duban-Event"), Some("notice_issued"));
        assert_eq!(event["notice_id"], notice["id"]);
        assert_eq!(event["unit"]["name"], "县司法局");
    };
    verify(&first);
    let next_attempt =
        count(&mut db.conn(), "SELECT extract(epoch FROM next_attempt_at - now())::bigint FROM outbox WHERE channel = 'webhook'");
    assert!((20..=40).contains(&next_attempt), "retried in about 30 s, not {next_attempt}");
    for _ in 0..2 {
        // Time passes.
        diesel::RunQueryDsl::execute(
            diesel::sql_query("UPDATE outbox SET next_attempt_at = now() WHERE status = 'pending'"),
            &mut db.conn(),
        )
        .unwrap();
        assert_eq!(dispatcher.round().unwrap(), 1);
    }
    let hooks: Vec<_> = receiver.received().into_iter().filter(|r| r.target == "/hook").collect();
    assert_eq!(hooks.len(), 3);
    for request in &hooks {
        verify(request);
        assert_eq!(request.header("X-Duban-Delivery"), first.header("X-Duban-Delivery"), "one idempotency key for every attempt");
    }
    let log: Value = admin.get_json(&format!("/api/v1/deliveries?endpoint_id={hook}"));
    let delivery = &log["items"][0];
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["attempts"], 3);
    let codes: Vec<i64> = delivery["log"].as_array().unwrap().iter().map(|a| a["status_code"].as_i64().unwrap()).collect();
    assert_eq!(codes, [500, 500, 200]);
    assert!(delivery["log"][0]["latency_ms"].is_i64());

    // Redelivered by hand: the same key again.
    assert_eq!(admin.post(&format!("/api/v1/deliveries/{}/redeliver", delivery["id"]), &json!({})).status(), 202);
    assert_eq!(dispatcher.round().unwrap(), 1);
    let hooks: Vec<_> = receiver.received().into_iter().filter(|r| r.target == "/hook").collect();
    assert_eq!(hooks.len(), 4);
    assert_eq!(hooks[3].header("X-Duban-Delivery"), first.header("X-Duban-Delivery"));
}

#[test]
fn a_server_killed_between_commit_and_delivery_delivers_after_restart() {
    let db = TestDb::with_demo();
    let receiver = Receiver::start();
    let api = TestServer::start_with_options(&db, ServerOptions { outbound_allow_loopback: true, ..ServerOptions::default() });
    let admin = api.login("admin");
    let office = api.login("yfzxb");
    let created = admin.post("/api/v1/endpoints", &json!({"channel": "webhook", "name": "portal", "url": format!("{}/hook", receiver.base), "secret": "a-webhook-secret-of-32-characters", "events": ["notice_issued"]}));
    assert_eq!(created.status(), 201);
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", db.url()),
        ("DUBAN_OUTBOUND_ALLOW_LOOPBACK", "true"),
        ("DUBAN_DELIVERY_LEASE_S", "2"),
        ("DUBAN_SEED_ON_FIRST_START", "false"),
    ];
    // The receiver holds the first delivery: duban is killed while it waits.
    receiver.delay(Duration::from_secs(120));
    let mut first = Server::start(data.path(), &env);
    let late = make_late(&office, "B012", "县司法局");
    issue(&office, &[late]);
    receiver.wait_for(1);
    first.signal(libc::SIGKILL);
    first.wait();
    assert_eq!(count(&mut db.conn(), "SELECT count(*) FROM outbox WHERE status = 'pending'"), 1, "committed, not yet delivered");
    // A notice issued while no duban delivers waits in the outbox.
    issue(&office, &[late]);
    receiver.delay(Duration::ZERO);

    let _second = Server::start(data.path(), &env);
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&mut db.conn(), "SELECT count(*) FROM outbox WHERE status = 'delivered'") < 2 {
        assert!(Instant::now() < deadline, "the restarted server did not deliver");
        std::thread::sleep(Duration::from_millis(200));
    }
    let keys: Vec<String> = receiver.received().iter().map(|r| r.header("X-Duban-Delivery").unwrap().to_owned()).collect();
    let mut distinct = keys.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 2, "both messages arrived: {keys:?}");
    assert_eq!(keys.len(), 3, "the one cut off arrived again, with its key for the receiver to drop: {keys:?}");
}

#[test]
fn two_instances_on_one_database_send_each_reminder_exactly_once() {
    let db = TestDb::with_demo();
    let api = TestServer::start(&db);
    let office = api.login("yfzxb");
    for (task, unit) in [("B012", "县司法局"), ("B015", "县政务局"), ("B013", "县市场监管局")] {
        make_late(&office, task, unit);
    }
    let data = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let env = [("DATABASE_URL", db.url()), ("DUBAN_REMINDER_INTERVAL_S", "1"), ("DUBAN_SEED_ON_FIRST_START", "false")];
    let servers: Vec<Server> = data.iter().map(|dir| Server::start(dir.path(), &env)).collect();
    // Both evaluate every second; wait until several rounds found nothing new.
    let mut last = -1;
    let mut stable_since = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(60);
    while stable_since.elapsed() < Duration::from_secs(4) {
        assert!(Instant::now() < deadline);
        let sent = count(&mut db.conn(), "SELECT count(*) FROM reminders_sent");
        if sent != last {
            last = sent;
            stable_since = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(last >= 3, "{last}");
    assert_eq!(
        count(
            &mut db.conn(),
            "SELECT count(*) FROM (SELECT 1 FROM notifications WHERE kind IN ('due_soon', 'overdue') GROUP BY user_id, assignment_id, message HAVING count(*) > 1) twice"
        ),
        0,
        "no reminder twice"
    );
    assert!(count(&mut db.conn(), "SELECT count(*) FROM notifications WHERE kind = 'overdue'") >= 3);
    drop(servers);
}
