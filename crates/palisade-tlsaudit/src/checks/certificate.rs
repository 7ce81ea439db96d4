//! Certificate problems: expired, not yet valid, expiring soon, wrong name, untrusted chain,
//! weak key, weak signature.
//!
//! What: facts of the leaf certificate (x509-parser) and the chain validation (rustls-webpki
//! against Mozilla's roots or the given CA file).
//! Why: clients reject, or users learn to click through, broken certificates; weak keys and
//! SHA-1/MD5 signatures can be forged.
//! Example: a self-signed `localhost` certificate served as `shop.example.com`.
//! References: CWE-295 (improper certificate validation), CWE-297 (host mismatch), CWE-298
//! (expiration), CWE-326 (key size), CWE-328 (weak hash), CA/Browser Forum Baseline
//! Requirements.

use super::finding;
use crate::report::{Severity, TlsFinding, TlsReport};
use crate::target::TlsAuditOptions;

pub(super) fn check(report: &TlsReport, options: &TlsAuditOptions) -> Vec<TlsFinding> {
    let Some(chain) = &report.certificate else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    let Some(leaf) = chain.certificates.first() else {
        findings.push(finding(
            "tls.cert.unreadable",
            "Server certificate could not be parsed",
            Severity::Medium,
            295,
            format!("{} certificate(s) received, none parsed", chain.unparsed),
            "Serve a well-formed X.509 certificate chain.",
        ));
        return findings;
    };
    let now = leaf.not_after_unix - leaf.days_left * 86_400;
    if leaf.days_left < 0 {
        findings.push(finding(
            "tls.cert.expired",
            "Certificate expired",
            Severity::High,
            298,
            format!("{} expired {} (notAfter)", leaf.subject, leaf.not_after),
            "Renew the certificate and automate renewal (ACME).",
        ));
    } else if leaf.days_left < i64::from(options.expiry_warning_days) {
        findings.push(finding(
            "tls.cert.expiring",
            "Certificate expires soon",
            Severity::Medium,
            298,
            format!(
                "{} expires {} ({} days left)",
                leaf.subject, leaf.not_after, leaf.days_left
            ),
            "Renew the certificate and automate renewal (ACME).",
        ));
    }
    if leaf.not_before_unix > now + 86_400 {
        findings.push(finding(
            "tls.cert.not_yet_valid",
            "Certificate not yet valid",
            Severity::High,
            298,
            format!("{} notBefore {}", leaf.subject, leaf.not_before),
            "Check the server clock and the certificate's issue date.",
        ));
    }
    if !chain.hostname_matches {
        let mut names = leaf.dns_names.clone();
        names.extend(leaf.ip_addresses.iter().cloned());
        findings.push(finding(
            "tls.cert.hostname_mismatch",
            "Certificate does not match the host name",
            Severity::High,
            297,
            format!(
                "{} not in subjectAltName [{}]",
                chain.checked_name,
                names.join(", ")
            ),
            "Issue the certificate for every name the service is reached by (subjectAltName).",
        ));
    }
    if !chain.chain_trusted {
        findings.push(finding(
            "tls.cert.untrusted",
            "Certificate chain not trusted",
            Severity::High,
            295,
            format!(
                "validation against {} failed: {}",
                chain.trust_store,
                chain
                    .validation_error
                    .as_deref()
                    .unwrap_or("unknown reason")
            ),
            "Serve a certificate from a publicly trusted CA with its full intermediate chain.",
        ));
    }
    let weak_key = match leaf.key_type.as_str() {
        "RSA" | "DSA" => leaf.key_bits < 2048,
        "EC" => leaf.key_bits < 224,
        _ => false,
    };
    if weak_key {
        findings.push(finding(
            "tls.cert.weak_key",
            "Certificate key too small",
            Severity::High,
            326,
            format!("{} {} bits", leaf.key_type, leaf.key_bits),
            "Use an ECDSA P-256 key or RSA of at least 2048 bits.",
        ));
    }
    let signature = leaf.signature_algorithm.to_ascii_lowercase();
    if !leaf.self_signed && (signature.contains("sha1") || signature.contains("md5")) {
        findings.push(finding(
            "tls.cert.weak_signature",
            "Certificate signed with a broken hash",
            Severity::Medium,
            328,
            format!("signature algorithm {}", leaf.signature_algorithm),
            "Reissue the certificate with a SHA-256 (or stronger) signature.",
        ));
    }
    findings
}
