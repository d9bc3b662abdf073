//! Configuration: built-in defaults, then an optional TOML file, then
//! environment variables, each overriding the one before.
//!
//! | setting              | environment variable        | default                                  |
//! |----------------------|-----------------------------|------------------------------------------|
//! | database_url         | DATABASE_URL                | unset: the embedded database             |
//! | data_dir             | DUBAN_DATA_DIR              | /var/lib/duban as root, else ~/.local/share/duban |
//! | listen               | DUBAN_LISTEN                | 127.0.0.1:8080                           |
//! | tls_cert_file, tls_key_file | DUBAN_TLS_CERT_FILE, DUBAN_TLS_KEY_FILE | none: plain HTTP (behind a TLS proxy); both PEM files: HTTPS directly |
//! | static_dir           | DUBAN_STATIC_DIR            | frontend/dist when it exists             |
//! | log_format           | DUBAN_LOG_FORMAT            | text (or json)                           |
//! | log                  | DUBAN_LOG, then RUST_LOG    | info                                     |
//! | db_pool_size         | DUBAN_DB_POOL_SIZE          | 10                                       |
//! | database_replica_url | DATABASE_REPLICA_URL        | none: every read on the primary; a streaming replica takes dashboards, lists and the audit query |
//! | replica_max_lag_ms   | DUBAN_REPLICA_MAX_LAG_MS    | 1000: above this lag, reads go to the primary |
//! | seed_on_first_start  | DUBAN_SEED_ON_FIRST_START   | true (never in production)               |
//! | production           | DUBAN_PRODUCTION            | false                                    |
//! | jwt_secret           | DUBAN_JWT_SECRET            | generated on first start, in the database |
//! | cors_origins         | DUBAN_CORS_ORIGINS          | none (comma-separated in the variable)   |
//! | metrics_token        | DUBAN_METRICS_TOKEN         | none: /metrics is not served             |
//! | max_upload_mb        | DUBAN_MAX_UPLOAD_MB         | 512                                      |
//! | evidence_dir         | DUBAN_EVIDENCE_DIR          | <data_dir>/evidence                      |
//! | storage              | DUBAN_STORAGE               | local (or s3)                            |
//! | s3_bucket, s3_endpoint, s3_region, s3_prefix, s3_allow_http | DUBAN_S3_BUCKET … | —, AWS, us-east-1, "", false |
//! | s3_access_key_id, s3_secret_access_key | DUBAN_S3_ACCESS_KEY_ID, DUBAN_S3_SECRET_ACCESS_KEY | — |
//! | smtp_host            | DUBAN_SMTP_HOST             | none: no e-mail is sent                  |
//! | smtp_port            | DUBAN_SMTP_PORT             | 587 (465 with smtp_tls = tls)            |
//! | smtp_tls             | DUBAN_SMTP_TLS              | starttls (or tls, or none)               |
//! | smtp_username, smtp_password | DUBAN_SMTP_USERNAME, DUBAN_SMTP_PASSWORD | none           |
//! | smtp_from            | DUBAN_SMTP_FROM             | duban@<smtp_host>                        |
//! | smtp_ca_file         | DUBAN_SMTP_CA_FILE          | none: the public roots; a PEM file adds the CA of an internal mail server |
//! | outbound_allow_loopback | DUBAN_OUTBOUND_ALLOW_LOOPBACK | false: webhooks and robots to loopback or link-local addresses are refused |
//! | reminder_interval_s  | DUBAN_REMINDER_INTERVAL_S   | 300: how often reminders are evaluated   |
//! | delivery_lease_s     | DUBAN_DELIVERY_LEASE_S      | 120: how long a message being delivered is one instance's before another retries it |
//! | background_work      | DUBAN_BACKGROUND_WORK       | true: this instance also sends reminders and delivers messages |
//! | audit_signing_key_file | DUBAN_AUDIT_SIGNING_KEY_FILE | <data_dir>/audit-signing.key, created when missing (DUBAN_AUDIT_SIGNING_KEY, the seed in hex, overrides it) |
//! | audit_checkpoint_file | DUBAN_AUDIT_CHECKPOINT_FILE | <data_dir>/audit-checkpoints.jsonl     |
//! | audit_hash           | DUBAN_AUDIT_HASH            | sha256 (or sm3, 国密 GB/T 32905): the audit chain's hash, fixed when the log is first written |
//! | audit_checkpoint_interval_s | DUBAN_AUDIT_CHECKPOINT_INTERVAL_S | 3600: how often the chain's head is signed and written down |
//!
//! The file is named by `--config FILE` or DUBAN_CONFIG and uses the names
//! of the first column.

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per event, for log collectors.
    Json,
}

