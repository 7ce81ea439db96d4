//! Open redirect.
//!
//! What: an absolute URL, a scheme-relative URL or a backslash trick naming a random canary
//! host in the parameter makes the response redirect (3xx `Location`, `Refresh` header) to
//! that host; the baseline does not.
//!
//! Why: phishing through a trusted domain; token theft in OAuth flows.
//!
//! Example: `?next=//plsrabc123.example/` → `302 Location: //plsrabc123.example/`.
//!
//! References: CWE-601 (URL Redirection to Untrusted Site); OWASP WSTG-CLNT-04.

use url::Url;

use crate::checks::{Info, ParamCheck, Probe, canary};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::http::Exchange;
use crate::target::INPUTS;

/// The check.
pub const CHECK: ParamCheck = ParamCheck {
    name: "redirect",
    run,
    locations: INPUTS,
};

const INFO: Info = Info {
    id: "redirect.open",
    title: "Open redirect",
    cwe: 601,
    severity: Severity::Medium,
    fix: "Redirect only to relative paths or to an allowlist of hosts; reject values starting with `//` or a scheme.",
};

const FORMS: [fn(&str) -> String; 4] = [
    |h| format!("https://{h}/"),
    |h| format!("//{h}/"),
    |h| format!("/\\{h}/"),
    |h| format!("https:{h}"),
];

/// The host a browser goes to after `exchange`, if it redirects.
fn redirect_host(exchange: &Exchange) -> Option<String> {
    let target = if (300..400).contains(&exchange.status) {
        exchange.header("location")?.to_owned()
    } else {
        let refresh = exchange.header("refresh")?;
        refresh
            .split_once("url=")
            .or_else(|| refresh.split_once("URL="))?
            .1
            .trim()
            .to_owned()
    };
    // Browsers treat backslashes as slashes in special URLs.
    let target = target.replace('\\', "/");
    let url = exchange.request.url.join(&target).ok()?;
    url.host_str().map(str::to_owned)
}

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    let host = format!("{}.example", canary("plsr"));
    for form in FORMS {
        let value = form(&host);
        let exchange = probe.send(&value)?;
        if redirect_host(&exchange).as_deref() == Some(host.as_str())
            && redirect_host(probe.baseline).as_deref() != Some(host.as_str())
        {
            let evidence = if exchange.header("location").is_some() {
                exchange.header_excerpt("location")
            } else {
                exchange.header_excerpt("refresh")
            };
            return Ok(Some(redirect_finding(
                probe, &exchange, evidence, &value, &host,
            )));
        }
    }
    Ok(None)
}

/// The finding, with the redirect header as the response evidence.
fn redirect_finding(
    probe: &Probe<'_>,
    exchange: &Exchange,
    evidence: String,
    value: &str,
    host: &str,
) -> Finding {
    let mut url: Url = exchange.request.url.clone();
    url.set_query(None);
    INFO.finding_at(
        probe.client,
        url.as_str(),
        exchange,
        Some(probe.name()),
        evidence,
        format!("{value:?} redirected the browser to the canary host {host}"),
    )
}
