//! The dashboard's figures, and the task list's filters that its items
//! link to.

use diesel::RunQueryDsl;
use duban_tests::{TestDb, TestServer};
use serde_json::{Value, json};

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

/// The lights weigh each task's own window (from when it was given out to
/// its due date), so fresh work late in the campaign's year is not all red.
#[test]
fn lights_judge_each_task_by_its_own_window() {
    let db = TestDb::with_demo();
    let mut conn = db.conn();
    let server = TestServer::start(&db);
    let inspector = server.login("inspector");
    let lights = |inspector: &duban_tests::Client| -> (i64, i64, i64) {
        let dashboard: Value = inspector.get_json("/api/v1/campaigns/luoping/dashboard");
        let lights = &dashboard["total"]["lights"];
        (lights["red"].as_i64().unwrap(), lights["yellow"].as_i64().unwrap(), dashboard["total"]["overdue"].as_i64().unwrap())
    };

    // Given out today: only the overdue tasks are red, whatever share of
    // the campaign's years has passed, and the tasks nobody was given
    // (judged from the campaign's start, they are far behind).
    let (red, _, overdue) = lights(&inspector);
    let never_given_out: i64 =
        diesel::sql_query("SELECT id FROM tasks WHERE id NOT IN (SELECT task_id FROM assignments)").execute(&mut conn).unwrap() as i64;
    assert!(never_given_out > 0);
    assert_eq!(red, overdue + never_given_out, "fresh work is red only when it is late or nobody has it");
    assert!(red < 229 / 2, "the lights single tasks out: {red} red");

    // B010 was given out a year ago with no due date and never begun: far
    // behind its window (the campaign's), so red although not overdue.
    // B011 was given out a year ago and submitted: not behind.
    for sql in [
        "UPDATE campaigns SET period_start = CURRENT_DATE - 365, period_end = CURRENT_DATE + 30",
        "UPDATE assignments SET created_at = now() - interval '365 days', due_date = NULL, status = 'not_started'
         WHERE task_id = (SELECT id FROM tasks WHERE code = 'B010')",
        "UPDATE assignments SET created_at = now() - interval '365 days', due_date = NULL, status = 'submitted'
         WHERE task_id = (SELECT id FROM tasks WHERE code = 'B011')",
    ] {
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
    let ids: Vec<i64> = (1..=229).collect();
    duban::rollup::refresh(&mut conn, &ids).unwrap();
    let red_codes = |inspector: &duban_tests::Client| -> Vec<String> {
        inspector.get_json("/api/v1/tasks?campaign=luoping&light=red&limit=200")["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|task| task["code"].as_str().unwrap().to_owned())
            .collect()
    };
    let red = red_codes(&inspector);
    assert!(red.contains(&"B010".to_owned()), "{red:?}");
    assert!(!red.contains(&"B011".to_owned()), "{red:?}");
    assert_eq!(lights(&inspector).0, red.len() as i64);

    // A due date three days ahead makes a fresh task yellow.
    diesel::sql_query(
        "UPDATE assignments SET due_date = CURRENT_DATE + 3, status = 'in_progress'
         WHERE task_id = (SELECT id FROM tasks WHERE code = 'B020')",
    )
    .execute(&mut conn)
    .unwrap();
    duban::rollup::refresh(&mut conn, &ids).unwrap();
    let yellow = inspector.get_json("/api/v1/tasks?campaign=luoping&light=yellow&limit=200");
    assert!(yellow["items"].as_array().unwrap().iter().any(|task| task["code"] == "B020"), "{yellow}");
}

/// Two units that are one organ merge: the work, the accounts and the names
/// move to the one that remains, the dashboard counts one unit, and the
/// merge is audited.
#[test]
fn merging_two_units_moves_their_work_and_the_dashboard_counts_one() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let office = server.login("yfzxb");
    let justice = office.get_json("/api/v1/units?q=县司法局")["items"][0].clone();
    let justice_id = justice["id"].as_i64().unwrap();
    let twin: Value =
        office.post("/api/v1/units", &json!({"region": "罗平县", "name": "罗平县司法局", "kind": "government_department"})).json().unwrap();
    let twin_id = twin["id"].as_i64().unwrap();
    // The twin is given work on two tasks: one 县司法局 also has (untouched
    // on both sides), one it has not.
    let task_of = |code: &str| office.get_json(&format!("/api/v1/tasks?q={code}"))["items"][0]["id"].as_i64().unwrap();
    let (shared, own) = (task_of("B010"), task_of("B100"));
    for (task, units) in [(shared, vec![justice_id, twin_id]), (own, vec![twin_id])] {
        let response = office.post(&format!("/api/v1/tasks/{task}/assignments"), &json!({"unit_ids": units, "role": "responsible"}));
        assert_eq!(response.status(), 201);
    }
    let responsible_total = |dashboard: &Value, id: i64| -> Option<i64> {
        dashboard["units"].as_array().unwrap().iter().find(|u| u["unit"]["id"] == id).map(|u| u["responsible"]["total"].as_i64().unwrap())
    };
    let before: Value = office.get_json("/api/v1/campaigns/luoping/dashboard");
    let justice_before = responsible_total(&before, justice_id).unwrap_or(0);
    assert_eq!(responsible_total(&before, twin_id), Some(2));

    let response = office.post(&format!("/api/v1/units/{twin_id}/merge"), &json!({"into": justice_id}));
    assert_eq!(response.status(), 200);
    let merged: Value = response.json().unwrap();
    assert!(merged["aliases"].as_array().unwrap().iter().any(|alias| alias == "罗平县司法局"), "{merged}");
    let after: Value = office.get_json("/api/v1/campaigns/luoping/dashboard");
    assert_eq!(responsible_total(&after, twin_id), None, "the twin is gone from the dashboard");
    assert_eq!(responsible_total(&after, justice_id), Some(justice_before + 1), "one task moved, the shared one counted once");
    assert_eq!(after["units"].as_array().unwrap().len() + 1, before["units"].as_array().unwrap().len());
    assert_eq!(office.get(&format!("/api/v1/units/{twin_id}")).status(), 404);
    let mut conn = db.conn();
    assert_eq!(crate::support::count(&mut conn, "SELECT count(*) FROM audit_log WHERE action = 'unit.merge'"), 1);

    // Merging into itself, or across counties that do not exist, is refused.
    assert_eq!(office.post(&format!("/api/v1/units/{justice_id}/merge"), &json!({"into": justice_id})).status(), 422);
    assert_eq!(office.post(&format!("/api/v1/units/{justice_id}/merge"), &json!({"into": 999999})).status(), 404);
    assert_eq!(server.login("inspector").post(&format!("/api/v1/units/{justice_id}/merge"), &json!({"into": justice_id})).status(), 403);
}

/// The province's checklist as a template: a new county's campaign has the
/// 229 tasks, their indicators and targets, and none of the template
/// county's units; the county's own table then fills in its units.
#[test]
fn a_countys_campaign_starts_from_the_checklist_without_the_template_countys_units() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    // The city's office starts its counties' campaigns.
    let office = server.login("qjfzb");
    let new = json!({"code": "shizong", "name": "师宗县法治政府建设示范创建", "region": "师宗县", "template": "luoping"});
    let response = office.post("/api/v1/campaigns", &new);
    assert_eq!(response.status(), 201, "{}", response.text().unwrap_or_default());
    let response = office.get("/api/v1/campaigns/shizong");
    let created: Value = response.json().unwrap();
    assert_eq!(created["code"], "shizong");
    let mut conn = db.conn();
    let of = |sql: &str, conn: &mut diesel::PgConnection| crate::support::count(conn, sql);
    let shizong = "(SELECT id FROM campaigns WHERE code = 'shizong')";
    assert_eq!(of(&format!("SELECT count(*) FROM tasks WHERE campaign_id = {shizong}"), &mut conn), 229);
    assert_eq!(of(&format!("SELECT count(*) FROM indicators WHERE campaign_id = {shizong}"), &mut conn), 41);
    assert_eq!(
        of(&format!("SELECT count(*) FROM task_targets WHERE task_id IN (SELECT id FROM tasks WHERE campaign_id = {shizong})"), &mut conn),
        of(
            "SELECT count(*) FROM task_targets WHERE task_id IN (SELECT id FROM tasks WHERE campaign_id = (SELECT id FROM campaigns WHERE code = 'luoping'))",
            &mut conn
        )
    );
    assert_eq!(
        of(&format!("SELECT count(*) FROM task_parties WHERE task_id IN (SELECT id FROM tasks WHERE campaign_id = {shizong})"), &mut conn),
        0
    );
    assert_eq!(
        of(&format!("SELECT count(*) FROM assignments WHERE task_id IN (SELECT id FROM tasks WHERE campaign_id = {shizong})"), &mut conn),
        0
    );
    assert_eq!(of("SELECT count(*) FROM units WHERE region_id = (SELECT id FROM regions WHERE name = '师宗县')", &mut conn), 0);
    assert_eq!(
        of("SELECT count(*) FROM regions WHERE name = '师宗县' AND parent_id = (SELECT id FROM regions WHERE name = '曲靖市')", &mut conn),
        1,
        "the new county lies in the city"
    );
    assert_eq!(office.post("/api/v1/campaigns", &new).status(), 409, "the code is taken");
    let missing = json!({"code": "fuyuan", "name": "富源县", "region": "富源县", "template": "nowhere"});
    assert_eq!(office.post("/api/v1/campaigns", &missing).status(), 404);
    assert_eq!(server.login("inspector").post("/api/v1/campaigns", &new).status(), 403);
}

