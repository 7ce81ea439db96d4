//! Reflected cross-site scripting.
//!
//! What: a unique canary sent in the parameter comes back in the page; then breakout payloads
//! for each reflection context (HTML text, quoted and unquoted attributes, RCDATA elements,
//! comments, script strings, URL attributes) are sent, and the response is parsed with an
//! HTML5 parser (html5ever, as a browser would) to confirm that the payload became
//! executable: an element with an event-handler attribute calling the canary, a
//! `javascript:` URL calling it, or a script in which the call is code, outside any string or
//! comment. Encoded or filtered output never parses that way, so it is never reported; nor
//! are redirect bodies and non-HTML responses, which browsers do not render.
//!
//! Why: script in the victim's page steals sessions and acts as the victim.
//!
//! Example: `?q="><svg onload=plsx1a2b3c4d()>` → `<input value=""><svg onload=plsx1a2b3c4d()>">`.
//!
//! References: CWE-79 (Cross-site Scripting); OWASP WSTG-INPV-01.

use scraper::Html;

use crate::checks::{Info, ParamCheck, Probe, canary};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::http::Exchange;
use crate::target::{INPUTS, Location};

/// The check.
pub const CHECK: ParamCheck = ParamCheck {
    name: "xss",
    run,
    locations: INPUTS,
};

const INFO: Info = Info {
    id: "xss.reflected",
    title: "Reflected cross-site scripting",
    cwe: 79,
    severity: Severity::High,
    fix: "Encode output for its context (HTML text, attribute, JavaScript, URL) with the template engine's auto-escaping; add a Content-Security-Policy.",
};

/// Breakout payloads; `C` is replaced by the canary function name.
pub(crate) const PAYLOADS: [&str; 12] = [
    "<svg onload=C()>",
    "\"><svg onload=C()>",
    "'><svg onload=C()>",
    "\" autofocus onfocus=C() x=\"",
    "' autofocus onfocus=C() x='",
    " autofocus onfocus=C() x=",
    "</textarea></title></style><svg onload=C()>",
    "--><svg onload=C()>",
    "</script><svg onload=C()>",
    "';C();//",
    "\";C();//",
    "javascript:C()",
];

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    let marker = canary("plsx");
    let reflected = probe.send(&marker)?;
    if !reflected.body.contains(&marker) {
        return Ok(None);
    }
    for payload in PAYLOADS {
        let function = canary("plsx");
        let value = payload.replace('C', &function);
        let exchange = probe.send(&value)?;
        if !exchange.body.contains(&function) || !rendered_as_html(&exchange) {
            continue;
        }
        if let Some(how) = executable(&exchange.body, &function) {
            let mut finding = probe.finding(
                &INFO,
                &exchange,
                &function,
                format!("canary {marker} is reflected; payload {value:?} parses as {how}"),
            );
            if probe.target.params[probe.index].location == Location::Header {
                // A link cannot make a victim's browser send a chosen header.
                finding.severity = Severity::Low;
                finding.evidence.detail.push_str(
                    "; the value travels in a request header, which only a cache, proxy or other flaw lets an attacker set in a victim's request",
                );
            }
            return Ok(Some(finding));
        }
    }
    Ok(None)
}

/// Does a browser render this response as HTML? Not a redirect (browsers follow `Location`
/// and never show the body) and not a non-HTML content type (JSON, text are not parsed).
pub(crate) fn rendered_as_html(exchange: &Exchange) -> bool {
    let redirect = (300..400).contains(&exchange.status) && exchange.header("location").is_some();
    let html = exchange
        .header("content-type")
        .is_none_or(|t| t.to_ascii_lowercase().contains("html"));
    !redirect && html
}

