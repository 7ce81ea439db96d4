//! Login protection: failed logins counted per account and per client IP in sliding windows,
//! account locks that double on repeat, per-IP throttling with exponential backoff, and
//! credential-stuffing detection (many accounts from one IP, many IPs on one account).
//!
//! Counters and locks live in the process's [`StateStore`], so with `[state] backend = "redis"`
//! a lock earned through one gateway is enforced by every gateway sharing that Redis, and
//! `palisade accounts list | unlock` act on the shared state; with the local backend locks are
//! persisted in `<data_dir>/state.sqlite3` and survive a restart.
//!
//! The gateway never learns whether an account exists: every attempt on a login endpoint takes
//! the same path (one lock lookup for the account and one for the IP, whether or not a name was
//! given), so a refusal of a locked account takes the same time as a refusal of a name nobody
//! registered.

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderName, Method, StatusCode};
use palisade_state::{BlockTtl, Clock, Escalation, LockInfo, StateError, StateStore};
use regex::bytes::Regex;

use crate::AccessError;
use crate::store::{AccessStore, AccountLock};

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

    /// What the response head says about the login (`None`: it depends on the body, see
    /// [`LoginEndpoint::outcome_by_body`]).
    pub(crate) fn outcome_by_head(
        &self,
        status: StatusCode,
        location: Option<&str>,
    ) -> Option<LoginOutcome> {
        if self.failure_status.contains(&status) {
            return Some(LoginOutcome::Failed);
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
                return Some(LoginOutcome::Failed);
            }
        }
        if status.is_server_error() {
            // Neither a success nor a failure of the credentials.
            return Some(LoginOutcome::Inconclusive);
        }
        if self.failure_body.is_some() {
            return None;
        }
        Some(LoginOutcome::of_status(status))
    }

    /// What the response body says, when the head did not decide: a body matching
    /// `failure_body` is a failure (whatever the status); otherwise the status decides.
    pub(crate) fn outcome_by_body(&self, status: StatusCode, body: &[u8]) -> LoginOutcome {
        if self
            .failure_body
            .as_ref()
            .is_some_and(|re| re.is_match(body))
        {
            LoginOutcome::Failed
        } else {
            LoginOutcome::of_status(status)
        }
    }
}

/// What a login endpoint's answer says about the credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginOutcome {
    /// A failure by the endpoint's failure rules: counted.
    Failed,
    /// Not a failure, and a 2xx or 3xx answer: the account's failures start over.
    Succeeded,
    /// Neither (a 5xx, or a 4xx the failure rules do not name): nothing is counted or cleared.
    Inconclusive,
}

