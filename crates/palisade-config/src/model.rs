//! The configuration schema. Every struct denies unknown fields.
//!
//! Durations are written as humantime strings ("10s", "2m"); sizes as integers
//! of bytes or strings with a unit ("1MiB", "10MB", "512KiB").

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where state and events live (default `./palisade-data`).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Listeners (plain or TLS). At least one.
    #[serde(default, rename = "listener")]
    pub listeners: Vec<Listener>,
    /// The admin listener (health, readiness, metrics).
    #[serde(default)]
    pub admin: Admin,
    /// Protocol limits and timeouts.
    #[serde(default)]
    pub limits: Limits,
    /// Which peers may set the client address.
    #[serde(default)]
    pub trusted_proxies: TrustedProxies,
    /// Named upstreams.
    #[serde(default, rename = "upstream")]
    pub upstreams: Vec<Upstream>,
    /// Sites (virtual hosts) with their routes.
    #[serde(default, rename = "site")]
    pub sites: Vec<Site>,
    /// Logging.
    #[serde(default)]
    pub log: Log,
    /// WAF (SecLang rules). When absent, Palisade's embedded default ruleset is used.
    #[serde(default)]
    pub waf: Option<Waf>,
    /// Security event store and SIEM sinks.
    #[serde(default)]
    pub events: crate::monitoring::Events,
    /// Anomaly detection and automatic responses.
    #[serde(default)]
    pub monitor: crate::monitoring::Monitor,
    /// Alert channels, routing and deduplication.
    #[serde(default)]
    pub alert: crate::monitoring::Alert,
    /// Where counters, rate limits, locks, bans, quotas and key metadata live.
    #[serde(default)]
    pub state: crate::ratelimit::State,
    /// Authentication: API keys, JWT issuers, client certificates, identity forwarding.
    #[serde(default)]
    pub access: crate::access::Access,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("palisade-data")
}

/// One listening socket.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// Address to bind, e.g. "0.0.0.0:8443".
    pub addr: SocketAddr,
    /// Terminate TLS here (certificates come from the sites, chosen by SNI).
    #[serde(default)]
    pub tls: bool,
    /// Plain listener that only redirects to HTTPS (301 to the same host and path).
    #[serde(default)]
    pub redirect_to_https: bool,
    /// Expect a PROXY protocol v1/v2 header from trusted proxies on this listener.
    #[serde(default)]
    pub proxy_protocol: bool,
    /// Offer HTTP/2 (ALPN h2 on TLS; prior knowledge on plain). Default true.
    #[serde(default = "yes")]
    pub http2: bool,
}

fn yes() -> bool {
    true
}

/// Admin listener.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// Address (loopback by default). `None`-like value "off" is not supported; set `enabled = false`.
    #[serde(default = "default_admin_addr")]
    pub addr: SocketAddr,
    /// Whether to run it.
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl Default for Admin {
    fn default() -> Self {
        Admin {
            addr: default_admin_addr(),
            enabled: true,
        }
    }
}

fn default_admin_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9090))
}

/// Limits and timeouts of the data plane.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Time allowed to receive the full request head (slowloris defence).
    #[serde(with = "humantime_serde_compat")]
    pub header_read_timeout: std::time::Duration,
    /// Maximum total size of the request head in bytes (431 above).
    pub max_header_bytes: ByteSize,
    /// Maximum number of request headers (431 above).
    pub max_headers: usize,
    /// Idle time allowed between requests on a keep-alive connection.
    #[serde(with = "humantime_serde_compat")]
    pub keepalive_idle_timeout: std::time::Duration,
    /// Maximum concurrent client connections.
    pub max_connections: usize,
    /// Hard maximum request body (413 above).
    pub max_body: ByteSize,
    /// Request body bytes buffered for inspection.
    pub inspect_body_limit: ByteSize,
    /// Response body bytes buffered for inspection.
    pub inspect_response_body_limit: ByteSize,
    /// Time allowed for in-flight requests when shutting down.
    #[serde(with = "humantime_serde_compat")]
    pub shutdown_grace: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        use std::time::Duration;
        Limits {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: ByteSize(32 * 1024),
            max_headers: 100,
            keepalive_idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            max_body: ByteSize(10 * 1024 * 1024),
            inspect_body_limit: ByteSize(1024 * 1024),
            inspect_response_body_limit: ByteSize(512 * 1024),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Trusted proxies: only these peers may set the client address through
/// `X-Forwarded-For` or the PROXY protocol.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrustedProxies {
    /// Networks of trusted proxies.
    #[serde(default)]
    pub networks: Vec<ipnet::IpNet>,
}

