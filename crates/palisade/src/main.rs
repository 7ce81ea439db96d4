//! The `palisade` command: a thin binary over Palisade's crates.
//!
//! `main` only parses the command line and dispatches; every command lives in
//! `cmd/<command>.rs` so later commands (waf, detect, events, keys) slot in as
//! one more file and one more enum variant. Running a gateway (shared by
//! `serve` and `demo`) lives in `run`, with the admin listener in `admin`,
//! configuration reloads in `reload` and logging set-up in `logging`.
#![forbid(unsafe_code)]

mod admin;
mod cmd;
mod inspectors;
mod logging;
mod monitoring;
mod output;
mod reload;
mod run;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc. A proxied request allocates and frees a
/// few dozen small blocks (header maps, strings, boxed futures) across the
/// runtime's threads; glibc spent ~10,000 instructions per plain-proxy GET on
/// them (callgrind: malloc, free, consolidation), a sixth of the gateway's
/// user-space work per request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Palisade — a web application security suite: a WAF gateway in front of your
/// web applications, with a built-in demo.
#[derive(Debug, Parser)]
#[command(name = "palisade", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: cmd::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cmd::run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("palisade: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
