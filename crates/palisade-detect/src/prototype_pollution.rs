//! Prototype pollution detector.
//!
//! # What
//! Keys that reach `Object.prototype` when a server merges user objects or
//! parses nested parameters: `__proto__` used as a key or path segment
//! (`__proto__[isAdmin]=1`, `{"__proto__": {…}}`, `a.__proto__.b`), and
//! `constructor.prototype` / `constructor[prototype]` /
//! `["constructor"]["prototype"]`.
//!
//! # Why
//! Polluting the prototype changes every object in a Node.js process:
//! privilege flags, template options (→ RCE via gadget), denial of service.
//! Mentions in prose ("`obj.__proto__` is deprecated") are not keys, so a
//! segment must be followed by an accessor, `=` or `:`.
//!
//! # Gate
//! Every pattern holds `proto` in some case (`__proto__`, `prototype`) and a
//! key or member syntax byte (`[ ] . = :`); a value without all the letters
//! of `proto` and one of those bytes is skipped.
//!
//! # Example
//! `user[__proto__][isAdmin]=true` → `PrototypePollution`.
//!
//! # References
//! CWE-1321; OWASP CRS REQUEST-934 (934130 JavaScript prototype pollution).

use std::sync::LazyLock;

use crate::{AttackClass, ByteClasses, Detection};

static POLLUTION_KEY: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    crate::regex(concat!(
        r#"(?i)__proto__\s*["'`]?\s*(?:\]|\[|\.\s*[\w$]|=|:)|"#,
        r#"[\[.]\s*["'`]?\s*__proto__\b|"#,
        r#"constructor\s*["'`]?\s*\]?\s*(?:\.|\[)\s*["'`]?\s*prototype\b|"#,
        r#"["']constructor["']\s*:\s*\{\s*["']prototype["']"#,
    ))
});

/// Every pattern holds `proto` in some case...
const PROTO: ByteClasses = ByteClasses::bytes_any_case(b"proto");
/// ... and one of these after or before the key.
const KEY_SYNTAX: ByteClasses = ByteClasses::bytes(b"[].=:");

/// Inspects `input` and returns a detection when it holds an attack of this class.
pub fn detect(input: &[u8]) -> Option<Detection> {
    detect_gated(input, ByteClasses::of(input))
}

/// The gate of [`detect_gated`] (see the module doc): false when no value of
/// `classes` can hold an attack of this class.
pub(crate) fn may_fire(classes: ByteClasses) -> bool {
    classes.has_all(PROTO) && classes.has_any(KEY_SYNTAX)
}

/// [`detect`] for an input whose byte classes are `classes` (or a subset of them).
pub fn detect_gated(input: &[u8], classes: ByteClasses) -> Option<Detection> {
    if !may_fire(classes) {
        return None;
    }
    if !crate::contains_any_case(input, b"proto") {
        return None;
    }
    let found = POLLUTION_KEY.find(input)?;
    Some(Detection::new(
        AttackClass::PrototypePollution,
        7,
        found.range(),
        "prototype key",
    ))
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn detects_pollution_keys() {
        for payload in [
            "__proto__[isAdmin]=true",
            r#"{"__proto__": {"polluted": 1}}"#,
            "a[constructor][prototype][x]=1",
            "constructor.prototype.isAdmin=1",
            r#"{"constructor": {"prototype": {"x": 1}}}"#,
            "?__proto__.polluted=1",
        ] {
            assert!(detect(payload.as_bytes()).is_some(), "missed {payload:?}");
        }
    }

    #[test]
    fn prose_mentions_are_quiet() {
        for text in [
            "Why is __proto__ deprecated?",
            "the prototype of a constructor function",
            "prototypes and constructors explained",
        ] {
            assert_eq!(detect(text.as_bytes()), None, "false positive on {text:?}");
        }
    }
}
