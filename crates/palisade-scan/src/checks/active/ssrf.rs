//! Server-side request forgery.
//!
//! What: parameters whose value is a URL or a path, or whose name says they carry one (`url`,
//! `uri`, `link`, `callback`, `dest`, `feed`, `image`, `src`, `target`, `proxy`, `webhook`, …),
//! get the URL of the scan's own out-of-band receiver (a listener started for the scan, on
//! 127.0.0.1 unless `--callback-addr` names an address the application can reach, see
//! [`crate::checks::callback`]) with a random path token. A finding needs the
//! receiver to get the request for that token, and then for a second, fresh token: only an
//! application that fetches the URL it is given explains both. Redirecting the browser there
//! is not fetching (the scanner never follows redirects), so open redirects are not reported
//! as SSRF. By default the receiver is on the scanner's loopback: applications on other hosts
//! cannot reach it, so they are never reported (a miss, not a false positive) unless the scan
//! is told an address they can call.
//!
//! Why: the server fetches for the attacker: internal services, cloud metadata endpoints,
//! admin interfaces behind the firewall, `file:` URLs.
//!
//! Example: `?url=http://127.0.0.1:40123/plsqk3j9x2ab` → the receiver logs
//! `GET /plsqk3j9x2ab HTTP/1.1` with `User-Agent: Python-urllib/3.11`.
//!
//! References: CWE-918 (Server-Side Request Forgery); OWASP WSTG-INPV-19.

use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use super::re;
use crate::checks::callback::{BODY, Hit};
use crate::checks::{Info, ParamCheck, Probe, canary};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::target::INPUTS;

/// The check.
pub const CHECK: ParamCheck = ParamCheck {
    name: "ssrf",
    run,
    locations: INPUTS,
};

const INFO: Info = Info {
    id: "ssrf.callback",
    title: "Server-side request forgery",
    cwe: 918,
    severity: Severity::High,
    fix: "Fetch only allowlisted destinations: resolve the host and refuse loopback, private and link-local addresses (again after every redirect), and allow only the schemes you need.",
};

/// Parameter names that carry a URL.
static URL_NAME: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)ur[il]|link|callback|dest|feed|image|img|src|source|target|fetch|proxy|hook|host|site|domain|endpoint|avatar|icon|logo|remote|server|load|file|path|page|next|redirect|return|continue|goto",
    )
});

/// How long a first request may take to reach the receiver after the answer.
const GRACE: Duration = Duration::from_millis(300);
/// The same for the confirmation (the application is known to fetch by then).
const CONFIRM_GRACE: Duration = Duration::from_secs(3);

/// Does the parameter carry a URL, by its value or its name?
pub fn carries_url(name: &str, value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    value.starts_with("http://")
        || value.starts_with("https://")
        || value.starts_with('/')
        || URL_NAME.is_match(name)
}

fn run(probe: &Probe<'_>) -> Result<Option<Finding>, ScanError> {
    let Some(callbacks) = probe.callbacks else {
        return Ok(None);
    };
    if !carries_url(probe.name(), probe.original()) {
        return Ok(None);
    }
    let token = canary("plsq");
    let value = callbacks.url(&token);
    let exchange = probe.send(&value)?;
    let Some(hit) = callbacks.wait_for(&token, GRACE) else {
        return Ok(None);
    };
    let second = canary("plsq");
    probe.send(&callbacks.url(&second))?;
    if callbacks.wait_for(&second, CONFIRM_GRACE).is_none() {
        return Ok(None);
    }
    let shown = exchange.body.contains(BODY);
    Ok(Some(probe.finding(
        &INFO,
        &exchange,
        if shown { BODY } else { "" },
        detail(&value, &hit, shown),
    )))
}

fn detail(value: &str, hit: &Hit, shown: bool) -> String {
    format!(
        "the scanner's receiver got {:?}{} after {value:?} was sent, and a second fresh token too; \
         the receiver's answer {}",
        hit.request_line,
        hit.user_agent
            .as_deref()
            .map(|ua| format!(" (User-Agent {ua:?})"))
            .unwrap_or_default(),
        if shown {
            "appears in the response (full-read SSRF)"
        } else {
            "does not appear in the response (blind SSRF)"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parameters_are_recognised_by_value_or_name() {
        assert!(carries_url("q", "https://example.com/a"));
        assert!(carries_url("q", "/static/a.png"));
        assert!(carries_url("imageUrl", "palisade"));
        assert!(carries_url("callback", ""));
        assert!(!carries_url("q", "hello"));
        assert!(!carries_url("id", "1"));
    }
}
