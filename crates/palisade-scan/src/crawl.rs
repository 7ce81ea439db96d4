//! The crawler: breadth-first from the start URL and the origin's sitemap.xml, level by level
//! with the shared client's worker threads, inside the [`Scope`], honouring robots.txt unless
//! the site owner turns that off. Pages are de-duplicated by normalised URL and parameter-name
//! set, so `/item?id=1` and `/item?id=2` are one page. Redirect targets in scope are followed
//! as links. Collected pages are data: nothing in them is executed.
//!
//! The crawl's whole progress is a [`CrawlState`] (frontier, visited set, pages, targets), so
//! that an interrupted scan resumes where it stopped: a stop request leaves the URLs not yet
//! fetched in the frontier, and the caller is handed the state after every level.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::extract;
use crate::http::{Client, Exchange, Request, parallel_map};
use crate::robots::Robots;
use crate::scope::Scope;
use crate::target::Target;

/// What the crawl found and what it still has to do.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct CrawlState {
    /// The start URL, seeds and sitemap are queued.
    pub started: bool,
    /// Nothing is left to crawl.
    pub done: bool,
    /// The depth of the frontier.
    pub depth: usize,
    /// URLs of the current level not fetched yet.
    pub frontier: Vec<Url>,
    /// URLs found for the next level.
    pub next: Vec<Url>,
    /// Page keys fetched (see [`page_key`]).
    pub seen: BTreeSet<String>,
    /// Target keys found.
    pub target_keys: BTreeSet<String>,
    /// Cookies already made targets.
    pub cookie_names: BTreeSet<String>,
    /// Every fetched page (robots.txt and sitemap excluded).
    pub pages: Vec<Exchange>,
    /// Injection targets: URLs with query parameters, forms, script requests, the cookies
    /// pages set and the seeded targets, de-duplicated.
    pub targets: Vec<Target>,
    /// URLs skipped because robots.txt disallows them.
    pub robots_skipped: usize,
    /// Requests that failed (connection errors).
    pub errors: Vec<String>,
    /// `true` when the budget or deadline ended the crawl.
    pub stopped_early: bool,
}

impl CrawlState {
    fn add_target(&mut self, scope: &Scope, target: Target) {
        if scope.contains(&target.url) && self.target_keys.insert(target.key()) {
            self.targets.push(target);
        }
    }
}

/// Crawl options besides the scope.
#[derive(Debug, Clone, Copy)]
pub struct CrawlOptions {
    /// Skip robots.txt (only for the site's owner).
    pub ignore_robots: bool,
    /// Fetch /sitemap.xml of the start origin.
    pub sitemap: bool,
}

/// Where a crawl starts: the start URL, and what an OpenAPI document adds.
#[derive(Debug, Clone, Copy)]
pub struct Seeds<'a> {
    /// The start URL.
    pub start: &'a Url,
    /// More pages at depth 0.
    pub pages: &'a [Url],
    /// Targets known before crawling.
    pub targets: &'a [Target],
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

