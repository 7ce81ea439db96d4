//! Certificate facts (x509-parser) and chain validation (rustls-webpki through rustls).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::{CertificateError, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

use crate::report::{CertificateChain, CertificateFacts};
use crate::target::TlsAuditError;

/// Largest certificate parsed.
const MAX_CERTIFICATE_LEN: usize = 64 * 1024;

/// The trust anchors for validation and how to name them in the report.
pub(crate) struct TrustStore {
    pub roots: Arc<RootCertStore>,
    pub label: String,
}

impl TrustStore {
    /// Mozilla's roots (webpki-roots), or every certificate of a PEM file.
    pub fn load(ca_file: Option<&Path>) -> Result<Self, TlsAuditError> {
        let mut roots = RootCertStore::empty();
        let Some(path) = ca_file else {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            return Ok(Self {
                roots: Arc::new(roots),
                label: "mozilla (webpki-roots)".into(),
            });
        };
        let ca_error = |reason: String| TlsAuditError::CaFile {
            path: path.to_path_buf(),
            reason,
        };
        let certificates =
            CertificateDer::pem_file_iter(path).map_err(|e| ca_error(e.to_string()))?;
        for certificate in certificates {
            let certificate = certificate.map_err(|e| ca_error(e.to_string()))?;
            roots
                .add(certificate)
                .map_err(|e| ca_error(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(ca_error("no certificate in file".into()));
        }
        Ok(Self {
            roots: Arc::new(roots),
            label: path.display().to_string(),
        })
    }
}

/// Facts of the chain `ders` (leaf first) checked for `name`.
pub(crate) fn chain_facts(
    ders: &[Vec<u8>],
    name: &str,
    source: &str,
    trust: &TrustStore,
) -> CertificateChain {
    let now = SystemTime::now();
    let mut certificates = Vec::new();
    let mut unparsed = 0;
    for der in ders {
        match certificate_facts(der, now) {
            Some(facts) => certificates.push(facts),
            None => unparsed += 1,
        }
    }
    let hostname_matches = certificates
        .first()
        .is_some_and(|leaf| name_matches(leaf, name));
    let (chain_trusted, validation_error) = validate(ders, name, trust);
    CertificateChain {
        source: source.into(),
        certificates,
        unparsed,
        checked_name: name.into(),
        hostname_matches,
        trust_store: trust.label.clone(),
        chain_trusted,
        validation_error,
    }
}

/// Parse one DER certificate; `None` when x509-parser refuses it or it is over the size limit.
pub(crate) fn certificate_facts(der: &[u8], now: SystemTime) -> Option<CertificateFacts> {
    if der.len() > MAX_CERTIFICATE_LEN {
        return None;
    }
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let validity = cert.validity();
    let not_before_unix = validity.not_before.timestamp();
    let not_after_unix = validity.not_after.timestamp();
    let now_unix = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let (key_type, key_bits, curve) = public_key(cert.public_key());
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for general_name in san.value.general_names.iter().take(1000) {
            match general_name {
                GeneralName::DNSName(dns) => dns_names.push((*dns).to_string()),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        ip_addresses.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Some(CertificateFacts {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        common_name: cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_string),
        serial: cert.raw_serial_as_string(),
        not_before: rfc3339(not_before_unix),
        not_before_unix,
        not_after: rfc3339(not_after_unix),
        not_after_unix,
        days_left: (not_after_unix - now_unix).div_euclid(86_400),
        key_type,
        key_bits,
        curve,
        signature_algorithm: signature_name(&cert.signature_algorithm.algorithm.to_id_string()),
        dns_names,
        ip_addresses,
        self_signed: cert.subject() == cert.issuer(),
        sha256_fingerprint: Sha256::digest(der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    })
}

fn ip_from_bytes(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        4 => Some(std::net::IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(std::net::IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

fn rfc3339(unix: i64) -> String {
    let time = if unix >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(unix.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(unix.unsigned_abs()))
    };
    match time {
        Some(time) => humantime::format_rfc3339_seconds(time).to_string(),
        None => format!("@{unix}"),
    }
}

/// (key type, bits, curve) of a SubjectPublicKeyInfo.
fn public_key(spki: &SubjectPublicKeyInfo<'_>) -> (String, u32, Option<String>) {
    let algorithm = spki.algorithm.algorithm.to_id_string();
    match algorithm.as_str() {
        "1.3.101.112" => return ("Ed25519".into(), 256, None),
        "1.3.101.113" => return ("Ed448".into(), 456, None),
        _ => {}
    }
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => ("RSA".into(), rsa.key_size() as u32, None),
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| curve_name(&oid.to_id_string()));
            ("EC".into(), point.key_size() as u32, curve)
        }
        Ok(PublicKey::DSA(y)) => ("DSA".into(), (y.len() * 8) as u32, None),
        _ => (
            algorithm,
            (spki.subject_public_key.data.len() * 8) as u32,
            None,
        ),
    }
}

fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "secp256r1".into(),
        "1.3.132.0.34" => "secp384r1".into(),
        "1.3.132.0.35" => "secp521r1".into(),
        "1.3.132.0.10" => "secp256k1".into(),
        other => other.into(),
    }
}

/// Signature algorithm names as OpenSSL prints them.
fn signature_name(oid: &str) -> String {
    let name = match oid {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        other => return other.to_string(),
    };
    name.to_string()
}

/// Whether the leaf's subjectAltName covers `name` (RFC 6125: DNS names with a left-most
/// wildcard label, IP addresses; the CN is not consulted, as browsers and rustls do).
pub(crate) fn name_matches(leaf: &CertificateFacts, name: &str) -> bool {
    if let Ok(ip) = name.parse::<std::net::IpAddr>() {
        return leaf
            .ip_addresses
            .iter()
            .any(|candidate| candidate.parse::<std::net::IpAddr>() == Ok(ip));
    }
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    leaf.dns_names.iter().any(|pattern| {
        let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
        match pattern.strip_prefix("*.") {
            Some(suffix) => name
                .split_once('.')
                .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
            None => pattern == name,
        }
    })
}

/// (chain trusted, validation error). A name mismatch alone leaves the chain trusted: webpki
/// checks the path before the name.
fn validate(ders: &[Vec<u8>], name: &str, trust: &TrustStore) -> (bool, Option<String>) {
    let Some((leaf, intermediates)) = ders.split_first() else {
        return (false, Some("no certificate".into()));
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        match WebPkiServerVerifier::builder_with_provider(trust.roots.clone(), provider).build() {
            Ok(verifier) => verifier,
            Err(e) => return (false, Some(e.to_string())),
        };
    let server_name = match ServerName::try_from(name.to_string()) {
        Ok(server_name) => server_name,
        Err(e) => return (false, Some(format!("invalid server name: {e}"))),
    };
    let leaf = CertificateDer::from(leaf.as_slice());
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|der| CertificateDer::from(der.as_slice()))
        .collect();
    match verifier.verify_server_cert(&leaf, &intermediates, &server_name, &[], UnixTime::now()) {
        Ok(_) => (true, None),
        Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        )) => (true, Some("certificate not valid for the name".into())),
        Err(e) => (false, Some(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(dns: &[&str], ips: &[&str]) -> CertificateFacts {
        CertificateFacts {
            subject: String::new(),
            issuer: String::new(),
            common_name: None,
            serial: String::new(),
            not_before: String::new(),
            not_before_unix: 0,
            not_after: String::new(),
            not_after_unix: 0,
            days_left: 0,
            key_type: "EC".into(),
            key_bits: 256,
            curve: None,
            signature_algorithm: String::new(),
            dns_names: dns.iter().map(|s| s.to_string()).collect(),
            ip_addresses: ips.iter().map(|s| s.to_string()).collect(),
            self_signed: false,
            sha256_fingerprint: String::new(),
        }
    }

    #[test]
    fn wildcard_covers_one_label_only() {
        let cert = leaf(&["*.example.test", "example.test"], &[]);
        assert!(name_matches(&cert, "www.example.test"));
        assert!(name_matches(&cert, "EXAMPLE.test."));
        assert!(!name_matches(&cert, "a.b.example.test"));
        assert!(!name_matches(&cert, "example.org"));
    }

    #[test]
    fn ip_names_match_ip_sans_only() {
        let cert = leaf(&["127.0.0.1"], &["::1"]);
        assert!(!name_matches(&cert, "127.0.0.1"));
        assert!(name_matches(&cert, "::1"));
    }

    #[test]
    fn rcgen_certificate_facts_and_untrusted_chain() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let facts = certificate_facts(cert.der(), SystemTime::now()).expect("parses");
        assert_eq!(facts.key_type, "EC");
        assert_eq!(facts.key_bits, 256);
        assert_eq!(facts.curve.as_deref(), Some("secp256r1"));
        assert_eq!(facts.signature_algorithm, "ecdsa-with-SHA256");
        assert_eq!(facts.dns_names, vec!["localhost".to_string()]);
        let trust = TrustStore::load(None).unwrap();
        let chain = chain_facts(&[cert.der().to_vec()], "localhost", "test", &trust);
        assert!(chain.hostname_matches);
        assert!(!chain.chain_trusted);
        assert!(chain.validation_error.is_some());
    }

    #[test]
    fn garbage_certificates_are_counted_not_parsed() {
        let trust = TrustStore::load(None).unwrap();
        let chain = chain_facts(&[vec![0x30, 0x82, 0xff], vec![]], "x.test", "test", &trust);
        assert_eq!(chain.unparsed, 2);
        assert!(!chain.chain_trusted);
    }
}
