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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CertificateChain, CertificateFacts, HstsFacts};

    fn report_with(certificate: Option<CertificateChain>, hsts: Option<HstsFacts>) -> TlsReport {
        TlsReport {
            target: "127.0.0.1:443".into(),
            server_name: "example.test".into(),
            address: "127.0.0.1:443".into(),
            duration_ms: 0,
            connections: 0,
            protocols: Vec::new(),
            cipher_suites: Vec::new(),
            forward_secrecy: None,
            groups: None,
            dhe_prime_bits: None,
            certificate,
            ocsp_stapling: None,
            secure_renegotiation: None,
            compression: None,
            heartbeat: None,
            hsts,
            early_data: None,
            mozilla_profiles: Vec::new(),
            mozilla_profile: None,
            findings: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn chain(leaf: CertificateFacts) -> CertificateChain {
        CertificateChain {
            source: "test".into(),
            certificates: vec![leaf],
            unparsed: 0,
            checked_name: "example.test".into(),
            hostname_matches: true,
            trust_store: "test".into(),
            chain_trusted: true,
            validation_error: None,
        }
    }

    fn leaf(days_left: i64, key_type: &str, key_bits: u32, signature: &str) -> CertificateFacts {
        CertificateFacts {
            subject: "CN=example.test".into(),
            issuer: "CN=Test CA".into(),
            common_name: Some("example.test".into()),
            serial: "01".into(),
            not_before: "2020-01-01T00:00:00Z".into(),
            not_before_unix: 1_577_836_800,
            not_after: "later".into(),
            not_after_unix: 1_577_836_800 + 400 * 86_400,
            days_left,
            key_type: key_type.into(),
            key_bits,
            curve: None,
            signature_algorithm: signature.into(),
            dns_names: vec!["example.test".into()],
            ip_addresses: Vec::new(),
            self_signed: false,
            sha256_fingerprint: String::new(),
        }
    }

    fn ids(report: &TlsReport) -> Vec<String> {
        run(report, &TlsAuditOptions::default())
            .into_iter()
            .map(|f| f.id)
            .collect()
    }

    #[test]
    fn certificate_checks_fire_on_their_facts_only() {
        let good = report_with(
            Some(chain(leaf(200, "RSA", 2048, "sha256WithRSAEncryption"))),
            None,
        );
        assert!(ids(&good).is_empty(), "{:?}", ids(&good));
        let expired = report_with(
            Some(chain(leaf(-3, "RSA", 2048, "sha256WithRSAEncryption"))),
            None,
        );
        assert_eq!(ids(&expired), ["tls.cert.expired"]);
        let expiring = report_with(Some(chain(leaf(10, "EC", 256, "ecdsa-with-SHA256"))), None);
        assert_eq!(ids(&expiring), ["tls.cert.expiring"]);
        let weak = report_with(
            Some(chain(leaf(200, "RSA", 1024, "sha1WithRSAEncryption"))),
            None,
        );
        assert_eq!(ids(&weak), ["tls.cert.weak_key", "tls.cert.weak_signature"]);
    }

    #[test]
    fn hsts_max_age_under_a_year_is_low() {
        let hsts = |max_age: Option<u64>, header: Option<&str>| HstsFacts {
            http_status: 200,
            header: header.map(str::to_string),
            max_age,
            include_subdomains: false,
            preload: false,
        };
        let short = report_with(None, Some(hsts(Some(86_400), Some("max-age=86400"))));
        let findings = run(&short, &TlsAuditOptions::default());
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].id, "tls.hsts.short_max_age");
        assert_eq!(findings[0].severity, Severity::Low);
        let long = report_with(None, Some(hsts(Some(63_072_000), Some("max-age=63072000"))));
        assert!(ids(&long).is_empty());
        let missing = report_with(None, Some(hsts(None, None)));
        assert_eq!(ids(&missing), ["tls.hsts.missing"]);
    }
}
