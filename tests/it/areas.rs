//! Areas: a county's users see their county only; the city's office (an
//! area office) reads every county below it and starts their campaigns
//! from the checklist, and changes nothing else.

use duban_tests::{Client, TestDb, TestServer};
use serde_json::{Value, json};

fn codes(campaigns: &Value) -> Vec<String> {
    campaigns.as_array().unwrap().iter().map(|campaign| campaign["code"].as_str().unwrap().to_owned()).collect()
}

fn province_codes(dashboard: &Value) -> Vec<String> {
    codes(&dashboard["campaigns"])
}

#[test]
fn a_county_sees_only_itself_and_the_city_office_sees_its_counties() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    crate::support::second_county_with_its_office(&db, &server.base);
    let shizong = server.session("szfzb");
    let luoping = server.login("yfzxb");
    let city = server.login("qjfzb");
    let inspector = server.login("inspector");

    assert_eq!(city.get_json("/api/v1/me")["region"], "曲靖市");
    assert_eq!(codes(&city.get_json("/api/v1/campaigns")), ["luoping", "shizong"], "the city reads both of its counties");
    assert_eq!(province_codes(&city.get_json("/api/v1/dashboard")), ["luoping", "shizong"]);
    for (who, client, own) in [
        ("罗平县's lead office", &luoping, "luoping"),
        ("罗平县's inspector", &inspector, "luoping"),
        ("师宗县's lead office", &shizong, "shizong"),
    ] {
        assert_eq!(codes(&client.get_json("/api/v1/campaigns")), [own], "{who}");
        assert_eq!(province_codes(&client.get_json("/api/v1/dashboard")), [own], "{who}");
        let other = if own == "luoping" { "shizong" } else { "luoping" };
        assert_eq!(client.get(&format!("/api/v1/campaigns/{other}")).status(), 404, "{who} finds {other} absent");
        assert_eq!(client.get(&format!("/api/v1/tasks?campaign={other}")).status(), 404, "{who}");
    }

    // Everything 罗平县 has, named by id, is absent for 师宗县.
    let task = luoping.get_json("/api/v1/tasks?campaign=luoping&limit=1")["items"][0]["id"].as_i64().unwrap();
    let assignment = luoping.get_json("/api/v1/assignments?campaign=luoping&limit=1")["items"][0].clone();
    let unit = assignment["unit"]["id"].as_i64().unwrap();
    let group = luoping.get_json("/api/v1/unit-groups")[0]["id"].as_i64().unwrap();
    let yfzxb = luoping.get_json("/api/v1/me")["id"].as_i64().unwrap();
    for path in [
        format!("/api/v1/tasks/{task}"),
        format!("/api/v1/assignments/{}", assignment["id"]),
        format!("/api/v1/assignments/{}/evidence", assignment["id"]),
        format!("/api/v1/units/{unit}"),
        format!("/api/v1/unit-groups/{group}"),
        format!("/api/v1/users/{yfzxb}"),
        format!("/api/v1/assignments?unit={unit}"),
        "/api/v1/units?region=%E7%BD%97%E5%B9%B3%E5%8E%BF".to_owned(),
        "/api/v1/campaigns/luoping/scores".to_owned(),
        "/api/v1/campaigns/luoping/dashboard".to_owned(),
        "/api/v1/campaigns/luoping/export.csv".to_owned(),
    ] {
        assert_eq!(shizong.get(&path).status(), 404, "{path} as 师宗县");
        // The city reads it all, but no county's accounts.
        let expected = if path.contains("/users/") { 403 } else { 200 };
        assert_eq!(city.get(&path).status(), expected, "{path} as the city office");
    }

    // Lists hold the county's own only: nothing of 罗平县 (or its township 罗雄街道) shows.
    for path in [
        "/api/v1/campaigns",
        "/api/v1/dashboard",
        "/api/v1/tasks?limit=200",
        "/api/v1/assignments?limit=200",
        "/api/v1/units?limit=200",
        "/api/v1/unit-groups",
        "/api/v1/users",
        "/api/v1/notices",
        "/api/v1/reviews",
    ] {
        let body = shizong.get(path).text().unwrap();
        assert!(!body.contains("罗平") && !body.contains("罗雄"), "{path} as 师宗县 shows 罗平县: {body:.300}");
    }
    assert_eq!(
        shizong.get_json("/api/v1/tasks?limit=1")["total"],
        luoping.get_json("/api/v1/tasks?limit=1")["total"],
        "the same checklist"
    );
    // The audit log shows a county what its own accounts did.
    luoping.get("/api/v1/campaigns/luoping/export.csv");
    let seen = |client: &Client| -> Vec<String> {
        let page = client.get_json("/api/v1/audit?action=export.breakdown&limit=50");
        page["items"].as_array().unwrap().iter().map(|row| row["actor_name"].as_str().unwrap_or_default().to_owned()).collect()
    };
    assert!(seen(&luoping).contains(&"yfzxb".to_owned()), "{:?}", seen(&luoping));
    assert!(seen(&shizong).is_empty(), "师宗县 reads nothing 罗平县 did: {:?}", seen(&shizong));
    assert_eq!(shizong.get_json("/api/v1/assignments?limit=1")["total"], 0, "师宗县 has assigned nothing yet");

    // The city's office reads and starts campaigns; it changes no county's work.
    let refused = city.post(&format!("/api/v1/tasks/{task}/assignments"), &json!({"unit_ids": [unit], "role": "responsible"}));
    assert_eq!(refused.status(), 403);
    let refused = city.post("/api/v1/notices", &json!({"campaign": "luoping", "level": "general", "title": "越级督办", "requirement": "x", "reply_working_days": 5, "assignment_ids": [assignment["id"]]}));
    assert_eq!(refused.status(), 403);

    // A county's lead office starts no county but its own, and imports into its own only.
    let elsewhere = json!({"code": "fuyuan", "name": "富源县法治政府建设示范创建", "region": "富源县", "template": "luoping"});
    let refused = luoping.post("/api/v1/campaigns", &elsewhere);
    assert_eq!(refused.status(), 422, "{}", refused.text().unwrap());
    let import = shizong
        .request(reqwest::Method::POST, "/api/v1/imports?kind=units&region=%E7%BD%97%E5%B9%B3%E5%8E%BF&file_name=units.csv")
        .header("Content-Type", "text/csv")
        .body("单位名称,类型\n县审计局,government_department\n")
        .send()
        .unwrap();
    assert_eq!(import.status(), 404, "师宗县 cannot import into 罗平县");
    // Nor name 罗平县's campaign or county in a body.
    let notice = json!({"campaign": "luoping", "level": "general", "title": "越界督办", "requirement": "x", "reply_working_days": 5, "assignment_ids": [assignment["id"]]});
    assert_eq!(shizong.post("/api/v1/notices", &notice).status(), 404);
    assert_eq!(shizong.post("/api/v1/urgings", &json!({"campaign": "luoping", "assignment_ids": [assignment["id"]]})).status(), 404);
    let unit_there = shizong.post("/api/v1/units", &json!({"region": "罗平县", "name": "县审计局", "kind": "government_department"}));
    assert_eq!(unit_there.status(), 422);
    assert_eq!(unit_there.json::<Value>().unwrap()["code"], "unknown_region");

    // A city's new county lies below the city: the city sees it, 罗平县 does not.
    let fuyuan = city.post("/api/v1/campaigns", &elsewhere);
    assert_eq!(fuyuan.status(), 201, "{}", fuyuan.text().unwrap());
    assert_eq!(codes(&city.get_json("/api/v1/campaigns")), ["luoping", "shizong", "fuyuan"]);
    assert_eq!(codes(&luoping.get_json("/api/v1/campaigns")), ["luoping"]);

    // An area office needs an area.
    let no_area = json!({"username": "nowhere", "display_name": "无区域", "role": "area_office", "password": "Nowhere-office-2026"});
    let refused = server.login("admin").post("/api/v1/users", &no_area);
    assert_eq!(refused.status(), 422);
    assert_eq!(refused.json::<Value>().unwrap()["code"], "region_required");
}
