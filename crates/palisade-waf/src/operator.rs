//! Operators as the engine calls them: a thin layer over `palisade-operators` adding
//! negation, run-time macro arguments and load-time classification.
//!
//! Design note: an operator `palisade-operators` reports as *unsupported* (network
//! lookups, XML schema validation, …) is kept and never matches; it is listed in the
//! load report so the gap is visible. Any other compile error fails the load.

use std::path::{Path, PathBuf};

use palisade_operators::{Captures, DecodedViews, Operator as Matcher, OperatorContext};
use palisade_seclang::Operator;

/// A compiled operator with its negation.
#[derive(Debug)]
pub(crate) struct CompiledOperator {
    negated: bool,
    matcher: Option<Matcher>,
    unsupported: Option<String>,
    /// Directory of the rule file, for operators compiled at run time.
    base_dir: PathBuf,
}

/// ModSecurity's `atoi`-like conversion used by setvar arithmetic: leading
/// whitespace, optional sign, digits; anything else is 0.
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

impl CompiledOperator {
    /// Compiles `operator`; data files are resolved relative to `base_dir`.
    pub(crate) fn compile(
        operator: &Operator,
        base_dir: &Path,
    ) -> Result<CompiledOperator, String> {
        let context = OperatorContext::new(base_dir);
        let (matcher, unsupported) =
            match Matcher::compile(&operator.name, &operator.argument, &context) {
                Ok(matcher) => (Some(matcher), None),
                Err(error) if error.is_unsupported() => (None, Some(error.to_string())),
                Err(error) => return Err(error.to_string()),
            };
        Ok(CompiledOperator {
            negated: operator.negated,
            matcher,
            unsupported,
            base_dir: base_dir.to_path_buf(),
        })
    }

    /// Why this operator never matches, when it is unsupported.
    pub(crate) fn unsupported_reason(&self) -> Option<&str> {
        self.unsupported.as_deref()
    }

    /// The operator's name (`rx`, `eq`, …); `None` when it is unsupported.
    pub(crate) fn name(&self) -> Option<&'static str> {
        self.matcher.as_ref().map(Matcher::name)
    }

    /// True for `!@op`.
    pub(crate) fn is_negated(&self) -> bool {
        self.negated
    }

    /// Literals of which every input the (non-negated) operator matches contains one.
    pub(crate) fn required_literals(&self) -> Option<&[Vec<u8>]> {
        self.matcher.as_ref().and_then(Matcher::required_literals)
    }

    /// Bytes of which every input the (non-negated) operator matches contains one.
    pub(crate) fn required_bytes(&self) -> Option<&palisade_operators::ByteSet> {
        self.matcher.as_ref().and_then(Matcher::required_bytes)
    }

    /// True for an `@rx` that runs on the backtracking engine.
    pub(crate) fn uses_backtracking(&self) -> bool {
        self.matcher
            .as_ref()
            .is_some_and(Matcher::uses_backtracking)
    }

    /// The argument to macro-expand per evaluation, when the operator needs one.
    pub(crate) fn dynamic_argument(&self) -> Option<&str> {
        self.matcher
            .as_ref()
            .filter(|m| m.needs_runtime_argument())
            .map(Matcher::argument)
    }

    /// True for a `@detectXxx` operator: it runs over decoded views of the value, which
    /// [`CompiledOperator::evaluate_with_views`] lets the engine build once per value.
    pub(crate) fn is_detector(&self) -> bool {
        self.matcher.as_ref().is_some_and(Matcher::is_detector)
    }

    /// The attack class of a `@detectXxx` operator and its negation: such a link runs
    /// `palisade_operators::detector_matches` on each value directly (see
    /// `Transaction::scan_detector_link`).
    pub(crate) fn detector(&self) -> Option<(palisade_operators::AttackClass, bool)> {
        self.matcher
            .as_ref()
            .and_then(Matcher::detector_class)
            .map(|class| (class, self.negated))
    }

    /// [`CompiledOperator::evaluate`] for a detector (see [`CompiledOperator::is_detector`])
    /// with the decoded views of `input` built by the caller (called at most once).
    pub(crate) fn evaluate_with_views<'v>(
        &self,
        input: &[u8],
        captures: Option<&mut Captures>,
        decoded: impl FnOnce() -> &'v DecodedViews,
    ) -> bool {
        let Some(matcher) = &self.matcher else {
            return false;
        };
        matcher.matches_with_views(input, captures, decoded) != self.negated
    }

    /// Evaluates the operator (negation applied). `expanded` is the macro-expanded
    /// argument for operators with macros; captures are filled when `captures` is given.
    pub(crate) fn evaluate(
        &self,
        input: &[u8],
        expanded: Option<&str>,
        captures: Option<&mut Captures>,
    ) -> bool {
        let Some(matcher) = &self.matcher else {
            return false;
        };
        // Text and numeric tests with a macro argument run directly on the expanded
        // argument; other operators are compiled from it (only when it has macros).
        let matched = match expanded {
            Some(argument) => {
                let context = OperatorContext::new(&self.base_dir);
                matcher.matches_expanded(argument, input, captures, &context)
            }
            None => matcher.matches(input, captures),
        };
        matched != self.negated
    }
}
