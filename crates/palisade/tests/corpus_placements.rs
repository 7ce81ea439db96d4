//! A sample of the labeled corpus (`corpus/`) sent through a real
//! `palisade serve` with the default ruleset in every placement — query,
//! form, multipart, JSON, XML, header, cookie, path — is blocked and passed
//! the same way in each: the sampled attacks blocked (at most one miss per
//! placement, the 97% target on this sample size) and no benign input
//! blocked in one placement that the query placement lets through. The full
//! corpus is the benchmark `benches/corpus_placements.rs`.

#[path = "corpus_placements/support.rs"]
mod support;

use support::{Gateway, Placement, Upstream};

/// Sampled lines per attack class file and per benign file.
const PER_FILE: usize = 3;

/// `count` lines spread evenly over `lines`.
fn spread(lines: &[Vec<u8>], count: usize) -> Vec<Vec<u8>> {
    let step = (lines.len() / count.max(1)).max(1);
    lines.iter().step_by(step).take(count).cloned().collect()
}

fn sample(kind: &str) -> Vec<Vec<u8>> {
    support::corpus(kind)
        .iter()
        .flat_map(|(_, lines)| spread(lines, PER_FILE))
        .collect()
}

#[test]
fn every_placement_blocks_the_sampled_attacks_and_passes_the_same_benign_inputs() {
    let attacks = sample("attacks");
    let benign = sample("benign");
    assert!(
        attacks.len() >= 36 && benign.len() >= 36,
        "corpus sample too small"
    );
    let upstream = Upstream::start();
    let gateway = Gateway::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_palisade")),
        upstream.addr,
    );
    let mut failures = Vec::new();
    let mut benign_blocked_in_query = None;
    for placement in Placement::ALL {
        let report = support::run(gateway.addr, placement, &attacks, &benign, 2, 5);
        println!(
            "{:<9} attacks blocked {}/{} ({:.1}%), benign blocked {}/{}",
            placement.name(),
            report.attacks.blocked,
            report.attacks.total,
            report.attacks.percent(),
            report.benign.blocked,
            report.benign.total
        );
        let missed = report.attacks.total - report.attacks.blocked;
        // At most one sampled attack missed (>= 97% of 39) in every placement,
        // the path included (its last segment is inspected as a value).
        let allowed_misses = 1;
        let benign_ok = match benign_blocked_in_query {
            None => {
                benign_blocked_in_query = Some(report.benign.blocked);
                // The sample holds lines the detectors also flag (FPR 0.74% on the whole corpus).
                report.benign.blocked <= 2
            }
            Some(query) => report.benign.blocked <= query,
        };
        if missed > allowed_misses || !benign_ok || report.attacks.other + report.benign.other > 0 {
            failures.push(format!("{}: {:#?}", placement.name(), report));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
