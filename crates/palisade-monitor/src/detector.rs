//! The detectors: one single-threaded, deterministic state machine fed with
//! security events (logins) and request samples (traffic), returning findings.
//!
//! Time is the observations' own timestamps, so replaying a synthetic stream
//! gives the same findings every time. Memory is bounded: every per-key map
//! keeps at most `max_tracked` keys (the least recently active go first) and
//! every window at most [`MAX_WINDOW_ENTRIES`] entries.
//!
//! What is persisted (see [`Detector::dirty_state`] / [`Detector::restore`]):
//! rate baselines and user login profiles. Short sliding windows (failed
//! logins, scanner bursts) start empty after a restart; they span minutes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;

use palisade_core::SecurityEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::baseline::{RateSeries, Spike, SpikeRule};
use crate::finding::{FINDING_ACTION_PREFIX, Finding, FindingKind, MAX_EVIDENCE};
use crate::geo::{GeoDatabase, GeoInfo, distance_km};

/// Most entries one sliding window keeps.
pub const MAX_WINDOW_ENTRIES: usize = 512;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// `count` observations within `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLimit {
    /// How many (or how many distinct) observations.
    pub count: usize,
    /// Within this many milliseconds.
    pub window_ms: i64,
}

impl WindowLimit {
    fn describe(&self) -> String {
        format!("{} per {}", self.count, describe_ms(self.window_ms))
    }
}

fn describe_ms(ms: i64) -> String {
    match ms {
        ms if ms % HOUR == 0 => format!("{}h", ms / HOUR),
        ms if ms % MINUTE == 0 => format!("{}m", ms / MINUTE),
        ms => format!("{}s", ms / 1000),
    }
}

/// Thresholds of every detector. `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorSettings {
    /// Failed logins on one account (default 5 per 10m).
    pub failed_logins_per_account: WindowLimit,
    /// Failed logins on one account over a long window (default 20 per 24h).
    pub slow_failed_logins_per_account: WindowLimit,
    /// Failed logins from one address (default 20 per 10m).
    pub failed_logins_per_ip: WindowLimit,
    /// Distinct accounts failing from one address (default 10 per 10m).
    pub accounts_per_ip: WindowLimit,
    /// Distinct addresses failing on one account (default 10 per 1h).
    pub ips_per_account: WindowLimit,
    /// Failures on the account (or from the address) before a success is suspicious (default 5 per 1h).
    pub failures_before_success: WindowLimit,
    /// Distinct paths answered 4xx to one client (default 20 per 1m).
    pub scanner_paths: WindowLimit,
    /// Sensitive path patterns (see [`SensitivePaths`]; shared, settings are cloned per event).
    pub sensitive_paths: std::sync::Arc<SensitivePaths>,
    /// Spike rule for the global series.
    pub global_spike: SpikeRule,
    /// Spike rule for per-address, per-user and per-route series.
    pub keyed_spike: SpikeRule,
    /// Successful logins a user needs before new-location findings (default 3).
    pub min_logins_for_location: u32,
    /// Travel speed above which two logins are impossible (default 1000 km/h).
    pub max_travel_kmh: f64,
    /// Distances below this are never impossible travel (default 500 km; GeoIP is coarse).
    pub min_travel_km: f64,
    /// Successful logins a user needs before unusual-hour findings (default 20).
    pub min_logins_for_hours: u32,
    /// Share of past logins in the hour (±1 h) below which the hour is unusual (default 0.02).
    pub unusual_hour_share: f64,
    /// After a finding, the same kind and subject stays quiet this long (default 10m).
    pub cooldown_ms: i64,
    /// Most keys per map (addresses, users, series).
    pub max_tracked: usize,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        DetectorSettings {
            failed_logins_per_account: WindowLimit {
                count: 5,
                window_ms: 10 * MINUTE,
            },
            slow_failed_logins_per_account: WindowLimit {
                count: 20,
                window_ms: 24 * HOUR,
            },
            failed_logins_per_ip: WindowLimit {
                count: 20,
                window_ms: 10 * MINUTE,
            },
            accounts_per_ip: WindowLimit {
                count: 10,
                window_ms: 10 * MINUTE,
            },
            ips_per_account: WindowLimit {
                count: 10,
                window_ms: HOUR,
            },
            failures_before_success: WindowLimit {
                count: 5,
                window_ms: HOUR,
            },
            scanner_paths: WindowLimit {
                count: 20,
                window_ms: MINUTE,
            },
            sensitive_paths: std::sync::Arc::default(),
            global_spike: SpikeRule {
                min_volume: 120,
                min_z: 6.0,
                min_ratio: 3.0,
                min_history: 30,
            },
            keyed_spike: SpikeRule {
                min_volume: 60,
                min_z: 6.0,
                min_ratio: 5.0,
                min_history: 30,
            },
            min_logins_for_location: 3,
            max_travel_kmh: 1000.0,
            min_travel_km: 500.0,
            min_logins_for_hours: 20,
            unusual_hour_share: 0.02,
            cooldown_ms: 10 * MINUTE,
            max_tracked: 50_000,
        }
    }
}

/// Paths attackers probe for: version-control metadata, environment and
/// configuration files, backups and dumps, admin consoles.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitivePaths {
    /// Matched anywhere in the path, ignoring ASCII case, as a whole segment prefix (`/.git` matches `/.git/config`).
    pub segments: Vec<String>,
    /// Matched at the end of the path, ignoring ASCII case (`.bak`, `.sql`).
    pub suffixes: Vec<String>,
}