/// duban's settings, after defaults, file and environment are combined.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub listen: String,
    /// The certificate chain and private key (PEM) to serve HTTPS with.
    pub tls: Option<TlsFiles>,
    /// The audit chain's signed checkpoints.
    pub audit_anchor: crate::audit::anchor::AnchorSettings,
    /// The audit chain's hash function for a new installation.
    pub audit_hash: crate::audit::ChainHash,
    pub static_dir: Option<PathBuf>,
    pub log_format: LogFormat,
    pub log: String,
    pub db_pool_size: u32,
    pub database_replica_url: Option<String>,
    pub replica_max_lag_ms: u64,
    /// Load the demo data into an empty database on start. Never in production.
    pub seed_on_first_start: bool,
    /// Production mode: no demo data, and duban refuses to serve while a
    /// demo account (whose password is published) is enabled.
    pub production: bool,
    pub jwt_secret: Option<String>,
    /// Browser origins of portals allowed to call the API (CORS).
    pub cors_origins: Vec<String>,
    /// The bearer token Prometheus scrapes `/metrics` with; without one,
    /// `/metrics` is not served.
    pub metrics_token: Option<String>,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    pub storage: crate::storage::StorageConfig,
    pub messaging: Messaging,
}

/// How the server delivers messages that leave it.
#[derive(Debug, Clone)]
pub struct Messaging {
    pub smtp: Option<Smtp>,
    /// Allow webhooks and robots on loopback and link-local addresses
    /// (refused by default: a registered URL must not reach the server's own
    /// network services).
    pub allow_loopback: bool,
    pub reminder_interval: std::time::Duration,
    /// How long a message being delivered is this instance's; if it dies
    /// mid-delivery, another instance retries the message after this.
    pub delivery_lease: std::time::Duration,
    /// Whether this instance runs the reminder scheduler and the outbox
    /// dispatcher (several may: they coordinate through the database).
    pub background_work: bool,
}

impl Default for Messaging {
    fn default() -> Self {
        Messaging {
            smtp: None,
            allow_loopback: false,
            reminder_interval: std::time::Duration::from_secs(300),
            delivery_lease: std::time::Duration::from_secs(120),
            background_work: true,
        }
    }
}

/// How to reach the mail server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    /// A PEM file of further root certificates (a government network's own CA).
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// STARTTLS required after connecting.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain text: only for a relay on the same host or a test server.
    None,
}

