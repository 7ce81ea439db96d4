//! Mixed content.
//!
//! What: an HTTPS page that loads scripts, styles, frames or images over plain HTTP.
//!
//! Why: a network attacker replaces the HTTP resource; a replaced script owns the page.
//!
//! Example: `<script src="http://cdn.example/lib.js">` on `https://app.example/`.
//!
//! References: CWE-311 (Missing Encryption of Sensitive Data), CWE-319.

use std::sync::LazyLock;

use regex::Regex;

use super::is_html_page;
use crate::checks::{Info, PassiveCheck};
use crate::finding::{Finding, Severity};
use crate::http::{Client, Exchange};

/// The check.
pub const CHECK: PassiveCheck = PassiveCheck { name: "mixed", run };

const MIXED: Info = Info {
    id: "mixed.content",
    title: "HTTPS page loads resources over HTTP",
    cwe: 319,
    severity: Severity::Low,
    fix: "Load every resource over HTTPS (or send `Content-Security-Policy: upgrade-insecure-requests`).",
};

static RESOURCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<(?:script|img|iframe|link|audio|video|source|embed)\b[^>]{0,500}?\b(?:src|href)\s*=\s*["']?(http://[^"'\s>]+)"#)
        .unwrap_or_else(|e| panic!("{e}"))
});

fn run(client: &Client, exchange: &Exchange) -> Vec<Finding> {
    if exchange.request.url.scheme() != "https" || !is_html_page(exchange) {
        return Vec::new();
    }
    match RESOURCE.captures(&exchange.body).and_then(|c| c.get(1)) {
        Some(m) => vec![MIXED.finding(
            client,
            exchange,
            None,
            m.as_str(),
            format!("the page loads {}", m.as_str()),
        )],
        None => Vec::new(),
    }
}
