//! Scoring a scan against a labeled list of endpoints: per category, the true vulnerabilities
//! found (TPR) and the safe look-alikes wrongly reported (FPR). Findings of a labeled category
//! on an endpoint/parameter that has no label of that category are counted as unlabeled: they
//! are false positives too unless the list is incomplete, and the benchmark prints them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ScanError;
use crate::finding::Finding;

/// Most cases read from a label file.
pub const MAX_CASES: usize = 10_000;

/// One labeled endpoint parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The finding category that must (or must not) be reported: `sqli`, `xss`, …
    pub category: String,
    /// HTTP method (default GET).
    #[serde(default = "get")]
    pub method: String,
    /// URL path.
    pub path: String,
    /// Parameter name (none for findings about a whole URL, such as exposed files).
    #[serde(default)]
    pub param: Option<String>,
    /// `true` for a real vulnerability, `false` for a safe look-alike.
    pub vulnerable: bool,
    /// What the case is.
    #[serde(default)]
    pub note: String,
}

fn get() -> String {
    "GET".into()
}

/// A label file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    /// The cases.
    #[serde(rename = "case")]
    pub cases: Vec<Case>,
}

impl Labels {
    /// Reads a TOML label file (`[[case]]` tables).
    pub fn load(path: &Path) -> Result<Self, ScanError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScanError::io(path, &e))?;
        let labels: Labels = toml::from_str(&text)
            .map_err(|e| ScanError::labels(format!("{}: {e}", path.display())))?;
        if labels.cases.len() > MAX_CASES {
            return Err(ScanError::labels(format!("more than {MAX_CASES} cases")));
        }
        Ok(labels)
    }
}

/// Counts of one category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Vulnerable and reported.
    pub true_positives: usize,
    /// Vulnerable and missed.
    pub false_negatives: usize,
    /// Safe and reported.
    pub false_positives: usize,
    /// Safe and not reported.
    pub true_negatives: usize,
    /// Reported where no case of the category is labeled.
    pub unlabeled: usize,
}

impl Counts {
    /// True-positive rate (recall); 1 when there is nothing to find.
    pub fn tpr(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
            1.0,
        )
    }
    /// False-positive rate; 0 when there is no safe case.
    pub fn fpr(&self) -> f64 {
        ratio(
            self.false_positives,
            self.false_positives + self.true_negatives,
            0.0,
        )
    }
}

fn ratio(n: usize, d: usize, empty: f64) -> f64 {
    if d == 0 { empty } else { n as f64 / d as f64 }
}

/// Per-category counts, plus the names of the cases that went wrong.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Score {
    /// Counts by category.
    pub categories: BTreeMap<String, Counts>,
    /// Missed vulnerabilities and reported safe cases, as `category method path param (note)`.
    pub mistakes: Vec<String>,
}

impl Score {
    /// All categories added up.
    pub fn total(&self) -> Counts {
        let mut total = Counts::default();
        for c in self.categories.values() {
            total.true_positives += c.true_positives;
            total.false_negatives += c.false_negatives;
            total.false_positives += c.false_positives;
            total.true_negatives += c.true_negatives;
            total.unlabeled += c.unlabeled;
        }
        total
    }

    /// A table: category, TP, FN, FP, TN, unlabeled, TPR, FPR.
    pub fn render(&self) -> String {
        let mut out = format!(
            "{:<10} {:>4} {:>4} {:>4} {:>4} {:>9} {:>7} {:>7}\n",
            "CATEGORY", "TP", "FN", "FP", "TN", "UNLABELED", "TPR", "FPR"
        );
        let line = |name: &str, c: &Counts| {
            format!(
                "{:<10} {:>4} {:>4} {:>4} {:>4} {:>9} {:>6.1}% {:>6.1}%\n",
                name,
                c.true_positives,
                c.false_negatives,
                c.false_positives,
                c.true_negatives,
                c.unlabeled,
                c.tpr() * 100.0,
                c.fpr() * 100.0
            )
        };
        for (name, c) in &self.categories {
            out.push_str(&line(name, c));
        }
        out.push_str(&line("TOTAL", &self.total()));
        for m in &self.mistakes {
            out.push_str(&format!("  {m}\n"));
        }
        out
    }
}

