//! Scripted servers for what no local server can show: SSLv3, compression, missing secure
//! renegotiation, a heartbeat extension and a Heartbleed-style heartbeat response. Each answers
//! every connection with the same first flight, so only the audit's reading of it is tested.

mod support;

use std::time::Duration;

use palisade_tlsaudit::{Protocol, TlsAuditOptions, TlsReport, TlsTarget, audit};
use support::fixed_answer_server;

/// A first flight: ServerHello(version, suite, compression, extensions), ServerHelloDone, then
/// `trailing` raw bytes.
fn flight(
    version: u16,
    suite: u16,
    compression: u8,
    extensions: &[u8],
    trailing: &[u8],
) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend([9u8; 32]);
    body.push(0); // empty session id
    body.extend(suite.to_be_bytes());
    body.push(compression);
    if !extensions.is_empty() {
        body.extend((extensions.len() as u16).to_be_bytes());
        body.extend(extensions);
    }
    let mut handshake = vec![2, 0];
    handshake.extend((body.len() as u16).to_be_bytes());
    handshake.extend(body);
    handshake.extend([14, 0, 0, 0]);
    let mut out = vec![22];
    out.extend(version.to_be_bytes());
    out.extend((handshake.len() as u16).to_be_bytes());
    out.extend(handshake);
    out.extend(trailing);
    out
}

fn audit_fake(answer: Vec<u8>) -> TlsReport {
    let port = fixed_answer_server(move |_| answer.clone());
    let options = TlsAuditOptions {
        read_timeout: Duration::from_millis(700),
        ..TlsAuditOptions::default()
    };
    audit(&TlsTarget::new("127.0.0.1", port), &options).expect("audit")
}

fn ids(report: &TlsReport) -> Vec<&str> {
    report.findings.iter().map(|f| f.id.as_str()).collect()
}

#[test]
fn sslv3_server_with_compression_and_no_secure_renegotiation() {
    // SSLv3 hellos carry no extensions; RSA with 3DES, DEFLATE chosen.
    let report = audit_fake(flight(0x0300, 0x000a, 1, &[], &[]));
    assert!(report.supports(Protocol::Ssl3));
    assert!(!report.supports(Protocol::Tls10));
    assert_eq!(report.compression, Some(true));
    assert_eq!(report.secure_renegotiation, Some(false));
    let ids = ids(&report);
    for id in [
        "tls.protocol.sslv3",
        "tls.compression.enabled",
        "tls.renegotiation.insecure",
        "tls.cipher.3des",
        "tls.cipher.no_forward_secrecy",
    ] {
        assert!(ids.contains(&id), "missing {id} in {ids:?}");
    }
    // The scripted server picks the same suite whatever is offered: enumeration notices.
    assert!(
        report.notes.iter().any(|n| n.contains("not offered")),
        "{:?}",
        report.notes
    );
}

/// renegotiation_info (empty) and heartbeat (peer_allowed_to_send) extensions.
const RENEGOTIATION_AND_HEARTBEAT: [u8; 10] = [0xff, 0x01, 0, 1, 0, 0, 15, 0, 1, 1];

#[test]
fn heartbeat_response_to_an_overlong_request_is_heartbleed() {
    // After ServerHelloDone the scripted server "answers" the heartbeat with a 3 + 16384 byte
    // heartbeat response, as a vulnerable OpenSSL would.
    let mut heartbeat = vec![24, 3, 1, 0x40, 0x03, 2, 0x40, 0x00];
    heartbeat.extend(vec![0xaa; 0x4000]);
    let report = audit_fake(flight(
        0x0301,
        0xc014,
        0,
        &RENEGOTIATION_AND_HEARTBEAT,
        &heartbeat,
    ));
    let facts = report.heartbeat.as_ref().expect("heartbeat facts");
    assert!(facts.extension_enabled);
    assert_eq!(facts.heartbleed_vulnerable, Some(true), "{}", facts.method);
    assert!(facts.method.contains("payload_length 16384"));
    let finding = report
        .findings
        .iter()
        .find(|f| f.id == "tls.heartbleed")
        .expect("finding");
    assert_eq!(finding.cwe, 125);
    assert_eq!(report.secure_renegotiation, Some(true));
    assert!(ids(&report).contains(&"tls.protocol.tls10"));
}

#[test]
fn heartbeat_without_response_is_not_heartbleed() {
    let report = audit_fake(flight(0x0301, 0xc014, 0, &RENEGOTIATION_AND_HEARTBEAT, &[]));
    let facts = report.heartbeat.as_ref().expect("heartbeat facts");
    assert!(facts.extension_enabled);
    assert_eq!(facts.heartbleed_vulnerable, Some(false));
    assert!(!ids(&report).contains(&"tls.heartbleed"));
}
