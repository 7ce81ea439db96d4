//! A self-contained HTML report: inline CSS, no scripts, no external resources; every value
//! taken from the scanned application is escaped (it is attacker-controlled).

use super::{ScanReport, escape_markup};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}pre{background:#f6f6f6;padding:8px;white-space:pre-wrap;word-break:break-all}.critical,.high{color:#b00020}.medium{color:#b26a00}.low,.info{color:#555}details{margin:1em 0}";

/// Renders the HTML report.
pub(super) fn render(report: &ScanReport) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>Palisade scan of {}</title><style>{STYLE}</style></head><body>\n<h1>Palisade scan of {}</h1>\n<p>{} findings · {} pages · {} targets · {} requests · {:.1} s{}</p>\n<table><tr><th>Severity</th><th>Check</th><th>CWE</th><th>URL</th><th>Parameter</th></tr>\n",
        escape_markup(&report.target),
        escape_markup(&report.target),
        report.findings.len(),
        report.pages,
        report.targets,
        report.requests,
        report.elapsed_ms as f64 / 1000.0,
        if report.stopped_early {
            " · stopped early"
        } else {
            ""
        },
    );
    for (i, f) in report.findings.iter().enumerate() {
        out.push_str(&format!(
            "<tr><td class=\"{sev}\">{sev}</td><td><a href=\"#f{i}\">{}</a></td><td>CWE-{}</td><td>{}</td><td>{}</td></tr>\n",
            escape_markup(&f.id),
            f.cwe,
            escape_markup(&f.url),
            escape_markup(f.parameter.as_deref().unwrap_or("-")),
            sev = f.severity.as_str(),
        ));
    }
    out.push_str("</table>\n");
    for (i, f) in report.findings.iter().enumerate() {
        out.push_str(&format!(
            "<details id=\"f{i}\" open><summary class=\"{}\"><b>{}</b> — {} ({}, CWE-{})</summary><p>{}</p><h4>Request</h4><pre>{}</pre><h4>Response</h4><pre>{}</pre><p><b>Fix:</b> {}</p></details>\n",
            f.severity.as_str(),
            escape_markup(&f.title),
            escape_markup(&f.url),
            f.severity,
            f.cwe,
            escape_markup(&f.evidence.detail),
            escape_markup(&f.evidence.request),
            escape_markup(&f.evidence.response),
            escape_markup(&f.fix),
        ));
    }
    out.push_str("</body></html>\n");
    out
}
