//! The checks. Passive checks read responses the crawler already has; site checks send a few
//! requests per origin; parameter checks vary one parameter of one target and report only
//! what they confirmed (a second, independent observation that only the vulnerability
//! explains). Each check lives in its own file with what/why/example/references sections.

pub mod active;
pub mod callback;
pub mod compare;
pub mod passive;
pub mod timing;

use rand::Rng as _;
use url::Url;

use crate::error::ScanError;
use crate::finding::{Evidence, Finding, Severity};
use crate::http::{Client, Exchange};
use crate::target::{Location, Param, Target};

/// The fixed facts of one kind of finding.
#[derive(Debug, Clone, Copy)]
pub struct Info {
    /// `category.variant`.
    pub id: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// CWE number.
    pub cwe: u32,
    /// Severity.
    pub severity: Severity,
    /// Fix hint.
    pub fix: &'static str,
}

impl Info {
    /// A finding about the endpoint of `exchange`; `needle` centres the response excerpt.
    pub fn finding(
        &self,
        client: &Client,
        exchange: &Exchange,
        parameter: Option<&str>,
        needle: &str,
        detail: String,
    ) -> Finding {
        // The URL names the endpoint; the payload is in the evidence's request.
        let mut url = exchange.request.url.clone();
        url.set_query(None);
        self.finding_at(
            client,
            url.as_str(),
            exchange,
            parameter,
            exchange.excerpt(needle),
            detail,
        )
    }

    /// A finding about `url` (an origin, a page) proven by `exchange` and `response` text.
    pub fn finding_at(
        &self,
        client: &Client,
        url: &str,
        exchange: &Exchange,
        parameter: Option<&str>,
        response: String,
        detail: String,
    ) -> Finding {
        Finding {
            id: self.id.to_owned(),
            title: self.title.to_owned(),
            cwe: self.cwe,
            severity: self.severity,
            url: client.redact(url),
            method: Some(exchange.request.method.clone()),
            parameter: parameter.map(str::to_owned),
            evidence: Evidence {
                request: client.redact(&exchange.render_request()),
                response: client.redact(&response),
                detail: client.redact(&detail),
            },
            fix: self.fix.to_owned(),
        }
    }
}

/// A check over one response the crawler fetched.
#[derive(Debug, Clone, Copy)]
pub struct PassiveCheck {
    /// Category name.
    pub name: &'static str,
    /// The check.
    pub run: fn(&Client, &Exchange) -> Vec<Finding>,
}

/// What a site check is given: the start URL, the crawled pages and the injection targets.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    /// Where the crawl started.
    pub start: &'a Url,
    /// The crawled pages.
    pub pages: &'a [Exchange],
    /// The injection targets the crawl found.
    pub targets: &'a [Target],
}

/// A site check's function.
pub type SiteCheckFn = fn(&Client, &Site<'_>) -> Result<Vec<Finding>, ScanError>;

/// A check that probes an origin (sensitive files, CORS) or the site as a whole (stored XSS).
#[derive(Debug, Clone, Copy)]
pub struct SiteCheck {
    /// Category name.
    pub name: &'static str,
    /// The check.
    pub run: SiteCheckFn,
}

/// A check of one parameter of one target.
#[derive(Debug, Clone, Copy)]
pub struct ParamCheck {
    /// Category name (also the prefix of its finding ids).
    pub name: &'static str,
    /// The check.
    pub run: fn(&Probe<'_>) -> Result<Option<Finding>, ScanError>,
    /// Where the parameters it probes travel.
    pub locations: &'static [Location],
}

impl ParamCheck {
    /// Does the check probe `param`?
    pub fn probes(&self, param: &Param) -> bool {
        param.is_input() && self.locations.contains(&param.location)
    }
}

/// One parameter under test: the client, the target, the parameter's index, the baseline
/// response, and what other checks already confirmed on this parameter.
#[derive(Debug)]
pub struct Probe<'a> {
    /// The client.
    pub client: &'a Client,
    /// The target.
    pub target: &'a Target,
    /// Index of the parameter in `target.params`.
    pub index: usize,
    /// The target with default values.
    pub baseline: &'a Exchange,
    /// Categories already confirmed on this parameter.
    pub confirmed: &'a [String],
    /// The scan's out-of-band receiver, when one runs.
    pub callbacks: Option<&'a callback::Callbacks>,
}

impl Probe<'_> {
    /// The parameter's name.
    pub fn name(&self) -> &str {
        &self.target.params[self.index].name
    }

    /// The parameter's default value.
    pub fn original(&self) -> &str {
        &self.target.params[self.index].value
    }

    /// Sends the target with the parameter set to `value`.
    pub fn send(&self, value: &str) -> Result<Exchange, ScanError> {
        self.client.send(&self.target.with_value(self.index, value))
    }

    /// A finding on this parameter.
    pub fn finding(
        &self,
        info: &Info,
        exchange: &Exchange,
        needle: &str,
        detail: String,
    ) -> Finding {
        // The endpoint as the target names it (path placeholders, no query); the payload is in
        // the evidence's request.
        info.finding_at(
            self.client,
            &self.target.display_url(),
            exchange,
            Some(self.name()),
            exchange.excerpt(needle),
            detail,
        )
    }
}

/// A random lower-case alphanumeric token starting with a letter (usable as an identifier,
/// a host label and a marker).
pub fn canary(prefix: &str) -> String {
    let mut rng = rand::rng();
    let tail: String = (0..8)
        .map(|_| {
            let n = rng.random_range(0..36u8);
            char::from(if n < 10 { b'0' + n } else { b'a' + n - 10 })
        })
        .collect();
    format!("{prefix}{tail}")
}

/// A random number in `range`.
pub fn random_in(range: std::ops::Range<u32>) -> u32 {
    rand::rng().random_range(range)
}

/// Every passive check.
pub fn passive_checks() -> Vec<PassiveCheck> {
    vec![
        passive::security_headers::CHECK,
        passive::cookies::CHECK,
        passive::info_leak::CHECK,
        passive::directory_listing::CHECK,
        passive::clickjacking::CHECK,
        passive::mixed_content::CHECK,
        passive::serialized::CHECK,
    ]
}

/// Every site check.
pub fn site_checks() -> Vec<SiteCheck> {
    vec![
        active::sensitive_files::CHECK,
        active::cors::CHECK,
        active::xss_stored::CHECK,
        active::session::CHECK,
    ]
}

/// Every parameter check, in the order they run (cheap and certain first).
pub fn param_checks() -> Vec<ParamCheck> {
    vec![
        active::sqli_error::CHECK,
        active::sqli_boolean::CHECK,
        active::sqli_union::CHECK,
        active::sqli_time::CHECK,
        active::xss::CHECK,
        active::ssti::CHECK,
        active::cmdi::CHECK,
        active::traversal::CHECK,
        active::redirect::CHECK,
        active::crlf::CHECK,
        active::xpath::CHECK,
        active::ldap::CHECK,
        active::deser::CHECK,
        active::xxe::CHECK,
        active::ssrf::CHECK,
    ]
}
