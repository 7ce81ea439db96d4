//! OCSP stapling missing.
//!
//! What: the server ignores the `status_request` extension (no CertificateStatus message).
//! Why: without a stapled response, clients either skip revocation checks or query the CA,
//! telling it which sites their users visit; Mozilla's guidelines recommend stapling.
//! Example: nginx without `ssl_stapling on;`.
//! References: CWE-299 (improper check for certificate revocation), RFC 6066 §8.

use super::finding;
use crate::report::{Severity, TlsFinding, TlsReport};
use crate::target::TlsAuditOptions;

pub(super) fn check(report: &TlsReport, _options: &TlsAuditOptions) -> Vec<TlsFinding> {
    if report.ocsp_stapling != Some(false) {
        return Vec::new();
    }
    vec![finding(
        "tls.ocsp.not_stapled",
        "OCSP stapling not enabled",
        Severity::Info,
        299,
        "status_request offered; the server sent no CertificateStatus".into(),
        "Enable OCSP stapling (nginx: ssl_stapling on; ssl_stapling_verify on;).",
    )]
}