/// The settings file: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    database_url: Option<String>,
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    tls_cert_file: Option<PathBuf>,
    tls_key_file: Option<PathBuf>,
    audit_signing_key_file: Option<PathBuf>,
    audit_checkpoint_file: Option<PathBuf>,
    audit_checkpoint_interval_s: Option<u64>,
    audit_hash: Option<String>,
    static_dir: Option<PathBuf>,
    log_format: Option<LogFormat>,
    log: Option<String>,
    db_pool_size: Option<u32>,
    database_replica_url: Option<String>,
    replica_max_lag_ms: Option<u64>,
    seed_on_first_start: Option<bool>,
    production: Option<bool>,
    jwt_secret: Option<String>,
    cors_origins: Option<Vec<String>>,
    metrics_token: Option<String>,
    max_upload_mb: Option<u64>,
    evidence_dir: Option<PathBuf>,
    storage: Option<String>,
    s3_bucket: Option<String>,
    s3_endpoint: Option<String>,
    s3_region: Option<String>,
    s3_prefix: Option<String>,
    s3_allow_http: Option<bool>,
    s3_access_key_id: Option<String>,
    s3_secret_access_key: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_tls: Option<String>,
    smtp_ca_file: Option<PathBuf>,
    smtp_username: Option<String>,
    smtp_password: Option<String>,
    smtp_from: Option<String>,
    outbound_allow_loopback: Option<bool>,
    reminder_interval_s: Option<u64>,
    delivery_lease_s: Option<u64>,
    background_work: Option<bool>,
}

/// The PEM files HTTPS is served with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading the settings file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the settings file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("environment variable {name}={value:?}: {message}")]
    Variable { name: &'static str, value: String, message: String },
}

