//! The outcome of a run: per-file pass rates, every failure with its reason,
//! failures grouped by kind and by rule id, and table / JSON / JUnit output.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

use serde::Serialize;

use crate::LoadError;

/// Outcome of one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every stage met its expectations.
    Passed,
    /// Some stage did not.
    Failed,
    /// Not run (disabled file).
    Skipped,
}

/// What kind of expectation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureKind {
    /// The stage input could not be turned into a request.
    InvalidInput,
    /// No response (connection error, timeout, malformed response) and none was expected.
    RequestError,
    /// An error was expected but a response came.
    ExpectedError,
    /// Wrong status.
    Status,
    /// `response_contains` not found.
    ResponseContains,
    /// The response had no `X-Request-Id`, so log checks could not run.
    NoRequestId,
    /// An expected rule id was not logged.
    MissingId,
    /// A rule id that must not match was logged.
    UnexpectedId,
    /// A log regex check failed.
    LogRegex,
}

/// One failed expectation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Stage index (0-based).
    pub stage: usize,
    /// What failed.
    pub kind: FailureKind,
    /// Rule ids concerned (missing or unexpected ids).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rule_ids: Vec<u64>,
    /// Human explanation.
    pub detail: String,
}

/// The result of one test.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    /// `RULEID-TESTID`.
    pub id: String,
    /// Test id.
    pub test_id: u64,
    /// Outcome.
    pub outcome: Outcome,
    /// Why it failed (empty when passed).
    pub failures: Vec<Failure>,
    /// The override reason when an override changed its expectations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
}

/// The results of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// Path relative to the suite directory.
    pub path: String,
    /// The file's rule id.
    pub rule_id: u64,
    /// Its tests in file order.
    pub tests: Vec<TestResult>,
}

impl FileReport {
    /// Tests passed.
    pub fn passed(&self) -> usize {
        self.tests
            .iter()
            .filter(|t| t.outcome == Outcome::Passed)
            .count()
    }

    /// Tests failed.
    pub fn failed(&self) -> usize {
        self.tests
            .iter()
            .filter(|t| t.outcome == Outcome::Failed)
            .count()
    }
}

/// An override that was applied.
#[derive(Debug, Clone, Serialize)]
pub struct AppliedOverride {
    /// `RULEID-TESTID`.
    pub test: String,
    /// The override's reason.
    pub reason: String,
}

/// The whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Per file, sorted by path.
    pub files: Vec<FileReport>,
    /// Files that did not load.
    pub load_errors: Vec<LoadError>,
    /// Overrides applied.
    pub overrides: Vec<AppliedOverride>,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Human table.
    Table,
    /// JSON document.
    Json,
    /// JUnit XML.
    Junit,
}

impl FromStr for ReportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "table" | "text" => Ok(ReportFormat::Table),
            "json" => Ok(ReportFormat::Json),
            "junit" | "xml" => Ok(ReportFormat::Junit),
            other => Err(format!(
                "unknown report format {other:?} (table, json, junit)"
            )),
        }
    }
}

/// Summary counts, JSON-friendly.
#[derive(Debug, Clone, Serialize)]
struct Totals {
    total: usize,
    passed: usize,
    passed_by_override: usize,
    failed: usize,
    skipped: usize,
    pass_rate_percent: f64,
}

impl Report {
    fn tests(&self) -> impl Iterator<Item = &TestResult> {
        self.files.iter().flat_map(|f| f.tests.iter())
    }

    /// Tests run (passed + failed).
    pub fn total(&self) -> usize {
        self.passed() + self.failed()
    }

    /// Tests passed.
    pub fn passed(&self) -> usize {
        self.tests()
            .filter(|t| t.outcome == Outcome::Passed)
            .count()
    }

    /// Tests failed.
    pub fn failed(&self) -> usize {
        self.tests()
            .filter(|t| t.outcome == Outcome::Failed)
            .count()
    }

    /// Tests skipped.
    pub fn skipped(&self) -> usize {
        self.tests()
            .filter(|t| t.outcome == Outcome::Skipped)
            .count()
    }

    /// Tests that passed only because an override (a listed exception)
    /// replaced their expectations.
    pub fn passed_by_override(&self) -> usize {
        self.tests()
            .filter(|t| t.outcome == Outcome::Passed && t.override_reason.is_some())
            .count()
    }

