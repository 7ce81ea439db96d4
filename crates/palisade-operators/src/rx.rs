//! `@rx`: PCRE-compatible regular expressions on a linear-time engine.
//!
//! A pattern is translated ([`crate::translate`]) and compiled with
//! `regex::bytes` (Unicode off, `.` matches any byte, multi-line anchors —
//! libmodsecurity's `PCRE2_DOTALL | PCRE2_MULTILINE`). Only patterns that need
//! back references or lookaround go to `fancy-regex` (byte mode) with a hard
//! backtrack limit; when that limit is hit the operator reports no match,
//! as libmodsecurity does when PCRE hits its match limit.
//!
//! Prefilter: from the pattern's HIR we extract a set of literals of which at
//! least one must occur (ASCII case-insensitively) in every matching input —
//! e.g. `(?i)<script[^>]*>` requires `<script`, `union\s+select|sleep\(` requires
//! one of {`union`, `sleep(`}. An Aho-Corasick scan rejects inputs without any
//! of them before the regex runs. The set is only used when every literal is at
//! least [`MIN_PREFILTER_LITERAL`] bytes long (shorter ones would not be
//! selective).
//!
//! Measured (`scripts/rx_oracle.py --time [--benign]`, all 318 CRS v4.28.0
//! patterns): the prefilter alone rejects ~45% of (pattern, value) pairs, but
//! total matching time with and without it is within run-to-run noise
//! (−10% … +1%), because `regex` already runs its own literal prefilters.
//! It stays because it never changes a result (asserted by that script and
//! by the proptests) and helps patterns whose required literal is not a prefix.

use aho_corasick::AhoCorasick;
use regex_syntax::hir::{Class, Hir, HirKind};

use crate::translate::translate;
use crate::{Captures, ErrorKind, OperatorError};

/// Shortest literal worth a prefilter scan.
const MIN_PREFILTER_LITERAL: usize = 3;
/// Most literals in one prefilter set (bigger sets are rarely selective).
const MAX_PREFILTER_LITERALS: usize = 256;
/// Most strings in an exact cross-product while extracting.
const MAX_EXACT_SET: usize = 64;
/// Backtracking step limit for `fancy-regex` (PCRE2's default match limit is 10 000 000).
const BACKTRACK_LIMIT: usize = 1_000_000;
/// Compiled program size limit for one pattern.
const REGEX_SIZE_LIMIT: usize = 64 << 20;

#[derive(Debug)]
enum Engine {
    Linear(regex::bytes::Regex),
    Backtracking(fancy_regex::Regex),
}

/// A compiled `@rx` pattern.
#[derive(Debug)]
pub(crate) struct Rx {
    engine: Engine,
    prefilter: Option<AhoCorasick>,
    /// The literals of `prefilter` (ASCII-lowercased): every match contains one of them.
    literals: Vec<Vec<u8>>,
    /// Every match contains at least one of these bytes (256-bit set), when known.
    required_bytes: Option<ByteSet>,
    /// Every match of the (linear) pattern is at least this long: shorter inputs are
    /// rejected without running anything.
    min_len: usize,
}

