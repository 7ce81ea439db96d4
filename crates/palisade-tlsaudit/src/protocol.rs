//! Protocol versions the audit probes, SSLv3 to TLS 1.3.

use serde::Serialize;

/// A protocol version, ordered oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Protocol {
    #[serde(rename = "SSLv3")]
    Ssl3,
    #[serde(rename = "TLSv1.0")]
    Tls10,
    #[serde(rename = "TLSv1.1")]
    Tls11,
    #[serde(rename = "TLSv1.2")]
    Tls12,
    #[serde(rename = "TLSv1.3")]
    Tls13,
}

impl Protocol {
    /// Every probed version, oldest first.
    pub const ALL: [Protocol; 5] = [
        Protocol::Ssl3,
        Protocol::Tls10,
        Protocol::Tls11,
        Protocol::Tls12,
        Protocol::Tls13,
    ];

    /// The version number on the wire (`supported_versions` value for TLS 1.3).
    pub fn wire_version(self) -> u16 {
        match self {
            Protocol::Ssl3 => 0x0300,
            Protocol::Tls10 => 0x0301,
            Protocol::Tls11 => 0x0302,
            Protocol::Tls12 => 0x0303,
            Protocol::Tls13 => 0x0304,
        }
    }

    /// The `client_version` field of the ClientHello (TLS 1.3 keeps 1.2 there, RFC 8446 §4.1.2).
    pub fn legacy_hello_version(self) -> u16 {
        match self {
            Protocol::Tls13 => 0x0303,
            other => other.wire_version(),
        }
    }

    /// The version a wire number names, if it is one of ours.
    pub fn from_wire(version: u16) -> Option<Protocol> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.wire_version() == version)
    }

    /// Display name, as sslyze and OpenSSL spell it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ssl3 => "SSLv3",
            Protocol::Tls10 => "TLSv1.0",
            Protocol::Tls11 => "TLSv1.1",
            Protocol::Tls12 => "TLSv1.2",
            Protocol::Tls13 => "TLSv1.3",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