/// The province's totals, as the dashboard gives them and as counted live
/// over the tasks for today in China (the dashboard's day).
fn province_and_live(client: &duban_tests::Client, conn: &mut diesel::PgConnection) -> (Value, Value) {
    let province = client.get_json("/api/v1/dashboard");
    let today = format!("DATE '{}'", duban::clock::today());
    let live = |condition: &str, conn: &mut diesel::PgConnection| {
        crate::support::count(conn, &format!("SELECT count(*) FROM tasks WHERE {}", condition.replace("today", &today)))
    };
    let live = json!({
        "tasks": live("true", conn),
        "approved": live("rollup_status = 'approved'", conn),
        "overdue": live("next_due < today", conn),
        "red": live("red_from <= today", conn),
        "yellow": live("yellow_from <= today AND (red_from IS NULL OR red_from > today)", conn),
    });
    let shown = json!({
        "tasks": province["total"]["tasks"],
        "approved": province["total"]["approved"],
        "overdue": province["total"]["overdue"],
        "red": province["total"]["lights"]["red"],
        "yellow": province["total"]["lights"]["yellow"],
    });
    (shown, live)
}

/// The province dashboard keeps each campaign's counts between requests
/// and counts again only campaigns whose version moved. After every kind
/// of change to tasks, through the API and behind its back, what it shows
/// equals the live counts.
#[test]
fn the_province_counts_kept_between_requests_follow_every_change() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let province = server.login("ynfzb");
    let new = json!({"code": "shizong", "name": "师宗县法治政府建设示范创建", "region": "师宗县", "template": "luoping"});
    assert_eq!(province.post("/api/v1/campaigns", &new).status(), 201);
    let mut conn = db.conn();
    let (shown, live) = province_and_live(&province, &mut conn);
    assert_eq!(shown, live, "after the demo and a campaign from the checklist");

    // Through the API: units assigned with due dates, which moves tasks' statuses and lights.
    let office = server.login("yfzxb");
    let township = office.get_json("/api/v1/units?q=%E7%BD%97%E9%9B%84")["items"][0]["id"].as_i64().unwrap();
    let tasks = office.get_json("/api/v1/tasks?campaign=luoping&limit=40");
    let today = duban::clock::today();
    for (index, task) in tasks["items"].as_array().unwrap().iter().enumerate() {
        let due = today + chrono::Duration::days(index as i64 * 3 - 30);
        let body = json!({"unit_ids": [township], "role": "responsible", "due_date": due});
        office.post(&format!("/api/v1/tasks/{}/assignments", task["id"]), &body);
    }
    let (shown, live) = province_and_live(&province, &mut conn);
    assert_eq!(shown, live, "after assignments");

    // Behind the API's back: a fixed pseudo-random walk of updates and
    // deletions, looked at after every few changes.
    let ids: Vec<i64> = diesel::sql_query("SELECT id AS value FROM tasks ORDER BY id")
        .load::<crate::support::Int8Row>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|row| row.value)
        .collect();
    let mut seed: u64 = 2026_12_03;
    let mut next = |below: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % below
    };
    for round in 0..40 {
        for _ in 0..10 {
            let task = ids[next(ids.len())];
            let other = ids[next(ids.len())];
            let day = |n: usize| if n == 0 { "NULL".to_owned() } else { format!("DATE '{today}' + {}", n as i64 - 20) };
            let statement = match next(4) {
                0 => format!(
                    "UPDATE tasks SET rollup_status = coalesce((SELECT rollup_status FROM tasks WHERE id = {other}), rollup_status) WHERE id = {task}"
                ),
                1 => format!("UPDATE tasks SET next_due = {} WHERE id = {task}", day(next(40))),
                2 => format!("UPDATE tasks SET yellow_from = {}, red_from = {} WHERE id = {task}", day(next(40)), day(next(40))),
                _ => format!(
                    "DELETE FROM tasks WHERE id = {task} AND campaign_id = (SELECT id FROM campaigns WHERE code = 'shizong') \
                     AND NOT EXISTS (SELECT 1 FROM assignments WHERE task_id = {task})"
                ),
            };
            diesel::sql_query(&statement).execute(&mut conn).unwrap();
        }
        let (shown, live) = province_and_live(&province, &mut conn);
        assert_eq!(shown, live, "after round {round} of random changes");
    }
}

