//! Logging with tracing: human-readable lines by default, JSON when
//! configured. Logs go to standard error; standard output belongs to the
//! command's own results (an import report, an exported file).

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. An invalid filter falls back to `info`
/// with a warning rather than leaving the operator without logs.
pub fn init(format: LogFormat, filter: &str) {
    let (env_filter, bad_filter) = match EnvFilter::try_new(filter) {
        Ok(env_filter) => (env_filter, None),
        Err(error) => (EnvFilter::new("info"), Some(error)),
    };
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(env_filter).with_writer(std::io::stderr).with_ansi(colour);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
    };
    // A second init (tests) keeps the first subscriber.
    drop(installed);
    if let Some(error) = bad_filter {
        tracing::warn!(%error, filter, "the log filter is not valid; logging at info");
    }
}
