//! Login protection: failed logins counted per account and per client IP in sliding windows,
//! account locks that double on repeat, per-IP throttling with exponential backoff, and
//! credential-stuffing detection (many accounts from one IP, many IPs on one account).
//!
//! The gateway never learns whether an account exists: every attempt on a login endpoint takes
//! the same path (one map lookup per account and per IP), so a refusal of a locked account takes
//! the same time as a refusal of a name nobody registered.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use http::{HeaderName, Method, StatusCode};
use regex::bytes::Regex;

use crate::AccessError;
use crate::store::AccountLock;

/// Most accounts and IPs tracked per map; beyond it idle entries are dropped first.
const MAX_TRACKED: usize = 100_000;
/// Most failure timestamps kept per account or IP.
const MAX_FAILURES_KEPT: usize = 1_024;
/// Longest user name kept (characters); longer names are cut.
const MAX_ACCOUNT_CHARS: usize = 256;

/// Where the user name of a login attempt is.
#[derive(Debug, Clone)]
pub(crate) enum UsernameSource {
    /// A urlencoded form field.
    Form(String),
    /// A JSON pointer into a JSON body.
    Json(String),
    /// A request header.
    Header(HeaderName),
}

impl UsernameSource {
    pub(crate) fn parse(text: &str) -> Result<Self, AccessError> {
        let (kind, name) = text.split_once(':').ok_or_else(|| {
            AccessError::invalid(format!(
                "login username {text:?}: expected form:FIELD, json:/pointer or header:NAME"
            ))
        })?;
        match kind {
            "form" if !name.is_empty() => Ok(UsernameSource::Form(name.to_owned())),
            "json" if name.starts_with('/') => Ok(UsernameSource::Json(name.to_owned())),
            "header" => HeaderName::try_from(name)
                .map(UsernameSource::Header)
                .map_err(|_| {
                    AccessError::invalid(format!("login username {text:?}: invalid header name"))
                }),
            _ => Err(AccessError::invalid(format!(
                "login username {text:?}: expected form:FIELD, json:/pointer (starting with /) or header:NAME"
            ))),
        }
    }

    /// True when the name is in the body (known in phase 2).
    pub(crate) fn in_body(&self) -> bool {
        !matches!(self, UsernameSource::Header(_))
    }

    /// The user name from a header.
    pub(crate) fn in_headers(&self, headers: &http::HeaderMap) -> Option<String> {
        match self {
            UsernameSource::Header(name) => headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(normalise_account)
                .filter(|name| !name.is_empty()),
            _ => None,
        }
    }

    /// The user name from a body.
    pub(crate) fn in_body_of(&self, body: &[u8]) -> Option<String> {
        let raw = match self {
            UsernameSource::Form(field) => body
                .split(|&b| b == b'&')
                .filter_map(|pair| {
                    let (name, value) = match pair.iter().position(|&b| b == b'=') {
                        Some(eq) => (&pair[..eq], &pair[eq + 1..]),
                        None => (pair, &pair[pair.len()..]),
                    };
                    (palisade_body::url_decode_nonstrict(name).0 == field.as_bytes())
                        .then(|| palisade_body::url_decode_nonstrict(value).0)
                })
                .next()
                .map(|value| String::from_utf8_lossy(&value).into_owned()),
            UsernameSource::Json(pointer) => serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|json| {
                    json.pointer(pointer)
                        .and_then(|v| v.as_str())
                        .map(str::to_owned)
                }),
            UsernameSource::Header(_) => None,
        }?;
        Some(normalise_account(&raw)).filter(|name| !name.is_empty())
    }
}

/// The account key of a user name: trimmed, lower case, at most 256 characters.
pub fn normalise_account(name: &str) -> String {
    name.trim()
        .chars()
        .take(MAX_ACCOUNT_CHARS)
        .flat_map(char::to_lowercase)
        .collect()
}

/// Thresholds of one login endpoint.
#[derive(Debug, Clone)]
pub(crate) struct LoginPolicy {
    pub max_failures: u32,
    pub window_ms: i64,
    pub lock_ms: i64,
    pub max_lock_ms: i64,
    pub ip_max_failures: u32,
    pub stuffing_accounts_per_ip: u32,
    pub stuffing_ips_per_account: u32,
}