/// Crawls from the seeds, or on from where `state` stopped. `stop` is asked before every
/// request: once it says so, the URLs not fetched stay in the frontier and the crawl returns
/// with `state.done` false. `level_done` gets the state after every level (and when stopped).
pub fn crawl(
    client: &Client,
    seeds: Seeds<'_>,
    scope: &Scope,
    options: CrawlOptions,
    state: &mut CrawlState,
    stop: &(dyn Fn() -> bool + Sync),
    level_done: &mut dyn FnMut(&CrawlState),
) {
    if state.done {
        return;
    }
    let mut robots: HashMap<String, Robots> = HashMap::new();
    let agent = client.config().user_agent.clone();
    let mut robots_for = |url: &Url, errors: &mut Vec<String>| -> Robots {
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
                        errors.push(error.to_string());
                        Robots::DisallowAll
                    }
                },
                Err(_) => Robots::DisallowAll,
            })
            .clone()
    };

    if !state.started {
        state.started = true;
        state.frontier = vec![seeds.start.clone()];
        state.frontier.extend(seeds.pages.iter().cloned());
        for target in seeds.targets {
            state.add_target(scope, target.clone());
        }
        if options.sitemap
            && let Ok(sitemap_url) = seeds.start.join("/sitemap.xml")
            && robots_for(&sitemap_url, &mut state.errors).allows(sitemap_url.path())
        {
            match client.send(&Request::get(sitemap_url.clone())) {
                Ok(exchange) if exchange.status == 200 => {
                    state
                        .frontier
                        .extend(extract::sitemap(&sitemap_url, &exchange.body));
                }
                Ok(_) => {}
                Err(error) if error.is_limit() => state.stopped_early = true,
                Err(error) => state.errors.push(error.to_string()),
            }
        }
    }

    while state.depth <= scope.max_depth && !state.stopped_early {
        let mut batch: Vec<Url> = Vec::new();
        let level = std::mem::take(&mut state.frontier);
        for url in level {
            if state.pages.len() + batch.len() >= scope.max_pages {
                break;
            }
            if !scope.contains(&url) || !state.seen.insert(page_key(&url)) {
                continue;
            }
            let path_and_query = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            if !robots_for(&url, &mut state.errors).allows(&path_and_query) {
                state.robots_skipped += 1;
                continue;
            }
            batch.push(url);
        }
        if batch.is_empty() {
            break;
        }
        let fetched = parallel_map(&batch, client.config().concurrency, |url| {
            (!stop()).then(|| client.send(&Request::get(url.clone())))
        });
        let mut unfetched: Vec<Url> = Vec::new();
        for (url, outcome) in batch.into_iter().zip(fetched) {
            match outcome {
                None => {
                    state.seen.remove(&page_key(&url));
                    unfetched.push(url);
                }
                Some(Ok(exchange)) => visit(state, scope, &url, exchange),
                Some(Err(error)) if error.is_limit() => state.stopped_early = true,
                Some(Err(error)) => state.errors.push(error.to_string()),
            }
        }
        if !unfetched.is_empty() {
            // Stopped: the rest of this level waits in the frontier.
            state.frontier = unfetched;
            level_done(state);
            return;
        }
        state.frontier = std::mem::take(&mut state.next);
        state.depth += 1;
        if state.pages.len() >= scope.max_pages {
            break;
        }
        level_done(state);
    }
    state.done = true;
    level_done(state);
}

