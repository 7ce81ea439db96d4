//! Hostile-input tests for the SQL injection and XSS detectors: 1 MB inputs
//! built to provoke super-linear work (unterminated quotes and comments,
//! deep nesting, a quote or tag opener every few bytes) must finish quickly
//! and never panic.

use std::time::{Duration, Instant};

use palisade_detect::{sqli, xss};

const SIZE: usize = 1 << 20;

fn repeat(unit: &str) -> Vec<u8> {
    unit.as_bytes().iter().copied().cycle().take(SIZE).collect()
}

fn hostile_inputs() -> Vec<(String, Vec<u8>)> {
    let units = [
        "'",
        "\"",
        "(",
        ")",
        "((1",
        "/*",
        "/*!",
        "--\n",
        "' or ",
        "1 or 1=",
        "select(",
        "union ",
        "a' ",
        "\\'",
        "`",
        "[",
        "@@",
        "0x",
        "1e",
        "case when ",
        "sleep(",
        ";",
        "$",
        "<",
        "<a ",
        "<a x=\"",
        "<!--",
        "<!",
        "</",
        "<a/",
        "<svg/onload=",
        "\" onx=",
        "' a=\" ",
        "a=\" ",
        "${",
        "'-",
        "&#",
        "&#x6a",
        "javascript:",
        "style=\"x:",
        "/**/",
        "\\",
        "<<<a",
        "url(",
        "expression",
        " ",
        "\t",
    ];
    let mut inputs: Vec<(String, Vec<u8>)> = units
        .iter()
        .map(|u| (format!("{u:?} repeated"), repeat(u)))
        .collect();
    let mut quote_then_text = b"'".to_vec();
    quote_then_text.extend(std::iter::repeat_n(b'a', SIZE));
    inputs.push(("quote then 1 MB of text".into(), quote_then_text));
    let mut noise = Vec::with_capacity(SIZE);
    let mut state: u32 = 0x2545_f491;
    while noise.len() < SIZE {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        noise.push(b"<>'\"=/ a(o)n-*#;&x\\`$"[state as usize % 21]);
    }
    inputs.push(("markup/SQL noise".into(), noise));
    inputs
}

#[test]
fn one_megabyte_hostile_inputs_finish_quickly() {
    // Generous even for an unoptimised build on a loaded machine; quadratic
    // behaviour on 1 MB would take minutes.
    let budget = Duration::from_secs(if cfg!(debug_assertions) { 30 } else { 3 });
    for (name, input) in hostile_inputs() {
        for (detector, detect) in [
            ("sqli", sqli::detect as fn(&[u8]) -> _),
            ("xss", xss::detect),
        ] {
            let started = Instant::now();
            let found = detect(&input);
            let elapsed = started.elapsed();
            if let Some(found) = &found {
                assert!(
                    found.span.end <= input.len(),
                    "{detector} span out of range on {name}"
                );
            }
            println!(
                "{detector} {name}: {elapsed:?} ({})",
                found.map_or("clean".into(), |d| d.fingerprint)
            );
            assert!(elapsed < budget, "{detector} took {elapsed:?} on {name}");
        }
    }
}
