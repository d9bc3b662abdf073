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

/// Every `.rs` file under `dir`, with its path relative to `dir`.
fn sources(dir: &std::path::Path) -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, base: &std::path::Path, into: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, base, into);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let relative = path.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                into.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    files
}

/// The code of a Rust source without comments and without the contents of
/// string and character literals, so that checks on the code are not
/// fooled by what comments and messages say. Lines are kept.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                if chars[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if c == 'r'
            && (next == Some('"') || (next == Some('#') && chars.get(i + 2).is_some_and(|c| *c == '"' || *c == '#')))
            && !chars.get(i.wrapping_sub(1)).is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string r"…" or r#"…"#.
            let mut hashes = 0;
            i += 1;
            while chars.get(i) == Some(&'#') {
                hashes += 1;
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
            while i < chars.len() {
                if chars[i] == '"' && (0..hashes).all(|k| chars.get(i + 1 + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                if chars[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
        } else if c == '"' {
            out.push_str("\"\"");
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if chars.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
        } else if c == '\''
            && (chars.get(i + 2) == Some(&'\'') || (next == Some('\\') && chars[i + 2..].iter().take(10).any(|c| *c == '\'')))
        {
            // A character literal ('x', '\n', '\u{…}'); a lifetime has no closing quote.
            out.push_str("' '");
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The modules of the server below the HTTP layer: everything but `http/`
/// and the command line (`cli.rs`, `main.rs`), which sits on top.
fn below_http() -> Vec<(String, String)> {
    sources(&workspace().join("backend/server/src"))
        .into_iter()
        .filter(|(path, _)| !path.starts_with("http/") && path != "cli.rs" && path != "main.rs")
        .collect()
}

#[test]
fn only_the_http_layer_and_the_command_line_know_http() {
    let mut problems = Vec::new();
    for (path, text) in below_http() {
        for (number, line) in code_only(&text).lines().enumerate() {
            if line.contains("crate::http") || line.contains("actix") || line.contains("StatusCode") {
                problems.push(format!("backend/server/src/{path}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(problems.is_empty(), "modules below http/ must not import it, actix or HTTP statuses:\n{}", problems.join("\n"));
}

#[test]
fn authz_is_pure_policy() {
    let text = code_only(&std::fs::read_to_string(workspace().join("backend/server/src/authz.rs")).unwrap());
    for forbidden in ["diesel", "PgConnection", "actix", "HttpRequest", "crate::http", "crate::auth::"] {
        assert!(!text.contains(forbidden), "authz.rs decides access from what it is given; it mentions {forbidden}");
    }
}

#[test]
fn only_the_dispatcher_talks_to_the_outside_and_only_messages_fill_the_outbox() {
    let server = sources(&workspace().join("backend/server/src"));
    let talkers: Vec<&String> = server
        .iter()
        .filter(|(_, text)| ["lettre", "reqwest"].iter().any(|client| code_only(text).contains(client)))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(talkers, ["dispatch.rs"], "only the dispatcher sends anything out, after the commit");
    // Outbox rows are written with the event, by `messages` (in rows, or as
    // the CTEs of the scheduler's set-based statements).
    let writers: Vec<&String> = server
        .iter()
        .filter(|(_, text)| text.contains("insert_into(outbox::table)") || text.contains("INSERT INTO outbox"))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(writers, ["messages.rs"], "outbox rows are written only with their event");
}

#[test]
fn only_the_command_line_makes_an_operator() {
    let server = sources(&workspace().join("backend/server/src"));
    let makers: Vec<String> = server
        .iter()
        .filter(|(path, text)| path != "authz.rs" && code_only(text).contains("Operator::at_command_line()"))
        .map(|(path, _)| path.clone())
        .collect();
    assert_eq!(makers, ["cli.rs"], "only the command line makes an Operator");
    let authz = std::fs::read_to_string(workspace().join("backend/server/src/authz.rs")).unwrap();
    assert!(authz.contains("pub(crate) fn at_command_line()"), "Operator::at_command_line stays crate-private");
}

#[test]
fn only_the_rulebook_decides_transitions() {
    // A rule about an assignment's status is a match on its statuses; the
    // rulebook (backend/rules) is the one place for it, in the server and
    // in the browser client alike.
    let mut problems = Vec::new();
    for root in ["backend/server/src", "frontend/src"] {
        for (path, text) in sources(&workspace().join(root)) {
            for (number, line) in code_only(&text).lines().enumerate() {
                let decides = (line.contains("AssignmentStatus::") && line.contains("=>"))
                    || line.contains("=> AssignmentStatus::")
                    || (line.contains("matches!(") && line.contains("AssignmentStatus::"));
                if decides {
                    problems.push(format!("{root}/{path}:{}: {}", number + 1, line.trim()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "a second transition table:\n{}", problems.join("\n"));
    let client = std::fs::read_to_string(workspace().join("frontend/Cargo.toml")).unwrap();
    assert!(client.contains("duban-rules"), "the browser client applies the rulebook");
    let rules = std::fs::read_to_string(workspace().join("backend/rules/Cargo.toml")).unwrap();
    for forbidden in ["diesel", "actix", "tokio", "leptos"] {
        assert!(!rules.contains(forbidden), "the rulebook is pure: it depends on {forbidden}");
    }
}

/// The names of the capability types `authz` makes.
fn capabilities() -> Vec<String> {
    let authz = std::fs::read_to_string(workspace().join("backend/server/src/authz.rs")).unwrap();
    let mut names: Vec<String> = authz
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            line.strip_prefix("pub struct ")
                .or_else(|| line.strip_prefix("pub enum "))
                .or_else(|| line.strip_prefix("pub trait "))
                .map(|rest| rest.split([' ', '{', '(', ';']).next().unwrap_or_default().to_owned())
        })
        .filter(|name| !["UserActor", "ClientActor", "Actor", "Caller", "RequestInfo", "Area"].contains(&name.as_str()))
        .collect();
    // Capabilities declared with the capability! and area_capability! macros.
    let mut lines = authz.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "capability!(" || line.trim() == "area_capability!(" {
            for inner in lines.by_ref() {
                let inner = inner.trim();
                if !inner.starts_with("///") && !inner.is_empty() {
                    names.push(inner.trim_end_matches(',').to_owned());
                    break;
                }
            }
        }
    }
    names
}

/// Public functions whose body writes, and whose signature holds no capability.
fn writers_without_capability(path: &str, text: &str, capabilities: &[String]) -> Vec<String> {
    const WRITES: [&str; 5] = ["diesel::insert_into(", "diesel::update(", "diesel::delete(", "audit::record(", "sql_query(\"\"\")"];
    let code = code_only(text);
    let mut found = Vec::new();
    let mut search = 0;
    while let Some(offset) = code[search..].find("fn ") {
        let start = search + offset;
        search = start + 3;
        let line_start = code[..start].rfind('\n').map_or(0, |i| i + 1);
        let head = code[line_start..start].trim();
        if !(head == "pub" || head == "pub(crate)" || head.ends_with(" pub") || head.ends_with(" pub(crate)")) {
            continue;
        }
        let Some(open) = code[start..].find('{').map(|i| start + i) else { break };
        if code[start..open].contains(';') {
            continue;
        }
        let signature = &code[start..open];
        let mut depth = 0;
        let mut end = open;
        for (index, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + index;
                        break;
                    }
                }
                _ => {}
            }
        }
        let body = &code[open..end];
        let writes = WRITES.iter().any(|write| body.contains(write))
            || body.contains("sql_query(\"\")") && (text[start..].lines().take(40).any(|l| l.contains("INSERT") || l.contains("UPDATE")));
        let name = signature.trim_start_matches("fn ").split(['(', '<']).next().unwrap_or_default().to_owned();
        let holds = capabilities
            .iter()
            .any(|capability| signature.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|word| word == capability.as_str()));
        if writes && !holds {
            found.push(format!("{path}::{name}"));
        }
        search = end.max(search);
    }
    found
}

/// Functions that write without a capability on purpose, and why.
const WRITES_WITHOUT_CAPABILITY: &[(&str, &str)] = &[
    ("accounts/sessions.rs::login", "signing in: the credentials are the authority"),
    ("audit/anchor.rs::recompute_tail_for_tests", "built only with the test-support feature: plays the insider the checkpoints catch"),
    ("accounts/sessions.rs::refresh", "refreshing: the refresh token is the authority"),
    ("auth/credentials.rs::client_of_key", "identifying an API key's client; it only marks the key used"),
    (
        "auth/credentials.rs::user_of_token",
        "identifying a session's user records its activity, and ends it when the policy says it is over",
    ),
    ("auth/throttle.rs::reserve", "counting a sign-in attempt before its password is checked is part of signing in"),
    ("auth/throttle.rs::succeeded", "a sign-in's outcome, recorded for the throttle"),
    ("auth/throttle.rs::succeeded_for_account", "a right authenticator code inside a session, recorded for the throttle"),
    ("auth/throttle.rs::failed", "a sign-in's outcome, recorded for the throttle (and the lockout)"),
    ("auth/tokens.rs::signing_secret", "the server generates its own signing key on first start"),
    ("notifications.rs::send", "a notice written inside a change that holds its capability"),
    ("messages.rs::publish", "messages written inside a change that holds its capability"),
    ("dispatch.rs::round", "the dispatcher records its delivery attempts: background work that serve starts"),
    ("evidence/mod.rs::mark_corrupted", "a reader holding a capability found an object corrupted"),
    ("rollup.rs::refresh", "a cache refreshed inside a change that holds its capability"),
];

#[test]
fn every_function_that_writes_takes_a_capability() {
    let capabilities = capabilities();
    assert!(capabilities.iter().any(|name| name == "WorkOn") && capabilities.iter().any(|name| name == "Operator"), "{capabilities:?}");
    let mut problems = Vec::new();
    for (path, text) in below_http() {
        // The database, the audit chain and the command line's data
        // generator are below or beside the domain; the audit chain records
        // what a capability allowed.
        if path.starts_with("db/") || path.starts_with("audit/chain") || path == "authz.rs" {
            continue;
        }
        for writer in writers_without_capability(&path, &text, &capabilities) {
            if !WRITES_WITHOUT_CAPABILITY.iter().any(|(allowed, _)| *allowed == writer) {
                problems.push(writer);
            }
        }
    }
    assert!(problems.is_empty(), "functions that write but take no capability (see authz.rs):\n{}", problems.join("\n"));
}

#[test]
fn the_layer_checks_notice_what_they_should() {
    let caps = vec!["WorkOn".to_owned()];
    let unguarded = "pub fn f(conn: &mut PgConnection) -> R {\n    diesel::delete(t::table).execute(conn)\n}\n";
    assert_eq!(writers_without_capability("x.rs", unguarded, &caps), ["x.rs::f"]);
    let guarded = "pub fn f(conn: &mut PgConnection, can: &WorkOn) -> R {\n    diesel::delete(t::table).execute(conn)\n}\n";
    assert!(writers_without_capability("x.rs", guarded, &caps).is_empty());
    let private = "fn f(conn: &mut PgConnection) -> R {\n    diesel::delete(t::table).execute(conn)\n}\n";
    assert!(writers_without_capability("x.rs", private, &caps).is_empty());
    let reader = "pub fn f(conn: &mut PgConnection) -> R {\n    t::table.load(conn) // diesel::delete( in a comment\n}\n";
    assert!(writers_without_capability("x.rs", reader, &caps).is_empty());
    assert_eq!(code_only("let s = \"use crate::http\"; // actix\nx"), "let s = \"\"; \nx");
    assert!(capabilities().iter().any(|name| name == "ReadEvidence"));
}

#[test]
fn only_the_archive_prunes_audit_rows_and_only_the_security_headers_set_them() {
    let server = sources(&workspace().join("backend/server/src"));
    let pruners: Vec<&String> = server.iter().filter(|(_, text)| text.contains("duban.audit_prune")).map(|(path, _)| path).collect();
    assert_eq!(pruners, ["audit/archive.rs"], "audit rows leave the database only through a signed archive");
    let header_setters: Vec<&String> = server
        .iter()
        .filter(|(_, text)| {
            ["CONTENT_SECURITY_POLICY", "STRICT_TRANSPORT_SECURITY", "X_FRAME_OPTIONS"].iter().any(|name| code_only(text).contains(name))
        })
        .map(|(path, _)| path)
        .collect();
    assert_eq!(header_setters, ["http/security_headers.rs"], "security headers are decided in one place");
    assert!(!server.iter().any(|(path, text)| path != "http/security_headers.rs" && text.contains("unsafe-inline")));
}

/// Process-wide state of the server, each with why it is safe to lose and
/// cannot make two instances disagree (ARCHITECTURE.md, "What an instance
/// keeps in memory").
const STATE_IN_MEMORY: &[(&str, &str, &str)] = &[
    ("auth/password.rs", "QUEUE", "the queue of password hashings waiting for a worker thread"),
    ("auth/password.rs", "thread_local!", "each hashing thread's reusable buffers"),
    ("auth/password.rs", "MEMORY", "each hashing thread's argon2 working memory"),
    ("auth/password.rs", "DUMMY", "a hash to verify against for unknown usernames, made once"),
    ("http/openapi.rs", "DOCUMENT", "the OpenAPI document the code generates, made once"),
    ("http/metrics.rs", "HANDLE", "this instance's Prometheus recorder (each instance reports its own)"),
    ("policy.rs", "CACHE", "the security policy for a few seconds, then read again"),
    (
        "http/request_connection.rs",
        "HANDED_OVER",
        "a request's own connection, from its caller check to its first work; gone with the request",
    ),
];

/// Tidy: the server keeps no process-wide state beyond the list above, so
/// an instance can be killed and another take over.
#[test]
fn the_server_keeps_only_listed_state_in_memory() {
    let mut found = Vec::new();
    for (path, text) in sources(&workspace().join("backend/server/src")) {
        for line in text.lines().map(str::trim) {
            let name = if line.starts_with("thread_local!") {
                Some("thread_local!".to_owned())
            } else if let Some(rest) = line.strip_prefix("static ").or_else(|| line.strip_prefix("pub static ")) {
                let shared = ["Mutex", "RwLock", "OnceLock", "LazyLock", "Atomic", "Cell"].iter().any(|kind| rest.contains(kind));
                shared.then(|| rest.split([':', ' ']).next().unwrap_or_default().to_owned())
            } else {
                None
            };
            if let Some(name) = name {
                found.push((path.clone(), name));
            }
        }
    }
    let unlisted: Vec<_> = found.iter().filter(|(path, name)| !STATE_IN_MEMORY.iter().any(|(p, n, _)| p == path && n == name)).collect();
    assert!(unlisted.is_empty(), "process-wide state not in STATE_IN_MEMORY (say why it is safe to lose): {unlisted:?}");
}
