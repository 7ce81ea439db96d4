//! `palisade config …`: configuration file tools.

use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code of `config check` for an invalid or unreadable file.
const EXIT_INVALID: u8 = 2;

/// Configuration subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ConfigCommand {
    /// Check a configuration file. Prints every problem as FILE:LINE:COLUMN: MESSAGE on standard
    /// error and exits with 2 when the file is invalid; prints a short summary and exits with 0 when valid.
    Check {
        /// The configuration file (TOML).
        file: PathBuf,
    },
}

pub(crate) fn run(command: ConfigCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConfigCommand::Check { file } => match palisade_config::load(&file) {
            Ok(config) => {
                println!("{}: valid ({})", file.display(), summary(&config));
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => {
                eprintln!("{error}");
                Ok(ExitCode::from(EXIT_INVALID))
            }
        },
    }
}

/// "2 listeners, 1 upstream, 1 site, 3 routes, WAF configured".
pub(crate) fn summary(config: &palisade_config::Config) -> String {
    fn count(n: usize, what: &str) -> String {
        format!("{n} {what}{}", if n == 1 { "" } else { "s" })
    }
    let routes: usize = config.sites.iter().map(|s| s.routes.len()).sum();
    format!(
        "{}, {}, {}, {}, WAF {}",
        count(config.listeners.len(), "listener"),
        count(config.upstreams.len(), "upstream"),
        count(config.sites.len(), "site"),
        count(routes, "route"),
        match &config.waf {
            Some(waf) if waf.mode == palisade_config::RouteMode::Off => "off",
            Some(_) => "configured",
            None => "default",
        },
    )
}
