//! TLS audit of one endpoint (`palisade scan --tls HOST:PORT`).
//!
//! This crate owns the whole audit: hand-built ClientHellos over plain TCP (rustls refuses the
//! legacy protocols this must detect), bounded parsing of the server's plaintext answers with
//! `tls-parser`, certificate facts with `x509-parser`, chain validation with rustls-webpki, one
//! HTTPS request over rustls for HSTS and TLS 1.3 early data, the Mozilla profile verdicts, and
//! findings with stable ids, CWE, evidence and fix.
//!
//! Entry point: [`audit`]. It is blocking; every socket has connect/read timeouts and every
//! parser has byte and count limits, so a hostile server cannot hang or crash it.
#![forbid(unsafe_code)]

mod certificate;
mod checks;
mod ciphers;
mod groups;
mod https;
mod mozilla;
mod probe;
mod protocol;
mod report;
mod target;
mod wire;

use std::time::Instant;

pub use protocol::Protocol;
pub use report::{
    CertificateChain, CertificateFacts, CipherSuite, EarlyDataFacts, ForwardSecrecy, Group,
    GroupSupport, HeartbeatFacts, HstsFacts, ProfileVerdict, ProtocolCipherSuites, ProtocolSupport,
    Severity, TlsFinding, TlsReport,
};
pub use target::{TlsAuditError, TlsAuditOptions, TlsProbes, TlsTarget};

use crate::ciphers::VersionProbe;
use crate::probe::{HeartbleedOutcome, Prober};
use crate::wire::hello::ext;

