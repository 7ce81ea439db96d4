//! `palisade bans list | add | remove`: manage IP and network bans in the state store that
//! `serve` and `demo` enforce (`./palisade-data/state.sqlite3` by default, or the store a
//! configuration's `[state]` names, e.g. Redis). A running gateway picks changes up within a
//! second.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use palisade_state::{Ban, BanRequest, BlockTtl, StateStore};

use crate::output::{EXIT_FINDINGS, EXIT_USAGE, emit};

/// Options shared by every bans subcommand.
#[derive(Debug, clap::Args)]
pub(crate) struct BansArgs {
    /// The data directory of the local state store.
    #[arg(long, global = true, default_value = "palisade-data")]
    data_dir: PathBuf,
    /// Use the state store of this configuration file (its `[state]` and `data_dir`) instead.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: BansCommand,
}

#[derive(Debug, clap::Subcommand)]
enum BansCommand {
    /// Active bans, most recent first.
    List {
        /// Output format: table or json.
        #[arg(long, default_value = "table")]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Ban an address or network (CIDR).
    Add {
        /// Address ("203.0.113.7") or network ("203.0.113.0/24", "2001:db8::/32").
        target: String,
        /// How long ("30m", "1h", "7d"); permanent when omitted.
        #[arg(long)]
        ttl: Option<String>,
        /// Why (shown by `bans list` and in the events of refused requests).
        #[arg(long, default_value = "manual ban")]
        reason: String,
    },
    /// Remove the ban on exactly this address or network.
    Remove {
        /// Address or network as banned.
        target: String,
    },
}

pub(crate) fn run(args: BansArgs) -> anyhow::Result<ExitCode> {
    let store = open(&args)?;
    let store = store.blocking();
    match args.command {
        BansCommand::List { format, output } => {
            let bans = store.bans().context("cannot list bans")?;
            let text = match format.as_str() {
                "table" => table(&bans),
                "json" => serde_json::to_string_pretty(&bans)? + "\n",
                other => {
                    eprintln!("error: unknown format {other:?}; expected table or json");
                    return Ok(ExitCode::from(EXIT_USAGE));
                }
            };
            emit(&text, output.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        BansCommand::Add {
            target,
            ttl,
            reason,
        } => {
            let Some(network) = parse_target(&target) else {
                eprintln!(
                    "error: {target:?} is not an address or network; expected e.g. 203.0.113.7 or 203.0.113.0/24"
                );
                return Ok(ExitCode::from(EXIT_USAGE));
            };
            let ttl = match ttl.as_deref().map(humantime::parse_duration).transpose() {
                Ok(ttl) => ttl.filter(|ttl| !ttl.is_zero()),
                Err(error) => {
                    eprintln!("error: invalid --ttl ({error}); expected e.g. 30m, 1h, 7d");
                    return Ok(ExitCode::from(EXIT_USAGE));
                }
            };
            let ban = store
                .ban(BanRequest {
                    network,
                    ttl: ttl.map(BlockTtl::Fixed),
                    reason,
                    source: "cli".to_owned(),
                })
                .context("cannot add the ban")?;
            println!("banned {} {}", ban.network, until_text(ban.until));
            Ok(ExitCode::SUCCESS)
        }
        BansCommand::Remove { target } => {
            let Some(network) = parse_target(&target) else {
                eprintln!(
                    "error: {target:?} is not an address or network; expected e.g. 203.0.113.7 or 203.0.113.0/24"
                );
                return Ok(ExitCode::from(EXIT_USAGE));
            };
            if store.unban(network).context("cannot remove the ban")? {
                println!("removed the ban on {network}");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("no active ban on {network}");
                Ok(ExitCode::from(EXIT_FINDINGS))
            }
        }
    }
}

fn open(args: &BansArgs) -> anyhow::Result<StateStore> {
    match &args.config {
        Some(path) => {
            let config = palisade_config::load(path)?;
            Ok(palisade_limits::open_store(
                &config.state,
                &config.data_dir,
            )?)
        }
        None => StateStore::open_local(&args.data_dir)
            .with_context(|| format!("cannot open the state store in {}", args.data_dir.display())),
    }
}

fn parse_target(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(ipnet::IpNet::from))
}

fn until_text(until: Option<SystemTime>) -> String {
    match until {
        None => "permanently".to_owned(),
        Some(until) => format!(
            "until {} (in {})",
            humantime::format_rfc3339_seconds(until),
            humantime::format_duration(Duration::from_secs(
                until
                    .duration_since(SystemTime::now())
                    .map_or(0, |d| d.as_secs())
            ))
        ),
    }
}

fn table(bans: &[Ban]) -> String {
    if bans.is_empty() {
        return "no active bans\n".to_owned();
    }
    let rows: Vec<[String; 5]> = bans
        .iter()
        .map(|ban| {
            [
                ban.network.to_string(),
                ban.until.map_or_else(
                    || "permanent".to_owned(),
                    |until| humantime::format_rfc3339_seconds(until).to_string(),
                ),
                printable(&ban.source),
                humantime::format_rfc3339_seconds(ban.created).to_string(),
                printable(&ban.reason),
            ]
        })
        .collect();
    let headers = ["NETWORK", "UNTIL", "SOURCE", "CREATED", "REASON"];
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |cells: [&str; 5]| {
        let mut parts = Vec::with_capacity(5);
        for (index, cell) in cells.iter().enumerate() {
            if index + 1 == cells.len() {
                parts.push((*cell).to_owned());
            } else {
                parts.push(format!("{cell:<width$}", width = widths[index]));
            }
        }
        text.push_str(parts.join("  ").trim_end());
        text.push('\n');
    };
    line(headers);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
    text
}

/// Text safe for a terminal: control characters as `\xHH`.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}
