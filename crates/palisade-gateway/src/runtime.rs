//! A compiled configuration: routing tables, upstream pools and TLS material.
//!
//! Host matching: exact names first, then wildcards (`*.example.com` matches any name ending in
//! `.example.com`, longest suffix wins), then the catch-all `*`. Names are compared lower-case without
//! port. Routes match by path prefix on segment boundaries (`/api` matches `/api` and `/api/x`, not
//! `/apix`; a prefix ending in `/` matches anything below it); the longest prefix wins.
//!
//! Upstreams: round robin over their servers; a server that fails `max_fails` times in a row (connect
//! error, connection error or response timeout) is skipped for `fail_timeout`, then tried again.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::uri::{Authority, Scheme};
use http::{HeaderValue, StatusCode};
use palisade_config::{Config, RouteMode};
use palisade_core::{Inspector, Mode};

use crate::error::{ErrorKind, GatewayError};
use crate::headers::SecurityHeaders;
use crate::tls::SiteTls;
use crate::upstream_pool::{ConnectSettings, ServerPool};

/// One immutable configuration snapshot as the data plane uses it.
pub(crate) struct Runtime {
    pub(crate) config: Arc<Config>,
    pub(crate) sites: Vec<SiteRt>,
    hosts: HostIndex,
    pub(crate) upstreams: Vec<Arc<UpstreamRt>>,
    pub(crate) inspectors: Vec<Arc<dyn Inspector>>,
    pub(crate) wants_request_body: bool,
    pub(crate) wants_response_body: bool,
}

pub(crate) struct SiteRt {
    pub(crate) routes: Vec<RouteRt>,
    pub(crate) headers: SecurityHeaders,
    pub(crate) tls: Option<SiteTls>,
}

pub(crate) struct RouteRt {
    pub(crate) name: Arc<str>,
    /// The route's request metrics.
    pub(crate) meter: Arc<RouteMeter>,
    pub(crate) prefix: String,
    pub(crate) upstream: usize,
    pub(crate) mode: Mode,
    pub(crate) inspect: bool,
    pub(crate) block_status: StatusCode,
}

/// A route's metric handles, registered once per configuration: `palisade_requests_total` for
/// allowed 200 answers (the common case) and `palisade_request_duration_seconds`.
pub(crate) struct RouteMeter {
    pub(crate) name: Arc<str>,
    pub(crate) allowed_ok: metrics::Counter,
    pub(crate) duration: metrics::Histogram,
}

impl RouteMeter {
    fn register(name: &Arc<str>) -> Self {
        let label = metrics::SharedString::from(name.clone());
        RouteMeter {
            name: name.clone(),
            allowed_ok: metrics::counter!(
                "palisade_requests_total",
                "route" => label.clone(),
                "status" => "200",
                "verdict" => "allow"
            ),
            duration: metrics::histogram!("palisade_request_duration_seconds", "route" => label),
        }
    }
}

#[derive(Default)]
struct HostIndex {
    exact: HashMap<String, usize>,
    /// (suffix including the leading dot, site index), longest suffix first.
    wildcard: Vec<(String, usize)>,
    catch_all: Option<usize>,
}

pub(crate) struct UpstreamRt {
    pub(crate) name: Arc<str>,
    servers: Vec<ServerRt>,
    next: AtomicUsize,
    pub(crate) connect: ConnectSettings,
    pub(crate) response_timeout: Duration,
    max_fails: u32,
    fail_timeout: Duration,
}

pub(crate) struct ServerRt {
    pub(crate) scheme: Scheme,
    pub(crate) authority: Authority,
    /// The server's connections.
    pub(crate) pool: ServerPool,
    consecutive_fails: AtomicU32,
    /// Milliseconds since [`clock_origin`] until which the server is out; 0 when in.
    down_until_ms: AtomicU64,
}

