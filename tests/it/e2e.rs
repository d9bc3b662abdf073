//! The browser client end to end, in a real headless Chromium (Debian's,
//! driven through Debian's chromedriver), against `duban serve` with the
//! demo data: the whole review flow, the dashboard following it, and an
//! inspector who can read everything and change nothing. Screenshots of
//! each page go to `DUBAN_SCREENSHOTS` (target/screenshots by default).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use duban_tests::TestDb;
use serde_json::Value;
use thirtyfour::prelude::*;

use crate::support::{Server, workspace};

const STEP: Duration = Duration::from_secs(20);

/// The two screens every browser flow runs on: an office desk's and a phone's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Viewport {
    Desk,
    Phone,
}

impl Viewport {
    /// "width,height" in CSS pixels.
    fn size(self) -> &'static str {
        match self {
            Viewport::Desk => "1440,900",
            Viewport::Phone => "390,844",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Viewport::Desk => "desk",
            Viewport::Phone => "phone",
        }
    }
}

/// Runs a browser flow `fn flow(viewport: Viewport)` as two tests,
/// `flow::at_a_desk` (1440×900) and `flow::on_a_phone` (390×844).
macro_rules! on_a_desk_and_a_phone {
    ($flow:ident) => {
        mod $flow {
            #[test]
            fn at_a_desk() {
                super::$flow(super::Viewport::Desk)
            }

            #[test]
            fn on_a_phone() {
                super::$flow(super::Viewport::Phone)
            }
        }
    };
}

struct Browser {
    driver: WebDriver,
    base: String,
    shots: PathBuf,
    chromedriver: Child,
}

