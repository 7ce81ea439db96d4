//! The in-process store: counters and rate limiters in sharded hash maps; locks, bans, quotas
//! and key-value entries in memory too, written through to SQLite (`state.sqlite3`, WAL) when a
//! data directory is given, and reloaded when another process (the CLI) changes the file.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, Weak};
use std::time::Duration;

use ipnet::IpNet;

use crate::bans::BanIndex;
use crate::clock::Clock;
use crate::error::StateError;
use crate::model::{
    Ban, BanRequest, BlockTtl, LockInfo, QuotaDecision, QuotaPeriod, Rate, RateDecision, dur_ms,
    from_ms,
};
use crate::persist::{Db, Snapshot};

/// Hits remembered per sliding-window key; beyond this the count saturates (bounded memory).
pub const MAX_WINDOW_HITS: usize = 10_000;

/// Every this many operations a shard drops its expired entries.
const SWEEP_EVERY: u32 = 1024;

/// How often a persisted store checks whether another process changed its file.
const RELOAD_INTERVAL: Duration = Duration::from_millis(500);

/// A lock or ban as stored: when it ends, how long its repeat count is remembered, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockRecord {
    /// End of the block (ms); `i64::MAX` for permanent.
    pub until_ms: i64,
    /// End of the record, when its repeat count is forgotten (ms).
    pub keep_until_ms: i64,
    pub repeat: u32,
    pub reason: String,
    pub source: String,
    pub created_ms: i64,
}

impl BlockRecord {
    /// The block that follows `previous` (if still remembered) at `now_ms`.
    pub(crate) fn next(
        previous: Option<&BlockRecord>,
        now_ms: i64,
        ttl: Option<&BlockTtl>,
        reason: &str,
        source: &str,
    ) -> BlockRecord {
        let repeat = match previous {
            Some(previous) if now_ms < previous.keep_until_ms => previous.repeat.saturating_add(1),
            _ => 0,
        };
        let (until_ms, keep_until_ms) = match ttl {
            Some(ttl) => {
                let (length, forget_after) = ttl.resolve(repeat);
                let until = now_ms.saturating_add(dur_ms(length));
                (until, until.saturating_add(dur_ms(forget_after)))
            }
            None => (i64::MAX, i64::MAX),
        };
        BlockRecord {
            until_ms,
            keep_until_ms,
            repeat,
            reason: reason.to_owned(),
            source: source.to_owned(),
            created_ms: now_ms,
        }
    }

    pub(crate) fn active(&self, now_ms: i64) -> bool {
        now_ms < self.until_ms
    }

    pub(crate) fn lock_info(&self) -> LockInfo {
        LockInfo {
            until: from_ms(self.until_ms),
            repeat: self.repeat,
        }
    }

    pub(crate) fn ban(&self, network: IpNet) -> Ban {
        Ban {
            network,
            until: (self.until_ms != i64::MAX).then(|| from_ms(self.until_ms)),
            reason: self.reason.clone(),
            source: self.source.clone(),
            created: from_ms(self.created_ms),
            repeat: self.repeat,
        }
    }
}

/// A quota counter of one key in one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QuotaRecord {
    pub used: u64,
    pub expires_ms: i64,
}

/// A key-value entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KvRecord {
    pub value: String,
    pub expires_ms: Option<i64>,
}

impl KvRecord {
    fn live(&self, now_ms: i64) -> bool {
        self.expires_ms.is_none_or(|expires| now_ms < expires)
    }
}

/// The in-process store. Cheap to clone (shared inside).
#[derive(Clone)]
pub(crate) struct LocalStore {
    inner: Arc<Inner>,
}

struct Inner {
    clock: Clock,
    windows: Shards<Window>,
    gcra: Shards<Tat>,
    persisted: Mutex<Persisted>,
    bans: RwLock<BanIndex>,
}

/// Locks, quotas and key-value entries, with the database they are written through to.
struct Persisted {
    db: Option<Db>,
    locks: HashMap<String, BlockRecord>,
    quotas: HashMap<String, QuotaRecord>,
    kv: HashMap<String, KvRecord>,
}

impl LocalStore {
    /// A store kept in memory only.
    pub(crate) fn in_memory(clock: Clock) -> LocalStore {
        LocalStore::build(clock, None, Snapshot::default())
    }

