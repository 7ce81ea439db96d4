//! Operators as the engine calls them.
//!
//! Design note: the full operator set (PCRE→Rust translation for `@rx`, libinjection-
//! style `@detectSQLi`/`@detectXSS`, …) belongs to `palisade-operators`; until that
//! crate's API lands this module implements the operators CRS needs directly on the
//! linear-time `regex` crate and `aho-corasick`. An operator that cannot be compiled
//! (a PCRE-only regex feature, an unimplemented operator) is kept as
//! [`OperatorKind::Unsupported`]: it never matches and is listed in the load report, so
//! the gap is visible instead of silent.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use ipnet::IpNet;
use palisade_seclang::Operator;

/// Capture groups of the last `@rx` match (TX:0 … TX:9).
pub(crate) type Captures = Vec<Vec<u8>>;

#[derive(Debug)]
pub(crate) enum OperatorKind {
    Rx(Arc<regex::bytes::Regex>),
    Pm(Arc<AhoCorasick>),
    Numeric(NumericOp, i64),
    Str(StrOp, Vec<u8>),
    ValidateByteRange(Box<[bool; 256]>),
    ValidateUrlEncoding,
    ValidateUtf8Encoding,
    IpMatch(Vec<IpNet>),
    Unconditional,
    NoMatch,
    /// Argument has macros: compiled per evaluation (only for cheap operators).
    Dynamic(String),
    Unsupported(String),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum NumericOp {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum StrOp {
    Streq,
    Contains,
    ContainsWord,
    BeginsWith,
    EndsWith,
    Within,
    StrMatch,
}

/// A compiled operator with its negation.
#[derive(Debug)]
pub(crate) struct CompiledOperator {
    pub name: String,
    pub negated: bool,
    pub kind: OperatorKind,
}

/// ModSecurity's `atoi`-like conversion: leading whitespace, optional sign, digits; else 0.
pub(crate) fn parse_number(bytes: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start();
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end]
        .parse::<i64>()
        .map_or(0, |n| n.saturating_mul(sign))
}

fn compile_regex(pattern: &str) -> Result<regex::bytes::Regex, String> {
    let build = |unicode: bool| {
        regex::bytes::RegexBuilder::new(pattern)
            .unicode(unicode)
            .size_limit(256 * 1024 * 1024)
            .dfa_size_limit(16 * 1024 * 1024)
            .build()
    };
    build(false).or_else(|_| build(true)).map_err(|error| {
        let message = error.to_string();
        let first = message.lines().last().unwrap_or_default().to_owned();
        format!("@rx not compilable by the linear regex engine: {first}")
    })
}

fn phrases_matcher(phrases: Vec<Vec<u8>>) -> Result<Arc<AhoCorasick>, String> {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(phrases)
        .map(Arc::new)
        .map_err(|error| format!("@pm: {error}"))
}

fn byte_ranges(argument: &str) -> Result<Box<[bool; 256]>, String> {
    let mut allowed = Box::new([false; 256]);
    for part in argument.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (low, high) = part.split_once('-').unwrap_or((part, part));
        let low: u8 = low
            .trim()
            .parse()
            .map_err(|_| format!("@validateByteRange: bad range `{part}`"))?;
        let high: u8 = high
            .trim()
            .parse()
            .map_err(|_| format!("@validateByteRange: bad range `{part}`"))?;
        for byte in low..=high {
            allowed[usize::from(byte)] = true;
        }
    }
    Ok(allowed)
}

fn ip_list(argument: &str) -> Result<Vec<IpNet>, String> {
    argument
        .split([',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| {
            part.parse::<IpNet>()
                .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("@ipMatch: bad address `{part}`"))
        })
        .collect()
}

impl CompiledOperator {
    /// Compiles `operator`; data files are resolved relative to `base_dir`.
    pub(crate) fn compile(
        operator: &Operator,
        base_dir: &Path,
    ) -> Result<CompiledOperator, String> {
        let kind =
            if operator.argument.contains("%{") && operator.name != "rx" && operator.name != "pm" {
                OperatorKind::Dynamic(operator.argument.clone())
            } else {
                Self::compile_kind(&operator.name, &operator.argument, base_dir)?
            };
        Ok(CompiledOperator {
            name: operator.name.clone(),
            negated: operator.negated,
            kind,
        })
    }