impl Rx {
    pub(crate) fn compile(operator: &str, pattern: &str) -> Result<Self, OperatorError> {
        // libmodsecurity compiles an empty pattern as ".*".
        let pattern = if pattern.is_empty() { ".*" } else { pattern };
        let translation = translate(pattern.as_bytes()).map_err(|error| {
            OperatorError::new(
                operator,
                ErrorKind::InvalidRegex(format!("{} at byte {}", error.message, error.offset)),
            )
        })?;
        let invalid =
            |message: String| OperatorError::new(operator, ErrorKind::InvalidRegex(message));
        let engine = if translation.needs_backtracking {
            let regex = fancy_regex::RegexBuilder::new(&translation.pattern)
                .bytes_mode(fancy_regex::BytesMode::Ascii)
                .dot_matches_new_line(true)
                .multi_line(true)
                .backtrack_limit(BACKTRACK_LIMIT)
                .delegate_size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|error| invalid(error.to_string()))?;
            Engine::Backtracking(regex)
        } else {
            let regex = regex::bytes::RegexBuilder::new(&translation.pattern)
                .unicode(false)
                .dot_matches_new_line(true)
                .multi_line(true)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|error| invalid(error.to_string()))?;
            Engine::Linear(regex)
        };
        let ((prefilter, literals), required_bytes, min_len) = if translation.needs_backtracking {
            ((None, Vec::new()), None, 0)
        } else {
            match parse_hir(&translation.pattern) {
                Some(hir) => (
                    build_prefilter(&hir),
                    required_byte_set(&hir),
                    hir.properties().minimum_len().unwrap_or(0),
                ),
                None => ((None, Vec::new()), None, 0),
            }
        };
        Ok(Self {
            engine,
            prefilter,
            literals,
            required_bytes,
            min_len,
        })
    }

    pub(crate) fn is_backtracking(&self) -> bool {
        matches!(self.engine, Engine::Backtracking(_))
    }

    pub(crate) fn prefilter_literal_count(&self) -> Option<usize> {
        self.prefilter.as_ref().map(AhoCorasick::patterns_len)
    }

    /// The prefilter's literals (ASCII-lowercased; compare case-insensitively): every
    /// match contains one of them. `None` when the pattern has no prefilter.
    pub(crate) fn required_literals(&self) -> Option<&[Vec<u8>]> {
        self.prefilter.as_ref().map(|_| self.literals.as_slice())
    }

    /// A byte set of which every match contains at least one byte, when known.
    pub(crate) fn required_bytes(&self) -> Option<&ByteSet> {
        self.required_bytes.as_ref()
    }

    /// True when the prefilter proves `input` cannot match.
    pub(crate) fn rejected_by_prefilter(&self, input: &[u8]) -> bool {
        self.prefilter
            .as_ref()
            .is_some_and(|prefilter| !prefilter.is_match(input))
    }

    pub(crate) fn matches(&self, input: &[u8], captures: Option<&mut Captures>) -> bool {
        if input.len() < self.min_len || self.rejected_by_prefilter(input) {
            return false;
        }
        self.matches_unfiltered(input, captures)
    }

    /// Calls `visit(start, end)` for successive non-overlapping matches until it returns true.
    pub(crate) fn for_each_match(&self, input: &[u8], mut visit: impl FnMut(usize, usize) -> bool) {
        match &self.engine {
            Engine::Linear(regex) => {
                for found in regex.find_iter(input) {
                    if visit(found.start(), found.end()) {
                        return;
                    }
                }
            }
            Engine::Backtracking(regex) => {
                for found in regex.find_iter(input) {
                    let Ok(found) = found else {
                        return;
                    };
                    if visit(found.start(), found.end()) {
                        return;
                    }
                }
            }
        }
    }

    pub(crate) fn matches_unfiltered(&self, input: &[u8], captures: Option<&mut Captures>) -> bool {
        match &self.engine {
            Engine::Linear(regex) => match captures {
                None => regex.is_match(input),
                Some(captures) => {
                    // The DFA answers "no match" far faster than a capturing search.
                    if !regex.is_match(input) {
                        return false;
                    }
                    let mut locations = regex.capture_locations();
                    if regex.captures_read(&mut locations, input).is_none() {
                        return false;
                    }
                    captures.clear();
                    for group in 0..locations.len().min(Captures::SLOTS) {
                        if let Some((start, end)) = locations.get(group) {
                            captures.set(group, &input[start..end]);
                        }
                    }
                    true
                }
            },
            Engine::Backtracking(regex) => match captures {
                // A backtrack-limit error counts as no match (PCRE2_ERROR_MATCHLIMIT in libmodsecurity).
                None => regex.is_match(input).unwrap_or(false),
                Some(captures) => match regex.captures(input) {
                    Ok(Some(found)) => {
                        captures.clear();
                        for group in 0..found.len().min(Captures::SLOTS) {
                            if let Some(matched) = found.get(group) {
                                captures.set(group, &input[matched.start()..matched.end()]);
                            }
                        }
                        true
                    }
                    Ok(None) | Err(_) => false,
                },
            },
        }
    }
}

