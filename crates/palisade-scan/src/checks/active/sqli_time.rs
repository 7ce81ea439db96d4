//! SQL injection, time-based.
//!
//! What: a sub-query that sleeps `n` seconds (`SLEEP(n)` — MySQL, or SQLite with a sleep
//! function; `pg_sleep(n)` — PostgreSQL; `WAITFOR DELAY` — SQL Server) delays the response
//! by `n` seconds, confirmed statistically over several delays ([`crate::checks::timing`]).
//!
//! Why: blind injection where nothing in the page changes still extracts data through time.
//!
//! Example: `?q=x' AND 1=(SELECT 1 FROM (SELECT SLEEP(3))t)-- -` answers 3 s later.
//!
//! References: CWE-89; OWASP WSTG-INPV-05.

use crate::checks::timing;
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
    id: "sqli.time",
    title: "SQL injection (time-based blind)",
    cwe: 89,
    severity: Severity::Critical,
    fix: "Use parameterised queries (placeholders) for every value; never build SQL by string concatenation.",
};

type Template = fn(&str, u32) -> String;

const TEMPLATES: [Template; 8] = [
    |v, n| format!("{v} AND 1=(SELECT 1 FROM (SELECT SLEEP({n}))t)"),
    |v, n| format!("{v}' AND 1=(SELECT 1 FROM (SELECT SLEEP({n}))t)-- -"),
    |v, n| format!("{v}' OR 1=(SELECT 1 FROM (SELECT SLEEP({n}))t)-- -"),
    |v, n| format!("{v}\" OR 1=(SELECT 1 FROM (SELECT SLEEP({n}))t)-- -"),
    |v, n| format!("{v} AND 1=(SELECT 1 FROM PG_SLEEP({n}))"),
    |v, n| format!("{v}' AND 1=(SELECT 1 FROM PG_SLEEP({n}))-- -"),
    |v, n| format!("{v}' OR 1=(SELECT 1 FROM PG_SLEEP({n}))-- -"),
    |v, n| format!("{v}'; WAITFOR DELAY '0:0:{n}'-- -"),
];

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    if probe.confirmed.iter().any(|c| c == "sqli") {
        return Ok(None);
    }
    let v = probe.original();
    for template in TEMPLATES {
        let confirmed = timing::confirm(probe.baseline.elapsed, |n| probe.send(&template(v, n)))?;
        if let Some(c) = confirmed {
            return Ok(Some(probe.finding(
                &INFO,
                &c.exchange,
                "",
                format!(
                    "{:?}: response times {:?} for requested delays; correlation {:.3}, slope {:.2} s/s",
                    template(v, 3),
                    c.samples
                        .iter()
                        .map(|(n, t)| format!("{n}s→{t:.2}s"))
                        .collect::<Vec<_>>(),
                    c.correlation,
                    c.slope
                ),
            )));
        }
    }
    Ok(None)
}