/// A named group of upstream servers.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// Name routes refer to.
    pub name: String,
    /// Server URLs, e.g. "http://127.0.0.1:5000". Round robin.
    pub servers: Vec<String>,
    /// Connect timeout (502 after).
    #[serde(default = "default_connect_timeout", with = "humantime_serde_compat")]
    pub connect_timeout: std::time::Duration,
    /// Time to wait for the response head (504 after).
    #[serde(default = "default_response_timeout", with = "humantime_serde_compat")]
    pub response_timeout: std::time::Duration,
    /// Speak HTTP/2 (prior knowledge / ALPN) to this upstream.
    #[serde(default)]
    pub http2: bool,
    /// Consecutive failures after which a server is taken out.
    #[serde(default = "default_max_fails")]
    pub max_fails: u32,
    /// How long a failed server stays out before it is retried.
    #[serde(default = "default_fail_timeout", with = "humantime_serde_compat")]
    pub fail_timeout: std::time::Duration,
    /// For `https://` servers: PEM file of the CA certificates to trust instead of the built-in
    /// Mozilla roots (e.g. an internal CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_connect_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(5)
}
fn default_response_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(60)
}
fn default_max_fails() -> u32 {
    3
}
fn default_fail_timeout() -> std::time::Duration {
    std::time::Duration::from_secs(10)
}

/// A site: a set of host names with TLS settings, header policy and routes.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Host names: exact ("example.com") or wildcard ("*.example.com"); "*" matches any.
    pub hosts: Vec<String>,
    /// TLS certificate for these hosts.
    #[serde(default)]
    pub tls: Option<SiteTls>,
    /// Security response headers.
    #[serde(default)]
    pub headers: HeaderPolicy,
    /// Routes by path prefix; longest prefix wins.
    #[serde(default, rename = "route")]
    pub routes: Vec<Route>,
    /// Authorization rules, login protection and CSRF defence of this site.
    #[serde(default)]
    pub access: Option<crate::access::SiteAccess>,
}

/// TLS material of a site.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SiteTls {
    /// PEM certificate chain file.
    pub cert: PathBuf,
    /// PEM private key file.
    pub key: PathBuf,
    /// PEM CA bundle for client certificates (mTLS).
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
    /// "none" (default), "optional" or "required".
    #[serde(default)]
    pub client_auth: ClientAuth,
}

/// Client-certificate policy.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// No client certificates.
    #[default]
    None,
    /// Verified when presented.
    Optional,
    /// Required.
    Required,
}

/// A route inside a site.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Name used in logs and metrics (default: site's first host + path).
    #[serde(default)]
    pub name: Option<String>,
    /// Path prefix ("/" matches all).
    #[serde(default = "default_path")]
    pub path: String,
    /// Upstream name.
    pub upstream: String,
    /// "block" (default) or "detect".
    #[serde(default)]
    pub mode: RouteMode,
    /// Inspect bodies on this route (default true). When false, bodies stream unbuffered.
    #[serde(default = "yes")]
    pub inspect: bool,
    /// Status of blocked answers (default 403).
    #[serde(default = "default_block_status")]
    pub block_status: u16,
    /// WAF rule ids removed on this route.
    #[serde(default)]
    pub remove_rule_ids: Vec<String>,
    /// WAF targets removed on this route, e.g. "942100:ARGS:password".
    #[serde(default)]
    pub remove_targets: Vec<String>,
    /// Rate limits of this route (GCRA), e.g. `[{ by = "ip", rate = "100/min", burst = 20 }]`.
    #[serde(default)]
    pub rate_limit: Vec<crate::ratelimit::RateLimitRule>,
    /// Daily / monthly quota of this route, e.g. `{ by = "api_key", daily = 1000 }`.
    #[serde(default)]
    pub quota: Option<crate::ratelimit::QuotaRule>,
}

impl Site {
    /// The site's name in logs and route names: its first host ("*" when none).
    pub fn name(&self) -> &str {
        self.hosts.first().map(String::as_str).unwrap_or("*")
    }

    /// The name of one of this site's routes: its `name`, or the site's name followed by
    /// the route's path. The gateway, metrics and per-route WAF exclusions all use this.
    pub fn route_name(&self, route: &Route) -> String {
        route
            .name
            .clone()
            .unwrap_or_else(|| format!("{}{}", self.name(), route.path))
    }
}

fn default_path() -> String {
    "/".to_owned()
}
fn default_block_status() -> u16 {
    403
}

/// What the WAF does on a route (or, in `[waf]`, everywhere): enforce, only report, or not run.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RouteMode {
    /// Enforce.
    #[default]
    Block,
    /// Report only.
    Detect,
    /// The WAF does not run (ModSecurity's `SecRuleEngine Off`). Bans, access control, rate limits
    /// and monitoring still apply.
    Off,
}

