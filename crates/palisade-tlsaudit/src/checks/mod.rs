//! Findings from the report's facts. One file per check; each file's doc says what it finds,
//! why it matters, an example and references.

use crate::report::{Severity, TlsFinding, TlsReport};
use crate::target::TlsAuditOptions;

mod certificate;
mod cipher_suites;
mod compression;
mod dh_parameters;
mod early_data;
mod groups;
mod heartbleed;
mod hsts;
mod mozilla;
mod ocsp;
mod protocols;
mod renegotiation;

/// Every check, in report order.
const CHECKS: &[fn(&TlsReport, &TlsAuditOptions) -> Vec<TlsFinding>] = &[
    protocols::check,
    cipher_suites::check,
    groups::check,
    dh_parameters::check,
    certificate::check,
    renegotiation::check,
    compression::check,
    heartbleed::check,
    ocsp::check,
    hsts::check,
    early_data::check,
    mozilla::check,
];

/// Run all checks; findings sorted by severity (highest first), then id.
pub(crate) fn run(report: &TlsReport, options: &TlsAuditOptions) -> Vec<TlsFinding> {
    let mut findings: Vec<TlsFinding> = CHECKS
        .iter()
        .flat_map(|check| check(report, options))
        .collect();
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    findings
}

/// Build a finding.
pub(crate) fn finding(
    id: &str,
    title: &str,
    severity: Severity,
    cwe: u32,
    evidence: String,
    fix: &str,
) -> TlsFinding {
    TlsFinding {
        id: id.to_string(),
        title: title.to_string(),
        severity,
        cwe,
        evidence,
        fix: fix.to_string(),
    }
}

/// "a, b, c" of at most `limit` items, with "(+N more)".
pub(crate) fn list<'a>(items: impl IntoIterator<Item = &'a str>, limit: usize) -> String {
    let items: Vec<&str> = items.into_iter().collect();
    let mut text = items
        .iter()
        .take(limit)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > limit {
        text.push_str(&format!(" (+{} more)", items.len() - limit));
    }
    text
}
