//! Scores: three units worked out by hand from a record written here, the
//! veto, ties, scores as of a past day, and the scheme's edits.

use chrono::{Days, NaiveDate};
use diesel::PgConnection;
use diesel::RunQueryDsl;
use duban_tests::{TestDb, TestServer};
use serde_json::{Value, json};

use crate::support::count;

fn run(conn: &mut PgConnection, sql: &str) {
    diesel::sql_query(sql).execute(conn).unwrap_or_else(|error| panic!("{sql}: {error}"));
}

fn days_ago(days: u64) -> NaiveDate {
    duban::clock::today() - Days::new(days)
}

/// Noon in China on the day `days` ago, as SQL.
fn noon(days: u64) -> String {
    format!("'{} 12:00:00+08'", days_ago(days))
}

/// The id of `unit`'s `nth` assignment (from 0) in the order of its tasks.
fn assignment(conn: &mut PgConnection, unit: &str, nth: usize) -> i64 {
    count(
        conn,
        &format!(
            "SELECT a.id FROM assignments a JOIN units u ON u.id = a.unit_id
             WHERE u.name = '{unit}' ORDER BY a.task_id, a.id LIMIT 1 OFFSET {nth}"
        ),
    )
}

/// Records a step on an assignment as the workflow would have, `days` ago.
fn step(conn: &mut PgConnection, assignment: i64, action: &str, from: &str, to: &str, days: u64) {
    run(
        conn,
        &format!(
            "INSERT INTO decisions (assignment_id, round, action, from_status, to_status, reason, at)
             VALUES ({assignment}, 1, '{action}', '{from}', '{to}', {}, {})",
            if action == "return" { "'补充盖章件'" } else { "NULL" },
            noon(days)
        ),
    );
    run(conn, &format!("UPDATE assignments SET status = '{to}' WHERE id = {assignment}"));
}

fn unit<'a>(scores: &'a Value, name: &str) -> &'a Value {
    scores["units"].as_array().unwrap().iter().find(|u| u["unit"]["name"] == name).unwrap_or_else(|| panic!("{name} in {scores}"))
}

fn score_of(scores: &Value, name: &str) -> f64 {
    unit(scores, name)["score"].as_f64().unwrap()
}

fn rounded(score: f64) -> f64 {
    (score * 10.0).round() / 10.0
}