/// Security response headers of a site. Sensible defaults are on.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HeaderPolicy {
    /// Strict-Transport-Security value on TLS sites ("" disables).
    pub hsts: String,
    /// Content-Security-Policy value ("" disables).
    pub content_security_policy: String,
    /// Send CSP as Content-Security-Policy-Report-Only.
    pub csp_report_only: bool,
    /// X-Frame-Options ("" disables).
    pub frame_options: String,
    /// X-Content-Type-Options: nosniff.
    pub content_type_options: bool,
    /// Referrer-Policy ("" disables).
    pub referrer_policy: String,
    /// Permissions-Policy ("" disables).
    pub permissions_policy: String,
    /// Cross-Origin-Opener-Policy ("" disables).
    pub cross_origin_opener_policy: String,
    /// Cross-Origin-Resource-Policy ("" disables).
    pub cross_origin_resource_policy: String,
    /// Strip Server, X-Powered-By, X-AspNet-Version and similar from responses.
    pub strip_leaky_headers: bool,
    /// Harden upstream Set-Cookie (Secure on TLS, HttpOnly, SameSite).
    pub harden_cookies: bool,
    /// SameSite value used when hardening cookies ("Lax", "Strict", "None").
    pub cookie_samesite: String,
}

impl Default for HeaderPolicy {
    fn default() -> Self {
        HeaderPolicy {
            hsts: "max-age=31536000; includeSubDomains".to_owned(),
            content_security_policy:
                "default-src 'self'; frame-ancestors 'self'; object-src 'none'; base-uri 'self'"
                    .to_owned(),
            csp_report_only: false,
            frame_options: "SAMEORIGIN".to_owned(),
            content_type_options: true,
            referrer_policy: "strict-origin-when-cross-origin".to_owned(),
            permissions_policy: "camera=(), microphone=(), geolocation=()".to_owned(),
            cross_origin_opener_policy: "same-origin".to_owned(),
            cross_origin_resource_policy: "same-origin".to_owned(),
            strip_leaky_headers: true,
            harden_cookies: true,
            cookie_samesite: "Lax".to_owned(),
        }
    }
}

/// Logging.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    /// "json" (default) or "pretty".
    pub format: String,
    /// tracing filter, e.g. "info".
    pub level: String,
    /// Write an access log line per request.
    pub access_log: bool,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            format: "json".to_owned(),
            level: "info".to_owned(),
            access_log: true,
        }
    }
}

/// WAF settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Waf {
    /// Rule files and globs, loaded in order (e.g. crs-setup.conf, rules/*.conf).
    #[serde(default)]
    pub rules: Vec<String>,
    /// Paranoia level 1–4 (sets tx.blocking_paranoia_level / detection_paranoia_level).
    #[serde(default = "default_paranoia")]
    pub paranoia_level: u8,
    /// "block", "detect" or "off" for the whole WAF (routes may be stricter).
    #[serde(default)]
    pub mode: RouteMode,
    /// ModSecurity-style JSON audit log of blocked requests.
    #[serde(default)]
    pub audit_log: Option<PathBuf>,
    /// Use Palisade's embedded default ruleset (in addition to `rules`). Default: true when `rules` is empty.
    #[serde(default)]
    pub builtin_rules: Option<bool>,
}

fn default_paranoia() -> u8 {
    1
}

/// A size in bytes; deserialises from an integer or a string with a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(ByteSize(n)),
            Raw::S(s) => parse_byte_size(&s).map(ByteSize).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "invalid size {s:?}: expected a number of bytes or a number with a unit (B, KB, KiB, MB, MiB, GB, GiB)"
                ))
            }),
        }
    }
}

/// Parses "10MiB", "512 KB", "42".
pub fn parse_byte_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" | "k" => 1024,
        "mb" => 1000 * 1000,
        "mib" | "m" => 1024 * 1024,
        "gb" => 1000 * 1000 * 1000,
        "gib" | "g" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mult)
}

pub(crate) mod humantime_serde_compat {
    use serde::Deserialize;
    use std::time::Duration;

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(|e| {
            serde::de::Error::custom(format!(
                "invalid duration {s:?} ({e}): expected e.g. \"500ms\", \"10s\", \"2m\""
            ))
        })
    }
}

impl Config {
    /// Makes every relative path in the configuration relative to `base`
    /// (the configuration file's directory), so the result does not depend on
    /// the working directory of the process.
    pub(crate) fn resolve_relative_paths(&mut self, base: &Path) {
        let anchor = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        };
        anchor(&mut self.data_dir);
        for upstream in &mut self.upstreams {
            if let Some(ca_file) = &mut upstream.ca_file {
                anchor(ca_file);
            }
        }
        for site in &mut self.sites {
            if let Some(tls) = &mut site.tls {
                anchor(&mut tls.cert);
                anchor(&mut tls.key);
                if let Some(ca) = &mut tls.client_ca {
                    anchor(ca);
                }
            }
        }
        self.access.resolve_relative_paths(base);
        if let Some(waf) = &mut self.waf {
            if let Some(audit_log) = &mut waf.audit_log {
                anchor(audit_log);
            }
            for rule in &mut waf.rules {
                if Path::new(rule.as_str()).is_relative() {
                    *rule = base.join(rule.as_str()).to_string_lossy().into_owned();
                }
            }
        }
    }
}
