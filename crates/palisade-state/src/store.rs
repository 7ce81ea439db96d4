//! [`StateStore`]: the one interface to counters, rate limits, locks, bans, quotas and
//! key-value entries, whichever backend holds them.

use std::borrow::Cow;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

use crate::blocking::Blocking;
use crate::clock::Clock;
use crate::error::StateError;
use crate::local::LocalStore;
use crate::model::{
    Ban, BanRequest, BlockTtl, LockInfo, QuotaDecision, QuotaPeriod, Rate, RateDecision,
};
use crate::redis::{RedisSettings, RedisStore};

/// Keys longer than this are replaced by their SHA-256 (hostile input cannot grow entries).
const MAX_KEY_BYTES: usize = 200;

/// The state store. Cheap to clone; clones share the same state.
///
/// Every operation is `async` and returns a typed [`StateError`]; [`StateStore::blocking`] runs
/// the same operations from synchronous code (inspector hooks). [`StateStore::is_banned`] is
/// always a synchronous in-memory lookup.
#[derive(Clone)]
pub struct StateStore {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Local(LocalStore),
    Redis(Arc<RedisStore>),
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateStore")
            .field("backend", &self.backend_name())
            .finish()
    }
}

impl StateStore {
    /// An in-process store kept in memory only (nothing survives a restart).
    pub fn in_memory() -> StateStore {
        StateStore::in_memory_with_clock(Clock::system())
    }

    /// An in-memory store reading time from `clock` (tests).
    pub fn in_memory_with_clock(clock: Clock) -> StateStore {
        StateStore {
            backend: Backend::Local(LocalStore::in_memory(clock)),
        }
    }

    /// The in-process store persisted in `<data_dir>/state.sqlite3`: locks, bans, quotas and
    /// key-value entries survive restarts, and changes other processes (the CLI) make to the
    /// file are picked up within a second.
    pub fn open_local(data_dir: &Path) -> Result<StateStore, StateError> {
        StateStore::open_local_with_clock(data_dir, Clock::system())
    }

    /// [`StateStore::open_local`] reading time from `clock` (tests).
    pub fn open_local_with_clock(data_dir: &Path, clock: Clock) -> Result<StateStore, StateError> {
        Ok(StateStore {
            backend: Backend::Local(LocalStore::persistent(data_dir, clock)?),
        })
    }

    /// A store shared through Redis (see [`RedisSettings`]). Never fails because Redis is down:
    /// the store starts degraded and connects in the background.
    pub fn redis(settings: RedisSettings) -> Result<StateStore, StateError> {
        Ok(StateStore {
            backend: Backend::Redis(Arc::new(RedisStore::start(settings)?)),
        })
    }

