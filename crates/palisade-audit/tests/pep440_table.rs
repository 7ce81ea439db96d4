//! PEP 440 ordering, normalisation, validity and specifier matching against a table of 1,600+
//! cases written from the PEP's rules, whose expected answers are those of `packaging` (pip's
//! version library) — see `data/gen_pep440.py`.

use std::cmp::Ordering;

use palisade_audit::version::{Pep440Version, Specifier};

fn version(text: &str, line: usize) -> Pep440Version {
    text.parse()
        .unwrap_or_else(|e| panic!("pep440.tsv:{line}: {e}"))
}

#[test]
fn pep440_table_matches_packaging() {
    let table = include_str!("data/pep440.tsv");
    let mut failures = Vec::new();
    let mut checked = 0;
    for (index, line) in table.lines().enumerate() {
        let line_number = index + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let (kind, a, b, expected) = (
            fields[0],
            fields[1],
            fields[2],
            fields.get(3).copied().unwrap_or(""),
        );
        checked += 1;
        match kind {
            "cmp" => {
                let got = match version(a, line_number).cmp(&version(b, line_number)) {
                    Ordering::Less => "<",
                    Ordering::Equal => "==",
                    Ordering::Greater => ">",
                };
                if got != expected {
                    failures.push(format!(
                        "{line_number}: {a} {got} {b}, packaging says {expected}"
                    ));
                }
            }
            "norm" => {
                let got = version(a, line_number).to_string();
                if got != b {
                    failures.push(format!(
                        "{line_number}: {a:?} normalises to {got}, packaging says {b}"
                    ));
                }
            }
            "parse" => {
                let got = if a.parse::<Pep440Version>().is_ok() {
                    "valid"
                } else {
                    "invalid"
                };
                if got != b {
                    failures.push(format!("{line_number}: {a:?} is {got}, packaging says {b}"));
                }
            }
            "spec" => {
                let specifier: Specifier = a
                    .parse()
                    .unwrap_or_else(|e| panic!("pep440.tsv:{line_number}: {e}"));
                let got = specifier.matches(&version(b, line_number));
                if got.to_string() != expected {
                    failures.push(format!(
                        "{line_number}: {a} contains {b} = {got}, packaging says {expected}"
                    ));
                }
            }
            other => panic!("pep440.tsv:{line_number}: unknown kind {other}"),
        }
    }
    assert!(checked >= 300, "only {checked} cases");
    assert!(
        failures.is_empty(),
        "{} of {checked} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
