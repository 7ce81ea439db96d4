//! Weak key-exchange groups.
//!
//! What: the server negotiates an elliptic curve under 224 bits (secp160*, secp192*) or a
//! binary-field curve (sect*).
//! Why: curves under 224 bits give under 112-bit security; binary curves are deprecated
//! (RFC 8422 §5.1.1) and poorly reviewed.
//! Example: OpenSSL built with every legacy curve and `ssl_ecdh_curve` listing them.
//! References: CWE-326, RFC 8422, NIST SP 800-57.

use super::{finding, list};
use crate::report::{Severity, TlsFinding, TlsReport};
use crate::target::TlsAuditOptions;

/// Group ids 1-14 are binary-field curves (sect*), 15-19 prime curves under 224 bits.
fn is_weak(id: u16) -> bool {
    (1..=19).contains(&id)
}

pub(super) fn check(report: &TlsReport, _options: &TlsAuditOptions) -> Vec<TlsFinding> {
    let Some(groups) = &report.groups else {
        return Vec::new();
    };
    let weak: Vec<&str> = groups
        .groups
        .iter()
        .filter(|g| is_weak(g.id))
        .map(|g| g.name.as_str())
        .collect();
    if weak.is_empty() {
        return Vec::new();
    }
    vec![finding(
        "tls.group.weak",
        "Weak or binary-field elliptic curves accepted",
        Severity::Medium,
        326,
        format!("{} accepts {}", groups.protocol, list(weak, 8)),
        "Offer only x25519, secp256r1 and secp384r1 (nginx: ssl_ecdh_curve X25519:prime256v1:secp384r1;).",
    )]
}