/// How `function()` became executable in `body`, if it did.
pub fn executable(body: &str, function: &str) -> Option<String> {
    let call = format!("{function}()");
    let document = Html::parse_document(body);
    for node in document.tree.nodes() {
        let Some(element) = node.value().as_element() else {
            continue;
        };
        for (name, value) in element.attrs() {
            let lower = name.to_ascii_lowercase();
            if lower.starts_with("on") && value.contains(&call) {
                return Some(format!("<{} {name}=…> calling {call}", element.name()));
            }
            if matches!(lower.as_str(), "href" | "src" | "action" | "formaction")
                && value
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("javascript:")
                && value.contains(&call)
                && element.name() != "link"
            {
                return Some(format!("<{} {name}=\"javascript:…\">", element.name()));
            }
        }
        if element.name() == "script" && element.attr("src").is_none() {
            let text: String = node
                .children()
                .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                .collect();
            let mut from = 0;
            while let Some(at) = text[from..].find(&call) {
                let at = from + at;
                // A statement of its own: code, and after `;`, `{`, `}` or at the start (a call
                // glued to a string, `''x=f()`, is a syntax error that never runs).
                let statement_start = text[..at]
                    .trim_end()
                    .chars()
                    .last()
                    .is_none_or(|c| matches!(c, ';' | '{' | '}'));
                if statement_start && is_code_at(&text, at) {
                    return Some(format!("a <script> in which {call} is code"));
                }
                from = at + call.len();
            }
        }
    }
    None
}

/// Is byte `offset` of JavaScript `source` outside strings, template literals and comments?
/// A small lexer: enough for the question, not a parser.
pub fn is_code_at(source: &str, offset: usize) -> bool {
    #[derive(PartialEq)]
    enum State {
        Code,
        Quote(u8),
        LineComment,
        BlockComment,
    }
    let bytes = source.as_bytes();
    let mut state = State::Code;
    let mut i = 0;
    while i < offset.min(bytes.len()) {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        match state {
            State::Code => match (b, next) {
                (b'/', Some(b'/')) => state = State::LineComment,
                (b'/', Some(b'*')) => {
                    state = State::BlockComment;
                    i += 1;
                }
                (b'\'' | b'"' | b'`', _) => state = State::Quote(b),
                _ => {}
            },
            State::Quote(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q || (b == b'\n' && q != b'`') {
                    state = State::Code;
                }
            }
            State::LineComment => {
                if b == b'\n' {
                    state = State::Code;
                }
            }
            State::BlockComment => {
                if b == b'*' && next == Some(b'/') {
                    state = State::Code;
                    i += 1;
                }
            }
        }
        i += 1;
    }
    state == State::Code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakouts_confirm_and_encoded_output_does_not() {
        let f = "plsxabc";
        assert!(executable(r#"<p>hi <svg onload=plsxabc()></p>"#, f).is_some());
        assert!(executable(r#"<input value=""><svg onload=plsxabc()>">"#, f).is_some());
        assert!(executable(r#"<input value="" autofocus onfocus=plsxabc() x="">"#, f).is_some());
        assert!(executable(r#"<a href="javascript:plsxabc()">x</a>"#, f).is_some());
        assert!(executable("<script>var q = '';plsxabc();//';</script>", f).is_some());
        // Outside the string but glued to it: a syntax error, never executed.
        assert!(executable("<script>var q = ''svg onload=plsxabc()';</script>", f).is_none());
        // Encoded, inside a quoted attribute, inside RCDATA, inside a JS string: no.
        assert!(executable("<p>&lt;svg onload=plsxabc()&gt;</p>", f).is_none());
        assert!(
            executable(
                r#"<input value="&quot;&gt;&lt;svg onload=plsxabc()&gt;">"#,
                f
            )
            .is_none()
        );
        assert!(executable("<textarea><svg onload=plsxabc()></textarea>", f).is_none());
        assert!(executable(r#"<script>var q = "\';plsxabc();//";</script>"#, f).is_none());
        assert!(executable(r#"<script>var q = '\';plsxabc();//';</script>"#, f).is_none());
    }

    #[test]
    fn the_lexer_tracks_strings_and_comments() {
        let src = "a = 'x\\'y' + \"z\"; // c\n/* d */ e";
        assert!(is_code_at(src, 0));
        assert!(!is_code_at(src, 6));
        assert!(is_code_at(src, 11));
        assert!(!is_code_at(src, 22));
        assert!(is_code_at(src, src.len() - 1));
    }
}
