//! Checks on the source itself, run as ordinary tests.

use crate::support::workspace;

/// Routes added without `#[utoipa::path]` on purpose: not API operations.
const UNDOCUMENTED_ON_PURPOSE: &[&str] = &[
    // The OpenAPI document itself and its docs page.
    r#".route("/api/v1/openapi.json""#,
    r#"web::redirect("/docs", "/docs/")"#,
];

/// What is wrong with the routes of one source file of the HTTP layer:
/// handlers without `#[utoipa::path]`, handlers not registered in
/// `http::routes` (the `registry`), routes added some other way.
fn route_problems(file: &str, text: &str, registry: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let module = file.trim_end_matches(".rs");
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if ["#[get(", "#[post(", "#[patch(", "#[put(", "#[delete("].iter().any(|attr| trimmed.starts_with(attr)) {
            // The attributes between the previous item and this one.
            let start = lines[..index]
                .iter()
                .rposition(|above| {
                    let above = above.trim_start();
                    above.starts_with('}') || above.starts_with("pub ") || above.starts_with("fn ") || above.starts_with("use ")
                })
                .map_or(0, |i| i + 1);
            if !lines[start..index].iter().any(|above| above.trim_start().starts_with("#[utoipa::path")) {
                problems.push(format!("{file}:{}: a route without #[utoipa::path]", index + 1));
            }
            let handler = lines[index + 1..]
                .iter()
                .find_map(|next| next.trim_start().strip_prefix("pub async fn ").or_else(|| next.trim_start().strip_prefix("async fn ")))
                .and_then(|rest| rest.split(['(', '<']).next())
                .unwrap_or_default();
            if !registry.contains(&format!(".service({module}::{handler})")) {
                problems.push(format!("{file}:{}: handler {handler} is not registered in http::routes", index + 1));
            }
        }
        let adds_route = trimmed.contains(".route(") || trimmed.contains("web::resource(") || trimmed.contains("web::redirect(");
        if adds_route && !UNDOCUMENTED_ON_PURPOSE.iter().any(|allowed| trimmed.contains(allowed)) {
            problems.push(format!("{file}:{}: a route added outside http::routes, so without OpenAPI docs: {trimmed}", index + 1));
        }
    }
    problems
}

#[test]
fn every_route_is_documented_and_registered() {
    let dir = workspace().join("backend/server/src/http");
    let registry = std::fs::read_to_string(dir.join("mod.rs")).unwrap();
    let mut problems = Vec::new();
    let mut handlers = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            handlers += text.lines().filter(|line| line.trim_start().starts_with("#[utoipa::path")).count();
            problems.extend(route_problems(&path.file_name().unwrap().to_string_lossy(), &text, &registry));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let operations: usize = duban::http::openapi::document()
        .paths
        .paths
        .values()
        .map(|item| [&item.get, &item.post, &item.patch, &item.put, &item.delete].iter().filter(|op| op.is_some()).count())
        .sum();
    assert_eq!(handlers, operations, "every documented handler is one operation of the OpenAPI document");
}

#[test]
fn the_route_check_notices_what_it_should() {
    let undocumented = "use x;\n/// Says hello.\n#[get(\"/hello\")]\npub async fn hello() -> String {\n}\n";
    let problems = route_problems("greet.rs", undocumented, ".service(greet::other)");
    assert!(problems.iter().any(|p| p.contains("without #[utoipa::path]")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("hello is not registered")), "{problems:?}");
    let documented = "use x;\n#[utoipa::path(\n    tag = \"t\",\n    responses((status = 200))\n)]\n#[get(\"/hello\")]\npub async fn hello() -> String {\n}\n";
    assert!(route_problems("greet.rs", documented, ".service(greet::hello)").is_empty());
    let sneaky = "fn f(app: App) { app.route(\"/secret\", web::get().to(h)); }\n";
    assert_eq!(route_problems("x.rs", sneaky, "").len(), 1);
}