#[test]
fn scores_match_a_hand_count_for_three_units_and_the_veto_zeroes_them() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    // Start from work given out sixty days ago with no due dates, so that
    // only the dates set here count.
    run(&mut conn, "UPDATE assignments SET due_date = NULL, created_at = now() - interval '60 days'");

    // 县司法局: its first work approved on the first pass and submitted on
    // time; its second returned once, then approved (first submission on
    // time); its third submitted five days after its due date.
    let (b010, b012, b047) =
        (assignment(&mut conn, "县司法局", 0), assignment(&mut conn, "县司法局", 1), assignment(&mut conn, "县司法局", 2));
    run(&mut conn, &format!("UPDATE assignments SET due_date = '{}' WHERE id = {b010}", days_ago(5)));
    step(&mut conn, b010, "submit", "in_progress", "submitted", 10);
    step(&mut conn, b010, "approve", "submitted", "approved", 9);
    run(&mut conn, &format!("UPDATE assignments SET due_date = '{}' WHERE id = {b012}", days_ago(16)));
    step(&mut conn, b012, "submit", "in_progress", "submitted", 20);
    step(&mut conn, b012, "return", "submitted", "returned", 18);
    step(&mut conn, b012, "submit", "returned", "submitted", 15);
    step(&mut conn, b012, "approve", "submitted", "approved", 14);
    run(&mut conn, &format!("UPDATE assignments SET due_date = '{}' WHERE id = {b047}", days_ago(30)));
    step(&mut conn, b047, "submit", "in_progress", "submitted", 25);
    let justice_total = count(&mut conn, "SELECT count(*) FROM assignments a JOIN units u ON u.id = a.unit_id WHERE u.name = '县司法局'");
    // The rest of that first task's work approved too, so the task is.
    let others = count(
        &mut conn,
        &format!("SELECT count(*) FROM assignments WHERE task_id = (SELECT task_id FROM assignments WHERE id = {b010}) AND id <> {b010}"),
    );
    for nth in 0..others {
        let other = count(
            &mut conn,
            &format!(
                "SELECT id FROM assignments WHERE task_id = (SELECT task_id FROM assignments WHERE id = {b010}) AND id <> {b010}
                 ORDER BY id LIMIT 1 OFFSET {nth}"
            ),
        );
        step(&mut conn, other, "approve", "submitted", "approved", 9);
    }

    // Every township has responsible work on one task; 罗雄街道's is
    // approved on the first pass, on time, the others' not begun.
    run(
        &mut conn,
        "INSERT INTO assignments (task_id, unit_id, role, status, created_at)
         SELECT (SELECT id FROM tasks WHERE code = 'B005'), id, 'responsible', 'not_started', now() - interval '60 days'
         FROM units WHERE kind = 'township'",
    );
    let street = assignment(&mut conn, "罗雄街道", 0);
    run(&mut conn, &format!("UPDATE assignments SET due_date = '{}' WHERE id = {street}", days_ago(2)));
    step(&mut conn, street, "submit", "in_progress", "submitted", 3);
    step(&mut conn, street, "approve", "submitted", "approved", 3);
    let street_total = count(&mut conn, "SELECT count(*) FROM assignments a JOIN units u ON u.id = a.unit_id WHERE u.name = '罗雄街道'");

    // Another department: one assignment past its due date and never submitted.
    let department = count(
        &mut conn,
        "SELECT min(u.id) FROM units u JOIN assignments a ON a.unit_id = u.id
         WHERE u.kind = 'government_department' AND u.name <> '县司法局'",
    );
    let late = count(&mut conn, &format!("SELECT min(id) FROM assignments WHERE unit_id = {department}"));
    run(&mut conn, &format!("UPDATE assignments SET due_date = '{}' WHERE id = {late}", days_ago(4)));
    let department_total = count(&mut conn, &format!("SELECT count(*) FROM assignments WHERE unit_id = {department}"));

    let server = TestServer::start(&db);
    let inspector = server.login("inspector");
    let scores: Value = inspector.get_json("/api/v1/campaigns/luoping/scores");

    // By hand, with the default weights (completion 40, on time 30, first
    // pass 20, notices 10; a rate with nothing to count drops out).
    let justice = unit(&scores, "县司法局");
    assert_eq!(justice["completion"]["met"], 2);
    assert_eq!(justice["completion"]["of"], justice_total);
    assert_eq!((justice["on_time"]["met"].as_i64(), justice["on_time"]["of"].as_i64()), (Some(2), Some(3)));
    assert_eq!((justice["first_pass"]["met"].as_i64(), justice["first_pass"]["of"].as_i64()), (Some(1), Some(2)));
    assert_eq!(justice["notices"]["of"], 0);
    let by_hand = (40.0 * 2.0 / justice_total as f64 + 30.0 * 2.0 / 3.0 + 20.0 * 0.5) / 90.0 * 100.0;
    assert_eq!(score_of(&scores, "县司法局"), rounded(by_hand), "{justice}");

    let by_hand = (40.0 / street_total as f64 + 30.0 + 20.0) / 90.0 * 100.0;
    assert_eq!(score_of(&scores, "罗雄街道"), rounded(by_hand));

    // Nothing approved: completion 0, on time 0 of 1, no first pass.
    let department = scores["units"].as_array().unwrap().iter().find(|u| u["unit"]["id"] == department).unwrap();
    assert_eq!(department["completion"]["of"], department_total);
    assert_eq!((department["on_time"]["met"].as_i64(), department["on_time"]["of"].as_i64()), (Some(0), Some(1)));
    assert_eq!(department["score"], 0.0);

    // Each figure's inputs can be read back.
    let justice_id = justice["unit"]["id"].as_i64().unwrap();
    let detail: Value = inspector.get_json(&format!("/api/v1/campaigns/luoping/scores/units/{justice_id}"));
    let counted: Vec<(i64, Value, Value)> = detail["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a.get("on_time").is_some())
        .map(|a| (a["assignment_id"].as_i64().unwrap(), a["on_time"].clone(), a.get("first_pass").cloned().unwrap_or(Value::Null)))
        .collect();
    assert_eq!(counted, [(b010, json!(true), json!(true)), (b012, json!(true), json!(false)), (b047, json!(false), Value::Null)]);

    // Townships with the same score share a rank, the next rank skipped.
    let townships: Vec<&Value> = scores["units"].as_array().unwrap().iter().filter(|u| u["kind"] == "township").collect();
    assert_eq!(townships[0]["unit"]["name"], "罗雄街道");
    assert_eq!(townships[0]["rank"], 1);
    assert!(townships[1..].iter().all(|u| u["rank"] == 2 && u["score"] == 0.0), "{townships:?}");

    // A confirmed occurrence of a negative item in 县司法局 zeroes its score
    // and the campaign's (the default scheme vetoes both) …
    // The campaign's score: each indicator's points times its share of
    // approved basic tasks, plus the quantified points earned.
    let earned: f64 = scores["indicators"].as_array().unwrap().iter().map(|i| i["earned"].as_f64().unwrap()).sum::<f64>()
        + scores["quantified_earned"].as_f64().unwrap();
    assert!(scores["score"].as_f64().unwrap() > 0.0, "{}", scores["indicators"]);
    assert_eq!(scores["score"].as_f64().unwrap(), rounded(earned));
    assert_eq!(scores["max_score"], 100.0, "nine indicators of 10 points and 10 for the quantified list");
    run(
        &mut conn,
        &format!(
            "INSERT INTO negative_reports (task_id, unit_id, period, occurred, occurred_on, description, confirmed_at)
             SELECT t.id, {justice_id}, '{}', true, CURRENT_DATE, '行政复议决定被撤销', now() FROM tasks t WHERE t.code = 'N1'",
            duban::clock::today().format("%Y")
        ),
    );
    let vetoed: Value = inspector.get_json("/api/v1/campaigns/luoping/scores");
    assert_eq!(score_of(&vetoed, "县司法局"), 0.0);
    assert_eq!(unit(&vetoed, "县司法局")["vetoed"], true);
    assert_eq!(vetoed["score"], 0.0);
    assert_eq!(vetoed["vetoed"], true);
    // … but not yesterday's, before it was confirmed, nor before the work.
    let yesterday: Value = inspector.get_json(&format!("/api/v1/campaigns/luoping/scores?as_of={}", days_ago(1)));
    assert_eq!(score_of(&yesterday, "县司法局"), rounded(by_hand_justice(justice_total)));
    assert_eq!(yesterday["vetoed"], false);
    let before: Value = inspector.get_json(&format!("/api/v1/campaigns/luoping/scores?as_of={}", days_ago(40)));
    assert_eq!(unit(&before, "县司法局")["completion"]["met"], 0);

    // The lead office can limit the veto to the campaign; the unit's score returns.
    let office = server.login("yfzxb");
    let mut scheme: Value = office.get_json("/api/v1/campaigns/luoping/scoring-scheme");
    scheme["veto"] = json!("campaign");
    assert_eq!(office.put("/api/v1/campaigns/luoping/scoring-scheme", &scheme).status(), 200);
    let campaign_only: Value = inspector.get_json("/api/v1/campaigns/luoping/scores");
    assert_eq!(score_of(&campaign_only, "县司法局"), rounded(by_hand_justice(justice_total)));
    assert_eq!(campaign_only["score"], 0.0);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM audit_log WHERE action = 'scoring_scheme.update'"), 1);

    // Bad schemes and days to come are refused with a reason.
    scheme["unit_weights"]["completion"] = json!(-1);
    let refused = office.put("/api/v1/campaigns/luoping/scoring-scheme", &scheme);
    assert_eq!(refused.status(), 422);
    let tomorrow = duban::clock::today() + Days::new(1);
    assert_eq!(inspector.get(&format!("/api/v1/campaigns/luoping/scores?as_of={tomorrow}")).status(), 400);
    assert_eq!(inspector.put("/api/v1/campaigns/luoping/scoring-scheme", &scheme).status(), 403);
}

fn by_hand_justice(total: i64) -> f64 {
    (40.0 * 2.0 / total as f64 + 30.0 * 2.0 / 3.0 + 20.0 * 0.5) / 90.0 * 100.0
}
