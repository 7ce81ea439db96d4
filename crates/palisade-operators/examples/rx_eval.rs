//! Development tool: evaluates `@rx` patterns against inputs and prints one
//! line per pattern with a `0`/`1` per input (or `E` when the pattern does
//! not compile). Used by `scripts/rx_oracle.py` to compare against another
//! regex engine, and to time the prefilter.
//!
//! Usage: `rx_eval PATTERNS_HEX INPUTS_HEX` — files with one hex-encoded
//! pattern / input per line. With `--time` it instead prints, per pattern,
//! nanoseconds for all inputs with and without the prefilter.

use std::path::Path;
use std::time::Instant;

use palisade_operators::{Operator, OperatorContext};

fn read_hex_lines(path: &str) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{path}: {error}"));
    text.lines()
        .map(|line| {
            (0..line.len() / 2)
                .map(|i| {
                    u8::from_str_radix(&line[2 * i..2 * i + 2], 16)
                        .unwrap_or_else(|_| panic!("{path}: bad hex"))
                })
                .collect()
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let time = args.iter().any(|arg| arg == "--time");
    let files: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let [patterns, inputs] = files.as_slice() else {
        eprintln!("usage: rx_eval [--time] PATTERNS_HEX INPUTS_HEX");
        std::process::exit(2);
    };
    let patterns = read_hex_lines(patterns);
    let inputs = read_hex_lines(inputs);
    let ctx = OperatorContext::new(Path::new("."));
    let (mut total_with, mut total_without, mut rejected, mut evaluations) =
        (0u128, 0u128, 0u64, 0u64);
    for pattern in &patterns {
        let pattern = String::from_utf8_lossy(pattern);
        let Ok(operator) = Operator::compile("rx", &pattern, &ctx) else {
            println!("E");
            continue;
        };
        if time {
            // Warm the lazy DFA caches first so neither timed pass pays for it.
            let warm: usize = inputs
                .iter()
                .filter(|input| operator.matches_without_prefilter(input))
                .count();
            let start = Instant::now();
            let with: usize = inputs
                .iter()
                .filter(|input| operator.matches(input, None))
                .count();
            let middle = Instant::now();
            let without: usize = inputs
                .iter()
                .filter(|input| operator.matches_without_prefilter(input))
                .count();
            let end = Instant::now();
            assert_eq!(with, without, "prefilter changed a result for {pattern}");
            assert_eq!(warm, without);
            total_with += (middle - start).as_nanos();
            total_without += (end - middle).as_nanos();
            rejected += inputs
                .iter()
                .filter(|input| operator.rejected_by_prefilter(input))
                .count() as u64;
            evaluations += inputs.len() as u64;
        } else {
            let line: String = inputs
                .iter()
                .map(|input| {
                    if operator.matches(input, None) {
                        '1'
                    } else {
                        '0'
                    }
                })
                .collect();
            println!("{line}");
        }
    }
    if time {
        println!(
            "patterns={} inputs={} evaluations={evaluations} rejected_by_prefilter={rejected} ({:.1}%) time_with_prefilter={:.1}ms time_without={:.1}ms",
            patterns.len(),
            inputs.len(),
            100.0 * rejected as f64 / evaluations.max(1) as f64,
            total_with as f64 / 1e6,
            total_without as f64 / 1e6
        );
    }
}
