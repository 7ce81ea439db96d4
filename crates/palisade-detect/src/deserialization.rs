//! Insecure deserialisation detector.
//!
//! # What
//! Serialized-object formats that carry types the server will instantiate:
//! Java serialization streams (raw `AC ED 00 05`, base64 `rO0AB`, Java's
//! gzip header in base64 `H4sIAAAAAAAA/`), gadget class names
//! (`org.apache.commons.collections`, `com.sun.rowset.JdbcRowSetImpl`, …),
//! Fastjson/Jackson `@type`, PHP `serialize()` objects (`O:8:"Foo":1:{`,
//! `C:`), Python pickle (raw protocol 2–5 header with a global opcode,
//! `cos\nsystem`, base64 `gASV`/`gAJj`/`gANj`), PyYAML/SnakeYAML tags
//! (`!!python/object/apply:`, `!!javax.script…`), .NET Json.NET `$type` with
//! an assembly-qualified name, BinaryFormatter (`AAEAAAD/////`),
//! `ObjectDataProvider` gadgets, and Ruby Marshal objects (`\x04\x08o:`,
//! base64 `BAhvO`/`BAhVO`).
//!
//! # Why
//! Deserialising attacker-controlled types runs gadget chains: remote code
//! execution without any injection in the usual sense. Legitimate users
//! never send these formats in form fields or headers.
//!
//! # Gate
//! The marker and gadget literals are looked for only when the value holds
//! every byte class of one of them (the stream markers need upper-case
//! letters, control or high bytes; a letters-only gadget name all its letters);
//! a PHP object needs `:`, `"`, `{`, a digit and `O`/`C`; a .NET `$type` needs
//! `$`, `:`, `,` and a quote; a pickle stream the byte 0x80. Base64 payloads
//! are plain alphanumeric text, which is why the markers are judged by their
//! letters, not by punctuation.
//!
//! # Example
//! `O:8:"stdClass":1:{s:4:"file";s:11:"/etc/passwd";}` → `Deserialization`.
//!
//! # References
//! CWE-502; OWASP CRS REQUEST-944-APPLICATION-ATTACK-JAVA (944100–944260),
//! REQUEST-933 (933170 PHP object injection), ysoserial / ysoserial.net.

use std::sync::LazyLock;

use crate::gate::Literals;
use crate::{AttackClass, ByteClasses, Detection};

/// Byte and text markers that are serialized payloads by themselves.
static MARKERS: LazyLock<Literals> = LazyLock::new(|| {
    Literals::exact(&[
        b"\xac\xed\x00\x05".as_slice(),
        b"rO0AB",
        b"H4sIAAAAAAAA/",
        b"AAEAAAD/////",
        b"cos\nsystem",
        b"cposix\nsystem",
        b"cnt\nsystem",
        b"csubprocess\n",
        b"c__builtin__\neval",
        b"c__builtin__\nexec",
        b"cbuiltins\neval",
        b"cbuiltins\nexec",
        b"\x8c\x05posix\x94",
        b"\x8c\x02os\x94",
        b"\x8c\x08builtins\x94",
        b"gASV",
        b"gAJjb3",
        b"gAJjcG9zaXgK",
        b"gANjb3",
        b"gANjYnVpbHRpbnMK",
        b"Y29zCnN5c3RlbQ",
        b"Y3Bvc2l4CnN5c3Rlb",
        b"BAhvO",
        b"BAhVO",
        b"\x04\x08o:",
        b"\x04\x08U:",
    ])
});

/// Gadget class names and type tags (case-insensitive).
static GADGETS: LazyLock<Literals> = LazyLock::new(|| {
    Literals::any_case(&[
        "org.apache.commons.collections",
        "org.apache.commons.beanutils",
        "com.sun.rowset.jdbcrowsetimpl",
        "com.sun.org.apache.xalan.internal.xsltc.trax.templatesimpl",
        "org.springframework.beans.factory",
        "sun.reflect.annotation.annotationinvocationhandler",
        "java.lang.runtime",
        "javax.management.badattributevalueexpexception",
        "com.mchange.v2.c3p0",
        "org.codehaus.groovy.runtime",
        "bsh.interpreter",
        "ch.qos.logback.core.db",
        "system.windows.data.objectdataprovider",
        "objectdataprovider",
        "typeconfusedelegate",
        "system.diagnostics.process",
        "windowsidentity",
        "system.management.automation",
        "!!python/",
        "!!javax.",
        "!!com.sun.",
        "!!java.",
        "!!org.",
        "!ruby/object",
        "!ruby/hash",
        "\"@type\"",
        "'@type'",
        "__reduce__",
        "tag:yaml.org,2002:python/",
    ])
});

/// PHP serialized object / custom-serialized class / array holding an object.
static PHP_OBJECT: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    crate::regex(r#"(?:^|[;{}\s"'=])[OC]:\+?\d{1,5}:"[A-Za-z_\\][\w\\]{0,200}":\d{1,5}:\{"#)
});

/// What [`PHP_OBJECT`] needs: `:`, `"`, `{`, a digit and an upper-case `O` or `C`.
const PHP_OBJECT_BYTES: ByteClasses = ByteClasses::bytes(b":\"{0").union(ByteClasses::UPPER);

