//! The HTTP layer every crawl and check request goes through: a blocking `ureq` agent with
//! redirects off (a redirect is data to the scanner, not something to follow), a per-host
//! rate limit shared by all worker threads, backoff on 429/503, a request budget, a scan
//! deadline, response timing, authentication headers and the scripted login's session cookies
//! (see [`crate::login`]), which are added on the wire only and redacted from everything the
//! scanner prints. A response showing that the login session is lost (a redirect to the login
//! page, a session cookie deleted) makes the client sign in again and repeat the request.

use std::collections::HashMap;
use std::io::Read as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::ScanError;
use crate::login::{self, Jar, LoginConfig};

/// Retries of one request answered 429 or 503.
const MAX_RETRIES: u32 = 3;
/// Longest wait honoured from a `Retry-After` header.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// Most sign-ins of one scan (a page that always sends the browser to the login page must not
/// make the scan sign in for every request).
const MAX_LOGINS: u64 = 100;
/// Replacement text for secrets in printed output.
const REDACTED: &str = "[redacted]";

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Requests per second per host (polite default: 10).
    pub rate_per_host: f64,
    /// Requests in flight at once (worker threads).
    pub concurrency: usize,
    /// Most requests the whole scan may send.
    pub max_requests: u64,
    /// Wall-clock limit of the whole scan.
    pub max_time: Option<Duration>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Most response body bytes read; the rest is discarded.
    pub max_body_bytes: u64,
    /// Headers added to every request (authentication: `Authorization`, `Cookie`, API keys).
    /// Their values are secrets: never printed.
    pub auth_headers: Vec<(String, String)>,
    /// The User-Agent; robots.txt groups are matched against its first word.
    pub user_agent: String,
    /// A scripted login: the client signs in with it ([`Client::log_in`]) and again whenever
    /// the session is lost.
    pub login: Option<LoginConfig>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            rate_per_host: 10.0,
            concurrency: 4,
            max_requests: 20_000,
            max_time: None,
            timeout: Duration::from_secs(30),
            max_body_bytes: 2 * 1024 * 1024,
            auth_headers: Vec::new(),
            user_agent: format!("palisade-scan/{}", env!("CARGO_PKG_VERSION")),
            login: None,
        }
    }
}

/// A request to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// Absolute URL, query included.
    pub url: Url,
    /// The body.
    pub body: Option<String>,
    /// The body's content type (`None`: `application/x-www-form-urlencoded`).
    pub content_type: Option<String>,
    /// Extra non-secret headers (e.g. `Origin` for the CORS probe).
    pub headers: Vec<(String, String)>,
    /// Sent without the configured authentication: a fresh, anonymous session (no cookie
    /// jar), as checks that compare the sessions an application hands out need.
    pub anonymous: bool,
    /// Sent with the configured headers but without the login session's cookies, and never
    /// taken as a sign that the session is lost (the login itself).
    #[serde(default)]
    pub without_session: bool,
}

impl Request {
    /// A GET of `url`.
    pub fn get(url: Url) -> Self {
        Self {
            method: "GET".into(),
            url,
            body: None,
            content_type: None,
            headers: Vec::new(),
            anonymous: false,
            without_session: false,
        }
    }

    /// The content type of the body.
    pub fn body_type(&self) -> &str {
        self.content_type
            .as_deref()
            .unwrap_or("application/x-www-form-urlencoded")
    }

    /// The same request without the configured authentication.
    pub fn anonymous(mut self) -> Self {
        self.anonymous = true;
        self
    }
}

/// A response with the request that produced it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exchange {
    /// What was sent (without the authentication headers).
    pub request: Request,
    /// Status code.
    pub status: u16,
    /// Response headers in order, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body, decoded lossily as UTF-8 and cut at the configured limit.
    pub body: String,
    /// Time from sending to the end of the body.
    pub elapsed: Duration,
}

