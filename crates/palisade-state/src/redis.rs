//! The Redis store: every gateway sharing one Redis sees the same counters, limits, locks,
//! bans, quotas and entries.
//!
//! GCRA, sliding windows, locks/bans (with their repeat counts) and quota charges are single
//! Lua scripts, so they are atomic across gateways and use the Redis server's clock (quota
//! periods use the gateway's UTC date). Keys are `<key_prefix><kind>:<key>`.
//!
//! Redis work runs on a small runtime owned by the store, with a short timeout per operation.
//! When Redis cannot be reached the store is *degraded*: it stops sending operations to Redis,
//! reports [`BackendEvent::Down`] once, and answers per feature as [`FailModes`] says — from an
//! in-memory fallback store (`local`), allowing (`open`) or refusing (`closed`). A background
//! task pings Redis; when it answers, the store reports [`BackendEvent::Recovered`] and uses
//! Redis again. What the fallback counted during the outage is not merged back. Bans are read
//! from a snapshot refreshed in the background, so checking a ban never waits for Redis.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use ipnet::IpNet;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands as _, Script};

use crate::clock::Clock;
use crate::error::StateError;
use crate::local::{BlockRecord, LocalStore};
use crate::model::{
    Ban, BanRequest, BlockTtl, LockInfo, QuotaDecision, QuotaPeriod, Rate, RateDecision, dur_ms,
    from_ms,
};

/// How a feature answers while Redis is unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailMode {
    /// Decide from an in-memory store on this gateway (limits per gateway during the outage).
    #[default]
    Local,
    /// Allow: rate limits and quotas pass, nothing counts as locked.
    Open,
    /// Refuse: rate limits and quotas refuse, every key counts as locked.
    Closed,
}

/// [`FailMode`] per feature. Counters and bans always use the local fallback; key-value
/// operations and removing bans fail with an unavailable [`StateError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailModes {
    /// [`StateStore::rate_check`](crate::StateStore::rate_check).
    pub rate_limit: FailMode,
    /// [`StateStore::quota_charge`](crate::StateStore::quota_charge) and `quota_used`.
    pub quota: FailMode,
    /// [`StateStore::locked_until`](crate::StateStore::locked_until) (locking always records
    /// in the fallback).
    pub lock: FailMode,
}

impl FailModes {
    /// The same mode for every feature.
    pub fn all(mode: FailMode) -> FailModes {
        FailModes {
            rate_limit: mode,
            quota: mode,
            lock: mode,
        }
    }
}

/// A change of the backend's availability, for the caller to record as a security event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendEvent {
    /// Redis stopped answering; the store is degraded.
    Down {
        /// Why (never contains the Redis URL or password).
        error: String,
    },
    /// Redis answers again; the store uses it.
    Recovered,
}

impl BackendEvent {
    /// The security event for this change (`sys_state_backend_down` /
    /// `sys_state_backend_recovered`).
    pub fn to_security_event(&self) -> palisade_core::SecurityEvent {
        use palisade_core::{EventOutcome, SecurityEvent, Severity};
        match self {
            BackendEvent::Down { error } => {
                let mut event = SecurityEvent::new(
                    "sys_state_backend_down",
                    "database",
                    Severity::High,
                    format!("shared state backend (Redis) unreachable, running degraded: {error}"),
                );
                event.outcome = EventOutcome::Failure;
                event
            }
            BackendEvent::Recovered => {
                let mut event = SecurityEvent::new(
                    "sys_state_backend_recovered",
                    "database",
                    Severity::Info,
                    "shared state backend (Redis) reachable again",
                );
                event.outcome = EventOutcome::Success;
                event
            }
        }
    }
}

/// Receives [`BackendEvent`]s. Called from the store's runtime; must not block.
pub type BackendEventCallback = Arc<dyn Fn(BackendEvent) + Send + Sync>;

/// Settings of [`StateStore::redis`](crate::StateStore::redis).
#[derive(Clone)]
pub struct RedisSettings {
    /// `redis://[user:password@]host:port[/db]` (secret: never logged).
    pub url: String,
    /// Prepended to every key (tests use a unique prefix each).
    pub key_prefix: String,
    /// Time allowed for one operation before Redis counts as unreachable.
    pub op_timeout: Duration,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// How often a degraded store retries Redis, and a healthy one refreshes its ban snapshot.
    pub health_interval: Duration,
    /// Per-feature behaviour while Redis is unreachable.
    pub fail_modes: FailModes,
    /// Called on availability changes.
    pub on_event: Option<BackendEventCallback>,
}

