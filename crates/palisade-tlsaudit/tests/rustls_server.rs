//! Audit of an in-process rustls server (TLS 1.2 + 1.3, ECDSA P-256 leaf from a test CA).

mod support;

use std::io::Write;

use palisade_tlsaudit::{Protocol, TlsAuditOptions, TlsTarget, audit};
use support::{RustlsServer, TestPki};

const HSTS_RESPONSE: &str = "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=63072000; includeSubDomains\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
const PLAIN_RESPONSE: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

fn target(port: u16) -> TlsTarget {
    let mut target = TlsTarget::new("127.0.0.1", port);
    target.sni = Some("localhost".into());
    target
}

fn options_with_ca(pki: &TestPki) -> (TlsAuditOptions, tempfile::NamedTempFile) {
    let mut ca = tempfile::NamedTempFile::new().expect("temp");
    ca.write_all(pki.ca_pem.as_bytes()).expect("write ca");
    let options = TlsAuditOptions {
        ca_file: Some(ca.path().to_path_buf()),
        ..TlsAuditOptions::default()
    };
    (options, ca)
}

#[test]
fn rustls_server_facts_findings_and_intermediate_verdict() {
    let pki = TestPki::new(80);
    let server = RustlsServer::start(&pki, HSTS_RESPONSE, false);
    let (options, _ca) = options_with_ca(&pki);
    let report = audit(&target(server.port), &options).expect("audit");
    eprintln!("{}", report.render_table());

    for protocol in [Protocol::Ssl3, Protocol::Tls10, Protocol::Tls11] {
        assert!(!report.supports(protocol), "{protocol} must be refused");
    }
    assert!(report.supports(Protocol::Tls12) && report.supports(Protocol::Tls13));

    let names = |p: Protocol| {
        let mut names: Vec<String> = report.suites(p).iter().map(|s| s.name.clone()).collect();
        names.sort();
        names
    };
    assert_eq!(
        names(Protocol::Tls13),
        vec![
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256"
        ]
    );
    assert_eq!(
        names(Protocol::Tls12),
        vec![
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
        ]
    );
    let fs = report.forward_secrecy.expect("forward secrecy");
    assert!(fs.all_suites);

    let groups: Vec<&str> = report
        .groups
        .as_ref()
        .expect("groups")
        .groups
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(groups, vec!["x25519", "secp256r1", "secp384r1"]);

    let chain = report.certificate.as_ref().expect("certificate");
    assert!(
        chain.source.starts_with("tls-parser (TLSv1.2"),
        "{}",
        chain.source
    );
    let leaf = &chain.certificates[0];
    assert_eq!(leaf.common_name.as_deref(), Some("localhost"));
    assert_eq!((leaf.key_type.as_str(), leaf.key_bits), ("EC", 256));
    assert_eq!(leaf.signature_algorithm, "ecdsa-with-SHA256");
    assert!((78..=80).contains(&leaf.days_left), "{}", leaf.days_left);
    assert!(chain.hostname_matches);
    assert!(chain.chain_trusted, "{:?}", chain.validation_error);

    assert_eq!(report.compression, Some(false));
    assert_eq!(report.ocsp_stapling, Some(false));
    let hsts = report.hsts.as_ref().expect("hsts");
    assert_eq!(hsts.max_age, Some(63_072_000));
    assert!(hsts.include_subdomains);
    let early = report.early_data.as_ref().expect("early data");
    assert!(!early.offered_by_ticket && !early.accepted);
    let heartbeat = report.heartbeat.as_ref().expect("heartbeat");
    assert!(!heartbeat.extension_enabled);
    assert_eq!(heartbeat.heartbleed_vulnerable, None);

    assert_eq!(report.mozilla_profile.as_deref(), Some("intermediate"));
    let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, vec!["tls.ocsp.not_stapled"], "{:#?}", report.findings);
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["protocols"][4]["protocol"], "TLSv1.3");
    assert_eq!(json["findings"][0]["severity"], "info");
}

#[test]
fn untrusted_wrong_name_no_hsts_and_early_data_are_findings() {
    let pki = TestPki::new(10);
    let server = RustlsServer::start(&pki, PLAIN_RESPONSE, true);
    let mut target = target(server.port);
    target.sni = Some("shop.example.test".into());
    // Default trust store (Mozilla roots): the test CA is unknown.
    let report = audit(&target, &TlsAuditOptions::default()).expect("audit");
    let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
    for id in [
        "tls.cert.untrusted",
        "tls.cert.hostname_mismatch",
        "tls.cert.expiring",
        "tls.hsts.missing",
        "tls.early_data.accepted",
    ] {
        assert!(ids.contains(&id), "missing {id} in {ids:?}");
    }
    let early = report.early_data.as_ref().expect("early data");
    assert!(early.offered_by_ticket && early.accepted);
    let untrusted = report
        .findings
        .iter()
        .find(|f| f.id == "tls.cert.untrusted")
        .expect("finding");
    assert_eq!(untrusted.cwe, 295);
    assert!(report.render_table().contains("DOES NOT MATCH"));
}

#[test]
fn tls13_only_server_chain_comes_from_the_rustls_handshake() {
    let pki = TestPki::new(80);
    let server =
        RustlsServer::start_with_versions(&pki, HSTS_RESPONSE, false, &[&rustls::version::TLS13]);
    let (options, _ca) = options_with_ca(&pki);
    let report = audit(&target(server.port), &options).expect("audit");
    assert!(report.supports(Protocol::Tls13));
    assert!(!report.supports(Protocol::Tls12));
    let chain = report.certificate.as_ref().expect("certificate");
    assert!(chain.source.starts_with("rustls"), "{}", chain.source);
    assert!(chain.chain_trusted, "{:?}", chain.validation_error);
    // No TLS <= 1.2: renegotiation, compression and heartbeat do not apply.
    assert_eq!(report.secure_renegotiation, None);
    assert_eq!(report.compression, None);
    assert!(report.render_table().contains("n/a (no TLS <= 1.2)"));
    assert_eq!(
        report.hsts.as_ref().and_then(|h| h.max_age),
        Some(63_072_000)
    );
    let groups = report.groups.as_ref().expect("groups");
    assert_eq!(groups.protocol, Protocol::Tls13);
    assert_eq!(groups.groups.len(), 3);
    // TLS 1.3 only, ECDSA P-256 signed with SHA-256, 81-day lifetime: modern.
    assert_eq!(
        report.mozilla_profile.as_deref(),
        Some("modern"),
        "{:#?}",
        report.mozilla_profiles
    );
}
