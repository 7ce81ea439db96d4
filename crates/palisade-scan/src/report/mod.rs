//! Scan reports: the result type, table/JSON/SARIF/JUnit/HTML renderings, the failure
//! threshold and baselines of accepted findings.

mod html;
mod junit;
mod sarif;

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ScanError;
use crate::finding::{Finding, Severity};

/// The result of a scan.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ScanReport {
    /// The start URL.
    pub target: String,
    /// Confirmed findings, most severe first.
    pub findings: Vec<Finding>,
    /// Pages crawled.
    pub pages: usize,
    /// Injection targets (endpoints with parameters).
    pub targets: usize,
    /// Requests sent.
    pub requests: u64,
    /// Wall time.
    pub elapsed_ms: u128,
    /// URLs robots.txt kept the crawler from.
    pub robots_skipped: usize,
    /// Findings hidden by the baseline.
    pub baselined: usize,
    /// `true` when the budget or time limit ended the scan, or it was interrupted.
    pub stopped_early: bool,
    /// `true` when the scan was stopped on request (Ctrl-C) before it finished; its state
    /// file (`--state`) lets a later run continue.
    #[serde(default)]
    pub interrupted: bool,
    /// Site and parameter checks this run executed.
    #[serde(default)]
    pub checks_run: usize,
    /// Checks an earlier run had done (restored from the state file, not run again).
    #[serde(default)]
    pub checks_resumed: usize,
    /// Requests that failed.
    pub errors: Vec<String>,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for terminals.
    Table,
    /// The report as JSON.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML (one test case per finding).
    Junit,
    /// A self-contained HTML page.
    Html,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "junit" => Ok(Format::Junit),
            "html" => Ok(Format::Html),
            other => Err(format!(
                "unknown format {other:?}: expected table, json, sarif, junit or html"
            )),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Baseline {
    version: u32,
    fingerprints: Vec<String>,
}

impl ScanReport {
    /// Renders the report.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => self.render_table(),
            Format::Json => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
            Format::Sarif => sarif::render(self),
            Format::Junit => junit::render(self),
            Format::Html => html::render(self),
        }
    }

    /// `true` when a finding has at least `threshold` severity.
    pub fn fails(&self, threshold: Option<Severity>) -> bool {
        threshold.is_some_and(|t| self.findings.iter().any(|f| f.severity >= t))
    }

    /// Removes findings whose fingerprints the baseline file lists.
    pub fn apply_baseline(&mut self, path: &Path) -> Result<(), ScanError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScanError::io(path, &e))?;
        let baseline: Baseline = serde_json::from_str(&text)
            .map_err(|e| ScanError::baseline(format!("{}: {e}", path.display())))?;
        let known: HashSet<&str> = baseline.fingerprints.iter().map(String::as_str).collect();
        let before = self.findings.len();
        self.findings
            .retain(|f| !known.contains(f.fingerprint().as_str()));
        self.baselined += before - self.findings.len();
        Ok(())
    }

    /// Writes the current findings as a baseline file.
    pub fn write_baseline(&self, path: &Path) -> Result<(), ScanError> {
        let mut fingerprints: Vec<String> =
            self.findings.iter().map(Finding::fingerprint).collect();
        fingerprints.sort();
        fingerprints.dedup();
        let text = serde_json::to_string_pretty(&Baseline {
            version: 1,
            fingerprints,
        })
        .unwrap_or_default();
        std::fs::write(path, text + "\n").map_err(|e| ScanError::io(path, &e))
    }

    fn render_table(&self) -> String {
        let mut out = format!(
            "{:<9} {:<28} {:<8} {:<14} URL\n",
            "SEVERITY", "CHECK", "CWE", "PARAMETER"
        );
        for f in &self.findings {
            out.push_str(&format!(
                "{:<9} {:<28} {:<8} {:<14} {}{}\n",
                f.severity.as_str(),
                f.id,
                format!("CWE-{}", f.cwe),
                f.parameter.as_deref().unwrap_or("-"),
                f.method
                    .as_deref()
                    .map(|m| format!("{m} "))
                    .unwrap_or_default(),
                f.url
            ));
        }
        let mut counts: Vec<String> = Vec::new();
        for severity in [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ] {
            let n = self
                .findings
                .iter()
                .filter(|f| f.severity == severity)
                .count();
            if n > 0 {
                counts.push(format!("{n} {severity}"));
            }
        }
        out.push_str(&format!(
            "\n{} findings{} · {} pages, {} targets, {} requests in {:.1} s{}{}{}\n",
            self.findings.len(),
            if counts.is_empty() {
                String::new()
            } else {
                format!(" ({})", counts.join(", "))
            },
            self.pages,
            self.targets,
            self.requests,
            self.elapsed_ms as f64 / 1000.0,
            if self.baselined > 0 {
                format!(" · {} baselined", self.baselined)
            } else {
                String::new()
            },
            if self.robots_skipped > 0 {
                format!(" · {} URLs skipped by robots.txt", self.robots_skipped)
            } else {
                String::new()
            },
            if self.interrupted {
                " · INTERRUPTED (resume with the same --state file)"
            } else if self.stopped_early {
                " · STOPPED EARLY (budget or time limit)"
            } else {
                ""
            },
        ));
        out
    }
}

/// Escapes text for HTML and XML content and attribute values.
pub(crate) fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 forbids most control characters even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Evidence;

    pub(crate) fn sample() -> ScanReport {
        ScanReport {
            target: "http://127.0.0.1:8000/".into(),
            findings: vec![Finding {
                id: "xss.reflected".into(),
                title: "Reflected cross-site scripting".into(),
                cwe: 79,
                severity: Severity::High,
                url: "http://127.0.0.1:8000/search".into(),
                method: Some("GET".into()),
                parameter: Some("q".into()),
                evidence: Evidence {
                    request: "GET http://127.0.0.1:8000/search?q=%3Csvg%3E".into(),
                    response: "HTTP 200\n<svg onload=plsx1()>\u{1}".into(),
                    detail: "parses".into(),
                },
                fix: "encode".into(),
            }],
            pages: 3,
            targets: 1,
            requests: 40,
            elapsed_ms: 1200,
            ..ScanReport::default()
        }
    }

    #[test]
    fn thresholds_and_baselines() {
        let mut report = sample();
        assert!(report.fails(Some(Severity::High)));
        assert!(!report.fails(Some(Severity::Critical)));
        assert!(!report.fails(None));
        let dir =
            std::env::temp_dir().join(format!("palisade-scan-baseline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join("baseline.json");
        report
            .write_baseline(&path)
            .unwrap_or_else(|e| panic!("{e}"));
        report
            .apply_baseline(&path)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(report.findings.is_empty());
        assert_eq!(report.baselined, 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_format_names_the_finding_and_escapes_markup() {
        let report = sample();
        for format in ["table", "json", "sarif", "junit", "html"] {
            let text = report.render(format.parse().unwrap_or_else(|e| panic!("{e}")));
            assert!(text.contains("xss.reflected"), "{format}: {text}");
            if matches!(format, "junit" | "html") {
                assert!(
                    !text.contains("<svg onload"),
                    "{format} must escape evidence"
                );
            }
        }
        let sarif: serde_json::Value =
            serde_json::from_str(&report.render(Format::Sarif)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sarif["version"], "2.1.0");
        assert_eq!(
            sarif["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"][1],
            "external/cwe/cwe-79"
        );
    }
}
