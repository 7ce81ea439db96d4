//! Weak cipher suites and missing forward secrecy.
//!
//! What: accepted suites with no encryption (NULL), no authentication (anon), export-grade keys,
//! RC4, single DES, 3DES, CBC mode in TLS ≤ 1.2, or a static RSA/DH key exchange.
//! Why: NULL/anon/export give the traffic away outright; RC4 is banned (RFC 7465); 64-bit block
//! ciphers fall to SWEET32; CBC suites carry padding-oracle history (Lucky13); without an
//! ephemeral key exchange, a stolen server key decrypts every recorded session.
//! Example: `ssl_ciphers ALL:@SECLEVEL=0;`.
//! References: CWE-327 (broken algorithm), CWE-326 (inadequate strength), CWE-319, RFC 7465,
//! CVE-2016-2183 (SWEET32).

use super::{finding, list};
use crate::report::{CipherSuite, Severity, TlsFinding, TlsReport};
use crate::target::TlsAuditOptions;

struct WeakClass {
    id: &'static str,
    title: &'static str,
    severity: Severity,
    cwe: u32,
    matches: fn(&CipherSuite) -> bool,
    fix: &'static str,
}

const CLASSES: &[WeakClass] = &[
    WeakClass {
        id: "tls.cipher.null",
        title: "Cipher suites without encryption (NULL) accepted",
        severity: Severity::Critical,
        cwe: 319,
        matches: |s| s.name.contains("_WITH_NULL_"),
        fix: "Remove NULL suites (OpenSSL cipher string: add !eNULL).",
    },
    WeakClass {
        id: "tls.cipher.anonymous",
        title: "Anonymous (unauthenticated) cipher suites accepted",
        severity: Severity::Critical,
        cwe: 287,
        matches: |s| s.name.contains("_anon_"),
        fix: "Remove anonymous suites (OpenSSL cipher string: add !aNULL).",
    },
    WeakClass {
        id: "tls.cipher.export",
        title: "Export-grade cipher suites accepted",
        severity: Severity::High,
        cwe: 326,
        matches: |s| s.name.contains("EXPORT"),
        fix: "Remove export suites (OpenSSL cipher string: add !EXP).",
    },
    WeakClass {
        id: "tls.cipher.rc4",
        title: "RC4 cipher suites accepted (RFC 7465)",
        severity: Severity::High,
        cwe: 327,
        matches: |s| s.name.contains("_RC4_"),
        fix: "Remove RC4 suites (OpenSSL cipher string: add !RC4).",
    },
    WeakClass {
        id: "tls.cipher.des",
        title: "Single-DES cipher suites accepted (56-bit keys)",
        severity: Severity::High,
        cwe: 326,
        matches: |s| s.name.contains("_DES_") || s.name.contains("_DES40_"),
        fix: "Remove DES suites (OpenSSL cipher string: add !DES).",
    },
    WeakClass {
        id: "tls.cipher.3des",
        title: "3DES cipher suites accepted (SWEET32)",
        severity: Severity::Medium,
        cwe: 327,
        matches: |s| s.name.contains("3DES"),
        fix: "Remove 3DES suites (OpenSSL cipher string: add !3DES).",
    },
    WeakClass {
        id: "tls.cipher.cbc",
        title: "CBC-mode cipher suites accepted",
        severity: Severity::Low,
        cwe: 327,
        matches: |s| {
            s.name.contains("_CBC_") && !s.name.contains("3DES") && !s.name.contains("_DES")
        },
        fix: "Prefer AEAD-only suites (AES-GCM, ChaCha20-Poly1305) as in Mozilla's intermediate profile.",
    },
    WeakClass {
        id: "tls.cipher.no_forward_secrecy",
        title: "Cipher suites without forward secrecy accepted",
        severity: Severity::Medium,
        cwe: 327,
        matches: |s| {
            !s.forward_secrecy && !s.name.contains("_anon_") && !s.name.contains("_WITH_NULL_")
        },
        fix: "Accept only ECDHE/DHE key exchange (OpenSSL cipher string: drop kRSA, kDH, kECDH, PSK).",
    },
];

pub(super) fn check(report: &TlsReport, _options: &TlsAuditOptions) -> Vec<TlsFinding> {
    let mut findings = Vec::new();
    for class in CLASSES {
        let mut hits: Vec<String> = Vec::new();
        for suites in &report.cipher_suites {
            for suite in suites.accepted.iter().filter(|s| (class.matches)(s)) {
                let entry = format!("{} {}", suites.protocol, suite.name);
                if !hits.contains(&entry) {
                    hits.push(entry);
                }
            }
        }
        if !hits.is_empty() {
            findings.push(finding(
                class.id,
                class.title,
                class.severity,
                class.cwe,
                format!(
                    "{} accepted: {}",
                    hits.len(),
                    list(hits.iter().map(String::as_str), 6)
                ),
                class.fix,
            ));
        }
    }
    findings
}
