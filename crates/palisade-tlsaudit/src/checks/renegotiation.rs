//! Secure renegotiation missing.
//!
//! What: the server answers a TLS ≤ 1.2 hello carrying `renegotiation_info` without echoing it.
//! Why: without RFC 5746 a man in the middle can splice its own prefix into the victim's
//! session through renegotiation (CVE-2009-3555).
//! Example: a server on an SSL library from before 2010.
//! References: CWE-300, RFC 5746, CVE-2009-3555.

use super::finding;
use crate::report::{Severity, TlsFinding, TlsReport};
use crate::target::TlsAuditOptions;

pub(super) fn check(report: &TlsReport, _options: &TlsAuditOptions) -> Vec<TlsFinding> {
    if report.secure_renegotiation != Some(false) {
        return Vec::new();
    }
    vec![finding(
        "tls.renegotiation.insecure",
        "Secure renegotiation (RFC 5746) not supported",
        Severity::Medium,
        300,
        "ServerHello did not echo the renegotiation_info extension".into(),
        "Upgrade the TLS library; every maintained one implements RFC 5746.",
    )]
}