impl Exchange {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers_named(name).next()
    }

    /// Every header named `name` (case-insensitive), in order.
    pub fn headers_named<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `true` when the response is HTML.
    pub fn is_html(&self) -> bool {
        self.header("content-type")
            .is_some_and(|t| t.to_ascii_lowercase().contains("text/html"))
    }

    /// The request as text: request line, the non-secret headers, the body.
    pub fn render_request(&self) -> String {
        let r = &self.request;
        let mut out = format!("{} {}", r.method, r.url);
        for (name, value) in &r.headers {
            out.push_str(&format!("\n{name}: {value}"));
        }
        if let Some(body) = &r.body {
            out.push_str(&format!("\nContent-Type: {}\n\n", r.body_type()));
            out.push_str(&shorten(body, 2000));
        }
        out
    }

    /// The status line and the lines of the body around the first occurrence of `needle`
    /// (or the start of the body when it does not occur).
    pub fn excerpt(&self, needle: &str) -> String {
        let head = format!("HTTP {}", self.status);
        let body = &self.body;
        let at = if needle.is_empty() {
            None
        } else {
            body.find(needle)
        };
        let snippet = match at {
            Some(at) => {
                let start = floor_char_boundary(body, at.saturating_sub(160));
                let end = floor_char_boundary(body, (at + needle.len() + 160).min(body.len()));
                format!(
                    "{}{}{}",
                    if start > 0 { "…" } else { "" },
                    &body[start..end],
                    if end < body.len() { "…" } else { "" }
                )
            }
            None => shorten(body, 320),
        };
        format!("{head}\n{snippet}")
    }

    /// The status line and one header, for findings proven by a header.
    pub fn header_excerpt(&self, name: &str) -> String {
        let mut out = format!("HTTP {}", self.status);
        for value in self.headers_named(name) {
            out.push_str(&format!("\n{name}: {value}"));
        }
        out
    }
}

