//! Weak finite-field Diffie-Hellman parameters.
//!
//! What: the prime of the server's DHE key exchange (TLS ≤ 1.2 ServerKeyExchange) is under 2048
//! bits.
//! Why: 1024-bit groups are within reach of precomputation by well-funded attackers, smaller
//! ones of anyone (Logjam); Mozilla's intermediate profile asks for 2048 bits (ffdhe2048).
//! Example: nginx `ssl_dhparam` pointing at a 1024-bit file.
//! References: CWE-326, RFC 7919, weakdh.org (Logjam, CVE-2015-4000).

use super::finding;
use crate::report::{Severity, TlsFinding, TlsReport};
use crate::target::TlsAuditOptions;

pub(super) fn check(report: &TlsReport, _options: &TlsAuditOptions) -> Vec<TlsFinding> {
    let Some(bits) = report.dhe_prime_bits else {
        return Vec::new();
    };
    let severity = match bits {
        0..1024 => Severity::High,
        1024..2048 => Severity::Medium,
        _ => return Vec::new(),
    };
    vec![finding(
        "tls.dh.weak",
        "Weak Diffie-Hellman parameters for DHE suites",
        severity,
        326,
        format!("DHE ServerKeyExchange carries a {bits}-bit prime"),
        "Use a 2048-bit (or larger) group such as ffdhe2048 (RFC 7919), or drop DHE suites.",
    )]
}
