//! Servers that answer with garbage: the audit ends with an error, never a panic or a hang.

mod support;

use std::time::{Duration, Instant};

use palisade_tlsaudit::{TlsAuditError, TlsAuditOptions, TlsTarget, audit};
use proptest::prelude::*;
use support::fixed_answer_server;

fn quick_options() -> TlsAuditOptions {
    TlsAuditOptions {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_millis(700),
        ..TlsAuditOptions::default()
    }
}

fn audit_port(port: u16) -> Result<palisade_tlsaudit::TlsReport, TlsAuditError> {
    audit(&TlsTarget::new("127.0.0.1", port), &quick_options())
}

#[test]
fn http_server_is_not_tls() {
    let port =
        fixed_answer_server(|_| b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".to_vec());
    assert!(matches!(audit_port(port), Err(TlsAuditError::NoTls { .. })));
}

#[test]
fn oversized_lengths_are_refused() {
    // A handshake record claiming 65535 bytes, then a 16 MiB handshake message header.
    let port = fixed_answer_server(|n| {
        if n % 2 == 0 {
            let mut bytes = vec![22, 3, 3, 0xff, 0xff];
            bytes.extend(vec![0u8; 1000]);
            bytes
        } else {
            vec![22, 3, 3, 0, 4, 11, 0xff, 0xff, 0xff]
        }
    });
    assert!(matches!(audit_port(port), Err(TlsAuditError::NoTls { .. })));
}

#[test]
fn silent_server_times_out() {
    let port = fixed_answer_server(|_| {
        std::thread::sleep(Duration::from_millis(900));
        Vec::new()
    });
    let started = Instant::now();
    assert!(audit_port(port).is_err());
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn server_hello_with_garbage_certificate_does_not_panic() {
    // TLS 1.2 ServerHello (suite 0xc02f), a Certificate with one 5-byte "certificate", done.
    let mut hello = vec![2, 0, 0, 38, 3, 3];
    hello.extend([1u8; 32]);
    hello.extend([0, 0xc0, 0x2f, 0]);
    let certificate = vec![11, 0, 0, 11, 0, 0, 8, 0, 0, 5, 0x30, 0x03, 0x02, 0x01, 0xff];
    let mut flight = hello;
    flight.extend(certificate);
    flight.extend([14, 0, 0, 0]);
    let mut record = vec![22, 3, 3];
    record.extend((flight.len() as u16).to_be_bytes());
    record.extend(flight);
    let port = fixed_answer_server(move |_| record.clone());
    let report = audit_port(port).expect("TLS 1.2 is accepted");
    let chain = report.certificate.expect("chain");
    assert_eq!(chain.unparsed, 1);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.id == "tls.cert.unreadable")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Random answers (behind a plausible record header half of the time) end in a report or an
    /// error, never a panic.
    #[test]
    fn random_answers_never_panic(
        tls_header in any::<bool>(),
        body in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut answer = if tls_header { vec![22u8, 3, 3] } else { Vec::new() };
        answer.extend(body);
        let port = fixed_answer_server(move |_| answer.clone());
        let _ = audit_port(port);
    }
}