/// One protected login endpoint.
#[derive(Debug)]
pub(crate) struct LoginEndpoint {
    pub path: String,
    pub method: Method,
    pub username: UsernameSource,
    pub failure_status: Vec<StatusCode>,
    pub failure_redirect: Option<String>,
    pub failure_body: Option<Regex>,
    pub policy: LoginPolicy,
    pub allow_networks: Vec<ipnet::IpNet>,
}

impl LoginEndpoint {
    pub(crate) fn from_config(
        login: &palisade_config::LoginProtection,
    ) -> Result<Self, AccessError> {
        let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let method =
            Method::from_bytes(login.method.to_ascii_uppercase().as_bytes()).map_err(|_| {
                AccessError::invalid(format!(
                    "login {}: invalid method {:?}",
                    login.path, login.method
                ))
            })?;
        let failure_status = login
            .failure_status
            .iter()
            .map(|&code| {
                StatusCode::from_u16(code).map_err(|_| {
                    AccessError::invalid(format!("login {}: invalid status {code}", login.path))
                })
            })
            .collect::<Result<_, _>>()?;
        let failure_body = login
            .failure_body
            .as_deref()
            .map(|pattern| {
                regex::bytes::RegexBuilder::new(pattern)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| {
                        AccessError::invalid(format!("login {}: failure_body: {e}", login.path))
                    })
            })
            .transpose()?;
        if login.max_failures == 0 {
            return Err(AccessError::invalid(format!(
                "login {}: max_failures must be at least 1",
                login.path
            )));
        }
        Ok(LoginEndpoint {
            path: login.path.clone(),
            method,
            username: UsernameSource::parse(&login.username)?,
            failure_status,
            failure_redirect: login.failure_redirect.clone(),
            failure_body,
            policy: LoginPolicy {
                max_failures: login.max_failures,
                window_ms: ms(login.window).max(1),
                lock_ms: ms(login.lock),
                max_lock_ms: ms(login.max_lock).max(ms(login.lock)),
                ip_max_failures: login.ip_max_failures,
                stuffing_accounts_per_ip: login.stuffing_accounts_per_ip,
                stuffing_ips_per_account: login.stuffing_ips_per_account,
            },
            allow_networks: login.allow_networks.clone(),
        })
    }

    pub(crate) fn matches(&self, method: &Method, path: &str) -> bool {
        *method == self.method && path == self.path
    }

    pub(crate) fn allowlisted(&self, ip: IpAddr) -> bool {
        self.allow_networks.iter().any(|net| net.contains(&ip))
    }

    /// Whether the response head says the login failed (`None`: it depends on the body).
    pub(crate) fn failed_by_head(
        &self,
        status: StatusCode,
        location: Option<&str>,
    ) -> Option<bool> {
        if self.failure_status.contains(&status) {
            return Some(true);
        }
        if let (Some(prefix), Some(location)) = (&self.failure_redirect, location)
            && status.is_redirection()
        {
            // A relative prefix also matches an absolute Location on the same path.
            let path = location
                .split_once("://")
                .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
                .unwrap_or(location);
            if location.starts_with(prefix.as_str()) || path.starts_with(prefix.as_str()) {
                return Some(true);
            }
        }
        if status.is_server_error() {
            // Neither a success nor a failure of the credentials.
            return Some(false);
        }
        if self.failure_body.is_some() {
            return None;
        }
        Some(false)
    }
}

/// Why an attempt is refused before it reaches the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    AccountLocked { retry_after_ms: i64 },
    IpThrottled { retry_after_ms: i64 },
}

impl Refusal {
    pub(crate) fn retry_after_secs(&self) -> u64 {
        let ms = match self {
            Refusal::AccountLocked { retry_after_ms } | Refusal::IpThrottled { retry_after_ms } => {
                *retry_after_ms
            }
        };
        u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1)
    }
}

/// What a recorded failure led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finding {
    /// The failure itself, with the account's failures in the window.
    Failed { account_failures: u32 },
    /// The account reached the limit and is locked.
    AccountLocked { until_ms: i64, repeat: u32 },
    /// The IP exceeded its limit and is throttled.
    IpThrottled { until_ms: i64 },
    /// Many accounts failed from one IP.
    StuffingFromIp { accounts: u32 },
    /// Many IPs failed on one account.
    StuffingOnAccount { ips: u32 },
}

