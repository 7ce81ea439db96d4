//! Server-side template injection.
//!
//! What: template arithmetic in the parameter (`{{a*b}}`, `${a*b}`, `<%= a*b %>`, `#{a*b}`)
//! comes back evaluated: the product appears in the page, absent from the baseline and the
//! payload, and a second pair of random factors gives its own product.
//!
//! Why: template engines execute code; SSTI is remote code execution in most of them.
//!
//! Example: `?name={{7*191}}` → `Hello 1337`.
//!
//! References: CWE-1336 (Improper Neutralization of Special Elements Used in a Template
//! Engine), CWE-94; OWASP WSTG-INPV-18.

use crate::checks::{Info, ParamCheck, Probe, random_in};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::target::INPUTS;

/// The check.
pub const CHECK: ParamCheck = ParamCheck {
    name: "ssti",
    run,
    locations: INPUTS,
};

const INFO: Info = Info {
    id: "ssti.evaluated",
    title: "Server-side template injection",
    cwe: 1336,
    severity: Severity::Critical,
    fix: "Never build templates from user input; pass input as template variables (render_template with context, not render_template_string).",
};

const TEMPLATES: [fn(u32, u32) -> String; 5] = [
    |a, b| format!("{{{{{a}*{b}}}}}"),
    |a, b| format!("${{{a}*{b}}}"),
    |a, b| format!("<%= {a}*{b} %>"),
    |a, b| format!("#{{{a}*{b}}}"),
    |a, b| format!("{{{a}*{b}}}"),
];

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    for template in TEMPLATES {
        let (a, b) = (random_in(101..999), random_in(101..999));
        let product = (a * b).to_string();
        let value = template(a, b);
        if probe.baseline.body.contains(&product) {
            continue;
        }
        let exchange = probe.send(&value)?;
        if !exchange.body.contains(&product) {
            continue;
        }
        let (c, d) = (random_in(101..999), random_in(101..999));
        let second = (c * d).to_string();
        let confirm = probe.send(&template(c, d))?;
        if confirm.body.contains(&second) {
            return Ok(Some(probe.finding(
                &INFO,
                &exchange,
                &product,
                format!("{value:?} rendered as {product}; a second pair rendered {second}"),
            )));
        }
    }
    Ok(None)
}
