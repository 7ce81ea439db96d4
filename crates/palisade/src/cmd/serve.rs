//! `palisade serve`: run the gateway from a configuration file, or from
//! `--upstream`/`--listen` alone (an in-memory configuration with one site "*"
//! and one route "/" to that upstream).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::run::{ConfigSource, Overrides};

/// Default listener of `serve --upstream` without `--listen`.
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Arguments of `palisade serve`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  palisade serve --config /etc/palisade/palisade.toml\n  palisade serve --upstream http://127.0.0.1:3000 --listen 0.0.0.0:8080\n\n\
On start, one JSON line {\"listening\":[...],\"admin\":...} with the bound addresses is printed on standard output.\n\
The configuration file is reloaded when it changes and on SIGHUP; SIGTERM or SIGINT shut down gracefully."
)]
pub(crate) struct ServeArgs {
    /// Configuration file (TOML). Required unless --upstream is given.
    #[arg(
        long,
        short = 'c',
        value_name = "FILE",
        required_unless_present = "upstream",
        conflicts_with = "upstream"
    )]
    config: Option<PathBuf>,
    /// Without --config: the application to protect, e.g. http://127.0.0.1:3000.
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// Address to listen on (repeatable); replaces the configuration's listeners. Port 0 picks a free port.
    #[arg(long, short = 'l', value_name = "ADDR")]
    listen: Vec<SocketAddr>,
    /// Address of the admin listener (/healthz, /readyz, /metrics); replaces [admin] addr. Default 127.0.0.1:9090.
    #[arg(long, value_name = "ADDR")]
    admin: Option<SocketAddr>,
    /// Directory for state and events; replaces data_dir. Created when missing.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides {
        listen: args.listen.clone(),
        admin: args.admin,
        data_dir: args.data_dir,
    };
    let source = match (args.config, args.upstream) {
        (Some(path), _) => ConfigSource::File(path),
        (None, Some(upstream)) => {
            let listen: Vec<String> = if args.listen.is_empty() {
                vec![DEFAULT_LISTEN.to_owned()]
            } else {
                args.listen.iter().map(ToString::to_string).collect()
            };
            ConfigSource::Text {
                name: "(command line)".to_owned(),
                text: upstream_config(&listen, &upstream),
            }
        }
        (None, None) => anyhow::bail!("either --config FILE or --upstream URL is required"),
    };
    crate::cmd::tokio_runtime()?
        .block_on(crate::run::serve(source, overrides, |_| {}))
        .context("palisade serve")?;
    Ok(ExitCode::SUCCESS)
}

/// The in-memory configuration of `serve --upstream`: one site "*", one route "/".
pub(crate) fn upstream_config(listen: &[String], upstream: &str) -> String {
    let listeners: String = listen
        .iter()
        .map(|addr| format!("[[listener]]\naddr = {}\n\n", toml_string(addr)))
        .collect();
    format!(
        "{listeners}[[upstream]]\nname = \"app\"\nservers = [{}]\n\n\
         [[site]]\nhosts = [\"*\"]\n\n[[site.route]]\nname = \"app\"\npath = \"/\"\nupstream = \"app\"\n",
        toml_string(upstream)
    )
}

/// `text` as a TOML basic string, escaped.
pub(crate) fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}
