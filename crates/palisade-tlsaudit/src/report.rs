//! The audit report: raw facts, the Mozilla profile verdicts and the findings, with a table
//! rendering for terminals.

use std::fmt::Write as _;

use serde::Serialize;

use crate::protocol::Protocol;

/// Severity of a finding: Palisade's one scale.
pub use palisade_core::Severity;

/// One problem found, with a stable id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsFinding {
    /// Stable id, e.g. `tls.protocol.tls10`.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub cwe: u32,
    /// The observed fact that proves it.
    pub evidence: String,
    pub fix: String,
}

/// Whether one protocol version is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtocolSupport {
    pub protocol: Protocol,
    pub supported: bool,
    /// How the server answered: the negotiated suite, an alert name, a lower version, an error.
    pub detail: String,
}

/// One accepted cipher suite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CipherSuite {
    pub id: u16,
    /// IANA name, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
    pub name: String,
    pub key_exchange: String,
    pub forward_secrecy: bool,
    pub aead: bool,
    /// Symmetric key size in bits.
    pub encryption_bits: u16,
}

/// Accepted cipher suites of one protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtocolCipherSuites {
    pub protocol: Protocol,
    /// In the order the server picked them while the list shrank.
    pub accepted: Vec<CipherSuite>,
    /// `Some(true)`: the server picks by its own order; `None`: fewer than two suites.
    pub server_order: Option<bool>,
}

/// Forward secrecy over all accepted suites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ForwardSecrecy {
    /// Every accepted suite has an ephemeral key exchange.
    pub all_suites: bool,
    /// At least one does.
    pub some_suites: bool,
}

/// A key-exchange group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: u16,
    pub name: String,
}

/// Supported key-exchange groups and how they were found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupSupport {
    /// The protocol the groups were enumerated with.
    pub protocol: Protocol,
    pub groups: Vec<Group>,
}

/// Facts of one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateFacts {
    pub subject: String,
    pub issuer: String,
    pub common_name: Option<String>,
    pub serial: String,
    /// RFC 3339, UTC.
    pub not_before: String,
    pub not_before_unix: i64,
    pub not_after: String,
    pub not_after_unix: i64,
    /// Days until `not_after` (negative once expired).
    pub days_left: i64,
    /// RSA, EC, Ed25519, Ed448, DSA, or the algorithm OID.
    pub key_type: String,
    pub key_bits: u32,
    /// Curve name for EC keys.
    pub curve: Option<String>,
    pub signature_algorithm: String,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<String>,
    pub self_signed: bool,
    pub sha256_fingerprint: String,
}

/// The certificate chain the server sent and its validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateChain {
    /// Where the chain was read: `tls-parser` (plaintext TLS ≤ 1.2 Certificate message) or
    /// `rustls` (TLS 1.3 handshake).
    pub source: String,
    /// Leaf first, as sent. Certificates x509-parser cannot parse are listed in `unparsed`.
    pub certificates: Vec<CertificateFacts>,
    pub unparsed: usize,
    /// The name checked against the leaf.
    pub checked_name: String,
    pub hostname_matches: bool,
    /// The trust store: `mozilla (webpki-roots)` or the CA file path.
    pub trust_store: String,
    pub chain_trusted: bool,
    /// Why validation failed, as rustls-webpki says it.
    pub validation_error: Option<String>,
}

/// Heartbeat extension and the Heartbleed probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeartbeatFacts {
    /// The server echoed the heartbeat extension (RFC 6520).
    pub extension_enabled: bool,
    /// Result of the over-long heartbeat request; `None` when not sent.
    pub heartbleed_vulnerable: Option<bool>,
    /// Exactly what was tested.
    pub method: String,
}

/// Strict-Transport-Security on `GET /`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HstsFacts {
    pub http_status: u16,
    /// The header value, if sent.
    pub header: Option<String>,
    pub max_age: Option<u64>,
    pub include_subdomains: bool,
    pub preload: bool,
}

/// TLS 1.3 0-RTT on a resumed session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EarlyDataFacts {
    /// The session ticket allowed early data (max_early_data_size > 0).
    pub offered_by_ticket: bool,
    /// The server accepted the early data sent.
    pub accepted: bool,
}

/// Verdict against one Mozilla server-side TLS profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileVerdict {
    pub profile: String,
    pub compliant: bool,
    pub deviations: Vec<String>,
}