    /// `"local"` or `"redis"`.
    pub fn backend_name(&self) -> &'static str {
        match &self.backend {
            Backend::Local(_) => "local",
            Backend::Redis(_) => "redis",
        }
    }

    /// Whether the backend is reachable (always true for the in-process store).
    pub fn is_available(&self) -> bool {
        match &self.backend {
            Backend::Local(_) => true,
            Backend::Redis(redis) => redis.is_up(),
        }
    }

    /// Synchronous access to the same operations, for inspector hooks.
    pub fn blocking(&self) -> Blocking<'_> {
        Blocking::new(self)
    }

    // ---- sliding windows ------------------------------------------------------------------

    /// Records a hit on `key` and returns the hits within the last `window`, this one included.
    /// At most [`MAX_WINDOW_HITS`](crate::MAX_WINDOW_HITS) hits are remembered per key.
    pub async fn hit(&self, key: &str, window: Duration) -> Result<u64, StateError> {
        let key = bounded(key);
        match &self.backend {
            Backend::Local(local) => Ok(local.hit(&key, window)),
            Backend::Redis(redis) => redis.hit(&key, window).await,
        }
    }

    /// The hits on `key` within the last `window`, without recording one.
    pub async fn count(&self, key: &str, window: Duration) -> Result<u64, StateError> {
        let key = bounded(key);
        match &self.backend {
            Backend::Local(local) => Ok(local.count(&key, window)),
            Backend::Redis(redis) => redis.count(&key, window).await,
        }
    }

    /// Forgets the hits on `key`.
    pub async fn reset(&self, key: &str) -> Result<(), StateError> {
        let key = bounded(key);
        match &self.backend {
            Backend::Local(local) => {
                local.reset(&key);
                Ok(())
            }
            Backend::Redis(redis) => redis.reset(&key).await,
        }
    }

    // ---- rate limits ----------------------------------------------------------------------

    /// GCRA check of `key` against `rate` with `burst` requests allowed at once (at least 1),
    /// charging `cost` units when it fits.
    pub async fn rate_check(
        &self,
        key: &str,
        rate: Rate,
        burst: u32,
        cost: u32,
    ) -> Result<RateDecision, StateError> {
        let key = bounded(key);
        match &self.backend {
            Backend::Local(local) => Ok(local.rate_check(&key, rate, burst, cost)),
            Backend::Redis(redis) => redis.rate_check(&key, rate, burst, cost).await,
        }
    }

    // ---- locks ----------------------------------------------------------------------------

    /// Locks `key` (an account) for `ttl`; with [`BlockTtl::Escalating`] the duration doubles
    /// with each repeat. Locking a locked key starts a new (repeat) lock.
    pub async fn lock(&self, key: &str, ttl: BlockTtl) -> Result<LockInfo, StateError> {
        let key = bounded(key);
        match &self.backend {
            Backend::Local(local) => local.lock(&key, &ttl),
            Backend::Redis(redis) => redis.lock(&key, &ttl).await,
        }
    }

    /// The lock on `key` if one is active.
    pub async fn locked_until(&self, key: &str) -> Result<Option<LockInfo>, StateError> {
        let key = bounded(key);
        match &self.backend {
            Backend::Local(local) => Ok(local.locked_until(&key)),
            Backend::Redis(redis) => redis.locked_until(&key).await,
        }
    }

    /// Removes the lock on `key` and forgets its repeat count. True when a lock was active.
    pub async fn unlock(&self, key: &str) -> Result<bool, StateError> {
        let key = bounded(key);
        match &self.backend {
            Backend::Local(local) => local.unlock(&key),
            Backend::Redis(redis) => redis.unlock(&key).await,
        }
    }

    /// Every remembered lock whose key starts with `prefix`, sorted by key: active locks and
    /// ended ones whose repeat count is still remembered for escalation (compare
    /// [`LockInfo::until`] with the time to tell them apart). Keys longer than 200 bytes are
    /// stored hashed and do not match a readable prefix.
    pub async fn locks(&self, prefix: &str) -> Result<Vec<(String, LockInfo)>, StateError> {
        match &self.backend {
            Backend::Local(local) => Ok(local.locks(prefix)),
            Backend::Redis(redis) => redis.locks(prefix).await,
        }
    }

    // ---- bans -----------------------------------------------------------------------------

    /// Bans an address or network. Banning it again while remembered counts as a repeat (for
    /// [`BlockTtl::Escalating`]).
    pub async fn ban(&self, request: BanRequest) -> Result<Ban, StateError> {
        match &self.backend {
            Backend::Local(local) => local.ban(&request),
            Backend::Redis(redis) => redis.ban(&request).await,
        }
    }

    /// Removes the ban on exactly `network`. True when an active ban was removed.
    pub async fn unban(&self, network: IpNet) -> Result<bool, StateError> {
        match &self.backend {
            Backend::Local(local) => local.unban(network),
            Backend::Redis(redis) => redis.unban(network).await,
        }
    }

    /// Every active ban, most recent first.
    pub async fn bans(&self) -> Result<Vec<Ban>, StateError> {
        match &self.backend {
            Backend::Local(local) => Ok(local.bans()),
            Backend::Redis(redis) => redis.bans().await,
        }
    }

    /// The active ban covering `ip`, from memory (no I/O; for every request). With Redis this
    /// is a snapshot refreshed in the background (changes by other gateways show within
    /// [`RedisSettings::ban_refresh`]).
    pub fn is_banned(&self, ip: IpAddr) -> Option<Ban> {
        match &self.backend {
            Backend::Local(local) => local.is_banned(ip),
            Backend::Redis(redis) => redis.is_banned(ip),
        }
    }

    // ---- quotas ---------------------------------------------------------------------------

    /// Charges `cost` units to `key`'s quota of the current UTC day or month when the total
    /// stays within `limit`; the count starts over with each period.
    pub async fn quota_charge(
        &self,
        key: &str,
        period: QuotaPeriod,
        limit: u64,
        cost: u64,
    ) -> Result<QuotaDecision, StateError> {
        let key = bounded(key);
        match &self.backend {
            Backend::Local(local) => local.quota_charge(&key, period, limit, cost),
            Backend::Redis(redis) => redis.quota_charge(&key, period, limit, cost).await,
        }
    }

    /// Units charged to `key` in the current period.
    pub async fn quota_used(&self, key: &str, period: QuotaPeriod) -> Result<u64, StateError> {
        let key = bounded(key);
        match &self.backend {
            Backend::Local(local) => Ok(local.quota_used(&key, period)),
            Backend::Redis(redis) => redis.quota_used(&key, period).await,
        }
    }

    // ---- key-value ------------------------------------------------------------------------

    /// Stores `value` under `key`, expiring after `ttl` when given.
    pub async fn kv_set(
        &self,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<(), StateError> {
        let key = bounded(key);
        match &self.backend {
            Backend::Local(local) => local.kv_set(&key, value, ttl),
            Backend::Redis(redis) => redis.kv_set(&key, value, ttl).await,
        }
    }

    /// The value under `key`, if set and not expired.
    pub async fn kv_get(&self, key: &str) -> Result<Option<String>, StateError> {
        let key = bounded(key);
        match &self.backend {
            Backend::Local(local) => Ok(local.kv_get(&key)),
            Backend::Redis(redis) => redis.kv_get(&key).await,
        }
    }

    /// Deletes `key`. True when it existed.
    pub async fn kv_delete(&self, key: &str) -> Result<bool, StateError> {
        let key = bounded(key);
        match &self.backend {
            Backend::Local(local) => local.kv_delete(&key),
            Backend::Redis(redis) => redis.kv_delete(&key).await,
        }
    }

    /// Every live key starting with `prefix`, sorted (for listings such as API keys).
    pub async fn kv_keys(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        match &self.backend {
            Backend::Local(local) => Ok(local.kv_keys(prefix)),
            Backend::Redis(redis) => redis.kv_keys(prefix).await,
        }
    }
}

/// `key`, or `h:` and its SHA-256 when longer than [`MAX_KEY_BYTES`].
fn bounded(key: &str) -> Cow<'_, str> {
    if key.len() <= MAX_KEY_BYTES {
        Cow::Borrowed(key)
    } else {
        use sha2::Digest as _;
        Cow::Owned(format!("h:{}", hex::encode(sha2::Sha256::digest(key))))
    }
}
