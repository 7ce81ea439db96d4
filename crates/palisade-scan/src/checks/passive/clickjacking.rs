//! Clickjacking.
//!
//! What: an HTML page that neither `X-Frame-Options` nor a CSP `frame-ancestors` directive
//! protects from being framed. Reported once per origin.
//!
//! Why: a hostile page can overlay the application invisibly and trick users into clicks
//! (change e-mail, confirm a payment).
//!
//! Example: `Content-Type: text/html` with no `X-Frame-Options: DENY`.
//!
//! References: CWE-1021 (Improper Restriction of Rendered UI Layers).

use super::{is_html_page, origin};
use crate::checks::{Info, PassiveCheck};
use crate::finding::{Finding, Severity};
use crate::http::{Client, Exchange};

/// The check.
pub const CHECK: PassiveCheck = PassiveCheck {
    name: "clickjacking",
    run,
};

const FRAMING: Info = Info {
    id: "clickjacking.framing",
    title: "Page can be framed by any site",
    cwe: 1021,
    severity: Severity::Medium,
    fix: "Send `Content-Security-Policy: frame-ancestors 'self'` (and X-Frame-Options: DENY for old browsers).",
};

fn run(client: &Client, exchange: &Exchange) -> Vec<Finding> {
    if !is_html_page(exchange) {
        return Vec::new();
    }
    let xfo = exchange.header("x-frame-options").is_some_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        v == "deny" || v == "sameorigin"
    });
    let ancestors = exchange
        .headers_named("content-security-policy")
        .any(|v| v.to_ascii_lowercase().contains("frame-ancestors"));
    if xfo || ancestors {
        return Vec::new();
    }
    vec![FRAMING.finding_at(
        client,
        &origin(exchange),
        exchange,
        None,
        exchange.header_excerpt("x-frame-options"),
        format!(
            "{} sends neither X-Frame-Options nor CSP frame-ancestors",
            exchange.request.url
        ),
    )]
}
