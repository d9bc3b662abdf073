//! The `duban` command line: serving, importing, exporting.
//!
//! Commands that need the database use DATABASE_URL when it is set and the
//! embedded cluster in the data directory otherwise, and stop that cluster
//! again before they exit.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use duban_breakdown::seed::to_pretty_json;

use crate::config::Settings;
use crate::db::Database;
use crate::http::AppState;
use crate::import::{self, ImportError, Source};
use crate::{export, seeds, telemetry};

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
    /// Import a breakdown table (.txt text dump), a campaign seed or a unit
    /// roster (.json). Writes nothing unless the whole file is valid.
    Import {
        file: PathBuf,
        /// The campaign a breakdown table goes into; a new code creates it.
        /// Defaults to the only campaign of the table's county.
        #[arg(long)]
        campaign: Option<String>,
        /// Check the file and report what would change, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON instead of text.
        #[arg(long)]
        json: bool,
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
    /// Load the demo data (the Luoping roster and breakdown).
    SeedDemo,
    /// Apply pending database migrations.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
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
        Command::Import { file, campaign, dry_run, json } => {
            // Parse before opening the database: a bad file costs nothing.
            let source = Source::read_file(&file, campaign).map_err(describe_import_error(&file))?;
            let db = Database::open(settings)?;
            let report =
                import::run(&mut *db.pool.get()?, &source, &file.display().to_string(), dry_run).map_err(describe_import_error(&file))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
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
            write_file(&out.join(format!("{code}.campaign.json")), &to_pretty_json(&campaign_seed))?;
            write_file(&out.join(format!("{code}.units.json")), &to_pretty_json(&roster_seed))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::SeedDemo => {
            let db = Database::open(settings)?;
            for report in seeds::load_demo(&mut *db.pool.get()?)? {
                print!("{report}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            Database::open(settings)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn serve(settings: &Settings, listen: Option<String>) -> anyhow::Result<ExitCode> {
    let db = Database::open(settings)?;
    if settings.seed_on_first_start && seeds::load_demo_if_empty(&mut *db.pool.get()?)? {
        tracing::info!("first start: loaded the demo data (Luoping county)");
    }
    match &settings.static_dir {
        Some(dir) => tracing::info!(dir = %dir.display(), "serving the browser client"),
        None => tracing::warn!("no browser client to serve (build frontend/ or set DUBAN_STATIC_DIR); serving the API only"),
    }
    let state = AppState { pool: db.pool.clone() };
    let listen = listen.unwrap_or_else(|| settings.listen.clone());
    actix_web::rt::System::new().block_on(crate::http::serve(state, &listen, settings.static_dir.clone()))?;
    tracing::info!("stopped serving");
    drop(db);
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

fn write_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).map_err(|error| anyhow::anyhow!("writing {}: {error}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn describe_import_error(file: &Path) -> impl FnOnce(ImportError) -> anyhow::Error + '_ {
    move |error| anyhow::anyhow!("{}: nothing was imported.\n{error}", file.display())
}