    /// A store persisted in `<data_dir>/state.sqlite3`.
    pub(crate) fn persistent(data_dir: &Path, clock: Clock) -> Result<LocalStore, StateError> {
        let db = Db::open(data_dir)?;
        let snapshot = db.load(clock.now_ms())?;
        let store = LocalStore::build(clock, Some(db), snapshot);
        store.spawn_reloader();
        Ok(store)
    }

    fn build(clock: Clock, db: Option<Db>, snapshot: Snapshot) -> LocalStore {
        let mut bans = BanIndex::default();
        for (network, record) in snapshot.bans {
            bans.insert(network, record);
        }
        LocalStore {
            inner: Arc::new(Inner {
                clock,
                windows: Shards::new(),
                gcra: Shards::new(),
                persisted: Mutex::new(Persisted {
                    db,
                    locks: snapshot.locks,
                    quotas: snapshot.quotas,
                    kv: snapshot.kv,
                }),
                bans: RwLock::new(bans),
            }),
        }
    }

    /// Reloads the persisted maps whenever another connection (the CLI) commits a change.
    fn spawn_reloader(&self) {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let spawned = std::thread::Builder::new()
            .name("palisade-state-reload".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(RELOAD_INTERVAL);
                    let Some(inner) = weak.upgrade() else { return };
                    if let Err(error) = inner.reload_if_changed() {
                        tracing::warn!(%error, "cannot reload the state database");
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start the state reload thread; CLI changes apply at restart");
        }
    }

    // ---- sliding windows ------------------------------------------------------------------

    pub(crate) fn hit(&self, key: &str, window: Duration) -> u64 {
        self.window_op(key, window, true)
    }

    pub(crate) fn count(&self, key: &str, window: Duration) -> u64 {
        self.window_op(key, window, false)
    }

    fn window_op(&self, key: &str, window: Duration, record: bool) -> u64 {
        let now = self.inner.clock.now_ms();
        let window_ms = dur_ms(window).max(1);
        self.inner.windows.with(key, now * 1000, |map| {
            if !record && !map.contains_key(key) {
                return 0;
            }
            let entry = map.entry(key.to_owned()).or_insert_with(|| Window {
                hits: VecDeque::new(),
                window_ms,
            });
            entry.window_ms = window_ms;
            while entry.hits.front().is_some_and(|&t| t <= now - window_ms) {
                entry.hits.pop_front();
            }
            if record && entry.hits.len() < MAX_WINDOW_HITS {
                entry.hits.push_back(now);
            }
            entry.hits.len() as u64
        })
    }

    pub(crate) fn reset(&self, key: &str) {
        let now = self.inner.clock.now_us();
        self.inner.windows.with(key, now, |map| map.remove(key));
    }

    // ---- GCRA -----------------------------------------------------------------------------

    pub(crate) fn rate_check(&self, key: &str, rate: Rate, burst: u32, cost: u32) -> RateDecision {
        let now = self.inner.clock.now_us();
        self.inner.gcra.with(key, now, |map| {
            let stored = map.get(key).map(|tat| tat.0);
            let (decision, new_tat) = gcra(stored, now, rate, burst, cost);
            if let Some(tat) = new_tat {
                map.insert(key.to_owned(), Tat(tat));
            }
            decision
        })
    }

    // ---- locks ----------------------------------------------------------------------------

    pub(crate) fn lock(&self, key: &str, ttl: &BlockTtl) -> Result<LockInfo, StateError> {
        let now = self.inner.clock.now_ms();
        let mut persisted = self.inner.persisted();
        let record = BlockRecord::next(persisted.locks.get(key), now, Some(ttl), "", "");
        if let Some(db) = &persisted.db {
            db.put_block("lock", key, &record)?;
        }
        let info = record.lock_info();
        persisted.locks.insert(key.to_owned(), record);
        Ok(info)
    }

    pub(crate) fn locked_until(&self, key: &str) -> Option<LockInfo> {
        let now = self.inner.clock.now_ms();
        let persisted = self.inner.persisted();
        persisted
            .locks
            .get(key)
            .filter(|record| record.active(now))
            .map(BlockRecord::lock_info)
    }

    pub(crate) fn unlock(&self, key: &str) -> Result<bool, StateError> {
        let now = self.inner.clock.now_ms();
        let mut persisted = self.inner.persisted();
        if let Some(db) = &persisted.db {
            db.delete_block("lock", key)?;
        }
        Ok(persisted
            .locks
            .remove(key)
            .is_some_and(|record| record.active(now)))
    }

    /// Remembered locks (active, or ended with their repeat count kept) under `prefix`.
    pub(crate) fn locks(&self, prefix: &str) -> Vec<(String, LockInfo)> {
        let now = self.inner.clock.now_ms();
        let persisted = self.inner.persisted();
        let mut locks: Vec<(String, LockInfo)> = persisted
            .locks
            .iter()
            .filter(|(key, record)| {
                key.starts_with(prefix) && (record.active(now) || now < record.keep_until_ms)
            })
            .map(|(key, record)| (key.clone(), record.lock_info()))
            .collect();
        locks.sort_by(|a, b| a.0.cmp(&b.0));
        locks
    }

    // ---- bans -----------------------------------------------------------------------------

    pub(crate) fn ban(&self, request: &BanRequest) -> Result<Ban, StateError> {
        let now = self.inner.clock.now_ms();
        let network = request.network.trunc();
        // The persisted mutex orders database writes with reloads.
        let persisted = self.inner.persisted();
        let mut bans = self.inner.bans_write();
        let record = BlockRecord::next(
            bans.get(&network),
            now,
            request.ttl.as_ref(),
            &request.reason,
            &request.source,
        );
        if let Some(db) = &persisted.db {
            db.put_block("ban", &network.to_string(), &record)?;
        }
        let ban = record.ban(network);
        bans.insert(network, record);
        Ok(ban)
    }

    pub(crate) fn unban(&self, network: IpNet) -> Result<bool, StateError> {
        let now = self.inner.clock.now_ms();
        let network = network.trunc();
        let persisted = self.inner.persisted();
        if let Some(db) = &persisted.db {
            db.delete_block("ban", &network.to_string())?;
        }
        let removed = self.inner.bans_write().remove(&network);
        Ok(removed.is_some_and(|record| record.active(now)))
    }

    pub(crate) fn bans(&self) -> Vec<Ban> {
        let now = self.inner.clock.now_ms();
        self.inner.bans_read().active(now)
    }

    pub(crate) fn is_banned(&self, ip: IpAddr) -> Option<Ban> {
        let now = self.inner.clock.now_ms();
        self.inner.bans_read().lookup(ip, now)
    }

    /// Replaces every ban (the Redis store's snapshot of the shared ban list).
    pub(crate) fn replace_bans(&self, bans: Vec<(IpNet, BlockRecord)>) {
        let mut index = BanIndex::default();
        for (network, record) in bans {
            index.insert(network, record);
        }
        *self.inner.bans_write() = index;
    }

    // ---- quotas ---------------------------------------------------------------------------

    pub(crate) fn quota_charge(
        &self,
        key: &str,
        period: QuotaPeriod,
        limit: u64,
        cost: u64,
    ) -> Result<QuotaDecision, StateError> {
        let now = self.inner.clock.now_ms();
        let (id, end) = period.window(now);
        let slot = quota_slot(key, period, id);
        let mut persisted = self.inner.persisted();
        let used = persisted
            .quotas
            .get(&slot)
            .filter(|record| now < record.expires_ms)
            .map_or(0, |record| record.used);
        let after = used.saturating_add(cost);
        let allowed = after <= limit;
        if allowed && cost > 0 {
            let record = QuotaRecord {
                used: after,
                expires_ms: end,
            };
            if let Some(db) = &persisted.db {
                db.put_quota(&slot, &record)?;
            }
            persisted.quotas.insert(slot, record);
        }
        Ok(QuotaDecision {
            allowed,
            used: if allowed { after } else { used },
            limit,
            resets_at: from_ms(end),
        })
    }

    pub(crate) fn quota_used(&self, key: &str, period: QuotaPeriod) -> u64 {
        let now = self.inner.clock.now_ms();
        let (id, _) = period.window(now);
        let persisted = self.inner.persisted();
        persisted
            .quotas
            .get(&quota_slot(key, period, id))
            .filter(|record| now < record.expires_ms)
            .map_or(0, |record| record.used)
    }

    // ---- key-value ------------------------------------------------------------------------

    pub(crate) fn kv_set(
        &self,
        key: &str,
        value: &str,
        ttl: Option<Duration>,
    ) -> Result<(), StateError> {
        let now = self.inner.clock.now_ms();
        let record = KvRecord {
            value: value.to_owned(),
            expires_ms: ttl.map(|ttl| now.saturating_add(dur_ms(ttl))),
        };
        let mut persisted = self.inner.persisted();
        if let Some(db) = &persisted.db {
            db.put_kv(key, &record)?;
        }
        persisted.kv.insert(key.to_owned(), record);
        Ok(())
    }

    pub(crate) fn kv_get(&self, key: &str) -> Option<String> {
        let now = self.inner.clock.now_ms();
        let persisted = self.inner.persisted();
        persisted
            .kv
            .get(key)
            .filter(|record| record.live(now))
            .map(|record| record.value.clone())
    }

    pub(crate) fn kv_delete(&self, key: &str) -> Result<bool, StateError> {
        let now = self.inner.clock.now_ms();
        let mut persisted = self.inner.persisted();
        if let Some(db) = &persisted.db {
            db.delete_kv(key)?;
        }
        Ok(persisted
            .kv
            .remove(key)
            .is_some_and(|record| record.live(now)))
    }

    /// Live keys starting with `prefix`, sorted.
    pub(crate) fn kv_keys(&self, prefix: &str) -> Vec<String> {
        let now = self.inner.clock.now_ms();
        let persisted = self.inner.persisted();
        let mut keys: Vec<String> = persisted
            .kv
            .iter()
            .filter(|(key, record)| key.starts_with(prefix) && record.live(now))
            .map(|(key, _)| key.clone())
            .collect();
        keys.sort();
        keys
    }
}

impl Inner {
    fn persisted(&self) -> MutexGuard<'_, Persisted> {
        self.persisted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn bans_read(&self) -> std::sync::RwLockReadGuard<'_, BanIndex> {
        self.bans.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn bans_write(&self) -> std::sync::RwLockWriteGuard<'_, BanIndex> {
        self.bans.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn reload_if_changed(&self) -> Result<(), StateError> {
        let mut persisted = self.persisted();
        let Some(db) = &persisted.db else {
            return Ok(());
        };
        if !db.changed_elsewhere()? {
            return Ok(());
        }
        let snapshot = db.load(self.clock.now_ms())?;
        persisted.locks = snapshot.locks;
        persisted.quotas = snapshot.quotas;
        persisted.kv = snapshot.kv;
        let mut index = BanIndex::default();
        for (network, record) in snapshot.bans {
            index.insert(network, record);
        }
        *self.bans_write() = index;
        tracing::debug!("state reloaded after a change by another process");
        Ok(())
    }
}

/// The storage key of one quota period.
fn quota_slot(key: &str, period: QuotaPeriod, id: i64) -> String {
    format!("{key}\u{1f}{}\u{1f}{id}", period.as_str())
}

/// One GCRA step: the decision and the new theoretical arrival time to store (`None` when
/// nothing changes). Times in microseconds. `burst` is the number of requests that may
/// arrive at once (at least 1).
pub(crate) fn gcra(
    stored_tat: Option<i64>,
    now: i64,
    rate: Rate,
    burst: u32,
    cost: u32,
) -> (RateDecision, Option<i64>) {
    let interval = rate.interval_us();
    let capacity = interval.saturating_mul(i64::from(burst.max(1)));
    let tat = stored_tat.unwrap_or(now).max(now);
    let new_tat = tat.saturating_add(interval.saturating_mul(i64::from(cost)));
    let us = |v: i64| Duration::from_micros(u64::try_from(v.max(0)).unwrap_or(0));
    if new_tat - now > capacity {
        let decision = RateDecision::Limited {
            retry_after: us(new_tat - capacity - now),
            reset: us(tat - now),
        };
        (decision, None)
    } else {
        let remaining = (capacity - (new_tat - now)) / interval;
        let decision = RateDecision::Allowed {
            remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
            reset: us(new_tat - now),
        };
        (decision, (cost > 0).then_some(new_tat))
    }
}

/// Hits of one sliding-window key (ms timestamps, oldest first).
struct Window {
    hits: VecDeque<i64>,
    window_ms: i64,
}

/// A GCRA theoretical arrival time (µs).
struct Tat(i64);

trait Expires {
    fn expired(&self, now_us: i64) -> bool;
}

impl Expires for Window {
    fn expired(&self, now_us: i64) -> bool {
        self.hits
            .back()
            .is_none_or(|&last| last <= now_us / 1000 - self.window_ms)
    }
}

impl Expires for Tat {
    fn expired(&self, now_us: i64) -> bool {
        self.0 <= now_us
    }
}

/// Hash maps split into independently locked shards, swept of expired entries as they are used.
struct Shards<V> {
    hasher: std::hash::RandomState,
    shards: Box<[Mutex<Shard<V>>]>,
}

struct Shard<V> {
    map: HashMap<String, V>,
    ops: u32,
}

impl<V: Expires> Shards<V> {
    fn new() -> Self {
        const SHARDS: usize = 32;
        Shards {
            hasher: std::hash::RandomState::new(),
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        map: HashMap::new(),
                        ops: 0,
                    })
                })
                .collect(),
        }
    }

    fn with<R>(&self, key: &str, now_us: i64, f: impl FnOnce(&mut HashMap<String, V>) -> R) -> R {
        let index = (self.hasher.hash_one(key) as usize) % self.shards.len();
        let mut shard = self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        shard.ops = shard.ops.wrapping_add(1);
        if shard.ops.is_multiple_of(SWEEP_EVERY) {
            shard.map.retain(|_, value| !value.expired(now_us));
        }
        f(&mut shard.map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn rate(count: u32, secs: u64) -> Rate {
        Rate::new(count, Duration::from_secs(secs)).expect("rate")
    }

    #[test]
    fn gcra_allows_the_burst_then_one_per_interval() {
        let clock = Clock::manual(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000));
        let store = LocalStore::in_memory(clock.clone());
        let limit = rate(10, 10); // one per second
        for expected in (0..3).rev() {
            match store.rate_check("k", limit, 3, 1) {
                RateDecision::Allowed { remaining, .. } => assert_eq!(remaining, expected),
                other => panic!("expected allowed, got {other:?}"),
            }
        }
        match store.rate_check("k", limit, 3, 1) {
            RateDecision::Limited { retry_after, reset } => {
                assert_eq!(retry_after, Duration::from_secs(1));
                assert_eq!(reset, Duration::from_secs(3));
            }
            other => panic!("expected limited, got {other:?}"),
        }
        clock.advance(Duration::from_secs(1));
        assert!(store.rate_check("k", limit, 3, 1).is_allowed());
        assert!(!store.rate_check("k", limit, 3, 1).is_allowed());
        // Other keys are independent.
        assert!(store.rate_check("other", limit, 3, 1).is_allowed());
    }

    #[test]
    fn remembered_locks_are_listed_by_prefix_until_forgotten() {
        let clock = Clock::manual(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000));
        let store = LocalStore::in_memory(clock.clone());
        let ttl = BlockTtl::Escalating(crate::Escalation {
            base: Duration::from_secs(60),
            max: Duration::from_secs(600),
            forget_after: Duration::from_secs(3600),
        });
        store.lock("login:a", &ttl).expect("lock");
        store.lock("login:b", &ttl).expect("lock");
        store.lock("other:c", &ttl).expect("lock");
        let keys = |store: &LocalStore| -> Vec<String> {
            store.locks("login:").into_iter().map(|(k, _)| k).collect()
        };
        assert_eq!(keys(&store), ["login:a", "login:b"]);
        // Ended but remembered (escalation), then forgotten.
        clock.advance(Duration::from_secs(120));
        assert!(store.locked_until("login:a").is_none());
        assert_eq!(keys(&store), ["login:a", "login:b"]);
        clock.advance(Duration::from_secs(3600));
        assert!(keys(&store).is_empty());
    }

    #[test]
    fn sliding_window_counts_only_recent_hits() {
        let clock = Clock::manual(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000));
        let store = LocalStore::in_memory(clock.clone());
        let window = Duration::from_secs(600);
        assert_eq!(store.count("u", window), 0);
        for n in 1..=3 {
            assert_eq!(store.hit("u", window), n);
            clock.advance(Duration::from_secs(240));
        }
        // Now 720 s after the first hit: the first has left the window.
        assert_eq!(store.count("u", window), 2);
        store.reset("u");
        assert_eq!(store.count("u", window), 0);
    }
}