#[derive(Debug, Default)]
struct AccountState {
    failures: VecDeque<i64>,
    ips: VecDeque<(IpAddr, i64)>,
    lock_until: i64,
    repeat: u32,
    persisted: bool,
    stuffing_reported_until: i64,
    last_ms: i64,
}

#[derive(Debug, Default)]
struct IpState {
    failures: VecDeque<i64>,
    accounts: VecDeque<(String, i64)>,
    throttle_until: i64,
    stuffing_reported_until: i64,
    last_ms: i64,
}

type AccountKey = (Arc<str>, String);
type IpKey = (Arc<str>, IpAddr);

#[derive(Debug, Default)]
struct LoginState {
    accounts: HashMap<AccountKey, AccountState>,
    ips: HashMap<IpKey, IpState>,
}

/// A change the background writer persists.
#[derive(Debug)]
pub(crate) enum LockWrite {
    Put(AccountLock),
    Delete { site: String, account: String },
}

/// Counters and locks of every login endpoint of a configuration.
#[derive(Debug)]
pub struct LoginGuard {
    state: Mutex<LoginState>,
    writes: Mutex<Option<std::sync::mpsc::Sender<LockWrite>>>,
}

impl Default for LoginGuard {
    fn default() -> Self {
        LoginGuard {
            state: Mutex::new(LoginState::default()),
            writes: Mutex::new(None),
        }
    }
}

fn prune(times: &mut VecDeque<i64>, since: i64) {
    while times.front().is_some_and(|&t| t < since) {
        times.pop_front();
    }
}

fn push_capped<T>(queue: &mut VecDeque<T>, item: T) {
    if queue.len() >= MAX_FAILURES_KEPT {
        queue.pop_front();
    }
    queue.push_back(item);
}

impl LoginGuard {
    pub(crate) fn set_writer(&self, sender: std::sync::mpsc::Sender<LockWrite>) {
        *self.writes.lock().unwrap_or_else(PoisonError::into_inner) = Some(sender);
    }

