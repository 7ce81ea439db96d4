//! Parity with Bandit on Bandit's own example files: for every example, Palisade's `B` rules
//! report at least what Bandit reports, per (file, test id, line) with multiplicity. Palisade
//! may report more (it is not asked to match Bandit's false negatives).
//!
//! Needs `PALISADE_BANDIT_EXAMPLES` (the `examples/` directory of Bandit's sdist) and
//! `PALISADE_BANDIT` (the `bandit` executable of the same version). Without them the test
//! is skipped with a notice, and fails when `CI=true`. The per-test-id table is printed
//! (`cargo test -p palisade-lint --test bandit_examples -- --nocapture`, or
//! `bench/lint-bandit-examples.sh`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_lint::{LintOptions, Selection};

/// (file relative to the examples dir, test id, line).
type Key = (String, String, usize);

fn relative(path: &str, root: &Path) -> String {
    let path = Path::new(path);
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn bandit_findings(bandit: &Path, examples: &Path) -> HashMap<Key, usize> {
    let output = Command::new(bandit)
        .arg("-q")
        .arg("-r")
        .arg(examples)
        .args(["-f", "json"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bandit.display()));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "bandit printed no JSON ({e}); stderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let results = json["results"].as_array().expect("bandit JSON has results");
    assert!(
        !results.is_empty(),
        "bandit found nothing in {}",
        examples.display()
    );
    let mut found = HashMap::new();
    for r in results {
        let key = (
            relative(r["filename"].as_str().unwrap_or(""), examples),
            r["test_id"].as_str().unwrap_or("").to_owned(),
            r["line_number"].as_u64().unwrap_or(0) as usize,
        );
        *found.entry(key).or_insert(0) += 1;
    }
    found
}

fn palisade_findings(examples: &Path) -> HashMap<Key, usize> {
    let options = LintOptions {
        selection: Selection {
            select: vec!["B".into()],
            ignore: Vec::new(),
        },
        respect_gitignore: false,
        ..LintOptions::default()
    };
    let report = palisade_lint::lint_paths(&[examples.to_path_buf()], &options)
        .expect("the examples are readable");
    let mut found = HashMap::new();
    for f in &report.findings {
        let key = (
            relative(&f.location.path, examples),
            f.rule.clone(),
            f.location.line,
        );
        *found.entry(key).or_insert(0) += 1;
    }
    found
}

fn configured() -> Option<(PathBuf, PathBuf)> {
    let examples = std::env::var_os("PALISADE_BANDIT_EXAMPLES").map(PathBuf::from);
    let bandit = std::env::var_os("PALISADE_BANDIT").map(PathBuf::from);
    match (examples, bandit) {
        (Some(e), Some(b)) => Some((e, b)),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PALISADE_BANDIT_EXAMPLES and PALISADE_BANDIT must be set in CI"
            );
            eprintln!(
                "SKIPPED: set PALISADE_BANDIT_EXAMPLES (Bandit sdist examples/) and \
                 PALISADE_BANDIT (the bandit executable) to compare with Bandit"
            );
            None
        }
    }
}

#[test]
fn palisade_reports_at_least_bandits_findings_on_bandits_examples() {
    let Some((examples, bandit)) = configured() else {
        return;
    };
    let expected = bandit_findings(&bandit, &examples);
    let actual = palisade_findings(&examples);
    // Per test id: Bandit's findings, how many of them Palisade has, Palisade's total.
    let mut table: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut missing: Vec<(&Key, usize, usize)> = Vec::new();
    for (key, &want) in &expected {
        let have = actual.get(key).copied().unwrap_or(0);
        let row = table.entry(key.1.as_str()).or_default();
        row.0 += want;
        row.1 += have.min(want);
        if have < want {
            missing.push((key, want, have));
        }
    }
    for (key, &n) in &actual {
        if key.1.starts_with('B') {
            table.entry(key.1.as_str()).or_default().2 += n;
        }
    }
    println!("test id  bandit  matched  palisade-total");
    let (mut want_total, mut matched_total, mut palisade_total) = (0, 0, 0);
    for (id, (want, matched, total)) in &table {
        println!("{id:<7}  {want:>6}  {matched:>7}  {total:>14}");
        want_total += want;
        matched_total += matched;
        palisade_total += total;
    }
    println!("all      {want_total:>6}  {matched_total:>7}  {palisade_total:>14}");
    missing.sort();
    let listing: Vec<String> = missing
        .iter()
        .map(|((file, id, line), want, have)| {
            format!("{file}:{line} {id} (bandit {want}, palisade {have})")
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{} of Bandit's findings are missing:\n{}",
        missing.len(),
        listing.join("\n")
    );
}
