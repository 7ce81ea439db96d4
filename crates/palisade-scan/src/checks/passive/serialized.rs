//! Serialized objects travelling through the client.
//!
//! What: query parameters, form fields (with their default values) and cookies whose value is
//! a serialized object: a Python pickle (protocol 2 to 5: base64 `gAJ`…`gAV`, e.g. `gASV`,
//! `gAN`), a Java serialization stream (`AC ED 00 05`: base64 `rO0AB`, or hexadecimal), a PHP
//! `serialize()` string (`O:4:"Cart":…` or `a:2:{…`), or an unencrypted ASP.NET ViewState
//! (base64 `/wE`). The value is decoded (base64 standard or URL-safe, hexadecimal, percent
//! encoding) and recognised by its binary header and, for pickles, the `STOP` opcode at the
//! end, not by a prefix alone. Found on the crawled pages: in the URL fetched, in links and
//! forms on the page, in `Set-Cookie`. Reported per endpoint and parameter; whether the server
//! deserializes what it gets back is for the active `deser` check to confirm.
//!
//! Why: an application that hands a serialized object to the client and deserializes what
//! comes back runs whatever object graph an attacker sends (remote code execution through
//! pickle `__reduce__` or Java/PHP gadget chains), unless it is authenticated (signed) first.
//!
//! Example: `<a href="/profile?data=gASVIQAAAAAAAAB9lCiMBG5hbWWU…">` → a pickled dict in `data`.
//!
//! References: CWE-502 (Deserialization of Untrusted Data); OWASP Deserialization Cheat
//! Sheet.

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, GeneralPurpose as Engine};
use regex::Regex;

use crate::checks::active::re;
use crate::checks::{Info, PassiveCheck};
use crate::extract;
use crate::finding::{Finding, Severity};
use crate::http::{Client, Exchange};
use crate::target::{Location, Target};

/// The check.
pub const CHECK: PassiveCheck = PassiveCheck {
    name: "serialized",
    run,
};

const PICKLE: Info = Info {
    id: "serialized.python_pickle",
    title: "Python pickle sent to the client",
    cwe: 502,
    severity: Severity::Medium,
    fix: "Never unpickle data from clients: send JSON (or an id of server-side state) instead; if a blob must round-trip, sign it (HMAC) and verify before decoding.",
};
const JAVA: Info = Info {
    id: "serialized.java",
    title: "Java serialized object sent to the client",
    cwe: 502,
    severity: Severity::Medium,
    fix: "Do not round-trip Java serialization through clients; use JSON with explicit types, or sign the blob and set an ObjectInputFilter allowlist.",
};
const PHP: Info = Info {
    id: "serialized.php",
    title: "PHP serialized data sent to the client",
    cwe: 502,
    severity: Severity::Medium,
    fix: "Use json_encode/json_decode for client data; never call unserialize() on it (or pass allowed_classes => false and sign it).",
};
const VIEWSTATE: Info = Info {
    id: "serialized.dotnet_viewstate",
    title: "Unencrypted ASP.NET ViewState",
    cwe: 502,
    severity: Severity::Low,
    fix: "Keep ViewState MAC validation on (never EnableViewStateMac=false), encrypt it (ViewStateEncryptionMode=Always) and keep the machine key secret.",
};

/// Shortest value examined.
const MIN_LEN: usize = 8;
/// Longest value decoded.
const MAX_LEN: usize = 64 * 1024;

static PHP_SERIALIZED: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"^(?:O:\d{1,4}:"[A-Za-z_\\][A-Za-z0-9_\\]{0,200}":\d{1,6}:\{|a:\d{1,6}:\{)"#)
});

/// The serialization format recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Python `pickle`.
    PythonPickle,
    /// `java.io.ObjectOutputStream`.
    Java,
    /// PHP `serialize()`.
    Php,
    /// ASP.NET ViewState (`LosFormatter`/`ObjectStateFormatter`).
    DotNetViewState,
}

impl Format {
    /// What the format is called in findings.
    pub fn describe(self) -> &'static str {
        match self {
            Format::PythonPickle => "Python pickle",
            Format::Java => "Java serialization stream",
            Format::Php => "PHP serialize() string",
            Format::DotNetViewState => ".NET ViewState",
        }
    }

    fn info(self) -> &'static Info {
        match self {
            Format::PythonPickle => &PICKLE,
            Format::Java => &JAVA,
            Format::Php => &PHP,
            Format::DotNetViewState => &VIEWSTATE,
        }
    }
}