    fn write(&self, write: LockWrite) {
        if let Some(sender) = self
            .writes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            // The writer only goes away with the guard; a failed send loses persistence, not the lock.
            let _ = sender.send(write);
        }
    }

    /// Whether an attempt for `account` (normalised) from `ip` must be refused now.
    pub(crate) fn check(
        &self,
        site: &Arc<str>,
        account: Option<&str>,
        ip: IpAddr,
        now_ms: i64,
    ) -> Option<Refusal> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        // Both lookups always run, so the answer takes the same time for any name.
        let ip_until = state
            .ips
            .get(&(Arc::clone(site), ip))
            .map_or(0, |s| s.throttle_until);
        let account_until = state
            .accounts
            .get(&(Arc::clone(site), account.unwrap_or("").to_owned()))
            .map_or(0, |s| s.lock_until);
        drop(state);
        if account.is_some() && account_until > now_ms {
            return Some(Refusal::AccountLocked {
                retry_after_ms: account_until - now_ms,
            });
        }
        if ip_until > now_ms {
            return Some(Refusal::IpThrottled {
                retry_after_ms: ip_until - now_ms,
            });
        }
        None
    }

    /// Records a failed login; returns what it led to.
    pub(crate) fn record_failure(
        &self,
        site: &Arc<str>,
        account: Option<&str>,
        ip: IpAddr,
        policy: &LoginPolicy,
        now_ms: i64,
    ) -> Vec<Finding> {
        let since = now_ms - policy.window_ms;
        let mut findings = Vec::new();
        let mut persist = None;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *state;
        make_room(&mut state.ips, now_ms, |s| s.last_ms, |s| s.throttle_until);
        make_room(
            &mut state.accounts,
            now_ms,
            |s| s.last_ms,
            |s| s.lock_until.max(if s.repeat > 0 { i64::MAX } else { 0 }),
        );

        let ip_state = state.ips.entry((Arc::clone(site), ip)).or_default();
        ip_state.last_ms = now_ms;
        prune(&mut ip_state.failures, since);
        push_capped(&mut ip_state.failures, now_ms);
        if let Some(account) = account {
            ip_state
                .accounts
                .retain(|(name, at)| *at >= since && name != account);
            push_capped(&mut ip_state.accounts, (account.to_owned(), now_ms));
        }
        let ip_failures = u32::try_from(ip_state.failures.len()).unwrap_or(u32::MAX);
        if policy.ip_max_failures > 0 && ip_failures > policy.ip_max_failures {
            // 1 s, 2 s, 4 s, … per failure beyond the limit, at most the longest lock.
            let excess = (ip_failures - policy.ip_max_failures - 1).min(40);
            let backoff = 1000i64
                .saturating_mul(1i64 << excess)
                .min(policy.max_lock_ms);
            ip_state.throttle_until = ip_state.throttle_until.max(now_ms + backoff);
            findings.push(Finding::IpThrottled {
                until_ms: ip_state.throttle_until,
            });
        }
        let distinct_accounts = u32::try_from(ip_state.accounts.len()).unwrap_or(u32::MAX);
        if policy.stuffing_accounts_per_ip > 0
            && distinct_accounts >= policy.stuffing_accounts_per_ip
            && ip_state.stuffing_reported_until <= now_ms
        {
            ip_state.stuffing_reported_until = now_ms + policy.window_ms;
            // Stop the sweep: the IP waits as long as a first account lock.
            ip_state.throttle_until = ip_state.throttle_until.max(now_ms + policy.lock_ms);
            findings.push(Finding::StuffingFromIp {
                accounts: distinct_accounts,
            });
        }

        if let Some(account) = account {
            let entry = state
                .accounts
                .entry((Arc::clone(site), account.to_owned()))
                .or_default();
            entry.last_ms = now_ms;
            prune(&mut entry.failures, since);
            push_capped(&mut entry.failures, now_ms);
            entry.ips.retain(|(addr, at)| *at >= since && *addr != ip);
            push_capped(&mut entry.ips, (ip, now_ms));
            let failures = u32::try_from(entry.failures.len()).unwrap_or(u32::MAX);
            findings.insert(
                0,
                Finding::Failed {
                    account_failures: failures,
                },
            );
            if failures >= policy.max_failures && entry.lock_until <= now_ms {
                let factor = 1i64 << entry.repeat.min(30);
                let duration = policy
                    .lock_ms
                    .saturating_mul(factor)
                    .min(policy.max_lock_ms);
                entry.lock_until = now_ms + duration;
                entry.repeat = entry.repeat.saturating_add(1);
                entry.failures.clear();
                entry.persisted = false;
                findings.push(Finding::AccountLocked {
                    until_ms: entry.lock_until,
                    repeat: entry.repeat,
                });
                persist = Some(AccountLock {
                    site: site.to_string(),
                    account: account.to_owned(),
                    until_ms: entry.lock_until,
                    repeat: entry.repeat,
                });
            }
            let distinct_ips = u32::try_from(entry.ips.len()).unwrap_or(u32::MAX);
            if policy.stuffing_ips_per_account > 0
                && distinct_ips >= policy.stuffing_ips_per_account
                && entry.stuffing_reported_until <= now_ms
            {
                entry.stuffing_reported_until = now_ms + policy.window_ms;
                findings.push(Finding::StuffingOnAccount { ips: distinct_ips });
            }
        } else {
            findings.insert(
                0,
                Finding::Failed {
                    account_failures: 0,
                },
            );
        }
        if let Some(lock) = persist {
            // Sent under the state lock so the writer sees locks in the order they were made.
            self.write(LockWrite::Put(lock));
        }
        findings
    }

    /// Records a successful login: the account's failures and lock escalation start over.
    pub(crate) fn record_success(&self, site: &Arc<str>, account: &str) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = state
            .accounts
            .remove(&(Arc::clone(site), account.to_owned()))
            && entry.repeat > 0
        {
            self.write(LockWrite::Delete {
                site: site.to_string(),
                account: account.to_owned(),
            });
        }
    }

    /// Marks a lock as written to the store.
    pub(crate) fn mark_persisted(&self, site: &str, account: &str, until_ms: i64) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = state
            .accounts
            .get_mut(&(Arc::from(site), account.to_owned()))
            && entry.lock_until == until_ms
        {
            entry.persisted = true;
        }
    }

    /// Applies the stored locks: restores locks after a restart; drops persisted locks another
    /// process removed (`palisade accounts unlock`).
    pub(crate) fn apply_stored(&self, locks: &[AccountLock], sites: &[Arc<str>]) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let stored: HashMap<(&str, &str), &AccountLock> = locks
            .iter()
            .map(|lock| ((lock.site.as_str(), lock.account.as_str()), lock))
            .collect();
        state.accounts.retain(|(site, account), entry| {
            entry.repeat == 0
                || !entry.persisted
                || stored.contains_key(&(site.as_ref(), account.as_str()))
        });
        for lock in locks {
            let Some(site) = sites.iter().find(|s| s.as_ref() == lock.site) else {
                continue;
            };
            let entry = state
                .accounts
                .entry((Arc::clone(site), lock.account.clone()))
                .or_default();
            if entry.lock_until <= lock.until_ms {
                entry.lock_until = lock.until_ms;
                entry.repeat = entry.repeat.max(lock.repeat);
                entry.persisted = true;
            }
        }
    }
}