impl LoginOutcome {
    /// The outcome of an answer that no failure rule matched.
    fn of_status(status: StatusCode) -> Self {
        if status.is_success() || status.is_redirection() {
            LoginOutcome::Succeeded
        } else {
            LoginOutcome::Inconclusive
        }
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

/// The state-store keys of login protection. Every key starts with `login:` so it never meets
/// a rate limit's or quota's; site names (host names) never contain the separator `\x1f`.
mod keys {
    use std::net::IpAddr;

    /// Prefix of every account lock (what `palisade accounts list` reads).
    pub(super) const LOCK_PREFIX: &str = "login:lock:";
    pub(super) const SEPARATOR: char = '\u{1f}';

    /// The lock of `account` on `site`.
    pub(super) fn lock(site: &str, account: &str) -> String {
        format!("{LOCK_PREFIX}{site}{SEPARATOR}{account}")
    }

    /// Failed logins of an account (sliding window).
    pub(super) fn account_failures(site: &str, account: &str) -> String {
        format!("login:fail:{site}{SEPARATOR}{account}")
    }

    /// Failed logins from an IP (sliding window).
    pub(super) fn ip_failures(site: &str, ip: IpAddr) -> String {
        format!("login:ipfail:{site}{SEPARATOR}{ip}")
    }

    /// The throttle of an IP (a lock).
    pub(super) fn ip_throttle(site: &str, ip: IpAddr) -> String {
        format!("login:throttle:{site}{SEPARATOR}{ip}")
    }

    /// Failures of one account from one IP: the first in a window makes a new pair.
    pub(super) fn pair(site: &str, ip: IpAddr, account: &str) -> String {
        format!("login:pair:{site}{SEPARATOR}{ip}{SEPARATOR}{account}")
    }

    /// New (account, IP) pairs from an IP: the accounts it tried.
    pub(super) fn accounts_of_ip(site: &str, ip: IpAddr) -> String {
        format!("login:ipaccounts:{site}{SEPARATOR}{ip}")
    }

    /// New (account, IP) pairs on an account: the IPs that tried it.
    pub(super) fn ips_of_account(site: &str, account: &str) -> String {
        format!("login:accountips:{site}{SEPARATOR}{account}")
    }

    /// Marks a credential-stuffing report (a lock lasting one window).
    pub(super) fn reported(kind: &str, site: &str, subject: &str) -> String {
        format!("login:reported:{kind}:{site}{SEPARATOR}{subject}")
    }

    /// Site and account of a lock key.
    pub(super) fn parse_lock(key: &str) -> Option<(&str, &str)> {
        key.strip_prefix(LOCK_PREFIX)?.split_once(SEPARATOR)
    }
}

/// How long an account's lock count is remembered after a lock ends: a lock within a day of the
/// previous one lasts twice as long. A successful login or `palisade accounts unlock` forgets it.
const ESCALATION_MEMORY: Duration = Duration::from_secs(24 * 3600);

/// At most one "state unreachable" event per this interval per process.
const DEGRADED_EVENT_EVERY_MS: i64 = 10_000;

/// Counters and locks of every login endpoint, kept in the [`StateStore`]: in this process
/// (locks persisted in `state.sqlite3`) or in Redis, shared by every gateway using it.
///
/// Store errors never refuse or hang a request: while Redis is unreachable the store answers
/// from its local fallback or by the configured lock fail mode (`[state.fail_modes] lock`);
/// other errors are logged and the attempt is judged without that piece of state.
#[derive(Debug)]
pub struct LoginGuard {
    state: StateStore,
    clock: Clock,
    degraded_reported_ms: AtomicI64,
}

fn ms_since_epoch(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The value of a store answer, or `fallback` (logged) when the store failed.
fn or_log<T>(result: Result<T, StateError>, what: &'static str, fallback: T) -> T {
    result.unwrap_or_else(|error| {
        tracing::warn!(%error, what, "login protection: state store operation failed");
        fallback
    })
}

impl LoginGuard {
    /// A guard keeping its counters and locks in `state`.
    pub fn new(state: StateStore) -> Self {
        LoginGuard::with_clock(state, Clock::system())
    }

    /// A guard whose retry times are computed with `clock` (the store's clock, in tests).
    pub(crate) fn with_clock(state: StateStore, clock: Clock) -> Self {
        LoginGuard {
            state,
            clock,
            degraded_reported_ms: AtomicI64::new(i64::MIN),
        }
    }

    /// True once per [`DEGRADED_EVENT_EVERY_MS`] while the state backend is unreachable: the
    /// caller then records that login locks are decided by the fail mode.
    pub(crate) fn report_degraded(&self) -> bool {
        if self.state.is_available() {
            return false;
        }
        let now = self.clock.now_ms();
        let last = self.degraded_reported_ms.load(Ordering::Relaxed);
        now.saturating_sub(last) >= DEGRADED_EVENT_EVERY_MS
            && self
                .degraded_reported_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Whether an attempt for `account` (normalised) from `ip` must be refused now.
    pub(crate) fn check(&self, site: &str, account: Option<&str>, ip: IpAddr) -> Option<Refusal> {
        let store = self.state.blocking();
        // Both lookups always run, so the answer takes the same time for any name.
        let account_lock = or_log(
            store.locked_until(&keys::lock(site, account.unwrap_or(""))),
            "read account lock",
            None,
        );
        let ip_throttle = or_log(
            store.locked_until(&keys::ip_throttle(site, ip)),
            "read IP throttle",
            None,
        );
        let now = self.clock.now_ms();
        let until = |lock: Option<LockInfo>| lock.map_or(0, |lock| ms_since_epoch(lock.until));
        let (account_until, ip_until) = (until(account_lock), until(ip_throttle));
        if account.is_some() && account_until > now {
            return Some(Refusal::AccountLocked {
                retry_after_ms: account_until - now,
            });
        }
        if ip_until > now {
            return Some(Refusal::IpThrottled {
                retry_after_ms: ip_until - now,
            });
        }
        None
    }

    /// Records a failed login; returns what it led to.
    pub(crate) fn record_failure(
        &self,
        site: &str,
        account: Option<&str>,
        ip: IpAddr,
        policy: &LoginPolicy,
    ) -> Vec<Finding> {
        let store = self.state.blocking();
        let window = Duration::from_millis(u64::try_from(policy.window_ms).unwrap_or(1).max(1));
        let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        let mut findings = Vec::new();

        let ip_failures = count(or_log(
            store.hit(&keys::ip_failures(site, ip), window),
            "count IP failures",
            0,
        ));
        if policy.ip_max_failures > 0 && ip_failures > policy.ip_max_failures {
            // 1 s, 2 s, 4 s, … per failure beyond the limit, at most the longest lock.
            let excess = (ip_failures - policy.ip_max_failures - 1).min(40);
            let backoff = 1000i64
                .saturating_mul(1i64 << excess)
                .min(policy.max_lock_ms);
            let until_ms = self.throttle(site, ip, backoff);
            findings.push(Finding::IpThrottled { until_ms });
        }
        // A new (account, IP) pair in the window counts once for each side's stuffing check.
        let stuffing_checked =
            policy.stuffing_accounts_per_ip > 0 || policy.stuffing_ips_per_account > 0;
        let new_pair = match account {
            Some(account) if stuffing_checked => {
                or_log(
                    store.hit(&keys::pair(site, ip, account), window),
                    "count account and IP pair",
                    0,
                ) == 1
            }
            _ => false,
        };
        if account.is_some() && policy.stuffing_accounts_per_ip > 0 {
            let key = keys::accounts_of_ip(site, ip);
            let accounts = count(or_log(
                if new_pair {
                    store.hit(&key, window)
                } else {
                    store.count(&key, window)
                },
                "count accounts of an IP",
                0,
            ));
            if accounts >= policy.stuffing_accounts_per_ip
                && self.first_report("ip", site, &ip.to_string(), window)
            {
                // Stop the sweep: the IP waits as long as a first account lock.
                self.throttle(site, ip, policy.lock_ms);
                findings.push(Finding::StuffingFromIp { accounts });
            }
        }

        let Some(account) = account else {
            findings.insert(
                0,
                Finding::Failed {
                    account_failures: 0,
                },
            );
            return findings;
        };
        let failures_key = keys::account_failures(site, account);
        let failures = count(or_log(
            store.hit(&failures_key, window),
            "count account failures",
            0,
        ));
        findings.insert(
            0,
            Finding::Failed {
                account_failures: failures,
            },
        );
        if failures >= policy.max_failures {
            let lock_key = keys::lock(site, account);
            let now = self.clock.now_ms();
            let locked = or_log(store.locked_until(&lock_key), "read account lock", None)
                .is_some_and(|lock| ms_since_epoch(lock.until) > now);
            if !locked {
                let escalation = BlockTtl::Escalating(Escalation {
                    base: Duration::from_millis(u64::try_from(policy.lock_ms).unwrap_or(0)),
                    max: Duration::from_millis(u64::try_from(policy.max_lock_ms).unwrap_or(0)),
                    forget_after: ESCALATION_MEMORY,
                });
                match store.lock(&lock_key, escalation) {
                    Ok(lock) => {
                        or_log(store.reset(&failures_key), "reset account failures", ());
                        findings.push(Finding::AccountLocked {
                            until_ms: ms_since_epoch(lock.until),
                            repeat: lock.repeat.saturating_add(1),
                        });
                    }
                    Err(error) => {
                        tracing::warn!(%error, "login protection: account lock not recorded");
                    }
                }
            }
        }
        if policy.stuffing_ips_per_account > 0 {
            let key = keys::ips_of_account(site, account);
            let ips = count(or_log(
                if new_pair {
                    store.hit(&key, window)
                } else {
                    store.count(&key, window)
                },
                "count IPs of an account",
                0,
            ));
            if ips >= policy.stuffing_ips_per_account
                && self.first_report("account", site, account, window)
            {
                findings.push(Finding::StuffingOnAccount { ips });
            }
        }
        findings
    }

    /// Throttles `ip` for `duration_ms` unless it already waits longer; returns the end (ms).
    fn throttle(&self, site: &str, ip: IpAddr, duration_ms: i64) -> i64 {
        let store = self.state.blocking();
        let key = keys::ip_throttle(site, ip);
        let now = self.clock.now_ms();
        let current = or_log(store.locked_until(&key), "read IP throttle", None)
            .map_or(0, |lock| ms_since_epoch(lock.until));
        let wanted = now.saturating_add(duration_ms);
        if current >= wanted {
            return current;
        }
        let duration = Duration::from_millis(u64::try_from(duration_ms).unwrap_or(0));
        match store.lock(&key, BlockTtl::Fixed(duration)) {
            Ok(lock) => ms_since_epoch(lock.until),
            Err(error) => {
                tracing::warn!(%error, "login protection: IP throttle not recorded");
                current
            }
        }
    }

    /// True the first time in `window` a stuffing report of this kind is made for `subject`.
    fn first_report(&self, kind: &str, site: &str, subject: &str, window: Duration) -> bool {
        let store = self.state.blocking();
        let key = keys::reported(kind, site, subject);
        if or_log(store.locked_until(&key), "read stuffing report", None).is_some() {
            return false;
        }
        or_log(
            store.lock(&key, BlockTtl::Fixed(window)).map(drop),
            "record stuffing report",
            (),
        );
        true
    }

    /// Records a successful login: the account's failures and lock escalation start over (the
    /// address's failures are kept: one valid account must not clear an attacker's record).
    /// Returns the account's failures in the window before this success.
    pub(crate) fn record_success(&self, site: &str, account: &str, policy: &LoginPolicy) -> u32 {
        let store = self.state.blocking();
        let window = Duration::from_millis(u64::try_from(policy.window_ms).unwrap_or(1).max(1));
        let failures_key = keys::account_failures(site, account);
        let failures = or_log(
            store.count(&failures_key, window),
            "count account failures",
            0,
        );
        or_log(store.reset(&failures_key), "reset account failures", ());
        or_log(
            store.unlock(&keys::lock(site, account)).map(drop),
            "forget account lock",
            (),
        );
        u32::try_from(failures).unwrap_or(u32::MAX)
    }
}

/// Account locks in `state` (active ones, and ended ones remembered for escalation), sorted by
/// site and account. What `palisade accounts list` shows, from the gateway's own store.
pub fn account_locks(state: &StateStore) -> Result<Vec<AccountLock>, AccessError> {
    let listed = state
        .blocking()
        .locks(keys::LOCK_PREFIX)
        .map_err(|error| AccessError::state("list account locks", error))?;
    Ok(listed
        .into_iter()
        .filter_map(|(key, lock)| {
            let (site, account) = keys::parse_lock(&key)?;
            Some(AccountLock {
                site: site.to_owned(),
                account: account.to_owned(),
                until_ms: ms_since_epoch(lock.until),
                repeat: lock.repeat.saturating_add(1),
            })
        })
        .collect())
}

/// Moves the account locks older gateways kept in the legacy table of `<data_dir>/access.sqlite3`
/// into `state`, so an upgraded gateway keeps enforcing them: every lock still in force is
/// written under the key the guard reads, ending when it ended and with its repeat count (the
/// account's next lock doubles as it would have); then the table's rows, expired ones too, are
/// deleted. A crash between the two steps loses nothing: the rows are read again at the next
/// start, and a lock already in the state store until at least as late is kept as it is. Returns
/// how many locks in force are now in the state store.
///
/// Refuses (and deletes nothing) while the state store is unreachable: Redis's local fallback
/// would keep the locks in this process only.
pub fn migrate_legacy_locks(
    store: &mut AccessStore,
    state: &StateStore,
) -> Result<usize, AccessError> {
    let legacy = store.legacy_locks()?;
    if legacy.is_empty() {
        return Ok(0);
    }
    if !state.is_available() {
        return Err(AccessError::state_unreachable(
            "legacy account locks not moved into the state store",
        ));
    }
    let blocking = state.blocking();
    let mut migrated = 0;
    for lock in &legacy {
        let remaining = lock.until_ms.saturating_sub(crate::store::now_ms());
        if remaining <= 0 {
            continue;
        }
        let key = keys::lock(&lock.site, &lock.account);
        let current = blocking
            .locked_until(&key)
            .map_err(|error| AccessError::state("read account lock", error))?;
        if current.is_none_or(|current| ms_since_epoch(current.until) < lock.until_ms) {
            let remaining = Duration::from_millis(u64::try_from(remaining).unwrap_or(0));
            restore_lock(&blocking, &key, remaining, lock.repeat)
                .map_err(|error| AccessError::state("write account lock", error))?;
        }
        migrated += 1;
    }
    if !state.is_available() {
        // Redis went away while writing: what it did not take is only in the local fallback.
        return Err(AccessError::state_unreachable(
            "legacy account locks not moved into the state store",
        ));
    }
    store.delete_legacy_locks(&legacy)?;
    tracing::info!(
        migrated,
        expired = legacy.len() - migrated,
        backend = state.backend_name(),
        "login locks of the legacy access.sqlite3 table moved into the state store"
    );
    Ok(migrated)
}

/// Lock counts restored at most: [`Escalation::ttl`] stops doubling after 31 repeats.
const MAX_RESTORED_LOCKS: u32 = 32;

/// Makes `key` a lock ending `remaining` from now that is lock number `locks` (1 = the first) of
/// its escalation. The state store writes locks only by locking, counting a lock within
/// [`ESCALATION_MEMORY`] of the previous one as its repeat: so the key's record is removed, then
/// locked `locks` times in a row with an escalation whose every step lasts `remaining`.
fn restore_lock(
    store: &palisade_state::Blocking<'_>,
    key: &str,
    remaining: Duration,
    locks: u32,
) -> Result<LockInfo, StateError> {
    let every_step = BlockTtl::Escalating(Escalation {
        base: remaining,
        max: remaining,
        forget_after: ESCALATION_MEMORY,
    });
    store.unlock(key)?;
    let mut lock = store.lock(key, every_step)?;
    for _ in 1..locks.clamp(1, MAX_RESTORED_LOCKS) {
        lock = store.lock(key, every_step)?;
    }
    Ok(lock)
}

/// Lifts the lock of `account` (normalised here) and forgets its escalation: on `site`, or on
/// every site with a lock record for it (plus `known_sites`, for names too long to list) when
/// `None`. Running gateways sharing the store enforce it at once (Redis) or within a second
/// (the local store's file). Returns how many active locks were lifted.
pub fn unlock_account(
    state: &StateStore,
    account: &str,
    site: Option<&str>,
    known_sites: &[String],
) -> Result<usize, AccessError> {
    let account = normalise_account(account);
    let mut sites: Vec<String> = match site {
        Some(site) => vec![site.to_owned()],
        None => {
            let mut sites: Vec<String> = account_locks(state)?
                .into_iter()
                .filter(|lock| lock.account == account)
                .map(|lock| lock.site)
                .collect();
            sites.extend(known_sites.iter().cloned());
            sites
        }
    };
    sites.sort();
    sites.dedup();
    let store = state.blocking();
    let mut lifted = 0;
    for site in &sites {
        if store
            .unlock(&keys::lock(site, &account))
            .map_err(|error| AccessError::state("unlock account", error))?
        {
            lifted += 1;
        }
        store
            .reset(&keys::account_failures(site, &account))
            .map_err(|error| AccessError::state("reset account failures", error))?;
    }
    Ok(lifted)
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

    /// A guard over an in-memory store on a manual clock, and a way to set the time (ms after
    /// the start).
    fn guard() -> (LoginGuard, impl Fn(i64)) {
        let start = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let clock = Clock::manual(start);
        let guard = LoginGuard::with_clock(
            StateStore::in_memory_with_clock(clock.clone()),
            clock.clone(),
        );
        let at = move |ms: i64| {
            let target = ms_since_epoch(start) + ms;
            let now = clock.now_ms();
            assert!(target >= now, "time goes forward");
            clock.advance(Duration::from_millis((target - now) as u64));
        };
        (guard, at)
    }

    const T0: i64 = 1_800_000_000_000;

    #[test]
    fn locks_after_max_failures_and_doubles_on_repeat() {
        let (guard, at) = guard();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let p = policy();
        for i in 0..2 {
            at(1_000 + i);
            let findings = guard.record_failure("shop", Some("alice"), ip, &p);
            assert_eq!(
                findings,
                vec![Finding::Failed {
                    account_failures: (i + 1) as u32
                }]
            );
        }
        at(1_002);
        let findings = guard.record_failure("shop", Some("alice"), ip, &p);
        assert!(
            findings.contains(&Finding::AccountLocked {
                until_ms: T0 + 901_002,
                repeat: 1
            }),
            "{findings:?}"
        );
        at(2_000);
        assert_eq!(
            guard.check("shop", Some("alice"), ip),
            Some(Refusal::AccountLocked {
                retry_after_ms: 899_002
            })
        );
        assert_eq!(guard.check("shop", Some("bob"), ip), None);
        assert_eq!(guard.check("other-site", Some("alice"), ip), None);
        // After the lock: three more failures lock for twice as long, capped at max_lock.
        let later = 1_000_000;
        for i in 0..3 {
            at(later + i);
            guard.record_failure("shop", Some("alice"), ip, &p);
        }
        assert_eq!(
            guard.check("shop", Some("alice"), ip),
            Some(Refusal::AccountLocked {
                retry_after_ms: 1_800_000
            })
        );
        assert_eq!(
            guard.record_success("shop", "alice", &p),
            0,
            "a lock reset the count"
        );
        at(later + 3);
        assert_eq!(guard.check("shop", Some("alice"), ip), None);
    }

    #[test]
    fn a_success_reports_and_clears_the_accounts_failures_but_not_the_addresss() {
        let (guard, at) = guard();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let p = LoginPolicy {
            ip_max_failures: 3,
            ..policy()
        };
        for i in 0..2 {
            at(i);
            guard.record_failure("shop", Some("frank"), ip, &p);
        }
        at(10);
        assert_eq!(guard.record_success("shop", "frank", &p), 2);
        assert_eq!(guard.record_success("shop", "frank", &p), 0, "cleared");
        // Two more failures of the account do not lock it (the count started over) ...
        at(20);
        guard.record_failure("shop", Some("frank"), ip, &p);
        at(21);
        let findings = guard.record_failure("shop", Some("frank"), ip, &p);
        assert!(
            findings.contains(&Finding::Failed {
                account_failures: 2
            }),
            "{findings:?}"
        );
        assert!(
            !findings
                .iter()
                .any(|f| matches!(f, Finding::AccountLocked { .. })),
            "{findings:?}"
        );
        // ... but the address's four failures throttle it: a success does not clear those.
        at(22);
        assert!(matches!(
            guard.check("shop", Some("someone"), ip),
            Some(Refusal::IpThrottled { .. })
        ));
    }

    #[test]
    fn only_2xx_and_3xx_answers_that_no_failure_rule_matches_are_successes() {
        let config = |extra: serde_json::Value| -> palisade_config::LoginProtection {
            let mut login = serde_json::json!({"path": "/login", "username": "form:user"});
            if let (Some(login), Some(extra)) = (login.as_object_mut(), extra.as_object()) {
                login.extend(extra.clone());
            }
            serde_json::from_value(login).expect("login config")
        };
        let plain = LoginEndpoint::from_config(&config(serde_json::json!({}))).expect("endpoint");
        let status = |code: u16| StatusCode::from_u16(code).expect("status");
        for (code, expected) in [
            (200, LoginOutcome::Succeeded),
            (204, LoginOutcome::Succeeded),
            (302, LoginOutcome::Succeeded),
            (303, LoginOutcome::Succeeded),
            (401, LoginOutcome::Failed),
            (403, LoginOutcome::Failed),
            (400, LoginOutcome::Inconclusive),
            (429, LoginOutcome::Inconclusive),
            (500, LoginOutcome::Inconclusive),
            (503, LoginOutcome::Inconclusive),
        ] {
            assert_eq!(
                plain.outcome_by_head(status(code), None),
                Some(expected),
                "{code}"
            );
        }
        let redirect = LoginEndpoint::from_config(&config(
            serde_json::json!({"failure_redirect": "/login?error"}),
        ))
        .expect("endpoint");
        assert_eq!(
            redirect.outcome_by_head(status(302), Some("https://shop.example/login?error=1")),
            Some(LoginOutcome::Failed)
        );
        assert_eq!(
            redirect.outcome_by_head(status(302), Some("/account")),
            Some(LoginOutcome::Succeeded)
        );
        let body = LoginEndpoint::from_config(&config(
            serde_json::json!({"failure_body": "(?i)invalid password"}),
        ))
        .expect("endpoint");
        assert_eq!(
            body.outcome_by_head(status(200), None),
            None,
            "the body decides"
        );
        assert_eq!(
            body.outcome_by_body(status(200), b"<p>Invalid password</p>"),
            LoginOutcome::Failed
        );
        assert_eq!(
            body.outcome_by_body(status(200), b"<p>Welcome back</p>"),
            LoginOutcome::Succeeded
        );
        assert_eq!(
            body.outcome_by_body(status(400), b"<p>Invalid password</p>"),
            LoginOutcome::Failed
        );
        assert_eq!(
            body.outcome_by_body(status(400), b"bad request"),
            LoginOutcome::Inconclusive
        );
        assert_eq!(
            body.outcome_by_head(status(502), None),
            Some(LoginOutcome::Inconclusive)
        );
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let (guard, at) = guard();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let p = policy();
        guard.record_failure("shop", Some("carol"), ip, &p);
        at(1);
        guard.record_failure("shop", Some("carol"), ip, &p);
        at(700_000);
        let findings = guard.record_failure("shop", Some("carol"), ip, &p);
        assert_eq!(
            findings,
            vec![Finding::Failed {
                account_failures: 1
            }]
        );
    }

    #[test]
    fn ip_throttle_backs_off_exponentially_before_account_locks() {
        let (guard, at) = guard();
        let ip: IpAddr = "198.51.100.7".parse().expect("ip");
        let p = LoginPolicy {
            ip_max_failures: 2,
            max_failures: 100,
            stuffing_accounts_per_ip: 0,
            ..policy()
        };
        guard.record_failure("shop", Some("a"), ip, &p);
        at(1);
        guard.record_failure("shop", Some("a"), ip, &p);
        at(2);
        assert_eq!(guard.check("shop", Some("a"), ip), None);
        guard.record_failure("shop", Some("a"), ip, &p);
        at(3);
        assert_eq!(
            guard.check("shop", Some("zzz"), ip),
            Some(Refusal::IpThrottled {
                retry_after_ms: 999
            })
        );
        guard.record_failure("shop", Some("a"), ip, &p);
        at(4);
        assert_eq!(
            guard.check("shop", Some("a"), ip),
            Some(Refusal::IpThrottled {
                retry_after_ms: 1_999
            })
        );
        assert_eq!(
            guard.check("shop", None, "198.51.100.8".parse().expect("ip")),
            None
        );
    }

    #[test]
    fn credential_stuffing_is_reported_once_per_window() {
        let (guard, at) = guard();
        let attacker: IpAddr = "203.0.113.9".parse().expect("ip");
        let p = policy();
        let mut reports = 0;
        for (i, name) in ["u1", "u2", "u3", "u4", "u5"].iter().enumerate() {
            at(i as i64);
            let findings = guard.record_failure("shop", Some(name), attacker, &p);
            reports += findings
                .iter()
                .filter(|f| matches!(f, Finding::StuffingFromIp { accounts: 4 }))
                .count();
        }
        assert_eq!(reports, 1);
        at(10);
        assert!(matches!(
            guard.check("shop", Some("u9"), attacker),
            Some(Refusal::IpThrottled { .. })
        ));

        let mut on_account = 0;
        for i in 0..4u8 {
            at(20 + i64::from(i));
            // The same IP twice is one IP.
            let ip = IpAddr::from([10, 0, 0, i.min(2)]);
            let findings = guard.record_failure(
                "shop",
                Some("victim"),
                ip,
                &LoginPolicy {
                    max_failures: 100,
                    ..p.clone()
                },
            );
            on_account += findings
                .iter()
                .filter(|f| matches!(f, Finding::StuffingOnAccount { ips: 3 }))
                .count();
        }
        assert_eq!(on_account, 1);
    }

    #[test]
    fn locks_survive_a_restart_of_the_local_store_and_unlock_lifts_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        {
            let state = StateStore::open_local(dir.path()).expect("store");
            let guard = LoginGuard::new(state);
            for _ in 0..3 {
                guard.record_failure("shop", Some("dave"), ip, &policy());
            }
            assert!(guard.check("shop", Some("dave"), ip).is_some());
        }
        let state = StateStore::open_local(dir.path()).expect("reopened");
        let guard = LoginGuard::new(state.clone());
        assert!(
            matches!(
                guard.check("shop", Some("dave"), ip),
                Some(Refusal::AccountLocked { .. })
            ),
            "the lock survives a restart"
        );
        let locks = account_locks(&state).expect("list");
        assert_eq!(locks.len(), 1);
        assert_eq!(
            (locks[0].site.as_str(), locks[0].account.as_str()),
            ("shop", "dave")
        );
        assert_eq!(locks[0].repeat, 1);
        assert_eq!(
            unlock_account(&state, " Dave", None, &[]).expect("unlock"),
            1
        );
        assert_eq!(guard.check("shop", Some("dave"), ip), None);
        assert!(account_locks(&state).expect("list").is_empty());
        assert_eq!(unlock_account(&state, "dave", None, &[]).expect("again"), 0);
    }

    /// A lock moved from the legacy table keeps its end and its place in the escalation.
    #[test]
    fn a_restored_lock_lasts_its_remaining_time_and_the_next_one_doubles_on() {
        let (guard, at) = guard();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let lock = restore_lock(
            &guard.state.blocking(),
            &keys::lock("shop", "frank"),
            Duration::from_secs(100),
            2,
        )
        .expect("restore");
        assert_eq!(lock.repeat, 1, "the second lock in a row");
        assert_eq!(
            guard.check("shop", Some("frank"), ip),
            Some(Refusal::AccountLocked {
                retry_after_ms: 100_000
            })
        );
        // After it, the third lock lasts four times the first (15 min), the cap of 60 min.
        for i in 0..3 {
            at(100_000 + i);
            guard.record_failure("shop", Some("frank"), ip, &policy());
        }
        assert_eq!(
            guard.check("shop", Some("frank"), ip),
            Some(Refusal::AccountLocked {
                retry_after_ms: 3_600_000
            })
        );
    }

    #[test]
    fn guards_sharing_a_store_share_locks() {
        let state = StateStore::in_memory();
        let (a, b) = (LoginGuard::new(state.clone()), LoginGuard::new(state));
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        for _ in 0..3 {
            a.record_failure("shop", Some("erin"), ip, &policy());
        }
        assert!(matches!(
            b.check("shop", Some("erin"), "192.0.2.2".parse().expect("ip")),
            Some(Refusal::AccountLocked { .. })
        ));
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
