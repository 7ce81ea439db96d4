//! SecLang operators (`@rx` with PCRE translation, `@pm`, `@validate*`, `@ipMatch`, `@verifyCC` …) as compiled matchers for the WAF engine.
//!
//! This crate owns operator compilation and matching. The engine (`palisade-waf`)
//! parses a rule, calls [`Operator::compile`] once per rule at load time with
//! the operator name (without `@`, any case) and its argument, and then calls
//! [`Operator::matches`] for every (transformed) variable value. Negation
//! (`!@rx`) is the engine's job.
//!
//! Design notes:
//! - Operators are immutable after compilation (`Send + Sync`) and do not
//!   allocate on the common (non-matching) path. Captures are written into a
//!   caller-owned [`Captures`] whose buffers are reused across calls.
//! - Arguments containing macros (`%{tx.foo}`) cannot be compiled ahead of
//!   time: [`Operator::needs_runtime_argument`] reports it, and the engine
//!   expands the argument and calls [`Operator::matches_expanded`] (text and
//!   numeric comparisons run without allocating; others compile the expanded
//!   argument). [`Operator::matches`] on an unexpanded operator is `false`.
//! - Semantics follow libmodsecurity v3; `tests/data/operators.tsv` documents
//!   them case by case. `@rx` details are in the `rx` and [`translate`] modules.
//! - Unsupported operators (`@rbl`, `@gsbLookup`, `@inspectFile`, `@rsub`,
//!   `@fuzzyHash`, `@validateHash`, `@validateDTD`, `@validateSchema`,
//!   `@verifyCPF`, `@verifySSN`, `@verifySVNR`) fail to compile with an error
//!   for which [`OperatorError::is_unsupported`] is true.
//! - Files named by `@pmFromFile` / `@ipMatchFromFile` are resolved against
//!   [`OperatorContext::base_dir`] (the directory of the rule file) and read
//!   with size and line limits.
#![forbid(unsafe_code)]

mod ip;
mod pm;
mod rx;
mod simple;
pub mod translate;

pub use palisade_detect::AttackClass;
use std::path::Path;
use std::sync::Arc;

pub use palisade_detect::normalize::DecodedViews;
pub use rx::ByteSet;
pub use simple::luhn_valid;

/// Everything an operator may need at compile time.
#[derive(Debug, Clone, Copy)]
pub struct OperatorContext<'a> {
    /// Directory of the rule file, for relative `@pmFromFile` / `@ipMatchFromFile` paths.
    pub base_dir: &'a Path,
    /// GeoIP database for `@geoLookup` (`SecGeoLookupDb`), if configured.
    pub geo_db: Option<&'a Arc<GeoDb>>,
}

impl<'a> OperatorContext<'a> {
    /// A context with a base directory and no GeoIP database.
    pub fn new(base_dir: &'a Path) -> Self {
        Self {
            base_dir,
            geo_db: None,
        }
    }
}

/// A MaxMind GeoIP2/GeoLite2 database (`.mmdb`) for `@geoLookup`.
pub struct GeoDb {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb").finish_non_exhaustive()
    }
}

impl GeoDb {
    /// Opens an `.mmdb` file.
    pub fn open(path: &Path) -> Result<Self, OperatorError> {
        let reader = maxminddb::Reader::open_readfile(path).map_err(|error| {
            OperatorError::new(
                "geoLookup",
                ErrorKind::File(format!("{}: {error}", path.display())),
            )
        })?;
        Ok(Self { reader })
    }

    /// True when the address is found in the database.
    pub fn contains(&self, address: std::net::IpAddr) -> bool {
        self.reader
            .lookup::<maxminddb::geoip2::Country<'_>>(address)
            .ok()
            .flatten()
            .is_some()
    }
}

/// Capture slots `TX:0` … `TX:9` filled by `@rx` (groups), `@pm` (the
/// matched phrase), `@detectSQLi` (the fingerprint) and other operators.
/// Buffers are reused: keep one per transaction/thread.
#[derive(Debug, Clone, Default)]
pub struct Captures {
    slots: [Vec<u8>; Captures::SLOTS],
    set: [bool; Captures::SLOTS],
}

impl Captures {
    /// Number of slots (`TX:0` … `TX:9`).
    pub const SLOTS: usize = 10;

    /// An empty set of captures.
    pub fn new() -> Self {
        Self::default()
    }