/// Everything the audit learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsReport {
    pub target: String,
    pub server_name: String,
    pub address: String,
    pub duration_ms: u64,
    /// TCP connections opened.
    pub connections: u32,
    pub protocols: Vec<ProtocolSupport>,
    pub cipher_suites: Vec<ProtocolCipherSuites>,
    pub forward_secrecy: Option<ForwardSecrecy>,
    pub groups: Option<GroupSupport>,
    /// Bits of the finite-field DH prime used with DHE suites (TLS ≤ 1.2), when any is accepted.
    pub dhe_prime_bits: Option<u32>,
    pub certificate: Option<CertificateChain>,
    /// A stapled OCSP response was sent for status_request.
    pub ocsp_stapling: Option<bool>,
    /// renegotiation_info was echoed (RFC 5746).
    pub secure_renegotiation: Option<bool>,
    /// The server chose DEFLATE when offered.
    pub compression: Option<bool>,
    pub heartbeat: Option<HeartbeatFacts>,
    pub hsts: Option<HstsFacts>,
    pub early_data: Option<EarlyDataFacts>,
    pub mozilla_profiles: Vec<ProfileVerdict>,
    /// The strictest profile the server meets.
    pub mozilla_profile: Option<String>,
    pub findings: Vec<TlsFinding>,
    /// Probes that could not run, and why.
    pub notes: Vec<String>,
}

impl TlsReport {
    pub fn supports(&self, protocol: Protocol) -> bool {
        self.protocols
            .iter()
            .any(|p| p.protocol == protocol && p.supported)
    }

    /// Accepted suites of `protocol` (empty when not enumerated).
    pub fn suites(&self, protocol: Protocol) -> &[CipherSuite] {
        self.cipher_suites
            .iter()
            .find(|c| c.protocol == protocol)
            .map(|c| c.accepted.as_slice())
            .unwrap_or_default()
    }

