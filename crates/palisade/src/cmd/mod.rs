//! The subcommands. Each returns the process exit code; errors become exit 1.

mod accounts;
mod audit;
mod bans;
mod completions;
mod config;
mod demo;
mod detect;
mod events;
mod keys;
mod lint;
mod scan;
mod serve;
mod waf;

use std::process::ExitCode;

/// Every subcommand of `palisade`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Run the gateway in front of your application.
    Serve(serve::ServeArgs),
    /// Run the built-in demo application behind the gateway, with copy-paste curl commands.
    Demo(demo::DemoArgs),
    /// Work with configuration files.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Validate WAF rule files; run the OWASP CRS regression suite through the gateway.
    #[command(subcommand)]
    Waf(waf::WafCommand),
    /// Measure the native attack detectors on a labeled corpus.
    #[command(subcommand)]
    Detect(detect::DetectCommand),
    /// Query the security event store (tail, search, stats).
    Events(events::EventsArgs),
    /// Manage IP and network bans (list, add, remove) the gateway enforces.
    Bans(bans::BansArgs),
    /// Security static analysis of Python web applications (taint tracking, Bandit-equivalent rules).
    Lint(lint::LintArgs),
    /// Create, list and revoke API keys for sites with access control.
    Keys(keys::KeysArgs),
    /// Account locks made by login protection (list, unlock).
    Accounts(accounts::AccountsArgs),
    /// Find known-vulnerable dependencies in lockfiles, SBOMs and Python environments (offline OSV data).
    Audit(audit::AuditArgs),
    /// Crawl a running web application and test it for vulnerabilities (confirmed findings only).
    Scan(Box<scan::ScanArgs>),
    /// Print a shell completion script to standard output.
    Completions(completions::CompletionsArgs),
}

pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => serve::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Config(command) => config::run(command),
        Command::Waf(command) => waf::run(command),
        Command::Detect(command) => detect::run(command),
        Command::Events(args) => events::run(args),
        Command::Bans(args) => bans::run(args),
        Command::Lint(args) => lint::run(args),
        Command::Keys(args) => keys::run(args),
        Command::Accounts(args) => accounts::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Scan(args) => scan::run(*args),
        Command::Completions(args) => completions::run(args),
    }
}

/// A multi-threaded Tokio runtime for the commands that serve traffic.
pub(crate) fn tokio_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
