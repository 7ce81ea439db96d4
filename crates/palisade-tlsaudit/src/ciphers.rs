//! Protocol support and cipher-suite enumeration.
//!
//! A protocol is supported when the server answers a hello for exactly that version (TLS 1.3:
//! `supported_versions` = 0x0304 only) with a ServerHello of that version. Accepted suites are
//! listed by offering every suite the IANA registry knows (tls-parser's table), removing the one
//! the server chose, and asking again until the server refuses. Whether the server enforces its
//! own order is tested by offering the accepted suites forwards and backwards.

use tls_parser::{TlsCipherEnc, TlsCipherEncMode, TlsCipherKx, TlsCipherSuite};

use crate::probe::Prober;
use crate::protocol::Protocol;
use crate::report::{CipherSuite, ProtocolCipherSuites, ProtocolSupport};
use crate::wire::answer::{AnswerError, ReadUntil, ServerAnswer};

/// Upper bound on enumeration rounds for one protocol (the registry has fewer suites).
const MAX_ROUNDS: usize = 512;

/// Every registry suite that can be negotiated with `protocol`, ordered by id.
pub(crate) fn candidate_suites(protocol: Protocol) -> Vec<u16> {
    let mut ids: Vec<u16> = tls_parser::CIPHERS
        .values()
        .filter(|suite| !suite.name.contains("SCSV"))
        .filter(|suite| (suite.kx == TlsCipherKx::Tls13) == (protocol == Protocol::Tls13))
        .map(|suite| suite.id.0)
        .collect();
    ids.sort_unstable();
    ids
}

/// Facts of a suite id (unknown ids keep their number as the name).
pub(crate) fn describe(id: u16) -> CipherSuite {
    match TlsCipherSuite::from_id(id) {
        Some(suite) => CipherSuite {
            id,
            name: suite.name.to_string(),
            key_exchange: format!("{:?}", suite.kx),
            forward_secrecy: matches!(
                suite.kx,
                TlsCipherKx::Dhe | TlsCipherKx::Ecdhe | TlsCipherKx::Tls13
            ),
            aead: matches!(
                suite.enc_mode,
                TlsCipherEncMode::Gcm | TlsCipherEncMode::Ccm
            ) || suite.enc == TlsCipherEnc::Chacha20_Poly1305,
            encryption_bits: suite.enc_size,
        },
        None => CipherSuite {
            id,
            name: format!("UNKNOWN_0x{id:04x}"),
            key_exchange: "unknown".into(),
            forward_secrecy: false,
            aead: false,
            encryption_bits: 0,
        },
    }
}

/// The outcome of one version probe.
pub(crate) struct VersionProbe {
    pub support: ProtocolSupport,
    /// The answer when the version was accepted (TLS ≤ 1.2: read through ServerHelloDone).
    pub answer: Option<ServerAnswer>,
}

/// Ask for `protocol` with every candidate suite, DEFLATE and the heartbeat extension offered
/// (TLS ≤ 1.2), so one answer carries the certificate and extension facts too.
pub(crate) fn probe_version(prober: &Prober<'_>, protocol: Protocol) -> VersionProbe {
    let mut spec = prober.hello(protocol, candidate_suites(protocol));
    if protocol != Protocol::Tls13 {
        spec.offer_deflate = true;
        spec.heartbeat = true;
    }
    let refused = |detail: String| VersionProbe {
        support: ProtocolSupport {
            protocol,
            supported: false,
            detail,
        },
        answer: None,
    };
    match prober.ask(&spec, ReadUntil::HelloDone) {
        Ok(answer) => match (&answer.hello, answer.alert) {
            (Some(hello), _) if hello.version == protocol.wire_version() => {
                let detail = format!("negotiated {}", describe(hello.cipher_suite).name);
                VersionProbe {
                    support: ProtocolSupport {
                        protocol,
                        supported: true,
                        detail,
                    },
                    answer: Some(answer),
                }
            }
            (Some(hello), _) => refused(match Protocol::from_wire(hello.version) {
                Some(other) => format!("server answered with {other}"),
                None => format!("server answered with version 0x{:04x}", hello.version),
            }),
            (None, Some(alert)) => refused(format!("alert {}", alert.name())),
            (None, None) => refused("no ServerHello".into()),
        },
        Err(e) => refused(e.to_string()),
    }
}

