//! Legacy protocol versions accepted, TLS 1.3 missing.
//!
//! What: the server completes a ServerHello for SSLv3, TLS 1.0 or TLS 1.1; or refuses TLS 1.3.
//! Why: SSLv3 is broken (POODLE, RFC 7568); TLS 1.0 and 1.1 are deprecated (RFC 8996): CBC
//! constructions with implicit IVs (BEAST), SHA-1/MD5 in the handshake. TLS 1.3 removes whole
//! classes of downgrade and key-exchange weaknesses.
//! Example: `ssl_protocols TLSv1 TLSv1.1 TLSv1.2;` in nginx.
//! References: CWE-327, RFC 7568, RFC 8996.

use super::finding;
use crate::protocol::Protocol;
use crate::report::{Severity, TlsFinding, TlsReport};
use crate::target::TlsAuditOptions;

pub(super) fn check(report: &TlsReport, _options: &TlsAuditOptions) -> Vec<TlsFinding> {
    let mut findings = Vec::new();
    let legacy = [
        (
            Protocol::Ssl3,
            "tls.protocol.sslv3",
            "SSLv3 accepted (POODLE)",
            Severity::High,
        ),
        (
            Protocol::Tls10,
            "tls.protocol.tls10",
            "TLS 1.0 accepted (deprecated, RFC 8996)",
            Severity::Medium,
        ),
        (
            Protocol::Tls11,
            "tls.protocol.tls11",
            "TLS 1.1 accepted (deprecated, RFC 8996)",
            Severity::Medium,
        ),
    ];
    for (protocol, id, title, severity) in legacy {
        if let Some(support) = report
            .protocols
            .iter()
            .find(|p| p.protocol == protocol && p.supported)
        {
            findings.push(finding(
                id,
                title,
                severity,
                327,
                format!("{protocol} ClientHello answered: {}", support.detail),
                "Allow only TLS 1.2 and TLS 1.3 (nginx: ssl_protocols TLSv1.2 TLSv1.3;).",
            ));
        }
    }
    if !report.supports(Protocol::Tls13) && report.protocols.iter().any(|p| p.supported) {
        let detail = report
            .protocols
            .iter()
            .find(|p| p.protocol == Protocol::Tls13)
            .map(|p| p.detail.clone())
            .unwrap_or_default();
        findings.push(finding(
            "tls.protocol.tls13_missing",
            "TLS 1.3 not supported",
            Severity::Low,
            327,
            format!("TLSv1.3 ClientHello answered: {detail}"),
            "Enable TLS 1.3 (nginx: ssl_protocols TLSv1.2 TLSv1.3; with OpenSSL >= 1.1.1).",
        ));
    }
    findings
}
