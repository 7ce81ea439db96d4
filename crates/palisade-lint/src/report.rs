//! Findings and their presentation: inline suppressions, baselines, and the table (with code
//! frames), JSON and SARIF 2.1.0 renderers.
//!
//! Suppressions: a comment on the finding's first line, `# palisade: ignore[B602,PLT078] reason`
//! (a reason is expected; without one the suppression still applies and is counted as
//! unexplained), or Bandit's `# nosec` / `# nosec B602`.
//!
//! Baselines: a JSON file of finding fingerprints (rule, file, normalised source line — not the
//! line number, so unrelated edits do not resurface old findings).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use ruff_text_size::TextRange;
use serde::{Deserialize, Serialize};

use crate::LintError;
use crate::SourceFile;
use crate::model::line_column;
use crate::rules::{self, Level};

/// A location in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// File as displayed.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule id.
    pub rule: String,
    /// Rule name.
    pub name: String,
    /// CWE id.
    pub cwe: u32,
    /// Severity.
    pub severity: Level,
    /// Confidence.
    pub confidence: Level,
    /// Message.
    pub message: String,
    /// Start.
    pub location: Location,
    /// End line/column.
    pub end_line: usize,
    /// End column.
    pub end_column: usize,
    /// The source line of the start.
    pub snippet: String,
    /// For taint findings: where the data came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Location>,
    /// Stable fingerprint for baselines.
    pub fingerprint: String,
}

/// The result of a lint run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Findings after suppressions and baseline, sorted by file and position.
    pub findings: Vec<Finding>,
    /// Files read.
    pub files_scanned: usize,
    /// Findings suppressed by inline comments.
    pub suppressed: usize,
    /// Suppressions without a reason.
    pub unexplained_suppressions: usize,
    /// Findings hidden by the baseline.
    pub baselined: usize,
}