/// The suite a server picks from `offered` for `protocol`, if it accepts any.
/// `Err` when the answer was lost to a timeout or an I/O error rather than refused: the server
/// may have accepted something, so an enumeration that stops there says so.
fn chosen_suite(
    prober: &Prober<'_>,
    protocol: Protocol,
    offered: &[u16],
) -> Result<Option<u16>, AnswerError> {
    let spec = prober.hello(protocol, offered.to_vec());
    let answer = match prober.ask(&spec, ReadUntil::ServerHello) {
        Ok(answer) => answer,
        Err(e @ (AnswerError::Timeout | AnswerError::Io(_))) => return Err(e),
        // An alert, a close or a non-TLS answer: the server refuses what was offered.
        Err(_) => return Ok(None),
    };
    Ok(answer
        .hello
        .filter(|hello| hello.version == protocol.wire_version())
        .map(|hello| hello.cipher_suite))
}

/// Enumerate the suites `protocol` accepts. `first` is the suite the version probe negotiated.
pub(crate) fn enumerate(
    prober: &Prober<'_>,
    protocol: Protocol,
    first: u16,
    notes: &mut Vec<String>,
) -> ProtocolCipherSuites {
    let mut remaining = candidate_suites(protocol);
    let mut accepted = vec![first];
    remaining.retain(|id| *id != first);
    for _ in 0..MAX_ROUNDS {
        if remaining.is_empty() {
            break;
        }
        let chosen = match chosen_suite(prober, protocol, &remaining) {
            Ok(Some(chosen)) => chosen,
            Ok(None) => break,
            Err(e) => {
                notes.push(format!(
                    "{protocol}: cipher-suite enumeration stopped after {} suites: {e}",
                    accepted.len()
                ));
                break;
            }
        };
        if !remaining.contains(&chosen) {
            notes.push(format!(
                "{protocol}: server chose suite 0x{chosen:04x}, which was not offered; enumeration stopped"
            ));
            break;
        }
        accepted.push(chosen);
        remaining.retain(|id| *id != chosen);
    }
    let server_order = if accepted.len() < 2 {
        None
    } else {
        let mut reversed = accepted.clone();
        reversed.reverse();
        match (
            chosen_suite(prober, protocol, &accepted).ok().flatten(),
            chosen_suite(prober, protocol, &reversed).ok().flatten(),
        ) {
            (Some(a), Some(b)) => Some(a == b),
            _ => None,
        }
    };
    ProtocolCipherSuites {
        protocol,
        accepted: accepted.into_iter().map(describe).collect(),
        server_order,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_split_tls13_from_older_suites() {
        let tls13 = candidate_suites(Protocol::Tls13);
        assert!(tls13.contains(&0x1301) && tls13.contains(&0x1303));
        assert!(!tls13.contains(&0xc02f));
        let tls12 = candidate_suites(Protocol::Tls12);
        assert!(tls12.contains(&0xc02f) && tls12.contains(&0x000a));
        assert!(!tls12.contains(&0x1301));
        assert!(!tls12.contains(&0x00ff), "the SCSV is not a suite");
        assert!(tls12.len() > 200);
    }

    #[test]
    fn describe_classifies_key_exchange_and_aead() {
        let ecdhe = describe(0xc02f); // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        assert!(ecdhe.forward_secrecy && ecdhe.aead);
        assert_eq!(ecdhe.encryption_bits, 128);
        let rsa = describe(0x002f); // TLS_RSA_WITH_AES_128_CBC_SHA
        assert!(!rsa.forward_secrecy && !rsa.aead);
        let chacha = describe(0xcca8);
        assert!(chacha.aead && chacha.forward_secrecy);
        assert!(describe(0x1301).forward_secrecy);
    }
}