    /// Unsets every slot (buffers keep their capacity).
    pub fn clear(&mut self) {
        self.set = [false; Self::SLOTS];
    }

    /// The value of slot `index` (`TX:index`), if the last match set it.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        (index < Self::SLOTS && self.set[index]).then(|| self.slots[index].as_slice())
    }

    /// Iterates over the set slots as `(index, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &[u8])> {
        (0..Self::SLOTS).filter_map(|index| self.get(index).map(|value| (index, value)))
    }

    pub(crate) fn set(&mut self, index: usize, value: &[u8]) {
        if index < Self::SLOTS {
            self.slots[index].clear();
            self.slots[index].extend_from_slice(value);
            self.set[index] = true;
        }
    }

    /// Clears all slots and sets `TX:0`.
    pub(crate) fn set_only_zero(&mut self, value: &[u8]) {
        self.clear();
        self.set(0, value);
    }
}

/// Why an operator could not be compiled. The message names the operator and
/// the problem; the engine adds the rule file and line.
#[derive(Debug, thiserror::Error)]
#[error("@{operator}: {kind}")]
pub struct OperatorError {
    operator: String,
    kind: ErrorKind,
}

#[derive(Debug, thiserror::Error)]
enum ErrorKind {
    #[error("unknown operator")]
    Unknown,
    #[error("not supported by Palisade ({0})")]
    Unsupported(&'static str),
    #[error("invalid regular expression: {0}")]
    InvalidRegex(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("cannot load data file: {0}")]
    File(String),
}

impl OperatorError {
    fn new(operator: &str, kind: ErrorKind) -> Self {
        Self {
            operator: operator.to_owned(),
            kind,
        }
    }

    /// The operator name as written in the rule (without `@`).
    pub fn operator(&self) -> &str {
        &self.operator
    }

    /// True when the operator is known but deliberately unsupported (`@rbl`, `@inspectFile` …).
    pub fn is_unsupported(&self) -> bool {
        matches!(self.kind, ErrorKind::Unsupported(_))
    }
}

/// The compiled form of each operator.
#[derive(Debug)]
enum Matcher {
    /// Argument has `%{…}` macros; compile per transaction after expansion.
    Deferred,
    Rx(rx::Rx),
    Pm(pm::PhraseMatcher),
    Text(simple::TextTest, Vec<u8>),
    StrMatch(memchr::memmem::Finder<'static>),
    Numeric(simple::Comparison, i64),
    IpMatch(ip::IpSet),
    ValidateByteRange(Box<[bool; 256]>),
    ValidateUrlEncoding,
    ValidateUtf8Encoding,
    VerifyCc(rx::Rx),
    /// A palisade-detect detector (`@detectSQLi`, `@detectXSS`, `@detectCmdInjection` …).
    Detect(AttackClass),
    UnconditionalMatch,
    NoMatch,
    GeoLookup(Option<Arc<GeoDb>>),
}

/// A compiled operator. `Send + Sync`; compile once, match many times.
#[derive(Debug)]
pub struct Operator {
    name: &'static str,
    argument: String,
    matcher: Matcher,
}

/// Canonical operator names (lookup is ASCII-case-insensitive).
const OPERATOR_NAMES: &[&str] = &[
    "rx",
    "pm",
    "pmFromFile",
    "pmf",
    "contains",
    "containsWord",
    "beginsWith",
    "endsWith",
    "streq",
    "strmatch",
    "within",
    "eq",
    "ge",
    "gt",
    "le",
    "lt",
    "ipMatch",
    "ipMatchF",
    "ipMatchFromFile",
    "validateByteRange",
    "validateUrlEncoding",
    "validateUtf8Encoding",
    "verifyCC",
    "verifyCPF",
    "verifySSN",
    "verifySVNR",
    "detectSQLi",
    "detectXSS",
    "detectCmdInjection",
    "detectPathTraversal",
    "detectSSRF",
    "detectSSTI",
    "detectNoSQLi",
    "detectDeserialization",
    "detectXXE",
    "detectCRLF",
    "detectLDAPi",
    "detectPrototypePollution",
    "detectMailInjection",
    "unconditionalMatch",
    "noMatch",
    "geoLookup",
    "rbl",
    "rsub",
    "inspectFile",
    "fuzzyHash",
    "validateDTD",
    "validateSchema",
    "validateHash",
    "gsbLookup",
];

impl Operator {
    /// Compiles operator `name` (without `@`, any case) with its argument.
    pub fn compile(
        name: &str,
        argument: &str,
        ctx: &OperatorContext<'_>,
    ) -> Result<Operator, OperatorError> {
        let Some(&canonical) = OPERATOR_NAMES
            .iter()
            .find(|known| known.eq_ignore_ascii_case(name))
        else {
            return Err(OperatorError::new(name, ErrorKind::Unknown));
        };
        let matcher = if argument.contains("%{") && canonical != "pmFromFile" && canonical != "pmf"
        {
            Matcher::Deferred
        } else {
            Self::build(canonical, argument, ctx)?
        };
        Ok(Operator {
            name: canonical,
            argument: argument.to_owned(),
            matcher,
        })
    }

