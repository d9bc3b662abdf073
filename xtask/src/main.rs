//! Development tasks for duban, run as `cargo xtask <task>`.
//!
//! The two commands the README promises live here: `cargo xtask demo`
//! (install what is missing, build, run duban with the demo data) and
//! `cargo xtask test` (install what is missing, run every test).

mod bench;
mod schemathesis;
mod seeds;
mod setup;
mod tasks;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "duban's development tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install what building and testing duban needs: PostgreSQL, libpq,
    /// the wasm target, trunk, wasm-bindgen-cli, wasm-opt.
    Setup,
    /// Build the browser client with trunk into frontend/dist.
    Frontend,
    /// Build and run duban with its embedded database and the demo data.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Run every test: formatting, the wasm build, unit and integration
    /// tests on a throwaway PostgreSQL, schemathesis against a live server.
    Test,
    /// Regenerate seeds/luoping.campaign.json from the breakdown document,
    /// keeping the curated campaign description and quantified targets.
    Seeds {
        /// Only check that the committed file is up to date.
        #[arg(long)]
        check: bool,
    },
    /// Regenerate openapi/openapi.json from the code.
    Openapi,
    /// Measure duban at provincial scale (see BENCHMARKS.md): generate the
    /// data, load a release server with wrk, compare with pgbench, write
    /// BENCHMARKS.md and target/bench/results.json.
    Bench {
        /// Counties to generate; 129 is the provincial case.
        #[arg(long, default_value_t = 129)]
        counties: u32,
        /// Seconds per load run.
        #[arg(long, default_value_t = 5)]
        seconds: u32,
        /// Concurrencies to load each operation at, comma-separated.
        #[arg(long, default_value = "1,4,8,16", value_delimiter = ',')]
        concurrency: Vec<u32>,
    },
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::Setup => setup::all(),
        Task::Frontend => tasks::frontend(),
        Task::Demo { listen } => tasks::demo(&listen),
        Task::Test => tasks::test(),
        Task::Seeds { check } => seeds::regenerate(check),
        Task::Openapi => tasks::openapi(),
        Task::Bench { counties, seconds, concurrency } => bench::bench(&bench::BenchOptions { counties, seconds, concurrency }),
    }
}
