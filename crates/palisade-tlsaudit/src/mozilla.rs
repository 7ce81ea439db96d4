//! Mozilla's server-side TLS profiles (modern, intermediate, old) as data, and the verdict of a
//! report against each.
//!
//! The requirements restate Mozilla's published Server Side TLS guidelines (version 5.7):
//! allowed protocol versions, cipher suites (IANA names), key-exchange groups, DHE prime size,
//! certificate key
//! types and sizes, certificate signature algorithms and the longest certificate lifetime.
//! A server complies with a profile when everything it accepts is allowed by the profile and it
//! offers the profile's newest protocol. Recommendations that are not about what the server
//! accepts (client-chosen order, OCSP stapling, HSTS max-age) are reported as findings elsewhere.

use crate::protocol::Protocol;
use crate::report::{ProfileVerdict, TlsReport};

/// Key types a profile allows for the leaf certificate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CertificateRule {
    /// EC curves allowed (IANA names); empty: no EC key.
    pub ec_curves: &'static [&'static str],
    /// Smallest RSA modulus; `None`: RSA keys not allowed.
    pub min_rsa_bits: Option<u32>,
    pub signature_algorithms: &'static [&'static str],
    pub max_lifetime_days: i64,
}

/// One profile.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    pub name: &'static str,
    pub protocols: &'static [Protocol],
    /// TLS 1.3 suites.
    pub tls13_suites: &'static [&'static str],
    /// Suites for TLS 1.2 and older.
    pub legacy_suites: &'static [&'static str],
    /// Elliptic-curve groups (finite-field groups are governed by the DHE suites).
    pub ec_groups: &'static [&'static str],
    /// Smallest finite-field DHE prime (modern has no DHE suite, so any DHE is already a suite
    /// deviation there).
    pub min_dhe_bits: u32,
    pub certificate: CertificateRule,
}

const TLS13_SUITES: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

const EC_GROUPS: &[&str] = &["x25519", "secp256r1", "secp384r1"];

const INTERMEDIATE_LEGACY_SUITES: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

const OLD_LEGACY_SUITES: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
];

const SHA2_SIGNATURES: &[&str] = &[
    "sha256WithRSAEncryption",
    "sha384WithRSAEncryption",
    "sha512WithRSAEncryption",
    "ecdsa-with-SHA256",
    "ecdsa-with-SHA384",
    "ecdsa-with-SHA512",
];

/// The three profiles, strictest first.
pub(crate) const PROFILES: [Profile; 3] = [
    Profile {
        name: "modern",
        protocols: &[Protocol::Tls13],
        tls13_suites: TLS13_SUITES,
        legacy_suites: &[],
        ec_groups: EC_GROUPS,
        min_dhe_bits: 2048,
        certificate: CertificateRule {
            ec_curves: &["secp256r1"],
            min_rsa_bits: None,
            signature_algorithms: &["ecdsa-with-SHA256"],
            max_lifetime_days: 90,
        },
    },
    Profile {
        name: "intermediate",
        protocols: &[Protocol::Tls12, Protocol::Tls13],
        tls13_suites: TLS13_SUITES,
        legacy_suites: INTERMEDIATE_LEGACY_SUITES,
        ec_groups: EC_GROUPS,
        min_dhe_bits: 2048,
        certificate: CertificateRule {
            ec_curves: &["secp256r1", "secp384r1"],
            min_rsa_bits: Some(2048),
            signature_algorithms: SHA2_SIGNATURES,
            max_lifetime_days: 366,
        },
    },
    Profile {
        name: "old",
        protocols: &[
            Protocol::Tls10,
            Protocol::Tls11,
            Protocol::Tls12,
            Protocol::Tls13,
        ],
        tls13_suites: TLS13_SUITES,
        legacy_suites: OLD_LEGACY_SUITES,
        ec_groups: EC_GROUPS,
        min_dhe_bits: 1024,
        certificate: CertificateRule {
            ec_curves: &["secp256r1", "secp384r1"],
            min_rsa_bits: Some(2048),
            signature_algorithms: SHA2_SIGNATURES,
            max_lifetime_days: 366,
        },
    },
];

