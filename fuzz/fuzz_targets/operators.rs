//! Fuzz target: compile an operator argument from the input and match the rest against it.
//!
//! Layout: byte 0 picks the operator (`@rx`, `@pm`, `@validateByteRange`, `@ipMatch`),
//! byte 1 is the argument length `n`, the next `n` bytes (lossy UTF-8) are the argument and
//! everything after is the value matched. Compilation may fail; matching must not panic or hang.
#![no_main]
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use palisade_operators::{Captures, Operator, OperatorContext};

const OPERATORS: [&str; 4] = ["rx", "pm", "validateByteRange", "ipMatch"];

fuzz_target!(|data: &[u8]| {
    let [selector, argument_len, rest @ ..] = data else {
        return;
    };
    let name = OPERATORS[usize::from(*selector) % OPERATORS.len()];
    let split = usize::from(*argument_len).min(rest.len());
    let (argument, value) = rest.split_at(split);
    let argument = String::from_utf8_lossy(argument);
    let ctx = OperatorContext::new(Path::new("."));
    if let Ok(operator) = Operator::compile(name, &argument, &ctx) {
        let mut captures = Captures::new();
        let with_captures = operator.matches(value, Some(&mut captures));
        let without_captures = operator.matches(value, None);
        assert_eq!(
            with_captures, without_captures,
            "@{name} {argument:?}: captures changed the verdict"
        );
    }
});
