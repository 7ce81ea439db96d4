//! Server-side request forgery / remote inclusion detector.
//!
//! # What
//! URLs whose host is loopback, private (RFC 1918, ULA), link-local, "this
//! network", or a cloud metadata endpoint — including the spellings URL
//! parsers accept but filters miss: decimal (`2130706433`), octal (`0177.1`),
//! hex (`0x7f000001`, `0x7f.0.0.1`), short forms (`127.1`), IPv6 (`[::1]`,
//! `[::ffff:127.0.0.1]`, `[::ffff:7f00:1]`), `localhost` variants and
//! wildcard-DNS names that resolve to loopback (`127.0.0.1.nip.io`,
//! `localtest.me`). Also the schemes SSRF uses to talk to non-HTTP services:
//! `gopher://`, `dict://`, `file://`, `ldap://`, `tftp://`, `jar:`, `netdoc:`.
//!
//! # Why
//! A server fetching an attacker-chosen URL can reach internal services and
//! the metadata service holding cloud credentials. Developers paste
//! `http://localhost:3000` into prose, so a plain loopback/private URL fires
//! only when it *is* the value (starts it); obfuscated spellings, metadata
//! hosts and the dangerous schemes fire anywhere.
//!
//! # Gate
//! A dangerous scheme holds `:` (looked for only when the value holds every
//! byte class of some scheme); every other finding is a host after `//`. A
//! value with neither is skipped: bare addresses (`10.0.0.5`) are not URLs a
//! server fetches and never fired.
//!
//! # Example
//! `http://0x7f.1/admin` → `Ssrf`, fingerprint `obfuscated loopback`.
//!
//! # References
//! CWE-918; OWASP CRS REQUEST-934-APPLICATION-ATTACK-GENERIC (934110, 934190 SSRF),
//! REQUEST-931-APPLICATION-ATTACK-RFI (931100–931130).

use std::sync::LazyLock;

use crate::gate::Literals;
use crate::{AttackClass, ByteClasses, Detection};

/// Schemes that are suspicious in any user value.
static DANGEROUS_SCHEMES: LazyLock<Literals> = LazyLock::new(|| {
    Literals::any_case(&[
        "gopher://",
        "dict://",
        "file://",
        "ldap://",
        "ldaps://",
        "tftp://",
        "jar:http",
        "netdoc:/",
        "sftp://",
    ])
});

/// Host names that resolve to internal or metadata addresses.
const INTERNAL_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "ip6-localhost",
    "ip6-loopback",
    "metadata.google.internal",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
    "kubernetes.default",
    "kubernetes.default.svc",
    "localtest.me",
];

/// Host suffixes of wildcard DNS services and internal zones.
const INTERNAL_SUFFIXES: &[&str] = &[
    ".localhost",
    ".localtest.me",
    ".internal",
    ".local",
    ".svc.cluster.local",
];

/// Host suffixes of wildcard DNS services that embed an IP (`127.0.0.1.nip.io`).
const IP_EMBEDDING_SUFFIXES: &[&str] = &[".nip.io", ".xip.io", ".sslip.io", ".traefik.me"];

/// How a host was judged internal.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    /// Plain internal address or name (`127.0.0.1`, `localhost`, `10.0.0.5`).
    Plain,
    /// An obfuscated spelling, metadata endpoint or wildcard-DNS trick.
    Suspicious,
}

/// Inspects `input` and returns a detection when it holds an attack of this class.
pub fn detect(input: &[u8]) -> Option<Detection> {
    detect_gated(input, ByteClasses::of(input))
}

/// The gate of [`detect_gated`] (see the module doc): false when no value of
/// `classes` can hold an attack of this class.
pub(crate) fn may_fire(classes: ByteClasses) -> bool {
    // Every finding but a dangerous scheme is a host after `//`.
    classes.has_any(classes!(b"/")) || DANGEROUS_SCHEMES.may_occur(classes)
}