    fn build(
        name: &'static str,
        argument: &str,
        ctx: &OperatorContext<'_>,
    ) -> Result<Matcher, OperatorError> {
        let bytes = || argument.as_bytes().to_vec();
        let invalid =
            |message: String| OperatorError::new(name, ErrorKind::InvalidArgument(message));
        Ok(match name {
            "rx" => Matcher::Rx(rx::Rx::compile(name, argument)?),
            "pm" => Matcher::Pm(pm::PhraseMatcher::from_argument(name, argument)?),
            "pmFromFile" | "pmf" => {
                Matcher::Pm(pm::PhraseMatcher::from_files(name, argument, ctx.base_dir)?)
            }
            "contains" | "containsWord" | "beginsWith" | "endsWith" | "streq" | "within" => {
                let test = simple::TextTest::from_name(name)
                    .ok_or_else(|| invalid("text comparison".to_owned()))?;
                Matcher::Text(test, bytes())
            }
            "strmatch" => {
                Matcher::StrMatch(memchr::memmem::Finder::new(argument.as_bytes()).into_owned())
            }
            "eq" | "ge" | "gt" | "le" | "lt" => {
                let comparison = simple::Comparison::from_name(name)
                    .ok_or_else(|| invalid("comparison".to_owned()))?;
                Matcher::Numeric(comparison, simple::parse_leading_int(argument.as_bytes()))
            }
            "ipMatch" => Matcher::IpMatch(ip::IpSet::parse_list(argument).map_err(invalid)?),
            "ipMatchF" | "ipMatchFromFile" => Matcher::IpMatch(
                ip::IpSet::from_files(argument, ctx.base_dir)
                    .map_err(|error| OperatorError::new(name, ErrorKind::File(error)))?,
            ),
            "validateByteRange" => {
                Matcher::ValidateByteRange(simple::parse_byte_ranges(argument).map_err(invalid)?)
            }
            "validateUrlEncoding" => Matcher::ValidateUrlEncoding,
            "validateUtf8Encoding" => Matcher::ValidateUtf8Encoding,
            "verifyCC" => Matcher::VerifyCc(rx::Rx::compile(name, argument)?),
            "detectSQLi" => Matcher::Detect(AttackClass::Sqli),
            "detectXSS" => Matcher::Detect(AttackClass::Xss),
            "detectCmdInjection" => Matcher::Detect(AttackClass::CmdInjection),
            "detectPathTraversal" => Matcher::Detect(AttackClass::PathTraversal),
            "detectSSRF" => Matcher::Detect(AttackClass::Ssrf),
            "detectSSTI" => Matcher::Detect(AttackClass::Ssti),
            "detectNoSQLi" => Matcher::Detect(AttackClass::Nosqli),
            "detectDeserialization" => Matcher::Detect(AttackClass::Deserialization),
            "detectXXE" => Matcher::Detect(AttackClass::Xxe),
            "detectCRLF" => Matcher::Detect(AttackClass::Crlf),
            "detectLDAPi" => Matcher::Detect(AttackClass::Ldapi),
            "detectPrototypePollution" => Matcher::Detect(AttackClass::PrototypePollution),
            "detectMailInjection" => Matcher::Detect(AttackClass::MailInjection),
            "unconditionalMatch" => Matcher::UnconditionalMatch,
            "noMatch" => Matcher::NoMatch,
            "geoLookup" => Matcher::GeoLookup(ctx.geo_db.cloned()),
            "rbl" | "gsbLookup" => {
                return Err(OperatorError::new(
                    name,
                    ErrorKind::Unsupported("needs network lookups"),
                ));
            }
            "rsub" => {
                return Err(OperatorError::new(
                    name,
                    ErrorKind::Unsupported("stream substitution"),
                ));
            }
            "inspectFile" => {
                return Err(OperatorError::new(
                    name,
                    ErrorKind::Unsupported("runs external programs"),
                ));
            }
            "fuzzyHash" | "validateHash" => {
                return Err(OperatorError::new(
                    name,
                    ErrorKind::Unsupported("not implemented"),
                ));
            }
            "validateDTD" | "validateSchema" => {
                return Err(OperatorError::new(
                    name,
                    ErrorKind::Unsupported("XML schema validation"),
                ));
            }
            "verifyCPF" | "verifySSN" | "verifySVNR" => {
                return Err(OperatorError::new(
                    name,
                    ErrorKind::Unsupported("not implemented"),
                ));
            }
            _ => return Err(OperatorError::new(name, ErrorKind::Unknown)),
        })
    }