impl Browser {
    /// A Chromium showing the client at `base` in a `viewport`.
    async fn start(base: &str, viewport: Viewport) -> Browser {
        let size = viewport.size();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let chromedriver_path = std::env::var("DUBAN_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
        let chromedriver = Command::new(&chromedriver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{chromedriver_path}: {error}; `cargo xtask setup` installs Debian's chromium-driver"));
        let deadline = Instant::now() + STEP;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&std::env::var("DUBAN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())).unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--lang=zh-CN",
            // Nothing outside this machine is reachable, as in a county's intranet.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_arg(&format!("--window-size={size}")).unwrap();
        // A window is never narrower than 500 px; a phone's width is emulated.
        if let Some((width, height)) = size.split_once(',').and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
            && width < 500
        {
            let metrics = serde_json::json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 3.0}});
            caps.add_experimental_option("mobileEmulation", metrics).unwrap();
        }
        let profile = tempfile::tempdir().unwrap().keep();
        caps.add_arg(&format!("--user-data-dir={}", profile.display())).unwrap();
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), caps).await.expect("a Chromium session");
        let shots = std::env::var("DUBAN_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|_| workspace().join("target/screenshots"))
            .join(viewport.name());
        std::fs::create_dir_all(&shots).unwrap();
        for stale in ["failure.png", "failure.html"] {
            let _ = std::fs::remove_file(shots.join(stale));
        }
        Browser { driver, base: base.to_owned(), shots, chromedriver }
    }

    async fn open(&self, path: &str) {
        self.driver.goto(format!("{}{path}", self.base)).await.unwrap();
    }

    async fn find(&self, css: &str) -> WebElement {
        match self.driver.query(By::Css(css)).wait(STEP, Duration::from_millis(100)).first().await {
            Ok(element) => element,
            Err(error) => self.fail(&format!("{css}: {error}")).await,
        }
    }

    /// Stops the test, leaving a screenshot and the page's DOM beside the
    /// others to see what the browser showed.
    async fn fail(&self, why: &str) -> ! {
        let _ = self.driver.screenshot(&self.shots.join("failure.png")).await;
        let source = self.driver.source().await.unwrap_or_default();
        let _ = std::fs::write(self.shots.join("failure.html"), &source);
        panic!("{why}\n(see failure.png and failure.html in {})", self.shots.display());
    }

    async fn absent(&self, css: &str) -> bool {
        self.driver.find_all(By::Css(css)).await.unwrap().is_empty()
    }

    /// Waits until the element's text contains `text`.
    async fn wait_text(&self, css: &str, text: &str) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            if let Ok(element) = self.driver.find(By::Css(css)).await
                && let Ok(found) = element.text().await
                && found.contains(text)
            {
                return found;
            }
            if Instant::now() > deadline {
                self.fail(&format!("{css} never read {text:?}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + STEP;
        while !self.absent(css).await {
            if Instant::now() > deadline {
                self.fail(&format!("{css} is still there")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn shot(&self, name: &str) {
        // Let charts and lists settle before the picture.
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.driver.screenshot(&self.shots.join(format!("{name}.png"))).await.unwrap();
    }

    async fn sign_in(&self, username: &str) {
        self.sign_in_with(username, duban_tests::DEMO_PASSWORD).await;
    }

    async fn sign_in_with(&self, username: &str, password: &str) {
        self.open("/").await;
        // Whoever is signed in signs out first; wait until the app shows either.
        let shown = self.find("form.login, button.sign-out").await;
        if shown.tag_name().await.unwrap() == "button" {
            shown.click().await.unwrap();
        }
        self.find("form.login input[name=username]").await.send_keys(username).await.unwrap();
        self.find("form.login input[name=password]").await.send_keys(password).await.unwrap();
        self.find("form.login button[type=submit]").await.click().await.unwrap();
        self.find("button.sign-out").await;
    }

    async fn quit(mut self) {
        self.driver.quit().await.unwrap();
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

/// `duban serve` on `db` with the built browser client and an evidence
/// directory of its own, which lives as long as the returned guard.
/// The runtime a test drives Chromium from (the WebDriver client is async).
fn browser_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn serve_client(db: &TestDb) -> (Server, tempfile::TempDir) {
    let dist = workspace().join("frontend/dist");
    assert!(dist.join("index.html").exists(), "build the browser client first: cargo xtask frontend");
    let evidence = tempfile::tempdir().unwrap();
    let server = Server::start(
        evidence.path(),
        &[
            ("DATABASE_URL", db.url()),
            ("DUBAN_STATIC_DIR", dist.to_str().unwrap()),
            ("DUBAN_EVIDENCE_DIR", evidence.path().to_str().unwrap()),
            ("DUBAN_LOG", "warn,duban=info"),
        ],
    );
    (server, evidence)
}

fn pdf(path: &std::path::Path, content: &str) {
    std::fs::write(path, format!("%PDF-1.7\n% {content}\n%%EOF\n")).unwrap();
}

fn api_login(base: &str, username: &str) -> (reqwest::blocking::Client, String) {
    (reqwest::blocking::Client::new(), crate::support::demo_token(base, username))
}

fn api_get(base: &str, username: &str, path: &str) -> Value {
    let (http, token) = api_login(base, username);
    http.get(format!("{base}{path}")).bearer_auth(token).send().unwrap().json().unwrap()
}

on_a_desk_and_a_phone!(a_submission_is_returned_resubmitted_accepted_and_approved_in_the_browser);
fn a_submission_is_returned_resubmitted_accepted_and_approved_in_the_browser(viewport: Viewport) {
    let db = TestDb::with_demo();
    let (server, _evidence) = serve_client(&db);
    let base = server.base.clone();

    // The task: one that 县司法局 (sfj) leads; 罗雄街道 (lxjd) will be responsible.
    let justice = api_get(&base, "sfj", "/api/v1/me")["unit"]["id"].as_i64().unwrap();
    let township = api_get(&base, "lxjd", "/api/v1/me")["unit"]["id"].as_i64().unwrap();
    let task = api_get(&base, "sfj", &format!("/api/v1/tasks?lead_unit={justice}&limit=1"))["items"][0].clone();
    let task_id = task["id"].as_i64().unwrap();
    let files = tempfile::tempdir().unwrap();
    let first_file = files.path().join("自查报告.pdf");
    let second_file = files.path().join("自查报告（盖章）.pdf");
    pdf(&first_file, "first");
    pdf(&second_file, "second, stamped");

    // The browser's part runs on its own runtime; the API checks around it block.
    let runtime = browser_runtime();
    runtime.block_on(review_flow(&base, viewport, task_id, township, &first_file, &second_file));

    // … and the API refuses the inspector's writes all the same.
    let (http, token) = api_login(&base, "inspector");
    let assignment =
        api_get(&base, "inspector", &format!("/api/v1/assignments?task={task_id}&unit={township}"))["items"][0]["id"].as_i64().unwrap();
    for (path, body) in [
        (format!("/api/v1/assignments/{assignment}/submit"), serde_json::json!({})),
        (format!("/api/v1/tasks/{task_id}/assignments"), serde_json::json!({"unit_ids": [township], "role": "responsible"})),
        (format!("/api/v1/assignments/{assignment}/review"), serde_json::json!({"decision": "return", "reason": "x"})),
    ] {
        let status = http.post(format!("{base}{path}")).bearer_auth(&token).json(&body).send().unwrap().status();
        assert_eq!(status, 403, "{path}");
    }
    drop(server);
}

async fn review_flow(
    base: &str,
    viewport: Viewport,
    task_id: i64,
    township: i64,
    first_file: &std::path::Path,
    second_file: &std::path::Path,
) {
    let browser = Browser::start(base, viewport).await;
    let township_row = "tr[data-unit='罗雄街道']";
    let panel = "article.assignment[data-unit='罗雄街道']";

    // The lead office looks at the county and assigns the township.
    browser.sign_in("yfzxb").await;
    browser.find(".dashboard [data-figure=total-approved]").await;
    browser.shot("01-dashboard").await;
    browser.open("/tasks?q=行政").await;
    browser.wait_text("[data-figure=task-count]", "共").await;
    browser.shot("02-tasks").await;
    browser.open(&format!("/tasks/{task_id}")).await;
    browser.find(&format!("form.assign select[name=unit] option[value='{township}']")).await.click().await.unwrap();
    browser.find("form.assign button[type=submit]").await.click().await.unwrap();
    browser.find(panel).await;
    browser.shot("03-task-assigned").await;
    browser.open("/").await;
    browser.wait_text(&format!("{township_row} [data-figure=responsible-approved]"), "0/1").await;

    // The township uploads its material and submits it.
    browser.sign_in("lxjd").await;
    browser.open("/my").await;
    browser.find(&format!("section.to-do {panel} input[type=file]")).await.send_keys(first_file.to_str().unwrap()).await.unwrap();
    browser.find(&format!("section.to-do {panel} input[name=description]")).await.send_keys("2026年度自查报告").await.unwrap();
    browser.find(&format!("section.to-do {panel} button.upload")).await.click().await.unwrap();
    browser.wait_text(&format!("{panel} .evidence-item .file-name"), "自查报告.pdf").await;
    browser.shot("04-my-unit-uploaded").await;
    browser.find(&format!("{panel} button.submit")).await.click().await.unwrap();
    browser.wait_gone(&format!("section.to-do {panel}")).await;

    // The lead unit returns it with a reason.
    browser.sign_in("sfj").await;
    browser.open("/reviews").await;
    // A return without a reason is refused, in Chinese, beside the button.
    browser.find(&format!("{panel} button.return")).await.click().await.unwrap();
    browser.wait_text(&format!("{panel} p.error"), "退回时必须填写原因").await;
    browser.find(&format!("{panel} textarea[name=reason]")).await.send_keys("请补充盖章页").await.unwrap();
    browser.shot("05-review-queue").await;
    browser.find(&format!("{panel} button.return")).await.click().await.unwrap();
    browser.find("[data-figure=queue-empty]").await;

    // The township reads why, uploads a new version and submits again.
    browser.sign_in("lxjd").await;
    browser.open("/my").await;
    browser.wait_text(&format!("section.returned {panel} [data-figure=return-reason]"), "请补充盖章页").await;
    browser.shot("06-returned-with-reason").await;
    browser.find(&format!("section.returned {panel} details.new-version summary")).await.click().await.unwrap();
    browser
        .find(&format!("section.returned {panel} details.new-version input[type=file]"))
        .await
        .send_keys(second_file.to_str().unwrap())
        .await
        .unwrap();
    browser.find(&format!("section.returned {panel} details.new-version button.upload")).await.click().await.unwrap();
    browser.find(&format!("section.returned {panel} .evidence-item[data-version='2']")).await;
    browser.find(&format!("section.returned {panel} button.submit")).await.click().await.unwrap();
    browser.wait_gone(&format!("section.returned {panel}")).await;

    // The lead unit accepts; the lead office approves.
    browser.sign_in("sfj").await;
    browser.open("/reviews").await;
    browser.find(&format!("{panel} button.accept")).await.click().await.unwrap();
    browser.find("[data-figure=queue-empty]").await;
    browser.sign_in("yfzxb").await;
    browser.open("/reviews").await;
    browser.wait_text(&format!("{panel} .evidence-item .file-name"), "自查报告（盖章）.pdf").await;
    browser.find(&format!("{panel} button.approve")).await.click().await.unwrap();
    browser.find("[data-figure=queue-empty]").await;

    // The dashboard follows: the township's work is approved.
    browser.open("/").await;
    browser.wait_text(&format!("{township_row} [data-figure=responsible-approved]"), "1/1").await;
    browser.shot("07-dashboard-after").await;
    browser.open(&format!("/tasks/{task_id}")).await;
    browser.find(&format!("{panel}[data-status=approved] .badge.sealed")).await;
    browser.find(&format!("{panel} details.history summary")).await.click().await.unwrap();
    let history = browser.wait_text(&format!("{panel} details.history ol"), "依法治县办最终通过").await;
    assert!(history.contains("请补充盖章页"), "{history}");
    browser.shot("08-task-approved").await;
    browser.find(&format!("{panel} .evidence-item .actions button")).await.click().await.unwrap();
    browser.find(&format!("{panel} iframe.preview")).await;

    // An inspector reads everything and finds no control that writes.
    browser.sign_in("inspector").await;
    browser.find(".banner.read-only").await;
    // An expired access token is renewed on the way, and the page the
    // inspector asked for appears.
    browser
        .driver
        .execute(
            "const s = JSON.parse(localStorage.getItem('duban.session')); s.access_token = 'expired'; localStorage.setItem('duban.session', JSON.stringify(s));",
            Vec::new(),
        )
        .await
        .unwrap();
    browser.open(&format!("/tasks/{task_id}")).await;
    browser.find(panel).await;
    for control in
        ["form.assign", ".uploader", "button.submit", "button.accept", "button.approve", "button.return", "button.withdraw", "textarea"]
    {
        assert!(browser.absent(control).await, "an inspector sees {control}");
    }
    browser.shot("09-inspector-task").await;
    browser.open("/admin").await;
    browser.find("[role=tab]").await;
    assert!(browser.absent("form.inline input[name=name]").await, "an inspector may not add units");
    browser.shot("10-inspector-admin").await;
    browser.quit().await;
}

on_a_desk_and_a_phone!(a_notice_is_issued_from_the_late_list_acknowledged_replied_and_closed_in_the_browser);
fn a_notice_is_issued_from_the_late_list_acknowledged_replied_and_closed_in_the_browser(viewport: Viewport) {
    let db = TestDb::with_demo();
    let (server, _evidence) = serve_client(&db);
    let base = server.base.clone();
    // 县司法局's work on a task it leads is overdue.
    let justice = api_get(&base, "sfj", "/api/v1/me")["unit"]["id"].as_i64().unwrap();
    let late = api_get(&base, "sfj", &format!("/api/v1/assignments?unit={justice}&role=lead&limit=1"))["items"][0]["id"].as_i64().unwrap();
    let (http, token) = api_login(&base, "yfzxb");
    let yesterday = duban::clock::today().pred_opt().unwrap();
    let response = http
        .patch(format!("{base}/api/v1/assignments/{late}"))
        .bearer_auth(&token)
        .header("If-Match", "*")
        .json(&serde_json::json!({"due_date": yesterday}))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let files = tempfile::tempdir().unwrap();
    let report = files.path().join("整改情况报告.pdf");
    pdf(&report, "整改情况");

    let runtime = browser_runtime();
    let notice = runtime.block_on(supervision_flow(&base, viewport, late, &report));
    let notice = api_get(&base, "yfzxb", &format!("/api/v1/notices/{notice}"));
    let kinds: Vec<&str> = notice["recipients"][0]["history"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["issued", "acknowledge", "reply", "close"]);
    assert_eq!(notice["level"], "urgent");
    assert_eq!(notice["recipients"][0]["history"][2]["files"][0]["file_name"], "整改情况报告.pdf");
    assert_eq!(api_get(&base, "sfj", "/api/v1/me/channels")["email"], "sfj@luoping.gov.cn");
    drop(server);
}

async fn supervision_flow(base: &str, viewport: Viewport, late: i64, report: &std::path::Path) -> i64 {
    let browser = Browser::start(base, viewport).await;
    let unit = "article.recipient[data-unit='县司法局']";

    // The lead office picks the late work on the dashboard and issues a notice.
    browser.sign_in("yfzxb").await;
    browser.find(&format!(".late-list tr[data-late='{late}'] input[type=checkbox]")).await.click().await.unwrap();
    browser.shot("11-late-list").await;
    browser.find(".late-list a.issue").await.click().await.unwrap();
    let title = browser.find("form.issue-notice input[name=title]").await;
    title.clear().await.unwrap();
    title.send_keys("关于加快推进行政执法公示的督办通知").await.unwrap();
    browser.find("form.issue-notice select[name=level] option[value=urgent]").await.click().await.unwrap();
    browser.shot("12-issue-notice").await;
    browser.find("form.issue-notice button[type=submit]").await.click().await.unwrap();
    let number = browser.wait_text("[data-figure=doc-number]", "罗法治办督〔").await;
    assert!(number.ends_with("1号"), "{number}");
    browser.find(&format!("{unit}[data-state=sent]")).await;
    let url = browser.driver.current_url().await.unwrap();
    let notice: i64 = url.path().rsplit('/').next().unwrap().parse().unwrap();
    browser.shot("13-notice-issued").await;

    // The unit sees the unread message, signs for the notice and replies with a file.
    browser.sign_in("sfj").await;
    browser.find("[data-figure=unread]").await;
    browser.open("/inbox").await;
    browser.find("li[data-kind=notice_issued] a").await.click().await.unwrap();
    browser.find(&format!("{unit} button.acknowledge")).await.click().await.unwrap();
    browser.find(&format!("{unit}[data-state=acknowledged]")).await;
    browser.find(&format!("{unit} textarea[name=text]")).await.send_keys("已在政府网站公示执法主体、依据和结果。").await.unwrap();
    browser.find(&format!("{unit} input[type=file]")).await.send_keys(report.to_str().unwrap()).await.unwrap();
    browser.find(&format!("{unit} button.reply")).await.click().await.unwrap();
    browser.find(&format!("{unit}[data-state=replied]")).await;
    browser.shot("14-notice-replied").await;
    // … and asks for the notices by e-mail from now on.
    browser.open("/account").await;
    browser.find("form.channels input[name=email]").await.send_keys("sfj@luoping.gov.cn").await.unwrap();
    browser.find("form.channels input[value=notice_issued]").await.click().await.unwrap();
    browser.find("form.channels button[type=submit]").await.click().await.unwrap();
    browser.wait_text("form.channels .ok", "已保存").await;

    // The office closes it (销号); the list shows it closed.
    browser.sign_in("yfzxb").await;
    browser.open(&format!("/notices/{notice}")).await;
    browser.find(&format!("{unit} button.close")).await.click().await.unwrap();
    browser.find(&format!("{unit}[data-state=closed]")).await;
    browser.find("[data-figure=notice-closed]").await;
    browser.shot("15-notice-closed").await;
    browser.open("/notices").await;
    browser.find("table.notices, [data-figure=no-notices]").await;
    assert!(browser.absent(&format!("tr[data-notice='{notice}']")).await, "closed notices leave the open list");
    browser.quit().await;
    notice
}

on_a_desk_and_a_phone!(a_new_account_changes_its_password_enrols_an_authenticator_and_is_signed_out_when_idle_in_the_browser);
/// The 等保 account flows in the browser: an initial password changed
/// before anything else, an authenticator enrolled and used to sign in, a
/// session ended by the server after the idle timeout, and the lockout's
/// message after repeated wrong passwords.
fn a_new_account_changes_its_password_enrols_an_authenticator_and_is_signed_out_when_idle_in_the_browser(viewport: Viewport) {
    let db = TestDb::with_demo();
    let (server, _evidence) = serve_client(&db);
    let base = server.base.clone();
    // The system administrator creates the account with an initial password.
    let unit = api_get(&base, "zwj", "/api/v1/me")["unit"]["id"].as_i64().unwrap();
    let created = reqwest::blocking::Client::new()
        .post(format!("{base}/api/v1/users"))
        .bearer_auth(duban_tests::session_token(db.url(), "admin"))
        .json(&serde_json::json!({"username": "zwj-clerk", "display_name": "政务局文员", "role": "unit_staff", "unit_id": unit, "password": "Zwj-Initial-2026"}))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);

    let runtime = browser_runtime();
    runtime.block_on(account_flow(&base, viewport, db.url()));
    let actions: Vec<String> = {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Action {
            #[diesel(sql_type = diesel::sql_types::Text)]
            action: String,
        }
        diesel::sql_query("SELECT DISTINCT action FROM audit_log WHERE action LIKE 'auth.%' OR action LIKE 'user.%' OR action LIKE 'mfa.%' ORDER BY action")
            .load::<Action>(&mut db.conn())
            .unwrap()
            .into_iter()
            .map(|row| row.action)
            .collect()
    };
    for expected in ["auth.session_expired", "user.password_change"] {
        assert!(actions.iter().any(|action| action == expected), "{expected} is audited: {actions:?}");
    }
    drop(server);
}

/// The code of the authenticator whose base32 secret is `secret`,
/// `steps_ahead` 30-second steps from now.
fn totp(secret: &str, steps_ahead: i64) -> String {
    let secret = duban::auth::totp::from_base32(secret).expect("a base32 secret");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    duban::auth::totp::code_at(&secret, duban::auth::totp::step_at(now) + steps_ahead)
}

async fn fill_login(browser: &Browser, username: &str, password: &str) {
    for (field, value) in [("username", username), ("password", password)] {
        let input = browser.find(&format!("form.login input[name={field}]")).await;
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    browser.find("form.login button[type=submit]").await.click().await.unwrap();
}

async fn account_flow(base: &str, viewport: Viewport, database_url: &str) {
    let browser = Browser::start(base, viewport).await;
    let signed_in = "header nav a[href='/tasks']";

    // The initial password lets the user in only to change it.
    browser.open("/").await;
    fill_login(&browser, "zwj-clerk", "Zwj-Initial-2026").await;
    browser.find("form.forced-password").await;
    assert!(browser.absent(signed_in).await, "nothing else is shown before the change");
    browser.shot("21-forced-password-change").await;
    let weak = browser.find("form.forced-password input[name=new_password]").await;
    browser.find("form.forced-password input[name=current_password]").await.send_keys("Zwj-Initial-2026").await.unwrap();
    weak.send_keys("onlylowercase").await.unwrap();
    browser.find("form.forced-password button[type=submit]").await.click().await.unwrap();
    browser.wait_text("form.forced-password [role=alert]", "至少 3 类").await;
    weak.clear().await.unwrap();
    weak.send_keys("Luoping-Changed-2026").await.unwrap();
    browser.find("form.forced-password button[type=submit]").await.click().await.unwrap();
    browser.find(signed_in).await;

    // An authenticator, enrolled with the QR code's secret.
    browser.open("/account").await;
    browser.find("section.totp button.enrol").await.click().await.unwrap();
    browser.find("section.totp .qr svg").await;
    let secret = browser.find("code.totp-secret").await.text().await.unwrap();
    browser.shot("22-totp-enrolment").await;
    browser.find("section.totp input[name=totp_code]").await.send_keys(&totp(&secret, 0)).await.unwrap();
    browser.find("section.totp button[type=submit]").await.click().await.unwrap();
    browser.find(".recovery-codes li").await;
    let codes = browser.driver.find_all(By::Css(".recovery-codes li")).await.unwrap().len();
    assert_eq!(codes, 10, "ten recovery codes, shown once");
    browser.shot("23-recovery-codes").await;

    // Signing in now asks for the code; the next one is accepted.
    browser.find("button.sign-out").await.click().await.unwrap();
    fill_login(&browser, "zwj-clerk", "Luoping-Changed-2026").await;
    browser.find("form.login input[name=otp]").await.send_keys(&totp(&secret, 1)).await.unwrap();
    browser.find("form.login button[type=submit]").await.click().await.unwrap();
    browser.find(signed_in).await;

    // Thirty minutes without activity end the session on the server.
    {
        use diesel::prelude::*;
        let mut conn = diesel::PgConnection::establish(database_url).unwrap();
        let idled = diesel::sql_query(
            "UPDATE sessions SET last_used_at = now() - interval '31 minutes' WHERE user_id = (SELECT id FROM users WHERE username = 'zwj-clerk') AND revoked_at IS NULL",
        )
        .execute(&mut conn)
        .unwrap();
        assert_eq!(idled, 1);
    }
    browser.open("/tasks").await;
    browser.find("form.login").await;
    browser.shot("24-idle-signed-out").await;

    // Wrong passwords lock the account, and the message says until when.
    let deadline = Instant::now() + STEP;
    loop {
        fill_login(&browser, "zwj-clerk", "a-wrong-password").await;
        let alert = browser.find("form.login [role=alert]").await.text().await.unwrap_or_default();
        if alert.contains("锁定") {
            assert!(alert.contains("后自动解锁"), "{alert}");
            break;
        }
        assert!(Instant::now() < deadline, "the account was never locked: {alert}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    browser.shot("25-locked-out").await;
    browser.quit().await;
}

on_a_desk_and_a_phone!(the_lead_office_assigns_dates_and_removes_work_on_the_task_page);
/// The lead office assigns a unit (and sees it confirmed), gives the work a
/// due date, and removes an assignment not yet begun, all on the task page.
fn the_lead_office_assigns_dates_and_removes_work_on_the_task_page(viewport: Viewport) {
    let db = TestDb::with_demo();
    let (server, _evidence) = serve_client(&db);
    let base = server.base.clone();
    let justice = api_get(&base, "sfj", "/api/v1/me")["unit"]["id"].as_i64().unwrap();
    let township = api_get(&base, "lxjd", "/api/v1/me")["unit"]["id"].as_i64().unwrap();
    let task = api_get(&base, "sfj", &format!("/api/v1/tasks?lead_unit={justice}&limit=1"))["items"][0]["id"].as_i64().unwrap();
    let runtime = browser_runtime();
    runtime.block_on(planning_flow(&base, viewport, task, township));
    let detail = api_get(&base, "yfzxb", &format!("/api/v1/tasks/{task}"));
    let assignments = detail["assignments"].as_array().unwrap();
    assert!(assignments.iter().all(|a| a["unit"]["id"] != township), "the township's assignment was removed");
    let lead = assignments.iter().find(|a| a["unit"]["id"] == justice).unwrap();
    assert_eq!(lead["due_date"], "2026-12-31", "the lead unit's own work got its date");
    drop(server);
}

/// Sets a date input's value as a person picking the date would.
async fn pick_date(browser: &Browser, css: &str, date: &str) {
    let input = browser.find(css).await;
    browser
        .driver
        .execute(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', { bubbles: true }));",
            vec![input.to_json().unwrap(), serde_json::json!(date)],
        )
        .await
        .unwrap();
}

async fn planning_flow(base: &str, viewport: Viewport, task: i64, township: i64) {
    let browser = Browser::start(base, viewport).await;
    browser.sign_in("yfzxb").await;
    browser.open(&format!("/tasks/{task}")).await;
    // Assigning: the confirmation stays after the page reloads the task.
    browser.find(&format!("form.assign select[name=unit] option[value='{township}']")).await.click().await.unwrap();
    browser.find("form.assign button[type=submit]").await.click().await.unwrap();
    browser.wait_text("form.assign [role=status]", "已分配 1").await;
    let added = "article.assignment[data-unit='罗雄街道']";
    browser.find(added).await;
    // A due date for the lead unit's own work.
    let lead = "article.assignment[data-unit='县司法局']";
    pick_date(&browser, &format!("{lead} .plan input[name=due_date]"), "2026-12-31").await;
    browser.find(&format!("{lead} button.save-due")).await.click().await.unwrap();
    browser.wait_text(&format!("{lead} .due"), "2026-12-31").await;
    browser.shot("31-due-date-set").await;
    // Removing the township's assignment, after confirming.
    browser.find(&format!("{added} button.remove-assignment")).await.click().await.unwrap();
    browser.driver.accept_alert().await.unwrap();
    browser.wait_gone(added).await;
    browser.quit().await;
}

on_a_desk_and_a_phone!(the_dashboard_orders_units_by_late_work_and_links_their_late_tasks);
/// On the dashboard the office orders the units by late work, sees which
/// counts are of tasks and which of assignments, and follows a unit's late
/// count to exactly its late tasks.
fn the_dashboard_orders_units_by_late_work_and_links_their_late_tasks(viewport: Viewport) {
    let db = TestDb::with_demo();
    let (server, _evidence) = serve_client(&db);
    let base = server.base.clone();
    // Three of 县市场监管局's lead assignments are late.
    let market = api_get(&base, "scjgj", "/api/v1/me")["unit"]["id"].as_i64().unwrap();
    let late = api_get(&base, "scjgj", &format!("/api/v1/assignments?unit={market}&role=lead&limit=3"));
    let (http, token) = api_login(&base, "yfzxb");
    let yesterday = duban::clock::today().pred_opt().unwrap();
    let mut codes = Vec::new();
    for assignment in late["items"].as_array().unwrap() {
        codes.push(assignment["task"]["code"].as_str().unwrap().to_owned());
        let response = http
            .patch(format!("{base}/api/v1/assignments/{}", assignment["id"]))
            .bearer_auth(&token)
            .header("If-Match", "*")
            .json(&serde_json::json!({"due_date": yesterday}))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let runtime = browser_runtime();
    runtime.block_on(async {
        let browser = Browser::start(&base, viewport).await;
        browser.sign_in("yfzxb").await;
        browser.wait_text(".unit-table .muted", "逾期分工").await;
        browser.find(".unit-table button.sort:nth-of-type(2)").await.click().await.unwrap();
        let first = browser.find(".unit-table tbody tr:first-child").await;
        assert_eq!(first.attr("data-unit").await.unwrap().as_deref(), Some("县市场监管局"));
        browser.shot("32-units-by-late-work").await;
        browser.find(".unit-table tbody tr:first-child [data-figure=lead-overdue]").await.click().await.unwrap();
        browser.find("table.breakdown tr[data-code]").await;
        let url = browser.driver.current_url().await.unwrap();
        assert!(url.query().is_some_and(|query| query.contains(&format!("lead_unit={market}")) && query.contains("overdue=true")), "{url}");
        let mut shown = Vec::new();
        for row in browser.driver.find_all(By::Css("table.breakdown tr[data-code]")).await.unwrap() {
            shown.push(row.attr("data-code").await.unwrap().unwrap());
        }
        shown.sort();
        codes.sort();
        assert_eq!(shown, codes, "exactly the unit's late tasks");
        browser.quit().await;
    });
    drop(server);
}

/// On a phone (390×844) no page scrolls sideways, the header stays short,
/// and the task list comes before the indicator tree.
#[test]
fn pages_fit_a_phone() {
    let db = TestDb::with_demo();
    let (server, _evidence) = serve_client(&db);
    let base = server.base.clone();
    let runtime = browser_runtime();
    runtime.block_on(async {
        let browser = Browser::start(&base, Viewport::Phone).await;
        let pages = [
            ("yfzxb", "/", ".unit-table"),
            ("yfzxb", "/tasks", "table.breakdown tr[data-code]"),
            ("sfj", "/my", "article.assignment"),
            ("yfzxb", "/scores", "table.unit-scores"),
            ("yfzxb", "/bulletins", "button.new-bulletin"),
        ];
        for (user, path, ready) in pages {
            browser.sign_in(user).await;
            browser.open(path).await;
            browser.find(ready).await;
            // Panels fill in as their evidence and history arrive.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let measured = browser
                .driver
                .execute(
                    "return [Math.max(document.documentElement.scrollWidth, ...Array.from(document.querySelectorAll('main *')).filter(e => !e.closest('table')).map(e => e.getBoundingClientRect().right)), window.innerWidth, document.querySelector('header.top').getBoundingClientRect().height];",
                    Vec::new(),
                )
                .await
                .unwrap();
            let [scroll_width, inner_width, header]: [f64; 3] = measured.convert().unwrap();
            browser.shot(&format!("phone-{}", path.trim_matches('/').replace('/', "-"))).await;
            // Wide tables scroll inside themselves; nothing else reaches past the screen.
            assert!(scroll_width <= inner_width + 1.0, "{path} is wider than the screen: {scroll_width} > {inner_width}");
            assert!(header <= 140.0, "{path}: the header takes {header} px");
        }
        // The list before the tree that filters it.
        browser.open("/tasks").await;
        browser.find("table.breakdown tr[data-code]").await;
        let order = browser
            .driver
            .execute(
                "const table = document.querySelector('table.breakdown').getBoundingClientRect().top; const tree = document.querySelector('nav.tree').getBoundingClientRect().top; return table < tree;",
                Vec::new(),
            )
            .await
            .unwrap();
        assert!(order.convert::<bool>().unwrap(), "the task list comes first on a phone");
        browser.quit().await;
    });
    drop(server);
}

on_a_desk_and_a_phone!(the_unit_page_shows_each_item_once_a_section_at_a_time_and_searches);
/// 本单位任务 with a hundred-odd items: each item once, in its first
/// section; ten panels a section until more are asked for; a search.
fn the_unit_page_shows_each_item_once_a_section_at_a_time_and_searches(viewport: Viewport) {
    let db = TestDb::with_demo();
    let (server, _evidence) = serve_client(&db);
    let base = server.base.clone();
    // 县司法局 has work on every task, more than one page of the API holds
    // (200), and one of its lead assignments is due tomorrow.
    let justice = api_get(&base, "sfj", "/api/v1/me")["unit"]["id"].as_i64().unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "INSERT INTO assignments (task_id, unit_id, role, status)
             SELECT id, {justice}, 'responsible', 'not_started' FROM tasks
             WHERE id NOT IN (SELECT task_id FROM assignments WHERE unit_id = {justice})"
        )),
        &mut db.conn(),
    )
    .unwrap();
    let mine = api_get(&base, "sfj", &format!("/api/v1/assignments?unit={justice}&limit=200"));
    let total = mine["total"].as_i64().unwrap();
    assert!(total > 200, "{total}");
    let soon = mine["items"][50].clone();
    let (http, token) = api_login(&base, "yfzxb");
    let tomorrow = duban::clock::today().succ_opt().unwrap();
    let response = http
        .patch(format!("{base}/api/v1/assignments/{}", soon["id"]))
        .bearer_auth(&token)
        .header("If-Match", "*")
        .json(&serde_json::json!({"due_date": tomorrow}))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let code = soon["task"]["code"].as_str().unwrap().to_owned();
    let runtime = browser_runtime();
    runtime.block_on(async {
        let browser = Browser::start(&base, viewport).await;
        browser.sign_in("sfj").await;
        browser.open("/my").await;
        browser.wait_text("section.to-do [data-figure=to-do]", &(total - 1).to_string()).await;
        assert_eq!(browser.find("section.due-soon [data-figure=due-soon]").await.text().await.unwrap(), "1");
        let panels = browser.driver.find_all(By::Css("section.to-do article.assignment")).await.unwrap().len();
        assert_eq!(panels, 10, "ten panels until more are asked for");
        let due_soon_panel = format!("article.assignment[data-assignment='{}']", soon["id"]);
        browser.find(&format!("section.due-soon {due_soon_panel}")).await;
        assert!(browser.absent(&format!("section.to-do {due_soon_panel}")).await, "an item appears once");
        browser.find("section.to-do button.more").await.click().await.unwrap();
        let deadline = Instant::now() + STEP;
        while browser.driver.find_all(By::Css("section.to-do article.assignment")).await.unwrap().len() < 20 {
            assert!(Instant::now() < deadline, "more panels never came");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        browser.shot("33-my-unit").await;
        browser.find("input[name=q]").await.send_keys(&code).await.unwrap();
        let deadline = Instant::now() + STEP;
        while browser.find("section.to-do [data-figure=to-do]").await.text().await.unwrap() != "0" {
            assert!(Instant::now() < deadline, "the search never narrowed the list");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        browser.find(&format!("section.due-soon {due_soon_panel}")).await;
        browser.find("section.handed-in").await;
        browser.quit().await;
    });
    drop(server);
}

on_a_desk_and_a_phone!(the_lead_office_reads_scores_and_drafts_and_issues_a_bulletin_in_the_browser);
/// The lead office reads the units' scores and one unit's inputs, drafts a
/// monthly bulletin, sees its figures (the late unit named), and signs and
/// issues it; an inspector then finds it issued.
fn the_lead_office_reads_scores_and_drafts_and_issues_a_bulletin_in_the_browser(viewport: Viewport) {
    let db = TestDb::with_demo();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE assignments SET due_date = '{}' WHERE id = (SELECT min(a.id) FROM assignments a JOIN units u ON u.id = a.unit_id WHERE u.name = '县司法局')",
            duban::clock::today() - chrono::Days::new(3)
        )),
        &mut db.conn(),
    )
    .unwrap();
    let (server, _evidence) = serve_client(&db);
    let base = server.base.clone();
    let justice = api_get(&base, "sfj", "/api/v1/me")["unit"]["id"].as_i64().unwrap();
    let runtime = browser_runtime();
    let bulletin = runtime.block_on(async {
        let browser = Browser::start(&base, viewport).await;
        browser.sign_in("yfzxb").await;
        browser.open("/scores").await;
        browser.find("[data-figure=campaign-score]").await;
        let row = format!("table.unit-scores tr[data-unit='{justice}']");
        assert_eq!(browser.find(&format!("{row} [data-figure=rank]")).await.text().await.unwrap().is_empty(), false);
        browser.shot("40-scores").await;
        browser.find(&format!("{row} a")).await.click().await.unwrap();
        browser.find("table.score-inputs tr[data-assignment]").await;
        browser.find("[data-figure=unit-score]").await;
        browser.shot("41-unit-score").await;

        browser.open("/bulletins").await;
        browser.find("button.new-bulletin").await.click().await.unwrap();
        browser.find("form.bulletin-draft button.save-draft").await.click().await.unwrap();
        browser.wait_text("table.late-units", "县司法局").await;
        assert_eq!(browser.find("[data-figure=doc-number]").await.text().await.unwrap(), "送审稿");
        browser.shot("42-bulletin-draft").await;
        browser.find("button.issue-bulletin").await.click().await.unwrap();
        browser.driver.accept_alert().await.unwrap();
        let year = duban::clock::today().format("%Y").to_string();
        browser.wait_text("[data-figure=doc-number]", &format!("罗法治办通〔{year}〕1号")).await;
        assert!(browser.absent("button.issue-bulletin").await, "an issued bulletin cannot be issued again");
        assert!(browser.absent("form.bulletin-draft").await, "nor edited");
        browser.shot("43-bulletin-issued").await;
        let url = browser.driver.current_url().await.unwrap();
        let bulletin: i64 = url.path().rsplit('/').next().unwrap().parse().unwrap();

        browser.sign_in("inspector").await;
        browser.open("/bulletins").await;
        browser.find(&format!("table.bulletins tr[data-bulletin='{bulletin}'][data-state=issued]")).await;
        browser.quit().await;
        bulletin
    });
    let issued = api_get(&base, "inspector", &format!("/api/v1/bulletins/{bulletin}"));
    assert_eq!(issued["state"], "issued");
    drop(server);
}

on_a_desk_and_a_phone!(a_new_countys_lead_office_tries_reviews_and_imports_its_own_table_in_the_browser);
/// A new county's lead office fills the campaign the city started from the
/// checklist with its own Word table: the dry run shows the units and
/// groups to be created and the names the built-in knowledge resolved;
/// confirming imports it and opens the campaign's dashboard. The county
/// next door (罗平县) sees none of it.
fn a_new_countys_lead_office_tries_reviews_and_imports_its_own_table_in_the_browser(viewport: Viewport) {
    let db = TestDb::with_demo();
    let (server, _evidence) = serve_client(&db);
    let base = server.base.clone();
    crate::support::second_county_with_its_office(&db, &base);
    let files = tempfile::tempdir().unwrap();
    let table = files.path().join("师宗县任务分解表.docx");
    std::fs::write(&table, crate::office::fixtures::docx(&crate::office::shizong())).unwrap();
    let runtime = browser_runtime();
    let browser = runtime.block_on(async {
        let browser = Browser::start(&base, viewport).await;
        browser.sign_in_with("szfzb", crate::support::SHIZONG_PASSWORD).await;
        browser.open("/new-county").await;
        browser.find("form.new-county input[name=code]").await.send_keys("shizong").await.unwrap();
        browser.find("form.new-county input[name=table]").await.send_keys(table.to_str().unwrap()).await.unwrap();
        browser.find("form.new-county button.try-import").await.click().await.unwrap();
        browser.wait_text(".new-county-review [data-figure=units-to-create]", "12 个单位").await;
        browser.wait_text(".new-county-review ul.resolved", "县政府办 → 县政府办公室").await;
        browser.shot("44-new-county-review").await;
        browser
    });
    let shizong = duban_tests::session_token(db.url(), "szfzb");
    let shizong_get = |path: &str| -> Value {
        reqwest::blocking::Client::new().get(format!("{base}{path}")).bearer_auth(&shizong).send().unwrap().json().unwrap()
    };
    assert_eq!(shizong_get("/api/v1/units?limit=1")["total"], 0, "the dry run wrote nothing");
    runtime.block_on(async {
        browser.find(".new-county-review button.confirm-import").await.click().await.unwrap();
        browser.find(".unit-table").await;
        let url = browser.driver.current_url().await.unwrap();
        assert!(url.query().is_some_and(|query| query.contains("campaign=shizong")), "{url}");
        browser.shot("45-new-county-dashboard").await;
        browser.quit().await;
    });
    let units = shizong_get("/api/v1/units?region=%E5%B8%88%E5%AE%97%E5%8E%BF&limit=200");
    assert_eq!(units["total"], 12, "one unit per organ");
    let next_door = api_get(&base, "yfzxb", "/api/v1/units?region=%E5%B8%88%E5%AE%97%E5%8E%BF&limit=200");
    assert_eq!(next_door["status"], 404, "罗平县 does not see 师宗县");
    drop(server);
}

on_a_desk_and_a_phone!(the_province_page_lists_every_county_and_opens_a_countys_dashboard);
/// 全省 for 曲靖市's office: it starts 师宗县's campaign from the checklist
/// on the page, which then lists both counties with their figures, and a
/// county opens its dashboard. 罗平县's inspector sees 罗平县 alone.
fn the_province_page_lists_every_county_and_opens_a_countys_dashboard(viewport: Viewport) {
    let db = TestDb::with_demo();
    let (server, _evidence) = serve_client(&db);
    let base = server.base.clone();
    let runtime = browser_runtime();
    runtime.block_on(async {
        let browser = Browser::start(&base, viewport).await;
        browser.sign_in("inspector").await;
        browser.open("/province").await;
        browser.find("table.province tr[data-campaign=luoping]").await;
        assert!(browser.absent("form.start-campaign").await, "a county's inspector starts nothing");
        browser.sign_in("qjfzb").await;
        browser.open("/province").await;
        browser.find("table.province tr[data-campaign=luoping]").await;
        browser.find("form.start-campaign input[name=region]").await.send_keys("师宗县").await.unwrap();
        browser.find("form.start-campaign input[name=code]").await.send_keys("shizong").await.unwrap();
        browser.find("form.start-campaign button.start-campaign").await.click().await.unwrap();
        browser.find("table.province tr[data-campaign=shizong]").await;
        let rows = browser.driver.find_all(By::Css("table.province tbody tr")).await.unwrap().len();
        assert_eq!(rows, 2, "both counties");
        browser.wait_text("[data-figure=province-total]", "县（区） 2").await;
        browser.shot("46-province").await;
        browser.find("table.province tr[data-campaign=luoping] a").await.click().await.unwrap();
        browser.find(".unit-table").await;
        let url = browser.driver.current_url().await.unwrap();
        assert!(url.query().is_some_and(|query| query.contains("campaign=luoping")), "{url}");
        browser.quit().await;
    });
    drop(server);
}