/// Check `report` against `profile`.
pub(crate) fn verdict(profile: &Profile, report: &TlsReport) -> ProfileVerdict {
    let mut deviations = Vec::new();
    for support in report.protocols.iter().filter(|p| p.supported) {
        if !profile.protocols.contains(&support.protocol) {
            deviations.push(format!("accepts {} (not in the profile)", support.protocol));
        }
    }
    // The profile's current protocols: TLS 1.3 for modern, TLS 1.2 or 1.3 for the others.
    let current: &[Protocol] = if *profile.protocols == [Protocol::Tls13] {
        &[Protocol::Tls13]
    } else {
        &[Protocol::Tls12, Protocol::Tls13]
    };
    if !current.iter().any(|p| report.supports(*p)) {
        let names: Vec<&str> = current.iter().map(|p| p.name()).collect();
        deviations.push(format!("accepts none of {}", names.join(", ")));
    }
    for suites in &report.cipher_suites {
        if !profile.protocols.contains(&suites.protocol) {
            continue; // the protocol deviation already covers its suites
        }
        let allowed = if suites.protocol == Protocol::Tls13 {
            profile.tls13_suites
        } else {
            profile.legacy_suites
        };
        for suite in &suites.accepted {
            if !allowed.contains(&suite.name.as_str()) {
                deviations.push(format!("{}: accepts {}", suites.protocol, suite.name));
            }
        }
    }
    if let Some(groups) = &report.groups {
        for group in groups.groups.iter().filter(|g| g.id < 256) {
            if !profile.ec_groups.contains(&group.name.as_str()) {
                deviations.push(format!("accepts group {}", group.name));
            }
        }
    }
    if let Some(bits) = report.dhe_prime_bits
        && bits < profile.min_dhe_bits
    {
        deviations.push(format!(
            "DHE prime {bits} bits (profile: at least {})",
            profile.min_dhe_bits
        ));
    }
    if let Some(leaf) = report
        .certificate
        .as_ref()
        .and_then(|c| c.certificates.first())
    {
        let rule = &profile.certificate;
        let key_ok = match leaf.key_type.as_str() {
            "RSA" => rule.min_rsa_bits.is_some_and(|min| leaf.key_bits >= min),
            "EC" => leaf
                .curve
                .as_deref()
                .is_some_and(|curve| rule.ec_curves.contains(&curve)),
            _ => false,
        };
        if !key_ok {
            let curve = leaf
                .curve
                .as_deref()
                .map(|c| format!(" {c}"))
                .unwrap_or_default();
            deviations.push(format!(
                "certificate key {} {}{curve} (profile: {}{})",
                leaf.key_type,
                leaf.key_bits,
                if rule.ec_curves.is_empty() {
                    String::new()
                } else {
                    format!("EC {}", rule.ec_curves.join("/"))
                },
                rule.min_rsa_bits
                    .map(|b| format!(" or RSA >= {b}"))
                    .unwrap_or_default()
            ));
        }
        if !rule
            .signature_algorithms
            .contains(&leaf.signature_algorithm.as_str())
        {
            deviations.push(format!(
                "certificate signed with {}",
                leaf.signature_algorithm
            ));
        }
        let lifetime_days = (leaf.not_after_unix - leaf.not_before_unix) / 86_400;
        if lifetime_days > rule.max_lifetime_days {
            deviations.push(format!(
                "certificate lifetime {lifetime_days} days (profile: at most {})",
                rule.max_lifetime_days
            ));
        }
    }
    ProfileVerdict {
        profile: profile.name.to_string(),
        compliant: deviations.is_empty(),
        deviations,
    }
}

/// Verdicts for all profiles and the strictest one met.
pub(crate) fn verdicts(report: &TlsReport) -> (Vec<ProfileVerdict>, Option<String>) {
    let verdicts: Vec<ProfileVerdict> = PROFILES.iter().map(|p| verdict(p, report)).collect();
    let best = verdicts
        .iter()
        .find(|v| v.compliant)
        .map(|v| v.profile.clone());
    (verdicts, best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_suite_names_exist_in_the_registry() {
        for profile in &PROFILES {
            for name in profile.tls13_suites.iter().chain(profile.legacy_suites) {
                assert!(
                    tls_parser::TlsCipherSuite::from_name(name).is_some(),
                    "{} lists unknown suite {name}",
                    profile.name
                );
            }
            for group in profile.ec_groups {
                assert!(
                    crate::groups::OFFERED_GROUPS
                        .iter()
                        .any(|g| g.name == *group)
                );
            }
        }
    }
}
