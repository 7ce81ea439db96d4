//! Security headers.
//!
//! What: an HTML page without `Content-Security-Policy`, without `X-Content-Type-Options:
//! nosniff`, or (over HTTPS) without `Strict-Transport-Security`. Reported once per origin.
//!
//! Why: CSP limits what an injected script can do; nosniff stops browsers from executing
//! uploads sniffed as script; HSTS stops SSL-stripping on the first plain-HTTP request.
//!
//! Example: `HTTP/1.1 200 OK` + `Content-Type: text/html` and none of the headers.
//!
//! References: CWE-693 (Protection Mechanism Failure), CWE-319 (Cleartext Transmission);
//! OWASP Secure Headers Project.

use super::{is_html_page, origin};
use crate::checks::{Info, PassiveCheck};
use crate::finding::{Finding, Severity};
use crate::http::{Client, Exchange};

/// The check.
pub const CHECK: PassiveCheck = PassiveCheck {
    name: "headers",
    run,
};

const CSP: Info = Info {
    id: "headers.csp",
    title: "Content-Security-Policy header missing",
    cwe: 693,
    severity: Severity::Low,
    fix: "Send a Content-Security-Policy, e.g. `default-src 'self'; object-src 'none'; base-uri 'none'`.",
};
const NOSNIFF: Info = Info {
    id: "headers.nosniff",
    title: "X-Content-Type-Options: nosniff missing",
    cwe: 693,
    severity: Severity::Low,
    fix: "Send `X-Content-Type-Options: nosniff` on every response.",
};
const HSTS: Info = Info {
    id: "headers.hsts",
    title: "Strict-Transport-Security missing on an HTTPS site",
    cwe: 319,
    severity: Severity::Low,
    fix: "Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` over HTTPS.",
};

fn run(client: &Client, exchange: &Exchange) -> Vec<Finding> {
    if !is_html_page(exchange) {
        return Vec::new();
    }
    let site = origin(exchange);
    let mut findings = Vec::new();
    let missing = |name: &str| exchange.header(name).is_none();
    if missing("content-security-policy") {
        findings.push(CSP.finding_at(
            client,
            &site,
            exchange,
            None,
            format!("HTTP {} without Content-Security-Policy", exchange.status),
            format!(
                "{} has no Content-Security-Policy header",
                exchange.request.url
            ),
        ));
    }
    if !exchange
        .header("x-content-type-options")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("nosniff"))
    {
        findings.push(NOSNIFF.finding_at(
            client,
            &site,
            exchange,
            None,
            exchange.header_excerpt("x-content-type-options"),
            format!(
                "{} lacks X-Content-Type-Options: nosniff",
                exchange.request.url
            ),
        ));
    }
    if exchange.request.url.scheme() == "https" && missing("strict-transport-security") {
        findings.push(HSTS.finding_at(
            client,
            &site,
            exchange,
            None,
            format!("HTTP {} without Strict-Transport-Security", exchange.status),
            format!("{} has no HSTS header", exchange.request.url),
        ));
    }
    findings
}
