//! Development tasks for duban, run as `cargo xtask <task>`.

mod seeds;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "duban's development tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Regenerate seeds/luoping.campaign.json from the breakdown document,
    /// keeping the curated campaign description and quantified targets.
    Seeds {
        /// Only check that the committed file is up to date.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::Seeds { check } => seeds::regenerate(check),
    }
}
