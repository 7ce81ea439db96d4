//! Insecure deserialization.
//!
//! What: a parameter or cookie whose value is a serialized object (recognised as in
//! [`crate::checks::passive::serialized`]: Python pickle, Java serialization, PHP
//! `serialize()`) is sent back malformed: the application's own object cut in half, then
//! only its header, in the same encoding. A finding needs the format's deserializer error
//! (`UnpicklingError`, `pickle data was truncated`, `java.io.StreamCorruptedException`,
//! `unserialize(): Error at offset`, …) in the answer, absent from the baseline, and absent
//! again when the original value is sent back: the server demonstrably feeds the client's
//! bytes to the deserializer. Only prefixes of the application's own object are ever sent —
//! never an object of the scanner's making, no gadget, nothing that sleeps or calls back —
//! so the probe is safe against any target. Applications that authenticate the blob (an
//! HMAC checked before decoding) answer the malformed copies with their signature error and
//! are not reported; nor are deserializers that fail silently (a miss, not a false positive).
//! ASP.NET ViewState is not probed: its errors look the same with MAC validation on.
//!
//! Why: whoever controls the bytes controls the object graph: pickle's `__reduce__` runs
//! any callable, Java and PHP gadget chains reach code execution.
//!
//! Example: `?data=gASVEwAAAAAAAAB9lIwEbmFt` → `_pickle.UnpicklingError: pickle data was
//! truncated`; `?data=gASVEwAAAAAAAAB9lIwEbmFtZZSMBWd1ZXN0lHMu` → the page.
//!
//! References: CWE-502 (Deserialization of Untrusted Data); OWASP WSTG-INPV-11 (code
//! injection) and the OWASP Deserialization Cheat Sheet.

use std::sync::LazyLock;

use regex::Regex;

use super::{error_signature, re};
use crate::checks::passive::serialized::{Format, in_target};
use crate::checks::{Info, ParamCheck, Probe};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::target::Location;

/// The check: query, form (multipart parts too) and cookie values (cookies carry serialized
/// sessions and carts).
pub const CHECK: ParamCheck = ParamCheck {
    name: "deser",
    run,
    locations: &[
        Location::Query,
        Location::Body,
        Location::Multipart,
        Location::Cookie,
    ],
};

const PICKLE: Info = Info {
    id: "deser.python_pickle",
    title: "Untrusted data unpickled",
    cwe: 502,
    severity: Severity::Critical,
    fix: "Never call pickle.loads on client data: use JSON, or keep the object on the server and send an id; a blob that must round-trip is signed (hmac.compare_digest) and checked before decoding.",
};
const JAVA: Info = Info {
    id: "deser.java",
    title: "Untrusted data deserialized (Java)",
    cwe: 502,
    severity: Severity::Critical,
    fix: "Do not read ObjectInputStream from clients; use JSON with explicit types, or sign the stream and set a strict ObjectInputFilter allowlist (JEP 290).",
};
const PHP: Info = Info {
    id: "deser.php",
    title: "Untrusted data unserialized (PHP)",
    cwe: 502,
    severity: Severity::Critical,
    fix: "Replace unserialize() on client data with json_decode(); if unavoidable, pass ['allowed_classes' => false] and verify an HMAC first.",
};

static PICKLE_ERRORS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"UnpicklingError|pickle data was truncated|Ran out of input|invalid load key|unpickling stack underflow|could not find MARK",
    )
});
static JAVA_ERRORS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"java\.io\.(?:StreamCorruptedException|EOFException|OptionalDataException|InvalidClassException)|invalid stream header|at java\.io\.ObjectInputStream",
    )
});
static PHP_ERRORS: LazyLock<Regex> = LazyLock::new(|| {
    re(r"unserialize\(\): (?:Error at offset|Extra data starting at offset)|__PHP_Incomplete_Class")
});

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    let Some(object) = in_target(probe.target, probe.index) else {
        return Ok(None);
    };
    let (info, errors, header) = match object.format {
        Format::PythonPickle => (&PICKLE, &*PICKLE_ERRORS, 2),
        Format::Java => (&JAVA, &*JAVA_ERRORS, 4),
        Format::Php => (
            &PHP,
            &*PHP_ERRORS,
            object.bytes.iter().position(|&b| b == b'{').unwrap_or(2),
        ),
        Format::DotNetViewState => return Ok(None),
    };
    let bytes = &object.bytes;
    let half = (bytes.len() / 2).max(header + 1).min(bytes.len() - 1);
    let broken = [
        object.encode(&bytes[..half]),
        object.encode(&bytes[..header]),
    ];
    let repaired = [probe.original().to_owned()];
    let Some(evidence) = error_signature(probe, errors, &broken, &repaired)? else {
        return Ok(None);
    };
    let detail = format!(
        "the {} in {} cut to {} bytes produced the deserializer error {:?}, absent from the baseline; the original value sent back did not",
        object.format.describe(),
        probe.name(),
        if evidence.broken == broken[0] {
            half
        } else {
            header
        },
        evidence.signature
    );
    Ok(Some(probe.finding(
        info,
        &evidence.exchange,
        &evidence.signature,
        detail,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_signatures_name_the_deserializer() {
        assert!(PICKLE_ERRORS.is_match("_pickle.UnpicklingError: pickle data was truncated"));
        assert!(PICKLE_ERRORS.is_match("builtins.EOFError: Ran out of input"));
        assert!(
            JAVA_ERRORS
                .is_match("java.io.StreamCorruptedException: invalid stream header: 41424344")
        );
        assert!(PHP_ERRORS.is_match("Notice: unserialize(): Error at offset 12 of 40 bytes"));
        for generic in [
            "Invalid signature",
            "json.decoder.JSONDecodeError: Expecting value",
            "binascii.Error: Incorrect padding",
            "500 Internal Server Error",
        ] {
            assert!(
                !PICKLE_ERRORS.is_match(generic)
                    && !JAVA_ERRORS.is_match(generic)
                    && !PHP_ERRORS.is_match(generic),
                "{generic}"
            );
        }
    }
}
