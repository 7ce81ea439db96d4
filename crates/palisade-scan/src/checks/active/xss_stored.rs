//! Stored cross-site scripting.
//!
//! What: every input of every POST form the crawler found gets a unique random marker; then
//! the crawled pages (and where the POST answers redirect to) are read again, and a page that
//! now shows a marker lists what that field stored. Only for those fields and pages, the
//! reflected-XSS breakout payloads (one per output context, see [`super::xss`]) are stored one
//! at a time and the listing page is read again: a finding needs that page, parsed with an
//! HTML5 parser as a browser would, to contain the payload as an executable event handler,
//! `javascript:` URL or script code calling a fresh random function name. Stored output that
//! is encoded never parses that way. A marker that only comes back in the POST answer itself
//! is reflected, not stored, and is the reflected check's business.
//!
//! Why: stored script runs for every visitor of the page, administrators included, without
//! a crafted link.
//!
//! Example: `POST /guestbook/sign message=<svg onload=plsx1a2b3c4d()>` → `GET /guestbook`
//! shows `<li>… <svg onload=plsx1a2b3c4d()></li>`.
//!
//! References: CWE-79 (Cross-site Scripting); OWASP WSTG-INPV-02.

use std::collections::BTreeSet;

use url::Url;

use super::xss::{PAYLOADS, executable, rendered_as_html};
use crate::checks::{Info, Site, SiteCheck, canary};
use crate::error::ScanError;
use crate::finding::{Finding, Severity};
use crate::http::{Client, Exchange, Request, parallel_map};
use crate::target::{INPUTS, Target};

/// The check (category `xss`, like the reflected check).
pub const CHECK: SiteCheck = SiteCheck { name: "xss", run };

const INFO: Info = Info {
    id: "xss.stored",
    title: "Stored cross-site scripting",
    cwe: 79,
    severity: Severity::High,
    fix: "Encode stored data for its output context when rendering it (template auto-escaping), not when storing it; add a Content-Security-Policy.",
};

/// Most form fields given a marker per scan.
const MAX_FIELDS: usize = 200;
/// Most pages read again to find the markers.
const MAX_PAGES: usize = 300;

/// One form field that was given a marker.
struct Planted<'a> {
    target: &'a Target,
    index: usize,
    marker: String,
}

fn run(client: &Client, site: &Site<'_>) -> Result<Vec<Finding>, ScanError> {
    let mut planted = Vec::new();
    let mut pages: BTreeSet<Url> = site
        .pages
        .iter()
        .filter(|p| p.request.method == "GET" && p.status == 200 && rendered_as_html(p))
        .map(|p| p.request.url.clone())
        .collect();
    let fields = site
        .targets
        .iter()
        .filter(|t| t.method == "POST")
        .flat_map(|t| {
            t.params
                .iter()
                .enumerate()
                .filter(|(_, p)| p.is_input() && INPUTS.contains(&p.location))
                .map(move |(i, _)| (t, i))
        })
        .take(MAX_FIELDS);
    for (target, index) in fields {
        let marker = canary("plss");
        let answer = client.send(&target.with_value(index, &marker))?;
        // Post/redirect/get: the page the form sends the browser to lists what was stored.
        if let Some(to) = redirect_target(&answer) {
            pages.insert(to);
        }
        planted.push(Planted {
            target,
            index,
            marker,
        });
    }
    if planted.is_empty() {
        return Ok(Vec::new());
    }
    let pages: Vec<Url> = pages.into_iter().take(MAX_PAGES).collect();
    let reread = parallel_map(&pages, client.config().concurrency, |url| {
        client.send(&Request::get(url.clone()))
    });
    let mut findings = Vec::new();
    for field in &planted {
        let listing = pages
            .iter()
            .zip(&reread)
            .find_map(|(url, page)| match page {
                Ok(page) if page.body.contains(&field.marker) => Some(url),
                _ => None,
            });
        if let Some(listing) = listing
            && let Some(finding) = breakout(client, field, listing)?
        {
            findings.push(finding);
        }
    }
    // A budget or time limit hit while re-reading ends the scan like any other request.
    if let Some(Err(error)) = reread
        .into_iter()
        .find(|r| r.as_ref().is_err_and(|e| e.is_limit()))
    {
        return Err(error);
    }
    Ok(findings)
}

/// Stores each breakout payload in the field and reads `listing` again, until one is
/// executable there.
fn breakout(
    client: &Client,
    field: &Planted<'_>,
    listing: &Url,
) -> Result<Option<Finding>, ScanError> {
    for payload in PAYLOADS {
        let function = canary("plsx");
        let value = payload.replace('C', &function);
        let stored = client.send(&field.target.with_value(field.index, &value))?;
        let page = client.send(&Request::get(listing.clone()))?;
        if !page.body.contains(&function) || !rendered_as_html(&page) {
            continue;
        }
        if let Some(how) = executable(&page.body, &function) {
            let proof = Proof {
                stored: &stored,
                page: &page,
                value: &value,
                function: &function,
                how: &how,
            };
            return Ok(Some(finding(client, field, &proof)));
        }
    }
    Ok(None)
}

/// What confirmed a stored breakout.
struct Proof<'a> {
    /// The POST that stored the payload.
    stored: &'a Exchange,
    /// The listing page read afterwards.
    page: &'a Exchange,
    /// The stored payload.
    value: &'a str,
    /// The random function it calls.
    function: &'a str,
    /// How it is executable.
    how: &'a str,
}

fn finding(client: &Client, field: &Planted<'_>, proof: &Proof<'_>) -> Finding {
    let page_url = &proof.page.request.url;
    INFO.finding_at(
        client,
        field.target.url.as_str(),
        proof.stored,
        Some(&field.target.params[field.index].name),
        format!("GET {page_url}\n{}", proof.page.excerpt(proof.function)),
        format!(
            "marker {} posted in this field appeared on {page_url}; the stored payload {:?} parses there as {}",
            field.marker, proof.value, proof.how
        ),
    )
}

/// Where a redirecting answer sends the browser, on the same origin.
fn redirect_target(answer: &Exchange) -> Option<Url> {
    if !(300..400).contains(&answer.status) {
        return None;
    }
    let to = answer.request.url.join(answer.header("location")?).ok()?;
    (to.origin() == answer.request.url.origin()).then_some(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(location: &str) -> Exchange {
        let url = Url::parse("http://app.test/guestbook/sign").unwrap_or_else(|e| panic!("{e}"));
        Exchange {
            request: Request::get(url),
            status: 303,
            headers: vec![("location".into(), location.into())],
            body: String::new(),
            elapsed: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn only_same_origin_redirects_are_read_again() {
        assert_eq!(
            redirect_target(&answer("/guestbook")).map(|u| u.to_string()),
            Some("http://app.test/guestbook".to_owned())
        );
        assert_eq!(redirect_target(&answer("https://elsewhere.test/")), None);
        assert_eq!(redirect_target(&answer("//elsewhere.test/x")), None);
    }
}
