//! Hostile or random patterns and inputs never panic: the PCRE translator and
//! every operator's compile step return errors instead, and matching is total.

use std::path::Path;

use palisade_operators::translate::translate;
use palisade_operators::{Captures, Operator, OperatorContext};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn translator_never_panics(pattern in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = translate(&pattern);
    }

    #[test]
    fn regex_like_patterns_compile_or_fail_cleanly(
        pattern in "[\\\\()\\[\\]{}|?*+.^$:<>=!#'PkgQEx0-9a-fA-Z-]{0,24}",
        input in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let ctx = OperatorContext::new(Path::new("."));
        if let Ok(operator) = Operator::compile("rx", &pattern, &ctx) {
            let mut captures = Captures::new();
            let with_captures = operator.matches(&input, Some(&mut captures));
            prop_assert_eq!(with_captures, operator.matches(&input, None));
            prop_assert_eq!(with_captures, operator.matches_without_prefilter(&input));
        }
    }

    #[test]
    fn string_operators_are_total(argument in "[ -~]{0,16}", input in proptest::collection::vec(any::<u8>(), 0..64)) {
        let ctx = OperatorContext::new(Path::new("."));
        for name in ["pm", "contains", "containsWord", "beginsWith", "endsWith", "streq", "strmatch", "within", "eq", "lt", "ipMatch", "validateByteRange", "validateUrlEncoding", "validateUtf8Encoding", "verifyCC"] {
            if let Ok(operator) = Operator::compile(name, &argument, &ctx) {
                let mut captures = Captures::new();
                prop_assert_eq!(operator.matches(&input, Some(&mut captures)), operator.matches(&input, None));
            }
        }
    }
}