impl Default for SensitivePaths {
    fn default() -> Self {
        let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        SensitivePaths {
            segments: list(&[
                "/.git",
                "/.svn",
                "/.hg",
                "/.env",
                "/.aws",
                "/.ssh",
                "/.htpasswd",
                "/.htaccess",
                "/.ds_store",
                "/wp-admin",
                "/wp-login.php",
                "/phpmyadmin",
                "/pma",
                "/adminer",
                "/server-status",
                "/server-info",
                "/actuator",
                "/manager/html",
                "/jmx-console",
                "/web-console",
                "/console",
                "/backup",
                "/backups",
                "/dump",
                "/config.php",
                "/wp-config.php",
                "/etc/passwd",
                "/debug",
                "/_profiler",
                "/elmah.axd",
                "/phpinfo.php",
            ]),
            suffixes: list(&[
                ".bak", ".backup", ".old", ".orig", ".swp", "~", ".sql", ".sql.gz", ".tar.gz",
                ".tgz", ".zip", ".7z", ".rar", ".pem", ".key", ".db", ".sqlite", ".sqlite3",
            ]),
        }
    }
}

impl SensitivePaths {
    /// The pattern `path` matches, if any. Only the first 1 KiB of the path
    /// (before `?` or `#`) is looked at: bounded work on hostile input.
    pub fn matches(&self, path: &str) -> Option<&str> {
        let bytes = &path.as_bytes()[..path.len().min(1024)];
        let end = bytes
            .iter()
            .position(|b| matches!(b, b'?' | b'#'))
            .unwrap_or(bytes.len());
        // Compared ASCII-case-insensitively in place (no lowercased copy per request).
        let path = &bytes[..end];
        // The byte after the leading `/` (or a suffix's last byte) is compared first: almost
        // every request's path differs from every pattern there, for one comparison each.
        let starts_with = |rest: &[u8], pattern: &[u8]| {
            rest.len() >= pattern.len()
                && pattern
                    .get(1)
                    .is_none_or(|second| rest[1].eq_ignore_ascii_case(second))
                && rest[..pattern.len()].eq_ignore_ascii_case(pattern)
        };
        for (at, _) in path.iter().enumerate().filter(|(_, b)| **b == b'/') {
            let rest = &path[at..];
            for segment in &self.segments {
                let pattern = segment.as_bytes();
                if starts_with(rest, pattern)
                    && matches!(rest.get(pattern.len()), None | Some(b'/' | b'.' | b'~'))
                {
                    return Some(segment);
                }
            }
        }
        self.suffixes
            .iter()
            .find(|suffix| {
                let suffix = suffix.as_bytes();
                path.len() > suffix.len() + 1
                    && suffix
                        .last()
                        .is_none_or(|last| path[path.len() - 1].eq_ignore_ascii_case(last))
                    && path[path.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
            })
            .map(String::as_str)
    }
}

pub(crate) fn floor_char_boundary(text: &str, max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// One request as the traffic tap saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSample {
    /// When it finished (ms since the Unix epoch).
    pub timestamp_ms: i64,
    /// Request id (the evidence id).
    pub request_id: String,
    /// Client address.
    pub source_ip: IpAddr,
    /// Route name.
    pub route: String,
    /// Path (without query).
    pub path: String,
    /// Final status sent to the client.
    pub status: u16,
    /// Whether an inspector blocked it.
    pub blocked: bool,
    /// Authenticated user, when an inspector established one.
    pub user: Option<String>,
}

/// What is counted per series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Metric {
    Requests,
    Errors,
    Blocks,
}

impl Metric {
    fn as_str(self) -> &'static str {
        match self {
            Metric::Requests => "requests",
            Metric::Errors => "errors",
            Metric::Blocks => "blocks",
        }
    }
}