/// Audit `target`. Fails only when the target cannot be resolved or reached, the CA file is
/// unusable, or no SSL/TLS version is accepted; single probes that fail are listed in
/// `TlsReport::notes`.
pub fn audit(target: &TlsTarget, options: &TlsAuditOptions) -> Result<TlsReport, TlsAuditError> {
    let started = Instant::now();
    let address = target.resolve()?;
    let trust = if options.probes.certificate {
        Some(certificate::TrustStore::load(options.ca_file.as_deref())?)
    } else {
        None
    };
    let prober = Prober::new(target, options, address);
    prober.connect().map_err(|source| TlsAuditError::Connect {
        target: target.display(),
        source,
    })?;
    let mut notes = Vec::new();

    let versions: Vec<VersionProbe> = Protocol::ALL
        .into_iter()
        .map(|protocol| ciphers::probe_version(&prober, protocol))
        .collect();
    if versions.iter().all(|v| !v.support.supported) {
        return Err(TlsAuditError::NoTls {
            target: target.display(),
        });
    }

    let mut cipher_suites = Vec::new();
    for version in &versions {
        let Some(hello) = version.answer.as_ref().and_then(|a| a.hello.as_ref()) else {
            continue;
        };
        let protocol = version.support.protocol;
        if options.probes.cipher_suites {
            cipher_suites.push(ciphers::enumerate(
                &prober,
                protocol,
                hello.cipher_suite,
                &mut notes,
            ));
        } else {
            cipher_suites.push(ProtocolCipherSuites {
                protocol,
                accepted: vec![ciphers::describe(hello.cipher_suite)],
                server_order: None,
            });
        }
    }
    let all_suites: Vec<&CipherSuite> = cipher_suites.iter().flat_map(|c| &c.accepted).collect();
    let forward_secrecy = (!all_suites.is_empty()).then(|| ForwardSecrecy {
        all_suites: all_suites.iter().all(|s| s.forward_secrecy),
        some_suites: all_suites.iter().any(|s| s.forward_secrecy),
    });

    let supports = |p: Protocol| {
        versions
            .iter()
            .any(|v| v.support.protocol == p && v.support.supported)
    };
    // The newest accepted version with a plaintext handshake (TLS ≤ 1.2).
    let legacy = versions
        .iter()
        .rev()
        .filter(|v| v.support.protocol != Protocol::Tls13)
        .find_map(|v| Some((v.support.protocol, v.answer.as_ref()?)));

    let groups = if !options.probes.groups {
        None
    } else if supports(Protocol::Tls13) {
        Some(groups::enumerate_tls13(&prober, &mut notes))
    } else if let Some((protocol, _)) = legacy {
        let ecdhe: Vec<u16> = cipher_suites
            .iter()
            .filter(|c| c.protocol == protocol)
            .flat_map(|c| &c.accepted)
            .filter(|s| s.name.starts_with("TLS_ECDHE_"))
            .map(|s| s.id)
            .collect();
        (!ecdhe.is_empty()).then(|| groups::enumerate_ecdhe(&prober, protocol, ecdhe, &mut notes))
    } else {
        None
    };

    let dhe_prime_bits = match legacy {
        Some((protocol, _)) if options.probes.groups => {
            let dhe: Vec<u16> = cipher_suites
                .iter()
                .filter(|c| c.protocol == protocol)
                .flat_map(|c| &c.accepted)
                .filter(|s| s.name.starts_with("TLS_DHE_") || s.name.starts_with("TLS_DH_anon_"))
                .map(|s| s.id)
                .collect();
            if dhe.is_empty() {
                None
            } else {
                groups::dhe_prime_bits(&prober, protocol, dhe)
            }
        }
        _ => None,
    };

    let legacy_hello = legacy.and_then(|(_, answer)| answer.hello.as_ref());
    let (secure_renegotiation, compression, heartbeat) = match (options.probes.extensions, legacy) {
        (true, Some((protocol, _))) => {
            let hello = legacy_hello;
            let heartbeat_enabled = hello.is_some_and(|h| h.extension(ext::HEARTBEAT).is_some());
            let (vulnerable, method) = if !heartbeat_enabled {
                (
                    None,
                    "heartbeat extension offered in the ClientHello; the server did not echo it, so no heartbeat request was sent".to_string(),
                )
            } else if !options.probes.heartbleed {
                (
                    None,
                    "heartbeat extension echoed; Heartbleed probe disabled".to_string(),
                )
            } else {
                let mut spec = prober.hello(protocol, ciphers::candidate_suites(protocol));
                spec.heartbeat = true;
                let method = format!(
                    "{protocol}: after ServerHelloDone, sent a heartbeat request with payload_length 16384 and no payload"
                );
                match prober.heartbleed(&spec) {
                    Ok(HeartbleedOutcome::Vulnerable { leaked_bytes }) => (
                        Some(true),
                        format!(
                            "{method}; the server answered with a {leaked_bytes}-byte heartbeat response"
                        ),
                    ),
                    Ok(HeartbleedOutcome::NoResponse) => {
                        (Some(false), format!("{method}; no heartbeat response"))
                    }
                    Ok(HeartbleedOutcome::NotReached) => (
                        None,
                        format!(
                            "{protocol}: server did not finish its first flight; no heartbeat sent"
                        ),
                    ),
                    Err(e) => (None, format!("{protocol}: Heartbleed probe failed: {e}")),
                }
            };
            (
                hello.map(|h| h.extension(ext::RENEGOTIATION_INFO).is_some()),
                hello.map(|h| h.compression == 1),
                Some(HeartbeatFacts {
                    extension_enabled: heartbeat_enabled,
                    heartbleed_vulnerable: vulnerable,
                    method,
                }),
            )
        }
        _ => (None, None, None),
    };

    let want_https = supports(Protocol::Tls12) || supports(Protocol::Tls13);
    let need_tls13_chain = options.probes.certificate
        && legacy.is_none_or(|(_, answer)| answer.certificates.is_empty());
    let https = if want_https
        && (options.probes.hsts
            || options.probes.early_data
            || need_tls13_chain
            || options.probes.extensions)
    {
        match https::probe(&prober, options.probes.hsts, options.probes.early_data) {
            Ok(outcome) => Some(outcome),
            Err(e) => {
                notes.push(format!(
                    "rustls connection failed (no HSTS/early-data facts): {e}"
                ));
                None
            }
        }
    } else {
        None
    };

    let ocsp_stapling = if !options.probes.extensions {
        None
    } else {
        let legacy_staple = legacy.map(|(_, answer)| answer.ocsp_response_len.is_some());
        let rustls_staple = https.as_ref().map(|h| h.ocsp_stapled);
        match (legacy_staple, rustls_staple) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(false) || b.unwrap_or(false)),
        }
    };

    let certificate = trust.as_ref().and_then(|trust| {
        let name = target.server_name();
        if let Some((protocol, answer)) = legacy
            && !answer.certificates.is_empty()
        {
            let source = format!("tls-parser ({protocol} Certificate message)");
            return Some(certificate::chain_facts(
                &answer.certificates,
                name,
                &source,
                trust,
            ));
        }
        let chain = https.as_ref()?.chain.as_ref()?;
        Some(certificate::chain_facts(
            chain,
            name,
            "rustls (TLS handshake)",
            trust,
        ))
    });
    if options.probes.certificate && certificate.is_none() {
        notes.push("no certificate chain received".into());
    }

    let (hsts, early_data) = match https {
        Some(outcome) => (outcome.hsts, outcome.early_data),
        None => (None, None),
    };

    let mut report = TlsReport {
        target: target.display(),
        server_name: target.server_name().to_string(),
        address: address.to_string(),
        duration_ms: 0,
        connections: 0,
        protocols: versions.into_iter().map(|v| v.support).collect(),
        cipher_suites,
        forward_secrecy,
        groups,
        dhe_prime_bits,
        certificate,
        ocsp_stapling,
        secure_renegotiation,
        compression,
        heartbeat,
        hsts,
        early_data,
        mozilla_profiles: Vec::new(),
        mozilla_profile: None,
        findings: Vec::new(),
        notes,
    };
    let (verdicts, best) = mozilla::verdicts(&report);
    report.mozilla_profiles = verdicts;
    report.mozilla_profile = best;
    report.findings = checks::run(&report, options);
    report.connections = prober.connections();
    report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}
