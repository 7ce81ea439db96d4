//! CORS misconfiguration.
//!
//! What: a request with `Origin: https://<random>.example` gets that origin back in
//! `Access-Control-Allow-Origin` (any origin is trusted), or `null` is trusted — with
//! `Access-Control-Allow-Credentials: true` this lets any site read authenticated responses.
//! Probed on the start page and on every crawled page that already sends CORS headers.
//!
//! Why: a hostile site reads the victim's data through their browser session.
//!
//! Example: `Origin: https://evil.example` → `Access-Control-Allow-Origin:
//! https://evil.example`, `Access-Control-Allow-Credentials: true`.
//!
//! References: CWE-942 (Permissive Cross-domain Policy with Untrusted Domains).

use crate::checks::{Info, Site, SiteCheck, canary};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::http::{Client, Request};

/// The check.
pub const CHECK: SiteCheck = SiteCheck { name: "cors", run };

const WITH_CREDENTIALS: Info = Info {
    id: "cors.reflected_credentials",
    title: "CORS trusts any origin with credentials",
    cwe: 942,
    severity: Severity::High,
    fix: "Compare Origin against an allowlist; never echo it back with Access-Control-Allow-Credentials: true.",
};
const REFLECTED: Info = Info {
    id: "cors.reflected",
    title: "CORS trusts any origin",
    cwe: 942,
    severity: Severity::Low,
    fix: "Compare Origin against an allowlist of trusted origins.",
};

/// Pages probed besides the start page.
const MAX_PROBED: usize = 20;

fn run(client: &Client, site: &Site<'_>) -> Result<Vec<Finding>, ScanError> {
    let mut urls = vec![site.start.clone()];
    for page in site.pages {
        if page.header("access-control-allow-origin").is_some() && urls.len() <= MAX_PROBED {
            urls.push(page.request.url.clone());
        }
    }
    urls.dedup();
    let mut findings = Vec::new();
    for url in urls {
        let origin = format!("https://{}.example", canary("plso"));
        let mut request = Request::get(url.clone());
        request.headers.push(("Origin".into(), origin.clone()));
        let exchange = client.send(&request)?;
        let allowed = exchange.header("access-control-allow-origin").unwrap_or("");
        if allowed.trim() != origin {
            continue;
        }
        let credentials = exchange
            .header("access-control-allow-credentials")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let info = if credentials {
            &WITH_CREDENTIALS
        } else {
            &REFLECTED
        };
        let evidence = format!(
            "{}\naccess-control-allow-credentials: {}",
            exchange.header_excerpt("access-control-allow-origin"),
            exchange
                .header("access-control-allow-credentials")
                .unwrap_or("-")
        );
        findings.push(info.finding_at(
            client,
            url.as_str(),
            &exchange,
            None,
            evidence,
            format!("the arbitrary origin {origin} was echoed back"),
        ));
    }
    Ok(findings)
}