/// Literal facts about a sub-expression, all literals ASCII-lowercased.
struct Facts {
    /// The sub-expression matches exactly one of these strings (case-insensitively), if known.
    exact: Option<Vec<Vec<u8>>>,
    /// Every match contains one of these strings, if known.
    required: Option<Vec<Vec<u8>>>,
}

/// A set of bytes as a 256-bit map (bit `b % 64` of word `b / 64`).
pub type ByteSet = [u64; 4];

fn byte_set_insert(set: &mut ByteSet, byte: u8) {
    set[usize::from(byte / 64)] |= 1 << (byte % 64);
}

/// How common a byte set's bytes are in benign values (lower is more selective):
/// letters and digits count 8, every other byte 1.
fn byte_set_weight(set: &ByteSet) -> u32 {
    (0..=255u8)
        .filter(|&b| set[usize::from(b / 64)] & (1 << (b % 64)) != 0)
        .map(|b| if b.is_ascii_alphanumeric() { 8 } else { 1 })
        .sum()
}

/// A byte set of which every match of `hir` contains at least one byte — the most
/// selective one found — or `None` when none is known (e.g. `hir` can match empty).
/// Example: `(?i)<\?(?:php|=)|\[/?php\]` requires one of `<` `[`.
fn required_byte_set(hir: &Hir) -> Option<ByteSet> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(literal) => {
            // Any one byte of the literal is required: take the most selective.
            let mut best: Option<ByteSet> = None;
            for &byte in literal.0.iter() {
                let mut set = [0; 4];
                byte_set_insert(&mut set, byte);
                best = more_selective(best, Some(set));
            }
            best
        }
        HirKind::Class(Class::Bytes(class)) => {
            let mut set = [0; 4];
            for range in class.ranges() {
                for byte in range.start()..=range.end() {
                    byte_set_insert(&mut set, byte);
                }
            }
            (set != [0; 4]).then_some(set)
        }
        HirKind::Class(Class::Unicode(class)) => {
            let mut set = [0; 4];
            for range in class.ranges() {
                let (start, end) = (u32::from(range.start()), u32::from(range.end()));
                if end > 0x7f {
                    // Multi-byte encodings: not expressed as single bytes here.
                    return None;
                }
                for code in start..=end {
                    byte_set_insert(&mut set, u8::try_from(code).ok()?);
                }
            }
            (set != [0; 4]).then_some(set)
        }
        HirKind::Capture(capture) => required_byte_set(&capture.sub),
        HirKind::Repetition(repetition) if repetition.min > 0 => required_byte_set(&repetition.sub),
        HirKind::Repetition(_) => None,
        HirKind::Concat(children) => children.iter().fold(None, |best, child| {
            more_selective(best, required_byte_set(child))
        }),
        HirKind::Alternation(branches) => {
            let mut union = [0; 4];
            for branch in branches {
                let set = required_byte_set(branch)?;
                for (word, more) in union.iter_mut().zip(set) {
                    *word |= more;
                }
            }
            Some(union)
        }
    }
}

fn more_selective(a: Option<ByteSet>, b: Option<ByteSet>) -> Option<ByteSet> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if byte_set_weight(&b) < byte_set_weight(&a) {
            b
        } else {
            a
        }),
        (a, b) => a.or(b),
    }
}

/// The pattern as the linear engine compiles it (same flags).
fn parse_hir(pattern: &str) -> Option<Hir> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .dot_matches_new_line(true)
        .multi_line(true)
        .build()
        .parse(pattern)
        .ok()
}

/// The prefilter of a pattern and its literals (`(None, [])` when it has none).
fn build_prefilter(hir: &Hir) -> (Option<AhoCorasick>, Vec<Vec<u8>>) {
    let facts = facts(hir);
    let Some(literals) = best(facts.required, facts.exact) else {
        return (None, Vec::new());
    };
    if literals
        .iter()
        .any(|literal| literal.len() < MIN_PREFILTER_LITERAL)
        || literals.len() > MAX_PREFILTER_LITERALS
    {
        return (None, Vec::new());
    }
    match AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&literals)
    {
        Ok(automaton) => (Some(automaton), literals),
        Err(_) => (None, Vec::new()),
    }
}

