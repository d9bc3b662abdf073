//! Test support: a real PostgreSQL for every test, without mocks.
//!
//! Every test gets its own database, cloned from a template that has all
//! migrations applied, so tests run in parallel and never see each other's
//! rows. The server is `DUBAN_TEST_DATABASE_URL` (a superuser connection
//! URL) when set; otherwise a private cluster under /tmp that the first test
//! starts and later tests reuse (`cargo xtask test` stops it at the end).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use diesel::prelude::*;
use duban_pgcluster::{Cluster, ClusterOptions};

/// Where the shared test cluster lives, derived from the workspace path so
/// two checkouts do not share one.
pub fn shared_cluster_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace");
    let hash = duban_pgcluster::stable_hash(workspace.as_os_str().as_encoded_bytes());
    std::env::temp_dir().join(format!("duban-test-pg-{hash:016x}"))
}

/// A superuser URL of the server the tests use, for database `postgres`.
fn admin_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("DUBAN_TEST_DATABASE_URL") {
            return url;
        }
        let dir = shared_cluster_dir();
        std::fs::create_dir_all(&dir).expect("creating the test cluster directory");
        // One process at a time starts the cluster; the others then reuse it.
        let lock = File::create(dir.join("start.lock")).expect("creating the start lock");
        lock.lock().expect("locking the start lock");
        let mut options = ClusterOptions::new(dir.join("data"));
        options.log_file = dir.join("postgres.log");
        options.durable = false;
        options.stop_with_parent = false;
        let cluster = Cluster::start(&options).unwrap_or_else(|error| panic!("starting the test cluster: {error}"));
        let url = cluster.url("postgres");
        cluster.detach();
        url
    })
}

/// The same server URL for another database.
pub fn with_database(url: &str, database: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let path_start = url[authority_start..].find('/').map_or(url.len(), |i| authority_start + i);
    let path_end = url[path_start..].find('?').map_or(url.len(), |i| path_start + i);
    format!("{}/{}{}", &url[..path_start], database, &url[path_end..])
}

fn connect(url: &str) -> PgConnection {
    PgConnection::establish(url).unwrap_or_else(|error| panic!("connecting to {url}: {error}"))
}

/// The template database with every migration applied, built once per set
/// of migrations. Its name carries a hash of the migration files, so a
/// changed migration gets a new template.
fn template() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let name = format!("duban_template_{:016x}", migrations_hash());
        let mut admin = connect(admin_url());
        diesel::sql_query("SELECT pg_advisory_lock(4242)").execute(&mut admin).expect("locking");
        let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
        )))
        .get_result(&mut admin)
        .expect("looking for the template");
        if !exists {
            let building = format!("{name}_building");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {building}")).execute(&mut admin).expect("dropping");
            diesel::sql_query(format!("CREATE DATABASE {building}")).execute(&mut admin).expect("creating the template");
            {
                let mut conn = connect(&with_database(admin_url(), &building));
                duban::db::migrate(&mut conn).expect("migrating the template");
            }
            diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}")).execute(&mut admin).expect("renaming");
        }
        diesel::sql_query("SELECT pg_advisory_unlock(4242)").execute(&mut admin).expect("unlocking");
        name
    })
}

fn migrations_hash() -> u64 {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../backend/server/migrations");
    let mut files: Vec<PathBuf> = walk(&dir);
    files.sort();
    let mut contents = Vec::new();
    for file in files {
        contents.extend(file.to_string_lossy().bytes());
        contents.extend(std::fs::read(&file).expect("reading a migration"));
    }
    duban_pgcluster::stable_hash(&contents)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .flatten()
        .flat_map(|entry| if entry.path().is_dir() { walk(&entry.path()) } else { vec![entry.path()] })
        .collect()
}

/// A database of its own for one test, dropped when the test ends.
/// The bearer token test servers serve `/metrics` with.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789";

