//! XPath injection.
//!
//! What: (1) a quote makes the response show an XPath evaluation error, absent from the
//! baseline, while the quote closed by a valid `or` expression does not; (2) the boolean
//! differential with lower-case XPath operators (`' or 'a'='b` keeps the page, `' or 'a'='a`
//! changes it). Skipped on parameters already confirmed as SQL injection: the SQL checks use
//! upper-case keywords, which XPath rejects, so the two never confirm each other.
//!
//! Why: XPath injection reads the whole XML document (users, passwords) and bypasses
//! XPath-based logins.
//!
//! Example: `?user=x' or '1'='1` → every user listed.
//!
//! References: CWE-643 (XPath Injection); OWASP WSTG-INPV-09.

use std::sync::LazyLock;

use regex::Regex;

use super::differential::{Form, confirm};
use super::{error_signature, re};
use crate::checks::{Info, ParamCheck, Probe};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::target::INPUTS;

/// The check.
pub const CHECK: ParamCheck = ParamCheck {
    name: "xpath",
    run,
    locations: INPUTS,
};

const ERROR: Info = Info {
    id: "xpath.error",
    title: "XPath injection (error-based)",
    cwe: 643,
    severity: Severity::High,
    fix: "Use parameterised XPath (variables, e.g. lxml's xpath('//u[@n=$name]', name=value)); never concatenate input into expressions.",
};
const BOOLEAN: Info = Info {
    id: "xpath.boolean",
    title: "XPath injection (boolean-based)",
    ..ERROR
};

static XPATH_ERRORS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)XPathEvalError|XPathSyntaxError|Invalid predicate|Invalid expression|Unfinished literal|javax\.xml\.xpath|SimpleXMLElement::xpath|XPathException|System\.Xml\.XPath",
    )
});

type Template = fn(&str, u32, u32) -> (String, String);

const TEMPLATES: [(Form, Template); 4] = [
    (Form::Or, |v, a, b| {
        (format!("{v}' or '{a}'='{a}"), format!("{v}' or '{a}'='{b}"))
    }),
    (Form::Or, |v, a, b| {
        (
            format!("{v}\" or \"{a}\"=\"{a}"),
            format!("{v}\" or \"{a}\"=\"{b}"),
        )
    }),
    (Form::And, |v, a, b| {
        (
            format!("{v}' and '{a}'='{a}"),
            format!("{v}' and '{a}'='{b}"),
        )
    }),
    (Form::Or, |v, a, b| {
        (format!("{v} or {a}={a}"), format!("{v} or {a}={b}"))
    }),
];

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    if probe.confirmed.iter().any(|c| c == "sqli") {
        return Ok(None);
    }
    let v = probe.original();
    let broken = [format!("{v}'"), format!("{v}\"")];
    let repaired = [format!("{v}' or '1'='1"), format!("{v}\" or \"1\"=\"1")];
    if let Some(e) = error_signature(probe, &XPATH_ERRORS, &broken, &repaired)? {
        return Ok(Some(probe.finding(
            &ERROR,
            &e.exchange,
            &e.signature,
            e.detail("XPath"),
        )));
    }
    for (form, template) in TEMPLATES {
        if let Some(d) = confirm(probe, form, &template)? {
            return Ok(Some(probe.finding(
                &BOOLEAN,
                &d.true_exchange,
                "",
                format!(
                    "{form:?} form: {:?} and {:?} give different pages and the {} one equals the baseline; repeated with fresh constants",
                    d.true_value,
                    d.false_value,
                    if form == Form::And { "true" } else { "false" }
                ),
            )));
        }
    }
    Ok(None)
}