/// Score of a literal set: longer shortest literal first, then fewer literals.
fn score(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set.iter().map(Vec::len).min().unwrap_or(0);
    (shortest.min(16), std::cmp::Reverse(set.len()))
}

fn best(a: Option<Vec<Vec<u8>>>, b: Option<Vec<Vec<u8>>>) -> Option<Vec<Vec<u8>>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if score(&b) > score(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn dedup(mut set: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    set.sort();
    set.dedup();
    set
}

/// The byte set of a class when it is at most two case variants of one byte.
fn class_as_literal(class: &Class) -> Option<Vec<Vec<u8>>> {
    let mut bytes = Vec::new();
    match class {
        Class::Bytes(class) => {
            for range in class.ranges() {
                if usize::from(range.end() - range.start()) + bytes.len() >= 4 {
                    return None;
                }
                bytes.extend(range.start()..=range.end());
            }
        }
        Class::Unicode(class) => {
            for range in class.ranges() {
                let (start, end) = (u32::from(range.start()), u32::from(range.end()));
                if end > 0x7f || (end - start) as usize + bytes.len() >= 4 {
                    return None;
                }
                bytes.extend((start..=end).filter_map(|c| u8::try_from(c).ok()));
            }
        }
    }
    let mut lowered: Vec<Vec<u8>> = bytes.iter().map(|b| vec![b.to_ascii_lowercase()]).collect();
    lowered = dedup(lowered);
    (!lowered.is_empty()).then_some(lowered)
}

fn cross(prefixes: &[Vec<u8>], suffixes: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if prefixes.len().saturating_mul(suffixes.len()) > MAX_EXACT_SET {
        return None;
    }
    let mut out = Vec::with_capacity(prefixes.len() * suffixes.len());
    for prefix in prefixes {
        for suffix in suffixes {
            let mut joined = prefix.clone();
            joined.extend_from_slice(suffix);
            out.push(joined);
        }
    }
    Some(dedup(out))
}

fn facts(hir: &Hir) -> Facts {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Facts {
            exact: Some(vec![Vec::new()]),
            required: None,
        },
        HirKind::Literal(literal) => {
            let lowered = literal.0.to_ascii_lowercase();
            Facts {
                exact: Some(vec![lowered.clone()]),
                required: Some(vec![lowered]),
            }
        }
        HirKind::Class(class) => Facts {
            exact: class_as_literal(class),
            required: None,
        },
        HirKind::Capture(capture) => facts(&capture.sub),
        HirKind::Repetition(repetition) => {
            let inner = facts(&repetition.sub);
            if repetition.min == 0 {
                return Facts {
                    exact: None,
                    required: None,
                };
            }
            if repetition.max == Some(1) {
                return inner;
            }
            Facts {
                exact: None,
                required: best(inner.required, inner.exact),
            }
        }
        HirKind::Alternation(branches) => {
            let mut exact: Option<Vec<Vec<u8>>> = Some(Vec::new());
            let mut required: Option<Vec<Vec<u8>>> = Some(Vec::new());
            for branch in branches {
                let branch_facts = facts(branch);
                exact = match (exact, branch_facts.exact.as_ref()) {
                    (Some(mut all), Some(more)) if all.len() + more.len() <= MAX_EXACT_SET => {
                        all.extend(more.iter().cloned());
                        Some(all)
                    }
                    _ => None,
                };
                required = match (required, best(branch_facts.required, branch_facts.exact)) {
                    (Some(mut all), Some(more))
                        if all.len() + more.len() <= MAX_PREFILTER_LITERALS =>
                    {
                        all.extend(more);
                        Some(all)
                    }
                    _ => None,
                };
            }
            Facts {
                exact: exact.map(dedup),
                required: required.map(dedup),
            }
        }
        HirKind::Concat(children) => {
            let mut current: Option<Vec<Vec<u8>>> = Some(vec![Vec::new()]);
            let mut whole_exact = true;
            let mut best_required: Option<Vec<Vec<u8>>> = None;
            for child in children {
                let child_facts = facts(child);
                let joined = match (&current, &child_facts.exact) {
                    (Some(prefixes), Some(suffixes)) => cross(prefixes, suffixes),
                    _ => None,
                };
                match joined {
                    Some(joined) => current = Some(joined),
                    None => {
                        whole_exact = false;
                        best_required =
                            best(best_required, current.take().filter(|set| score(set).0 > 0));
                        best_required = best(
                            best_required,
                            best(
                                child_facts.required,
                                child_facts.exact.filter(|set| score(set).0 > 0),
                            ),
                        );
                        current = Some(vec![Vec::new()]);
                    }
                }
            }
            let tail = current.filter(|set| score(set).0 > 0);
            if whole_exact {
                Facts {
                    required: tail.clone(),
                    exact: tail,
                }
            } else {
                Facts {
                    exact: None,
                    required: best(best_required, tail),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literals(pattern: &str) -> Option<Vec<String>> {
        let translated = translate(pattern.as_bytes()).ok()?.pattern;
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(&translated)
            .ok()?;
        let facts = facts(&hir);
        best(facts.required, facts.exact).map(|set| {
            set.iter()
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect()
        })
    }

    #[test]
    fn extracts_required_literals() {
        assert_eq!(
            literals("(?i)<script[^>]*>"),
            Some(vec!["<script".to_owned()])
        );
        assert_eq!(
            literals("union\\s+select|sleep\\("),
            Some(vec!["select".to_owned(), "sleep(".to_owned()])
        );
        assert_eq!(
            literals("(?i)a[bc]d"),
            Some(vec!["abd".to_owned(), "acd".to_owned()])
        );
        assert_eq!(literals("x*"), None);
        assert_eq!(literals("a|\\d+"), None);
    }

    #[test]
    fn prefilter_never_rejects_a_match() {
        let cases: &[(&str, &[u8])] = &[
            ("(?i)<script[^>]*>", b"xx<SCRIPT src=1>"),
            ("union\\s+select|sleep\\(", b"1 UNION select"),
            ("union\\s+select|sleep\\(", b"sleep(5)"),
            ("(?i)(?:abc|de)fgh", b"DEFGH"),
        ];
        for (pattern, input) in cases {
            let rx = Rx::compile("rx", pattern).expect(pattern);
            assert!(
                rx.prefilter_literal_count().is_some(),
                "{pattern} has no prefilter"
            );
            assert_eq!(
                rx.matches(input, None),
                rx.matches_unfiltered(input, None),
                "{pattern}"
            );
        }
    }

    #[test]
    fn required_byte_sets_are_the_most_selective_necessary_bytes() {
        let set = |pattern: &str| {
            let rx = Rx::compile("rx", pattern).expect(pattern);
            rx.required_bytes().map(|set| {
                (0..=255u8)
                    .filter(|&b| set[usize::from(b / 64)] & (1 << (b % 64)) != 0)
                    .map(char::from)
                    .collect::<String>()
            })
        };
        assert_eq!(set(r"(?i)\x5cu[0-9a-f]{4}").as_deref(), Some("\\"));
        assert_eq!(
            set(r"(?i)<\?(?:php[\s\x0b]|[\s\x0b=]|$)|\[[/\x5c]?php\]|\{/?php\}").as_deref(),
            Some("<[{")
        );
        // A case-insensitive letter is a two-byte class.
        assert_eq!(set("(?i)abc").as_deref(), Some("Aa"));
        // Optional parts and empty matches require nothing.
        assert_eq!(set("x?"), None);
        assert_eq!(set("^$"), None);
        assert_eq!(set("a|b?"), None);
    }

    #[test]
    fn inputs_shorter_than_any_match_are_rejected_up_front() {
        let rx = Rx::compile("rx", "(?i)union\\s+select").expect("compiles");
        assert_eq!(rx.min_len, 12);
        assert!(!rx.matches(b"union selec", None));
        assert!(rx.matches(b"UNION  SELECT", None));
        // Anchors and empty alternatives make no minimum.
        assert_eq!(Rx::compile("rx", "^$").expect("compiles").min_len, 0);
        assert_eq!(Rx::compile("rx", "abc|").expect("compiles").min_len, 0);
    }
}