/// Ids from a query whose one column is named `value`.
fn ids(conn: &mut diesel::PgConnection, sql: &str) -> Vec<i64> {
    diesel::sql_query(sql).load::<crate::support::Int8Row>(conn).unwrap().into_iter().map(|row| row.value).collect()
}

#[test]
fn the_kept_dashboards_and_task_pages_are_what_a_fresh_server_computes_after_every_change() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    // A county user (pages kept per area) and a key-less installation-wide reader.
    let readers = [server.login("yfzxb"), server.login("admin")];
    let mut conn = db.conn();
    let assignments = ids(&mut conn, "SELECT id AS value FROM assignments ORDER BY id");
    let targets = ids(&mut conn, "SELECT id AS value FROM task_targets WHERE value IS NOT NULL ORDER BY id");
    let quantified = ids(&mut conn, "SELECT DISTINCT task_id AS value FROM task_targets ORDER BY 1");
    let negative = ids(&mut conn, "SELECT id AS value FROM tasks WHERE list = 'negative' ORDER BY id");
    let indicators = ids(&mut conn, "SELECT id AS value FROM indicators ORDER BY id");
    let units = ids(&mut conn, "SELECT DISTINCT unit_id AS value FROM assignments ORDER BY 1");
    let parties = ids(&mut conn, "SELECT id AS value FROM task_parties ORDER BY id");
    let today = duban::clock::today();
    let mut seed: u64 = 2026_12_07;
    let mut next = |below: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % below
    };
    // Pages looked at in every round: the dashboard, tasks with targets, a
    // negative-list task and the first few.
    let pages: Vec<String> = std::iter::once("/api/v1/campaigns/luoping/dashboard".to_owned())
        .chain(quantified.iter().take(4).chain(negative.iter().take(1)).chain([1, 2, 3].iter()).map(|id| format!("/api/v1/tasks/{id}")))
        .collect();
    // Each kind of change alone in its round, three times over, so that a
    // table whose changes did not move the version would show.
    for round in 0..33 {
        // Kept before the changes, so that a stale page would show.
        for reader in &readers {
            for page in &pages {
                reader.get_json(page);
            }
        }
        {
            let n = round;
            let pick = |list: &[i64], k: usize| list[k % list.len()];
            let statement = match round % 11 {
                0 => format!(
                    "UPDATE assignments SET status = (ARRAY['not_started','in_progress','submitted','returned','accepted','approved'])[{}] \
                     WHERE task_id = {}",
                    next(6) + 1,
                    pick(&[1, 2, 3, quantified[0], quantified[1]], next(5))
                ),
                1 => format!(
                    "UPDATE assignments SET due_date = DATE '{today}' + {} WHERE id = {}",
                    next(20) as i64 - 10,
                    pick(&assignments, next(9999))
                ),
                2 => format!(
                    "UPDATE assignments SET progress_note = 'note {n}', urged = urged + 1 WHERE task_id = {}",
                    pick(&quantified, next(99))
                ),
                3 => format!("UPDATE units SET name = name || '{n}' WHERE id = {}", pick(&units, next(999))),
                4 => format!("UPDATE indicators SET title = title || '{n}' WHERE id = {}", pick(&indicators, next(999))),
                5 => format!("UPDATE task_targets SET value = value + 1 WHERE id = {}", pick(&targets, next(999))),
                6 => format!(
                    "INSERT INTO measurements (assignment_id, target_position, period, value) \
                     SELECT a.id, t.position, '{}', {} FROM assignments a JOIN task_targets t ON t.task_id = a.task_id \
                     WHERE a.task_id = {} ON CONFLICT (assignment_id, target_position, period) DO UPDATE SET value = excluded.value",
                    today.format("%Y"),
                    next(100),
                    pick(&quantified, next(99))
                ),
                7 => format!(
                    "INSERT INTO reference_values (task_id, target_position, period, value) \
                     SELECT task_id, position, '{}', {} FROM task_targets WHERE task_id = {} \
                     ON CONFLICT (task_id, target_position, period) DO UPDATE SET value = excluded.value",
                    today.format("%Y"),
                    next(100),
                    pick(&quantified, next(99))
                ),
                8 => format!(
                    "INSERT INTO negative_reports (task_id, unit_id, period, occurred, occurred_on, description, confirmed_at) \
                     VALUES ({}, {}, '{}-{:02}', true, DATE '{today}', '发生', {}) ON CONFLICT DO NOTHING",
                    pick(&negative, next(9)),
                    pick(&units, next(999)),
                    today.format("%Y"),
                    next(12) + 1,
                    if next(2) == 0 { "NULL" } else { "now()" }
                ),
                9 => format!("UPDATE task_parties SET as_written = as_written || '{n}' WHERE id = {}", pick(&parties, next(9999))),
                _ => format!("UPDATE campaigns SET name = name || '{n}' WHERE code = 'luoping'"),
            };
            diesel::sql_query(&statement).execute(&mut conn).unwrap_or_else(|error| panic!("{statement}: {error}"));
        }
        // A server started now has kept nothing: it computes every page.
        let fresh = TestServer::start(&db);
        let fresh_readers = [fresh.login("yfzxb"), fresh.login("admin")];
        for (reader, fresh_reader) in readers.iter().zip(&fresh_readers) {
            for page in &pages {
                assert_eq!(reader.get_json(page), fresh_reader.get_json(page), "{page} after round {round}");
            }
        }
    }
}
