//! Native attack detectors, written from scratch in safe Rust.
//!
//! Each detector is a function over bytes returning an optional [`Detection`]:
//! the attack class, a score, the evidence span and a short fingerprint.
//! Detectors are linear in input length and do not allocate on the common
//! (benign) path: they only build the fingerprint `String` once they have
//! decided to report. One module per detector; each module's doc says what it
//! detects, why, an example and references (CWE, CRS rule ids).
//!
//! Each detector opens with a documented necessary condition over the byte
//! classes its input holds ([`gate::ByteClasses`], one table-driven pass shared
//! by every detector and the decoder), so a value that cannot hold its attack
//! costs it a few instructions: `<module>::detect_gated(input, classes)` is
//! that entry point, `<module>::detect(input)` computes the classes itself.
//!
//! Detectors inspect the bytes they are given as-is. Decoding (URL, HTML
//! entities, JS/CSS escapes, base64, overlong UTF-8) is the job of
//! [`normalize`], and [`normalize::scan_all`] is the one entry point that runs
//! every detector over every decoded view of a value. [`eval`] measures the
//! detectors against the labeled corpus in `corpus/`.
#![forbid(unsafe_code)]

/// The [`ByteClasses`] of constant bytes, computed at compile time (a `const fn` call
/// outside a constant may run at every call).
macro_rules! classes {
    ($bytes:expr) => {
        const { $crate::ByteClasses::bytes($bytes) }
    };
}

pub mod cmdi;
pub mod crlf;
pub mod deserialization;
pub mod eval;
pub mod gate;
pub mod ldapi;
pub mod mail_injection;
pub mod normalize;
pub mod nosqli;
pub mod path_traversal;
pub mod prototype_pollution;
pub mod sqli;
pub mod ssrf;
pub mod ssti;
pub mod xss;
pub mod xxe;

pub use gate::ByteClasses;
pub use normalize::scan_all;

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

impl AttackClass {
    /// Every class, in declaration order.
    pub const ALL: [AttackClass; 13] = [
        AttackClass::Sqli,
        AttackClass::Xss,
        AttackClass::CmdInjection,
        AttackClass::PathTraversal,
        AttackClass::Ssrf,
        AttackClass::Ssti,
        AttackClass::Nosqli,
        AttackClass::Deserialization,
        AttackClass::Xxe,
        AttackClass::Crlf,
        AttackClass::Ldapi,
        AttackClass::PrototypePollution,
        AttackClass::MailInjection,
    ];

