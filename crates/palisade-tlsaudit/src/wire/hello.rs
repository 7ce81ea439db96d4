//! Hand-built ClientHello messages.
//!
//! rustls refuses to speak SSLv3, TLS 1.0 and 1.1 and offers only its own cipher suites, so the
//! probes write their ClientHello byte by byte: the protocol version, the exact cipher-suite list,
//! the groups, key shares and extensions each probe needs. Nothing here is encrypted; the audit
//! never completes a handshake over these connections.

use crate::protocol::Protocol;

/// Extension type numbers from the IANA TLS ExtensionType registry.
pub(crate) mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const STATUS_REQUEST: u16 = 5;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const HEARTBEAT: u16 = 15;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    pub const KEY_SHARE: u16 = 51;
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// Named groups with a key share the probes can send: x25519 and secp256r1.
pub(crate) const GROUP_X25519: u16 = 29;
pub(crate) const GROUP_SECP256R1: u16 = 23;

/// X25519 base point (u = 9): a valid public key whose private key nobody needs.
fn x25519_share() -> Vec<u8> {
    let mut key = vec![0u8; 32];
    key[0] = 9;
    key
}

/// The secp256r1 generator point, uncompressed: a valid public key.
const P256_GENERATOR: [u8; 65] = [
    0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40,
    0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2,
    0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e,
    0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51,
    0xf5,
];

/// Signature schemes offered in TLS 1.2 and 1.3 hellos (ECDSA, RSA-PSS, RSA PKCS#1, EdDSA, and
/// the SHA-1 forms older servers need).
const SIGNATURE_SCHEMES: [u16; 16] = [
    0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0807, 0x0808, 0x0401,
    0x0501, 0x0601, 0x0203, 0x0201,
];

/// Which key shares a TLS 1.3 hello carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyShares {
    /// x25519 and secp256r1 shares.
    Standard,
    /// An empty `client_shares` list: the server answers with a HelloRetryRequest naming the
    /// group it picks from `supported_groups` (RFC 8446 §4.2.8), which is how groups are listed.
    Empty,
}

/// Everything one probe's ClientHello says.
#[derive(Debug, Clone)]
pub(crate) struct ClientHelloSpec {
    pub protocol: Protocol,
    pub cipher_suites: Vec<u16>,
    pub groups: Vec<u16>,
    pub key_shares: KeyShares,
    /// DNS name for the server_name extension (never an IP address, RFC 6066 §3).
    pub server_name: Option<String>,
    /// Offer DEFLATE before null compression (TLS ≤ 1.2).
    pub offer_deflate: bool,
    pub status_request: bool,
    pub heartbeat: bool,
    pub renegotiation_info: bool,
}

impl ClientHelloSpec {
    /// A hello for `protocol` offering `cipher_suites` with the usual extensions.
    pub fn new(protocol: Protocol, cipher_suites: Vec<u16>, server_name: Option<String>) -> Self {
        Self {
            protocol,
            cipher_suites,
            groups: crate::groups::OFFERED_GROUPS.iter().map(|g| g.id).collect(),
            key_shares: KeyShares::Standard,
            server_name,
            offer_deflate: false,
            status_request: true,
            heartbeat: false,
            renegotiation_info: true,
        }
    }

    /// The complete TLS record (header + handshake message) to write on the socket.
    pub fn to_record(&self) -> Vec<u8> {
        let body = self.handshake_body();
        let mut handshake = Vec::with_capacity(body.len() + 4);
        handshake.push(0x01); // client_hello
        push_u24(&mut handshake, body.len());
        handshake.extend_from_slice(&body);

        let mut record = Vec::with_capacity(handshake.len() + 5);
        record.push(0x16); // handshake
        // The record layer says TLS 1.0 for every hello above SSLv3, as browsers do.
        let record_version: u16 = if self.protocol == Protocol::Ssl3 {
            0x0300
        } else {
            0x0301
        };
        record.extend_from_slice(&record_version.to_be_bytes());
        push_u16(&mut record, handshake.len());
        record.extend_from_slice(&handshake);
        record
    }

    fn handshake_body(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(512);
        body.extend_from_slice(&self.protocol.legacy_hello_version().to_be_bytes());
        body.extend_from_slice(&rand::random::<[u8; 32]>());
        // A 32-byte session id: TLS 1.3 middlebox compatibility mode, harmless elsewhere.
        body.push(32);
        body.extend_from_slice(&rand::random::<[u8; 32]>());

        let mut suites = self.cipher_suites.clone();
        if self.protocol == Protocol::Ssl3 {
            suites.push(0x00ff); // TLS_EMPTY_RENEGOTIATION_INFO_SCSV: SSLv3 has no extensions
        }
        push_u16(&mut body, suites.len() * 2);
        for suite in &suites {
            body.extend_from_slice(&suite.to_be_bytes());
        }

        let compression: &[u8] = if self.offer_deflate && self.protocol != Protocol::Tls13 {
            &[1, 0]
        } else {
            &[0]
        };
        body.push(compression.len() as u8);
        body.extend_from_slice(compression);

        if self.protocol != Protocol::Ssl3 {
            let extensions = self.extensions();
            push_u16(&mut body, extensions.len());
            body.extend_from_slice(&extensions);
        }
        body
    }