/// Whose traffic a series counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Dimension {
    Global,
    Ip(IpAddr),
    User(String),
    Route(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct SeriesKey {
    metric: Metric,
    dimension: Dimension,
}

impl SeriesKey {
    fn state_key(&self) -> String {
        let dimension = match &self.dimension {
            Dimension::Global => "global".to_owned(),
            Dimension::Ip(ip) => format!("ip:{ip}"),
            Dimension::User(user) => format!("user:{user}"),
            Dimension::Route(route) => format!("route:{route}"),
        };
        format!("series:{}:{dimension}", self.metric.as_str())
    }
}

/// One entry of a sliding window.
#[derive(Debug, Clone)]
struct Entry {
    timestamp_ms: i64,
    /// The other side (address for per-account windows, account for per-address ones, path for scanners).
    value: Option<String>,
    evidence: String,
}

#[derive(Debug, Default, Clone)]
struct Window {
    entries: VecDeque<Entry>,
}

impl Window {
    fn push(&mut self, entry: Entry, keep_ms: i64) {
        let cutoff = entry.timestamp_ms - keep_ms;
        while self
            .entries
            .front()
            .is_some_and(|e| e.timestamp_ms < cutoff)
        {
            self.entries.pop_front();
        }
        if self.entries.len() == MAX_WINDOW_ENTRIES {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    fn last_ms(&self) -> i64 {
        self.entries.back().map_or(i64::MIN, |e| e.timestamp_ms)
    }

    /// Entries within `window_ms` of `now_ms`, oldest first.
    fn recent(&self, now_ms: i64, window_ms: i64) -> impl Iterator<Item = &Entry> {
        let cutoff = now_ms - window_ms;
        self.entries
            .iter()
            .filter(move |e| e.timestamp_ms >= cutoff)
    }

    fn count(&self, now_ms: i64, window_ms: i64) -> usize {
        self.recent(now_ms, window_ms).count()
    }

    /// Distinct values within the window, counting stops at `enough`
    /// (the limit: more is not needed, and hostile streams stay cheap).
    fn distinct(&self, now_ms: i64, window_ms: i64, enough: usize) -> usize {
        let mut seen = HashSet::new();
        for value in self
            .recent(now_ms, window_ms)
            .filter_map(|e| e.value.as_deref())
        {
            seen.insert(value);
            if seen.len() >= enough {
                break;
            }
        }
        seen.len()
    }

    /// Evidence ids within the window (newest [`MAX_EVIDENCE`]), oldest first.
    fn evidence(&self, now_ms: i64, window_ms: i64) -> Vec<String> {
        let ids: Vec<String> = self
            .recent(now_ms, window_ms)
            .map(|e| e.evidence.clone())
            .collect();
        let skip = ids.len().saturating_sub(MAX_EVIDENCE);
        ids.into_iter().skip(skip).collect()
    }
}

/// What the detector knows about one user's successful logins (persisted).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct UserProfile {
    logins: u32,
    countries: Vec<String>,
    asns: Vec<u32>,
    networks: Vec<String>,
    agents: Vec<String>,
    hours: Vec<u32>,
    last_ms: i64,
    last_ip: Option<IpAddr>,
    last_location: Option<(f64, f64)>,
    last_country: Option<String>,
    #[serde(default)]
    last_evidence: Option<String>,
}

/// Most values of each kind a profile remembers (oldest forgotten first).
const PROFILE_VALUES: usize = 32;

fn remember<T: PartialEq>(list: &mut Vec<T>, value: T) {
    if !list.contains(&value) {
        if list.len() == PROFILE_VALUES {
            list.remove(0);
        }
        list.push(value);
    }
}

/// The network a login comes from without GeoIP: /24 for IPv4, /48 for IPv6.
pub fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// A coarse user-agent family (browser or tool), e.g. `chrome`, `firefox`, `curl`.
pub fn agent_family(user_agent: &str) -> String {
    let ua = &user_agent[..floor_char_boundary(user_agent, 512)];
    for (marker, family) in [
        ("Edg/", "edge"),
        ("OPR/", "opera"),
        ("Firefox/", "firefox"),
        ("Chrome/", "chrome"),
        ("Safari/", "safari"),
    ] {
        if ua.contains(marker) {
            return family.to_owned();
        }
    }
    let product: String = ua
        .split(['/', ' ', ';', '('])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(32)
        .collect::<String>()
        .to_ascii_lowercase();
    if product.is_empty() {
        "unknown".to_owned()
    } else {
        product
    }
}

/// The evidence id of an event: `event.id`, else the request id, else action@time.
pub fn evidence_id(event: &SecurityEvent) -> String {
    if let Some(id) = event.fields.get("event.id").and_then(Value::as_str) {
        return id.to_owned();
    }
    match &event.request_id {
        Some(id) => id.clone(),
        None => format!("{}@{}", event.action, event.timestamp_ms),
    }
}

/// The detectors (see the module docs).
pub struct Detector {
    settings: DetectorSettings,
    geo: Option<GeoDatabase>,
    fails_by_user: HashMap<String, Window>,
    fails_by_ip: HashMap<IpAddr, Window>,
    client_errors_by_ip: HashMap<IpAddr, Window>,
    probes_by_ip: HashMap<IpAddr, Window>,
    /// Looked up three or four times per request: hashed with foldhash (randomly seeded per
    /// process) instead of SipHash, which was about a fifth of the monitor's work per request.
    /// The map is bounded by `max_tracked`.
    series: HashMap<SeriesKey, RateSeries, foldhash::fast::RandomState>,
    profiles: HashMap<String, UserProfile>,
    cooldowns: HashMap<(FindingKind, String), i64>,
    dirty: HashSet<String>,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("series", &self.series.len())
            .field("profiles", &self.profiles.len())
            .finish_non_exhaustive()
    }
}

/// Drops the least recently active tenth of `map` when it exceeds `max`.
fn bound<K: Clone + Eq + Hash, V, S: std::hash::BuildHasher>(
    map: &mut HashMap<K, V, S>,
    max: usize,
    last: impl Fn(&V) -> i64,
) {
    if map.len() <= max {
        return;
    }
    let mut ages: Vec<(i64, K)> = map.iter().map(|(k, v)| (last(v), k.clone())).collect();
    ages.sort_by_key(|(age, _)| *age);
    let drop = map.len() - max + max / 10;
    for (_, key) in ages.into_iter().take(drop) {
        map.remove(&key);
    }
}

impl Detector {
    /// A detector with no history. `geo` enables country/ASN findings and impossible travel.
    pub fn new(settings: DetectorSettings, geo: Option<GeoDatabase>) -> Self {
        Detector {
            settings,
            geo,
            fails_by_user: HashMap::new(),
            fails_by_ip: HashMap::new(),
            client_errors_by_ip: HashMap::new(),
            probes_by_ip: HashMap::new(),
            series: HashMap::default(),
            profiles: HashMap::new(),
            cooldowns: HashMap::new(),
            dirty: HashSet::new(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &DetectorSettings {
        &self.settings
    }

    /// How long a kind stays quiet for one subject after a finding: its
    /// window (one finding per window), at least `cooldown_ms`.
    fn quiet_ms(&self, kind: FindingKind) -> i64 {
        let s = &self.settings;
        let window = match kind {
            FindingKind::BruteForceAccount => s.failed_logins_per_account.window_ms,
            FindingKind::SlowBruteForce => s.slow_failed_logins_per_account.window_ms,
            FindingKind::BruteForceIp => s.failed_logins_per_ip.window_ms,
            FindingKind::CredentialStuffing => s.accounts_per_ip.window_ms,
            FindingKind::DistributedBruteForce => s.ips_per_account.window_ms,
            FindingKind::ScannerBurst => s.scanner_paths.window_ms,
            _ => 0,
        };
        window.max(s.cooldown_ms)
    }

    /// Whether `kind` is quiet for `subject` at `now_ms` (a finding would be dropped).
    fn is_quiet(&self, kind: FindingKind, subject: &str, now_ms: i64) -> bool {
        self.cooldowns
            .get(&(kind, subject.to_owned()))
            .is_some_and(|until| now_ms < *until)
    }

    /// Reports `finding` unless the same kind and subject is quiet.
    fn report(&mut self, out: &mut Vec<Finding>, finding: Finding) {
        let key = (finding.kind, finding.subject());
        if self
            .cooldowns
            .get(&key)
            .is_some_and(|until| finding.timestamp_ms < *until)
        {
            return;
        }
        let quiet = self.quiet_ms(finding.kind);
        self.cooldowns.insert(key, finding.timestamp_ms + quiet);
        bound(&mut self.cooldowns, self.settings.max_tracked, |until| {
            *until
        });
        metrics::counter!("palisade_monitor_findings_total", "kind" => finding.kind.as_str())
            .increment(1);
        out.push(finding);
    }

    /// Feeds one security event; returns the findings it completes.
    pub fn observe_event(&mut self, event: &SecurityEvent) -> Vec<Finding> {
        let mut out = Vec::new();
        if event.action.starts_with(FINDING_ACTION_PREFIX) {
            return out;
        }
        let user = event
            .fields
            .get("user.name")
            .and_then(Value::as_str)
            .map(normalise_user);
        match event.action.as_str() {
            "authn_login_fail" => self.login_failed(event, user, &mut out),
            "authn_login_success" | "authn_login_successafterfail" => {
                if let Some(user) = user {
                    self.login_succeeded(event, user, &mut out);
                }
            }
            _ => {}
        }
        out
    }

    fn login_failed(
        &mut self,
        event: &SecurityEvent,
        user: Option<String>,
        out: &mut Vec<Finding>,
    ) {
        let now = event.timestamp_ms;
        let id = evidence_id(event);
        let s = self.settings.clone();
        if let Some(user) = &user {
            let keep = s
                .slow_failed_logins_per_account
                .window_ms
                .max(s.failed_logins_per_account.window_ms)
                .max(s.ips_per_account.window_ms)
                .max(s.failures_before_success.window_ms);
            let user_subject = format!("user:{user}");
            let window = self.fails_by_user.entry(user.clone()).or_default();
            window.push(
                Entry {
                    timestamp_ms: now,
                    value: event.source_ip.map(|ip| ip.to_string()),
                    evidence: id.clone(),
                },
                keep,
            );
            let short = window.count(now, s.failed_logins_per_account.window_ms);
            let long = window.count(now, s.slow_failed_logins_per_account.window_ms);
            let ips = window.distinct(now, s.ips_per_account.window_ms, s.ips_per_account.count);
            if short >= s.failed_logins_per_account.count
                && !self.is_quiet(FindingKind::BruteForceAccount, &user_subject, now)
            {
                let limit = s.failed_logins_per_account;
                self.report(
                    out,
                    Finding {
                        kind: FindingKind::BruteForceAccount,
                        timestamp_ms: now,
                        severity: FindingKind::BruteForceAccount.severity(),
                        source_ip: event.source_ip,
                        user: Some(user.clone()),
                        route: event.route.clone(),
                        baseline: format!("failed logins, limit {}", limit.describe()),
                        observed: short.to_string(),
                        explanation: format!(
                            "{short} failed logins for account {user:?} within {} (limit {})",
                            describe_ms(limit.window_ms),
                            limit.count
                        ),
                        evidence: self.fails_by_user[user.as_str()].evidence(now, limit.window_ms),
                    },
                );
            } else if long >= s.slow_failed_logins_per_account.count
                && short < s.failed_logins_per_account.count
                && !self.is_quiet(FindingKind::SlowBruteForce, &user_subject, now)
            {
                let limit = s.slow_failed_logins_per_account;
                self.report(out, Finding {
                    kind: FindingKind::SlowBruteForce,
                    timestamp_ms: now,
                    severity: FindingKind::SlowBruteForce.severity(),
                    source_ip: event.source_ip,
                    user: Some(user.clone()),
                    route: event.route.clone(),
                    baseline: format!(
                        "failed logins, limit {} (and below {} per {})",
                        limit.describe(),
                        s.failed_logins_per_account.count,
                        describe_ms(s.failed_logins_per_account.window_ms)
                    ),
                    observed: long.to_string(),
                    explanation: format!(
                        "{long} failed logins for account {user:?} spread over {} (limit {}): a slow brute force below the short-window limit",
                        describe_ms(limit.window_ms),
                        limit.count
                    ),
                    evidence: self.fails_by_user[user.as_str()].evidence(now, limit.window_ms),
                });
            }
            if ips >= s.ips_per_account.count
                && !self.is_quiet(FindingKind::DistributedBruteForce, &user_subject, now)
            {
                let limit = s.ips_per_account;
                self.report(out, Finding {
                    kind: FindingKind::DistributedBruteForce,
                    timestamp_ms: now,
                    severity: FindingKind::DistributedBruteForce.severity(),
                    source_ip: None,
                    user: Some(user.clone()),
                    route: event.route.clone(),
                    baseline: format!("distinct client addresses, limit {}", limit.describe()),
                    observed: ips.to_string(),
                    explanation: format!(
                        "failed logins for account {user:?} from {ips} different addresses within {} (limit {})",
                        describe_ms(limit.window_ms),
                        limit.count
                    ),
                    evidence: self.fails_by_user[user.as_str()].evidence(now, limit.window_ms),
                });
            }
            bound(&mut self.fails_by_user, s.max_tracked, Window::last_ms);
        }
        if let Some(ip) = event.source_ip {
            let keep = s
                .failed_logins_per_ip
                .window_ms
                .max(s.accounts_per_ip.window_ms)
                .max(s.failures_before_success.window_ms);
            let ip_subject = format!("ip:{ip}");
            let window = self.fails_by_ip.entry(ip).or_default();
            window.push(
                Entry {
                    timestamp_ms: now,
                    value: user.clone(),
                    evidence: id,
                },
                keep,
            );
            let accounts =
                window.distinct(now, s.accounts_per_ip.window_ms, s.accounts_per_ip.count);
            let failures = window.count(now, s.failed_logins_per_ip.window_ms);
            if accounts >= s.accounts_per_ip.count {
                if !self.is_quiet(FindingKind::CredentialStuffing, &ip_subject, now) {
                    let limit = s.accounts_per_ip;
                    self.report(out, Finding {
                    kind: FindingKind::CredentialStuffing,
                    timestamp_ms: now,
                    severity: FindingKind::CredentialStuffing.severity(),
                    source_ip: Some(ip),
                    user: None,
                    route: event.route.clone(),
                    baseline: format!("distinct accounts, limit {}", limit.describe()),
                    observed: accounts.to_string(),
                    explanation: format!(
                        "{ip} failed logins on {accounts} different accounts within {} (limit {})",
                        describe_ms(limit.window_ms),
                        limit.count
                    ),
                    evidence: self.fails_by_ip[&ip].evidence(now, limit.window_ms),
                });
                }
            } else if failures >= s.failed_logins_per_ip.count
                && !self.is_quiet(FindingKind::BruteForceIp, &ip_subject, now)
            {
                let limit = s.failed_logins_per_ip;
                self.report(
                    out,
                    Finding {
                        kind: FindingKind::BruteForceIp,
                        timestamp_ms: now,
                        severity: FindingKind::BruteForceIp.severity(),
                        source_ip: Some(ip),
                        user: None,
                        route: event.route.clone(),
                        baseline: format!("failed logins, limit {}", limit.describe()),
                        observed: failures.to_string(),
                        explanation: format!(
                            "{failures} failed logins from {ip} within {} (limit {})",
                            describe_ms(limit.window_ms),
                            limit.count
                        ),
                        evidence: self.fails_by_ip[&ip].evidence(now, limit.window_ms),
                    },
                );
            }
            bound(&mut self.fails_by_ip, s.max_tracked, Window::last_ms);
        }
    }

    fn login_succeeded(&mut self, event: &SecurityEvent, user: String, out: &mut Vec<Finding>) {
        let now = event.timestamp_ms;
        let id = evidence_id(event);
        let s = self.settings.clone();
        // Success after many failures (on the account, or from the address).
        let limit = s.failures_before_success;
        let by_user = self.fails_by_user.get(&user).map(|w| {
            (
                w.count(now, limit.window_ms),
                w.evidence(now, limit.window_ms),
            )
        });
        let by_ip = event
            .source_ip
            .and_then(|ip| self.fails_by_ip.get(&ip))
            .map(|w| {
                (
                    w.count(now, limit.window_ms),
                    w.evidence(now, limit.window_ms),
                )
            });
        let worst = [by_user, by_ip]
            .into_iter()
            .flatten()
            .max_by_key(|(count, _)| *count);
        if let Some((failures, mut evidence)) = worst.filter(|(count, _)| *count >= limit.count) {
            evidence.push(id.clone());
            self.report(out, Finding {
                kind: FindingKind::LoginAfterFailures,
                timestamp_ms: now,
                severity: FindingKind::LoginAfterFailures.severity(),
                source_ip: event.source_ip,
                user: Some(user.clone()),
                route: event.route.clone(),
                baseline: format!("failed logins before a success, limit {}", limit.describe()),
                observed: failures.to_string(),
                explanation: format!(
                    "account {user:?} logged in successfully after {failures} failed logins within {}",
                    describe_ms(limit.window_ms)
                ),
                evidence,
            });
        }
        self.profile_login(event, &user, &id, out);
    }

    fn profile_login(
        &mut self,
        event: &SecurityEvent,
        user: &str,
        id: &str,
        out: &mut Vec<Finding>,
    ) {
        let now = event.timestamp_ms;
        let s = self.settings.clone();
        let geo = match (&self.geo, event.source_ip) {
            (Some(db), Some(ip)) => db.lookup(ip),
            _ => GeoInfo::default(),
        };
        let agent = event
            .fields
            .get("user_agent.original")
            .and_then(Value::as_str)
            .map(agent_family);
        let network = event.source_ip.map(network_of);
        let hour = (now.div_euclid(HOUR).rem_euclid(24)) as usize;
        let profile = self.profiles.entry(user.to_owned()).or_default().clone();
        let base =
            |kind: FindingKind, baseline: String, observed: String, explanation: String| Finding {
                kind,
                timestamp_ms: now,
                severity: kind.severity(),
                source_ip: event.source_ip,
                user: Some(user.to_owned()),
                route: event.route.clone(),
                baseline,
                observed,
                explanation,
                evidence: vec![id.to_owned()],
            };
        let mut found = Vec::new();
        if profile.logins >= s.min_logins_for_location {
            let have_geo = geo.country.is_some() || geo.asn.is_some();
            if let Some(country) = geo
                .country
                .as_ref()
                .filter(|c| !profile.countries.contains(c))
            {
                found.push(base(
                    FindingKind::NewCountryLogin,
                    format!("countries seen for the user: {}", profile.countries.join(", ")),
                    country.clone(),
                    format!(
                        "login for {user:?} from country {country}, never seen for this account in {} logins (known: {})",
                        profile.logins,
                        profile.countries.join(", ")
                    ),
                ));
            } else if let Some(asn) = geo.asn.filter(|a| !profile.asns.contains(a)) {
                let known: Vec<String> = profile.asns.iter().map(|a| format!("AS{a}")).collect();
                found.push(base(
                    FindingKind::NewAsnLogin,
                    format!("networks (AS) seen for the user: {}", known.join(", ")),
                    format!("AS{asn}"),
                    format!(
                        "login for {user:?} from AS{asn}{}, never seen for this account (known: {})",
                        geo.as_org.as_deref().map(|o| format!(" ({o})")).unwrap_or_default(),
                        known.join(", ")
                    ),
                ));
            }
            if !have_geo {
                let new_network = network
                    .as_ref()
                    .is_some_and(|n| !profile.networks.contains(n));
                let new_agent = agent.as_ref().is_some_and(|a| !profile.agents.contains(a));
                if new_network && new_agent {
                    let (network, agent) = (
                        network.clone().unwrap_or_default(),
                        agent.clone().unwrap_or_default(),
                    );
                    found.push(base(
                        FindingKind::NewNetworkLogin,
                        format!(
                            "networks {} and user agents {} seen for the user",
                            profile.networks.join(", "),
                            profile.agents.join(", ")
                        ),
                        format!("{network} {agent}"),
                        format!(
                            "login for {user:?} from network {network} with user agent {agent}, both never seen for this account in {} logins",
                            profile.logins
                        ),
                    ));
                }
            }
        }
        if let (Some(from), Some(to)) = (profile.last_location, geo.location) {
            let km = distance_km(from, to);
            let hours = ((now - profile.last_ms) as f64 / HOUR as f64).max(1.0 / 60.0);
            let speed = km / hours;
            if km >= s.min_travel_km && speed > s.max_travel_kmh {
                let mut finding = base(
                    FindingKind::ImpossibleTravel,
                    format!("travel speed limit {:.0} km/h", s.max_travel_kmh),
                    format!("{speed:.0} km/h"),
                    format!(
                        "logins for {user:?} from {} and {} are {km:.0} km apart within {} minutes ({speed:.0} km/h, limit {:.0} km/h)",
                        profile.last_country.as_deref().unwrap_or("?"),
                        geo.country.as_deref().unwrap_or("?"),
                        (now - profile.last_ms) / MINUTE,
                        s.max_travel_kmh
                    ),
                );
                finding.evidence = profile
                    .last_evidence
                    .iter()
                    .cloned()
                    .chain([id.to_owned()])
                    .collect();
                found.push(finding);
            }
        }
        if profile.logins >= s.min_logins_for_hours && profile.hours.len() == 24 {
            let near: u32 = [23, 0, 1]
                .iter()
                .map(|d| profile.hours[(hour + d) % 24])
                .sum();
            let share = f64::from(near) / f64::from(profile.logins);
            if share < s.unusual_hour_share {
                found.push(base(
                    FindingKind::UnusualLoginHour,
                    format!(
                        "{near} of {} past logins within an hour of {hour:02}:00 UTC (unusual below {:.0}%)",
                        profile.logins,
                        s.unusual_hour_share * 100.0
                    ),
                    format!("{hour:02}:00 UTC"),
                    format!(
                        "login for {user:?} at {hour:02}:00 UTC; {near} of {} past logins were within an hour of it",
                        profile.logins
                    ),
                ));
            }
        }
        for finding in found {
            self.report(out, finding);
        }
        // Learn (after judging).
        let profile = self.profiles.entry(user.to_owned()).or_default();
        profile.logins = profile.logins.saturating_add(1);
        if profile.hours.len() != 24 {
            profile.hours = vec![0; 24];
        }
        profile.hours[hour] = profile.hours[hour].saturating_add(1);
        if let Some(country) = &geo.country {
            remember(&mut profile.countries, country.clone());
        }
        if let Some(asn) = geo.asn {
            remember(&mut profile.asns, asn);
        }
        if let Some(network) = network {
            remember(&mut profile.networks, network);
        }
        if let Some(agent) = agent {
            remember(&mut profile.agents, agent);
        }
        profile.last_ms = now;
        profile.last_ip = event.source_ip;
        profile.last_evidence = Some(id.to_owned());
        if geo.location.is_some() {
            profile.last_location = geo.location;
            profile.last_country = geo.country.clone();
        }
        self.dirty.insert(format!("user:{user}"));
        bound(&mut self.profiles, s.max_tracked, |p| p.last_ms);
    }

    /// Feeds one request sample; returns the findings it completes.
    pub fn observe_request(&mut self, sample: &RequestSample) -> Vec<Finding> {
        let mut out = Vec::new();
        let now = sample.timestamp_ms;
        // Cheap: copies of small rules and an `Arc` (the loops below borrow `self` mutably).
        let s = self.settings.clone();
        let metrics = [
            Some(Metric::Requests),
            (sample.status >= 400).then_some(Metric::Errors),
            sample.blocked.then_some(Metric::Blocks),
        ];
        let user = sample.user.as_deref().map(normalise_user);
        // One key per dimension, reused for every metric (no clone per series lookup).
        let mut keys = [
            SeriesKey {
                metric: Metric::Requests,
                dimension: Dimension::Global,
            },
            SeriesKey {
                metric: Metric::Requests,
                dimension: Dimension::Ip(sample.source_ip),
            },
            SeriesKey {
                metric: Metric::Requests,
                dimension: Dimension::Route(sample.route.clone()),
            },
            SeriesKey {
                metric: Metric::Requests,
                dimension: Dimension::User(user.unwrap_or_default()),
            },
        ];
        let dimensions = if sample.user.is_some() { 4 } else { 3 };
        for metric in metrics.into_iter().flatten() {
            for key in &mut keys[..dimensions] {
                key.metric = metric;
                let (rule, seasonal) = match key.dimension {
                    Dimension::Global => (s.global_spike, true),
                    Dimension::Route(_) => (s.keyed_spike, true),
                    _ => (s.keyed_spike, false),
                };
                let add = |series: &mut RateSeries| {
                    let before = series.bucket_start();
                    let spike = series.add(now, 1, &rule);
                    (spike, series.bucket_start() != before)
                };
                // The common case finds the series without cloning the key.
                let (spike, rolled_over) = match self.series.get_mut(key) {
                    Some(series) => add(series),
                    None => {
                        let mut series = RateSeries::new(now, seasonal);
                        let added = add(&mut series);
                        self.series.insert(key.clone(), series);
                        added
                    }
                };
                if rolled_over {
                    self.dirty.insert(key.state_key());
                }
                if let Some(spike) = spike {
                    let finding = spike_finding(key, &spike, sample);
                    self.report(&mut out, finding);
                }
            }
        }
        bound(&mut self.series, s.max_tracked, RateSeries::bucket_start);

        // Scanner bursts: many distinct paths answered 4xx.
        if (400..500).contains(&sample.status) {
            let limit = s.scanner_paths;
            let window = self
                .client_errors_by_ip
                .entry(sample.source_ip)
                .or_default();
            window.push(
                Entry {
                    timestamp_ms: now,
                    value: Some(sample.path.chars().take(256).collect()),
                    evidence: sample.request_id.clone(),
                },
                limit.window_ms,
            );
            let paths = window.distinct(now, limit.window_ms, limit.count);
            if paths >= limit.count {
                let evidence = window.evidence(now, limit.window_ms);
                self.report(&mut out, Finding {
                    kind: FindingKind::ScannerBurst,
                    timestamp_ms: now,
                    severity: FindingKind::ScannerBurst.severity(),
                    source_ip: Some(sample.source_ip),
                    user: None,
                    route: None,
                    baseline: format!("distinct paths answered 4xx, limit {}", limit.describe()),
                    observed: paths.to_string(),
                    explanation: format!(
                        "{} requested {paths} different paths answered 4xx within {} (limit {})",
                        sample.source_ip,
                        describe_ms(limit.window_ms),
                        limit.count
                    ),
                    evidence,
                });
            }
            bound(
                &mut self.client_errors_by_ip,
                s.max_tracked,
                Window::last_ms,
            );
        }

        // Sensitive paths.
        if let Some(pattern) = s.sensitive_paths.matches(&sample.path) {
            let window = self.probes_by_ip.entry(sample.source_ip).or_default();
            window.push(
                Entry {
                    timestamp_ms: now,
                    value: Some(pattern.to_owned()),
                    evidence: sample.request_id.clone(),
                },
                s.cooldown_ms,
            );
            let evidence = window.evidence(now, s.cooldown_ms);
            let path: String = sample.path.chars().take(256).collect();
            self.report(&mut out, Finding {
                kind: FindingKind::SensitivePathProbe,
                timestamp_ms: now,
                severity: FindingKind::SensitivePathProbe.severity(),
                source_ip: Some(sample.source_ip),
                user: None,
                route: Some(sample.route.clone()),
                baseline: "requests for sensitive paths: none expected".to_owned(),
                observed: path.clone(),
                explanation: format!(
                    "{} requested the sensitive path {path:?} (pattern {pattern:?}; answered {})",
                    sample.source_ip, sample.status
                ),
                evidence,
            });
            bound(&mut self.probes_by_ip, s.max_tracked, Window::last_ms);
        }
        out
    }

    /// Baselines and profiles changed since the last call, as (key, JSON), for
    /// persisting; clears the dirty set.
    pub fn dirty_state(&mut self) -> Vec<(String, String)> {
        let dirty = std::mem::take(&mut self.dirty);
        let mut entries = Vec::with_capacity(dirty.len());
        for (key, series) in &self.series {
            let state_key = key.state_key();
            if dirty.contains(&state_key)
                && let Ok(json) = serde_json::to_string(&(key, series))
            {
                entries.push((state_key, json));
            }
        }
        for (user, profile) in &self.profiles {
            let state_key = format!("user:{user}");
            if dirty.contains(&state_key)
                && let Ok(json) = serde_json::to_string(profile)
            {
                entries.push((state_key, json));
            }
        }
        entries.sort();
        entries
    }

    /// Every baseline and profile, as (key, JSON).
    pub fn full_state(&mut self) -> Vec<(String, String)> {
        self.dirty
            .extend(self.series.keys().map(SeriesKey::state_key));
        self.dirty
            .extend(self.profiles.keys().map(|user| format!("user:{user}")));
        self.dirty_state()
    }

    /// Loads persisted state (entries that do not parse are skipped and counted).
    pub fn restore(&mut self, entries: &[(String, String)]) -> usize {
        let mut skipped = 0;
        for (key, json) in entries {
            if let Some(user) = key.strip_prefix("user:") {
                match serde_json::from_str::<UserProfile>(json) {
                    Ok(profile) => {
                        self.profiles.insert(user.to_owned(), profile);
                    }
                    Err(_) => skipped += 1,
                }
            } else if key.starts_with("series:") {
                match serde_json::from_str::<(SeriesKey, RateSeries)>(json) {
                    Ok((series_key, series)) => {
                        self.series.insert(series_key, series);
                    }
                    Err(_) => skipped += 1,
                }
            }
        }
        skipped
    }

    /// Number of (series, profiles) held.
    pub fn sizes(&self) -> (usize, usize) {
        (self.series.len(), self.profiles.len())
    }
}

fn spike_finding(key: &SeriesKey, spike: &Spike, sample: &RequestSample) -> Finding {
    let (source_ip, user, route, whose) = match &key.dimension {
        Dimension::Global => (None, None, None, "all clients".to_owned()),
        Dimension::Ip(ip) => (Some(*ip), None, None, format!("client {ip}")),
        Dimension::User(u) => (None, Some(u.clone()), None, format!("user {u:?}")),
        Dimension::Route(r) => (None, None, Some(r.clone()), format!("route {r:?}")),
    };
    let basis = if spike.seasonal {
        "hour-of-week baseline"
    } else {
        "median of the last hour"
    };
    Finding {
        kind: FindingKind::TrafficSpike,
        timestamp_ms: sample.timestamp_ms,
        severity: FindingKind::TrafficSpike.severity(),
        source_ip,
        user,
        route,
        baseline: format!(
            "{:.1} {} per minute ({basis})",
            spike.expected,
            key.metric.as_str()
        ),
        observed: spike.observed.to_string(),
        explanation: format!(
            "{} of {whose}: {} this minute, expected {:.1} ({basis}), threshold {:.0}, robust z {:.1}",
            key.metric.as_str(),
            spike.observed,
            spike.expected,
            spike.threshold,
            spike.z
        ),
        evidence: vec![sample.request_id.clone()],
    }
}

/// Account names compare case-insensitively and without surrounding space.
fn normalise_user(user: &str) -> String {
    user.trim()
        .chars()
        .take(256)
        .collect::<String>()
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_paths_match_segments_and_suffixes_only() {
        let paths = SensitivePaths::default();
        for hit in [
            "/.git/config",
            "/.env",
            "/app/.ENV",
            "/db.sql",
            "/index.php.bak",
            "/wp-admin/",
            "/BACKUP.SQL",
            "/.Git/HEAD?x=1",
        ] {
            assert!(paths.matches(hit).is_some(), "{hit}");
        }
        for miss in [
            "/",
            "/github",
            "/environment",
            "/docs/backup-policy",
            "/sql",
            "/bak",
            "/ok?file=.env",
        ] {
            assert_eq!(paths.matches(miss), None, "{miss}");
        }
        let long = format!("/{}", "a/".repeat(100_000));
        assert_eq!(paths.matches(&long), None);
    }

    #[test]
    fn agent_families_and_networks() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!(agent_family(chrome), "chrome");
        assert_eq!(agent_family("curl/8.5.0"), "curl");
        assert_eq!(agent_family("python-requests/2.31"), "python-requests");
        assert_eq!(agent_family(""), "unknown");
        assert_eq!(
            network_of("192.0.2.77".parse().expect("ip")),
            "192.0.2.0/24"
        );
        assert_eq!(
            network_of("2001:db8:1:2::1".parse().expect("ip")),
            "2001:db8:1::/48"
        );
    }
}
