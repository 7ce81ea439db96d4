//! Strict-Transport-Security missing or short.
//!
//! What: `GET /` over TLS returns no Strict-Transport-Security header, or one whose max-age is
//! under one year.
//! Why: without HSTS the first plain-HTTP request can be intercepted and the user kept on HTTP
//! (SSL stripping).
//! Example: a site that redirects http:// to https:// but never sends the header.
//! References: CWE-319, RFC 6797, Mozilla guidelines (max-age=63072000).

use super::finding;
use crate::report::{Severity, TlsFinding, TlsReport};
use crate::target::TlsAuditOptions;

/// One year, the least max-age the HSTS preload list accepts.
const MIN_MAX_AGE: u64 = 31_536_000;

pub(super) fn check(report: &TlsReport, _options: &TlsAuditOptions) -> Vec<TlsFinding> {
    let Some(hsts) = &report.hsts else {
        return Vec::new();
    };
    let fix = "Send Strict-Transport-Security: max-age=63072000 (nginx: add_header Strict-Transport-Security \"max-age=63072000\" always;).";
    match (&hsts.header, hsts.max_age) {
        (None, _) => vec![finding(
            "tls.hsts.missing",
            "Strict-Transport-Security header missing",
            Severity::Medium,
            319,
            format!(
                "GET / answered HTTP {} without Strict-Transport-Security",
                hsts.http_status
            ),
            fix,
        )],
        (Some(header), max_age) if max_age.unwrap_or(0) < MIN_MAX_AGE => vec![finding(
            "tls.hsts.short_max_age",
            "Strict-Transport-Security max-age under one year",
            Severity::Low,
            319,
            format!("Strict-Transport-Security: {header}"),
            fix,
        )],
        _ => Vec::new(),
    }
}