/// What [`DOTNET_TYPE`] needs: `"$type":` and the `,` of an assembly-qualified name.
const DOTNET_TYPE_BYTES: ByteClasses = ByteClasses::bytes_any_case(b"$type:,");

/// Json.NET `$type` with an assembly-qualified type name.
static DOTNET_TYPE: LazyLock<regex::bytes::Regex> =
    LazyLock::new(|| crate::regex(r#"(?i)["']\$type["']\s*:\s*["'][\w.`\[\]+]+\s*,\s*[\w.]+"#));

/// Raw pickle header (PROTO 2..5) followed soon by a global/stack_global opcode.
fn raw_pickle(input: &[u8]) -> Option<std::ops::Range<usize>> {
    let mut from = 0usize;
    while let Some(offset) = memchr::memchr(0x80, &input[from..]) {
        let at = from + offset;
        from = at + 1;
        if input
            .get(at + 1)
            .is_some_and(|version| (2..=5).contains(version))
        {
            let window = &input[at + 2..input.len().min(at + 64)];
            if window.iter().any(|&byte| byte == b'c' || byte == 0x93) && window.contains(&b'R') {
                return Some(at..(at + 64).min(input.len()));
            }
        }
    }
    None
}

/// Inspects `input` and returns a detection when it holds an attack of this class.
pub fn detect(input: &[u8]) -> Option<Detection> {
    detect_gated(input, ByteClasses::of(input))
}

/// The gate of [`detect_gated`] (see the module doc): false when no value of
/// `classes` can hold an attack of this class.
pub(crate) fn may_fire(classes: ByteClasses) -> bool {
    MARKERS.may_occur(classes)
        || GADGETS.may_occur(classes)
        || classes.has_all(PHP_OBJECT_BYTES)
        || dotnet_type_possible(classes)
        || classes.has_any(classes!(b"\x80"))
}

/// Whether a value of `classes` may hold a [`DOTNET_TYPE`].
fn dotnet_type_possible(classes: ByteClasses) -> bool {
    classes.has_all(DOTNET_TYPE_BYTES) && classes.has_any(classes!(b"\"'"))
}

/// [`detect`] for an input whose byte classes are `classes` (or a subset of them).
pub fn detect_gated(input: &[u8], classes: ByteClasses) -> Option<Detection> {
    if !may_fire(classes) {
        return None;
    }
    if let Some(found) = MARKERS.find(input, classes) {
        return Some(Detection::new(
            AttackClass::Deserialization,
            8,
            found.range(),
            "serialized stream marker",
        ));
    }
    if let Some(found) = GADGETS.find(input, classes) {
        return Some(Detection::new(
            AttackClass::Deserialization,
            7,
            found.range(),
            "gadget or type tag",
        ));
    }
    if classes.has_all(PHP_OBJECT_BYTES)
        && let Some(found) = PHP_OBJECT.find(input)
    {
        return Some(Detection::new(
            AttackClass::Deserialization,
            8,
            found.range(),
            "php serialized object",
        ));
    }
    if dotnet_type_possible(classes)
        && let Some(found) = DOTNET_TYPE.find(input)
    {
        return Some(Detection::new(
            AttackClass::Deserialization,
            7,
            found.range(),
            ".net $type",
        ));
    }
    if !classes.has_any(classes!(b"\x80")) {
        return None;
    }
    raw_pickle(input)
        .map(|range| Detection::new(AttackClass::Deserialization, 7, range, "pickle stream"))
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn detects_serialized_objects() {
        for payload in [
            b"\xac\xed\x00\x05sr\x00\x11java.util.HashMap".as_slice(),
            b"rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA==",
            br#"O:8:"stdClass":1:{s:4:"file";s:11:"/etc/passwd";}"#,
            br#"a:1:{i:0;O:4:"Evil":0:{}}"#,
            b"cos\nsystem\n(S'id'\ntR.",
            b"gASVJgAAAAAAAACMBXBvc2l4lIwGc3lzdGVtlJOUjAJpZJSFlFKULg==",
            b"!!python/object/apply:os.system ['id']",
            br#"{"$type":"System.Windows.Data.ObjectDataProvider, PresentationFramework"}"#,
            b"AAEAAAD/////AQAAAAAAAAAMAgAAAF9TeXN0ZW0u",
            br#"{"@type":"com.sun.rowset.JdbcRowSetImpl","dataSourceName":"ldap://x/a"}"#,
            b"BAhvOhVHZW06OlJlcXVpcmVtZW50",
        ] {
            assert!(
                detect(payload).is_some(),
                "missed {:?}",
                String::from_utf8_lossy(payload)
            );
        }
    }

    #[test]
    fn benign_lookalikes_are_quiet() {
        for text in [
            "O: 8 people attended",
            "Ratio 1:2:3",
            r#"{"type": "object", "name": "Foo"}"#,
            "The cost is 80 euros",
            "https://example.com/img.png?v=2",
        ] {
            assert_eq!(detect(text.as_bytes()), None, "false positive on {text:?}");
        }
    }
}
