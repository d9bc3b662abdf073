//! Every endpoint called by every kind of caller, with the status each must
//! get. The test fails when the OpenAPI document has an operation this
//! table lacks, so a new endpoint cannot arrive without its row.

use std::collections::BTreeSet;

use duban_tests::{Client, TestDb, TestServer};
use serde_json::{Value, json};

/// The callers, in the order of each row's expected statuses.
const CALLERS: [&str; 12] = [
    "anonymous",
    "admin",
    "security_admin",
    "audit_admin",
    "lead_office",
    "unit_manager",
    "unit_staff",
    "inspector",
    "key_with_scopes",
    "key_without",
    "area_office",
    "other_county",
];

/// Ids of real rows the requests refer to.
struct Ids {
    task: i64,
    own_assignment: i64,
    unit: i64,
    group: i64,
    justice: i64,
    admin: i64,
    staff: i64,
    api_client: i64,
    notice: i64,
    /// The justice bureau's entry of that notice.
    recipient: i64,
}

struct Row {
    method: &'static str,
    /// The path as the OpenAPI document writes it.
    template: &'static str,
    path: fn(&Ids) -> String,
    body: fn(&Ids) -> Option<Value>,
    /// Expected status per caller, in [`CALLERS`] order.
    expect: [u16; 12],
}

macro_rules! row {
    ($method:literal $template:literal, |$ids:ident| $path:expr, body |$b:ident| $body:expr, $expect:expr) => {
        Row { method: $method, template: $template, path: |$ids: &Ids| $path, body: |$b: &Ids| $body, expect: $expect }
    };
}

/// A bulletin's draft as the lead office would write it.
fn bulletin_draft() -> Value {
    let today = duban::clock::today();
    json!({"period": "special", "from": today, "as_of": today, "title": "专项通报", "addressees": "各有关单位"})
}