impl RedisSettings {
    /// Settings with defaults: prefix `palisade:`, 250 ms per operation, 500 ms to connect,
    /// health check and ban refresh every 500 ms, local fallback for every feature.
    pub fn new(url: impl Into<String>) -> RedisSettings {
        RedisSettings {
            url: url.into(),
            key_prefix: "palisade:".to_owned(),
            op_timeout: Duration::from_millis(250),
            connect_timeout: Duration::from_millis(500),
            health_interval: Duration::from_millis(500),
            fail_modes: FailModes::default(),
            on_event: None,
        }
    }

    /// How long a change to the shared ban list takes to reach this gateway.
    pub fn ban_refresh(&self) -> Duration {
        self.health_interval
    }
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &"<redacted>")
            .field("key_prefix", &self.key_prefix)
            .field("op_timeout", &self.op_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("health_interval", &self.health_interval)
            .field("fail_modes", &self.fail_modes)
            .finish_non_exhaustive()
    }
}

const GCRA_LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval * cost
if new_tat - now > capacity then
  return {0, new_tat - capacity - now, tat - now}
end
if cost > 0 then
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
end
return {1, math.floor((capacity - (new_tat - now)) / interval), new_tat - now}
";

const WINDOW_LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if ARGV[2] == '1' and n < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, t[1] .. '.' .. t[2] .. ':' .. ARGV[4])
  n = n + 1
end
if n > 0 then redis.call('PEXPIRE', KEYS[1], window) end
return n
";

/// KEYS[1] record hash, KEYS[2] ban set, KEYS[3] ban version ('' for locks).
/// ARGV: member, reason, source, forget_ms (-1: permanent), then the block length in ms for
/// repeat 0, 1, 2, … (the last applies to every later repeat).
const BLOCK_LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prev = redis.call('HMGET', KEYS[1], 'keep_until', 'repeat')
local rep = 0
if prev[1] and (tonumber(prev[1]) < 0 or tonumber(prev[1]) > now) then
  rep = tonumber(prev[2]) + 1
end
local forget = tonumber(ARGV[4])
local untilms = -1
local keep = -1
if forget >= 0 then
  local index = math.min(rep, #ARGV - 5) + 5
  untilms = now + tonumber(ARGV[index])
  keep = untilms + forget
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'until', untilms, 'keep_until', keep, 'repeat', rep,
  'reason', ARGV[2], 'source', ARGV[3], 'created', now)
if keep >= 0 then redis.call('PEXPIREAT', KEYS[1], keep) end
if KEYS[2] ~= '' then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('INCR', KEYS[3])
end
return {untilms, rep, now}
";

const QUOTA_LUA: &str = r"
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
if used + cost <= limit then
  if cost > 0 then
    used = redis.call('INCRBY', KEYS[1], cost)
    redis.call('PEXPIREAT', KEYS[1], ARGV[3])
  end
  return {1, used}
end
return {0, used}
";

/// Longest escalation table passed to the block script (2^31 × base saturates long before).
const ESCALATION_STEPS: u32 = 32;

struct Scripts {
    gcra: Script,
    window: Script,
    block: Script,
    quota: Script,
}

struct Shared {
    client: redis::Client,
    connection: ArcSwapOption<ConnectionManager>,
    up: AtomicBool,
    prefix: String,
    op_timeout: Duration,
    connect_timeout: Duration,
    health_interval: Duration,
    fail_modes: FailModes,
    on_event: Option<BackendEventCallback>,
    scripts: Scripts,
    /// Bans as last read from Redis.
    snapshot: LocalStore,
    /// Decides while Redis is unreachable.
    fallback: LocalStore,
    ban_version: AtomicU64,
    member_seq: AtomicU64,
    instance: u64,
}

