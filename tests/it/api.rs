//! The HTTP API, served in-process against a real database.

use actix_web::http::StatusCode;
use actix_web::test as actix_test;
use duban::http::{AppState, app};
use duban_dto::api::{CampaignSummary, Health, Problem};
use duban_tests::TestDb;

use crate::support::workspace;

#[actix_web::test]
async fn health_answers_with_the_database_state() {
    let db = TestDb::new();
    let service = actix_test::init_service(app(AppState { pool: db.pool() }, None)).await;
    let response = actix_test::call_service(&service, actix_test::TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("x-request-id"));
    let health: Health = actix_test::read_body_json(response).await;
    assert!(health.database);
}

#[actix_web::test]
async fn campaigns_list_their_task_counts() {
    let db = TestDb::with_demo();
    let service = actix_test::init_service(app(AppState { pool: db.pool() }, None)).await;
    let campaigns: Vec<CampaignSummary> =
        actix_test::call_and_read_body_json(&service, actix_test::TestRequest::get().uri("/api/v1/campaigns").to_request()).await;
    assert_eq!(campaigns.len(), 1);
    let luoping = &campaigns[0];
    assert_eq!((luoping.code.as_str(), luoping.region.as_str()), ("luoping", "罗平县"));
    assert_eq!((luoping.level1_indicators, luoping.level2_indicators), (9, 32));
    let counts: Vec<i64> = luoping.task_counts.iter().map(|count| count.tasks).collect();
    assert_eq!(counts, [155, 32, 35, 7]);
}

#[actix_web::test]
async fn unknown_routes_are_problems_with_the_request_id() {
    let db = TestDb::new();
    let service = actix_test::init_service(app(AppState { pool: db.pool() }, None)).await;
    let request =
        actix_test::TestRequest::get().uri("/api/v1/nothing-here").insert_header(("x-request-id", "portal-req-000001")).to_request();
    let response = actix_test::call_service(&service, request).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers().get("content-type").unwrap(), "application/problem+json");
    assert_eq!(response.headers().get("x-request-id").unwrap(), "portal-req-000001");
    let problem: Problem = actix_test::read_body_json(response).await;
    assert_eq!(problem.code, "not_found");
    assert_eq!(problem.status, 404);
    assert_eq!(problem.request_id.as_deref(), Some("portal-req-000001"));
}

#[actix_web::test]
async fn serves_the_openapi_document_and_its_docs_page() {
    let db = TestDb::new();
    let service = actix_test::init_service(app(AppState { pool: db.pool() }, None)).await;
    let document: serde_json::Value =
        actix_test::call_and_read_body_json(&service, actix_test::TestRequest::get().uri("/api/v1/openapi.json").to_request()).await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(document["paths"]["/api/v1/campaigns"]["get"].is_object());
    let response = actix_test::call_service(&service, actix_test::TestRequest::get().uri("/docs/").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = String::from_utf8(actix_test::read_body(response).await.to_vec()).unwrap();
    assert!(page.contains("swagger-ui"), "the docs page is Swagger UI, served by duban itself");
    assert!(!page.contains("https://"), "the docs page loads nothing from the network");
}

#[test]
fn committed_openapi_document_matches_the_code() {
    let path = workspace().join("openapi/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == duban::cli::openapi_json(), "openapi/openapi.json is out of date: run `cargo xtask openapi`");
}
