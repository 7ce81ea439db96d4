//! The default ruleset `rules/palisade-default.conf` parses with the
//! project's SecLang parser, uses every native detector, keeps its ids in the
//! Palisade range without duplicates, and ends in a blocking evaluation.

use std::collections::BTreeSet;
use std::path::PathBuf;

use palisade_seclang::{Action, Directive, Rule};

/// The detector operators the ruleset must apply.
const DETECTORS: [&str; 13] = [
    "detectSQLi",
    "detectXSS",
    "detectCmdInjection",
    "detectPathTraversal",
    "detectSSRF",
    "detectSSTI",
    "detectNoSQLi",
    "detectDeserialization",
    "detectXXE",
    "detectCRLF",
    "detectLDAPi",
    "detectPrototypePollution",
    "detectMailInjection",
];

fn ruleset_text() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules/palisade-default.conf");
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn parse(text: &str) -> Vec<Rule> {
    let config = palisade_seclang::parse_str("palisade-default.conf", text)
        .unwrap_or_else(|error| panic!("palisade-default.conf does not parse: {error}"));
    config
        .directives
        .into_iter()
        .filter_map(|directive| match directive {
            Directive::Rule(rule) => Some(rule.item),
            _ => None,
        })
        .collect()
}

/// The ruleset's rules, parsed exactly as written.
fn ruleset() -> Vec<Rule> {
    parse(&ruleset_text())
}

#[test]
fn ruleset_parses_verbatim() {
    let operators: BTreeSet<String> = parse(&ruleset_text())
        .iter()
        .map(|rule| rule.operator.name.clone())
        .collect();
    for name in DETECTORS {
        assert!(
            operators.contains(name),
            "@{name} is not used; operators: {operators:?}"
        );
    }
}

fn id(rule: &Rule) -> Option<u64> {
    rule.actions.iter().find_map(|action| match action {
        Action::Id(id) => Some(*id),
        _ => None,
    })
}

#[test]
fn ids_are_unique_and_in_the_palisade_range() {
    let rules = ruleset();
    let ids: Vec<u64> = rules.iter().filter_map(id).collect();
    let unique: BTreeSet<u64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate ids in {ids:?}");
    assert!(
        ids.iter().all(|id| (9_500_000..9_510_000).contains(id)),
        "ids out of range: {ids:?}"
    );
    assert!(
        ids.len() >= 20,
        "expected a full ruleset, got {} rules with ids",
        ids.len()
    );
}

#[test]
fn every_detector_operator_is_applied() {
    let text = ruleset_text();
    let rule_lines: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("SecRule "))
        .collect();
    for name in DETECTORS {
        let needle = format!("\"@{name}\"");
        assert!(
            rule_lines
                .iter()
                .any(|line| line.ends_with(&format!("{needle} \\"))),
            "@{name} is not applied by any SecRule"
        );
    }
    let parsed_detector_rules = ruleset()
        .iter()
        .filter(|rule| rule.operator.name.starts_with("detect"))
        .count();
    assert_eq!(
        parsed_detector_rules,
        DETECTORS.len(),
        "one parsed detector rule per class"
    );
}

#[test]
fn blocking_rule_compares_the_anomaly_score_and_denies_with_403() {
    let rules = ruleset();
    let blocking = rules
        .iter()
        .find(|rule| id(rule) == Some(9_509_000))
        .expect("rule 9509000 exists");
    assert_eq!(blocking.operator.name, "ge");
    assert!(
        blocking
            .operator
            .argument
            .contains("palisade_anomaly_threshold")
    );
    let text = format!("{:?}", blocking.actions);
    assert!(text.contains("Deny") && text.contains("403"), "{text}");
}