pub(crate) struct RedisStore {
    shared: Arc<Shared>,
    handle: tokio::runtime::Handle,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl RedisStore {
    pub(crate) fn start(settings: RedisSettings) -> Result<RedisStore, StateError> {
        let client = redis::Client::open(settings.url.as_str()).map_err(|error| {
            StateError::invalid_setting(format!("Redis URL: {:?}", error.kind()))
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("palisade-state-redis")
            .enable_all()
            .build()
            .map_err(|error| StateError::invalid_setting(format!("runtime: {error}")))?;
        let shared = Arc::new(Shared {
            client,
            connection: ArcSwapOption::empty(),
            up: AtomicBool::new(false),
            prefix: settings.key_prefix,
            op_timeout: settings.op_timeout,
            connect_timeout: settings.connect_timeout,
            health_interval: settings.health_interval,
            fail_modes: settings.fail_modes,
            on_event: settings.on_event,
            scripts: Scripts {
                gcra: Script::new(GCRA_LUA),
                window: Script::new(WINDOW_LUA),
                block: Script::new(BLOCK_LUA),
                quota: Script::new(QUOTA_LUA),
            },
            snapshot: LocalStore::in_memory(Clock::system()),
            fallback: LocalStore::in_memory(Clock::system()),
            ban_version: AtomicU64::new(u64::MAX),
            member_seq: AtomicU64::new(0),
            instance: instance_id(),
        });
        let handle = runtime.handle().clone();
        // Connect before returning when Redis is there (so the first requests use it); when it
        // is not, start degraded and keep trying in the background.
        let first = {
            let shared = Arc::clone(&shared);
            std::thread::scope(|scope| {
                scope
                    .spawn(|| handle.block_on(shared.try_connect()))
                    .join()
                    .unwrap_or(false)
            })
        };
        if !first {
            shared.emit(BackendEvent::Down {
                error: "cannot connect at start".to_owned(),
            });
        }
        handle.spawn(health_loop(Arc::downgrade(&shared)));
        Ok(RedisStore {
            shared,
            handle,
            runtime: Some(runtime),
        })
    }

    pub(crate) fn is_up(&self) -> bool {
        self.shared.up.load(Ordering::Acquire)
    }

    /// Runs `job` against Redis on the store's runtime with the operation timeout. An
    /// unreachable Redis (connection error, timeout) marks the store degraded.
    async fn exec<T, F, Fut>(&self, job: F) -> Result<T, StateError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Shared>, ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>> + Send + 'static,
    {
        if !self.is_up() {
            return Err(StateError::unavailable("Redis unreachable (degraded)"));
        }
        let Some(connection) = self.shared.connection.load_full() else {
            return Err(StateError::unavailable("Redis not connected"));
        };
        let future = job(Arc::clone(&self.shared), (*connection).clone());
        let timeout = self.shared.op_timeout;
        let joined = self
            .handle
            .spawn(async move { tokio::time::timeout(timeout, future).await })
            .await;
        match joined {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(error))) => {
                if is_connection_error(&error) {
                    self.shared.mark_down(&describe(&error));
                    Err(StateError::unavailable(describe(&error)))
                } else {
                    Err(StateError::protocol(describe(&error)))
                }
            }
            Ok(Err(_elapsed)) => {
                self.shared.mark_down("operation timed out");
                Err(StateError::unavailable("operation timed out"))
            }
            Err(join_error) => Err(StateError::unavailable(format!(
                "Redis task failed: {join_error}"
            ))),
        }
    }

    fn key(&self, kind: &str, key: &str) -> String {
        self.shared.key(kind, key)
    }

    // ---- sliding windows ------------------------------------------------------------------

    async fn window(&self, key: &str, window: Duration, record: bool) -> Result<u64, StateError> {
        let redis_key = self.key("w:", key);
        let member = format!(
            "{:x}.{}",
            self.shared.instance,
            self.shared.member_seq.fetch_add(1, Ordering::Relaxed)
        );
        let window_ms = dur_ms(window).max(1);
        let result = self
            .exec(move |shared, mut connection| async move {
                shared
                    .scripts
                    .window
                    .key(redis_key)
                    .arg(window_ms)
                    .arg(if record { "1" } else { "0" })
                    .arg(crate::local::MAX_WINDOW_HITS)
                    .arg(member)
                    .invoke_async::<u64>(&mut connection)
                    .await
            })
            .await;
        match result {
            Err(error) if error.is_unavailable() => Ok(if record {
                self.shared.fallback.hit(key, window)
            } else {
                self.shared.fallback.count(key, window)
            }),
            other => other,
        }
    }

    pub(crate) async fn hit(&self, key: &str, window: Duration) -> Result<u64, StateError> {
        self.window(key, window, true).await
    }

    pub(crate) async fn count(&self, key: &str, window: Duration) -> Result<u64, StateError> {
        self.window(key, window, false).await
    }

    pub(crate) async fn reset(&self, key: &str) -> Result<(), StateError> {
        self.shared.fallback.reset(key);
        let redis_key = self.key("w:", key);
        let result = self
            .exec(move |_, mut connection| async move { connection.del::<_, ()>(redis_key).await })
            .await;
        match result {
            Err(error) if error.is_unavailable() => Ok(()),
            other => other,
        }
    }

    // ---- GCRA -----------------------------------------------------------------------------

    pub(crate) async fn rate_check(
        &self,
        key: &str,
        rate: Rate,
        burst: u32,
        cost: u32,
    ) -> Result<RateDecision, StateError> {
        let redis_key = self.key("r:", key);
        let interval = rate.interval_us();
        let capacity = interval.saturating_mul(i64::from(burst.max(1)));
        let result = self
            .exec(move |shared, mut connection| async move {
                shared
                    .scripts
                    .gcra
                    .key(redis_key)
                    .arg(interval)
                    .arg(capacity)
                    .arg(cost)
                    .invoke_async::<(i64, i64, i64)>(&mut connection)
                    .await
            })
            .await;
        let micros = |v: i64| Duration::from_micros(u64::try_from(v.max(0)).unwrap_or(0));
        match result {
            Ok((1, remaining, reset)) => Ok(RateDecision::Allowed {
                remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
                reset: micros(reset),
            }),
            Ok((_, retry_after, reset)) => Ok(RateDecision::Limited {
                retry_after: micros(retry_after),
                reset: micros(reset),
            }),
            Err(error) if error.is_unavailable() => Ok(match self.shared.fail_modes.rate_limit {
                FailMode::Local => self.shared.fallback.rate_check(key, rate, burst, cost),
                FailMode::Open => RateDecision::Allowed {
                    remaining: burst,
                    reset: Duration::ZERO,
                },
                FailMode::Closed => RateDecision::Limited {
                    retry_after: self.shared.retry_hint(),
                    reset: self.shared.retry_hint(),
                },
            }),
            Err(error) => Err(error),
        }
    }

    // ---- locks and bans -------------------------------------------------------------------

    /// Runs the block script; returns the record written.
    async fn block(
        &self,
        record_key: String,
        ban_member: Option<String>,
        ttl: Option<&BlockTtl>,
        reason: &str,
        source: &str,
    ) -> Result<BlockRecord, StateError> {
        let (set_key, version_key) = match &ban_member {
            Some(_) => (self.key("bans", ""), self.key("bans:v", "")),
            None => (String::new(), String::new()),
        };
        let forget_ms = ttl.map_or(-1, |ttl| dur_ms(ttl.forget_after()));
        let lengths: Vec<i64> = match ttl {
            Some(ttl @ BlockTtl::Escalating(_)) => (0..ESCALATION_STEPS)
                .map(|repeat| dur_ms(ttl.resolve(repeat).0))
                .collect(),
            Some(ttl) => vec![dur_ms(ttl.resolve(0).0)],
            None => vec![0],
        };
        let member = ban_member.unwrap_or_default();
        let (reason_arg, source_arg) = (reason.to_owned(), source.to_owned());
        let (until, repeat, created) = self
            .exec(move |shared, mut connection| async move {
                let mut invocation = shared.scripts.block.prepare_invoke();
                invocation
                    .key(record_key)
                    .key(set_key)
                    .key(version_key)
                    .arg(member)
                    .arg(reason_arg)
                    .arg(source_arg)
                    .arg(forget_ms)
                    .arg(lengths);
                invocation
                    .invoke_async::<(i64, u32, i64)>(&mut connection)
                    .await
            })
            .await?;
        let forever = until < 0;
        Ok(BlockRecord {
            until_ms: if forever { i64::MAX } else { until },
            keep_until_ms: if forever {
                i64::MAX
            } else {
                until.saturating_add(forget_ms.max(0))
            },
            repeat,
            reason: reason.to_owned(),
            source: source.to_owned(),
            created_ms: created,
        })
    }

    pub(crate) async fn lock(&self, key: &str, ttl: &BlockTtl) -> Result<LockInfo, StateError> {
        match self
            .block(self.key("l:", key), None, Some(ttl), "", "")
            .await
        {
            Ok(record) => Ok(record.lock_info()),
            Err(error) if error.is_unavailable() => self.shared.fallback.lock(key, ttl),
            Err(error) => Err(error),
        }
    }

    pub(crate) async fn locked_until(&self, key: &str) -> Result<Option<LockInfo>, StateError> {
        let redis_key = self.key("l:", key);
        let result = self
            .exec(move |_, mut connection| async move {
                let until: Option<i64> = connection.hget(&redis_key, "until").await?;
                let repeat: Option<u32> = connection.hget(&redis_key, "repeat").await?;
                let now = server_time_ms(&mut connection).await?;
                Ok(until.and_then(|until| {
                    (until < 0 || until > now).then(|| LockInfo {
                        until: if until < 0 {
                            from_ms(i64::MAX)
                        } else {
                            from_ms(until)
                        },
                        repeat: repeat.unwrap_or(0),
                    })
                }))
            })
            .await;
        match result {
            Err(error) if error.is_unavailable() => Ok(match self.shared.fail_modes.lock {
                FailMode::Local => self.shared.fallback.locked_until(key),
                FailMode::Open => None,
                FailMode::Closed => Some(LockInfo {
                    until: std::time::SystemTime::now() + self.shared.retry_hint(),
                    repeat: 0,
                }),
            }),
            other => other,
        }
    }

    pub(crate) async fn unlock(&self, key: &str) -> Result<bool, StateError> {
        let fallback_had = self.shared.fallback.unlock(key)?;
        let redis_key = self.key("l:", key);
        let result = self
            .exec(move |_, mut connection| async move {
                let until: Option<i64> = connection.hget(&redis_key, "until").await?;
                let now = server_time_ms(&mut connection).await?;
                connection.del::<_, ()>(&redis_key).await?;
                Ok(until.is_some_and(|until| until < 0 || until > now))
            })
            .await?;
        Ok(result || fallback_had)
    }

    /// Remembered locks under `prefix` (every record still in Redis: a record lives until its
    /// repeat count is forgotten).
    pub(crate) async fn locks(&self, prefix: &str) -> Result<Vec<(String, LockInfo)>, StateError> {
        let full_prefix = self.key("l:", "");
        let pattern = format!("{}*", glob_escape(&self.key("l:", prefix)));
        self.exec(move |_, mut connection| async move {
            let keys = scan_keys(&mut connection, &pattern).await?;
            let mut pipe = redis::pipe();
            for key in &keys {
                pipe.cmd("HMGET").arg(key).arg("until").arg("repeat");
            }
            let fields: Vec<(Option<i64>, Option<u32>)> = if keys.is_empty() {
                Vec::new()
            } else {
                pipe.query_async(&mut connection).await?
            };
            Ok(keys
                .into_iter()
                .zip(fields)
                .filter_map(|(key, (until, repeat))| {
                    let until = until?;
                    let name = key.strip_prefix(&full_prefix)?.to_owned();
                    let info = LockInfo {
                        until: if until < 0 {
                            from_ms(i64::MAX)
                        } else {
                            from_ms(until)
                        },
                        repeat: repeat.unwrap_or(0),
                    };
                    Some((name, info))
                })
                .collect())
        })
        .await
    }

    pub(crate) async fn ban(&self, request: &BanRequest) -> Result<Ban, StateError> {
        let network = request.network.trunc();
        let member = network.to_string();
        let result = self
            .block(
                self.key("b:", &member),
                Some(member.clone()),
                request.ttl.as_ref(),
                &request.reason,
                &request.source,
            )
            .await;
        match result {
            Ok(record) => {
                let ban = record.ban(network);
                self.shared.snapshot_insert(network, record);
                Ok(ban)
            }
            Err(error) if error.is_unavailable() => self.shared.fallback.ban(request),
            Err(error) => Err(error),
        }
    }

    pub(crate) async fn unban(&self, network: IpNet) -> Result<bool, StateError> {
        let network = network.trunc();
        let member = network.to_string();
        let record_key = self.key("b:", &member);
        let (set_key, version_key) = (self.key("bans", ""), self.key("bans:v", ""));
        let removed = self
            .exec(move |_, mut connection| async move {
                let existed: bool = connection.exists(&record_key).await?;
                redis::pipe()
                    .atomic()
                    .del(&record_key)
                    .srem(&set_key, &member)
                    .incr(&version_key, 1)
                    .query_async::<()>(&mut connection)
                    .await?;
                Ok(existed)
            })
            .await?;
        let snapshot_had = self.shared.snapshot.unban(network)?;
        let fallback_had = self.shared.fallback.unban(network)?;
        Ok(removed || snapshot_had || fallback_had)
    }

    pub(crate) async fn bans(&self) -> Result<Vec<Ban>, StateError> {
        let result = self
            .exec(|shared, mut connection| async move { shared.read_bans(&mut connection).await })
            .await;
        let mut bans = match result {
            Ok((_, records)) => {
                let bans: Vec<Ban> = records
                    .iter()
                    .map(|(network, record)| record.ban(*network))
                    .collect();
                self.shared.snapshot.replace_bans(records);
                bans
            }
            Err(error) if error.is_unavailable() => self.shared.snapshot.bans(),
            Err(error) => return Err(error),
        };
        let now = std::time::SystemTime::now();
        bans.retain(|ban| ban.until.is_none_or(|until| until > now));
        bans.extend(self.shared.fallback.bans());
        bans.sort_by(|a, b| b.created.cmp(&a.created).then(a.network.cmp(&b.network)));
        Ok(bans)
    }

    pub(crate) fn is_banned(&self, ip: IpAddr) -> Option<Ban> {
        self.shared
            .snapshot
            .is_banned(ip)
            .or_else(|| self.shared.fallback.is_banned(ip))
    }

    // ---- quotas ---------------------------------------------------------------------------

    pub(crate) async fn quota_charge(
        &self,
        key: &str,
        period: QuotaPeriod,
        limit: u64,
        cost: u64,
    ) -> Result<QuotaDecision, StateError> {
        let now = Clock::system().now_ms();
        let (id, end) = period.window(now);
        let redis_key = self.key("q:", &format!("{key}\u{1f}{}\u{1f}{id}", period.as_str()));
        let result = self
            .exec(move |shared, mut connection| async move {
                shared
                    .scripts
                    .quota
                    .key(redis_key)
                    .arg(limit)
                    .arg(cost)
                    .arg(end)
                    .invoke_async::<(i64, u64)>(&mut connection)
                    .await
            })
            .await;
        match result {
            Ok((allowed, used)) => Ok(QuotaDecision {
                allowed: allowed == 1,
                used,
                limit,
                resets_at: from_ms(end),
            }),
            Err(error) if error.is_unavailable() => match self.shared.fail_modes.quota {
                FailMode::Local => self.shared.fallback.quota_charge(key, period, limit, cost),
                mode => Ok(QuotaDecision {
                    allowed: mode == FailMode::Open,
                    used: 0,
                    limit,
                    resets_at: from_ms(end),
                }),
            },
            Err(error) => Err(error),
        }
    }

    pub(crate) async fn quota_used(
        &self,
        key: &str,
        period: QuotaPeriod,
    ) -> Result<u64, StateError> {
        let now = Clock::system().now_ms();
        let (id, _) = period.window(now);
        let redis_key = self.key("q:", &format!("{key}\u{1f}{}\u{1f}{id}", period.as_str()));
        let result = self
            .exec(move |_, mut connection| async move {
                connection.get::<_, Option<u64>>(redis_key).await
            })
            .await;
        match result {
            Ok(used) => Ok(used.unwrap_or(0)),
            Err(error)
                if error.is_unavailable() && self.shared.fail_modes.quota == FailMode::Local =>
            {
                Ok(self.shared.fallback.quota_used(key, period))
            }
            Err(error) => Err(error),
        }
    }

    // ---- key-value ------------------------------------------------------------------------

    pub(crate) async fn kv_set(
        &self,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<(), StateError> {
        let redis_key = self.key("kv:", key);
        let value = value.to_owned();
        self.exec(move |_, mut connection| async move {
            match ttl {
                Some(ttl) => {
                    connection
                        .pset_ex::<_, _, ()>(redis_key, value, dur_ms(ttl).max(1) as u64)
                        .await
                }
                None => connection.set::<_, _, ()>(redis_key, value).await,
            }
        })
        .await
    }

    pub(crate) async fn kv_get(&self, key: &str) -> Result<Option<String>, StateError> {
        let redis_key = self.key("kv:", key);
        self.exec(move |_, mut connection| async move { connection.get(redis_key).await })
            .await
    }

    pub(crate) async fn kv_delete(&self, key: &str) -> Result<bool, StateError> {
        let redis_key = self.key("kv:", key);
        self.exec(move |_, mut connection| async move {
            connection.del::<_, u64>(redis_key).await.map(|n| n > 0)
        })
        .await
    }

    pub(crate) async fn kv_keys(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        let full_prefix = self.key("kv:", "");
        let pattern = format!("{}*", glob_escape(&self.key("kv:", prefix)));
        self.exec(move |_, mut connection| async move {
            let keys = scan_keys(&mut connection, &pattern).await?;
            Ok(keys
                .into_iter()
                .filter_map(|key| key.strip_prefix(&full_prefix).map(str::to_owned))
                .collect())
        })
        .await
    }
}

/// Every key matching the glob `pattern`, by SCAN (which may repeat keys): sorted, each once.
async fn scan_keys(
    connection: &mut ConnectionManager,
    pattern: &str,
) -> redis::RedisResult<Vec<String>> {
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(500)
            .query_async(connection)
            .await?;
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

impl Shared {
    fn key(&self, kind: &str, key: &str) -> String {
        let mut full = String::with_capacity(self.prefix.len() + kind.len() + key.len());
        full.push_str(&self.prefix);
        full.push_str(kind);
        full.push_str(key);
        full
    }

    /// When a degraded feature in closed mode tells clients to retry.
    fn retry_hint(&self) -> Duration {
        self.health_interval.max(Duration::from_secs(1))
    }

    fn emit(&self, event: BackendEvent) {
        match &event {
            BackendEvent::Down { error } => {
                tracing::error!(%error, "Redis state backend unreachable; running degraded")
            }
            BackendEvent::Recovered => tracing::warn!("Redis state backend reachable again"),
        }
        if let Some(callback) = &self.on_event {
            callback(event);
        }
    }

    fn mark_down(&self, why: &str) {
        if self.up.swap(false, Ordering::AcqRel) {
            self.emit(BackendEvent::Down {
                error: why.to_owned(),
            });
        }
    }

    fn snapshot_insert(&self, network: IpNet, record: BlockRecord) {
        let mut bans: Vec<(IpNet, BlockRecord)> = Vec::new();
        // The snapshot store has no single-insert for foreign records; rebuild from the current
        // active list plus this one (ban lists are small).
        for ban in self.snapshot.bans() {
            if ban.network != network {
                bans.push((ban.network, record_of(&ban)));
            }
        }
        bans.push((network, record));
        self.snapshot.replace_bans(bans);
    }

    /// Connects (when not yet connected) and pings. True when Redis answered; marks the store
    /// up and refreshes the ban snapshot then.
    async fn try_connect(&self) -> bool {
        let connection = match self.connection.load_full() {
            Some(connection) => connection,
            None => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.connect_timeout))
                    .set_response_timeout(Some(self.op_timeout))
                    .set_number_of_retries(1);
                let created = tokio::time::timeout(
                    self.connect_timeout.saturating_mul(2),
                    self.client.get_connection_manager_with_config(config),
                )
                .await;
                match created {
                    Ok(Ok(connection)) => {
                        let connection = Arc::new(connection);
                        self.connection.store(Some(Arc::clone(&connection)));
                        connection
                    }
                    Ok(Err(error)) => {
                        tracing::debug!(error = %describe(&error), "Redis connect failed");
                        return false;
                    }
                    Err(_) => return false,
                }
            }
        };
        let mut connection = (*connection).clone();
        let refreshed =
            tokio::time::timeout(self.op_timeout, self.refresh_bans(&mut connection, true)).await;
        match refreshed {
            Ok(Ok(())) => {
                self.up.store(true, Ordering::Release);
                true
            }
            Ok(Err(error)) => {
                tracing::debug!(error = %describe(&error), "Redis ping failed");
                false
            }
            Err(_) => false,
        }
    }

