//! Key-exchange group enumeration and the size of finite-field DHE parameters.
//!
//! TLS 1.3: a hello with an empty key_share list makes the server name, in a HelloRetryRequest,
//! the group it prefers among `supported_groups`; remove it and ask again. TLS ≤ 1.2: offer only
//! the accepted ECDHE suites and read the named curve from the ServerKeyExchange.

use crate::probe::Prober;
use crate::protocol::Protocol;
use crate::report::{Group, GroupSupport};
use crate::wire::answer::ReadUntil;
use crate::wire::hello::KeyShares;

/// A group from the IANA TLS Supported Groups registry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupName {
    pub id: u16,
    /// IANA name (secp256r1, x25519, ffdhe2048, ...).
    pub name: &'static str,
}

/// The groups offered and enumerated: the registry's elliptic curves and finite-field groups.
pub(crate) const OFFERED_GROUPS: &[GroupName] = &[
    GroupName {
        id: 29,
        name: "x25519",
    },
    GroupName {
        id: 23,
        name: "secp256r1",
    },
    GroupName {
        id: 24,
        name: "secp384r1",
    },
    GroupName {
        id: 25,
        name: "secp521r1",
    },
    GroupName {
        id: 30,
        name: "x448",
    },
    GroupName {
        id: 26,
        name: "brainpoolP256r1",
    },
    GroupName {
        id: 27,
        name: "brainpoolP384r1",
    },
    GroupName {
        id: 28,
        name: "brainpoolP512r1",
    },
    GroupName {
        id: 31,
        name: "brainpoolP256r1tls13",
    },
    GroupName {
        id: 32,
        name: "brainpoolP384r1tls13",
    },
    GroupName {
        id: 33,
        name: "brainpoolP512r1tls13",
    },
    GroupName {
        id: 22,
        name: "secp256k1",
    },
    GroupName {
        id: 21,
        name: "secp224r1",
    },
    GroupName {
        id: 20,
        name: "secp224k1",
    },
    GroupName {
        id: 19,
        name: "secp192r1",
    },
    GroupName {
        id: 18,
        name: "secp192k1",
    },
    GroupName {
        id: 17,
        name: "secp160r2",
    },
    GroupName {
        id: 16,
        name: "secp160r1",
    },
    GroupName {
        id: 15,
        name: "secp160k1",
    },
    GroupName {
        id: 14,
        name: "sect571r1",
    },
    GroupName {
        id: 13,
        name: "sect571k1",
    },
    GroupName {
        id: 12,
        name: "sect409r1",
    },
    GroupName {
        id: 11,
        name: "sect409k1",
    },
    GroupName {
        id: 10,
        name: "sect283r1",
    },
    GroupName {
        id: 9,
        name: "sect283k1",
    },
    GroupName {
        id: 8,
        name: "sect239k1",
    },
    GroupName {
        id: 7,
        name: "sect233r1",
    },
    GroupName {
        id: 6,
        name: "sect233k1",
    },
    GroupName {
        id: 5,
        name: "sect193r2",
    },
    GroupName {
        id: 4,
        name: "sect193r1",
    },
    GroupName {
        id: 3,
        name: "sect163r2",
    },
    GroupName {
        id: 2,
        name: "sect163r1",
    },
    GroupName {
        id: 1,
        name: "sect163k1",
    },
    GroupName {
        id: 256,
        name: "ffdhe2048",
    },
    GroupName {
        id: 257,
        name: "ffdhe3072",
    },
    GroupName {
        id: 258,
        name: "ffdhe4096",
    },
    GroupName {
        id: 259,
        name: "ffdhe6144",
    },
    GroupName {
        id: 260,
        name: "ffdhe8192",
    },
];

pub(crate) fn group(id: u16) -> Group {
    let name = OFFERED_GROUPS
        .iter()
        .find(|g| g.id == id)
        .map(|g| g.name.to_string())
        .unwrap_or_else(|| format!("0x{id:04x}"));
    Group { id, name }
}