/// A different unknown username each time, so that the failed sign-ins of
/// the login row do not trip the per-account throttle.
fn nobody() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    format!("matrix-nobody-{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// Reminder rules that deserialise but do not pass the check.
const RULES_WITH_A_MISTAKE: &str = r#"{"deadlines": {"before": [3], "overdue_every": 0, "escalate_to_manager_after": null, "escalate_to_leader_after": null}, "general": {"before": [3], "overdue_every": 2, "escalate_to_manager_after": 1, "escalate_to_leader_after": 3}, "key": {"before": [3], "overdue_every": 2, "escalate_to_manager_after": 1, "escalate_to_leader_after": 3}, "urgent": {"before": [3], "overdue_every": 2, "escalate_to_manager_after": 1, "escalate_to_leader_after": 3}}"#;

const R: u16 = 200; // allowed, read
const D: u16 = 403; // denied
const U: u16 = 401; // not signed in

fn rows() -> Vec<Row> {
    // Callers: anon admin security audit office manager staff inspector key+ key- area(曲靖市) other county(师宗县's office)
    vec![
        row!("get" "/healthz", |_i| "/healthz".into(), body |_b| None, [R, R, R, R, R, R, R, R, R, R, R, R]),
        row!("get" "/readyz", |_i| "/readyz".into(), body |_b| None, [R, R, R, R, R, R, R, R, R, R, R, R]),
        // Only the metrics token opens it: no session or API key does.
        row!("get" "/metrics", |_i| "/metrics".into(), body |_b| None, [U, U, U, U, U, U, U, U, U, U, U, U]),
        row!("post" "/api/v1/auth/login", |_i| "/api/v1/auth/login".into(), body |_b| Some(json!({"username": nobody(), "password": "wrong-password"})), [U, U, U, U, U, U, U, U, U, U, U, U]),
        row!("post" "/api/v1/auth/refresh", |_i| "/api/v1/auth/refresh".into(), body |_b| Some(json!({"refresh_token": "not-a-token"})), [U, U, U, U, U, U, U, U, U, U, U, U]),
        row!("post" "/api/v1/auth/logout", |_i| "/api/v1/auth/logout".into(), body |_b| Some(json!({})), [U, 204, 204, 204, 204, 204, 204, 204, D, D, 204, 204]),
        row!("post" "/api/v1/auth/password", |_i| "/api/v1/auth/password".into(), body |_b| Some(json!({"current_password": "wrong-password", "new_password": "一个足够长的New密码1"})), [U, 422, 422, 422, 422, 422, 422, 422, D, D, 422, 422]),
        row!("get" "/api/v1/me", |_i| "/api/v1/me".into(), body |_b| None, [U, R, R, R, R, R, R, R, D, D, R, R]),
        row!("get" "/api/v1/users", |_i| "/api/v1/users".into(), body |_b| None, [U, R, R, D, R, R, D, R, D, D, D, R]),
        row!("post" "/api/v1/users", |_i| "/api/v1/users".into(), body |i| Some(json!({"username": "matrix-new", "display_name": "x", "role": "unit_staff", "unit_id": i.justice, "password": "short"})), [U, 422, D, D, D, 422, D, D, D, D, D, D]),
        // The system administrator's account is the whole installation's: a
        // caller bounded to an area (a county's, a city's) finds it absent.
        row!("get" "/api/v1/users/{id}", |i| format!("/api/v1/users/{}", i.admin), body |_b| None, [U, R, R, D, 404, 404, 404, 404, D, D, 404, 404]),
        row!("patch" "/api/v1/users/{id}", |i| format!("/api/v1/users/{}", i.staff), body |_b| Some(json!({"display_name": " "})), [U, 422, D, D, D, 422, D, D, D, D, D, 404]),
        row!("post" "/api/v1/users/{id}/password", |i| format!("/api/v1/users/{}/password", i.staff), body |_b| Some(json!({"new_password": "short"})), [U, 422, D, D, D, 422, D, D, D, D, D, 404]),
        row!("get" "/api/v1/api-clients", |_i| "/api/v1/api-clients".into(), body |_b| None, [U, D, R, D, D, D, D, D, D, D, D, D]),
        row!("post" "/api/v1/api-clients", |_i| "/api/v1/api-clients".into(), body |_b| Some(json!({"name": " "})), [U, D, 422, D, D, D, D, D, D, D, D, D]),
        row!("post" "/api/v1/api-clients/{id}/keys", |i| format!("/api/v1/api-clients/{}/keys", i.api_client), body |_b| Some(json!({"scopes": []})), [U, D, 422, D, D, D, D, D, D, D, D, D]),
        row!("delete" "/api/v1/api-clients/{id}/keys/{key_id}", |i| format!("/api/v1/api-clients/{}/keys/999999", i.api_client), body |_b| None, [U, D, 404, D, D, D, D, D, D, D, D, D]),
        row!("get" "/api/v1/audit", |_i| "/api/v1/audit?limit=5".into(), body |_b| None, [U, D, D, R, R, D, D, R, R, D, D, R]),
        row!("get" "/api/v1/audit/export", |_i| "/api/v1/audit/export?action=auth.login".into(), body |_b| None, [U, D, D, R, R, D, D, R, R, D, D, R]),
        row!("get" "/api/v1/campaigns", |_i| "/api/v1/campaigns".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, R]),
        row!("get" "/api/v1/campaigns/{code}", |_i| "/api/v1/campaigns/luoping".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("get" "/api/v1/campaigns/{code}/indicators", |_i| "/api/v1/campaigns/luoping/indicators".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("get" "/api/v1/tasks", |_i| "/api/v1/tasks?limit=5".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, R]),
        row!("get" "/api/v1/tasks/{id}", |i| format!("/api/v1/tasks/{}", i.task), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("post" "/api/v1/tasks/{id}/assignments", |i| format!("/api/v1/tasks/{}/assignments", i.task), body |_b| Some(json!({"unit_ids": [], "role": "responsible"})), [U, D, D, D, 422, D, D, D, D, D, D, 404]),
        row!("get" "/api/v1/assignments", |_i| "/api/v1/assignments?limit=5".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, R]),
        row!("get" "/api/v1/assignments/{id}", |i| format!("/api/v1/assignments/{}", i.own_assignment), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        // A stale If-Match: whoever may edit gets 412, whoever may not gets 403.
        row!("patch" "/api/v1/assignments/{id}", |i| format!("/api/v1/assignments/{}", i.own_assignment), body |_b| Some(json!({})), [U, D, D, D, 412, 412, 412, D, D, D, D, 404]),
        row!("delete" "/api/v1/assignments/{id}", |_i| "/api/v1/assignments/999999".into(), body |_b| None, [U, D, D, D, 404, D, D, D, D, D, D, 404]),
        row!("get" "/api/v1/units", |_i| "/api/v1/units?limit=5".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, R]),
        row!("post" "/api/v1/units", |_i| "/api/v1/units".into(), body |_b| Some(json!({"region": "不存在县", "name": "x", "kind": "other"})), [U, 422, D, D, 422, D, D, D, D, D, D, 422]),
        row!("get" "/api/v1/units/{id}", |i| format!("/api/v1/units/{}", i.unit), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("patch" "/api/v1/units/{id}", |_i| "/api/v1/units/999999".into(), body |_b| Some(json!({})), [U, 404, D, D, 404, D, D, D, D, D, D, 404]),
        row!("delete" "/api/v1/units/{id}", |_i| "/api/v1/units/999999".into(), body |_b| None, [U, 404, D, D, 404, D, D, D, D, D, D, 404]),
        row!("get" "/api/v1/unit-groups", |_i| "/api/v1/unit-groups".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, R]),
        row!("post" "/api/v1/unit-groups", |_i| "/api/v1/unit-groups".into(), body |_b| Some(json!({"region": "不存在县", "phrase": "各单位"})), [U, 422, D, D, 422, D, D, D, D, D, D, 422]),
        row!("get" "/api/v1/unit-groups/{id}", |i| format!("/api/v1/unit-groups/{}", i.group), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("get" "/api/v1/unit-groups/{id}/members", |i| format!("/api/v1/unit-groups/{}/members", i.group), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("patch" "/api/v1/unit-groups/{id}", |_i| "/api/v1/unit-groups/999999".into(), body |_b| Some(json!({})), [U, 404, D, D, 404, D, D, D, D, D, D, 404]),
        row!("delete" "/api/v1/unit-groups/{id}", |_i| "/api/v1/unit-groups/999999".into(), body |_b| None, [U, 404, D, D, 404, D, D, D, D, D, D, 404]),
        // Evidence: the unit uploads (a JSON body is no form: 400 once allowed); the key
        // without other scopes has evidence:read.
        row!("post" "/api/v1/assignments/{id}/evidence", |i| format!("/api/v1/assignments/{}/evidence", i.own_assignment), body |_b| Some(json!({})), [U, D, D, D, D, 400, 400, D, D, D, D, 404]),
        row!("get" "/api/v1/assignments/{id}/evidence", |i| format!("/api/v1/assignments/{}/evidence", i.own_assignment), body |_b| None, [U, R, D, D, R, R, R, R, R, R, R, 404]),
        row!("get" "/api/v1/campaigns/{code}/evidence", |_i| "/api/v1/campaigns/luoping/evidence".into(), body |_b| None, [U, R, D, D, R, R, R, R, R, R, R, 404]),
        row!("delete" "/api/v1/evidence/{id}", |_i| "/api/v1/evidence/999999".into(), body |_b| None, [U, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
        row!("get" "/api/v1/evidence-versions/{id}/content", |_i| "/api/v1/evidence-versions/999999/content".into(), body |_b| None, [U, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
        // The workflow: nothing uploaded yet, so the unit may submit but has nothing to.
        row!("post" "/api/v1/assignments/{id}/submit", |i| format!("/api/v1/assignments/{}/submit", i.own_assignment), body |_b| None, [U, D, D, D, D, 422, 422, D, D, D, D, 404]),
        row!("post" "/api/v1/assignments/{id}/review", |i| format!("/api/v1/assignments/{}/review", i.own_assignment), body |_b| Some(json!({"decision": "accept"})), [U, D, D, D, 409, D, D, D, D, D, D, 404]),
        row!("get" "/api/v1/assignments/{id}/history", |i| format!("/api/v1/assignments/{}/history", i.own_assignment), body |_b| None, [U, R, D, D, R, R, R, R, R, R, R, 404]),
        row!("get" "/api/v1/reviews", |_i| "/api/v1/reviews".into(), body |_b| None, [U, D, D, D, R, R, R, D, D, D, D, R]),
        row!("post" "/api/v1/assignments/{id}/measurements", |i| format!("/api/v1/assignments/{}/measurements", i.own_assignment), body |_b| Some(json!({"target_position": 1, "period": "2026", "value": 1})), [U, D, D, D, D, 422, 422, D, D, D, D, 404]),
        row!("get" "/api/v1/tasks/{id}/evaluation", |i| format!("/api/v1/tasks/{}/evaluation?period=2026", i.task), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("put" "/api/v1/tasks/{id}/targets/{position}/reference", |i| format!("/api/v1/tasks/{}/targets/1/reference", i.task), body |_b| Some(json!({"period": "2026", "value": 1})), [U, D, D, D, 404, D, D, D, D, D, D, 404]),
        row!("post" "/api/v1/campaigns/{code}/negative-reports", |_i| "/api/v1/campaigns/luoping/negative-reports".into(), body |_b| Some(json!({"item": "N9", "period": "2026", "occurred": false})), [U, D, D, D, 422, 422, 422, D, D, D, D, 404]),
        row!("post" "/api/v1/negative-reports/{id}/confirm", |_i| "/api/v1/negative-reports/999999/confirm".into(), body |_b| None, [U, D, D, D, 404, D, D, D, D, D, D, 404]),
        row!("get" "/api/v1/campaigns/{code}/negative-status", |_i| "/api/v1/campaigns/luoping/negative-status?period=2026".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("get" "/api/v1/notifications", |_i| "/api/v1/notifications".into(), body |_b| None, [U, R, R, R, R, R, R, R, D, D, R, R]),
        row!("post" "/api/v1/notifications/{id}/read", |_i| "/api/v1/notifications/999999/read".into(), body |_b| None, [U, 404, 404, 404, 404, 404, 404, 404, D, D, 404, 404]),
        row!("post" "/api/v1/notifications/read-all", |_i| "/api/v1/notifications/read-all".into(), body |_b| None, [U, 204, 204, 204, 204, 204, 204, 204, D, D, 204, 204]),
        row!("get" "/api/v1/calendar", |_i| "/api/v1/calendar?from=2026-02-01&to=2026-02-28".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, R]),
        row!("put" "/api/v1/calendar/{day}", |_i| "/api/v1/calendar/2031-01-01".into(), body |_b| Some(json!({"is_workday": false})), [U, 204, D, D, D, D, D, D, D, D, D, D]),
        row!("delete" "/api/v1/calendar/{day}", |_i| "/api/v1/calendar/2031-01-02".into(), body |_b| None, [U, 404, D, D, D, D, D, D, D, D, D, D]),
        row!("get" "/api/v1/dashboard", |_i| "/api/v1/dashboard".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, R]),
        row!("get" "/api/v1/campaigns/{code}/scores", |_i| "/api/v1/campaigns/luoping/scores".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("get" "/api/v1/campaigns/{code}/scores/units/{unit_id}", |i| format!("/api/v1/campaigns/luoping/scores/units/{}", i.justice), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("get" "/api/v1/campaigns/{code}/scoring-scheme", |_i| "/api/v1/campaigns/luoping/scoring-scheme".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("put" "/api/v1/campaigns/{code}/scoring-scheme", |_i| "/api/v1/campaigns/luoping/scoring-scheme".into(), body |_b| Some(serde_json::to_value(duban_dto::api::ScoringScheme::default()).unwrap()), [U, D, D, D, R, D, D, D, D, D, D, 404]),
        row!("post" "/api/v1/units/{id}/merge", |i| format!("/api/v1/units/{}/merge", i.unit), body |_b| Some(json!({"into": 999999})), [U, 404, D, D, 404, D, D, D, D, D, D, 404]),
        row!("post" "/api/v1/campaigns", |_i| "/api/v1/campaigns".into(), body |_b| Some(json!({"code": "matrix", "name": "矩阵", "region": "矩阵县", "template": "nowhere"})), [U, D, D, D, 404, D, D, D, 404, D, 404, 404]),
        row!("get" "/api/v1/campaigns/{code}/bulletins", |_i| "/api/v1/campaigns/luoping/bulletins".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("post" "/api/v1/campaigns/{code}/bulletins", |_i| "/api/v1/campaigns/luoping/bulletins".into(), body |_b| Some(bulletin_draft()), [U, D, D, D, 201, D, D, D, D, D, D, 404]),
        row!("get" "/api/v1/bulletins/{id}", |_i| "/api/v1/bulletins/999999".into(), body |_b| None, [U, 404, 404, 404, 404, 404, 404, 404, 404, D, 404, 404]),
        row!("put" "/api/v1/bulletins/{id}", |_i| "/api/v1/bulletins/999999".into(), body |_b| Some(bulletin_draft()), [U, D, D, D, 428, D, D, D, D, D, D, 428]),
        row!("post" "/api/v1/bulletins/{id}/issue", |_i| "/api/v1/bulletins/999999/issue".into(), body |_b| None, [U, D, D, D, 428, D, D, D, D, D, D, 428]),
        row!("get" "/api/v1/bulletins/{id}/inputs", |_i| "/api/v1/bulletins/999999/inputs".into(), body |_b| None, [U, 404, 404, 404, 404, 404, 404, 404, 404, D, 404, 404]),
        row!("get" "/api/v1/bulletins/{id}/inputs.csv", |_i| "/api/v1/bulletins/999999/inputs.csv".into(), body |_b| None, [U, 404, 404, 404, 404, 404, 404, 404, 404, D, 404, 404]),
        row!("get" "/api/v1/bulletins/{id}/document", |_i| "/api/v1/bulletins/999999/document".into(), body |_b| None, [U, 404, 404, 404, 404, 404, 404, 404, 404, D, 404, 404]),
        row!("get" "/api/v1/bulletins/{id}/document.pdf", |_i| "/api/v1/bulletins/999999/document.pdf".into(), body |_b| None, [U, 404, 404, 404, 404, 404, 404, 404, 404, D, 404, 404]),
        row!("get" "/api/v1/campaigns/{code}/dashboard", |_i| "/api/v1/campaigns/luoping/dashboard".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("get" "/api/v1/campaigns/{code}/export.xlsx", |_i| "/api/v1/campaigns/luoping/export.xlsx".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("get" "/api/v1/campaigns/{code}/export.csv", |_i| "/api/v1/campaigns/luoping/export.csv?table=units".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("post" "/api/v1/imports", |_i| "/api/v1/imports?kind=units&dry_run=true".into(), body |_b| Some(json!([])), [U, D, D, D, 202, D, D, D, 202, D, D, 202]),
        row!("get" "/api/v1/imports/{id}", |_i| "/api/v1/imports/999999".into(), body |_b| None, [U, D, D, D, 404, D, D, D, 404, D, D, 404]),
        row!("get" "/api/v1/policy", |_i| "/api/v1/policy".into(), body |_b| None, [U, D, R, D, D, D, D, D, D, D, D, D]),
        row!("patch" "/api/v1/policy", |_i| "/api/v1/policy".into(), body |_b| Some(json!({})), [U, D, R, D, D, D, D, D, D, D, D, D]),
        row!("post" "/api/v1/notices", |_i| "/api/v1/notices".into(), body |i| Some(json!({"campaign": "luoping", "level": "general", "title": " ", "requirement": "x", "reply_working_days": 5, "assignment_ids": [i.own_assignment]})), [U, D, D, D, 422, D, D, D, D, D, D, 422]),
        row!("get" "/api/v1/notices", |_i| "/api/v1/notices".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, R]),
        row!("get" "/api/v1/notices/{id}", |i| format!("/api/v1/notices/{}", i.notice), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("get" "/api/v1/notices/{id}/document", |i| format!("/api/v1/notices/{}/document", i.notice), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, 404]),
        row!("get" "/api/v1/notices/{id}/files/{file_id}", |i| format!("/api/v1/notices/{}/files/999999", i.notice), body |_b| None, [U, 404, 404, 404, 404, 404, 404, 404, 404, D, 404, 404]),
        row!("post" "/api/v1/notice-recipients/{id}/actions", |i| format!("/api/v1/notice-recipients/{}/actions", i.recipient), body |_b| Some(json!({"step": "request_extension", "text": "x", "until": "2099-01-01"})), [U, D, D, D, D, 409, 409, D, D, D, D, 404]),
        row!("post" "/api/v1/notice-recipients/{id}/reply", |i| format!("/api/v1/notice-recipients/{}/reply", i.recipient), body |_b| Some(json!({"text": "已办理"})), [U, D, D, D, D, 409, 409, D, D, D, D, 404]),
        // 师宗县 names 罗平县's campaign in the body: as absent as in a path.
        row!("post" "/api/v1/urgings", |_i| "/api/v1/urgings".into(), body |_b| Some(json!({"campaign": "luoping", "assignment_ids": []})), [U, D, D, D, 422, D, D, D, D, D, D, 404]),
        row!("get" "/api/v1/reminder-rules", |_i| "/api/v1/reminder-rules".into(), body |_b| None, [U, R, R, R, R, R, R, R, R, D, R, R]),
        row!("put" "/api/v1/reminder-rules", |_i| "/api/v1/reminder-rules".into(), body |_b| Some(serde_json::from_str(RULES_WITH_A_MISTAKE).unwrap()), [U, D, D, D, 422, D, D, D, D, D, D, 422]),
        row!("get" "/api/v1/units/{id}/leader", |i| format!("/api/v1/units/{}/leader", i.justice), body |_b| None, [U, 404, D, D, 404, 404, D, D, D, D, D, 404]),
        row!("put" "/api/v1/units/{id}/leader", |i| format!("/api/v1/units/{}/leader", i.justice), body |_b| Some(json!({"name": " "})), [U, D, D, D, 422, D, D, D, D, D, D, 404]),
        row!("get" "/api/v1/me/channels", |_i| "/api/v1/me/channels".into(), body |_b| None, [U, R, R, R, R, R, R, R, D, D, R, R]),
        row!("put" "/api/v1/me/channels", |_i| "/api/v1/me/channels".into(), body |_b| Some(json!({"email": "not-an-address"})), [U, 422, 422, 422, 422, 422, 422, 422, D, D, 422, 422]),
        row!("get" "/api/v1/users/{id}/channels", |i| format!("/api/v1/users/{}/channels", i.staff), body |_b| None, [U, R, 404, 404, 404, R, R, 404, 404, 404, 404, 404]),
        row!("put" "/api/v1/users/{id}/channels", |i| format!("/api/v1/users/{}/channels", i.staff), body |_b| Some(json!({"email": "not-an-address"})), [U, 422, 404, 404, 404, 422, 422, 404, 404, 404, 404, 404]),
        row!("get" "/api/v1/endpoints", |_i| "/api/v1/endpoints".into(), body |_b| None, [U, R, D, D, D, D, D, D, D, D, D, D]),
        row!("post" "/api/v1/endpoints", |_i| "/api/v1/endpoints".into(), body |_b| Some(json!({"channel": "webhook", "name": " ", "url": "http://10.0.0.1/", "events": []})), [U, 422, D, D, D, D, D, D, D, D, D, D]),
        row!("delete" "/api/v1/endpoints/{id}", |_i| "/api/v1/endpoints/999999".into(), body |_b| None, [U, 404, D, D, D, D, D, D, D, D, D, D]),
        row!("get" "/api/v1/deliveries", |_i| "/api/v1/deliveries".into(), body |_b| None, [U, R, D, D, D, D, D, D, D, D, D, D]),
        row!("post" "/api/v1/deliveries/{id}/redeliver", |_i| "/api/v1/deliveries/999999/redeliver".into(), body |_b| None, [U, 404, D, D, D, D, D, D, D, D, D, D]),
        row!("get" "/api/v1/me/sessions", |_i| "/api/v1/me/sessions".into(), body |_b| None, [U, R, R, R, R, R, R, R, D, D, R, R]),
        row!("delete" "/api/v1/me/sessions/{id}", |_i| "/api/v1/me/sessions/not-a-session".into(), body |_b| None, [U, 404, 404, 404, 404, 404, 404, 404, D, D, 404, 404]),
        row!("post" "/api/v1/me/mfa/totp", |_i| "/api/v1/me/mfa/totp".into(), body |_b| None, [U, 409, 409, 409, R, R, R, R, D, D, R, R]),
        row!("post" "/api/v1/me/mfa/totp/confirm", |_i| "/api/v1/me/mfa/totp/confirm".into(), body |_b| Some(json!({"code": "000000"})), [U, 409, 409, 409, 422, 422, 422, 422, D, D, 422, 422]),
        row!("post" "/api/v1/me/mfa/recovery-codes", |_i| "/api/v1/me/mfa/recovery-codes".into(), body |_b| Some(json!({"code": "000000"})), [U, 422, 422, 422, 409, 409, 409, 409, D, D, 409, 409]),
        row!("post" "/api/v1/me/mfa/disable", |_i| "/api/v1/me/mfa/disable".into(), body |_b| Some(json!({"code": "000000"})), [U, 409, 409, 409, 409, 409, 409, 409, D, D, 409, 409]),
        row!("post" "/api/v1/users/{id}/unlock", |i| format!("/api/v1/users/{}/unlock", i.staff), body |_b| None, [U, D, 204, D, D, D, D, D, D, D, D, 404]),
        row!("post" "/api/v1/users/{id}/mfa-reset", |_i| "/api/v1/users/999999/mfa-reset".into(), body |_b| None, [U, D, 404, D, D, D, D, D, D, D, D, D]),
        row!("get" "/api/v1/sessions", |_i| "/api/v1/sessions".into(), body |_b| None, [U, R, R, D, D, D, D, D, D, D, D, D]),
        row!("delete" "/api/v1/sessions/{id}", |_i| "/api/v1/sessions/not-a-session".into(), body |_b| None, [U, 404, 404, D, D, D, D, D, D, D, D, D]),
    ]
}

fn caller(server: &TestServer, name: &str, keys: &(String, String)) -> Client {
    match name {
        "anonymous" => server.anonymous(),
        "admin" => server.login("admin"),
        "security_admin" => server.login("security"),
        "audit_admin" => server.login("auditor"),
        "lead_office" => server.login("yfzxb"),
        "unit_manager" => server.login("sfj"),
        "unit_staff" => server.login("sfj-staff"),
        "inspector" => server.login("inspector"),
        "key_with_scopes" => server.with_bearer(&keys.0),
        "key_without" => server.with_bearer(&keys.1),
        "area_office" => server.login("qjfzb"),
        "other_county" => server.session("szfzb"),
        other => unreachable!("{other}"),
    }
}

#[test]
fn every_endpoint_answers_every_caller_as_the_policy_says() {
    let db = TestDb::with_demo();
    let server = TestServer::start(&db);
    let admin = server.login("admin");
    let security = server.login("security");
    let client: Value = security.post("/api/v1/api-clients", &json!({"name": "matrix portal"})).json().unwrap();
    let key = |scopes: Value| -> String {
        let created: Value =
            security.post(&format!("/api/v1/api-clients/{}/keys", client["id"]), &json!({"scopes": scopes})).json().unwrap();
        created["key"].as_str().unwrap().to_owned()
    };
    let keys = (key(json!(["tasks:read", "progress:read", "evidence:read", "audit:read", "import:write"])), key(json!(["evidence:read"])));

    // A second county in the city, started from the checklist by the
    // city's office, with a lead office of its own.
    crate::support::second_county_with_its_office(&db, &server.base);

    let manager = server.login("sfj");
    let justice = manager.get_json("/api/v1/me")["unit"]["id"].as_i64().unwrap();
    let led: Value = manager.get_json(&format!("/api/v1/assignments?unit={justice}&role=lead&limit=1"));
    let users: Value = admin.get_json("/api/v1/users");
    let user_id = |name: &str| users.as_array().unwrap().iter().find(|u| u["username"] == name).unwrap()["id"].as_i64().unwrap();
    let groups: Value = admin.get_json("/api/v1/unit-groups");
    let own_assignment = led["items"][0]["id"].as_i64().unwrap();
    let notice: Value = server
        .login("yfzxb")
        .post("/api/v1/notices", &json!({"campaign": "luoping", "level": "general", "title": "矩阵督办", "requirement": "x", "reply_working_days": 5, "assignment_ids": [own_assignment]}))
        .json()
        .unwrap();
    let ids = Ids {
        task: led["items"][0]["task"]["id"].as_i64().unwrap(),
        own_assignment: led["items"][0]["id"].as_i64().unwrap(),
        unit: justice,
        group: groups[0]["id"].as_i64().unwrap(),
        justice,
        admin: user_id("admin"),
        staff: user_id("sfj-staff"),
        api_client: client["id"].as_i64().unwrap(),
        notice: notice["id"].as_i64().unwrap(),
        recipient: notice["recipients"][0]["id"].as_i64().unwrap(),
    };

    // The table covers exactly the documented operations.
    let document = duban::http::openapi::document();
    let documented: BTreeSet<(String, String)> = serde_json::to_value(document).unwrap()["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |method| (method.clone(), path.clone())))
        .collect();
    let rows = rows();
    let tabled: BTreeSet<(String, String)> = rows.iter().map(|row| (row.method.to_owned(), row.template.to_owned())).collect();
    let missing: Vec<_> = documented.difference(&tabled).collect();
    assert!(missing.is_empty(), "endpoints without a row in the role matrix (tests/it/matrix.rs): {missing:?}");
    let stale: Vec<_> = tabled.difference(&documented).collect();
    assert!(stale.is_empty(), "rows for endpoints that do not exist: {stale:?}");

    let mut failures = Vec::new();
    for (index, name) in CALLERS.iter().enumerate() {
        // Each column stands alone: the failed sign-ins of the columns
        // before (all from this address) must not throttle it.
        diesel::RunQueryDsl::execute(diesel::sql_query("DELETE FROM sign_in_throttle"), &mut db.conn()).unwrap();
        let client = caller(&server, name, &keys);
        for row in &rows {
            // Logging out ends the session: give it one of its own.
            let client = if row.template == "/api/v1/auth/logout" { caller(&server, name, &keys) } else { client.clone() };
            let method = reqwest::Method::from_bytes(row.method.to_uppercase().as_bytes()).unwrap();
            let mut request = client.request(method, &(row.path)(&ids));
            if row.method == "patch" && row.template.starts_with("/api/v1/assignments") {
                request = request.header("If-Match", "\"0\"");
            }
            if let Some(body) = (row.body)(&ids) {
                request = request.json(&body);
            }
            let response = request.send().unwrap();
            let status = response.status().as_u16();
            if status != row.expect[index] {
                failures.push(format!(
                    "{} {} as {name}: expected {}, got {status} {}",
                    row.method.to_uppercase(),
                    row.template,
                    row.expect[index],
                    response.text().unwrap_or_default()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} cell(s) of the matrix differ:\n{}", failures.len(), failures.join("\n"));
}
