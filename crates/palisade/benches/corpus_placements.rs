//! The whole labeled corpus (`corpus/`) sent through a real `palisade serve`
//! with the default ruleset in every placement (query, form, multipart, JSON,
//! XML, header, cookie, path): per-placement and per-class true-positive
//! rates and false-positive rates, as `palisade detect eval` reports them
//! for the detectors alone. A measurement, not a timing; the sampled version
//! is the test `tests/corpus_placements.rs`.
//!
//! Run: `cargo bench -p palisade --bench corpus_placements` (add
//! `-- PLACEMENT…` to run only some placements, e.g. `-- json xml`).
//! Examples of missed attacks (per class) and blocked benign lines go to
//! standard error: `PALISADE_CORPUS_SHOW=N` keeps N of each (default 5).

#[path = "../tests/corpus_placements/support.rs"]
mod support;

use support::{Gateway, Placement, Upstream};

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let attacks = support::corpus("attacks");
    let benign: Vec<Vec<u8>> = support::corpus("benign")
        .into_iter()
        .flat_map(|(_, lines)| lines)
        .collect();
    let shown: usize = std::env::var("PALISADE_CORPUS_SHOW")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(5);
    let upstream = Upstream::start();
    let gateway = Gateway::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_palisade")),
        upstream.addr,
    );
    let placements: Vec<Placement> = Placement::ALL
        .into_iter()
        .filter(|placement| wanted.is_empty() || wanted.iter().any(|w| w == placement.name()))
        .collect();
    let mut class_rows: Vec<(String, Vec<f64>)> = attacks
        .iter()
        .map(|(class, _)| (class.clone(), Vec::new()))
        .collect();
    let mut totals = Vec::new();
    for &placement in &placements {
        let mut attack_tally = support::Tally::default();
        for ((class, lines), (_, row)) in attacks.iter().zip(class_rows.iter_mut()) {
            let report = support::run(gateway.addr, placement, lines, &[], 4, shown);
            for example in &report.examples {
                eprintln!("{:<9} {class:<19} {example}", placement.name());
            }
            row.push(report.attacks.percent());
            attack_tally.total += report.attacks.total;
            attack_tally.blocked += report.attacks.blocked;
            attack_tally.other += report.attacks.other;
        }
        let report = support::run(gateway.addr, placement, &[], &benign, 4, shown);
        for example in &report.examples {
            eprintln!("{:<9} {example}", placement.name());
        }
        totals.push((attack_tally, report.benign));
    }
    print!("{:<22}", "TPR by class");
    for placement in &placements {
        print!(" {:>9}", placement.name());
    }
    println!();
    for (class, row) in &class_rows {
        print!("{class:<22}");
        for percent in row {
            print!(" {percent:>8.2}%");
        }
        println!();
    }
    for (label, pick) in [("ALL ATTACKS (TPR)", true), ("ALL BENIGN (FPR)", false)] {
        print!("{label:<22}");
        for (attack, benign) in &totals {
            print!(
                " {:>8.2}%",
                if pick {
                    attack.percent()
                } else {
                    benign.percent()
                }
            );
        }
        println!();
    }
    print!("{:<22}", "lines attack/benign");
    for (attack, benign) in &totals {
        print!(" {:>9}", format!("{}/{}", attack.total, benign.total));
    }
    println!();
    let other: usize = totals.iter().map(|(a, b)| a.other + b.other).sum();
    if other > 0 {
        println!("{other} responses were neither 200 nor a block (400/403)");
    }
}
