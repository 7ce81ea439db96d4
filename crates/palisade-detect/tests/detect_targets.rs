//! Asserts the detection targets on the repository corpus (`corpus/`):
//! TPR >= 97% in every attack class and overall FPR <= 1%.
//!
//! `corpus_meets_detection_targets` covers the eleven detectors of this
//! module set (everything but sqli/xss, which also have their own data-file
//! tests); `full_scan_all_meets_targets` asserts the same targets for the
//! complete `scan_all` product, sqli and xss included.

use std::path::PathBuf;

use palisade_detect::AttackClass;
use palisade_detect::eval::{EvalReport, evaluate};
use palisade_detect::normalize::classify;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus")
}

fn report() -> EvalReport {
    evaluate(&corpus(), classify)
        .unwrap_or_else(|error| panic!("corpus evaluation failed: {error}"))
}

/// `scan_all` restricted to the classes other than sqli/xss.
fn classify_without_sqli_xss(input: &[u8]) -> Vec<AttackClass> {
    classify(input)
        .into_iter()
        .filter(|class| !matches!(class, AttackClass::Sqli | AttackClass::Xss))
        .collect()
}

#[test]
fn corpus_meets_detection_targets() {
    let report = evaluate(&corpus(), classify_without_sqli_xss)
        .unwrap_or_else(|error| panic!("corpus evaluation failed: {error}"));
    println!("{report}");
    let below: Vec<String> = report
        .attacks
        .iter()
        .filter(|row| !matches!(row.class.as_str(), "sqli" | "xss"))
        .filter(|row| row.tpr_right_class < 0.97 || row.tpr < 0.97)
        .map(|row| {
            format!(
                "{} {:.2}% (missed e.g. {:?})",
                row.class,
                row.tpr * 100.0,
                row.missed_examples
            )
        })
        .collect();
    assert!(below.is_empty(), "classes below 97% TPR: {below:#?}");
    assert!(
        report.fpr <= 0.01,
        "FPR without sqli/xss {:.2}% > 1%",
        report.fpr * 100.0
    );
}

#[test]
fn full_scan_all_meets_targets() {
    let report = report();
    println!("{report}");
    assert!(
        report.attack_total >= 2_000,
        "corpus needs >= 2000 attacks, has {}",
        report.attack_total
    );
    assert!(
        report.benign_total >= 10_000,
        "corpus needs >= 10000 benign inputs, has {}",
        report.benign_total
    );
    assert_eq!(
        report.attacks.len(),
        palisade_detect::AttackClass::ALL.len(),
        "one attack file per class"
    );
    let below: Vec<String> = report
        .attacks
        .iter()
        .filter(|row| row.tpr < 0.97)
        .map(|row| {
            format!(
                "{} {:.2}% (missed e.g. {:?})",
                row.class,
                row.tpr * 100.0,
                row.missed_examples
            )
        })
        .collect();
    assert!(below.is_empty(), "classes below 97% TPR: {below:#?}");
    assert!(
        report.fpr <= 0.01,
        "overall FPR {:.2}% > 1%",
        report.fpr * 100.0
    );
}

#[test]
fn report_renders_as_table_and_json() {
    let report = report();
    let table = report.to_string();
    assert!(
        table.contains("ALL ATTACKS") && table.contains("path_traversal"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&report.to_json()).expect("report JSON parses");
    assert_eq!(
        json["attack_total"].as_u64(),
        Some(report.attack_total as u64)
    );
    assert!(
        json["attacks"]
            .as_array()
            .is_some_and(|rows| rows.iter().any(|row| row["class"] == "ssrf"))
    );
}