    /// Reloads the ban snapshot when the shared version changed (or `force`).
    async fn refresh_bans(
        &self,
        connection: &mut ConnectionManager,
        force: bool,
    ) -> redis::RedisResult<()> {
        let version: Option<u64> = connection.get(self.key("bans:v", "")).await?;
        let version = version.unwrap_or(0);
        if force || self.ban_version.load(Ordering::Acquire) != version {
            let (read_version, records) = self.read_bans(connection).await?;
            self.snapshot.replace_bans(records);
            self.ban_version.store(read_version, Ordering::Release);
        }
        Ok(())
    }

    /// Every active ban in Redis, with the ban list version read first; prunes members whose
    /// record expired.
    async fn read_bans(
        &self,
        connection: &mut ConnectionManager,
    ) -> redis::RedisResult<(u64, Vec<(IpNet, BlockRecord)>)> {
        let version: Option<u64> = connection.get(self.key("bans:v", "")).await?;
        let members: Vec<String> = connection.smembers(self.key("bans", "")).await?;
        let now = server_time_ms(connection).await?;
        let mut pipe = redis::pipe();
        for member in &members {
            pipe.hgetall(self.key("b:", member));
        }
        let records: Vec<std::collections::HashMap<String, String>> = if members.is_empty() {
            Vec::new()
        } else {
            pipe.query_async(connection).await?
        };
        let mut bans = Vec::new();
        let mut gone = Vec::new();
        for (member, fields) in members.iter().zip(records) {
            let Ok(network) = member.parse::<IpNet>() else {
                gone.push(member.clone());
                continue;
            };
            let number = |name: &str| fields.get(name).and_then(|v| v.parse::<i64>().ok());
            let Some(until) = number("until") else {
                gone.push(member.clone());
                continue;
            };
            let forever = until < 0;
            let record = BlockRecord {
                until_ms: if forever { i64::MAX } else { until },
                keep_until_ms: number("keep_until")
                    .map_or(i64::MAX, |keep| if keep < 0 { i64::MAX } else { keep }),
                repeat: number("repeat").map_or(0, |r| u32::try_from(r).unwrap_or(0)),
                reason: fields.get("reason").cloned().unwrap_or_default(),
                source: fields.get("source").cloned().unwrap_or_default(),
                created_ms: number("created").unwrap_or(0),
            };
            if record.active(now) {
                bans.push((network, record));
            }
        }
        if !gone.is_empty() {
            connection
                .srem::<_, _, ()>(self.key("bans", ""), gone)
                .await?;
        }
        Ok((version.unwrap_or(0), bans))
    }
}

