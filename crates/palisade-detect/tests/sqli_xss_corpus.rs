//! Labeled corpus harness for the SQL injection and XSS detectors.
//!
//! Each detector has `tests/data/<name>/attack.txt` (every line must be
//! detected) and `benign.txt` (no line may be detected). Lines starting with
//! `## ` are comments; `\n` and `\t` in a line stand for a newline and a tab. The harness
//! prints per-line failures and the true/false positive rates, then asserts
//! every verdict. Regenerate the corpora with `generate.py` in each directory.

use std::path::PathBuf;

use palisade_detect::{AttackClass, Detection, sqli, xss};

fn load(detector: &str, file: &str) -> Vec<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(detector)
        .join(file);
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.split(|&b| b == b'\n')
        .filter(|line| !line.is_empty() && !line.starts_with(b"## "))
        .map(|line| {
            let mut out = Vec::with_capacity(line.len());
            let mut i = 0;
            while i < line.len() {
                if line[i..].starts_with(b"\\n") {
                    out.push(b'\n');
                    i += 2;
                } else if line[i..].starts_with(b"\\t") {
                    out.push(b'\t');
                    i += 2;
                } else {
                    out.push(line[i]);
                    i += 1;
                }
            }
            out
        })
        .collect()
}

fn run_corpus(detector: &str, class: AttackClass, detect: fn(&[u8]) -> Option<Detection>) {
    let attacks = load(detector, "attack.txt");
    let benign = load(detector, "benign.txt");
    let mut failures = Vec::new();
    let mut detected = 0usize;
    for line in &attacks {
        match detect(line) {
            Some(found) => {
                assert_eq!(found.class, class);
                assert!(found.span.end <= line.len() && found.span.start <= found.span.end);
                detected += 1;
            }
            None => failures.push(format!("MISSED  {}", String::from_utf8_lossy(line))),
        }
    }
    let mut false_positives = 0usize;
    for line in &benign {
        if let Some(found) = detect(line) {
            false_positives += 1;
            failures.push(format!(
                "FALSE+  {}  [{}]",
                String::from_utf8_lossy(line),
                found.fingerprint
            ));
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let rate = |n: usize, d: usize| 100.0 * n as f64 / d.max(1) as f64;
    println!(
        "{detector}: TPR {:.2}% ({detected}/{}), FPR {:.2}% ({false_positives}/{})",
        rate(detected, attacks.len()),
        attacks.len(),
        rate(false_positives, benign.len()),
        benign.len()
    );
    for failure in &failures {
        println!("  {failure}");
    }
    assert!(
        attacks.len() >= 400 && benign.len() >= 800,
        "corpus too small"
    );
    assert!(
        failures.is_empty(),
        "{} wrong verdicts (see output)",
        failures.len()
    );
}

#[test]
fn sqli_corpus() {
    run_corpus("sqli", AttackClass::Sqli, sqli::detect);
}

#[test]
fn xss_corpus() {
    run_corpus("xss", AttackClass::Xss, xss::detect);
}