    /// The highest severity among the findings.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// A plain-text table for terminals.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        let yes_no = |v: Option<bool>| match v {
            Some(true) => "yes",
            Some(false) => "no",
            None => "not tested",
        };
        let legacy = [
            Protocol::Ssl3,
            Protocol::Tls10,
            Protocol::Tls11,
            Protocol::Tls12,
        ]
        .iter()
        .any(|p| self.supports(*p));
        // Renegotiation, compression and heartbeat do not exist in TLS 1.3.
        let legacy_only = |v: Option<bool>| {
            if v.is_none() && !legacy {
                "n/a (no TLS <= 1.2)"
            } else {
                yes_no(v)
            }
        };
        let _ = writeln!(
            out,
            "TLS audit of {} (SNI {}, {}) — {} connections, {} ms",
            self.target, self.server_name, self.address, self.connections, self.duration_ms
        );
        let _ = writeln!(out, "\nProtocols");
        for p in &self.protocols {
            let mark = if p.supported { "accepted" } else { "refused " };
            let _ = writeln!(out, "  {:<8} {}  {}", p.protocol.name(), mark, p.detail);
        }
        for suites in &self.cipher_suites {
            let order = match suites.server_order {
                Some(true) => "server order",
                Some(false) => "client order",
                None => "one suite",
            };
            let _ = writeln!(
                out,
                "\nCipher suites {} ({} accepted, {order})",
                suites.protocol.name(),
                suites.accepted.len()
            );
            for suite in &suites.accepted {
                let _ = writeln!(
                    out,
                    "  0x{:04x} {:<48} {:>3} bit  {}{}",
                    suite.id,
                    suite.name,
                    suite.encryption_bits,
                    if suite.forward_secrecy { "FS" } else { "no FS" },
                    if suite.aead { ", AEAD" } else { "" }
                );
            }
        }
        if let Some(fs) = self.forward_secrecy {
            let text = if fs.all_suites {
                "all suites"
            } else if fs.some_suites {
                "some suites"
            } else {
                "none"
            };
            let _ = writeln!(out, "\nForward secrecy: {text}");
        }
        if let Some(groups) = &self.groups {
            let names: Vec<&str> = groups.groups.iter().map(|g| g.name.as_str()).collect();
            let _ = writeln!(
                out,
                "Groups ({}): {}",
                groups.protocol.name(),
                if names.is_empty() {
                    "none found".to_string()
                } else {
                    names.join(", ")
                }
            );
        }
        if let Some(bits) = self.dhe_prime_bits {
            let _ = writeln!(out, "DHE parameters: {bits}-bit prime");
        }
        if let Some(chain) = &self.certificate {
            let _ = writeln!(out, "\nCertificate chain (from {})", chain.source);
            for (i, cert) in chain.certificates.iter().enumerate() {
                let key = match &cert.curve {
                    Some(curve) => format!("{} {} ({curve})", cert.key_type, cert.key_bits),
                    None => format!("{} {}", cert.key_type, cert.key_bits),
                };
                let _ = writeln!(out, "  [{i}] subject  {}", cert.subject);
                let _ = writeln!(out, "      issuer   {}", cert.issuer);
                let _ = writeln!(
                    out,
                    "      valid    {} .. {} ({} days left)",
                    cert.not_before, cert.not_after, cert.days_left
                );
                let _ = writeln!(
                    out,
                    "      key      {key}, signed {}",
                    cert.signature_algorithm
                );
                if !cert.dns_names.is_empty() || !cert.ip_addresses.is_empty() {
                    let mut names = cert.dns_names.clone();
                    names.extend(cert.ip_addresses.iter().cloned());
                    let _ = writeln!(out, "      SAN      {}", names.join(", "));
                }
            }
            let _ = writeln!(
                out,
                "  hostname {}: {}",
                chain.checked_name,
                if chain.hostname_matches {
                    "matches"
                } else {
                    "DOES NOT MATCH"
                }
            );
            let _ = writeln!(
                out,
                "  trusted by {}: {}",
                chain.trust_store,
                match &chain.validation_error {
                    None if chain.chain_trusted => "yes".to_string(),
                    None => "no".to_string(),
                    Some(error) => format!("no ({error})"),
                }
            );
        }
        let _ = writeln!(out, "\nExtensions and features");
        let _ = writeln!(
            out,
            "  OCSP stapling          {}",
            yes_no(self.ocsp_stapling)
        );
        let _ = writeln!(
            out,
            "  secure renegotiation   {}",
            legacy_only(self.secure_renegotiation)
        );
        let _ = writeln!(
            out,
            "  compression (DEFLATE)  {}",
            legacy_only(self.compression)
        );
        match &self.heartbeat {
            Some(hb) => {
                let _ = writeln!(
                    out,
                    "  heartbeat extension    {}; Heartbleed {}",
                    if hb.extension_enabled { "yes" } else { "no" },
                    match hb.heartbleed_vulnerable {
                        Some(true) => "VULNERABLE",
                        Some(false) => "not vulnerable",
                        None => "not probed",
                    }
                );
            }
            None => {
                let _ = writeln!(out, "  heartbeat extension    {}", legacy_only(None));
            }
        }
        match &self.hsts {
            Some(hsts) => {
                let _ = writeln!(
                    out,
                    "  HSTS                   {} (HTTP {})",
                    hsts.header.as_deref().unwrap_or("absent"),
                    hsts.http_status
                );
            }
            None => {
                let reason = if self.supports(Protocol::Tls12) || self.supports(Protocol::Tls13) {
                    "not tested"
                } else {
                    "not tested (needs TLS 1.2 or 1.3)"
                };
                let _ = writeln!(out, "  HSTS                   {reason}");
            }
        }
        match &self.early_data {
            Some(early) => {
                let _ = writeln!(
                    out,
                    "  TLS 1.3 early data     ticket allows: {}, accepted: {}",
                    if early.offered_by_ticket { "yes" } else { "no" },
                    if early.accepted { "yes" } else { "no" }
                );
            }
            None => {
                let reason = if self.supports(Protocol::Tls13) {
                    "not tested"
                } else {
                    "n/a (no TLS 1.3)"
                };
                let _ = writeln!(out, "  TLS 1.3 early data     {reason}");
            }
        }
        let _ = writeln!(
            out,
            "\nMozilla profile: {}",
            self.mozilla_profile
                .as_deref()
                .unwrap_or("none (not even old)")
        );
        for verdict in &self.mozilla_profiles {
            let _ = writeln!(
                out,
                "  {:<12} {}",
                verdict.profile,
                if verdict.compliant {
                    "compliant".to_string()
                } else {
                    format!("{} deviations", verdict.deviations.len())
                }
            );
            for deviation in verdict.deviations.iter().take(8) {
                let _ = writeln!(out, "      - {deviation}");
            }
            if verdict.deviations.len() > 8 {
                let _ = writeln!(out, "      - ... {} more", verdict.deviations.len() - 8);
            }
        }
        let _ = writeln!(out, "\nFindings ({})", self.findings.len());
        for finding in &self.findings {
            let _ = writeln!(
                out,
                "  {:<8} {:<34} CWE-{:<4} {}",
                finding.severity.as_str(),
                finding.id,
                finding.cwe,
                finding.title
            );
            let _ = writeln!(out, "           evidence: {}", finding.evidence);
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\nNotes");
            for note in &self.notes {
                let _ = writeln!(out, "  {note}");
            }
        }
        out
    }
}