/// Keeps a map under [`MAX_TRACKED`] entries: drops idle entries, then every unlocked one.
fn make_room<K: Eq + std::hash::Hash, V>(
    map: &mut HashMap<K, V>,
    now_ms: i64,
    last: impl Fn(&V) -> i64,
    locked_until: impl Fn(&V) -> i64,
) {
    if map.len() < MAX_TRACKED {
        return;
    }
    // An hour without activity is idle for any sensible window.
    map.retain(|_, v| last(v) > now_ms - 3_600_000 || locked_until(v) > now_ms);
    if map.len() >= MAX_TRACKED / 2 {
        map.retain(|_, v| locked_until(v) > now_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LoginPolicy {
        LoginPolicy {
            max_failures: 3,
            window_ms: 600_000,
            lock_ms: 900_000,
            max_lock_ms: 3_600_000,
            ip_max_failures: 0,
            stuffing_accounts_per_ip: 4,
            stuffing_ips_per_account: 3,
        }
    }

    #[test]
    fn locks_after_max_failures_and_doubles_on_repeat() {
        let guard = LoginGuard::default();
        let site: Arc<str> = Arc::from("shop");
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let p = policy();
        for i in 0..2 {
            let findings = guard.record_failure(&site, Some("alice"), ip, &p, 1_000 + i);
            assert_eq!(
                findings,
                vec![Finding::Failed {
                    account_failures: (i + 1) as u32
                }]
            );
        }
        let findings = guard.record_failure(&site, Some("alice"), ip, &p, 1_002);
        assert!(findings.contains(&Finding::AccountLocked {
            until_ms: 901_002,
            repeat: 1
        }));
        assert_eq!(
            guard.check(&site, Some("alice"), ip, 2_000),
            Some(Refusal::AccountLocked {
                retry_after_ms: 899_002
            })
        );
        assert_eq!(guard.check(&site, Some("bob"), ip, 2_000), None);
        // After the lock: three more failures lock for twice as long, capped at max_lock.
        let later = 1_000_000;
        for i in 0..3 {
            guard.record_failure(&site, Some("alice"), ip, &p, later + i);
        }
        assert_eq!(
            guard.check(&site, Some("alice"), ip, later + 2),
            Some(Refusal::AccountLocked {
                retry_after_ms: 1_800_000
            })
        );
        guard.record_success(&site, "alice");
        assert_eq!(guard.check(&site, Some("alice"), ip, later + 3), None);
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let guard = LoginGuard::default();
        let site: Arc<str> = Arc::from("shop");
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let p = policy();
        guard.record_failure(&site, Some("carol"), ip, &p, 0);
        guard.record_failure(&site, Some("carol"), ip, &p, 1);
        let findings = guard.record_failure(&site, Some("carol"), ip, &p, 700_000);
        assert_eq!(
            findings,
            vec![Finding::Failed {
                account_failures: 1
            }]
        );
    }

    #[test]
    fn ip_throttle_backs_off_exponentially_before_account_locks() {
        let guard = LoginGuard::default();
        let site: Arc<str> = Arc::from("shop");
        let ip: IpAddr = "198.51.100.7".parse().expect("ip");
        let p = LoginPolicy {
            ip_max_failures: 2,
            max_failures: 100,
            stuffing_accounts_per_ip: 0,
            ..policy()
        };
        guard.record_failure(&site, Some("a"), ip, &p, 0);
        guard.record_failure(&site, Some("a"), ip, &p, 1);
        assert_eq!(guard.check(&site, Some("a"), ip, 2), None);
        guard.record_failure(&site, Some("a"), ip, &p, 2);
        assert_eq!(
            guard.check(&site, Some("zzz"), ip, 3),
            Some(Refusal::IpThrottled {
                retry_after_ms: 999
            })
        );
        guard.record_failure(&site, Some("a"), ip, &p, 3);
        assert_eq!(
            guard.check(&site, Some("a"), ip, 4),
            Some(Refusal::IpThrottled {
                retry_after_ms: 1_999
            })
        );
    }

    #[test]
    fn credential_stuffing_is_reported_once_per_window() {
        let guard = LoginGuard::default();
        let site: Arc<str> = Arc::from("shop");
        let attacker: IpAddr = "203.0.113.9".parse().expect("ip");
        let p = policy();
        let mut reports = 0;
        for (i, name) in ["u1", "u2", "u3", "u4", "u5"].iter().enumerate() {
            let findings = guard.record_failure(&site, Some(name), attacker, &p, i as i64);
            reports += findings
                .iter()
                .filter(|f| matches!(f, Finding::StuffingFromIp { .. }))
                .count();
        }
        assert_eq!(reports, 1);
        assert!(matches!(
            guard.check(&site, Some("u9"), attacker, 10),
            Some(Refusal::IpThrottled { .. })
        ));

        let mut on_account = 0;
        for i in 0..3u8 {
            let ip = IpAddr::from([10, 0, 0, i]);
            let findings = guard.record_failure(
                &site,
                Some("victim"),
                ip,
                &LoginPolicy {
                    max_failures: 100,
                    ..p.clone()
                },
                20 + i64::from(i),
            );
            on_account += findings
                .iter()
                .filter(|f| matches!(f, Finding::StuffingOnAccount { ips: 3 }))
                .count();
        }
        assert_eq!(on_account, 1);
    }

    #[test]
    fn stored_locks_are_restored_and_unlocks_applied() {
        let guard = LoginGuard::default();
        let site: Arc<str> = Arc::from("shop");
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let lock = AccountLock {
            site: "shop".into(),
            account: "dave".into(),
            until_ms: 10_000,
            repeat: 1,
        };
        guard.apply_stored(std::slice::from_ref(&lock), std::slice::from_ref(&site));
        assert!(guard.check(&site, Some("dave"), ip, 5_000).is_some());
        guard.apply_stored(&[], std::slice::from_ref(&site));
        assert_eq!(guard.check(&site, Some("dave"), ip, 5_000), None);
    }

    #[test]
    fn usernames_from_form_json_and_header() {
        let form = UsernameSource::parse("form:user").expect("form");
        assert_eq!(
            form.in_body_of(b"a=1&user=%20Alice%40Example.com&pw=x")
                .as_deref(),
            Some("alice@example.com")
        );
        assert_eq!(form.in_body_of(b"pw=x").as_deref(), None);
        let json = UsernameSource::parse("json:/credentials/name").expect("json");
        assert_eq!(
            json.in_body_of(br#"{"credentials":{"name":"Bob"}}"#)
                .as_deref(),
            Some("bob")
        );
        assert_eq!(json.in_body_of(b"not json").as_deref(), None);
        let header = UsernameSource::parse("header:X-User").expect("header");
        let mut headers = http::HeaderMap::new();
        headers.insert("x-user", http::HeaderValue::from_static("Carol"));
        assert_eq!(header.in_headers(&headers).as_deref(), Some("carol"));
        assert!(UsernameSource::parse("cookie:x").is_err());
        assert!(UsernameSource::parse("json:name").is_err());
    }
}
