//! Reading what a server answers to a hand-built ClientHello.
//!
//! Records are framed here with hard limits (record size, record count, handshake message size,
//! total bytes); handshake messages are reassembled across records and handed to `tls-parser`.
//! Whatever arrives — garbage, truncation, oversized lengths, a server that never stops — ends in
//! an `AnswerError` or a partial `ServerAnswer`, never a panic or an unbounded allocation.

use std::io::{self, Read};

use tls_parser::{TlsMessage, TlsMessageHandshake};

use crate::wire::hello::ext;

/// Largest record accepted: 2^14 plaintext + 2048 (RFC 5246 §6.2.3, ciphertext bound).
pub(crate) const MAX_RECORD_LEN: usize = 16_384 + 2_048;
/// Most records read for one answer.
pub(crate) const MAX_RECORDS: usize = 64;
/// Largest handshake message accepted (a long certificate chain fits easily).
pub(crate) const MAX_HANDSHAKE_MESSAGE: usize = 128 * 1024;
/// Most bytes read for one answer.
pub(crate) const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// Most certificates kept from one Certificate message.
pub(crate) const MAX_CHAIN_LEN: usize = 16;
/// Most extensions kept from one ServerHello.
pub(crate) const MAX_EXTENSIONS: usize = 64;

/// SHA-256("HelloRetryRequest"): the ServerHello random that marks a HelloRetryRequest.
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

const CONTENT_ALERT: u8 = 21;
const CONTENT_HANDSHAKE: u8 = 22;
pub(crate) const CONTENT_HEARTBEAT: u8 = 24;

/// How far to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadUntil {
    /// Stop at the ServerHello (cipher and version enumeration).
    ServerHello,
    /// Read through ServerHelloDone (certificate, OCSP staple, key exchange; TLS ≤ 1.2).
    HelloDone,
}

/// The facts of a ServerHello (or HelloRetryRequest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerHelloFacts {
    /// `server_version` field.
    pub legacy_version: u16,
    /// The negotiated version: `supported_versions` when present, else `server_version`.
    pub version: u16,
    pub cipher_suite: u16,
    pub compression: u8,
    pub hello_retry_request: bool,
    /// (type, data) pairs in the order sent.
    pub extensions: Vec<(u16, Vec<u8>)>,
}

impl ServerHelloFacts {
    pub fn extension(&self, kind: u16) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, data)| data.as_slice())
    }

    /// The group of the server's key_share (or the group a HelloRetryRequest asks for).
    pub fn key_share_group(&self) -> Option<u16> {
        let data = self.extension(ext::KEY_SHARE)?;
        Some(u16::from_be_bytes([*data.first()?, *data.get(1)?]))
    }
}

/// A TLS alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Alert {
    pub level: u8,
    pub description: u8,
}

impl Alert {
    /// The description's name (RFC 8446 §6 and the IANA TLS Alerts registry).
    pub fn name(&self) -> String {
        let name = match self.description {
            0 => "close_notify",
            10 => "unexpected_message",
            20 => "bad_record_mac",
            22 => "record_overflow",
            40 => "handshake_failure",
            42 => "bad_certificate",
            47 => "illegal_parameter",
            50 => "decode_error",
            51 => "decrypt_error",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            86 => "inappropriate_fallback",
            90 => "user_canceled",
            109 => "missing_extension",
            110 => "unsupported_extension",
            112 => "unrecognized_name",
            120 => "no_application_protocol",
            other => return format!("alert {other}"),
        };
        name.to_string()
    }
}

/// What the server said, as far as it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ServerAnswer {
    pub hello: Option<ServerHelloFacts>,
    /// DER certificates of a TLS ≤ 1.2 Certificate message, leaf first.
    pub certificates: Vec<Vec<u8>>,
    /// A CertificateStatus (stapled OCSP response) was sent; its length.
    pub ocsp_response_len: Option<usize>,
    /// ServerKeyExchange parameters (TLS ≤ 1.2).
    pub server_key_exchange: Option<Vec<u8>>,
    pub alert: Option<Alert>,
    pub hello_done: bool,
}

/// Why an answer could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AnswerError {
    #[error("connection closed before the server answered")]
    Closed,
    #[error("no answer before the read timeout")]
    Timeout,
    #[error("answer is not TLS: {0}")]
    NotTls(String),
    #[error("answer exceeds a limit: {0}")]
    Limit(&'static str),
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
}

/// Read one record: (content type, version, payload). `Ok(None)` on a clean EOF before a header.
pub(crate) fn read_record(
    reader: &mut impl Read,
    budget: &mut usize,
) -> Result<Option<(u8, u16, Vec<u8>)>, AnswerError> {
    let mut header = [0u8; 5];
    match read_full(reader, &mut header)? {
        0 => return Ok(None),
        5 => {}
        _ => return Err(AnswerError::Closed),
    }
    let content_type = header[0];
    let version = u16::from_be_bytes([header[1], header[2]]);
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    if !(20..=24).contains(&content_type) || header[1] != 0x03 {
        return Err(AnswerError::NotTls(format!(
            "record header {:02x?}",
            &header[..3]
        )));
    }
    if len > MAX_RECORD_LEN {
        return Err(AnswerError::Limit("record length"));
    }
    if len + 5 > *budget {
        return Err(AnswerError::Limit("answer bytes"));
    }
    *budget -= len + 5;
    let mut payload = vec![0u8; len];
    if read_full(reader, &mut payload)? != len {
        return Err(AnswerError::Closed);
    }
    Ok(Some((content_type, version, payload)))
}