    /// Passed / run, in percent (0 when nothing ran).
    pub fn pass_rate(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            0.0
        } else {
            self.passed() as f64 * 100.0 / total as f64
        }
    }

    /// Failed tests per failure kind (a test counts once per kind).
    pub fn failures_by_kind(&self) -> BTreeMap<FailureKind, usize> {
        let mut counts = BTreeMap::new();
        for test in self.tests().filter(|t| t.outcome == Outcome::Failed) {
            let mut kinds: Vec<FailureKind> = test.failures.iter().map(|f| f.kind).collect();
            kinds.sort_unstable();
            kinds.dedup();
            for kind in kinds {
                *counts.entry(kind).or_insert(0) += 1;
            }
        }
        counts
    }

    /// The rule ids most often missing or unexpected, with counts, most frequent first.
    pub fn top_rule_failures(&self, kind: FailureKind, limit: usize) -> Vec<(u64, usize)> {
        let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
        for failure in self
            .tests()
            .flat_map(|t| t.failures.iter())
            .filter(|f| f.kind == kind)
        {
            for id in &failure.rule_ids {
                *counts.entry(*id).or_insert(0) += 1;
            }
        }
        let mut sorted: Vec<(u64, usize)> = counts.into_iter().collect();
        sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        sorted.truncate(limit);
        sorted
    }

    /// Renders the report.
    pub fn render(&self, format: ReportFormat) -> String {
        match format {
            ReportFormat::Table => self.render_table(),
            ReportFormat::Json => self.render_json(),
            ReportFormat::Junit => self.render_junit(),
        }
    }

    fn totals(&self) -> Totals {
        Totals {
            total: self.total(),
            passed: self.passed(),
            passed_by_override: self.passed_by_override(),
            failed: self.failed(),
            skipped: self.skipped(),
            pass_rate_percent: (self.pass_rate() * 100.0).round() / 100.0,
        }
    }

    fn render_json(&self) -> String {
        let document = serde_json::json!({
            "totals": self.totals(),
            "failures_by_kind": self.failures_by_kind().into_iter()
                .map(|(kind, count)| (format!("{kind:?}"), count)).collect::<BTreeMap<_, _>>(),
            "report": self,
        });
        serde_json::to_string_pretty(&document)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    fn render_table(&self) -> String {
        let mut out = String::new();
        let width = self
            .files
            .iter()
            .map(|f| f.path.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let _ = writeln!(
            out,
            "{:<width$}  {:>6}  {:>6}  {:>7}",
            "file", "passed", "total", "rate"
        );
        for file in &self.files {
            let run = file.passed() + file.failed();
            let rate = if run == 0 {
                100.0
            } else {
                file.passed() as f64 * 100.0 / run as f64
            };
            let _ = writeln!(
                out,
                "{:<width$}  {:>6}  {:>6}  {:>6.1}%",
                file.path,
                file.passed(),
                run,
                rate
            );
        }
        let failed: Vec<&TestResult> = self
            .tests()
            .filter(|t| t.outcome == Outcome::Failed)
            .collect();
        if !failed.is_empty() {
            let _ = writeln!(out, "\nfailures:");
            for test in failed {
                for failure in &test.failures {
                    let _ = writeln!(
                        out,
                        "  {} stage {}: {:?}: {}",
                        test.id, failure.stage, failure.kind, failure.detail
                    );
                }
            }
            let _ = writeln!(out, "\nfailed tests by reason:");
            for (kind, count) in self.failures_by_kind() {
                let _ = writeln!(out, "  {kind:?}: {count}");
            }
            for kind in [FailureKind::MissingId, FailureKind::UnexpectedId] {
                let top = self.top_rule_failures(kind, 15);
                if !top.is_empty() {
                    let list: Vec<String> = top.iter().map(|(id, n)| format!("{id}×{n}")).collect();
                    let _ = writeln!(out, "  top {kind:?}: {}", list.join(", "));
                }
            }
        }
        for error in &self.load_errors {
            let _ = writeln!(out, "load error: {}: {}", error.path, error.message);
        }
        for applied in &self.overrides {
            let _ = writeln!(
                out,
                "override applied to {}: {}",
                applied.test,
                applied.reason.trim()
            );
        }
        let _ = writeln!(
            out,
            "\npass rate: {:.2}% ({} of {} tests, {} of them under a listed exception; {} skipped) in {:.1}s",
            self.pass_rate(),
            self.passed(),
            self.total(),
            self.passed_by_override(),
            self.skipped(),
            self.elapsed_ms as f64 / 1000.0
        );
        out
    }

    fn render_junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"go-ftw\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            self.total() + self.skipped(),
            self.failed(),
            self.skipped(),
            self.elapsed_ms as f64 / 1000.0
        );
        for file in &self.files {
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">",
                xml_escape(&file.path),
                file.tests.len(),
                file.failed()
            );
            for test in &file.tests {
                let _ = write!(
                    out,
                    "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
                    xml_escape(&test.id),
                    xml_escape(&file.path),
                    test.duration_ms as f64 / 1000.0
                );
                match test.outcome {
                    Outcome::Passed => out.push_str("/>\n"),
                    Outcome::Skipped => out.push_str("><skipped/></testcase>\n"),
                    Outcome::Failed => {
                        let details: Vec<String> = test
                            .failures
                            .iter()
                            .map(|f| format!("stage {}: {:?}: {}", f.stage, f.kind, f.detail))
                            .collect();
                        let first = test
                            .failures
                            .first()
                            .map(|f| f.detail.as_str())
                            .unwrap_or_default();
                        let _ = writeln!(
                            out,
                            "><failure message=\"{}\">{}</failure></testcase>",
                            xml_escape(first),
                            xml_escape(&details.join("\n"))
                        );
                    }
                }
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