    /// Stable snake_case name; also the corpus file stem (`corpus/attacks/<name>.txt`).
    pub fn name(self) -> &'static str {
        match self {
            AttackClass::Sqli => "sqli",
            AttackClass::Xss => "xss",
            AttackClass::CmdInjection => "cmdi",
            AttackClass::PathTraversal => "path_traversal",
            AttackClass::Ssrf => "ssrf",
            AttackClass::Ssti => "ssti",
            AttackClass::Nosqli => "nosqli",
            AttackClass::Deserialization => "deserialization",
            AttackClass::Xxe => "xxe",
            AttackClass::Crlf => "crlf",
            AttackClass::Ldapi => "ldapi",
            AttackClass::PrototypePollution => "prototype_pollution",
            AttackClass::MailInjection => "mail_injection",
        }
    }

    /// This class's bit in a set of classes (`u16`, bit `class as usize`).
    pub(crate) const fn bit(self) -> u16 {
        1 << self as u16
    }

    /// The gate of this class's detector: false when no value of `classes` can hold
    /// an attack of this class (each module's `may_fire`; see [`gate`]).
    pub fn may_fire(self, classes: ByteClasses) -> bool {
        match self {
            AttackClass::Sqli => sqli::may_fire(classes),
            AttackClass::Xss => xss::may_fire(classes),
            AttackClass::CmdInjection => cmdi::may_fire(classes),
            AttackClass::PathTraversal => path_traversal::may_fire(classes),
            AttackClass::Ssrf => ssrf::may_fire(classes),
            AttackClass::Ssti => ssti::may_fire(classes),
            AttackClass::Nosqli => nosqli::may_fire(classes),
            AttackClass::Deserialization => deserialization::may_fire(classes),
            AttackClass::Xxe => xxe::may_fire(classes),
            AttackClass::Crlf => crlf::may_fire(classes),
            AttackClass::Ldapi => ldapi::may_fire(classes),
            AttackClass::PrototypePollution => prototype_pollution::may_fire(classes),
            AttackClass::MailInjection => mail_injection::may_fire(classes),
        }
    }

    /// The classes whose gate ([`AttackClass::may_fire`]) is open for a value of
    /// `classes`, as bits ([`AttackClass::bit`]): what [`normalize::DecodedViews`]
    /// records for each view, so a class whose gate is closed on every view of a
    /// value costs a test of one bit. Remembered for the last classes seen on this
    /// thread ([`gate::remembered`]): the values of a request, and of the next, share
    /// few byte-class sets (numbers, words, the same headers).
    pub(crate) fn open_gates(classes: ByteClasses) -> u16 {
        gate::remembered(classes, |classes| {
            AttackClass::ALL
                .into_iter()
                .filter(|class| class.may_fire(classes))
                .fold(0, |open, class| open | class.bit())
        })
    }

    /// Inverse of [`AttackClass::name`].
    pub fn from_name(name: &str) -> Option<AttackClass> {
        AttackClass::ALL
            .into_iter()
            .find(|class| class.name() == name)
    }

    /// The detector for this class as the `@detectXxx` operators run it: the
    /// class's detector over every decoded view of the input
    /// ([`normalize::views`]: raw, URL/entity-decoded until stable, JS/CSS
    /// unescaped, base64), so a rule needs no transformation chain to see
    /// through encodings. The first view that fires wins; a detection made on
    /// a decoded view has the whole input as its span.
    pub fn detector(self) -> Detector {
        normalize::IN_VIEWS[self as usize]
    }

    /// [`AttackClass::detector`] over decoded views the caller built once for the
    /// value ([`normalize::DecodedViews::of`]`(input)`), so several classes run over one
    /// value decode it, and learn its byte classes, once. `decoded` is called once,
    /// first: the raw input is judged with the byte classes the views carry. The
    /// result is the same as `self.detector()(input)`.
    pub fn detect_with_views<'v>(
        self,
        input: &[u8],
        decoded: impl FnOnce() -> &'v normalize::DecodedViews,
    ) -> Option<Detection> {
        let views = decoded();
        if !views.may_fire(self) {
            return None;
        }
        let detector = self.gated_detector();
        if views.raw_may_fire(self)
            && let Some(found) = detector(input, views.raw_classes())
        {
            return Some(found);
        }
        normalize::in_decoded(detector, input, views.gated_views(self))
    }

    /// Whether [`AttackClass::detect_with_views`] detects something, for a caller that
    /// needs only the verdict (no detection is moved out of the detectors' calls).
    #[inline]
    pub fn fires_with_views(self, input: &[u8], views: &normalize::DecodedViews) -> bool {
        if !views.may_fire(self) {
            return false;
        }
        let detector = self.gated_detector();
        views.raw_may_fire(self) && detector(input, views.raw_classes()).is_some()
            || views
                .gated_views(self)
                .any(|(view, classes)| detector(view, classes).is_some())
    }

    /// The detector for this class over the bytes exactly as given (no
    /// decoding); it computes the input's byte classes itself.
    pub fn raw_detector(self) -> Detector {
        match self {
            AttackClass::Sqli => sqli::detect,
            AttackClass::Xss => xss::detect,
            AttackClass::CmdInjection => cmdi::detect,
            AttackClass::PathTraversal => path_traversal::detect,
            AttackClass::Ssrf => ssrf::detect,
            AttackClass::Ssti => ssti::detect,
            AttackClass::Nosqli => nosqli::detect,
            AttackClass::Deserialization => deserialization::detect,
            AttackClass::Xxe => xxe::detect,
            AttackClass::Crlf => crlf::detect,
            AttackClass::Ldapi => ldapi::detect,
            AttackClass::PrototypePollution => prototype_pollution::detect,
            AttackClass::MailInjection => mail_injection::detect,
        }
    }

    /// The detector for this class over the bytes exactly as given, told their
    /// byte classes ([`ByteClasses::of`] the input, or a superset): what
    /// [`scan_all`] and [`AttackClass::detect_with_views`] run over each view,
    /// whose classes they computed once. With [`ByteClasses::ALL`] every gate
    /// is open (the detector without gates); the verdict is the same.
    pub fn gated_detector(self) -> GatedDetector {
        match self {
            AttackClass::Sqli => sqli::detect_gated,
            AttackClass::Xss => xss::detect_gated,
            AttackClass::CmdInjection => cmdi::detect_gated,
            AttackClass::PathTraversal => path_traversal::detect_gated,
            AttackClass::Ssrf => ssrf::detect_gated,
            AttackClass::Ssti => ssti::detect_gated,
            AttackClass::Nosqli => nosqli::detect_gated,
            AttackClass::Deserialization => deserialization::detect_gated,
            AttackClass::Xxe => xxe::detect_gated,
            AttackClass::Crlf => crlf::detect_gated,
            AttackClass::Ldapi => ldapi::detect_gated,
            AttackClass::PrototypePollution => prototype_pollution::detect_gated,
            AttackClass::MailInjection => mail_injection::detect_gated,
        }
    }
}

impl std::fmt::Display for AttackClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A detector: bytes in, at most one detection out.
pub type Detector = fn(&[u8]) -> Option<Detection>;

/// A detector told the byte classes of its input ([`AttackClass::gated_detector`]).
pub type GatedDetector = fn(&[u8], ByteClasses) -> Option<Detection>;

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

impl Detection {
    /// Builds a detection; the fingerprint is the only allocation a detector makes.
    pub(crate) fn new(
        class: AttackClass,
        score: u8,
        span: Range<usize>,
        fingerprint: &str,
    ) -> Self {
        Detection {
            class,
            score,
            span,
            fingerprint: fingerprint.to_owned(),
        }
    }
}

/// Compiles a pattern written by this crate (byte-oriented: `\w`, `(?i)` and
/// `\xHH` are ASCII/byte semantics). The patterns are constants
/// exercised by every test run, so a failure is a programming error.
pub(crate) fn regex(pattern: &str) -> regex::bytes::Regex {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(1 << 23)
        .build()
        .unwrap_or_else(|error| {
            panic!("palisade-detect: built-in pattern {pattern:?} is invalid: {error}")
        })
}

/// ASCII case-insensitive substring test for a lower-case `needle`: a memchr
/// for its first byte in either case, then a comparison at each hit.
pub(crate) fn contains_any_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), haystack).any(|at| {
        haystack
            .get(at..at + needle.len())
            .is_some_and(|window| window.eq_ignore_ascii_case(needle))
    })
}

/// Builds a byte-set table for [`contains_any`] at compile time.
pub(crate) const fn byte_set(bytes: &[u8]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        set[bytes[i] as usize] = true;
        i += 1;
    }
    set
}

/// ASCII case-insensitive prefix test.
pub(crate) fn starts_with_ci(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack[..prefix.len()].eq_ignore_ascii_case(prefix)
}
