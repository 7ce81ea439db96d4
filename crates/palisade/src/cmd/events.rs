//! `palisade events …`: query the security event store that `serve` and `demo`
//! write: with `--config FILE`, the store that configuration's `[events]` names
//! (PostgreSQL for `store = "postgres"`, else `events.sqlite3` in its
//! `data_dir`); without, `events.sqlite3` under `--data-dir` (`./palisade-data`
//! by default).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use palisade_config::EventStoreKind;
use palisade_events::{EventFilter, EventReader, OutputFormat, TailFollower, now_ms};

use crate::output::emit;

/// Options shared by every events subcommand.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The store: with --config, the one its [events] section names (PostgreSQL for store = \"postgres\", \
                  else events.sqlite3 in its data_dir); without, events.sqlite3 in --data-dir."
)]
pub(crate) struct EventsArgs {
    /// Read the event store of this configuration file (its [events] store, or its data_dir).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The data directory that holds the SQLite event store (default ./palisade-data, or the
    /// configuration's data_dir).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: EventsCommand,
}

/// Filters for selecting events.
#[derive(Debug, Clone, clap::Args)]
struct FilterArgs {
    /// Only events newer than this: a duration back from now ("15m", "24h") or an RFC 3339 UTC time.
    #[arg(long)]
    since: Option<String>,
    /// Only events older than this: a duration back from now or an RFC 3339 UTC time.
    #[arg(long)]
    until: Option<String>,
    /// Only this OWASP vocabulary action (e.g. malicious_request_blocked, authn_login_fail).
    #[arg(long)]
    action: Option<String>,
    /// Only events from this client address.
    #[arg(long = "ip")]
    source_ip: Option<std::net::IpAddr>,
    /// Only events about this user.
    #[arg(long)]
    user: Option<String>,
    /// Only events that involve this rule id.
    #[arg(long = "rule")]
    rule_id: Option<String>,
    /// Only events on this route.
    #[arg(long)]
    route: Option<String>,
    /// Only events of this severity or higher (info, low, medium, high, critical).
    #[arg(long)]
    min_severity: Option<String>,
    /// At most this many events.
    #[arg(long, default_value_t = palisade_events::DEFAULT_LIMIT)]
    limit: usize,
    /// Output format: table or json.
    #[arg(long, default_value = "table")]
    format: String,
    /// Write to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum EventsCommand {
    /// The newest matching events, oldest first; --follow keeps printing new ones.
    Tail {
        #[command(flatten)]
        filter: FilterArgs,
        /// Keep waiting for new events (Ctrl-C to stop).
        #[arg(long, short)]
        follow: bool,
    },
    /// Matching events.
    Search {
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Counts by severity and the top source IPs, rules, paths, users and actions.
    Stats {
        #[command(flatten)]
        filter: FilterArgs,
        /// How many entries each top list shows.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
}

/// The store `args` select (see [`EventsArgs`]).
fn open_reader(args: &EventsArgs) -> anyhow::Result<EventReader> {
    let data_dir = match &args.config {
        Some(path) => {
            let config = palisade_config::load(path)?;
            if config.events.store == EventStoreKind::Postgres {
                return EventReader::connect_postgres(
                    crate::monitoring::postgres_url(&config)?,
                    config.events.postgres_schema.as_deref(),
                )
                .with_context(|| {
                    format!(
                        "cannot read the PostgreSQL event store of {}",
                        path.display()
                    )
                });
            }
            args.data_dir.clone().unwrap_or(config.data_dir)
        }
        None => args
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("palisade-data")),
    };
    EventReader::open_in(&data_dir).with_context(|| {
        format!(
            "no event store in {} (run `palisade demo` or `palisade serve` there first, or pass --data-dir or --config)",
            data_dir.display()
        )
    })
}

pub(crate) fn run(args: EventsArgs) -> anyhow::Result<ExitCode> {
    let reader = open_reader(&args)?;
    match args.command {
        EventsCommand::Search { filter } => {
            let (query, format) = filter.query()?;
            let events = reader.search(&query)?;
            emit(
                &palisade_events::render_events(format, &events),
                filter.output.as_deref(),
            )?;
        }
        EventsCommand::Tail { filter, follow } => {
            let (query, format) = filter.query()?;
            let events = reader.tail(&query)?;
            emit(
                &palisade_events::render_events(format, &events),
                filter.output.as_deref(),
            )?;
            if follow {
                let after = match events.last() {
                    Some(last) => last.id,
                    None => reader.last_id()?,
                };
                let mut follower =
                    TailFollower::new(reader, query, after, Duration::from_millis(500));
                loop {
                    let events = follower.wait(|| false)?;
                    emit(&palisade_events::render_events(format, &events), None)?;
                }
            }
        }
        EventsCommand::Stats { filter, top } => {
            let (query, format) = filter.query()?;
            let stats = reader.stats(&query, top)?;
            emit(
                &palisade_events::render_stats(format, &stats),
                filter.output.as_deref(),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

impl FilterArgs {
    fn query(&self) -> anyhow::Result<(EventFilter, OutputFormat)> {
        let format: OutputFormat = self.format.parse()?;
        let min_severity = self
            .min_severity
            .as_deref()
            .map(palisade_events::ecs::parse_severity)
            .transpose()?;
        let filter = EventFilter {
            since: self.since.as_deref().map(time_bound).transpose()?,
            until: self.until.as_deref().map(time_bound).transpose()?,
            action: self.action.clone(),
            source_ip: self.source_ip,
            user: self.user.clone(),
            rule_id: self.rule_id.clone(),
            route: self.route.clone(),
            min_severity,
            limit: self.limit,
        };
        Ok((filter, format))
    }
}

/// "15m" (that long ago) or an RFC 3339 UTC time, as milliseconds since the epoch.
fn time_bound(text: &str) -> anyhow::Result<i64> {
    if let Ok(ago) = humantime::parse_duration(text) {
        return Ok(now_ms() - i64::try_from(ago.as_millis()).unwrap_or(i64::MAX));
    }
    palisade_events::ecs::parse_timestamp(text).with_context(|| {
        format!(
            "invalid time {text:?}: expected a duration such as \"15m\" or an RFC 3339 UTC time"
        )
    })
}
