//! Full handshakes over rustls (TLS 1.2/1.3): one `GET /` for Strict-Transport-Security, the
//! certificate chain when only TLS 1.3 shows it (encrypted there), and TLS 1.3 early data on a
//! resumed session.
//!
//! The certificate verifier here accepts any chain and records it: these connections gather
//! facts, they never trust the server. Validation is done separately in `certificate.rs`.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::probe::Prober;
use crate::report::{EarlyDataFacts, HstsFacts};

/// Largest HTTP response head read.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What the rustls connections saw.
#[derive(Debug, Default)]
pub(crate) struct HttpsOutcome {
    pub chain: Option<Vec<Vec<u8>>>,
    pub ocsp_stapled: bool,
    pub hsts: Option<HstsFacts>,
    pub early_data: Option<EarlyDataFacts>,
}

#[derive(Debug)]
struct RecordingVerifier {
    seen: Mutex<Option<(Vec<Vec<u8>>, bool)>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .take(crate::wire::answer::MAX_CHAIN_LEN)
            .map(|c| c.as_ref().to_vec())
            .collect();
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some((chain, !ocsp_response.is_empty()));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Run the rustls connections. `early_data` asks for the resumed 0-RTT attempt.
pub(crate) fn probe(
    prober: &Prober<'_>,
    want_hsts: bool,
    want_early_data: bool,
) -> Result<HttpsOutcome, String> {
    let provider = rustls::crypto::ring::default_provider();
    let verifier = Arc::new(RecordingVerifier {
        seen: Mutex::new(None),
        algorithms: provider.signature_verification_algorithms,
    });
    let mut config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    config.enable_early_data = true;
    let config = Arc::new(config);
    let name = prober.target.server_name().to_string();
    let server_name = ServerName::try_from(name.clone()).map_err(|e| e.to_string())?;

    let first = exchange(prober, &config, &server_name, &name, false).map_err(|e| e.to_string())?;
    let mut outcome = HttpsOutcome::default();
    if let Ok(mut seen) = verifier.seen.lock()
        && let Some((chain, ocsp)) = seen.take()
    {
        outcome.chain = Some(chain);
        outcome.ocsp_stapled = ocsp;
    }
    if want_hsts {
        outcome.hsts = first.head.as_ref().map(hsts_facts);
    }
    if want_early_data && first.tls13 {
        let second =
            exchange(prober, &config, &server_name, &name, true).map_err(|e| e.to_string())?;
        outcome.early_data = Some(EarlyDataFacts {
            offered_by_ticket: second.early_data_offered,
            accepted: second.early_data_accepted,
        });
    }
    Ok(outcome)
}

struct Exchange {
    tls13: bool,
    head: Option<(u16, Vec<(String, String)>)>,
    early_data_offered: bool,
    early_data_accepted: bool,
}

fn exchange(
    prober: &Prober<'_>,
    config: &Arc<ClientConfig>,
    server_name: &ServerName<'static>,
    host: &str,
    try_early_data: bool,
) -> io::Result<Exchange> {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: palisade-tlsaudit\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    let mut conn =
        ClientConnection::new(config.clone(), server_name.clone()).map_err(io::Error::other)?;
    let mut early_data_offered = false;
    if try_early_data && let Some(mut early) = conn.early_data() {
        early_data_offered = true;
        early.write_all(request.as_bytes())?;
    }
    let mut socket = prober.connect()?;
    while conn.is_handshaking() {
        conn.complete_io(&mut socket)?;
    }
    let early_data_accepted = conn.is_early_data_accepted();
    let tls13 = conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3);
    let mut stream = rustls::Stream::new(&mut conn, &mut socket);
    if !early_data_accepted {
        stream.write_all(request.as_bytes())?;
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while head.len() < MAX_HEAD_BYTES && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
    }
    // Let rustls take the session tickets that follow the handshake (TLS 1.3).
    let _ = stream.read(&mut buf);
    Ok(Exchange {
        tls13,
        head: parse_head(&head),
        early_data_offered,
        early_data_accepted,
    })
}

fn parse_head(bytes: &[u8]) -> Option<(u16, Vec<(String, String)>)> {
    let mut headers = [httparse::EMPTY_HEADER; 96];
    let mut response = httparse::Response::new(&mut headers);
    response.parse(bytes).ok()?;
    let status = response.code?;
    let headers = response
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    Some((status, headers))
}

fn hsts_facts(head: &(u16, Vec<(String, String)>)) -> HstsFacts {
    let header = head
        .1
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("strict-transport-security"))
        .map(|(_, value)| value.clone());
    let mut facts = HstsFacts {
        http_status: head.0,
        header: header.clone(),
        max_age: None,
        include_subdomains: false,
        preload: false,
    };
    for directive in header.as_deref().unwrap_or_default().split(';') {
        let directive = directive.trim();
        let (key, value) = directive.split_once('=').unwrap_or((directive, ""));
        match key.trim().to_ascii_lowercase().as_str() {
            "max-age" => facts.max_age = value.trim().trim_matches('"').parse().ok(),
            "includesubdomains" => facts.include_subdomains = true,
            "preload" => facts.preload = true,
            _ => {}
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsts_header_directives_are_read() {
        let head = parse_head(
            b"HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=\"63072000\"; includeSubDomains; preload\r\n\r\n",
        )
        .expect("head");
        let facts = hsts_facts(&head);
        assert_eq!(facts.http_status, 200);
        assert_eq!(facts.max_age, Some(63_072_000));
        assert!(facts.include_subdomains && facts.preload);
        let none = hsts_facts(&parse_head(b"HTTP/1.1 404 Not Found\r\n\r\n").expect("head"));
        assert_eq!(none.header, None);
        assert_eq!(none.max_age, None);
    }
}
