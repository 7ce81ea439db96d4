//! Logging set-up: tracing-subscriber on standard error, JSON (default) or
//! pretty, filtered by `log.level` unless `RUST_LOG` is set. Nothing here logs
//! configuration values, so secrets never reach the log.

use std::io::IsTerminal as _;

use anyhow::Context as _;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Call once, after the configuration is loaded.
pub(crate) fn init(log: &palisade_config::Log) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::try_new(&directives)
            .with_context(|| format!("invalid RUST_LOG {directives:?}"))?,
        _ => EnvFilter::try_new(&log.level)
            .with_context(|| format!("invalid log.level {:?}", log.level))?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let installed = match log.format.as_str() {
        "pretty" => builder.compact().try_init(),
        _ => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    installed.map_err(|error| anyhow::anyhow!("cannot install the logger: {error}"))
}