/// Enumerate groups with TLS 1.3 HelloRetryRequests.
pub(crate) fn enumerate_tls13(prober: &Prober<'_>, notes: &mut Vec<String>) -> GroupSupport {
    let suites = crate::ciphers::candidate_suites(Protocol::Tls13);
    let mut remaining: Vec<u16> = OFFERED_GROUPS.iter().map(|g| g.id).collect();
    let mut found = Vec::new();
    while !remaining.is_empty() {
        let mut spec = prober.hello(Protocol::Tls13, suites.clone());
        spec.groups = remaining.clone();
        spec.key_shares = KeyShares::Empty;
        let Ok(answer) = prober.ask(&spec, ReadUntil::ServerHello) else {
            break;
        };
        let Some(chosen) = answer.hello.and_then(|h| h.key_share_group()) else {
            break;
        };
        if !remaining.contains(&chosen) {
            notes.push(format!(
                "TLSv1.3: server asked for group 0x{chosen:04x}, which was not offered"
            ));
            break;
        }
        found.push(group(chosen));
        remaining.retain(|g| *g != chosen);
    }
    GroupSupport {
        protocol: Protocol::Tls13,
        groups: found,
    }
}

/// Enumerate named curves of TLS ≤ 1.2 ECDHE from the ServerKeyExchange.
pub(crate) fn enumerate_ecdhe(
    prober: &Prober<'_>,
    protocol: Protocol,
    ecdhe_suites: Vec<u16>,
    notes: &mut Vec<String>,
) -> GroupSupport {
    // Finite-field ids mean nothing to ECDHE suites in TLS ≤ 1.2.
    let mut remaining: Vec<u16> = OFFERED_GROUPS
        .iter()
        .map(|g| g.id)
        .filter(|id| *id < 256)
        .collect();
    let mut found = Vec::new();
    while !remaining.is_empty() && !ecdhe_suites.is_empty() {
        let mut spec = prober.hello(protocol, ecdhe_suites.clone());
        spec.groups = remaining.clone();
        let Ok(answer) = prober.ask(&spec, ReadUntil::HelloDone) else {
            break;
        };
        let Some(params) = answer.server_key_exchange else {
            break;
        };
        // ECParameters: curve_type named_curve (3), NamedCurve (RFC 8422 §5.4)
        let chosen = match params.as_slice() {
            [3, hi, lo, ..] => u16::from_be_bytes([*hi, *lo]),
            _ => break,
        };
        if !remaining.contains(&chosen) {
            notes.push(format!(
                "{protocol}: server used curve 0x{chosen:04x}, which was not offered"
            ));
            break;
        }
        found.push(group(chosen));
        remaining.retain(|g| *g != chosen);
    }
    GroupSupport {
        protocol,
        groups: found,
    }
}

/// Size in bits of the DH prime the server uses with the (TLS ≤ 1.2) DHE suites `dhe_suites`,
/// read from the ServerKeyExchange's ServerDHParams (RFC 5246 §7.4.3: dh_p is the first field).
pub(crate) fn dhe_prime_bits(
    prober: &Prober<'_>,
    protocol: Protocol,
    dhe_suites: Vec<u16>,
) -> Option<u32> {
    let spec = prober.hello(protocol, dhe_suites);
    let answer = prober.ask(&spec, ReadUntil::HelloDone).ok()?;
    prime_bits(&answer.server_key_exchange?)
}

/// Bits of the big-endian `dh_p` at the start of ServerDHParams.
fn prime_bits(params: &[u8]) -> Option<u32> {
    let (len, rest) = params.split_first_chunk::<2>()?;
    let prime = rest.get(..usize::from(u16::from_be_bytes(*len)))?;
    let start = prime.iter().position(|b| *b != 0)?;
    let significant = &prime[start..];
    let leading_zero_bits = significant.first().map_or(0, |b| b.leading_zeros());
    Some(u32::try_from(significant.len()).ok()? * 8 - leading_zero_bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prime_bits_skips_leading_zeros() {
        let mut params = vec![0, 129, 0];
        params.extend([0xff; 128]);
        params.extend([0, 1, 2]); // dh_g
        assert_eq!(prime_bits(&params), Some(1024));
        assert_eq!(prime_bits(&[0, 2, 0x01, 0x00]), Some(9));
        assert_eq!(prime_bits(&[0, 5, 1]), None, "truncated");
        assert_eq!(prime_bits(&[]), None);
    }
}
