//! Audit one TLS endpoint and print the facts, to check them by hand.
//!
//! ```text
//! cargo run -p palisade-tlsaudit --example tls_audit -- HOST:PORT [--json] [--sni NAME] [--ca FILE]
//! ```

use std::process::ExitCode;

use palisade_tlsaudit::{TlsAuditOptions, TlsTarget, audit};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut target_text = None;
    let mut json = false;
    let mut sni = None;
    let mut options = TlsAuditOptions::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--sni" => sni = args.next(),
            "--ca" => options.ca_file = args.next().map(Into::into),
            _ if target_text.is_none() && !arg.starts_with("--") => target_text = Some(arg),
            _ => {
                eprintln!("usage: tls_audit HOST:PORT [--json] [--sni NAME] [--ca FILE]");
                return ExitCode::from(2);
            }
        }
    }
    let Some(target_text) = target_text else {
        eprintln!("usage: tls_audit HOST:PORT [--json] [--sni NAME] [--ca FILE]");
        return ExitCode::from(2);
    };
    let mut target = match TlsTarget::parse(&target_text) {
        Ok(target) => target,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    target.sni = sni;
    match audit(&target, &options) {
        Ok(report) => {
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(text) => println!("{text}"),
                    Err(e) => {
                        eprintln!("{e}");
                        return ExitCode::from(2);
                    }
                }
            } else {
                print!("{}", report.render_table());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