impl Settings {
    /// Reads the settings from the file (if any) and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        Settings::load_from(file, |name| std::env::var(name).ok().filter(|value| !value.is_empty()))
    }

    /// Reads the settings with `env` standing for the environment.
    pub fn load_from(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let file_path = file.map(Path::to_owned).or_else(|| env("DUBAN_CONFIG").map(PathBuf::from));
        let from_file = match &file_path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
                toml::from_str::<SettingsFile>(&text)
                    .map_err(|error| ConfigError::Invalid { path: path.clone(), message: error.to_string() })?
            }
            None => SettingsFile::default(),
        };

        let log_format = match env("DUBAN_LOG_FORMAT") {
            Some(value) => match value.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => {
                    return Err(ConfigError::Variable { name: "DUBAN_LOG_FORMAT", value, message: "expected text or json".to_owned() });
                }
            },
            None => from_file.log_format.unwrap_or_default(),
        };
        let db_pool_size = match env("DUBAN_DB_POOL_SIZE") {
            Some(value) => value.parse().ok().filter(|&n| n > 0).ok_or_else(|| ConfigError::Variable {
                name: "DUBAN_DB_POOL_SIZE",
                value: value.clone(),
                message: "expected a whole number above 0".to_owned(),
            })?,
            None => from_file.db_pool_size.unwrap_or(10),
        };
        let replica_max_lag_ms = match env("DUBAN_REPLICA_MAX_LAG_MS") {
            Some(value) => value.parse().map_err(|_| ConfigError::Variable {
                name: "DUBAN_REPLICA_MAX_LAG_MS",
                value: value.clone(),
                message: "expected a whole number of milliseconds".to_owned(),
            })?,
            None => from_file.replica_max_lag_ms.unwrap_or(1000),
        };
        let flag = |name: &'static str, from_file: Option<bool>, default: bool| -> Result<bool, ConfigError> {
            match env(name) {
                Some(value) => parse_bool(&value).ok_or_else(|| ConfigError::Variable {
                    name,
                    value: value.clone(),
                    message: "expected true or false".to_owned(),
                }),
                None => Ok(from_file.unwrap_or(default)),
            }
        };
        let production = flag("DUBAN_PRODUCTION", from_file.production, false)?;
        let seed_on_first_start = flag("DUBAN_SEED_ON_FIRST_START", from_file.seed_on_first_start, true)? && !production;
        let jwt_secret = env("DUBAN_JWT_SECRET").or(from_file.jwt_secret);
        if let Some(secret) = &jwt_secret
            && secret.len() < 32
        {
            return Err(ConfigError::Variable {
                name: "DUBAN_JWT_SECRET",
                value: "(hidden)".to_owned(),
                message: "must be at least 32 characters".to_owned(),
            });
        }
        let cors_origins = match env("DUBAN_CORS_ORIGINS") {
            Some(list) => list.split(',').map(str::trim).filter(|origin| !origin.is_empty()).map(str::to_owned).collect(),
            None => from_file.cors_origins.unwrap_or_default(),
        };

        let max_upload_mb = match env("DUBAN_MAX_UPLOAD_MB") {
            Some(value) => value.parse().ok().filter(|&n: &u64| n > 0).ok_or_else(|| ConfigError::Variable {
                name: "DUBAN_MAX_UPLOAD_MB",
                value: value.clone(),
                message: "expected a whole number of MiB above 0".to_owned(),
            })?,
            None => from_file.max_upload_mb.unwrap_or(512),
        };
        let data_dir = env("DUBAN_DATA_DIR").map(PathBuf::from).or(from_file.data_dir).unwrap_or_else(|| default_data_dir(&env));
        let evidence_dir =
            env("DUBAN_EVIDENCE_DIR").map(PathBuf::from).or(from_file.evidence_dir).unwrap_or_else(|| data_dir.join("evidence"));
        let storage = match env("DUBAN_STORAGE").or(from_file.storage).as_deref() {
            None | Some("local") => crate::storage::StorageConfig::Local { root: evidence_dir },
            Some("s3") => {
                let required = |name: &'static str, file: Option<String>| {
                    env(name).or(file).ok_or_else(|| ConfigError::Variable {
                        name,
                        value: String::new(),
                        message: "is required when DUBAN_STORAGE=s3".to_owned(),
                    })
                };
                crate::storage::StorageConfig::S3 {
                    bucket: required("DUBAN_S3_BUCKET", from_file.s3_bucket)?,
                    access_key_id: required("DUBAN_S3_ACCESS_KEY_ID", from_file.s3_access_key_id)?,
                    secret_access_key: required("DUBAN_S3_SECRET_ACCESS_KEY", from_file.s3_secret_access_key)?,
                    endpoint: env("DUBAN_S3_ENDPOINT").or(from_file.s3_endpoint),
                    region: env("DUBAN_S3_REGION").or(from_file.s3_region).unwrap_or_else(|| "us-east-1".to_owned()),
                    prefix: env("DUBAN_S3_PREFIX").or(from_file.s3_prefix).unwrap_or_default(),
                    allow_http: flag("DUBAN_S3_ALLOW_HTTP", from_file.s3_allow_http, false)?,
                    staging: evidence_dir.join("staging"),
                }
            }
            Some(other) => {
                return Err(ConfigError::Variable {
                    name: "DUBAN_STORAGE",
                    value: other.to_owned(),
                    message: "expected local or s3".to_owned(),
                });
            }
        };

        let smtp = match env("DUBAN_SMTP_HOST").or(from_file.smtp_host) {
            None => None,
            Some(host) => {
                let tls = match env("DUBAN_SMTP_TLS").or(from_file.smtp_tls).as_deref() {
                    None | Some("starttls") => SmtpTls::StartTls,
                    Some("tls") => SmtpTls::Tls,
                    Some("none") => SmtpTls::None,
                    Some(other) => {
                        return Err(ConfigError::Variable {
                            name: "DUBAN_SMTP_TLS",
                            value: other.to_owned(),
                            message: "expected starttls, tls or none".to_owned(),
                        });
                    }
                };
                let port = match env("DUBAN_SMTP_PORT") {
                    Some(value) => value.parse().map_err(|_| ConfigError::Variable {
                        name: "DUBAN_SMTP_PORT",
                        value: value.clone(),
                        message: "expected a port number".to_owned(),
                    })?,
                    None => from_file.smtp_port.unwrap_or(if tls == SmtpTls::Tls { 465 } else { 587 }),
                };
                Some(Smtp {
                    port,
                    tls,
                    username: env("DUBAN_SMTP_USERNAME").or(from_file.smtp_username),
                    password: env("DUBAN_SMTP_PASSWORD").or(from_file.smtp_password),
                    from: env("DUBAN_SMTP_FROM").or(from_file.smtp_from).unwrap_or_else(|| format!("duban@{host}")),
                    ca_file: env("DUBAN_SMTP_CA_FILE").map(PathBuf::from).or(from_file.smtp_ca_file),
                    host,
                })
            }
        };
        let reminder_interval = match env("DUBAN_REMINDER_INTERVAL_S") {
            Some(value) => value.parse().ok().filter(|&n: &u64| n > 0).ok_or_else(|| ConfigError::Variable {
                name: "DUBAN_REMINDER_INTERVAL_S",
                value: value.clone(),
                message: "expected a whole number of seconds above 0".to_owned(),
            })?,
            None => from_file.reminder_interval_s.unwrap_or(300),
        };
        let delivery_lease = match env("DUBAN_DELIVERY_LEASE_S") {
            Some(value) => value.parse().ok().filter(|&n: &u64| n > 0).ok_or_else(|| ConfigError::Variable {
                name: "DUBAN_DELIVERY_LEASE_S",
                value: value.clone(),
                message: "expected a whole number of seconds above 0".to_owned(),
            })?,
            None => from_file.delivery_lease_s.unwrap_or(120),
        };
        let messaging = Messaging {
            smtp,
            allow_loopback: flag("DUBAN_OUTBOUND_ALLOW_LOOPBACK", from_file.outbound_allow_loopback, false)?,
            reminder_interval: std::time::Duration::from_secs(reminder_interval),
            delivery_lease: std::time::Duration::from_secs(delivery_lease),
            background_work: flag("DUBAN_BACKGROUND_WORK", from_file.background_work, true)?,
        };

        let tls = match (
            env("DUBAN_TLS_CERT_FILE").map(PathBuf::from).or(from_file.tls_cert_file),
            env("DUBAN_TLS_KEY_FILE").map(PathBuf::from).or(from_file.tls_key_file),
        ) {
            (Some(cert_file), Some(key_file)) => Some(TlsFiles { cert_file, key_file }),
            (None, None) => None,
            (cert, _) => {
                return Err(ConfigError::Variable {
                    name: if cert.is_some() { "DUBAN_TLS_KEY_FILE" } else { "DUBAN_TLS_CERT_FILE" },
                    value: String::new(),
                    message: "HTTPS needs both tls_cert_file and tls_key_file".to_owned(),
                });
            }
        };
        let checkpoint_interval = match env("DUBAN_AUDIT_CHECKPOINT_INTERVAL_S") {
            Some(value) => value.parse().ok().filter(|&n: &u64| n > 0).ok_or_else(|| ConfigError::Variable {
                name: "DUBAN_AUDIT_CHECKPOINT_INTERVAL_S",
                value: value.clone(),
                message: "expected a whole number of seconds above 0".to_owned(),
            })?,
            None => from_file.audit_checkpoint_interval_s.unwrap_or(3600),
        };
        let audit_hash = match env("DUBAN_AUDIT_HASH").or(from_file.audit_hash) {
            Some(value) => crate::audit::ChainHash::parse(&value).ok_or_else(|| ConfigError::Variable {
                name: "DUBAN_AUDIT_HASH",
                value: value.clone(),
                message: "expected sha256 or sm3".to_owned(),
            })?,
            None => crate::audit::ChainHash::default(),
        };
        let audit_anchor = crate::audit::anchor::AnchorSettings {
            signing_key: env("DUBAN_AUDIT_SIGNING_KEY"),
            signing_key_file: env("DUBAN_AUDIT_SIGNING_KEY_FILE")
                .map(PathBuf::from)
                .or(from_file.audit_signing_key_file)
                .unwrap_or_else(|| data_dir.join("audit-signing.key")),
            checkpoint_file: env("DUBAN_AUDIT_CHECKPOINT_FILE")
                .map(PathBuf::from)
                .or(from_file.audit_checkpoint_file)
                .unwrap_or_else(|| data_dir.join("audit-checkpoints.jsonl")),
            interval: std::time::Duration::from_secs(checkpoint_interval),
        };
        Ok(Settings {
            database_url: env("DATABASE_URL").or(from_file.database_url),
            data_dir,
            listen: env("DUBAN_LISTEN").or(from_file.listen).unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            tls,
            audit_anchor,
            audit_hash,
            static_dir: env("DUBAN_STATIC_DIR")
                .map(PathBuf::from)
                .or(from_file.static_dir)
                .or_else(|| Some(PathBuf::from("frontend/dist")).filter(|dir| dir.join("index.html").is_file())),
            log_format,
            log: env("DUBAN_LOG").or_else(|| env("RUST_LOG")).or(from_file.log).unwrap_or_else(|| "info".to_owned()),
            db_pool_size,
            database_replica_url: env("DATABASE_REPLICA_URL").or(from_file.database_replica_url).filter(|url| !url.trim().is_empty()),
            replica_max_lag_ms,
            seed_on_first_start,
            production,
            jwt_secret,
            cors_origins,
            metrics_token: env("DUBAN_METRICS_TOKEN").or(from_file.metrics_token).filter(|token| !token.trim().is_empty()),
            max_upload_bytes: max_upload_mb << 20,
            storage,
            messaging,
        })
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// Root keeps its data where services do; anyone else in their home.
fn default_data_dir(env: &impl Fn(&str) -> Option<String>) -> PathBuf {
    // SAFETY: geteuid cannot fail and has no side effects.
    if unsafe { libc::geteuid() } == 0 {
        return PathBuf::from("/var/lib/duban");
    }
    if let Some(data_home) = env("XDG_DATA_HOME") {
        return PathBuf::from(data_home).join("duban");
    }
    match env("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/duban"),
        None => PathBuf::from("duban-data"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load(vars: &[(&str, &str)], file: Option<&Path>) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::load_from(file, |name| vars.get(name).cloned())
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile_dir();
        let path = dir.join("duban.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:9000\"\nlog_format = \"json\"\ndb_pool_size = 4\n").unwrap();
        let settings = load(&[("DUBAN_LISTEN", "127.0.0.1:1234")], Some(&path)).unwrap();
        assert_eq!(settings.listen, "127.0.0.1:1234");
        assert_eq!(settings.log_format, LogFormat::Json);
        assert_eq!(settings.db_pool_size, 4);
        assert!(settings.seed_on_first_start);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn production_never_loads_demo_data() {
        let settings = load(&[("DUBAN_PRODUCTION", "true"), ("DUBAN_SEED_ON_FIRST_START", "true")], None).unwrap();
        assert!(settings.production && !settings.seed_on_first_start);
        let settings = load(&[("DUBAN_CORS_ORIGINS", "https://portal.example.cn, https://gov.example.cn")], None).unwrap();
        assert_eq!(settings.cors_origins, ["https://portal.example.cn", "https://gov.example.cn"]);
        assert!(load(&[("DUBAN_JWT_SECRET", "short")], None).is_err());
    }

    #[test]
    fn names_the_bad_variable() {
        let error = load(&[("DUBAN_LOG_FORMAT", "xml")], None).unwrap_err();
        assert!(error.to_string().contains("DUBAN_LOG_FORMAT=\"xml\""), "{error}");
        let error = load(&[("DUBAN_DB_POOL_SIZE", "0")], None).unwrap_err();
        assert!(error.to_string().contains("DUBAN_DB_POOL_SIZE"), "{error}");
    }

    #[test]
    fn refuses_unknown_settings_in_the_file() {
        let dir = tempfile_dir();
        let path = dir.join("duban.toml");
        std::fs::write(&path, "listen_address = \"x\"\n").unwrap();
        let error = load(&[], Some(&path)).unwrap_err();
        assert!(error.to_string().contains("listen_address"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("duban-config-test-{}-{}", std::process::id(), uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