/// Retries Redis while degraded; refreshes the ban snapshot while healthy. Ends with the store.
async fn health_loop(shared: std::sync::Weak<Shared>) {
    loop {
        let interval = match shared.upgrade() {
            Some(shared) => shared.health_interval,
            None => return,
        };
        tokio::time::sleep(interval).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if shared.up.load(Ordering::Acquire) {
            let Some(connection) = shared.connection.load_full() else {
                continue;
            };
            let mut connection = (*connection).clone();
            let refreshed = tokio::time::timeout(
                shared.op_timeout,
                shared.refresh_bans(&mut connection, false),
            )
            .await;
            match refreshed {
                Ok(Ok(())) => {}
                Ok(Err(error)) if is_connection_error(&error) => {
                    shared.mark_down(&describe(&error))
                }
                Ok(Err(error)) => {
                    tracing::warn!(error = %describe(&error), "cannot refresh bans from Redis")
                }
                Err(_) => shared.mark_down("ban refresh timed out"),
            }
        } else if shared.try_connect().await {
            shared.emit(BackendEvent::Recovered);
        }
    }
}

/// The Redis server's clock in milliseconds.
async fn server_time_ms(connection: &mut ConnectionManager) -> redis::RedisResult<i64> {
    let (seconds, micros): (i64, i64) = redis::cmd("TIME").query_async(connection).await?;
    Ok(seconds * 1000 + micros / 1000)
}

fn record_of(ban: &Ban) -> BlockRecord {
    BlockRecord {
        until_ms: ban.until.map_or(i64::MAX, crate::model::to_ms),
        keep_until_ms: ban.until.map_or(i64::MAX, crate::model::to_ms),
        repeat: ban.repeat,
        reason: ban.reason.clone(),
        source: ban.source.clone(),
        created_ms: crate::model::to_ms(ban.created),
    }
}

fn is_connection_error(error: &redis::RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_unrecoverable_error()
}

/// A Redis error without anything that could carry the URL or credentials.
fn describe(error: &redis::RedisError) -> String {
    format!("Redis error {:?}", error.kind())
}

/// A random-enough id distinguishing this store's sliding-window members from other gateways'.
fn instance_id() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// Escapes Redis glob metacharacters.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
