//! CRLF injection (HTTP response splitting).
//!
//! What: a carriage return and line feed followed by a header line, in the parameter, shows
//! up as a separate response header with a random name and value.
//!
//! Why: injected headers set cookies, disable protections or split the response to poison
//! caches.
//!
//! Example: `?lang=en%0d%0aX-Pls-abc: abc` → response header `X-Pls-abc: abc`.
//!
//! References: CWE-93 (CRLF Injection), CWE-113 (HTTP Response Splitting).

use crate::checks::{Info, ParamCheck, Probe, canary};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::target::INPUTS;

/// The check.
pub const CHECK: ParamCheck = ParamCheck {
    name: "crlf",
    run,
    locations: INPUTS,
};

const INFO: Info = Info {
    id: "crlf.header",
    title: "CRLF injection in response headers",
    cwe: 113,
    severity: Severity::Medium,
    fix: "Reject or strip CR and LF from values written into headers (use the framework's header API).",
};

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    let token = canary("plsh");
    let header = format!("x-{token}");
    let v = probe.original();
    for value in [
        format!("{v}\r\n{header}: {token}"),
        format!("{v}%0d%0a{header}:%20{token}"),
    ] {
        let exchange = probe.send(&value)?;
        if exchange.header(&header) == Some(token.as_str()) {
            let evidence = exchange.header_excerpt(&header);
            return Ok(Some(probe.finding(
                &INFO,
                &exchange,
                "",
                format!("{value:?} produced the response header {header}: {token}"),
            ))
            .map(|mut f| {
                f.evidence.response = evidence;
                f
            }));
        }
    }
    Ok(None)
}
