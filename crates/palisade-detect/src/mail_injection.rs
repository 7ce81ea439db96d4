//! Mail (SMTP/IMAP) header injection detector.
//!
//! # What
//! A line break followed by a mail header that adds recipients or rewrites
//! the message: `To:`, `Cc:`, `Bcc:`, `From:`, `Reply-To:` with an address,
//! `Subject:` in a value that also holds an address, `Content-Type:` with a
//! MIME type, `MIME-Version:`, `Content-Transfer-Encoding:`; also SMTP verbs
//! after a break (`RCPT TO:`, `MAIL FROM:`, `DATA`).
//!
//! # Why
//! Contact forms that copy a field into the headers of a message sent with
//! `mail()` become open relays for spam and phishing.
//!
//! # Gate
//! Every pattern is a line break followed by a header and its `:`; a value
//! without a CR or LF and a `:` is skipped.
//!
//! # Example
//! `victim@example.com%0aBcc:spam@attacker.example` → `MailInjection`.
//!
//! # References
//! CWE-93, CWE-88; OWASP CRS REQUEST-921 (921 header injection), OWASP
//! Testing Guide WSTG-INPV-10 (IMAP/SMTP injection).

use std::sync::LazyLock;

use crate::{AttackClass, ByteClasses, Detection};

static MAIL_HEADER: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    crate::regex(concat!(
        r"(?i)(?:\r\n?|\n)[ \t]*(?:",
        r"(?:to|cc|bcc|from|reply-to|sender|return-path)[ \t]*:[^\r\n]{0,200}@|",
        r"content-type[ \t]*:[ \t]*[a-z]+/[a-z]|",
        r"mime-version[ \t]*:|content-transfer-encoding[ \t]*:|",
        r"(?:rcpt[ \t]+to|mail[ \t]+from)[ \t]*:",
        r")",
    ))
});

static SUBJECT: LazyLock<regex::bytes::Regex> =
    LazyLock::new(|| crate::regex(r"(?i)@[^\r\n]{0,200}(?:\r\n?|\n)[ \t]*subject[ \t]*:"));

/// Inspects `input` and returns a detection when it holds an attack of this class.
pub fn detect(input: &[u8]) -> Option<Detection> {
    detect_gated(input, ByteClasses::of(input))
}

/// The gate of [`detect_gated`] (see the module doc): false when no value of
/// `classes` can hold an attack of this class.
pub(crate) fn may_fire(classes: ByteClasses) -> bool {
    classes.has_any(classes!(b"\r\n")) && classes.has_any(classes!(b":"))
}

/// [`detect`] for an input whose byte classes are `classes` (or a subset of them).
pub fn detect_gated(input: &[u8], classes: ByteClasses) -> Option<Detection> {
    if !may_fire(classes) {
        return None;
    }
    let found = MAIL_HEADER.find(input).or_else(|| SUBJECT.find(input))?;
    Some(Detection::new(
        AttackClass::MailInjection,
        7,
        found.range(),
        "line break + mail header",
    ))
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn detects_mail_header_injection() {
        for payload in [
            "victim@example.com\nBcc: spam@attacker.example",
            "me@example.com\r\nCc:a@b.example",
            "x@y.example\r\nSubject: you won",
            "hi\r\nContent-Type: text/html",
            "a\r\nRCPT TO:<x@y.example>",
        ] {
            assert!(detect(payload.as_bytes()).is_some(), "missed {payload:?}");
        }
    }

    #[test]
    fn letters_in_prose_are_quiet() {
        for text in [
            "Dear Sam,\nto: whom it may concern",
            "Subject: meeting\nsee you",
            "Hello\nFrom: Anna",
        ] {
            assert_eq!(detect(text.as_bytes()), None, "false positive on {text:?}");
        }
    }
}