fn clock_origin() -> Instant {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    u64::try_from(clock_origin().elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl UpstreamRt {
    fn build(
        upstream: &palisade_config::Upstream,
        limits: &palisade_config::Limits,
    ) -> Result<Self, GatewayError> {
        if upstream.servers.is_empty() {
            return Err(GatewayError::config(format!(
                "upstream {:?} has no servers",
                upstream.name
            )));
        }
        let mut servers = Vec::with_capacity(upstream.servers.len());
        for url in &upstream.servers {
            let uri: http::Uri = url.parse().map_err(|e| {
                GatewayError::config(format!(
                    "upstream {:?}: server {url:?} is not a URL: {e}",
                    upstream.name
                ))
            })?;
            let scheme = uri.scheme().cloned().unwrap_or(Scheme::HTTP);
            let tls = if scheme == Scheme::HTTPS {
                true
            } else if scheme == Scheme::HTTP {
                false
            } else {
                return Err(GatewayError::config(format!(
                    "upstream {:?}: server {url:?}: only http:// and https:// upstreams are supported",
                    upstream.name
                )));
            };
            let authority = uri.authority().cloned().ok_or_else(|| {
                GatewayError::config(format!(
                    "upstream {:?}: server {url:?} has no host",
                    upstream.name
                ))
            })?;
            let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
            let pool = ServerPool::new(authority.host(), port, tls).map_err(|e| {
                GatewayError::config(format!("upstream {:?}: server {url:?}: {e}", upstream.name))
            })?;
            servers.push(ServerRt {
                scheme,
                authority,
                pool,
                consecutive_fails: AtomicU32::new(0),
                down_until_ms: AtomicU64::new(0),
            });
        }
        let tls = if servers.iter().any(|server| server.scheme == Scheme::HTTPS) {
            let connector =
                crate::upstream_pool::tls_connector(upstream.ca_file.as_deref(), upstream.http2)
                    .map_err(|e| {
                        GatewayError::config(format!("upstream {:?}: {e}", upstream.name))
                    })?;
            Some(connector)
        } else {
            None
        };
        let max_head = usize::try_from(limits.max_header_bytes.0)
            .unwrap_or(usize::MAX)
            .max(64 * 1024);
        Ok(UpstreamRt {
            name: Arc::from(upstream.name.as_str()),
            servers,
            next: AtomicUsize::new(0),
            connect: ConnectSettings {
                connect_timeout: upstream.connect_timeout,
                http2: upstream.http2,
                max_buf_size: max_head.max(8192),
                tls,
            },
            response_timeout: upstream.response_timeout,
            max_fails: upstream.max_fails.max(1),
            fail_timeout: upstream.fail_timeout,
        })
    }

    /// Picks the next server by round robin, skipping servers that are out. When every server is out,
    /// the one due back first is used (so a fully failed upstream still gets probed).
    pub(crate) fn pick(&self) -> usize {
        let count = self.servers.len();
        let now = now_ms();
        let mut earliest = (u64::MAX, 0);
        // Each skipped server consumes a turn, so the healthy ones keep alternating evenly.
        for _ in 0..count {
            let index = self.next.fetch_add(1, Ordering::Relaxed) % count;
            let down_until = self.servers[index].down_until_ms.load(Ordering::Relaxed);
            if down_until <= now {
                return index;
            }
            if down_until < earliest.0 {
                earliest = (down_until, index);
            }
        }
        earliest.1
    }

    pub(crate) fn server(&self, index: usize) -> &ServerRt {
        &self.servers[index]
    }

    pub(crate) fn client_is_http2(&self) -> bool {
        self.connect.http2
    }

    pub(crate) fn server_count(&self) -> usize {
        self.servers.len()
    }

    pub(crate) fn record_success(&self, index: usize) {
        let server = &self.servers[index];
        if server.consecutive_fails.load(Ordering::Relaxed) != 0 {
            server.consecutive_fails.store(0, Ordering::Relaxed);
        }
        if server.down_until_ms.load(Ordering::Relaxed) != 0 {
            server.down_until_ms.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn record_failure(&self, index: usize) {
        let server = &self.servers[index];
        let fails = server
            .consecutive_fails
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if fails >= self.max_fails {
            server.consecutive_fails.store(0, Ordering::Relaxed);
            let until = now_ms()
                .saturating_add(u64::try_from(self.fail_timeout.as_millis()).unwrap_or(u64::MAX));
            server.down_until_ms.store(until.max(1), Ordering::Relaxed);
            tracing::warn!(upstream = %self.name, server = %server.authority, "server taken out after {fails} consecutive failures");
        }
    }
}

fn route_mode(mode: RouteMode) -> Mode {
    match mode {
        // With the WAF off the remaining inspectors (bans, access control, limits) enforce.
        RouteMode::Block | RouteMode::Off => Mode::Block,
        RouteMode::Detect => Mode::Detect,
    }
}

impl Runtime {
    pub(crate) fn build(
        config: Arc<Config>,
        inspectors: Vec<Arc<dyn Inspector>>,
    ) -> Result<Self, GatewayError> {
        let mut upstreams = Vec::with_capacity(config.upstreams.len());
        let mut upstream_index = HashMap::new();
        for upstream in &config.upstreams {
            if upstream_index
                .insert(upstream.name.clone(), upstreams.len())
                .is_some()
            {
                return Err(GatewayError::config(format!(
                    "upstream {:?} is defined twice",
                    upstream.name
                )));
            }
            upstreams.push(Arc::new(UpstreamRt::build(upstream, &config.limits)?));
        }
        let mut sites = Vec::with_capacity(config.sites.len());
        let mut hosts = HostIndex::default();
        for (site_index, site) in config.sites.iter().enumerate() {
            let name = site.name().to_owned();
            let mut routes = Vec::with_capacity(site.routes.len());
            for route in &site.routes {
                let upstream = *upstream_index.get(&route.upstream).ok_or_else(|| {
                    GatewayError::config(format!(
                        "site {name:?} route {:?} refers to unknown upstream {:?}",
                        route.path, route.upstream
                    ))
                })?;
                if !route.path.starts_with('/') {
                    return Err(GatewayError::config(format!(
                        "site {name:?}: route path {:?} must start with '/'",
                        route.path
                    )));
                }
                let block_status = StatusCode::from_u16(route.block_status).map_err(|_| {
                    GatewayError::config(format!(
                        "site {name:?}: invalid block_status {}",
                        route.block_status
                    ))
                })?;
                let route_name: Arc<str> = Arc::from(site.route_name(route));
                routes.push(RouteRt {
                    meter: Arc::new(RouteMeter::register(&route_name)),
                    name: route_name,
                    prefix: route.path.clone(),
                    upstream,
                    mode: route_mode(route.mode),
                    inspect: route.inspect,
                    block_status,
                });
            }
            routes.sort_by_key(|route| std::cmp::Reverse(route.prefix.len()));
            for host in &site.hosts {
                let host = host.to_ascii_lowercase();
                if host == "*" {
                    hosts.catch_all.get_or_insert(site_index);
                } else if let Some(suffix) = host.strip_prefix('*') {
                    if !suffix.starts_with('.') {
                        return Err(GatewayError::config(format!(
                            "site host {host:?}: wildcard must be \"*.domain\""
                        )));
                    }
                    hosts.wildcard.push((suffix.to_owned(), site_index));
                } else {
                    hosts.exact.entry(host).or_insert(site_index);
                }
            }
            let tls = match &site.tls {
                Some(tls) => Some(SiteTls::load(&name, tls)?),
                None => None,
            };
            sites.push(SiteRt {
                headers: SecurityHeaders::compile(&name, &site.headers)?,
                routes,
                tls,
            });
        }
        hosts
            .wildcard
            .sort_by_key(|(suffix, _)| std::cmp::Reverse(suffix.len()));
        let wants_request_body = inspectors.iter().any(|i| i.wants_request_body());
        let wants_response_body = inspectors.iter().any(|i| i.wants_response_body());
        Ok(Runtime {
            config,
            sites,
            hosts,
            upstreams,
            inspectors,
            wants_request_body,
            wants_response_body,
        })
    }

    /// The site serving `host` (lower-case, without port).
    pub(crate) fn site_for_host(&self, host: &str) -> Option<usize> {
        if let Some(&index) = self.hosts.exact.get(host) {
            return Some(index);
        }
        for (suffix, index) in &self.hosts.wildcard {
            if host.len() > suffix.len() && host.ends_with(suffix.as_str()) {
                return Some(*index);
            }
        }
        self.hosts.catch_all
    }

    /// The site whose certificate serves an SNI name; falls back to the first TLS site.
    pub(crate) fn tls_site_for_sni(&self, sni: Option<&str>) -> Option<usize> {
        let by_name = sni
            .map(|name| name.to_ascii_lowercase())
            .and_then(|name| self.site_for_host(&name))
            .filter(|&index| self.sites[index].tls.is_some());
        by_name.or_else(|| self.sites.iter().position(|site| site.tls.is_some()))
    }
}

impl SiteRt {
    /// The route with the longest prefix matching `path` on a segment boundary.
    pub(crate) fn route_for_path(&self, path: &str) -> Option<&RouteRt> {
        self.routes
            .iter()
            .find(|route| prefix_matches(&route.prefix, path))
    }
}

fn prefix_matches(prefix: &str, path: &str) -> bool {
    if !path.starts_with(prefix) {
        return false;
    }
    prefix.ends_with('/')
        || path.len() == prefix.len()
        || path.as_bytes()[prefix.len()] == b'/'
        || path.as_bytes()[prefix.len()] == b'?'
}

/// What a reload changed, for humans.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReloadSummary {
    /// Sites (by first host) added.
    pub sites_added: Vec<String>,
    /// Sites removed.
    pub sites_removed: Vec<String>,
    /// Sites whose settings or routes changed.
    pub sites_changed: Vec<String>,
    /// Upstreams added.
    pub upstreams_added: Vec<String>,
    /// Upstreams removed.
    pub upstreams_removed: Vec<String>,
    /// Upstreams whose settings changed.
    pub upstreams_changed: Vec<String>,
    /// Whether limits or trusted proxies changed.
    pub limits_changed: bool,
    /// Number of inspectors now active.
    pub inspectors: usize,
}

impl ReloadSummary {
    pub(crate) fn between(old: &Config, new: &Config, inspectors: usize) -> Self {
        let mut summary = ReloadSummary {
            inspectors,
            ..ReloadSummary::default()
        };
        let site_key =
            |site: &palisade_config::Site| site.hosts.first().cloned().unwrap_or_default();
        let old_sites: HashMap<String, &palisade_config::Site> =
            old.sites.iter().map(|s| (site_key(s), s)).collect();
        let new_sites: HashMap<String, &palisade_config::Site> =
            new.sites.iter().map(|s| (site_key(s), s)).collect();
        diff_named(
            &old_sites,
            &new_sites,
            &mut summary.sites_added,
            &mut summary.sites_removed,
            &mut summary.sites_changed,
        );
        let old_up: HashMap<String, &palisade_config::Upstream> =
            old.upstreams.iter().map(|u| (u.name.clone(), u)).collect();
        let new_up: HashMap<String, &palisade_config::Upstream> =
            new.upstreams.iter().map(|u| (u.name.clone(), u)).collect();
        diff_named(
            &old_up,
            &new_up,
            &mut summary.upstreams_added,
            &mut summary.upstreams_removed,
            &mut summary.upstreams_changed,
        );
        summary.limits_changed =
            old.limits != new.limits || old.trusted_proxies != new.trusted_proxies;
        summary
    }
}

fn diff_named<T: PartialEq>(
    old: &HashMap<String, &T>,
    new: &HashMap<String, &T>,
    added: &mut Vec<String>,
    removed: &mut Vec<String>,
    changed: &mut Vec<String>,
) {
    for (name, value) in new {
        match old.get(name) {
            None => added.push(name.clone()),
            Some(previous) if previous != value => changed.push(name.clone()),
            Some(_) => {}
        }
    }
    removed.extend(old.keys().filter(|name| !new.contains_key(*name)).cloned());
    added.sort();
    removed.sort();
    changed.sort();
}

impl fmt::Display for ReloadSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for (label, names) in [
            ("sites added", &self.sites_added),
            ("sites removed", &self.sites_removed),
            ("sites changed", &self.sites_changed),
            ("upstreams added", &self.upstreams_added),
            ("upstreams removed", &self.upstreams_removed),
            ("upstreams changed", &self.upstreams_changed),
        ] {
            if !names.is_empty() {
                parts.push(format!("{label}: {}", names.join(", ")));
            }
        }
        if self.limits_changed {
            parts.push("limits changed".to_owned());
        }
        if parts.is_empty() {
            parts.push("no routing changes".to_owned());
        }
        write!(
            f,
            "{}; {} inspector(s); TLS certificates re-read",
            parts.join("; "),
            self.inspectors
        )
    }
}

/// Describes how two listener sets differ, or `None` when they are the same.
pub(crate) fn listener_difference(old: &Config, new: &Config) -> Option<String> {
    if old.listeners == new.listeners {
        return None;
    }
    let describe = |l: &palisade_config::Listener| {
        format!(
            "{}{}{}{}{}",
            l.addr,
            if l.tls { " tls" } else { "" },
            if l.redirect_to_https {
                " redirect_to_https"
            } else {
                ""
            },
            if l.proxy_protocol {
                " proxy_protocol"
            } else {
                ""
            },
            if l.http2 { "" } else { " http2=false" }
        )
    };
    let old_set: Vec<String> = old.listeners.iter().map(describe).collect();
    let new_set: Vec<String> = new.listeners.iter().map(describe).collect();
    let removed: Vec<&String> = old_set.iter().filter(|l| !new_set.contains(l)).collect();
    let added: Vec<&String> = new_set.iter().filter(|l| !old_set.contains(l)).collect();
    let mut what = Vec::new();
    if !removed.is_empty() {
        what.push(format!(
            "removed [{}]",
            removed
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !added.is_empty() {
        what.push(format!(
            "added [{}]",
            added
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if what.is_empty() {
        what.push("listener order changed".to_owned());
    }
    Some(what.join("; "))
}

pub(crate) fn listeners_changed_error(what: String) -> GatewayError {
    GatewayError::new(ErrorKind::ListenersChanged(what))
}

/// A header value from configuration, refusing control characters.
pub(crate) fn config_header_value(
    site: &str,
    what: &str,
    value: &str,
) -> Result<Option<HeaderValue>, GatewayError> {
    if value.is_empty() {
        return Ok(None);
    }
    HeaderValue::from_str(value).map(Some).map_err(|_| {
        GatewayError::config(format!(
            "site {site:?}: {what} {value:?} is not a valid header value"
        ))
    })
}
