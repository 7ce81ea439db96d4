//! OS command injection.
//!
//! What: shell syntax in the parameter runs a command. Output confirmation: `echo` of a
//! marker followed by shell arithmetic `$((a*b))` — only a shell turns it into the product,
//! so `marker<product>` in the page (absent from the payload and baseline) proves execution.
//! Blind confirmation: `sleep n` with the statistical timing test.
//!
//! Why: command execution on the server.
//!
//! Example: `?host=127.0.0.1;echo plsc$((311*7))` → `plsc2177` in the page.
//!
//! References: CWE-78 (OS Command Injection); OWASP WSTG-INPV-12.

use crate::checks::{Info, ParamCheck, Probe, canary, random_in, timing};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::target::INPUTS;

/// The check.
pub const CHECK: ParamCheck = ParamCheck {
    name: "cmdi",
    run,
    locations: INPUTS,
};

const INFO: Info = Info {
    id: "cmdi.output",
    title: "OS command injection",
    cwe: 78,
    severity: Severity::Critical,
    fix: "Do not pass input to a shell: call the program with an argument list (subprocess.run([...], shell=False)) and validate values against an allowlist.",
};
const BLIND: Info = Info {
    id: "cmdi.time",
    title: "OS command injection (time-based blind)",
    ..INFO
};

/// Separators that start a new command; `{}` is the command.
const SEPARATORS: [fn(&str, &str) -> String; 6] = [
    |v, c| format!("{v};{c}"),
    |v, c| format!("{v}|{c}"),
    |v, c| format!("{v}&&{c}"),
    |v, c| format!("{v}$({c})"),
    |v, c| format!("{v}`{c}`"),
    |v, c| format!("{v}\n{c}\n"),
];

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    let v = probe.original();
    for separator in SEPARATORS {
        let marker = canary("plsc");
        let (a, b) = (random_in(101..999), random_in(3..97));
        let expected = format!("{marker}{}", a * b);
        let value = separator(v, &format!("echo {marker}$(({a}*{b}))"));
        let exchange = probe.send(&value)?;
        if exchange.body.contains(&expected) && !probe.baseline.body.contains(&expected) {
            return Ok(Some(probe.finding(
                &INFO,
                &exchange,
                &expected,
                format!("{value:?} printed {expected}: the shell evaluated $(({a}*{b}))"),
            )));
        }
    }
    for separator in SEPARATORS {
        let confirmed = timing::confirm(probe.baseline.elapsed, |n| {
            probe.send(&separator(v, &format!("sleep {n}")))
        })?;
        if let Some(c) = confirmed {
            return Ok(Some(probe.finding(
                &BLIND,
                &c.exchange,
                "",
                format!(
                    "{:?}: correlation {:.3}, slope {:.2} s/s over delays {:?}",
                    separator(v, "sleep N"),
                    c.correlation,
                    c.slope,
                    c.samples
                        .iter()
                        .map(|(n, t)| format!("{n}s→{t:.2}s"))
                        .collect::<Vec<_>>()
                ),
            )));
        }
    }
    Ok(None)
}
