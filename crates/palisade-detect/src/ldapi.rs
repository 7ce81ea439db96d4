//! LDAP filter injection detector.
//!
//! # What
//! Input that closes the application's LDAP filter and opens new filter
//! components: `*)(uid=*`, `admin)(&)`, `*)(|(objectClass=*)`, `)(|(`,
//! `)(!(`, a value beginning with `*)`, or filter composites `(|(attr=…)` /
//! `(&(attr=…)` written by the user.
//!
//! # Why
//! Applications that concatenate input into filters such as
//! `(&(uid=INPUT)(userPassword=…))` let the attacker rewrite the filter —
//! authentication bypass and directory enumeration.
//!
//! # Gate
//! Every pattern holds `)` followed by `(`, `*)`, or a `(` opening a
//! composite with an `=` inside; a value without `)` and one of `(` `*`,
//! and without both `(` and `=`, is skipped.
//!
//! # Example
//! `*)(uid=*))(|(uid=*` → `Ldapi`.
//!
//! # References
//! CWE-90; OWASP CRS REQUEST-921 / REQUEST-933 do not cover LDAP broadly;
//! closest is 942 (SQL-like) — Palisade detects it natively. OWASP LDAP
//! Injection Prevention Cheat Sheet.

use std::sync::LazyLock;

use crate::{AttackClass, ByteClasses, Detection};

static FILTER_BREAKOUT: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    crate::regex(concat!(
        r"(?i)\)\s*\(\s*[|&!]|",
        r"\*\s*\)\s*\(|",
        r"\)\s*\(\s*[a-z][\w.-]{0,40}\s*[~<>]?=|",
        r"\(\s*[|&]\s*\(\s*[a-z][\w.-]{0,40}\s*[~<>]?=|",
        r"\(\s*!\s*\(\s*[a-z][\w.-]{0,40}\s*=|",
        r"^\s*\*\s*\)|",
        r"\)\s*\(\s*[|&]\s*\)|",
        r"\*\)\s*%00|\*\)\x00",
    ))
});

/// Inspects `input` and returns a detection when it holds an attack of this class.
pub fn detect(input: &[u8]) -> Option<Detection> {
    detect_gated(input, ByteClasses::of(input))
}

/// The gate of [`detect_gated`] (see the module doc): false when no value of
/// `classes` can hold an attack of this class.
pub(crate) fn may_fire(classes: ByteClasses) -> bool {
    let breakout = classes.has_any(classes!(b")")) && classes.has_any(classes!(b"(*"));
    breakout || classes.has_all(classes!(b"(="))
}

/// [`detect`] for an input whose byte classes are `classes` (or a subset of them).
pub fn detect_gated(input: &[u8], classes: ByteClasses) -> Option<Detection> {
    if !may_fire(classes) {
        return None;
    }
    let found = FILTER_BREAKOUT.find(input)?;
    Some(Detection::new(
        AttackClass::Ldapi,
        7,
        found.range(),
        "ldap filter breakout",
    ))
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn detects_filter_breakout() {
        for payload in [
            "*)(uid=*))(|(uid=*",
            "admin)(&)",
            "*)(|(objectClass=*)",
            "admin)(!(&(1=0",
            "*)",
            "(|(mail=*)(cn=*))",
            "jdoe)(userPassword=*",
        ] {
            assert!(detect(payload.as_bytes()).is_some(), "missed {payload:?}");
        }
    }

    #[test]
    fn parentheses_in_prose_are_quiet() {
        for text in [
            "(see above) (and more)",
            "f(x) = (x+1)(x-1)",
            "Call me (555) 123-4567",
            "smile :-) (really)",
        ] {
            assert_eq!(detect(text.as_bytes()), None, "false positive on {text:?}");
        }
    }
}
