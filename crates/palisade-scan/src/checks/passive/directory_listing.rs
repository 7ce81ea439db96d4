//! Directory listing.
//!
//! What: a page that is a web server's generated index of a directory.
//!
//! Why: listings reveal backups, source and data files nobody linked.
//!
//! Example: `<title>Index of /uploads</title>` (Apache, nginx), `Directory listing for /`
//! (Python's http.server).
//!
//! References: CWE-548 (Exposure of Information Through Directory Listing).

use std::sync::LazyLock;

use regex::Regex;

use crate::checks::{Info, PassiveCheck};
use crate::finding::{Finding, Severity};
use crate::http::{Client, Exchange};

/// The check.
pub const CHECK: PassiveCheck = PassiveCheck {
    name: "listing",
    run,
};

const LISTING: Info = Info {
    id: "listing.directory",
    title: "Directory listing enabled",
    cwe: 548,
    severity: Severity::Low,
    fix: "Turn off automatic indexes (nginx `autoindex off`, Apache `Options -Indexes`).",
};

static TITLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)<title>\s*(Index of /|Directory listing for /)[^<]*</title>")
        .unwrap_or_else(|e| panic!("{e}"))
});

fn run(client: &Client, exchange: &Exchange) -> Vec<Finding> {
    if exchange.status != 200 {
        return Vec::new();
    }
    match TITLE.find(&exchange.body) {
        Some(m) => vec![LISTING.finding(
            client,
            exchange,
            None,
            m.as_str(),
            format!("the page title is {:?}", m.as_str()),
        )],
        None => Vec::new(),
    }
}