pub struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    /// A migrated, empty database.
    pub fn new() -> TestDb {
        let template = template();
        let name = format!("duban_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = connect(admin_url());
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut admin)
            .expect("cloning the template database");
        TestDb { url: with_database(admin_url(), &name), name }
    }

    /// A migrated database with the demo data (the Luoping seeds) loaded.
    pub fn with_demo() -> TestDb {
        let db = TestDb::new();
        duban::seeds::load_demo(&mut db.conn(), &duban::authz::Operator::for_tests()).expect("loading the demo data");
        db
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn conn(&self) -> PgConnection {
        connect(&self.url)
    }

    /// A connection pool such as the server uses.
    pub fn pool(&self) -> duban::db::PgPool {
        duban::db::pool(&self.url, 4).expect("building a pool")
    }
}

impl Default for TestDb {
    fn default() -> Self {
        TestDb::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let mut admin = connect(admin_url());
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut admin);
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn switches_the_database_of_a_url() {
        assert_eq!(
            with_database("postgres://postgres@/postgres?host=/tmp/x&port=5432", "t1"),
            "postgres://postgres@/t1?host=/tmp/x&port=5432"
        );
        assert_eq!(with_database("postgres://u:p@localhost:5432/postgres", "t1"), "postgres://u:p@localhost:5432/t1");
        assert_eq!(with_database("postgres://localhost", "t1"), "postgres://localhost/t1");
    }
}

/// The password of every demo account (seeds/demo-accounts.json).
pub const DEMO_PASSWORD: &str = "duban-demo-2026";

/// The published authenticator secret of the demo administrators
/// (seeds/demo-accounts.json).
pub const DEMO_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// An access token of a session opened for `username` directly in the
/// database at `database_url`, as a server on it would have signed it.
pub fn session_token(database_url: &str, username: &str) -> String {
    let mut conn = connect(database_url);
    let secret = duban::auth::tokens::signing_secret(&mut conn, None).expect("the signing secret");
    let jwt = duban::auth::tokens::JwtKeys::new(&secret);
    duban::accounts::sessions::open_for_tests(&mut conn, &jwt, username).expect("a session").access_token
}

/// Lets an account made through the API in a test's setup work at once,
/// without the password change its first sign-in would ask for.
pub fn skip_first_password_change(db: &TestDb, username: &str) {
    let changed = diesel::sql_query("UPDATE users SET must_change_password = false WHERE username = $1")
        .bind::<diesel::sql_types::Text, _>(username)
        .execute(&mut db.conn())
        .expect("the account's flag");
    assert_eq!(changed, 1, "there is an account {username}");
}

/// The demo administrators' authenticator code `steps_ahead` 30-second
/// steps from now (the server accepts one step of clock drift).
pub fn demo_otp(steps_ahead: i64) -> String {
    let secret = duban::auth::totp::from_base32(DEMO_TOTP_SECRET).expect("a base32 secret");
    let step = duban::auth::totp::step_at(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() as i64,
    ) + steps_ahead;
    duban::auth::totp::code_at(&secret, step)
}

/// How a [`TestServer`] is set up.
pub struct ServerOptions {
    pub cors_origins: Vec<String>,
    pub max_upload_bytes: u64,
    /// Where evidence goes; a fresh local directory when `None`.
    pub storage: Option<duban::storage::StorageConfig>,
    /// The browser client's files, served at `/`; none when `None`.
    pub static_dir: Option<PathBuf>,
    /// Let webhooks and robots be registered on 127.0.0.1 (the tests' receivers).
    pub outbound_allow_loopback: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            cors_origins: Vec::new(),
            max_upload_bytes: 512 << 20,
            storage: None,
            static_dir: None,
            outbound_allow_loopback: false,
        }
    }
}

/// duban's HTTP server, running in this process on a free port, on a test
/// database, with its own evidence store. Stopped when dropped.
pub struct TestServer {
    pub base: String,
    pub storage: std::sync::Arc<duban::storage::Storage>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    _evidence_dir: tempfile::TempDir,
    database_url: String,
}

impl TestServer {
    pub fn start(db: &TestDb) -> TestServer {
        Self::start_with_options(db, ServerOptions::default())
    }