/// The first `max` bytes of `text` (at a character boundary), with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        text.to_owned()
    } else {
        format!("{}…", &text[..floor_char_boundary(text, max)])
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The shared client. Cheap to share by reference across scoped threads.
pub struct Client {
    agent: ureq::Agent,
    config: HttpConfig,
    started: Instant,
    next_slot: Mutex<HashMap<String, Instant>>,
    sent: AtomicU64,
    secrets: RwLock<Vec<String>>,
    /// The login session's cookies and how many sign-ins made them.
    session: RwLock<(Jar, u64)>,
    /// Held while signing in again.
    relogin: Mutex<()>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("sent", &self.sent.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with `config`; the scan clock starts now.
    pub fn new(config: HttpConfig) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(config.timeout))
            .user_agent(config.user_agent.as_str())
            .build()
            .into();
        let mut secrets: Vec<String> = Vec::new();
        for (_, value) in &config.auth_headers {
            secrets.push(value.clone());
            // Cookie and bearer parts are secrets on their own too, wherever they are echoed.
            for part in value.split([';', ' ', ',']) {
                let token = part.split_once('=').map_or(part, |(_, v)| v).trim();
                let scheme = ["bearer", "basic", "digest", "token", "negotiate"]
                    .iter()
                    .any(|s| token.eq_ignore_ascii_case(s));
                if token.len() >= 6 && !scheme {
                    secrets.push(token.to_owned());
                }
            }
        }
        secrets.retain(|s| s.len() >= 4);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self {
            agent,
            config,
            started: Instant::now(),
            next_slot: Mutex::new(HashMap::new()),
            sent: AtomicU64::new(0),
            secrets: RwLock::new(secrets),
            session: RwLock::new((Vec::new(), 0)),
            relogin: Mutex::new(()),
        }
    }

    /// Signs in with the configured login (nothing without one). The session's cookies then
    /// go with every request.
    pub fn log_in(&self) -> Result<(), ScanError> {
        let Some(config) = &self.config.login else {
            return Ok(());
        };
        let signed_in = login::sign_in(self, config, Vec::new())?;
        let mut session = write(&self.session);
        session.0 = signed_in.jar;
        session.1 += 1;
        Ok(())
    }

    /// How many times the client signed in.
    pub fn logins(&self) -> u64 {
        read(&self.session).1
    }

    /// The scripted login, when configured.
    pub fn login_config(&self) -> Option<&LoginConfig> {
        self.config.login.as_ref()
    }

    /// Adds a value to redact from now on (session cookies learnt while scanning).
    pub(crate) fn add_secret(&self, secret: &str) {
        if secret.len() < 4 {
            return;
        }
        let mut secrets = write(&self.secrets);
        if !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_owned());
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Is the login session lost, judging by this answer to a request made in it? Session
    /// cookies the answer sets (rotation) are taken into the jar.
    fn session_lost(&self, exchange: &Exchange) -> bool {
        let Some(config) = &self.config.login else {
            return false;
        };
        if (300..400).contains(&exchange.status)
            && let Some(to) = exchange
                .header("location")
                .and_then(|l| exchange.request.url.join(l).ok())
            && to.origin() == config.url.origin()
            && to.path() == config.url.path()
        {
            return true;
        }
        let changes = login::deleted_cookies(&exchange.headers);
        if changes.is_empty() {
            return false;
        }
        let mut session = write(&self.session);
        let in_jar = |name: &str, jar: &Jar| jar.iter().any(|(n, _)| n == name);
        if changes
            .iter()
            .any(|(name, deleted)| *deleted && in_jar(name, &session.0))
        {
            return true;
        }
        for (name, value) in crate::extract::set_cookies(&exchange.headers) {
            if let Some(entry) = session.0.iter_mut().find(|(n, _)| *n == name) {
                entry.1 = value;
                self.add_secret(&entry.1);
            }
        }
        false
    }

    /// Signs in again unless another thread did since `generation`.
    fn log_in_again(&self, generation: u64) -> Result<(), ScanError> {
        let _one_at_a_time = self
            .relogin
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.logins();
        if current != generation {
            return Ok(());
        }
        if current >= MAX_LOGINS {
            return Err(ScanError::login(format!(
                "the session was lost {MAX_LOGINS} times: not signing in again"
            )));
        }
        self.log_in()
    }

    /// The configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Requests sent so far (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Time since the client was made.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// `Err` once the budget or the deadline is spent.
    pub fn check_limits(&self) -> Result<(), ScanError> {
        if self.sent.load(Ordering::Relaxed) >= self.config.max_requests {
            return Err(ScanError::budget_exhausted());
        }
        if self
            .config
            .max_time
            .is_some_and(|max| self.started.elapsed() >= max)
        {
            return Err(ScanError::time_up());
        }
        Ok(())
    }

    /// `text` with every configured secret replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in read(&self.secrets).iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    /// Sends `request`, waiting for the host's rate-limit slot; retries 429/503 with backoff;
    /// signs in again and repeats the request once when the answer shows the login session is
    /// lost.
    pub fn send(&self, request: &Request) -> Result<Exchange, ScanError> {
        let in_session =
            self.config.login.is_some() && !request.anonymous && !request.without_session;
        let generation = self.logins();
        let exchange = self.send_with_retries(request)?;
        if in_session && self.session_lost(&exchange) {
            self.log_in_again(generation)?;
            return self.send_with_retries(request);
        }
        Ok(exchange)
    }

    fn send_with_retries(&self, request: &Request) -> Result<Exchange, ScanError> {
        let mut attempt = 0;
        loop {
            let exchange = self.send_once(request)?;
            if !matches!(exchange.status, 429 | 503) || attempt >= MAX_RETRIES {
                return Ok(exchange);
            }
            attempt += 1;
            let wait = exchange
                .header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
                .unwrap_or(Duration::from_millis(500 << attempt))
                .min(MAX_RETRY_AFTER);
            self.push_back_host(&request.url, wait);
        }
    }

    fn host_key(url: &Url) -> String {
        format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        )
    }

    /// Reserves the next rate-limit slot of the URL's host and sleeps until it.
    fn wait_for_slot(&self, url: &Url) {
        let interval = Duration::from_secs_f64(1.0 / self.config.rate_per_host.max(0.001));
        let slot = {
            let mut slots = self
                .next_slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let next = slots.entry(Self::host_key(url)).or_insert(now);
            let slot = (*next).max(now);
            *next = slot + interval;
            slot
        };
        let now = Instant::now();
        if slot > now {
            std::thread::sleep(slot - now);
        }
    }

    /// Makes every thread wait `wait` before the host's next request (backoff).
    fn push_back_host(&self, url: &Url, wait: Duration) {
        let mut slots = self
            .next_slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let until = Instant::now() + wait;
        let next = slots.entry(Self::host_key(url)).or_insert(until);
        *next = (*next).max(until);
    }

    /// Takes one request from the budget (atomically: concurrent workers never overspend).
    fn reserve_request(&self) -> Result<(), ScanError> {
        self.sent
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |sent| {
                (sent < self.config.max_requests).then_some(sent + 1)
            })
            .map(|_| ())
            .map_err(|_| ScanError::budget_exhausted())
    }

    /// The headers on the wire: the configured authentication (unless the request is
    /// anonymous) and the request's own, with every cookie in one `Cookie` header.
    fn wire_headers(&self, request: &Request) -> Vec<(String, String)> {
        let auth = if request.anonymous {
            &[][..]
        } else {
            &self.config.auth_headers[..]
        };
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut cookies: Vec<String> = Vec::new();
        if !request.anonymous && !request.without_session {
            cookies.extend(
                read(&self.session)
                    .0
                    .iter()
                    .map(|(n, v)| format!("{n}={v}")),
            );
        }
        for (name, value) in auth.iter().chain(&request.headers) {
            if name.eq_ignore_ascii_case("cookie") {
                cookies.push(value.clone());
            } else {
                headers.push((name.clone(), value.clone()));
            }
        }
        if !cookies.is_empty() {
            headers.push(("Cookie".to_owned(), cookies.join("; ")));
        }
        headers
    }

    fn send_once(&self, request: &Request) -> Result<Exchange, ScanError> {
        self.check_limits()?;
        self.wait_for_slot(&request.url);
        self.reserve_request()?;
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for (name, value) in self.wire_headers(request) {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if request.body.is_some() {
            builder = builder.header("content-type", request.body_type());
        }
        let body = request.body.clone().unwrap_or_default().into_bytes();
        let http_request = builder
            .body(body)
            .map_err(|e| ScanError::invalid_url(format!("{}: {e}", request.url)))?;
        let start = Instant::now();
        let mut response = self.agent.run(http_request).map_err(|e| {
            ScanError::transport(format!("{} {}: {e}", request.method, request.url))
        })?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut bytes = Vec::new();
        // A body that breaks off is still evidence of what arrived.
        let _ = response
            .body_mut()
            .as_reader()
            .take(self.config.max_body_bytes)
            .read_to_end(&mut bytes);
        Ok(Exchange {
            request: request.clone(),
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            elapsed: start.elapsed(),
        })
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `work` on every item with at most `threads` scoped worker threads; results keep the
/// items' order.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else { break };
                    let result = work(item);
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)[index] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_whole_and_in_parts() {
        let client = Client::new(HttpConfig {
            auth_headers: vec![
                ("Cookie".into(), "session=abcdef123456; theme=dark".into()),
                ("Authorization".into(), "Bearer tok_0987654321".into()),
            ],
            ..HttpConfig::default()
        });
        let text = "echo: abcdef123456 and tok_0987654321 and theme, Bearer";
        let redacted = client.redact(text);
        assert!(redacted.ends_with("Bearer"), "{redacted}");
        assert!(!redacted.contains("abcdef123456"), "{redacted}");
        assert!(!redacted.contains("tok_0987654321"), "{redacted}");
        assert!(redacted.contains("theme"));
    }

    #[test]
    fn cookies_share_one_header_and_anonymous_requests_carry_no_credentials() {
        let client = Client::new(HttpConfig {
            auth_headers: vec![
                ("Cookie".into(), "session=abcdef123456".into()),
                ("Authorization".into(), "Bearer tok_0987654321".into()),
            ],
            ..HttpConfig::default()
        });
        let mut request = Request::get(Url::parse("http://h/").unwrap_or_else(|e| panic!("{e}")));
        request.headers.push(("Cookie".into(), "cart=gASV".into()));
        assert_eq!(
            client.wire_headers(&request),
            [
                (
                    "Authorization".to_owned(),
                    "Bearer tok_0987654321".to_owned()
                ),
                (
                    "Cookie".to_owned(),
                    "session=abcdef123456; cart=gASV".to_owned()
                )
            ]
        );
        assert_eq!(
            client.wire_headers(&request.anonymous()),
            [("Cookie".to_owned(), "cart=gASV".to_owned())]
        );
    }

    #[test]
    fn budget_stops_requests() {
        let client = Client::new(HttpConfig {
            max_requests: 0,
            ..HttpConfig::default()
        });
        let url = Url::parse("http://127.0.0.1:9/").unwrap_or_else(|e| panic!("{e}"));
        let error = client.send(&Request::get(url)).err();
        assert!(error.is_some_and(|e| e.is_limit()));
    }

    /// A one-thread HTTP server answering `statuses` in turn (then 200), one per connection.
    fn serve(statuses: Vec<u16>, total: usize) -> (Url, std::thread::JoinHandle<usize>) {
        use std::io::{BufRead as _, BufReader, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let handle = std::thread::spawn(move || {
            let mut served = 0;
            for stream in listener.incoming().take(total) {
                let Ok(mut stream) = stream else { break };
                let mut reader =
                    BufReader::new(stream.try_clone().unwrap_or_else(|e| panic!("{e}")));
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let status = statuses.get(served).copied().unwrap_or(200);
                served += 1;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nRetry-After: 0\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                );
            }
            served
        });
        let url =
            Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap_or_else(|e| panic!("{e}"));
        (url, handle)
    }

    #[test]
    fn the_rate_limit_spaces_requests_and_429_is_retried() {
        let (url, server) = serve(vec![429, 503], 5);
        let client = Client::new(HttpConfig {
            rate_per_host: 10.0,
            ..HttpConfig::default()
        });
        let started = Instant::now();
        let first = client
            .send(&Request::get(url.clone()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.status, 200, "429 and 503 are retried");
        for _ in 0..2 {
            let _ = client.send(&Request::get(url.clone()));
        }
        // Five requests at 10 per second: at least four intervals of 100 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(400),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(client.requests_sent(), 5);
        assert_eq!(server.join().unwrap_or(0), 5);
    }

    #[test]
    fn parallel_map_keeps_order() {
        let items: Vec<u32> = (0..50).collect();
        let doubled = parallel_map(&items, 4, |x| x * 2);
        assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
    }

    #[test]
    fn excerpt_centers_on_the_needle() {
        let exchange = Exchange {
            request: Request::get(Url::parse("http://h/").unwrap_or_else(|e| panic!("{e}"))),
            status: 200,
            headers: vec![],
            body: format!("{}NEEDLE{}", "a".repeat(1000), "b".repeat(1000)),
            elapsed: Duration::ZERO,
        };
        let excerpt = exchange.excerpt("NEEDLE");
        assert!(
            excerpt.contains("NEEDLE") && excerpt.len() < 400,
            "{excerpt}"
        );
    }
}