/// The URL's path, percent-decoded (OpenAPI placeholders `{id}` are labeled as written).
fn path_of(url: &str) -> String {
    url::Url::parse(url).map_or_else(
        |_| url.to_owned(),
        |u| {
            percent_encoding::percent_decode_str(u.path())
                .decode_utf8_lossy()
                .into_owned()
        },
    )
}

fn matches(case: &Case, finding: &Finding) -> bool {
    finding.category() == case.category
        && path_of(&finding.url) == case.path
        && finding.parameter == case.param
        && finding
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(&case.method))
}

/// Scores `findings` against `labels`.
pub fn score(labels: &Labels, findings: &[Finding]) -> Score {
    let mut result = Score::default();
    for case in &labels.cases {
        let counts = result.categories.entry(case.category.clone()).or_default();
        let reported = findings.iter().any(|f| matches(case, f));
        match (case.vulnerable, reported) {
            (true, true) => counts.true_positives += 1,
            (true, false) => {
                counts.false_negatives += 1;
                result.mistakes.push(format!(
                    "missed {} {} {} {} ({})",
                    case.category,
                    case.method,
                    case.path,
                    case.param.as_deref().unwrap_or("-"),
                    case.note
                ));
            }
            (false, true) => {
                counts.false_positives += 1;
                result.mistakes.push(format!(
                    "false positive {} {} {} {} ({})",
                    case.category,
                    case.method,
                    case.path,
                    case.param.as_deref().unwrap_or("-"),
                    case.note
                ));
            }
            (false, false) => counts.true_negatives += 1,
        }
    }
    for finding in findings {
        let category = finding.category().to_owned();
        if let Some(counts) = result.categories.get_mut(&category)
            && !labels.cases.iter().any(|c| matches(c, finding))
        {
            counts.unlabeled += 1;
            result.mistakes.push(format!(
                "unlabeled {} {} {} {}",
                finding.id,
                finding.method.as_deref().unwrap_or("-"),
                path_of(&finding.url),
                finding.parameter.as_deref().unwrap_or("-")
            ));
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Evidence, Severity};

    fn finding(id: &str, path: &str, param: &str) -> Finding {
        Finding {
            id: id.into(),
            title: String::new(),
            cwe: 89,
            severity: Severity::High,
            url: format!("http://127.0.0.1:1{path}"),
            method: Some("GET".into()),
            parameter: Some(param.into()),
            evidence: Evidence::default(),
            fix: String::new(),
        }
    }

    #[test]
    fn counts_each_outcome() {
        let labels: Labels = toml::from_str(
            r#"
            [[case]]
            category = "sqli"
            path = "/a"
            param = "id"
            vulnerable = true
            [[case]]
            category = "sqli"
            path = "/b"
            param = "id"
            vulnerable = true
            [[case]]
            category = "sqli"
            path = "/safe"
            param = "id"
            vulnerable = false
            [[case]]
            category = "sqli"
            path = "/safe2"
            param = "id"
            vulnerable = false
            "#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let findings = [
            finding("sqli.boolean", "/a", "id"),
            finding("sqli.error", "/safe", "id"),
            finding("sqli.union", "/c", "x"),
            finding("headers.csp", "/", "-"),
        ];
        let score = score(&labels, &findings);
        let sqli = score.categories["sqli"];
        assert_eq!(
            (
                sqli.true_positives,
                sqli.false_negatives,
                sqli.false_positives,
                sqli.true_negatives,
                sqli.unlabeled
            ),
            (1, 1, 1, 1, 1)
        );
        assert!((sqli.tpr() - 0.5).abs() < 1e-9 && (sqli.fpr() - 0.5).abs() < 1e-9);
        assert!(!score.categories.contains_key("headers"));
        assert_eq!(score.mistakes.len(), 3);
    }
}