    fn extensions(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        if let Some(name) = &self.server_name {
            let mut data = Vec::with_capacity(name.len() + 5);
            push_u16(&mut data, name.len() + 3);
            data.push(0); // host_name
            push_u16(&mut data, name.len());
            data.extend_from_slice(name.as_bytes());
            push_extension(&mut out, ext::SERVER_NAME, &data);
        }
        if self.status_request {
            // status_type ocsp, empty responder_id_list, empty request_extensions
            push_extension(&mut out, ext::STATUS_REQUEST, &[1, 0, 0, 0, 0]);
        }
        if !self.groups.is_empty() {
            let mut data = Vec::with_capacity(self.groups.len() * 2 + 2);
            push_u16(&mut data, self.groups.len() * 2);
            for group in &self.groups {
                data.extend_from_slice(&group.to_be_bytes());
            }
            push_extension(&mut out, ext::SUPPORTED_GROUPS, &data);
            push_extension(&mut out, ext::EC_POINT_FORMATS, &[1, 0]);
        }
        if self.protocol >= Protocol::Tls12 {
            let mut data = Vec::with_capacity(SIGNATURE_SCHEMES.len() * 2 + 2);
            push_u16(&mut data, SIGNATURE_SCHEMES.len() * 2);
            for scheme in SIGNATURE_SCHEMES {
                data.extend_from_slice(&scheme.to_be_bytes());
            }
            push_extension(&mut out, ext::SIGNATURE_ALGORITHMS, &data);
        }
        if self.heartbeat {
            push_extension(&mut out, ext::HEARTBEAT, &[1]); // peer_allowed_to_send
        }
        push_extension(&mut out, ext::EXTENDED_MASTER_SECRET, &[]);
        if self.protocol == Protocol::Tls13 {
            push_extension(&mut out, ext::SUPPORTED_VERSIONS, &[2, 0x03, 0x04]);
            push_extension(&mut out, ext::PSK_KEY_EXCHANGE_MODES, &[1, 1]);
            let mut shares = Vec::new();
            if self.key_shares == KeyShares::Standard {
                let offered = [
                    (GROUP_X25519, x25519_share()),
                    (GROUP_SECP256R1, P256_GENERATOR.to_vec()),
                ];
                for (group, key) in offered {
                    if self.groups.contains(&group) {
                        shares.extend_from_slice(&group.to_be_bytes());
                        push_u16(&mut shares, key.len());
                        shares.extend_from_slice(&key);
                    }
                }
            }
            let mut data = Vec::with_capacity(shares.len() + 2);
            push_u16(&mut data, shares.len());
            data.extend_from_slice(&shares);
            push_extension(&mut out, ext::KEY_SHARE, &data);
        }
        if self.renegotiation_info {
            push_extension(&mut out, ext::RENEGOTIATION_INFO, &[0]);
        }
        out
    }
}

fn push_u16(out: &mut Vec<u8>, value: usize) {
    // Every length written here is bounded by the callers (suite and group lists, one name).
    out.extend_from_slice(&(value.min(usize::from(u16::MAX)) as u16).to_be_bytes());
}

fn push_u24(out: &mut Vec<u8>, value: usize) {
    let value = value.min(0x00ff_ffff) as u32;
    out.extend_from_slice(&value.to_be_bytes()[1..]);
}

fn push_extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    push_u16(out, data.len());
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_parses_back_as_client_hello_with_our_suites() {
        let spec = ClientHelloSpec::new(
            Protocol::Tls12,
            vec![0xc02f, 0x009c],
            Some("example.test".into()),
        );
        let record = spec.to_record();
        let (rest, plaintext) = tls_parser::parse_tls_plaintext(&record).expect("parses");
        assert!(rest.is_empty());
        let Some(tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(
            hello,
        ))) = plaintext.msg.first()
        else {
            panic!("not a client hello: {plaintext:?}");
        };
        assert_eq!(hello.version, tls_parser::TlsVersion::Tls12);
        let suites: Vec<u16> = hello.ciphers.iter().map(|c| c.0).collect();
        assert_eq!(suites, vec![0xc02f, 0x009c]);
        let extensions = hello.ext.expect("extensions");
        let (_, parsed) = tls_parser::parse_tls_client_hello_extensions(extensions).expect("ext");
        assert!(
            parsed
                .iter()
                .any(|e| matches!(e, tls_parser::TlsExtension::SNI(_)))
        );
    }

    #[test]
    fn sslv3_hello_has_no_extensions_and_the_scsv() {
        let spec = ClientHelloSpec::new(Protocol::Ssl3, vec![0x000a], None);
        let record = spec.to_record();
        assert_eq!(&record[1..3], &[0x03, 0x00]);
        let (_, plaintext) = tls_parser::parse_tls_plaintext(&record).expect("parses");
        let Some(tls_parser::TlsMessage::Handshake(tls_parser::TlsMessageHandshake::ClientHello(
            hello,
        ))) = plaintext.msg.first()
        else {
            panic!("not a client hello");
        };
        assert!(hello.ext.is_none());
        assert_eq!(hello.ciphers.last().map(|c| c.0), Some(0x00ff));
    }
}
