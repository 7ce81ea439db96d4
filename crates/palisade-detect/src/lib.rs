//! Native attack detectors, written from scratch in safe Rust.
//!
//! Each detector is a function over bytes returning an optional [`Detection`]:
//! the attack class, a score, the evidence span and a short fingerprint.
//! Detectors are linear in input length and do not allocate on the common
//! (benign) path. One module per detector; each module's doc says what it
//! detects, why, an example and references (CWE, CRS rule ids).
#![forbid(unsafe_code)]

pub mod cmdi;
pub mod crlf;
pub mod deserialization;
pub mod ldapi;
pub mod mail_injection;
pub mod nosqli;
pub mod path_traversal;
pub mod prototype_pollution;
pub mod sqli;
pub mod ssrf;
pub mod ssti;
pub mod xss;
pub mod xxe;

use std::ops::Range;

/// Attack classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AttackClass {
    /// SQL injection (CWE-89).
    Sqli,
    /// Cross-site scripting (CWE-79).
    Xss,
    /// OS command injection (CWE-78).
    CmdInjection,
    /// Path traversal / local file inclusion (CWE-22, CWE-98).
    PathTraversal,
    /// Server-side request forgery / remote file inclusion (CWE-918).
    Ssrf,
    /// Server-side template / expression injection, Log4Shell (CWE-1336, CWE-917).
    Ssti,
    /// NoSQL injection (CWE-943).
    Nosqli,
    /// Insecure deserialisation (CWE-502).
    Deserialization,
    /// XML external entities (CWE-611).
    Xxe,
    /// CRLF / HTTP header injection (CWE-93, CWE-113).
    Crlf,
    /// LDAP injection (CWE-90).
    Ldapi,
    /// Prototype pollution (CWE-1321).
    PrototypePollution,
    /// Mail header injection (CWE-93).
    MailInjection,
}

/// One detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// The class of attack.
    pub class: AttackClass,
    /// Confidence score 1–10 (anomaly-score contribution).
    pub score: u8,
    /// Byte range of the evidence in the inspected input.
    pub span: Range<usize>,
    /// Short fingerprint / explanation, e.g. the token pattern `s&1c` or `onerror=`.
    pub fingerprint: String,
}