/// Fill `buf` as far as the stream allows; returns the bytes read (short only at EOF).
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize, AnswerError> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(AnswerError::Timeout);
            }
            Err(e) => return Err(AnswerError::Io(e)),
        }
    }
    Ok(filled)
}

/// Read the server's answer to a ClientHello.
pub(crate) fn read_answer(
    reader: &mut impl Read,
    until: ReadUntil,
) -> Result<ServerAnswer, AnswerError> {
    let mut answer = ServerAnswer::default();
    let mut budget = MAX_ANSWER_BYTES;
    let mut handshake_bytes: Vec<u8> = Vec::new();
    for _ in 0..MAX_RECORDS {
        let record = match read_record(reader, &mut budget) {
            Ok(Some(record)) => record,
            Ok(None) | Err(AnswerError::Closed) if answer.hello.is_some() => return Ok(answer),
            Ok(None) => return Err(AnswerError::Closed),
            Err(AnswerError::Timeout) if answer.hello.is_some() => return Ok(answer),
            Err(e) => return Err(e),
        };
        match record.0 {
            CONTENT_ALERT => {
                let (Some(&level), Some(&description)) = (record.2.first(), record.2.get(1)) else {
                    return Err(AnswerError::NotTls("short alert".into()));
                };
                answer.alert = Some(Alert { level, description });
                return Ok(answer);
            }
            CONTENT_HANDSHAKE => {
                if answer.hello.as_ref().is_some_and(|h| h.version == 0x0304) {
                    // TLS 1.3 handshake records after the ServerHello are encrypted.
                    return Ok(answer);
                }
                handshake_bytes.extend_from_slice(&record.2);
                if drain_handshake_messages(&mut handshake_bytes, &mut answer)? {
                    return Ok(answer);
                }
                let Some(hello) = &answer.hello else { continue };
                let stop = until == ReadUntil::ServerHello
                    || hello.version == 0x0304
                    || hello.hello_retry_request;
                if stop {
                    return Ok(answer);
                }
            }
            // change_cipher_spec (TLS 1.3 compatibility), application data: the plaintext
            // handshake is over.
            _ if answer.hello.is_some() => return Ok(answer),
            other => {
                return Err(AnswerError::NotTls(format!(
                    "content type {other} before ServerHello"
                )));
            }
        }
    }
    if answer.hello.is_some() {
        Ok(answer)
    } else {
        Err(AnswerError::Limit("record count"))
    }
}

/// Parse every complete handshake message in `buffer`; returns true at ServerHelloDone.
fn drain_handshake_messages(
    buffer: &mut Vec<u8>,
    answer: &mut ServerAnswer,
) -> Result<bool, AnswerError> {
    loop {
        let Some(header) = buffer.get(..4) else {
            return Ok(false);
        };
        let len =
            (usize::from(header[1]) << 16) | (usize::from(header[2]) << 8) | usize::from(header[3]);
        if len > MAX_HANDSHAKE_MESSAGE {
            return Err(AnswerError::Limit("handshake message length"));
        }
        if buffer.len() < len + 4 {
            return Ok(false);
        }
        let message: Vec<u8> = buffer.drain(..len + 4).collect();
        if message[0] == 14 {
            answer.hello_done = true;
            return Ok(true);
        }
        record_handshake_message(&message, answer)?;
    }
}

fn record_handshake_message(message: &[u8], answer: &mut ServerAnswer) -> Result<(), AnswerError> {
    let parsed = match tls_parser::parse_tls_message_handshake(message) {
        Ok((_, TlsMessage::Handshake(parsed))) => parsed,
        Ok(_) => return Ok(()),
        Err(e) => {
            // A message type tls-parser does not know is skipped; a malformed ServerHello is not.
            if message[0] == 2 {
                return Err(AnswerError::NotTls(format!("malformed ServerHello: {e}")));
            }
            return Ok(());
        }
    };
    match parsed {
        TlsMessageHandshake::ServerHello(hello) => {
            let extensions = parse_extensions(hello.ext.unwrap_or_default())?;
            let mut facts = ServerHelloFacts {
                legacy_version: hello.version.0,
                version: hello.version.0,
                cipher_suite: hello.cipher.0,
                compression: hello.compression.0,
                hello_retry_request: hello.random == &HELLO_RETRY_RANDOM[..],
                extensions,
            };
            if let Some(data) = facts.extension(ext::SUPPORTED_VERSIONS)
                && let (Some(&hi), Some(&lo)) = (data.first(), data.get(1))
            {
                facts.version = u16::from_be_bytes([hi, lo]);
            }
            answer.hello = Some(facts);
        }
        TlsMessageHandshake::Certificate(certificate) => {
            answer.certificates = certificate
                .cert_chain
                .iter()
                .take(MAX_CHAIN_LEN)
                .map(|c| c.data.to_vec())
                .collect();
        }
        TlsMessageHandshake::CertificateStatus(status) => {
            answer.ocsp_response_len = Some(status.blob.len());
        }
        TlsMessageHandshake::ServerKeyExchange(kx) => {
            answer.server_key_exchange = Some(kx.parameters.to_vec());
        }
        _ => {}
    }
    Ok(())
}

