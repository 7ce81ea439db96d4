//! SARIF 2.1.0 (GitHub code scanning): one rule per check id with `external/cwe/cwe-N` tags,
//! one result per finding located by URL, with the evidence in the message and properties.

use super::ScanReport;
use crate::finding::Severity;

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// Renders SARIF.
pub(super) fn render(report: &ScanReport) -> String {
    let mut ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let rules: Vec<serde_json::Value> = ids
        .iter()
        .filter_map(|id| report.findings.iter().find(|f| f.id == *id))
        .map(|f| {
            serde_json::json!({
                "id": f.id,
                "name": f.id.replace('.', "_"),
                "shortDescription": { "text": f.title },
                "help": { "text": f.fix },
                "properties": {
                    "tags": ["security", format!("external/cwe/cwe-{}", f.cwe)],
                    "security-severity": security_severity(f.severity),
                },
                "defaultConfiguration": { "level": level(f.severity) },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            let location = match &f.parameter {
                Some(p) => format!("{} (parameter {p})", f.url),
                None => f.url.clone(),
            };
            serde_json::json!({
                "ruleId": f.id,
                "ruleIndex": ids.iter().position(|id| *id == f.id),
                "level": level(f.severity),
                "message": { "text": format!("{} at {location}: {}", f.title, f.evidence.detail) },
                "locations": [{
                    "physicalLocation": { "artifactLocation": { "uri": f.url } },
                    "logicalLocations": [{ "name": location, "kind": "resource" }],
                }],
                "partialFingerprints": { "palisadeScan/v1": f.fingerprint() },
                "properties": {
                    "cwe": format!("CWE-{}", f.cwe),
                    "severity": f.severity.as_str(),
                    "method": f.method,
                    "parameter": f.parameter,
                    "request": f.evidence.request,
                    "response": f.evidence.response,
                },
            })
        })
        .collect();
    let sarif = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "palisade-scan",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/palisade",
                "rules": rules,
            }},
            "results": results,
            "properties": {
                "target": report.target,
                "requests": report.requests,
                "pages": report.pages,
            },
        }]
    });
    serde_json::to_string_pretty(&sarif).unwrap_or_default() + "\n"
}