    /// With these CORS origins allowed.
    pub fn start_with(db: &TestDb, cors_origins: Vec<String>) -> TestServer {
        Self::start_with_options(db, ServerOptions { cors_origins, ..ServerOptions::default() })
    }

    pub fn start_with_options(db: &TestDb, options: ServerOptions) -> TestServer {
        let ServerOptions { cors_origins, max_upload_bytes, storage, static_dir, outbound_allow_loopback } = options;
        let evidence_dir = tempfile::Builder::new().prefix("duban-evidence-").tempdir_in("/tmp").expect("a temporary directory");
        let config = storage.unwrap_or_else(|| duban::storage::StorageConfig::Local { root: evidence_dir.path().to_owned() });
        let storage = std::sync::Arc::new(duban::storage::Storage::open(&config).expect("opening the evidence store"));
        let server_storage = storage.clone();
        let pool = db.pool();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let state = duban::http::AppState::new(pool, None, server_storage, max_upload_bytes)
                    .expect("the server state")
                    .with_outbound_allow_loopback(outbound_allow_loopback)
                    .with_metrics_token(Some(METRICS_TOKEN.to_owned()));
                let server = actix_web::HttpServer::new(move || duban::http::app(state.clone(), static_dir.clone(), cors_origins.clone()))
                    .workers(2)
                    .listen(listener)
                    .expect("listening")
                    .run();
                sender.send(server.handle()).unwrap();
                server.await.expect("serving");
            })
        });
        let handle = receiver.recv().expect("the server started");
        TestServer { base, storage, handle, thread: Some(thread), _evidence_dir: evidence_dir, database_url: db.url().to_owned() }
    }

    pub fn anonymous(&self) -> Client {
        Client { base: self.base.clone(), http: reqwest::blocking::Client::new(), token: None }
    }

    /// A client signed in as a demo account. The administrators sign in
    /// with a second factor whose code works once per 30 seconds, so their
    /// sessions are opened directly; tests/it/auth.rs signs them in through
    /// the API with real codes.
    pub fn login(&self, username: &str) -> Client {
        if ["admin", "security", "auditor"].contains(&username) {
            return Client { token: Some(session_token(&self.database_url, username)), ..self.anonymous() };
        }
        let mut client = self.anonymous();
        let response = client.post("/api/v1/auth/login", &serde_json::json!({"username": username, "password": DEMO_PASSWORD}));
        assert_eq!(response.status(), 200, "signing in as {username}");
        let tokens: serde_json::Value = response.json().unwrap();
        client.token = Some(tokens["access_token"].as_str().unwrap().to_owned());
        client
    }

    /// A client with a session opened directly for any account (one a
    /// test made, whose password is not the demo one).
    pub fn session(&self, username: &str) -> Client {
        Client { token: Some(session_token(&self.database_url, username)), ..self.anonymous() }
    }

    /// A client that presents this bearer credential (a token or an API key).
    pub fn with_bearer(&self, credential: &str) -> Client {
        Client { token: Some(credential.to_owned()), ..self.anonymous() }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An HTTP client of a [`TestServer`], with or without credentials.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::blocking::Client,
    pub token: Option<String>,
}

impl Client {
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::blocking::RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        self.request(reqwest::Method::GET, path).send().unwrap()
    }

    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path);
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().unwrap()
    }

    pub fn post(&self, path: &str, body: &serde_json::Value) -> reqwest::blocking::Response {
        self.request(reqwest::Method::POST, path).json(body).send().unwrap()
    }

    pub fn put(&self, path: &str, body: &serde_json::Value) -> reqwest::blocking::Response {
        self.request(reqwest::Method::PUT, path).json(body).send().unwrap()
    }

    pub fn patch(&self, path: &str, body: &serde_json::Value) -> reqwest::blocking::Response {
        self.request(reqwest::Method::PATCH, path).json(body).send().unwrap()
    }

    pub fn delete(&self, path: &str) -> reqwest::blocking::Response {
        self.request(reqwest::Method::DELETE, path).send().unwrap()
    }
}
