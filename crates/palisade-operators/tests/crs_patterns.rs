//! Every `@rx` pattern in OWASP CRS must compile (read from `PALISADE_CRS_DIR`),
//! and every `@pmFromFile` data file must load. Prints counts of linear,
//! backtracking and prefiltered patterns.

use std::path::{Path, PathBuf};

use palisade_operators::{Operator, OperatorContext};

fn crs_rules_dir() -> Option<PathBuf> {
    match std::env::var_os("PALISADE_CRS_DIR") {
        Some(dir) => Some(PathBuf::from(dir).join("rules")),
        None => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PALISADE_CRS_DIR must be set when CI=true"
            );
            eprintln!("SKIPPED: PALISADE_CRS_DIR not set");
            None
        }
    }
}

/// (file, operator name, argument) for every `@name argument` operator in quoted rule text.
/// A tolerant scanner: joins `\`-continued lines and reads the quoted operator
/// string up to its unescaped closing quote.
fn operators_in(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).expect("rule file is UTF-8");
    let joined = text.replace("\\\n", "");
    let mut found = Vec::new();
    for line in joined.lines() {
        let line = line.trim_start();
        if !line.starts_with("SecRule") {
            continue;
        }
        // The operator is the first quoted string containing '@' right after the quote (or after '!').
        let mut rest = line;
        while let Some(start) = rest.find('"') {
            let body = &rest[start + 1..];
            let mut end = None;
            let bytes = body.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => {
                        end = Some(i);
                        break;
                    }
                    _ => i += 1,
                }
            }
            let Some(end) = end else { break };
            let quoted = &body[..end];
            let operator = quoted.strip_prefix('!').unwrap_or(quoted);
            if let Some(operator) = operator.strip_prefix('@') {
                let (name, argument) = operator.split_once(' ').unwrap_or((operator, ""));
                found.push((name.to_owned(), argument.to_owned()));
                break;
            }
            rest = &body[end + 1..];
        }
    }
    found
}

#[test]
fn every_crs_operator_compiles() {
    let Some(rules) = crs_rules_dir() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&rules)
        .expect("CRS rules directory")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "conf"))
        .collect();
    files.sort();
    let ctx = OperatorContext::new(&rules);
    let (mut rx_linear, mut rx_backtracking, mut rx_prefiltered, mut others, mut deferred) =
        (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    for file in &files {
        for (name, argument) in operators_in(file) {
            match Operator::compile(&name, &argument, &ctx) {
                Ok(operator) if operator.needs_runtime_argument() => deferred += 1,
                Ok(operator) if operator.name() == "rx" => {
                    if operator.uses_backtracking() {
                        rx_backtracking += 1;
                        eprintln!("backtracking: {}: {argument}", file.display());
                    } else {
                        rx_linear += 1;
                    }
                    if operator.prefilter_literal_count().is_some() {
                        rx_prefiltered += 1;
                    }
                }
                Ok(_) => others += 1,
                Err(error) => {
                    failures.push(format!("{}: @{name} {argument}: {error}", file.display()))
                }
            }
        }
    }
    eprintln!(
        "CRS operators: @rx linear={rx_linear} backtracking={rx_backtracking} (with literal prefilter: {rx_prefiltered}); other operators={others}; deferred (macros)={deferred}; failed={}",
        failures.len()
    );
    assert!(
        rx_linear > 250,
        "expected the CRS @rx patterns, found {rx_linear}"
    );
    assert!(
        failures.is_empty(),
        "operators failed to compile:\n{}",
        failures.join("\n")
    );
}
