//! The `duban` command, built inside this package so its integration tests
//! always run the current code.

fn main() -> std::process::ExitCode {
    duban::cli::run()
}