impl Report {
    /// Findings at or above a severity.
    pub fn count_at_least(&self, severity: Level) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity >= severity)
            .count()
    }

    /// Removes findings whose fingerprints are in the baseline file.
    pub fn apply_baseline(&mut self, path: &Path) -> Result<(), LintError> {
        let text = std::fs::read_to_string(path).map_err(|e| LintError::io(path, e))?;
        let baseline: Baseline =
            serde_json::from_str(&text).map_err(|e| LintError::baseline(path, e.to_string()))?;
        let known: HashSet<&str> = baseline.fingerprints.iter().map(String::as_str).collect();
        let before = self.findings.len();
        self.findings
            .retain(|f| !known.contains(f.fingerprint.as_str()));
        self.baselined += before - self.findings.len();
        Ok(())
    }

    /// Writes the current findings as a baseline file.
    pub fn write_baseline(&self, path: &Path) -> Result<(), LintError> {
        let mut fingerprints: Vec<String> = self
            .findings
            .iter()
            .map(|f| f.fingerprint.clone())
            .collect();
        fingerprints.sort();
        fingerprints.dedup();
        let baseline = Baseline {
            version: 1,
            fingerprints,
        };
        let text = serde_json::to_string_pretty(&baseline).unwrap_or_default();
        std::fs::write(path, text + "\n").map_err(|e| LintError::io(path, e))
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Baseline {
    version: u32,
    fingerprints: Vec<String>,
}

#[derive(Default)]
pub(crate) struct ReportBuilder {
    findings: Vec<Finding>,
    pub(crate) files_scanned: usize,
    suppressed: usize,
    unexplained: usize,
}

impl ReportBuilder {
    pub(crate) fn push_problem(
        &mut self,
        file: &SourceFile,
        rule: &str,
        message: &str,
        range: TextRange,
    ) {
        let (name, cwe) = match rule {
            rules::PARSE_ERROR_RULE => ("syntax-error", 0),
            _ => ("file-skipped", 0),
        };
        self.push(
            file,
            rule,
            name,
            cwe,
            Level::High,
            Level::High,
            message.to_owned(),
            range,
            None,
        );
    }

    pub(crate) fn push_rule(
        &mut self,
        file: &SourceFile,
        rule_id: &str,
        range: TextRange,
        origin: Option<(&SourceFile, TextRange)>,
        sink: Option<&str>,
    ) {
        let Some(rule) = rules::by_id(rule_id) else {
            return;
        };
        let mut message = rule.what.clone();
        if let Some(sink) = sink {
            let _ = write!(message, " Sink: {sink}.");
        }
        let source = origin.map(|(f, r)| {
            let (line, column) = line_column(&f.text, usize::from(r.start()));
            Location {
                path: f.display.clone(),
                line,
                column,
            }
        });
        if let Some(s) = &source {
            let _ = write!(message, " Source: {}:{}:{}.", s.path, s.line, s.column);
        }
        self.push(
            file,
            &rule.id,
            &rule.name,
            rule.cwe,
            rule.severity,
            rule.confidence,
            message,
            range,
            source,
        );
    }

    #[allow(clippy::too_many_arguments)] // Reason: one private constructor fed by two callers.
    fn push(
        &mut self,
        file: &SourceFile,
        rule: &str,
        name: &str,
        cwe: u32,
        severity: Level,
        confidence: Level,
        message: String,
        range: TextRange,
        source: Option<Location>,
    ) {
        let (line, column) = line_column(&file.text, usize::from(range.start()));
        let (end_line, end_column) = line_column(&file.text, usize::from(range.end()));
        let snippet = file.text.lines().nth(line - 1).unwrap_or("").to_owned();
        match suppression(&snippet, rule) {
            Suppression::None => {}
            Suppression::Explained => {
                self.suppressed += 1;
                return;
            }
            Suppression::Unexplained => {
                self.suppressed += 1;
                self.unexplained += 1;
                return;
            }
        }
        let fingerprint = fingerprint(rule, &file.display, &snippet);
        self.findings.push(Finding {
            rule: rule.to_owned(),
            name: name.to_owned(),
            cwe,
            severity,
            confidence,
            message,
            location: Location {
                path: file.display.clone(),
                line,
                column,
            },
            end_line,
            end_column,
            snippet,
            source,
            fingerprint,
        });
    }

    pub(crate) fn finish(mut self) -> Report {
        self.findings.sort_by(|a, b| {
            (
                &a.location.path,
                a.location.line,
                a.location.column,
                &a.rule,
            )
                .cmp(&(
                    &b.location.path,
                    b.location.line,
                    b.location.column,
                    &b.rule,
                ))
        });
        self.findings
            .dedup_by(|a, b| a.rule == b.rule && a.location == b.location);
        Report {
            findings: self.findings,
            files_scanned: self.files_scanned,
            suppressed: self.suppressed,
            unexplained_suppressions: self.unexplained,
            baselined: 0,
        }
    }
}

enum Suppression {
    None,
    Explained,
    Unexplained,
}

/// Where a line's comment starts: the first `#` outside a string literal (`'#nosec'` is not a
/// comment). A string continued from an earlier line is not seen.
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut quote: Option<&[u8]> = None;
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        match quote {
            Some(q) if rest.starts_with(q) => {
                i += q.len();
                quote = None;
                continue;
            }
            Some(_) if rest[0] == b'\\' => i += 1,
            Some(_) => {}
            None => match rest[0] {
                b'#' => return Some(i),
                b'"' | b'\'' => {
                    let triple: &[u8] = if rest[0] == b'"' { b"\"\"\"" } else { b"'''" };
                    let q = if rest.starts_with(triple) {
                        triple
                    } else {
                        &rest[..1]
                    };
                    i += q.len();
                    quote = Some(q);
                    continue;
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

fn suppression(line: &str, rule: &str) -> Suppression {
    let Some(hash) = comment_start(line) else {
        return Suppression::None;
    };
    let comment = &line[hash..];
    if let Some(pos) = comment.find("palisade: ignore[") {
        let rest = &comment[pos + "palisade: ignore[".len()..];
        if let Some(end) = rest.find(']') {
            let ids = &rest[..end];
            let reason = rest[end + 1..].trim();
            if ids
                .split(',')
                .map(str::trim)
                .any(|id| id == rule || id == "ALL")
            {
                return if reason.is_empty() {
                    Suppression::Unexplained
                } else {
                    Suppression::Explained
                };
            }
        }
    }
    if let Some(pos) = comment.find("nosec") {
        let rest = comment[pos + 5..].trim();
        let listed: Vec<&str> = rest
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .take_while(|s| s.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
            .collect();
        if listed.is_empty() || listed.contains(&rule) {
            return Suppression::Unexplained;
        }
    }
    Suppression::None
}

fn fingerprint(rule: &str, path: &str, snippet: &str) -> String {
    // FNV-1a 64 over rule, path and the whitespace-normalised line.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let normalised: String = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
    for part in [rule, "\0", path, "\0", normalised.as_str()] {
        for b in part.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// Renders a human-readable table with code frames.
pub fn render_table(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let _ = writeln!(
            out,
            "{}:{}:{}: {} [{}] {} (CWE-{}, severity {}, confidence {})",
            f.location.path,
            f.location.line,
            f.location.column,
            f.rule,
            f.name,
            f.message,
            f.cwe,
            f.severity.as_str(),
            f.confidence.as_str()
        );
        let gutter = f.location.line.to_string().len();
        let _ = writeln!(out, "{:gutter$} |", "");
        let _ = writeln!(out, "{} | {}", f.location.line, f.snippet);
        let width = if f.end_line == f.location.line {
            f.end_column.saturating_sub(f.location.column).max(1)
        } else {
            f.snippet
                .chars()
                .count()
                .saturating_sub(f.location.column - 1)
                .max(1)
        };
        let _ = writeln!(
            out,
            "{:gutter$} | {}{}",
            "",
            " ".repeat(f.location.column - 1),
            "^".repeat(width.min(120))
        );
        out.push('\n');
    }
    let mut high = 0;
    let mut medium = 0;
    let mut low = 0;
    for f in &report.findings {
        match f.severity {
            Level::High => high += 1,
            Level::Medium => medium += 1,
            Level::Low => low += 1,
        }
    }
    let _ = writeln!(
        out,
        "{} finding(s) in {} file(s): {high} high, {medium} medium, {low} low; {} suppressed{}, {} in baseline",
        report.findings.len(),
        report.files_scanned,
        report.suppressed,
        if report.unexplained_suppressions > 0 {
            format!(" ({} without a reason)", report.unexplained_suppressions)
        } else {
            String::new()
        },
        report.baselined
    );
    out
}

/// Renders JSON.
pub fn render_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

/// Renders SARIF 2.1.0 with `external/cwe/cwe-N` tags.
pub fn render_sarif(report: &Report, tool_version: &str) -> String {
    let mut used: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    used.sort_unstable();
    used.dedup();
    let rules_json: Vec<serde_json::Value> = used
        .iter()
        .map(|id| match rules::by_id(id) {
            Some(r) => serde_json::json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.what },
                "fullDescription": { "text": r.why },
                "help": { "text": format!("{}\n\nExample:\n{}\n\nFix: {}", r.why, r.example, r.fix) },
                "helpUri": r.references.first(),
                "properties": {
                    "tags": ["security", format!("external/cwe/cwe-{}", r.cwe)],
                    "precision": match r.confidence { Level::High => "high", Level::Medium => "medium", Level::Low => "low" },
                    "security-severity": match r.severity { Level::High => "8.0", Level::Medium => "5.5", Level::Low => "3.0" },
                },
                "defaultConfiguration": { "level": sarif_level(r.severity) },
            }),
            None => serde_json::json!({ "id": id, "shortDescription": { "text": "file could not be analysed" } }),
        })
        .collect();
    let results: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut result = serde_json::json!({
                "ruleId": f.rule,
                "ruleIndex": used.iter().position(|u| *u == f.rule),
                "level": sarif_level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.location.path },
                        "region": {
                            "startLine": f.location.line,
                            "startColumn": f.location.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                        }
                    }
                }],
                "partialFingerprints": { "palisadeLint/v1": f.fingerprint },
                "properties": { "cwe": format!("CWE-{}", f.cwe), "confidence": f.confidence.as_str() },
            });
            if let Some(s) = &f.source {
                result["relatedLocations"] = serde_json::json!([{
                    "id": 1,
                    "message": { "text": "source of the tainted data" },
                    "physicalLocation": {
                        "artifactLocation": { "uri": s.path },
                        "region": { "startLine": s.line, "startColumn": s.column }
                    }
                }]);
            }
            result
        })
        .collect();
    let sarif = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "palisade-lint",
                "version": tool_version,
                "informationUri": "https://example.invalid/palisade",
                "rules": rules_json,
            }},
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&sarif).unwrap_or_default() + "\n"
}

