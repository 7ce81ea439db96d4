//! SQL injection, boolean-based.
//!
//! What: appending `AND a=a` keeps the page as it was while `AND a=b` changes it (AND form),
//! or `OR a=b` keeps it while `OR a=a` changes it (OR form, for values that match nothing or
//! where AND short-circuits) — in numeric, single-quoted, double-quoted and comment-terminated
//! contexts, twice with fresh constants, with the input's echoes neutralised
//! ([`crate::checks::compare`]).
//!
//! Why: blind SQL injection extracts the database one bit per request.
//!
//! Example: `?name=alice' AND '37'='37` → alice's row; `?name=alice' AND '37'='52` → no row.
//!
//! References: CWE-89; OWASP WSTG-INPV-05.

use super::differential::{Form, confirm};
use crate::checks::{Info, ParamCheck, Probe};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::target::INPUTS;

/// The check.
pub const CHECK: ParamCheck = ParamCheck {
    name: "sqli",
    run,
    locations: INPUTS,
};

const INFO: Info = Info {
    id: "sqli.boolean",
    title: "SQL injection (boolean-based blind)",
    cwe: 89,
    severity: Severity::Critical,
    fix: "Use parameterised queries (placeholders) for every value; never build SQL by string concatenation.",
};

type Template = fn(&str, u32, u32) -> (String, String);

/// (form, template) in the order tried. SQL keywords are upper-case on purpose: XPath is
/// case-sensitive, so these never confirm an XPath injection as SQL.
const TEMPLATES: [(Form, Template); 8] = [
    (Form::And, |v, a, b| {
        (format!("{v} AND {a}={a}"), format!("{v} AND {a}={b}"))
    }),
    (Form::And, |v, a, b| {
        (
            format!("{v}' AND '{a}'='{a}"),
            format!("{v}' AND '{a}'='{b}"),
        )
    }),
    (Form::And, |v, a, b| {
        (
            format!("{v}\" AND \"{a}\"=\"{a}"),
            format!("{v}\" AND \"{a}\"=\"{b}"),
        )
    }),
    (Form::And, |v, a, b| {
        (
            format!("{v}' AND {a}={a}-- -"),
            format!("{v}' AND {a}={b}-- -"),
        )
    }),
    (Form::Or, |v, a, b| {
        (format!("{v} OR {a}={a}"), format!("{v} OR {a}={b}"))
    }),
    (Form::Or, |v, a, b| {
        (format!("{v}' OR '{a}'='{a}"), format!("{v}' OR '{a}'='{b}"))
    }),
    (Form::Or, |v, a, b| {
        (
            format!("{v}\" OR \"{a}\"=\"{a}"),
            format!("{v}\" OR \"{a}\"=\"{b}"),
        )
    }),
    (Form::Or, |v, a, b| {
        (
            format!("{v}' OR {a}={a}-- -"),
            format!("{v}' OR {a}={b}-- -"),
        )
    }),
];

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    if probe.confirmed.iter().any(|c| c == "sqli") {
        return Ok(None);
    }
    for (form, template) in TEMPLATES {
        if let Some(d) = confirm(probe, form, &template)? {
            return Ok(Some(probe.finding(
                &INFO,
                &d.true_exchange,
                "",
                format!(
                    "{form:?} form: {:?} and {:?} give different pages (HTTP {} / {}), and the {} one equals the baseline; repeated with fresh constants",
                    d.true_value,
                    d.false_value,
                    d.true_exchange.status,
                    d.false_exchange.status,
                    if form == Form::And { "true" } else { "false" },
                ),
            )));
        }
    }
    Ok(None)
}
