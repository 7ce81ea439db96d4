//! CRLF / HTTP response-splitting and header injection detector.
//!
//! # What
//! A line break (CR, LF, or the Unicode characters U+560A/U+560D whose low
//! bytes some stacks truncate to LF/CR) followed by an HTTP header name that
//! matters to browsers or proxies (`Set-Cookie:`, `Location:`,
//! `Content-Type:`, `Content-Length:`, `Access-Control-*`, `Refresh:`, …), a
//! status line (`HTTP/1.1 200`), or a blank line followed by a body.
//!
//! # Why
//! Values reflected into response headers (redirect targets, cookies,
//! filenames) let an attacker split the response, set cookies, or inject a
//! body (XSS, cache poisoning). Decoding `%0d%0a` is done by
//! [`crate::normalize`].
//!
//! # Gate
//! Every pattern needs a line break (CR, LF, or the `0xE5` lead byte of
//! U+560A/U+560D) and, after it, a header's `:`, a status line's `/`
//! (`HTTP/1.1`) or a body's `<`; a value without both is skipped.
//!
//! # Example
//! `/home%0d%0aSet-Cookie:%20session=attacker` → `Crlf`, fingerprint `\n set-cookie:`.
//!
//! # References
//! CWE-93, CWE-113; OWASP CRS REQUEST-921-PROTOCOL-ATTACK (921120, 921130,
//! 921150, 921160 header injection / response splitting).

use std::sync::LazyLock;

use crate::{AttackClass, ByteClasses, Detection};

/// A line break, or the lead byte of U+560A/U+560D.
const LINE_BREAK: ByteClasses = ByteClasses::bytes(b"\r\n\xe5");
/// What every pattern needs after the break: `:`, `/` or `<`.
const AFTER_BREAK: ByteClasses = ByteClasses::bytes(b":/<");

static HEADER_AFTER_BREAK: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    crate::regex(concat!(
        r"(?i)(?:\r\n?|\n|\xe5\x98[\x8a\x8d])[ \t]*(?:",
        r"set-cookie|set-cookie2|location|content-type|content-length|content-disposition|",
        r"content-security-policy|content-encoding|transfer-encoding|refresh|x-xss-protection|",
        r"access-control-allow-[a-z-]+|x-forwarded-(?:for|host|proto)|x-original-url|x-rewrite-url|",
        r"cache-control|strict-transport-security|x-frame-options|x-content-type-options|",
        r"connection|upgrade|host|cookie|link|server|expires|pragma|last-modified|etag|vary|",
        r"x-[a-z0-9-]{1,40}",
        r")[ \t]*:|",
        r"(?:\r\n?|\n)[ \t]*http/[0-9.]+\s+[0-9]{3}|",
        r"\r\n\r\n[ \t]*<",
    ))
});

/// Inspects `input` and returns a detection when it holds an attack of this class.
pub fn detect(input: &[u8]) -> Option<Detection> {
    detect_gated(input, ByteClasses::of(input))
}

/// The gate of [`detect_gated`] (see the module doc): false when no value of
/// `classes` can hold an attack of this class.
pub(crate) fn may_fire(classes: ByteClasses) -> bool {
    classes.has_any(LINE_BREAK) && classes.has_any(AFTER_BREAK)
}

/// [`detect`] for an input whose byte classes are `classes` (or a subset of them).
pub fn detect_gated(input: &[u8], classes: ByteClasses) -> Option<Detection> {
    if !may_fire(classes) {
        return None;
    }
    let found = HEADER_AFTER_BREAK.find(input)?;
    Some(Detection::new(
        AttackClass::Crlf,
        7,
        found.range(),
        "line break + header",
    ))
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn detects_header_injection() {
        for payload in [
            "/home\r\nSet-Cookie: session=attacker",
            "x\nLocation: http://evil.example/",
            "en\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK",
            "a\r\n\r\n<script>alert(1)</script>",
            "/\u{560a}\u{560d}Set-Cookie:x=1",
            "foo\rX-Injected: 1",
        ] {
            assert!(detect(payload.as_bytes()).is_some(), "missed {payload:?}");
        }
    }

    #[test]
    fn multi_line_prose_is_quiet() {
        for text in [
            "Dear team,\r\nthanks for the quick delivery.\r\nBest, Ana",
            "Line one\nNote: line two",
            "Ingredients:\n- flour\n- sugar",
        ] {
            assert_eq!(detect(text.as_bytes()), None, "false positive on {text:?}");
        }
    }
}
