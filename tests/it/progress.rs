//! Quantified targets, the negative list and its veto, deadlines in
//! working days, the calendar, and deadline notices.

use chrono::NaiveDate;
use duban_tests::{Client, TestDb, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::evidence::lead_assignment;

fn task_id(client: &Client, code: &str) -> i64 {
    let tasks: Value = client.get_json(&format!("/api/v1/tasks?q={code}"));
    tasks["items"].as_array().unwrap().iter().find(|t| t["code"] == code).unwrap()["id"].as_i64().unwrap()
}

#[test]
fn measured_values_are_judged_against_their_targets() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let market = server.login("scjgj");
    // Q01: 企业开办实际办理时限不超过5个工作日 — led by 县市场监管局.
    let q01 = lead_assignment(&market, "Q01", "县市场监管局");
    let across_spring_festival = market.post(
        &format!("/api/v1/assignments/{q01}/measurements"),
        &json!({"target_position": 1, "period": "2026", "start_date": "2026-02-12", "end_date": "2026-02-26", "note": "跨春节办理"}),
    );
    assert_eq!(across_spring_festival.status(), 201, "{}", across_spring_festival.text().unwrap());
    let measured: Value = across_spring_festival.json().unwrap();
    assert_eq!(measured["value"], 5.0, "five working days: 13 and 14 February (调休), then 24 to 26 February");
    assert_eq!(measured["outcome"], "met");
    // Reported again for the period: replaced, now too slow.
    let slower: Value = market
        .post(
            &format!("/api/v1/assignments/{q01}/measurements"),
            &json!({"target_position": 1, "period": "2026", "start_date": "2026-02-12", "end_date": "2026-02-27"}),
        )
        .json()
        .unwrap();
    assert_eq!((slower["value"].as_f64().unwrap(), slower["outcome"].as_str().unwrap()), (6.0, "not_met"));
    let evaluation: Value = market.get_json(&format!("/api/v1/tasks/{}/evaluation?period=2026", task_id(&market, "Q01")));
    assert_eq!(evaluation[0]["measurements"].as_array().unwrap().len(), 1);
    assert_eq!(evaluation[0]["outcome"], "not_met");
    assert_eq!(evaluation[0]["unit"], "工作日");

    // Q02: a rate from numerator and denominator.
    let government = server.login("zwj");
    let q02 = lead_assignment(&government, "Q02", "县政务局");
    let rate: Value = government
        .post(
            &format!("/api/v1/assignments/{q02}/measurements"),
            &json!({"target_position": 1, "period": "2026", "numerator": 450, "denominator": 500}),
        )
        .json()
        .unwrap();
    assert_eq!((rate["value"].as_f64().unwrap(), rate["outcome"].as_str().unwrap()), (90.0, "met"));
    let wrong_way = government.post(
        &format!("/api/v1/assignments/{q02}/measurements"),
        &json!({"target_position": 1, "period": "2026", "start_date": "2026-01-01", "end_date": "2026-01-02"}),
    );
    assert_eq!(wrong_way.json::<Value>().unwrap()["code"], "invalid_measurement");
    let two_ways = government.post(
        &format!("/api/v1/assignments/{q02}/measurements"),
        &json!({"target_position": 1, "period": "2026", "value": 1, "numerator": 1, "denominator": 2}),
    );
    assert_eq!(two_ways.json::<Value>().unwrap()["code"], "one_way_of_measuring");
    let bad_period =
        government.post(&format!("/api/v1/assignments/{q02}/measurements"), &json!({"target_position": 1, "period": "今年", "value": 95}));
    assert_eq!(bad_period.json::<Value>().unwrap()["code"], "invalid_period");

    // Q22: compared with a reference figure the lead office enters.
    let justice = server.login("sfj");
    let q22 = lead_assignment(&justice, "Q22", "县司法局");
    let unknown: Value = justice
        .post(&format!("/api/v1/assignments/{q22}/measurements"), &json!({"target_position": 1, "period": "2026", "value": 9.5}))
        .json()
        .unwrap();
    assert_eq!(unknown["outcome"], "unknown", "no national average entered yet");
    let office = server.login("yfzxb");
    let q22_task = task_id(&office, "Q22");
    assert_eq!(
        office
            .request(reqwest::Method::PUT, &format!("/api/v1/tasks/{q22_task}/targets/1/reference"))
            .json(&json!({"period": "2026", "value": 10.2}))
            .send()
            .unwrap()
            .status(),
        204
    );
    let evaluation: Value = office.get_json(&format!("/api/v1/tasks/{q22_task}/evaluation?period=2026"));
    assert_eq!(evaluation[0]["threshold"], 10.2);
    assert_eq!(evaluation[0]["outcome"], "met");
    let fixed = office
        .request(reqwest::Method::PUT, &format!("/api/v1/tasks/{}/targets/1/reference", task_id(&office, "Q01")))
        .json(&json!({"period": "2026", "value": 3}))
        .send()
        .unwrap();
    assert_eq!(fixed.status(), StatusCode::CONFLICT);
}

