//! The dashboard's figures, and the task list's filters that its items
//! link to.

use diesel::RunQueryDsl;
use duban_tests::{TestDb, TestServer};
use serde_json::Value;

fn total(client: &duban_tests::Client, query: &str) -> i64 {
    client.get_json(&format!("/api/v1/tasks?campaign=luoping&limit=1&{query}"))["total"].as_i64().unwrap()
}

#[test]
fn the_dashboard_counts_what_the_task_list_finds() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    // Some work in every state: B001 approved, B002 submitted, B003 overdue,
    // B004 due in three days, E01 returned.
    for sql in [
        "UPDATE assignments SET status = 'approved' WHERE task_id = (SELECT id FROM tasks WHERE code = 'B001')",
        "UPDATE assignments SET status = 'submitted' WHERE task_id = (SELECT id FROM tasks WHERE code = 'B002')",
        "UPDATE assignments SET due_date = CURRENT_DATE - 3 WHERE task_id = (SELECT id FROM tasks WHERE code = 'B003')",
        "UPDATE assignments SET due_date = CURRENT_DATE + 3, status = 'in_progress' WHERE task_id = (SELECT id FROM tasks WHERE code = 'B004')",
        "UPDATE assignments SET status = 'returned' WHERE task_id = (SELECT id FROM tasks WHERE code = 'E01')",
    ] {
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
    let ids: Vec<i64> = (1..=229).collect();
    duban::rollup::refresh(&mut conn, &ids).unwrap();

    let server = TestServer::start(&db);
    let inspector = server.login("inspector");
    let dashboard: Value = inspector.get_json("/api/v1/campaigns/luoping/dashboard");
    let total_progress = &dashboard["total"];
    assert_eq!(total_progress["tasks"], 229);
    assert_eq!(total_progress["approved"], 1);
    assert_eq!(total_progress["submitted"], 1);
    assert_eq!(total_progress["returned"], 1);
    assert_eq!(total_progress["overdue"], 1);
    let lists: Vec<(String, i64)> = dashboard["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["list"].as_str().unwrap().to_owned(), l["progress"]["tasks"].as_i64().unwrap()))
        .collect();
    assert_eq!(lists, [("basic".to_owned(), 155), ("quantified".to_owned(), 32), ("extended".to_owned(), 35), ("negative".to_owned(), 7)]);
    let first = &dashboard["indicators"][0];
    assert_eq!(first["code"], "一");
    assert_eq!(first["progress"]["approved"], 1);
    assert_eq!(first["children"][0]["progress"]["approved"], 1);
    assert_eq!(dashboard["negative"]["vetoed"], false);
    assert_eq!(dashboard["quantified"]["unknown"], 32);

    // Every figure links to a task list with the same count.
    for light in ["red", "yellow", "green"] {
        assert_eq!(total(&inspector, &format!("light={light}")), dashboard["total"]["lights"][light].as_i64().unwrap(), "{light}");
    }
    assert_eq!(
        dashboard["total"]["lights"]["red"].as_i64().unwrap()
            + dashboard["total"]["lights"]["yellow"].as_i64().unwrap()
            + dashboard["total"]["lights"]["green"].as_i64().unwrap(),
        229
    );
    assert!(dashboard["total"]["lights"]["red"].as_i64().unwrap() >= 1, "B003 is overdue");
    assert_eq!(total(&inspector, "overdue=true"), 1);
    assert_eq!(total(&inspector, "status=submitted"), 1);
    let id = first["id"].as_i64().unwrap();
    assert_eq!(total(&inspector, &format!("indicator={id}")), first["progress"]["tasks"].as_i64().unwrap());
    let unit = &dashboard["units"][0];
    let unit_id = unit["unit"]["id"].as_i64().unwrap();
    assert_eq!(total(&inspector, &format!("lead_unit={unit_id}")), unit["lead"]["total"].as_i64().unwrap());
}
