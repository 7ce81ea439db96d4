//! The `palisade` command: a thin binary over Palisade's crates.
#![forbid(unsafe_code)]

use clap::Parser;

/// Palisade — a web application security suite.
#[derive(Debug, Parser)]
#[command(name = "palisade", version, about)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    let _cli = Cli::parse();
    Ok(())
}