    fn compile_kind(name: &str, argument: &str, base_dir: &Path) -> Result<OperatorKind, String> {
        let numeric = |op| OperatorKind::Numeric(op, parse_number(argument.as_bytes()));
        let string = |op| OperatorKind::Str(op, argument.as_bytes().to_vec());
        Ok(match name {
            "rx" => match compile_regex(argument) {
                Ok(regex) => OperatorKind::Rx(Arc::new(regex)),
                Err(reason) => OperatorKind::Unsupported(reason),
            },
            "pm" => OperatorKind::Pm(phrases_matcher(
                argument
                    .split_whitespace()
                    .map(|p| p.as_bytes().to_vec())
                    .collect(),
            )?),
            "pmFromFile" | "pmf" => {
                let mut phrases = Vec::new();
                for file in argument.split_whitespace() {
                    let path = base_dir.join(file);
                    let text = std::fs::read_to_string(&path)
                        .map_err(|error| format!("@pmFromFile {}: {error}", path.display()))?;
                    phrases.extend(
                        text.lines()
                            .map(str::trim)
                            .filter(|line| !line.is_empty() && !line.starts_with('#'))
                            .map(|line| line.as_bytes().to_vec()),
                    );
                }
                OperatorKind::Pm(phrases_matcher(phrases)?)
            }
            "eq" => numeric(NumericOp::Eq),
            "ge" => numeric(NumericOp::Ge),
            "gt" => numeric(NumericOp::Gt),
            "le" => numeric(NumericOp::Le),
            "lt" => numeric(NumericOp::Lt),
            "streq" => string(StrOp::Streq),
            "contains" => string(StrOp::Contains),
            "containsWord" => string(StrOp::ContainsWord),
            "beginsWith" => string(StrOp::BeginsWith),
            "endsWith" => string(StrOp::EndsWith),
            "within" => string(StrOp::Within),
            "strmatch" => string(StrOp::StrMatch),
            "validateByteRange" => OperatorKind::ValidateByteRange(byte_ranges(argument)?),
            "validateUrlEncoding" => OperatorKind::ValidateUrlEncoding,
            "validateUtf8Encoding" => OperatorKind::ValidateUtf8Encoding,
            "ipMatch" => OperatorKind::IpMatch(ip_list(argument)?),
            "unconditionalMatch" => OperatorKind::Unconditional,
            "noMatch" => OperatorKind::NoMatch,
            other => OperatorKind::Unsupported(format!("@{other} is not implemented yet")),
        })
    }

    /// Why this operator never matches, when it is unsupported.
    pub(crate) fn unsupported_reason(&self) -> Option<&str> {
        match &self.kind {
            OperatorKind::Unsupported(reason) => Some(reason),
            _ => None,
        }
    }

    /// True when the operator needs its argument expanded per evaluation.
    pub(crate) fn dynamic_argument(&self) -> Option<&str> {
        match &self.kind {
            OperatorKind::Dynamic(argument) => Some(argument),
            _ => None,
        }
    }

    /// Evaluates the operator (negation applied). `expanded` is the macro-expanded
    /// argument for dynamic operators. Captures are filled for `@rx` when `capture`.
    pub(crate) fn evaluate(
        &self,
        input: &[u8],
        expanded: Option<&str>,
        capture: bool,
        captures: &mut Captures,
    ) -> bool {
        let matched = match (&self.kind, expanded) {
            (OperatorKind::Dynamic(_), Some(argument)) => {
                match Self::compile_kind(&self.name, argument, Path::new(".")) {
                    Ok(kind) => Self::run(&kind, input, capture, captures),
                    Err(_) => false,
                }
            }
            (kind, _) => Self::run(kind, input, capture, captures),
        };
        matched != self.negated
    }

    fn run(kind: &OperatorKind, input: &[u8], capture: bool, captures: &mut Captures) -> bool {
        match kind {
            OperatorKind::Rx(regex) => {
                if !capture {
                    return regex.is_match(input);
                }
                match regex.captures(input) {
                    Some(groups) => {
                        captures.clear();
                        for index in 0..groups.len().min(10) {
                            captures.push(
                                groups
                                    .get(index)
                                    .map_or_else(Vec::new, |m| m.as_bytes().to_vec()),
                            );
                        }
                        true
                    }
                    None => false,
                }
            }
            OperatorKind::Pm(matcher) => match matcher.find(input) {
                Some(found) => {
                    if capture {
                        captures.clear();
                        captures.push(input[found.start()..found.end()].to_vec());
                    }
                    true
                }
                None => false,
            },
            OperatorKind::Numeric(op, expected) => {
                let value = parse_number(input);
                match op {
                    NumericOp::Eq => value == *expected,
                    NumericOp::Ge => value >= *expected,
                    NumericOp::Gt => value > *expected,
                    NumericOp::Le => value <= *expected,
                    NumericOp::Lt => value < *expected,
                }
            }
            OperatorKind::Str(op, argument) => match op {
                StrOp::Streq => input == argument.as_slice(),
                StrOp::Contains | StrOp::StrMatch => contains(input, argument),
                StrOp::ContainsWord => contains_word(input, argument),
                StrOp::BeginsWith => input.starts_with(argument),
                StrOp::EndsWith => input.ends_with(argument),
                StrOp::Within => !input.is_empty() && contains(argument, input),
            },
            OperatorKind::ValidateByteRange(allowed) => {
                input.iter().any(|b| !allowed[usize::from(*b)])
            }
            OperatorKind::ValidateUrlEncoding => invalid_url_encoding(input),
            OperatorKind::ValidateUtf8Encoding => std::str::from_utf8(input).is_err(),
            OperatorKind::IpMatch(networks) => std::str::from_utf8(input)
                .ok()
                .and_then(|text| text.trim().parse::<IpAddr>().ok())
                .is_some_and(|address| networks.iter().any(|net| net.contains(&address))),
            OperatorKind::Unconditional => true,
            OperatorKind::NoMatch | OperatorKind::Dynamic(_) | OperatorKind::Unsupported(_) => {
                false
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || memchr::memmem::find(haystack, needle).is_some()
}

fn contains_word(haystack: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    memchr::memmem::find_iter(haystack, needle).any(|start| {
        let end = start + needle.len();
        (start == 0 || !is_word(haystack[start - 1]))
            && haystack.get(end).is_none_or(|b| !is_word(*b))
    })
}

fn invalid_url_encoding(input: &[u8]) -> bool {
    let mut index = 0;
    while index < input.len() {
        if input[index] == b'%' {
            match input.get(index + 1..index + 3) {
                Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => index += 3,
                _ => return true,
            }
        } else {
            index += 1;
        }
    }
    false
}
