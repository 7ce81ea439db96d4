//! The crawler: breadth-first from the start URL and the origin's sitemap.xml, level by level
//! with the shared client's worker threads, inside the [`Scope`], honouring robots.txt unless
//! the site owner turns that off. Pages are de-duplicated by normalised URL and parameter-name
//! set, so `/item?id=1` and `/item?id=2` are one page. Redirect targets in scope are followed
//! as links. Collected pages are data: nothing in them is executed.

use std::collections::{HashMap, HashSet};

use url::Url;

use crate::extract;
use crate::http::{Client, Exchange, Request, parallel_map};
use crate::robots::Robots;
use crate::scope::Scope;
use crate::target::Target;

/// What the crawl found.
#[derive(Debug, Default)]
pub struct CrawlResult {
    /// Every fetched page (robots.txt and sitemap excluded).
    pub pages: Vec<Exchange>,
    /// Injection targets: URLs with query parameters, forms and the cookies pages set,
    /// de-duplicated.
    pub targets: Vec<Target>,
    /// URLs skipped because robots.txt disallows them.
    pub robots_skipped: usize,
    /// Requests that failed (connection errors).
    pub errors: Vec<String>,
    /// `true` when the budget or deadline ended the crawl.
    pub stopped_early: bool,
}

/// Crawl options besides the scope.
#[derive(Debug, Clone, Copy)]
pub struct CrawlOptions {
    /// Skip robots.txt (only for the site's owner).
    pub ignore_robots: bool,
    /// Fetch /sitemap.xml of the start origin.
    pub sitemap: bool,
}

/// Normalised page identity: scheme, host, port, path and the sorted parameter names.
pub fn page_key(url: &Url) -> String {
    let mut names: Vec<String> = url.query_pairs().map(|(n, _)| n.into_owned()).collect();
    names.sort_unstable();
    names.dedup();
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    format!("{base}?{}", names.join("&"))
}

fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Crawls from `start` and the `seeds` (e.g. an OpenAPI document's operations without
/// parameters), which start at depth 0 too. `progress` is called after each level with
/// (pages, queued).
pub fn crawl(
    client: &Client,
    start: &Url,
    seeds: &[Url],
    scope: &Scope,
    options: CrawlOptions,
    progress: &dyn Fn(usize, usize),
) -> CrawlResult {
    let mut result = CrawlResult::default();
    let mut robots: HashMap<String, Robots> = HashMap::new();
    let agent = client.config().user_agent.clone();
    let mut robots_for = |url: &Url, result: &mut CrawlResult| -> Robots {
        if options.ignore_robots {
            return Robots::AllowAll;
        }
        let origin = origin_of(url);
        robots
            .entry(origin.clone())
            .or_insert_with(|| match url.join("/robots.txt") {
                Ok(robots_url) => match client.send(&Request::get(robots_url)) {
                    Ok(exchange) => Robots::from_response(exchange.status, &exchange.body, &agent),
                    Err(error) => {
                        result.errors.push(error.to_string());
                        Robots::DisallowAll
                    }
                },
                Err(_) => Robots::DisallowAll,
            })
            .clone()
    };

    let mut seen: HashSet<String> = HashSet::new();
    let mut target_keys: HashSet<String> = HashSet::new();
    let mut cookie_names: HashSet<String> = HashSet::new();
    let mut level: Vec<Url> = vec![start.clone()];
    level.extend(seeds.iter().cloned());
    if options.sitemap
        && let Ok(sitemap_url) = start.join("/sitemap.xml")
        && robots_for(&sitemap_url, &mut result).allows(sitemap_url.path())
    {
        match client.send(&Request::get(sitemap_url.clone())) {
            Ok(exchange) if exchange.status == 200 => {
                level.extend(extract::sitemap(&sitemap_url, &exchange.body));
            }
            Ok(_) => {}
            Err(error) if error.is_limit() => result.stopped_early = true,
            Err(error) => result.errors.push(error.to_string()),
        }
    }

    for _depth in 0..=scope.max_depth {
        let mut batch: Vec<Url> = Vec::new();
        for url in level.drain(..) {
            if result.pages.len() + batch.len() >= scope.max_pages {
                break;
            }
            if !scope.contains(&url) || !seen.insert(page_key(&url)) {
                continue;
            }
            let path_and_query = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            if !robots_for(&url, &mut result).allows(&path_and_query) {
                result.robots_skipped += 1;
                continue;
            }
            batch.push(url);
        }
        if batch.is_empty() || result.stopped_early {
            break;
        }
        let fetched = parallel_map(&batch, client.config().concurrency, |url| {
            client.send(&Request::get(url.clone()))
        });
        let mut next: Vec<Url> = Vec::new();
        for (url, outcome) in batch.iter().zip(fetched) {
            let exchange = match outcome {
                Ok(exchange) => exchange,
                Err(error) => {
                    if error.is_limit() {
                        result.stopped_early = true;
                    } else {
                        result.errors.push(error.to_string());
                    }
                    continue;
                }
            };
            if let Some(target) = Target::from_query(url)
                && target_keys.insert(target.key())
            {
                result.targets.push(target);
            }
            // A cookie is probed once, on the first page that set it.
            for (name, value) in extract::set_cookies(&exchange.headers) {
                if cookie_names.insert(name.clone()) {
                    let target = Target::from_cookie(url, &name, &value);
                    if target_keys.insert(target.key()) {
                        result.targets.push(target);
                    }
                }
            }
            if (300..400).contains(&exchange.status)
                && let Some(location) = exchange.header("location")
                && let Ok(to) = url.join(location)
            {
                next.push(to);
            }
            let content_type = exchange
                .header("content-type")
                .unwrap_or("")
                .to_ascii_lowercase();
            if exchange.is_html() {
                let links = extract::html(url, &exchange.body);
                next.extend(links.links);
                for target in links.forms.into_iter().chain(links.requests) {
                    if scope.contains(&target.url) && target_keys.insert(target.key()) {
                        result.targets.push(target);
                    }
                }
            } else if content_type.contains("javascript") {
                next.extend(extract::javascript(url, &exchange.body));
                for target in extract::script_requests(url, &exchange.body) {
                    if scope.contains(&target.url) && target_keys.insert(target.key()) {
                        result.targets.push(target);
                    }
                }
            }
            result.pages.push(exchange);
        }
        level = next;
        progress(result.pages.len(), level.len());
        if result.pages.len() >= scope.max_pages {
            break;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_keys_ignore_values_and_order() {
        let a = Url::parse("http://h/p?b=2&a=1#x").unwrap_or_else(|e| panic!("{e}"));
        let b = Url::parse("http://h/p?a=9&b=8").unwrap_or_else(|e| panic!("{e}"));
        let c = Url::parse("http://h/p?a=9").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page_key(&a), page_key(&b));
        assert_ne!(page_key(&a), page_key(&c));
    }
}
