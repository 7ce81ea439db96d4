//! NoSQL (MongoDB-style) injection detector.
//!
//! # What
//! Query operators smuggled in as object keys — JSON `{"$ne": null}`,
//! `{"$gt": ""}`, `{"$regex": "^a"}`, `{"$where": "…"}`, unquoted
//! `{$ne: 1}` — or as bracketed parameter names that body parsers turn into
//! objects (`user[$ne]=x`, `password[$regex]=.*`), and JavaScript payloads
//! typical of `$where` / `mapReduce` injection (`'; return true; var a='`,
//! `this.password.match(`, `sleep(5000)` after a quote).
//!
//! # Why
//! Drivers accept operator objects wherever a scalar was expected, turning
//! `password == input` into `password != null` (authentication bypass), or
//! run attacker JavaScript on the server.
//!
//! # Gate
//! Every operator key and `$where` holds `$`; the JavaScript idioms need a
//! quote followed by `;` or `||`, or a member call (`.` and `(`). A value with
//! none of these is skipped.
//!
//! # Example
//! `{"username": "admin", "password": {"$ne": ""}}` → `Nosqli`, fingerprint `$ne`.
//!
//! # References
//! CWE-943; OWASP CRS REQUEST-934 (934180 MongoDB), REQUEST-942 (942290 `[$ne]`).

use std::sync::LazyLock;

use crate::{AttackClass, ByteClasses, Detection};

const OPERATORS: &str = "ne|eq|gt|gte|lt|lte|in|nin|regex|where|expr|exists|or|and|not|nor|elemmatch|function|accumulator|all|size|mod|text|jsonschema|type|lookup|options|comment|where|match|search|unset|set|rename|inc|push|pull|addtoset|merge|out|graphlookup|unionwith";

/// An operator used as an object key or a bracketed parameter name.
static OPERATOR_KEY: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    crate::regex(&format!(
        r#"(?i)(?:[{{,]\s*["']?|\[\s*["']?)\$(?:{OPERATORS})["']?\s*(?::|\]\s*(?:=|\[|$))"#
    ))
});

/// JavaScript-in-query idioms.
static WHERE_JS: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    crate::regex(concat!(
        r#"(?i)(?:['"]\s*;\s*return\s+(?:true|1|this|db\.|sleep)|"#,
        r#"this\.\w+\.(?:match|test)\s*\(|"#,
        r#"['"]\s*\|\|\s*['"]?\w+['"]?\s*==\s*['"]?\w|"#,
        r#"\bdb\.(?:getcollection|getsiblingdb|\w+\.(?:find|drop|remove|insert|update))\s*\(|"#,
        r#"['"]\s*;\s*sleep\s*\(\s*\d+|"#,
        r#"\$where\s*[:=]|"#,
        r#"\[\s*\$\w+\s*\])"#,
    ))
});

/// Inspects `input` and returns a detection when it holds an attack of this class.
pub fn detect(input: &[u8]) -> Option<Detection> {
    detect_gated(input, ByteClasses::of(input))
}

/// The gate of [`detect_gated`] (see the module doc): false when no value of
/// `classes` can hold an attack of this class.
pub(crate) fn may_fire(classes: ByteClasses) -> bool {
    let quoted_logic = classes.has_any(classes!(b"'\"")) && classes.has_any(classes!(b";|"));
    let member_call = classes.has_all(classes!(b".("));
    classes.has_any(classes!(b"$")) || quoted_logic || member_call
}

/// [`detect`] for an input whose byte classes are `classes` (or a subset of them).
pub fn detect_gated(input: &[u8], classes: ByteClasses) -> Option<Detection> {
    if !may_fire(classes) {
        return None;
    }
    let dollar = classes.has_any(classes!(b"$"));
    if let Some(found) = dollar.then(|| OPERATOR_KEY.find(input)).flatten() {
        return Some(Detection::new(
            AttackClass::Nosqli,
            7,
            found.range(),
            "query operator key",
        ));
    }
    if let Some(found) = WHERE_JS.find(input) {
        return Some(Detection::new(
            AttackClass::Nosqli,
            6,
            found.range(),
            "javascript query",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn detects_operator_injection() {
        for payload in [
            r#"{"username": "admin", "password": {"$ne": ""}}"#,
            r#"{"$where": "sleep(5000)"}"#,
            "user[$ne]=admin",
            "password[$regex]=^a.*",
            "{$gt: ''}",
            "'; return true; var x='",
            "admin' || '1'=='1",
            "[$ne]",
            r#"{"$or": [{"a": 1}, {"b": 2}]}"#,
        ] {
            assert!(detect(payload.as_bytes()).is_some(), "missed {payload:?}");
        }
    }

    #[test]
    fn benign_dollar_text_is_quiet() {
        for text in [
            "it costs $5 or $10",
            r#"{"price": "$12.50", "currency": "USD"}"#,
            "echo $HOME and $PATH",
            "O'Brien's pub; return policy applies",
            "$gt is a mongo operator",
        ] {
            assert_eq!(detect(text.as_bytes()), None, "false positive on {text:?}");
        }
    }
}
