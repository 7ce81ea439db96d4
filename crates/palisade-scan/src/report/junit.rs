//! JUnit XML: one test suite per category, one failing test case per finding (CI systems
//! show them as failed tests) and one passing case per category that found nothing is not
//! invented — only findings are listed.

use std::collections::BTreeMap;

use super::{ScanReport, escape_markup};
use crate::finding::Finding;

/// Renders JUnit XML.
pub(super) fn render(report: &ScanReport) -> String {
    let mut suites: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        suites.entry(f.category()).or_default().push(f);
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"palisade scan {}\" tests=\"{}\" failures=\"{}\" time=\"{:.3}\">\n",
        escape_markup(&report.target),
        report.findings.len(),
        report.findings.len(),
        report.elapsed_ms as f64 / 1000.0
    ));
    for (category, findings) in suites {
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">\n",
            escape_markup(category),
            findings.len(),
            findings.len()
        ));
        for f in findings {
            let name = match &f.parameter {
                Some(p) => format!("{} {} [{p}]", f.id, f.url),
                None => format!("{} {}", f.id, f.url),
            };
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">\n      <failure type=\"CWE-{}\" message=\"{} ({})\">{}</failure>\n    </testcase>\n",
                escape_markup(&f.id),
                escape_markup(&name),
                f.cwe,
                escape_markup(&f.title),
                f.severity,
                escape_markup(&format!(
                    "{}\n\nRequest:\n{}\n\nResponse:\n{}\n\nFix: {}",
                    f.evidence.detail, f.evidence.request, f.evidence.response, f.fix
                ))
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