#[test]
fn a_confirmed_negative_occurrence_vetoes_the_campaign() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let street = server.login("lxjd");
    for item in ["N1", "N2", "N3", "N4", "N5", "N6", "N7"] {
        let attested =
            street.post("/api/v1/campaigns/luoping/negative-reports", &json!({"item": item, "period": "2026", "occurred": false}));
        assert_eq!(attested.status(), 201, "{}", attested.text().unwrap());
    }
    let status: Value = street.get_json("/api/v1/campaigns/luoping/negative-status?period=2026");
    assert_eq!(status["vetoed"], false);
    assert_eq!(status["items"][0]["attested"], 1);
    let unreported = status["items"][0]["unreported"].as_array().unwrap();
    assert!(unreported.iter().all(|unit| unit["name"] != "罗雄街道"));
    assert!(unreported.iter().any(|unit| unit["name"] == "县司法局"));

    // Another unit reports an occurrence; until the lead office confirms it, nothing is vetoed.
    let justice = server.login("sfj");
    let incomplete = justice.post("/api/v1/campaigns/luoping/negative-reports", &json!({"item": "N2", "period": "2026", "occurred": true}));
    assert_eq!(incomplete.json::<Value>().unwrap()["code"], "occurrence_incomplete");
    let reported: Value = justice
        .post(
            "/api/v1/campaigns/luoping/negative-reports",
            &json!({"item": "n2", "period": "2026", "occurred": true, "occurred_on": "2026-08-14", "description": "某行政案件生效判决未按期履行"}),
        )
        .json()
        .unwrap();
    assert_eq!(reported["item"]["code"], "N2");
    let other_unit = justice
        .post("/api/v1/campaigns/luoping/negative-reports", &json!({"item": "N1", "period": "2026", "occurred": false, "unit_id": 1}));
    assert_eq!(other_unit.status(), StatusCode::FORBIDDEN, "a unit reports for itself only");
    assert_eq!(server.login("inspector").get_json("/api/v1/campaigns/luoping")["vetoed"], false);

    let office = server.login("yfzxb");
    assert_eq!(office.post(&format!("/api/v1/negative-reports/{}/confirm", reported["id"]), &json!(null)).status(), 200);
    // Vetoed wherever progress is shown.
    assert_eq!(server.login("inspector").get_json("/api/v1/campaigns/luoping")["vetoed"], true);
    assert_eq!(server.login("inspector").get_json("/api/v1/campaigns")[0]["vetoed"], true);
    let status: Value = office.get_json("/api/v1/campaigns/luoping/negative-status?period=2026");
    assert_eq!(status["vetoed"], true);
    assert_eq!(status["items"][1]["occurrences"][0]["confirmed"], true);
    let change = justice.post("/api/v1/campaigns/luoping/negative-reports", &json!({"item": "N2", "period": "2026", "occurred": false}));
    assert_eq!(change.json::<Value>().unwrap()["code"], "confirmed", "a confirmed occurrence cannot be taken back");
}

#[test]
fn deadlines_count_working_days_and_notices_go_out_once() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let admin = server.login("admin");
    let today = duban::clock::today();
    let calendar = duban::calendar::load(&mut db.conn()).unwrap();
    let in_two = calendar.add_working_days(today, 2);
    let in_six = calendar.add_working_days(today, 6);
    let yesterday = today.pred_opt().unwrap();
    let due = |code: &str, unit: &str, date: NaiveDate| {
        let assignment = crate::evidence::lead_assignment(&office, code, unit);
        let response = office
            .request(reqwest::Method::PATCH, &format!("/api/v1/assignments/{assignment}"))
            .header("If-Match", "*")
            .json(&json!({"due_date": date}))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        assignment
    };
    let soon = due("B012", "县司法局", in_two);
    let later = due("B013", "县市场监管局", in_six);
    let late = due("B015", "县政务局", yesterday);

    let within: Value = office.get_json("/api/v1/assignments?due_within_working_days=3");
    let ids: Vec<i64> = within["items"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect();
    assert!(ids.contains(&soon) && !ids.contains(&later) && !ids.contains(&late), "{ids:?}");
    let overdue: Value = office.get_json("/api/v1/assignments?overdue=true");
    assert_eq!(overdue["items"][0]["id"], late);
    assert_eq!(overdue["items"][0]["overdue"], true);

    let rule = duban_dto::api::ReminderRules::default().deadlines;
    let sweep =
        || duban::reminders::sweep_deadlines(&mut db.conn(), &duban::authz::Operator::for_tests(), &rule, &calendar, today).unwrap();
    let sent = sweep();
    assert!(sent >= 2, "{sent}");
    assert_eq!(sweep(), 0, "each reminder once");
    let justice: Value = server.login("sfj").get_json("/api/v1/notifications");
    assert!(justice["items"].as_array().unwrap().iter().any(|n| n["kind"] == "due_soon" && n["assignment_id"] == soon));
    let government: Value = server.login("zwj").get_json("/api/v1/notifications");
    assert!(government["items"].as_array().unwrap().iter().any(|n| n["kind"] == "overdue" && n["assignment_id"] == late));

    // Holidays entered by the administrator move what counts as "within 3
    // working days": with the next three working days declared holidays,
    // the assignment due on the sixth working day is due on the third.
    let next_three: Vec<NaiveDate> = (1..=3).map(|n| calendar.add_working_days(today, n)).collect();
    for day in &next_three {
        let response = admin
            .request(reqwest::Method::PUT, &format!("/api/v1/calendar/{day}"))
            .json(&json!({"is_workday": false, "note": "测试假日"}))
            .send()
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    let days: Value = office.get_json(&format!("/api/v1/calendar?from={today}&to={in_six}"));
    let overridden: Vec<&Value> = days.as_array().unwrap().iter().filter(|d| d["source"] == "override").collect();
    assert_eq!(overridden.len(), 3);
    assert!(overridden.iter().all(|d| d["is_workday"] == false && d["note"] == "测试假日"));
    let within: Value = office.get_json("/api/v1/assignments?due_within_working_days=3");
    let ids: Vec<i64> = within["items"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect();
    assert!(ids.contains(&later), "{ids:?}");
    assert_eq!(admin.delete(&format!("/api/v1/calendar/{}", next_three[0])).status(), 204);
    assert_eq!(admin.delete(&format!("/api/v1/calendar/{}", next_three[0])).status(), 404);
}
