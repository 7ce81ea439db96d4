//! Scores the analyser on a labeled corpus: one Python file per test case, labeled on its first
//! lines with `# expect: CWE-89` (the case is vulnerable: a finding with exactly that CWE is a
//! true positive) or `# expect: safe CWE-89` (the case is not: such a finding is a false
//! positive). Each case is analysed as its own program. The score is the mean over categories
//! of TPR − FPR, as the OWASP Benchmark scores tools.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{LintError, LintOptions};

/// One category's counts.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CategoryScore {
    /// CWE id.
    pub cwe: u32,
    /// Vulnerable cases.
    pub positives: usize,
    /// Vulnerable cases found.
    pub true_positives: usize,
    /// Safe cases.
    pub negatives: usize,
    /// Safe cases flagged.
    pub false_positives: usize,
}

impl CategoryScore {
    /// True-positive rate.
    pub fn tpr(&self) -> f64 {
        ratio(self.true_positives, self.positives)
    }

    /// False-positive rate.
    pub fn fpr(&self) -> f64 {
        ratio(self.false_positives, self.negatives)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// A whole corpus's score.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CorpusScore {
    /// Per CWE.
    pub categories: Vec<CategoryScore>,
    /// Mean of TPR − FPR over categories.
    pub score: f64,
    /// Cases whose outcome was wrong (path, expected CWE, vulnerable?).
    pub misses: Vec<(String, u32, bool)>,
    /// Files without a valid `# expect:` label.
    pub unlabeled: Vec<String>,
}

/// The label of one case.
fn label(text: &str) -> Option<(u32, bool)> {
    for line in text.lines().take(5) {
        let Some(rest) = line.trim().strip_prefix("# expect:") else {
            continue;
        };
        let rest = rest.trim();
        let (vulnerable, cwe) = match rest.strip_prefix("safe") {
            Some(r) => (false, r.trim()),
            None => (true, rest),
        };
        let n = cwe.strip_prefix("CWE-")?.parse().ok()?;
        return Some((n, vulnerable));
    }
    None
}

/// A case's display path and, when labeled, (CWE, vulnerable, found).
type CaseOutcome = (String, Option<(u32, bool, bool)>);

/// Scores every `.py` file under `dir`.
pub fn score_corpus(dir: &Path, options: &LintOptions) -> Result<CorpusScore, LintError> {
    let files = crate::discover(&[dir.to_path_buf()], options)?;
    let mut by_cwe: BTreeMap<u32, CategoryScore> = BTreeMap::new();
    let mut result = CorpusScore::default();
    let cases: Vec<(PathBuf, String)> = files;
    let outcomes: Vec<Result<CaseOutcome, LintError>> = cases
        .iter()
        .map(|(path, display)| {
            let text = std::fs::read_to_string(path).map_err(|e| LintError::io(path, e))?;
            let Some((cwe, vulnerable)) = label(&text) else {
                return Ok((display.clone(), None));
            };
            let report = crate::lint_source(display, &text, options);
            let found = report.findings.iter().any(|f| f.cwe == cwe);
            Ok((display.clone(), Some((cwe, vulnerable, found))))
        })
        .collect();
    for outcome in outcomes {
        let (display, labeled) = outcome?;
        let Some((cwe, vulnerable, found)) = labeled else {
            result.unlabeled.push(display);
            continue;
        };
        let s = by_cwe.entry(cwe).or_insert_with(|| CategoryScore {
            cwe,
            ..CategoryScore::default()
        });
        if vulnerable {
            s.positives += 1;
            s.true_positives += usize::from(found);
        } else {
            s.negatives += 1;
            s.false_positives += usize::from(found);
        }
        if found != vulnerable {
            result.misses.push((display, cwe, vulnerable));
        }
    }
    result.categories = by_cwe.into_values().collect();
    if !result.categories.is_empty() {
        result.score = result
            .categories
            .iter()
            .map(|c| c.tpr() - c.fpr())
            .sum::<f64>()
            / result.categories.len() as f64;
    }
    Ok(result)
}

/// Renders a score as a table.
pub fn render_score(score: &CorpusScore) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("category   positives  TPR      negatives  FPR      TPR-FPR\n");
    for c in &score.categories {
        let _ = writeln!(
            out,
            "CWE-{:<6} {:>9}  {:>6.1}%  {:>9}  {:>6.1}%  {:>6.1}%",
            c.cwe,
            c.positives,
            100.0 * c.tpr(),
            c.negatives,
            100.0 * c.fpr(),
            100.0 * (c.tpr() - c.fpr())
        );
    }
    let _ = writeln!(
        out,
        "score (mean TPR-FPR over {} categories): {:.1}%",
        score.categories.len(),
        100.0 * score.score
    );
    for (path, cwe, vulnerable) in &score.misses {
        let _ = writeln!(
            out,
            "  {} {path} (CWE-{cwe})",
            if *vulnerable {
                "missed:"
            } else {
                "false positive:"
            }
        );
    }
    for path in &score.unlabeled {
        let _ = writeln!(out, "  unlabeled (no `# expect:` line): {path}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse() {
        assert_eq!(label("# expect: CWE-89\nx = 1"), Some((89, true)));
        assert_eq!(
            label("#!/usr/bin/env python\n# expect: safe CWE-79\n"),
            Some((79, false))
        );
        assert_eq!(label("x = 1\n"), None);
    }
}