/// Takes what a fetched page offers: its targets, links, forms, script requests, cookies.
fn visit(state: &mut CrawlState, scope: &Scope, url: &Url, exchange: Exchange) {
    if let Some(target) = Target::from_query(url) {
        state.add_target(scope, target);
    }
    // A cookie is probed once, on the first page that set it.
    for (name, value) in extract::set_cookies(&exchange.headers) {
        if state.cookie_names.insert(name.clone()) {
            state.add_target(scope, Target::from_cookie(url, &name, &value));
        }
    }
    if (300..400).contains(&exchange.status)
        && let Some(location) = exchange.header("location")
        && let Ok(to) = url.join(location)
    {
        state.next.push(to);
    }
    let content_type = exchange
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if exchange.is_html() {
        let links = extract::html(url, &exchange.body);
        state.next.extend(links.links);
        for target in links.forms.into_iter().chain(links.requests) {
            state.add_target(scope, target);
        }
    } else if content_type.contains("javascript") {
        state.next.extend(extract::javascript(url, &exchange.body));
        for target in extract::script_requests(url, &exchange.body) {
            state.add_target(scope, target);
        }
    }
    state.pages.push(exchange);
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn page_keys_ignore_values_and_order() {
        let a = Url::parse("http://h/p?b=2&a=1#x").unwrap_or_else(|e| panic!("{e}"));
        let b = Url::parse("http://h/p?a=9&b=8").unwrap_or_else(|e| panic!("{e}"));
        let c = Url::parse("http://h/p?a=9").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page_key(&a), page_key(&b));
        assert_ne!(page_key(&a), page_key(&c));
    }

    /// A site of linked pages on a local socket; counts the requests per path.
    fn site() -> (Url, std::sync::Arc<Mutex<Vec<String>>>) {
        use std::io::{BufRead as _, BufReader, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let hits = std::sync::Arc::new(Mutex::new(Vec::new()));
        let log = std::sync::Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                let mut reader =
                    BufReader::new(stream.try_clone().unwrap_or_else(|e| panic!("{e}")));
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let links: &[&str] = match path.as_str() {
                    "/" => &["/a", "/b", "/c"],
                    "/a" => &["/a1", "/a2?x=1"],
                    "/b" => &["/b1", "/a"],
                    "/a1" => &["/deep"],
                    _ => &[],
                };
                let body: String = links
                    .iter()
                    .map(|l| format!("<a href=\"{l}\">{l}</a>"))
                    .collect();
                let (status, body) = if path == "/robots.txt" || path == "/sitemap.xml" {
                    ("404 Not Found", String::new())
                } else {
                    ("200 OK", body)
                };
                log.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(path);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        let url =
            Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap_or_else(|e| panic!("{e}"));
        (url, hits)
    }

    #[test]
    fn a_stopped_crawl_resumes_from_its_frontier() {
        let options = CrawlOptions {
            ignore_robots: false,
            sitemap: true,
        };
        let crawl_all = |stop_after: Option<usize>| {
            let (start, hits) = site();
            let client = Client::new(crate::http::HttpConfig {
                rate_per_host: 1000.0,
                concurrency: 1,
                ..crate::http::HttpConfig::default()
            });
            let scope = Scope::for_start(&start);
            let seeds = Seeds {
                start: &start,
                pages: &[],
                targets: &[],
            };
            let mut state = CrawlState::default();
            let mut checkpoints = 0;
            if let Some(limit) = stop_after {
                // robots.txt and sitemap.xml come first, then pages one at a time.
                let stop = || client.requests_sent() >= limit as u64 + 2;
                crawl(
                    &client,
                    seeds,
                    &scope,
                    options,
                    &mut state,
                    &stop,
                    &mut |_| {
                        checkpoints += 1;
                    },
                );
                assert!(!state.done && !state.frontier.is_empty(), "{state:?}");
                // The state goes through its file format in between.
                let text = serde_json::to_string(&state).unwrap_or_else(|e| panic!("{e}"));
                state = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
            }
            crawl(
                &client,
                seeds,
                &scope,
                options,
                &mut state,
                &|| false,
                &mut |_| {
                    checkpoints += 1;
                },
            );
            assert!(state.done && checkpoints > 0);
            let mut pages: Vec<String> = state
                .pages
                .iter()
                .map(|p| p.request.url.path().to_owned())
                .collect();
            pages.sort();
            let mut hits = hits
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            hits.sort();
            (pages, hits, state.targets.len())
        };
        let whole = crawl_all(None);
        assert_eq!(
            whole.0,
            ["/", "/a", "/a1", "/a2", "/b", "/b1", "/c", "/deep"]
        );
        for stop_after in [1, 3, 5] {
            let resumed = crawl_all(Some(stop_after));
            assert_eq!(resumed.0, whole.0, "stopped after {stop_after} pages");
            // robots.txt is read again by the second run; no page is fetched twice.
            let pages_fetched: Vec<&String> =
                resumed.1.iter().filter(|p| *p != "/robots.txt").collect();
            let whole_fetched: Vec<&String> =
                whole.1.iter().filter(|p| *p != "/robots.txt").collect();
            assert_eq!(pages_fetched, whole_fetched, "stopped after {stop_after}");
            assert_eq!(resumed.2, whole.2);
        }
    }
}