/// How the object is encoded in the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The bytes as text (PHP).
    Raw,
    /// Percent-encoded text (PHP in a cookie).
    Percent,
    /// Base64; `url_safe` alphabet, `padded` with `=`.
    Base64 {
        /// `-_` instead of `+/`.
        url_safe: bool,
        /// Ends with `=` padding.
        padded: bool,
    },
    /// Hexadecimal.
    Hex,
}

/// A serialized object recognised in a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serialized {
    /// The format.
    pub format: Format,
    /// The encoding around it.
    pub encoding: Encoding,
    /// The decoded object.
    pub bytes: Vec<u8>,
}

impl Serialized {
    /// `bytes` in the same encoding as the recognised value.
    pub fn encode(&self, bytes: &[u8]) -> String {
        match self.encoding {
            Encoding::Raw => String::from_utf8_lossy(bytes).into_owned(),
            Encoding::Percent => {
                percent_encoding::percent_encode(bytes, percent_encoding::NON_ALPHANUMERIC)
                    .to_string()
            }
            Encoding::Base64 { url_safe, padded } => {
                let alphabet = if url_safe {
                    &base64::alphabet::URL_SAFE
                } else {
                    &base64::alphabet::STANDARD
                };
                GeneralPurpose::new(
                    alphabet,
                    GeneralPurposeConfig::new().with_encode_padding(padded),
                )
                .encode(bytes)
            }
            Encoding::Hex => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

fn lenient(alphabet: &base64::alphabet::Alphabet) -> Engine {
    GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}

/// The serialized object `value` carries, if any.
pub fn detect(value: &str) -> Option<Serialized> {
    let value = value.trim();
    if value.len() < MIN_LEN || value.len() > MAX_LEN {
        return None;
    }
    if PHP_SERIALIZED.is_match(value) {
        return Some(Serialized {
            format: Format::Php,
            encoding: Encoding::Raw,
            bytes: value.as_bytes().to_vec(),
        });
    }
    if value.contains('%') {
        let decoded: Vec<u8> = percent_encoding::percent_decode_str(value).collect();
        if PHP_SERIALIZED.is_match(&String::from_utf8_lossy(&decoded)) {
            return Some(Serialized {
                format: Format::Php,
                encoding: Encoding::Percent,
                bytes: decoded,
            });
        }
    }
    if value.len().is_multiple_of(2) && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        let bytes: Vec<u8> = (0..value.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&value[i..i + 2], 16).ok())
            .collect();
        return binary_format(&bytes).map(|format| Serialized {
            format,
            encoding: Encoding::Hex,
            bytes,
        });
    }
    let url_safe = value.contains(['-', '_']);
    let alphabet = if url_safe {
        &base64::alphabet::URL_SAFE
    } else {
        &base64::alphabet::STANDARD
    };
    let bytes = lenient(alphabet).decode(value).ok()?;
    binary_format(&bytes).map(|format| Serialized {
        format,
        encoding: Encoding::Base64 {
            url_safe,
            padded: value.ends_with('='),
        },
        bytes,
    })
}

/// Pickle (protocol 2–5 header and `STOP` at the end), Java stream magic, ViewState marker.
fn binary_format(bytes: &[u8]) -> Option<Format> {
    match bytes {
        [0x80, 2..=5, .., b'.'] => Some(Format::PythonPickle),
        [0xac, 0xed, 0x00, 0x05, ..] => Some(Format::Java),
        [0xff, 0x01, ..] => Some(Format::DotNetViewState),
        _ => None,
    }
}

fn run(client: &Client, exchange: &Exchange) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut report = |endpoint: &url::Url, method: &str, name: &str, value: &str, whence: &str| {
        let Some(found) = detect(value) else { return };
        let mut url = endpoint.clone();
        url.set_query(None);
        url.set_fragment(None);
        let mut finding = found.format.info().finding_at(
            client,
            url.as_str(),
            exchange,
            Some(name),
            format!("{whence}: {name}={}", crate::http::shorten(value, 120)),
            format!(
                "{name} carries a {} ({} bytes, {} encoded), found {whence} of {}",
                found.format.describe(),
                found.bytes.len(),
                match found.encoding {
                    Encoding::Raw => "not",
                    Encoding::Percent => "percent",
                    Encoding::Base64 { .. } => "base64",
                    Encoding::Hex => "hex",
                },
                exchange.request.url
            ),
        );
        finding.method = Some(method.to_owned());
        findings.push(finding);
    };
    let request = &exchange.request;
    for (name, value) in request.url.query_pairs() {
        report(
            &request.url,
            &request.method,
            &name,
            &value,
            "in the URL fetched",
        );
    }
    for (name, value) in extract::set_cookies(&exchange.headers) {
        report(&request.url, "GET", &name, &value, "in Set-Cookie");
    }
    if exchange.is_html() {
        let page = extract::html(&request.url, &exchange.body);
        for link in &page.links {
            for (name, value) in link.query_pairs() {
                report(link, "GET", &name, &value, "in a link");
            }
        }
        for form in &page.forms {
            for param in form
                .params
                .iter()
                .filter(|p| p.location != Location::Cookie)
            {
                report(
                    &form.url,
                    &form.method,
                    &param.name,
                    &param.value,
                    "in a form",
                );
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert(f.fingerprint()));
    findings
}

/// Does a target parameter carry a serialized object (for the active check)?
pub fn in_target(target: &Target, index: usize) -> Option<Serialized> {
    detect(&target.params.get(index)?.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    // pickle.dumps({"name": "guest"}, protocol=4) and protocol 2, base64.
    const PICKLE4: &str = "gASVEwAAAAAAAAB9lIwEbmFtZZSMBWd1ZXN0lHMu";
    const PICKLE2: &str = "gAJ9cQBYBAAAAG5hbWVxAVgFAAAAZ3Vlc3RxAnMu";

    #[test]
    fn formats_are_recognised_by_their_bytes() {
        let pickle = detect(PICKLE4).unwrap_or_else(|| panic!("pickle 4"));
        assert_eq!(pickle.format, Format::PythonPickle);
        assert_eq!(pickle.encode(&pickle.bytes), PICKLE4, "re-encoded as found");
        assert_eq!(
            detect(PICKLE2).map(|s| s.format),
            Some(Format::PythonPickle)
        );
        // pickle.dumps({"name": "guest", "x": ">>>???"}, protocol=4), URL-safe base64.
        let url_safe = detect("gASVIQAAAAAAAAB9lCiMBG5hbWWUjAVndWVzdJSMAXiUjAY-Pj4_Pz-UdS4=")
            .unwrap_or_else(|| panic!("url-safe pickle"));
        assert_eq!(
            url_safe.encoding,
            Encoding::Base64 {
                url_safe: true,
                padded: true
            }
        );
        assert_eq!(
            detect("rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA==").map(|s| s.format),
            Some(Format::Java)
        );
        let hex = detect("aced00057372001164").unwrap_or_else(|| panic!("java hex"));
        assert_eq!((hex.format, hex.encoding), (Format::Java, Encoding::Hex));
        assert_eq!(hex.encode(&hex.bytes), "aced00057372001164");
        let php = r#"O:4:"Cart":1:{s:5:"items";a:0:{}}"#;
        assert_eq!(detect(php).map(|s| s.format), Some(Format::Php));
        let encoded = detect("O%3A4%3A%22Cart%22%3A1%3A%7Bs%3A5%3A%22items%22%3Ba%3A0%3A%7B%7D%7D")
            .unwrap_or_else(|| panic!("percent-encoded php"));
        assert_eq!(encoded.encoding, Encoding::Percent);
        assert_eq!(
            detect("/wEPDwUKMTIzNDU2Nzg5MGRk").map(|s| s.format),
            Some(Format::DotNetViewState)
        );
    }

    #[test]
    fn look_alikes_are_not_serialized_objects() {
        for value in [
            "eyJuYW1lIjogImd1ZXN0In0=",     // base64 JSON
            "gASVnotreallyapickle",         // the prefix without a valid stream
            "gASVEwAAAAAAAAB9lIwEbmFtZZSM", // a pickle without its STOP opcode
            "rO0",
            "d41d8cd98f00b204e9800998ecf8427e",
            "Order: 4 items",
            "a:b:c",
        ] {
            assert_eq!(detect(value), None, "{value}");
        }
    }
}