    /// The canonical operator name (e.g. `rx`, `pmFromFile`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The argument as given to [`Operator::compile`].
    pub fn argument(&self) -> &str {
        &self.argument
    }

    /// The argument contains `%{…}` macros: the engine must expand it and
    /// compile per transaction; this operator itself never matches.
    pub fn needs_runtime_argument(&self) -> bool {
        matches!(self.matcher, Matcher::Deferred)
    }

    /// True for an `@rx` / `@verifyCC` pattern that runs on the backtracking
    /// engine (back references or lookaround); false for all other operators.
    pub fn uses_backtracking(&self) -> bool {
        match &self.matcher {
            Matcher::Rx(rx) | Matcher::VerifyCc(rx) => rx.is_backtracking(),
            _ => false,
        }
    }

    /// Number of literals in the `@rx` prefilter, if the pattern has one.
    pub fn prefilter_literal_count(&self) -> Option<usize> {
        match &self.matcher {
            Matcher::Rx(rx) => rx.prefilter_literal_count(),
            _ => None,
        }
    }

    /// Literals of which every input this operator matches contains at least one
    /// (compared ASCII-case-insensitively): the `@rx` prefilter's literals or the `@pm`
    /// phrases. `None` when the operator has no such set (it may match without any).
    /// An engine may skip [`Operator::matches`] on inputs that contain none of them:
    /// the result is `false` there.
    pub fn required_literals(&self) -> Option<&[Vec<u8>]> {
        match &self.matcher {
            Matcher::Rx(rx) => rx.required_literals(),
            Matcher::Pm(pm) => Some(pm.phrases()),
            _ => None,
        }
    }

    /// `@rx` only: a set of bytes (see [`ByteSet`]) of which every input this operator
    /// matches contains at least one. `None` when not known. An engine may skip
    /// [`Operator::matches`] on inputs without any of them: the result is `false` there.
    pub fn required_bytes(&self) -> Option<&ByteSet> {
        match &self.matcher {
            Matcher::Rx(rx) => rx.required_bytes(),
            _ => None,
        }
    }

    /// `@rx` only: true when the literal prefilter alone rules `input` out.
    /// Exposed for measurements; [`Operator::matches`] applies it already.
    pub fn rejected_by_prefilter(&self, input: &[u8]) -> bool {
        match &self.matcher {
            Matcher::Rx(rx) => rx.rejected_by_prefilter(input),
            _ => false,
        }
    }

    /// `@rx` only: runs the regex without the prefilter (for measurements and tests).
    pub fn matches_without_prefilter(&self, input: &[u8]) -> bool {
        match &self.matcher {
            Matcher::Rx(rx) => rx.matches_unfiltered(input, None),
            _ => self.matches(input, None),
        }
    }

    /// Runs an operator whose argument had macros ([`Operator::needs_runtime_argument`])
    /// with the engine's expansion of that argument. Text and numeric
    /// comparisons run directly without allocating; other operators are
    /// compiled from the expanded argument first (a compile error is no match).
    /// On an operator without macros this is the same as [`Operator::matches`].
    pub fn matches_expanded(
        &self,
        expanded_argument: &str,
        input: &[u8],
        captures: Option<&mut Captures>,
        ctx: &OperatorContext<'_>,
    ) -> bool {
        if !self.needs_runtime_argument() {
            return self.matches(input, captures);
        }
        let argument = expanded_argument.as_bytes();
        if let Some(test) = simple::TextTest::from_name(self.name) {
            return test.holds(argument, input, captures);
        }
        if let Some(comparison) = simple::Comparison::from_name(self.name) {
            return comparison.holds(
                simple::parse_leading_int(input),
                simple::parse_leading_int(argument),
            );
        }
        Operator::compile(self.name, expanded_argument, ctx).is_ok_and(|operator| {
            !operator.needs_runtime_argument() && operator.matches(input, captures)
        })
    }