/// [`detect`] for an input whose byte classes are `classes` (or a subset of them).
pub fn detect_gated(input: &[u8], classes: ByteClasses) -> Option<Detection> {
    if !may_fire(classes) {
        return None;
    }
    if let Some(found) = DANGEROUS_SCHEMES.find(input, classes) {
        return Some(Detection::new(
            AttackClass::Ssrf,
            7,
            found.range(),
            "dangerous scheme",
        ));
    }
    // Every other finding is a host after `//`.
    if !classes.has_any(classes!(b"/")) {
        return None;
    }
    let value_start = value_start(input);
    let mut from = 0usize;
    while let Some(offset) = memchr::memmem::find(&input[from..], b"//") {
        let slashes = from + offset;
        from = slashes + 2;
        // Scheme (or protocol-relative `//host`).
        let scheme_start = input[..slashes]
            .iter()
            .rposition(|byte| {
                !(byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.' | b':'))
            })
            .map_or(0, |index| index + 1);
        let scheme = &input[scheme_start..slashes];
        if !(scheme.is_empty() || scheme.ends_with(b":")) {
            continue;
        }
        let authority_end = input[from..]
            .iter()
            .position(|byte| {
                matches!(
                    byte,
                    b'/' | b'?' | b'#' | b' ' | b'"' | b'\'' | b'<' | b'>' | b'\\' | b'\n' | b'\r'
                )
            })
            .map_or(input.len(), |index| from + index);
        let authority = &input[from..authority_end];
        // Drop userinfo (`http://expected.com@127.0.0.1`).
        let host_port = match authority.iter().rposition(|&byte| byte == b'@') {
            Some(index) => &authority[index + 1..],
            None => authority,
        };
        let Some(verdict) = classify_host(strip_port(host_port)) else {
            continue;
        };
        let is_whole_value = scheme_start <= value_start;
        if verdict == Verdict::Suspicious || is_whole_value {
            let fingerprint = if verdict == Verdict::Suspicious {
                "obfuscated or metadata host"
            } else {
                "internal host"
            };
            return Some(Detection::new(
                AttackClass::Ssrf,
                6,
                scheme_start..authority_end,
                fingerprint,
            ));
        }
    }
    None
}

/// Where the value proper starts: after blanks and quotes, and after a
/// `name=` prefix (`url=http://…` as one parameter string).
fn value_start(input: &[u8]) -> usize {
    let parameter = input
        .iter()
        .take(64)
        .position(|&byte| byte == b'=')
        .filter(|&index| {
            index > 0
                && input[..index].iter().all(|byte| {
                    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.' | b'[' | b']')
                })
        })
        .map_or(0, |index| index + 1);
    parameter
        + input[parameter..]
            .iter()
            .position(|byte| !byte.is_ascii_whitespace() && !matches!(byte, b'"' | b'\''))
            .unwrap_or(0)
}

fn strip_port(host_port: &[u8]) -> &[u8] {
    if host_port.first() == Some(&b'[') {
        return match host_port.iter().position(|&byte| byte == b']') {
            Some(index) => &host_port[..=index],
            None => host_port,
        };
    }
    match host_port.iter().rposition(|&byte| byte == b':') {
        Some(index) if host_port[index + 1..].iter().all(u8::is_ascii_digit) => &host_port[..index],
        _ => host_port,
    }
}

fn classify_host(host: &[u8]) -> Option<Verdict> {
    let host = host.strip_suffix(b".").unwrap_or(host);
    if host.is_empty() || host.len() > 253 {
        return None;
    }
    if host.first() == Some(&b'[') {
        return classify_ipv6(host.strip_prefix(b"[")?.strip_suffix(b"]")?);
    }
    let mut lower = [0u8; 253];
    let lower = &mut lower[..host.len()];
    lower.copy_from_slice(host);
    lower.make_ascii_lowercase();
    let lower: &[u8] = lower;
    if INTERNAL_NAMES.iter().any(|name| name.as_bytes() == lower) {
        let metadata = lower.starts_with(b"metadata")
            || lower.starts_with(b"instance-data")
            || lower.starts_with(b"kubernetes");
        return Some(if metadata || lower == b"localtest.me" {
            Verdict::Suspicious
        } else {
            Verdict::Plain
        });
    }
    for suffix in IP_EMBEDDING_SUFFIXES {
        if let Some(prefix) = lower.strip_suffix(suffix.as_bytes()) {
            let embedded = prefix.rsplit(|&byte| byte == b'-' || byte == b'.').count() >= 4;
            if embedded
                && (prefix.starts_with(b"127")
                    || prefix.starts_with(b"10")
                    || prefix.starts_with(b"169.254")
                    || prefix.starts_with(b"192.168"))
            {
                return Some(Verdict::Suspicious);
            }
        }
    }
    if INTERNAL_SUFFIXES
        .iter()
        .any(|suffix| lower.ends_with(suffix.as_bytes()))
    {
        return Some(Verdict::Plain);
    }
    let (address, canonical) = parse_ipv4(lower)?;
    let verdict = classify_ipv4(address)?;
    Some(if canonical && verdict == Verdict::Plain {
        Verdict::Plain
    } else {
        Verdict::Suspicious
    })
}

/// Parses an IPv4 host the way `inet_aton` does: 1–4 parts, each decimal,
/// octal (leading 0) or hex (0x). Returns the address and whether it was
/// written canonically (four decimal parts).
fn parse_ipv4(host: &[u8]) -> Option<(u32, bool)> {
    let mut parts = [0u64; 4];
    let mut count = 0usize;
    let mut canonical = true;
    for part in host.split(|&byte| byte == b'.') {
        if count == 4 || part.is_empty() {
            return None;
        }
        let (digits, radix) = if let Some(hex) = part.strip_prefix(b"0x") {
            canonical = false;
            (hex, 16)
        } else if part.len() > 1 && part[0] == b'0' {
            canonical = false;
            (&part[1..], 8)
        } else {
            (part, 10)
        };
        if digits.len() > 12 {
            return None;
        }
        let mut value = 0u64;
        for &byte in digits {
            value = value * radix + u64::from((byte as char).to_digit(radix as u32)?);
        }
        parts[count] = value;
        count += 1;
    }
    canonical &= count == 4;
    let address = match count {
        1 => parts[0],
        2 if parts[0] <= 0xFF => (parts[0] << 24) | parts[1].min(0xFF_FFFF + 1),
        3 if parts[0] <= 0xFF && parts[1] <= 0xFF => {
            (parts[0] << 24) | (parts[1] << 16) | parts[2].min(0x1_0000)
        }
        4 if parts.iter().all(|&part| part <= 0xFF) => {
            (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]
        }
        _ => return None,
    };
    u32::try_from(address)
        .ok()
        .map(|address| (address, canonical))
}

fn classify_ipv4(address: u32) -> Option<Verdict> {
    let [a, b, c, d] = address.to_be_bytes();
    match (a, b) {
        (169, 254) if c == 169 && d == 254 => Some(Verdict::Suspicious),
        (100, 100) if c == 100 && d == 200 => Some(Verdict::Suspicious),
        (127, _) | (10, _) | (0, _) | (192, 168) | (169, 254) => Some(Verdict::Plain),
        (172, 16..=31) => Some(Verdict::Plain),
        _ => None,
    }
}

fn classify_ipv6(host: &[u8]) -> Option<Verdict> {
    let host = match host.iter().position(|&byte| byte == b'%') {
        Some(index) => &host[..index],
        None => host,
    };
    let text = std::str::from_utf8(host).ok()?;
    let address: std::net::Ipv6Addr = text.parse().ok()?;
    if address.is_loopback() || address.is_unspecified() {
        return Some(Verdict::Plain);
    }
    if let Some(mapped) = address.to_ipv4_mapped() {
        return classify_ipv4(u32::from(mapped)).map(|_| Verdict::Suspicious);
    }
    let segments = address.segments();
    if segments[0] & 0xFE00 == 0xFC00 || segments[0] & 0xFFC0 == 0xFE80 {
        // fd00:ec2::254 is the AWS IMDS IPv6 endpoint.
        return Some(if segments[0] == 0xFD00 && segments[1] == 0x0EC2 {
            Verdict::Suspicious
        } else {
            Verdict::Plain
        });
    }
    if segments[..6] == [0, 0, 0, 0, 0, 0] {
        return classify_ipv4(u32::from(segments[6]) << 16 | u32::from(segments[7]))
            .map(|_| Verdict::Suspicious);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn detects_internal_targets() {
        for payload in [
            "http://127.0.0.1/admin",
            "http://169.254.169.254/latest/meta-data/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.1:8080/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "gopher://127.0.0.1:6379/_INFO",
            "dict://localhost:11211/stat",
            "http://evil.com@localhost/",
            "https://metadata.google.internal/computeMetadata/v1/",
            "http://127.0.0.1.nip.io/",
            "see http://0x7f.0.0.1/x in the text",
            "//10.0.0.1/share",
        ] {
            assert!(detect(payload.as_bytes()).is_some(), "missed {payload:?}");
        }
    }

    #[test]
    fn benign_urls_are_quiet() {
        for text in [
            "https://example.com/path?q=1",
            "run it and open http://localhost:3000 in your browser",
            "http://8.8.8.8/",
            "my ip is 10.0.0.1",
            "https://www.google.com/search?q=127.0.0.1",
        ] {
            assert_eq!(detect(text.as_bytes()), None, "false positive on {text:?}");
        }
    }
}