/// Walk a ServerHello extension block into (type, data) pairs.
fn parse_extensions(mut data: &[u8]) -> Result<Vec<(u16, Vec<u8>)>, AnswerError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if out.len() >= MAX_EXTENSIONS {
            return Err(AnswerError::Limit("extension count"));
        }
        let (Some(head), Some(rest)) = (data.get(..4), data.get(4..)) else {
            return Err(AnswerError::NotTls("truncated extension header".into()));
        };
        let kind = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let Some(body) = rest.get(..len) else {
            return Err(AnswerError::NotTls("truncated extension".into()));
        };
        out.push((kind, body.to_vec()));
        data = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(content_type: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![content_type, 3, 3];
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn server_hello(version: u16, suite: u16, extensions: &[u8]) -> Vec<u8> {
        let mut body = version.to_be_bytes().to_vec();
        body.extend_from_slice(&[7u8; 32]);
        body.push(0);
        body.extend_from_slice(&suite.to_be_bytes());
        body.push(0);
        body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(extensions);
        let mut message = vec![2, 0];
        message.extend_from_slice(&(body.len() as u16).to_be_bytes());
        message.extend_from_slice(&body);
        message
    }

    #[test]
    fn alert_is_reported_with_its_name() {
        let bytes = record(21, &[2, 40]);
        let answer = read_answer(&mut bytes.as_slice(), ReadUntil::HelloDone).expect("answer");
        let alert = answer.alert.expect("alert");
        assert_eq!(alert.description, 40);
        assert_eq!(alert.name(), "handshake_failure");
    }

    #[test]
    fn server_hello_split_across_records_is_reassembled() {
        let message = server_hello(0x0303, 0xc02f, &[0xff, 0x01, 0x00, 0x01, 0x00]);
        let (a, b) = message.split_at(10);
        let mut bytes = record(22, a);
        bytes.extend(record(22, b));
        bytes.extend(record(22, &[14, 0, 0, 0]));
        let answer = read_answer(&mut bytes.as_slice(), ReadUntil::HelloDone).expect("answer");
        let hello = answer.hello.expect("hello");
        assert_eq!(hello.cipher_suite, 0xc02f);
        assert_eq!(hello.extension(ext::RENEGOTIATION_INFO), Some(&[0u8][..]));
        assert!(answer.hello_done);
    }

    #[test]
    fn tls13_version_comes_from_supported_versions() {
        let message = server_hello(0x0303, 0x1301, &[0, 43, 0, 2, 3, 4, 0, 51, 0, 2, 0, 29]);
        let bytes = record(22, &message);
        let answer = read_answer(&mut bytes.as_slice(), ReadUntil::HelloDone).expect("answer");
        let hello = answer.hello.expect("hello");
        assert_eq!(hello.version, 0x0304);
        assert_eq!(hello.key_share_group(), Some(29));
    }

    #[test]
    fn oversized_record_and_handshake_lengths_are_refused() {
        let mut bytes = vec![22, 3, 3, 0xff, 0xff];
        bytes.extend(vec![0; 100]);
        assert!(matches!(
            read_answer(&mut bytes.as_slice(), ReadUntil::HelloDone),
            Err(AnswerError::Limit(_))
        ));
        let bytes = record(22, &[11, 0xff, 0xff, 0xff]);
        assert!(matches!(
            read_answer(&mut bytes.as_slice(), ReadUntil::HelloDone),
            Err(AnswerError::Limit(_))
        ));
    }

    #[test]
    fn http_answer_is_not_tls() {
        let bytes = b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec();
        assert!(matches!(
            read_answer(&mut bytes.as_slice(), ReadUntil::HelloDone),
            Err(AnswerError::NotTls(_))
        ));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Garbage, and garbage behind a valid record header, never panics.
        #[test]
        fn garbage_answers_never_panic(
            prefix in proptest::sample::select(vec![vec![], vec![22u8, 3, 3], vec![22u8, 3, 3, 0, 40, 2, 0, 0, 36, 3, 3], vec![21u8, 3, 1, 0, 2]]),
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
        ) {
            let mut bytes = prefix;
            bytes.extend(tail);
            let _ = read_answer(&mut bytes.as_slice(), ReadUntil::HelloDone);
            let _ = read_answer(&mut bytes.as_slice(), ReadUntil::ServerHello);
        }

        /// Valid ServerHello framing with arbitrary extension bytes never panics.
        #[test]
        fn arbitrary_extensions_never_panic(
            extensions in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let bytes = record(22, &server_hello(0x0303, 0xc02f, &extensions));
            let _ = read_answer(&mut bytes.as_slice(), ReadUntil::HelloDone);
        }
    }
}
