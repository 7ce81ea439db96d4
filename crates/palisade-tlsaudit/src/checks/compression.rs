//! TLS compression enabled.
//!
//! What: offered DEFLATE before null compression, the server chose DEFLATE.
//! Why: compressing secrets together with attacker-controlled data leaks them through the
//! ciphertext length (CRIME, CVE-2012-4929).
//! Example: OpenSSL before 1.1.0 built with zlib and compression left on.
//! References: CWE-200, CVE-2012-4929.

use super::finding;
use crate::report::{Severity, TlsFinding, TlsReport};
use crate::target::TlsAuditOptions;

pub(super) fn check(report: &TlsReport, _options: &TlsAuditOptions) -> Vec<TlsFinding> {
    if report.compression != Some(true) {
        return Vec::new();
    }
    vec![finding(
        "tls.compression.enabled",
        "TLS compression enabled (CRIME)",
        Severity::Medium,
        200,
        "ServerHello selected compression method DEFLATE (1)".into(),
        "Disable TLS-level compression (OpenSSL: SSL_OP_NO_COMPRESSION, the default since 1.1.0).",
    )]
}
