//! The `duban` command line: serving, importing, exporting.
//!
//! Commands that need the database use DATABASE_URL when it is set and the
//! embedded cluster in the data directory otherwise, and stop that cluster
//! again before they exit.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use duban_breakdown::seed::to_pretty_json;

use duban_dto::api::{NewUser, UserPatch};
use duban_dto::{ImportJobStatus, ImportKind, Role};

use std::sync::Arc;

use crate::authz::Operator;
use crate::config::Settings;
use crate::db::Database;
use crate::http::AppState;
use crate::import::bulk::Defaults;
use crate::import::job::{self, BulkRequest, UploadFormat};
use crate::import::{self, ImportError, Source};
use crate::storage::Storage;
use crate::{accounts, audit, export, seeds, telemetry};

#[derive(Parser)]
#[command(name = "duban", version, about = "督办: a county's rule-of-law government demonstration campaign")]
struct Cli {
    /// A TOML settings file (see README.md, Configuration).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (API, API docs and the browser client).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (overrides DUBAN_LISTEN).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Import a breakdown table (.txt text dump, .docx, .xlsx/.xls, or the
    /// flat .csv/.json format), a campaign seed or a unit roster (.json).
    /// Writes nothing unless the whole file is valid.
    Import {
        file: PathBuf,
        /// What the file holds: the breakdown table or a seed (the default),
        /// or rows of units, users or assignments (CSV, JSON, .xlsx), as
        /// `POST /api/v1/imports` takes them.
        #[arg(long, default_value = "breakdown", value_parser = parse_import_kind)]
        kind: ImportKind,
        /// The campaign a breakdown table goes into; a new code creates it.
        /// Defaults to the only campaign of the table's county.
        #[arg(long)]
        campaign: Option<String>,
        /// The county of a table whose title names none (flat CSV/JSON rows),
        /// needed when the import creates the campaign; for rows, the county
        /// of rows that do not name one.
        #[arg(long)]
        region: Option<String>,
        /// Check the file and report what would change, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Export a campaign's breakdown table with progress, for reporting
    /// upward: a workbook (.xlsx, a sheet per list in the province's layout
    /// and the per-unit task list) or CSV (.csv). The file's extension picks
    /// the format; `import` reads either back without changes.
    Export {
        file: PathBuf,
        /// The campaign to export; defaults to the only one.
        #[arg(long)]
        campaign: Option<String>,
        /// For CSV: write the per-unit task list (单位任务清单) instead.
        #[arg(long)]
        units: bool,
    },
    /// Write a campaign and its county's roster as seed files
    /// (<code>.campaign.json, <code>.units.json) that `import` reads back.
    ExportSeeds {
        /// The campaign to export; defaults to the only one.
        #[arg(long)]
        campaign: Option<String>,
        /// Directory to write into.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Load the demo data (the Luoping roster and breakdown, demo accounts).
    SeedDemo,
    /// Generate a province-sized dataset for benchmarks: the demo county and
    /// copies of it up to N counties, with assignments, evidence metadata,
    /// reviews and audit rows. Adds only what is missing when run again.
    GenData {
        /// How many counties (129 is a province such as Yunnan).
        #[arg(long, default_value_t = 1)]
        counties: u32,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Manage accounts on the server, e.g. the first administrator.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Evidence files.
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
    /// Evaluate the reminder rules now: deadline reminders, notice reminders
    /// and escalations, each once (serve does it every DUBAN_REMINDER_INTERVAL_S).
    NotifyDeadlines {
        /// Evaluate as of this day (YYYY-MM-DD) instead of today: to catch up
        /// after an outage, or to see what a later day will send.
        #[arg(long, value_name = "DATE")]
        on: Option<chrono::NaiveDate>,
    },
    /// Back up the database, the evidence and the audit checkpoints into a
    /// new snapshot directory under DIR (evidence shared by hash between
    /// snapshots, so a nightly run copies only what is new).
    Backup {
        /// Where snapshots go, e.g. /backup/duban.
        dir: PathBuf,
    },
    /// Restore a snapshot (DIR/<time>, as `backup` printed) into an empty
    /// database, after checking every file against its manifest.
    Restore { snapshot: PathBuf },
    /// Apply pending database migrations.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. Without --password-stdin a strong password is
    /// generated and printed once.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// admin, lead_office, unit_manager, unit_staff or inspector.
        #[arg(long)]
        role: String,
        /// The unit's name, for unit roles (and optionally the lead office).
        #[arg(long)]
        unit: Option<String>,
        /// The region the account works in (a county, or a province's or
        /// city's for an area_office); a unit's account takes its unit's.
        #[arg(long)]
        region: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password and end the account's sessions.
    ResetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account and end its sessions.
    Disable { username: String },
    /// List accounts.
    List,
}

#[derive(Subcommand)]
enum EvidenceCommand {
    /// Re-hash every stored object against the database; report mismatches,
    /// missing objects and orphans.
    Verify,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; name the first row altered, removed or out of
    /// order; check it against the signed checkpoints outside the database;
    /// then write down a new checkpoint.
    Verify {
        /// Also check the archive files of pruned rows in this directory.
        #[arg(long, value_name = "DIR")]
        archives: Option<PathBuf>,
    },
    /// Move rows older than DATE (at least 180 days ago) into a signed
    /// archive file in DIR, then remove them from the database.
    Archive {
        #[arg(long, value_name = "DATE")]
        before: chrono::NaiveDate,
        dir: PathBuf,
    },
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("duban: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format, &settings.log);
    match execute(cli.command, &settings) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("duban: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: Command, settings: &Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Openapi => {
            print!("{}", openapi_json());
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { listen } => serve(settings, listen),
        Command::Import { file, kind, campaign, region, dry_run, json } if kind != ImportKind::Breakdown => {
            import_rows(settings, &file, kind, Defaults { region, campaign }, dry_run, json)
        }
        Command::Import { file, campaign, region, dry_run, json, .. } => {
            // Parse before opening the database: a bad file costs nothing.
            let mut source = Source::read_file(&file, campaign).map_err(describe_import_error(&file))?;
            if let Some(region) = region {
                source.set_region(&region).map_err(describe_import_error(&file))?;
            }
            let db = Database::open(settings)?;
            let report = import::run(
                &mut *db.pool.get()?,
                &Operator::at_command_line().import_data(),
                &audit::Actor::command_line(),
                &source,
                &file.display().to_string(),
                dry_run,
            )
            .map_err(describe_import_error(&file))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { file, campaign, units } => {
            let kind = match file.extension().and_then(|ext| ext.to_str()).map(str::to_ascii_lowercase).as_deref() {
                Some("xlsx") if !units => export::BreakdownFile::Workbook,
                Some("xlsx") => anyhow::bail!("--units applies to CSV; the workbook always holds the per-unit list"),
                Some("csv") if units => export::BreakdownFile::UnitTasksCsv,
                Some("csv") => export::BreakdownFile::TasksCsv,
                _ => anyhow::bail!("{}: name the file .xlsx or .csv to choose the format", file.display()),
            };
            let db = Database::open(settings)?;
            let mut conn = db.pool.get()?;
            let code = match campaign {
                Some(code) => code,
                None => only_campaign(&mut conn)?,
            };
            let operator = Operator::at_command_line();
            let exported = export::breakdown_file(
                &mut conn,
                &operator.read_catalog(),
                &operator.read_progress(),
                &audit::Actor::command_line(),
                &code,
                kind,
            )?;
            write_file(&file, &exported.bytes)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ExportSeeds { campaign, out } => {
            let db = Database::open(settings)?;
            let mut conn = db.pool.get()?;
            let code = match campaign {
                Some(code) => code,
                None => only_campaign(&mut conn)?,
            };
            let campaign_seed = export::campaign_seed(&mut conn, &code)?;
            let roster_seed = export::roster_seed(&mut conn, &campaign_seed.campaign.region)?;
            std::fs::create_dir_all(&out)?;
            write_file(&out.join(format!("{code}.campaign.json")), to_pretty_json(&campaign_seed))?;
            write_file(&out.join(format!("{code}.units.json")), to_pretty_json(&roster_seed))?;
            let event = audit::Event::new("export.seeds")
                .entity("campaign", &code)
                .after(serde_json::json!({"directory": out.display().to_string()}));
            audit::record(&mut conn, &audit::Actor::command_line(), event)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::SeedDemo => {
            if settings.production {
                anyhow::bail!("production mode: demo data and its demo accounts are not loaded");
            }
            let db = Database::open(settings)?;
            for report in seeds::load_demo(&mut *db.pool.get()?, &Operator::at_command_line())? {
                print!("{report}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::GenData { counties, json } => {
            if settings.production {
                anyhow::bail!("production mode: generated data has no place in a real county's database");
            }
            let db = Database::open(settings)?;
            let generated = crate::generate::generate(&mut *db.pool.get()?, &Operator::at_command_line(), counties, &mut |line| {
                eprintln!("gen-data: {line}")
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&generated)?);
            } else {
                println!(
                    "{} counties: {} tasks, {} units, {} assignments, {} evidence, {} decisions, {} audit rows in {:.1} s",
                    generated.counties,
                    generated.tasks,
                    generated.units,
                    generated.assignments,
                    generated.evidence,
                    generated.decisions,
                    generated.audit_rows,
                    generated.total_seconds
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command } => user_command(settings, command),
        Command::Evidence { command: EvidenceCommand::Verify } => {
            let db = Database::open(settings)?;
            let storage = Storage::open(&settings.storage)?;
            let can = Operator::at_command_line().verify_store();
            let report = actix_web::rt::System::new().block_on(crate::evidence::verify(&db.pool, &storage, &can))?;
            crate::evidence::record_verified_corruption(&mut *db.pool.get()?, &can, &report.mismatched)?;
            println!("{} stored objects checked", report.checked);
            for (what, names) in [
                ("content does not match its hash", &report.mismatched),
                ("missing from the store", &report.missing),
                ("stored but not referenced (orphan)", &report.orphans),
            ] {
                for name in names {
                    println!("{what}: {name}");
                }
            }
            if report.is_clean() {
                println!("evidence intact");
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(ExitCode::FAILURE)
            }
        }
        Command::NotifyDeadlines { on } => {
            let db = Database::open(settings)?;
            let mut conn = db.pool.get()?;
            let day = on.unwrap_or_else(crate::clock::today);
            let (deadlines, notices) = crate::reminders::evaluate(&mut conn, &Operator::at_command_line(), day)?;
            println!("{deadlines} deadline reminders and {notices} notice reminders or escalations sent");
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { command: AuditCommand::Verify { archives } } => verify_audit(settings, archives.as_deref()),
        Command::Audit { command: AuditCommand::Archive { before, dir } } => {
            let db = Database::open(settings)?;
            let key = audit::anchor::SigningKey::load_or_create(&settings.audit_anchor)?;
            match audit::archive::archive(&mut *db.pool.get()?, &Operator::at_command_line().keep_audit(), &key, before, &dir)? {
                Some(archived) => println!("{} rows archived to {} and removed from the database", archived.rows, archived.file.display()),
                None => println!("no rows before {before} left to archive"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { dir } => {
            let summary = crate::backup::backup(settings, &Operator::at_command_line().keep_audit(), &dir)?;
            println!(
                "backup written to {}: database, audit checkpoints and {} evidence objects ({} copied now)",
                summary.snapshot.display(),
                summary.evidence_objects,
                summary.evidence_copied
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { snapshot } => {
            let summary = crate::backup::restore(settings, &snapshot)?;
            println!(
                "restored from {}: {} files matched the manifest, {} evidence objects restored; run `duban audit verify` and `duban evidence verify`",
                snapshot.display(),
                summary.files_checked,
                summary.evidence_objects
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            Database::open(settings)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Verifies the chain, then the chain against every signed checkpoint
/// outside the database; when both hold, writes down a new checkpoint.
fn verify_audit(settings: &Settings, archives: Option<&Path>) -> anyhow::Result<ExitCode> {
    use audit::anchor;
    let db = Database::open(settings)?;
    let mut conn = db.pool.get()?;
    let (rows, head) = match audit::verify(&mut conn)? {
        audit::Verdict::Intact { rows, head } => (rows, head),
        audit::Verdict::Broken { problem, .. } => {
            eprintln!("duban: audit log broken: {problem}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let anchoring = &settings.audit_anchor;
    let key = anchor::SigningKey::load_or_create(anchoring)?;
    let checkpoints = anchor::read_checkpoints(&anchoring.checkpoint_file).map_err(|why| anyhow::anyhow!(why))?;
    if let Err(problem) = anchor::check(&mut conn, &checkpoints, &key.verifying_key())? {
        eprintln!("duban: audit log broken: {problem}");
        return Ok(ExitCode::FAILURE);
    }
    if let Some(dir) = archives {
        match audit::archive::verify_archives(&mut conn, dir, &key.verifying_key())? {
            Ok(count) => println!("{count} archives in {} intact", dir.display()),
            Err(problem) => {
                eprintln!("duban: audit archive broken: {problem}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    println!(
        "audit log intact: {rows} rows, head hash {head}; {} signed checkpoints in {} agree (key {})",
        checkpoints.len(),
        anchoring.checkpoint_file.display(),
        anchor::key_id(&key.verifying_key())
    );
    if let Some(checkpoint) =
        anchor::write_checkpoint(&mut conn, &Operator::at_command_line().keep_audit(), &key, &anchoring.checkpoint_file)?
    {
        println!("checkpoint written: row {} head {}", checkpoint.last_id, checkpoint.head);
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(settings: &Settings, listen: Option<String>) -> anyhow::Result<ExitCode> {
    let db = Database::open(settings)?;
    let mut conn = db.pool.get()?;
    let interrupted = job::fail_interrupted(&mut conn, &Operator::at_command_line())?;
    if interrupted > 0 {
        tracing::warn!(interrupted, "import jobs that were running when duban stopped are marked failed; nothing of them was written");
    }
    if settings.seed_on_first_start && seeds::load_demo_if_empty(&mut conn, &Operator::at_command_line())? {
        tracing::info!("first start: loaded the demo data (Luoping county) and demo accounts");
    }
    if settings.production {
        let demo = accounts::users::enabled_demo_accounts(&mut conn)?;
        if !demo.is_empty() {
            anyhow::bail!(
                "production mode refuses to serve while demo accounts, whose password is published, are enabled: {}; \
                 disable them with `duban user disable NAME`",
                demo.join(", ")
            );
        }
        if accounts::users::user_count(&mut conn)? == 0 {
            tracing::error!(
                "there are no accounts yet: create the first administrator with `duban user create --role admin --username NAME --display-name NAME`"
            );
        }
    }
    drop(conn);
    match &settings.static_dir {
        Some(dir) => tracing::info!(dir = %dir.display(), "serving the browser client"),
        None => tracing::warn!("no browser client to serve (build frontend/ or set DUBAN_STATIC_DIR); serving the API only"),
    }
    let storage = Arc::new(Storage::open(&settings.storage)?);
    let leftovers = storage.clean_staging()?;
    if leftovers > 0 {
        tracing::warn!(leftovers, "removed staging files of uploads that never finished");
    }
    let state = AppState::new(db.pool.clone(), settings.jwt_secret.as_deref(), storage, settings.max_upload_bytes)
        .map_err(|error| anyhow::anyhow!("{error}"))?
        .with_health(db.monitor())
        .with_outbound_allow_loopback(settings.messaging.allow_loopback)
        .with_metrics_token(settings.metrics_token.clone())
        .with_replica(settings.database_replica_url.as_deref().map(|url| {
            let replica = crate::db::replica::Replica::open(
                url,
                settings.db_pool_size,
                std::time::Duration::from_millis(settings.replica_max_lag_ms),
            );
            replica.start_monitor(db.pool.clone());
            replica
        }));
    start_background_work(db.pool.clone(), &settings.messaging);
    audit::anchor::start(db.pool.clone(), Operator::at_command_line().keep_audit(), settings.audit_anchor.clone())?;
    let listen = listen.unwrap_or_else(|| settings.listen.clone());
    let tls = settings.tls.as_ref().map(crate::http::tls::server_config).transpose()?;
    actix_web::rt::System::new().block_on(crate::http::serve(
        state,
        &listen,
        tls,
        settings.static_dir.clone(),
        settings.cors_origins.clone(),
    ))?;
    tracing::info!("stopped serving");
    drop(db);
    Ok(ExitCode::SUCCESS)
}

/// Starts the work that runs beside the web server: the reminder
/// scheduler and the outbox dispatcher. Several instances may each run
/// them; they coordinate through the database.
fn start_background_work(pool: crate::db::PgPool, messaging: &crate::config::Messaging) {
    if !messaging.background_work {
        tracing::info!("background work (reminders, deliveries) is left to other instances");
        return;
    }
    if messaging.smtp.is_none() {
        tracing::info!("no mail server configured (DUBAN_SMTP_HOST): e-mail waits in the outbox");
    }
    crate::reminders::start(pool.clone(), messaging.reminder_interval, Operator::at_command_line());
    let dispatcher = crate::dispatch::Dispatcher::new(pool, messaging.clone());
    std::thread::Builder::new().name("dispatcher".to_owned()).spawn(move || dispatcher.run()).expect("starting a thread");
}

/// A password from standard input, or a generated one (printed once).
fn password_for(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        return Ok((password, false));
    }
    // Five groups of four random characters joined by dashes: 120 random
    // bits, easy to read out, and of the policy's three classes: the dash
    // is one, and twenty base64url characters all of a single class happen
    // about once in a hundred million.
    let token = crate::auth::secrets::random_token();
    let groups: Vec<&str> = (0..5).map(|group| &token[group * 4..group * 4 + 4]).collect();
    Ok((groups.join("-"), true))
}

fn user_command(settings: &Settings, command: UserCommand) -> anyhow::Result<ExitCode> {
    let db = Database::open(settings)?;
    let mut conn = db.pool.get()?;
    let operator = Operator::at_command_line();
    let can = operator.manage_accounts();
    let actor = audit::Actor::command_line();
    let failed = |error: crate::error::Error| anyhow::anyhow!("{error}");
    match command {
        UserCommand::Create { username, display_name, role, unit, region, password_stdin } => {
            let role = Role::parse(&role).ok_or_else(|| {
                anyhow::anyhow!("--role {role:?}: expected one of {}", Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "))
            })?;
            let unit_id = match unit {
                Some(name) => Some(crate::units::unit_id_by_name(&mut conn, &name).map_err(failed)?),
                None => None,
            };
            let (password, generated) = password_for(password_stdin)?;
            let new = NewUser { username, display_name, role, unit_id, region, password: password.clone() };
            let user = accounts::users::create_user(&mut conn, &can, &actor, &new).map_err(failed)?;
            println!("created {} ({}), id {}", user.username, user.role, user.id);
            if generated {
                println!("password: {password}");
                println!("(shown once; the user should change it after signing in)");
            }
        }
        UserCommand::ResetPassword { username, password_stdin } => {
            let id = accounts::users::user_id_by_name(&mut conn, &username).map_err(failed)?;
            let (password, generated) = password_for(password_stdin)?;
            accounts::users::reset_password(&mut conn, &can, &actor, id, &password).map_err(failed)?;
            println!("password of {username} reset; its sessions have ended");
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::Disable { username } => {
            let id = accounts::users::user_id_by_name(&mut conn, &username).map_err(failed)?;
            let patch = UserPatch { disabled: Some(true), ..UserPatch::default() };
            accounts::users::update_user(&mut conn, Some(&can), None, &actor, id, &patch).map_err(failed)?;
            println!("{username} disabled; its sessions have ended");
        }
        UserCommand::List => {
            let can = operator.read_accounts();
            for user in accounts::users::list_users(&mut conn, &can).map_err(failed)? {
                let unit = user.unit.map(|unit| unit.name).unwrap_or_default();
                let flags = [(user.is_demo, "demo"), (user.disabled, "disabled")]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, flag)| *flag)
                    .collect::<Vec<_>>()
                    .join(",");
                println!("{}\t{}\t{}\t{}\t{}", user.username, user.role, user.display_name, unit, flags);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The OpenAPI document as committed to `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let mut json = serde_json::to_string_pretty(crate::http::openapi::document()).expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

fn only_campaign(conn: &mut diesel::PgConnection) -> anyhow::Result<String> {
    use diesel::prelude::*;

    use crate::db::schema::campaigns;
    let codes: Vec<String> = campaigns::table.order(campaigns::id).select(campaigns::code).load(conn)?;
    match codes.as_slice() {
        [code] => Ok(code.clone()),
        [] => anyhow::bail!("there are no campaigns to export"),
        several => anyhow::bail!("there are several campaigns ({}): choose one with --campaign", several.join(", ")),
    }
}

fn parse_import_kind(text: &str) -> Result<ImportKind, String> {
    ImportKind::parse(text).ok_or_else(|| "one of breakdown, units, users, assignments".to_owned())
}

/// `duban import --kind units|users|assignments`: the API's bulk import,
/// run directly.
fn import_rows(
    settings: &Settings,
    file: &Path,
    kind: ImportKind,
    defaults: Defaults,
    dry_run: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).map_err(|error| anyhow::anyhow!("reading {}: {error}", file.display()))?;
    let name = file.file_name().map(|name| name.to_string_lossy().into_owned());
    let format = UploadFormat::detect(None, name.as_deref(), &bytes)
        .ok_or_else(|| anyhow::anyhow!("{}: name the file .csv, .json or .xlsx", file.display()))?;
    let request = BulkRequest { kind, format, dry_run, label: file.display().to_string(), defaults };
    let db = Database::open(settings)?;
    let finished = job::run_bulk(
        &mut *db.pool.get()?,
        &Operator::at_command_line().import_data(),
        &audit::Actor::command_line(),
        &request,
        &bytes,
        &mut |_, _| {},
    )?;
    if json {
        println!("{}", serde_json::to_string_pretty(&finished.report)?);
    } else {
        print!("{}", job::describe(&request, &finished));
    }
    Ok(if finished.status == ImportJobStatus::Completed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> anyhow::Result<()> {
    std::fs::write(path, contents).map_err(|error| anyhow::anyhow!("writing {}: {error}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn describe_import_error(file: &Path) -> impl FnOnce(ImportError) -> anyhow::Error + '_ {
    move |error| anyhow::anyhow!("{}: nothing was imported.\n{error}", file.display())
}
