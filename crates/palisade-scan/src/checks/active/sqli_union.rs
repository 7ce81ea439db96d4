//! SQL injection, UNION-based.
//!
//! What: `UNION SELECT a*b, a*b, …` with 1 to 6 columns, in numeric and quoted contexts; the
//! product (computed by the database, absent from the payload text and from the baseline)
//! appears in the page, and a second pair of constants gives its own product.
//!
//! Why: UNION injection returns any table's contents in the page itself.
//!
//! Example: `?id=-1 UNION SELECT 48271*3,48271*3` → the page shows `144813`.
//!
//! References: CWE-89; OWASP WSTG-INPV-05.

use crate::checks::{Info, ParamCheck, Probe, random_in};
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
    id: "sqli.union",
    title: "SQL injection (UNION-based)",
    cwe: 89,
    severity: Severity::Critical,
    fix: "Use parameterised queries (placeholders) for every value; never build SQL by string concatenation.",
};

/// Most columns tried.
const MAX_COLUMNS: usize = 6;

fn payload(prefix: &str, columns: usize, a: u32, b: u32) -> String {
    let select = vec![format!("{a}*{b}"); columns].join(",");
    format!("{prefix} UNION SELECT {select}-- -")
}

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    if probe.confirmed.iter().any(|c| c == "sqli") {
        return Ok(None);
    }
    let v = probe.original();
    let prefixes = [
        format!("-{}", random_in(100_000..999_999)),
        format!("{v}'"),
        format!("{v}\""),
    ];
    for prefix in &prefixes {
        for columns in 1..=MAX_COLUMNS {
            let (a, b) = (random_in(10_007..40_000), random_in(3..9));
            let product = (u64::from(a) * u64::from(b)).to_string();
            if probe.baseline.body.contains(&product) {
                continue;
            }
            let value = payload(prefix, columns, a, b);
            let exchange = probe.send(&value)?;
            if !exchange.body.contains(&product) {
                continue;
            }
            let (c, d) = (random_in(40_001..90_000), random_in(3..9));
            let second = (u64::from(c) * u64::from(d)).to_string();
            let confirm = probe.send(&payload(prefix, columns, c, d))?;
            if confirm.body.contains(&second) && !confirm.body.contains(&product) {
                return Ok(Some(probe.finding(
                    &INFO,
                    &exchange,
                    &product,
                    format!(
                        "{value:?} made the database compute {a}*{b} = {product} into the page ({columns} columns); a second pair gave {second}"
                    ),
                )));
            }
        }
    }
    Ok(None)
}