    /// True for the `@detectXxx` operators (see [`Operator::matches_with_views`]).
    pub fn is_detector(&self) -> bool {
        matches!(self.matcher, Matcher::Detect(_))
    }

    /// [`Operator::matches`] with the decoded views of `input` supplied by the caller:
    /// a `@detectXxx` operator runs its detector over them instead of decoding
    /// `input` itself (`decoded` is called only when the raw input does not fire), so
    /// an engine that runs several detectors over one value decodes it once. Other
    /// operators ignore `decoded`. The result is the same as [`Operator::matches`].
    pub fn matches_with_views<'v>(
        &self,
        input: &[u8],
        captures: Option<&mut Captures>,
        decoded: impl FnOnce() -> &'v DecodedViews,
    ) -> bool {
        match &self.matcher {
            Matcher::Detect(class) => detector_matches(*class, input, decoded(), captures),
            _ => self.matches(input, captures),
        }
    }

    /// The attack class of a `@detectXxx` operator (see [`detector_matches`]), `None` for
    /// every other operator.
    pub fn detector_class(&self) -> Option<AttackClass> {
        match self.matcher {
            Matcher::Detect(class) => Some(class),
            _ => None,
        }
    }

    /// Runs the operator on one value. When `captures` is given and the
    /// operator matches, the slots it defines are written (others cleared).
    pub fn matches(&self, input: &[u8], captures: Option<&mut Captures>) -> bool {
        match &self.matcher {
            Matcher::Deferred | Matcher::NoMatch => false,
            Matcher::UnconditionalMatch => true,
            Matcher::Rx(rx) => rx.matches(input, captures),
            Matcher::Pm(pm) => pm.matches(input, captures),
            Matcher::Text(test, parameter) => test.holds(parameter, input, captures),
            Matcher::StrMatch(finder) => {
                simple::capture_if(finder.find(input).is_some(), finder.needle(), captures)
            }
            Matcher::Numeric(comparison, expected) => {
                comparison.holds(simple::parse_leading_int(input), *expected)
            }
            Matcher::IpMatch(set) => set.contains_text(input),
            Matcher::ValidateByteRange(allowed) => input.iter().any(|&b| !allowed[usize::from(b)]),
            Matcher::ValidateUrlEncoding => simple::invalid_url_encoding(input),
            Matcher::ValidateUtf8Encoding => std::str::from_utf8(input).is_err(),
            Matcher::VerifyCc(rx) => simple::verify_cc(rx, input, captures),
            Matcher::Detect(class) => detected(*class, input, class.detector()(input), captures),
            Matcher::GeoLookup(db) => db.as_ref().is_some_and(|db| {
                std::str::from_utf8(input)
                    .ok()
                    .and_then(|text| text.trim().parse().ok())
                    .is_some_and(|address| db.contains(address))
            }),
        }
    }
}

/// What the `@detectXxx` operator of `class` decides on `input` whose decoded views
/// (`DecodedViews::of(input)`) the caller built: the same as [`Operator::matches`] of
/// that operator, without the layers around it (an engine that runs many detector rules
/// over many values calls this directly; see [`Operator::detector_class`]).
#[inline]
pub fn detector_matches(
    class: AttackClass,
    input: &[u8],
    decoded: &DecodedViews,
    captures: Option<&mut Captures>,
) -> bool {
    detected(
        class,
        input,
        class.detect_with_views(input, || decoded),
        captures,
    )
}

/// The outcome of a `@detectXxx` operator: true on a detection, whose capture (`TX:0`) is
/// the SQLi fingerprint, the whole input for XSS, or the evidence for other classes.
#[inline]
fn detected(
    class: AttackClass,
    input: &[u8],
    detection: Option<palisade_detect::Detection>,
    captures: Option<&mut Captures>,
) -> bool {
    let Some(detection) = detection else {
        return false;
    };
    if let Some(captures) = captures {
        match class {
            AttackClass::Sqli => captures.set_only_zero(detection.fingerprint.as_bytes()),
            AttackClass::Xss => captures.set_only_zero(input),
            _ => captures.set_only_zero(input.get(detection.span.clone()).unwrap_or(input)),
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Operator>();
    }
}