fn sarif_level(level: Level) -> &'static str {
    match level {
        Level::High => "error",
        Level::Medium => "warning",
        Level::Low => "note",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppressions_need_the_rule_and_count_missing_reasons() {
        assert!(matches!(
            suppression("x = 1  # palisade: ignore[B105] test fixture", "B105"),
            Suppression::Explained
        ));
        assert!(matches!(
            suppression("x = 1  # palisade: ignore[B105]", "B105"),
            Suppression::Unexplained
        ));
        assert!(matches!(
            suppression("x = 1  # palisade: ignore[B106] other", "B105"),
            Suppression::None
        ));
        assert!(matches!(
            suppression("x = 1  # nosec", "B105"),
            Suppression::Unexplained
        ));
        assert!(matches!(
            suppression("x = 1  # nosec B602", "B105"),
            Suppression::None
        ));
    }

    #[test]
    fn a_hash_inside_a_string_is_not_a_comment() {
        assert!(matches!(
            suppression("subprocess.Popen('#nosec', shell=True)", "B602"),
            Suppression::None
        ));
        assert!(matches!(
            suppression("Popen('#nosec', shell=True) # nosec B607, B101", "B602"),
            Suppression::None
        ));
        assert!(matches!(
            suppression(r##"f("a\"#", '''#''', "\\") # nosec"##, "B602"),
            Suppression::Unexplained
        ));
    }

    #[test]
    fn fingerprints_ignore_indentation_but_not_rule_or_file() {
        assert_eq!(
            fingerprint("B1", "a.py", "  x = 1"),
            fingerprint("B1", "a.py", "x = 1")
        );
        assert_ne!(
            fingerprint("B1", "a.py", "x = 1"),
            fingerprint("B2", "a.py", "x = 1")
        );
        assert_ne!(
            fingerprint("B1", "a.py", "x = 1"),
            fingerprint("B1", "b.py", "x = 1")
        );
    }
}
