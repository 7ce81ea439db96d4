//! Synchronous access to the store for code that cannot `.await` (inspector hooks).
//!
//! Each call drives the store's future on the calling thread. With the in-process store the
//! future is ready at once (no waiting). With Redis the work runs on the store's own runtime and
//! the caller waits at most the store's operation timeout; on a Tokio multi-thread worker the
//! wait happens inside `block_in_place`, so other tasks move to other workers meanwhile.

use std::future::Future;
use std::net::IpAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use ipnet::IpNet;

use crate::error::StateError;
use crate::model::{
    Ban, BanRequest, BlockTtl, LockInfo, QuotaDecision, QuotaPeriod, Rate, RateDecision,
};
use crate::store::StateStore;

/// The operations of [`StateStore`], synchronously. Get one with [`StateStore::blocking`].
#[derive(Debug, Clone, Copy)]
pub struct Blocking<'a> {
    store: &'a StateStore,
}

impl<'a> Blocking<'a> {
    pub(crate) fn new(store: &'a StateStore) -> Self {
        Blocking { store }
    }

    /// See [`StateStore::hit`].
    pub fn hit(&self, key: &str, window: Duration) -> Result<u64, StateError> {
        block_on(self.store.hit(key, window))
    }

    /// See [`StateStore::count`].
    pub fn count(&self, key: &str, window: Duration) -> Result<u64, StateError> {
        block_on(self.store.count(key, window))
    }

    /// See [`StateStore::reset`].
    pub fn reset(&self, key: &str) -> Result<(), StateError> {
        block_on(self.store.reset(key))
    }

    /// See [`StateStore::rate_check`].
    pub fn rate_check(
        &self,
        key: &str,
        rate: Rate,
        burst: u32,
        cost: u32,
    ) -> Result<RateDecision, StateError> {
        block_on(self.store.rate_check(key, rate, burst, cost))
    }

    /// See [`StateStore::lock`].
    pub fn lock(&self, key: &str, ttl: BlockTtl) -> Result<LockInfo, StateError> {
        block_on(self.store.lock(key, ttl))
    }

    /// See [`StateStore::locked_until`].
    pub fn locked_until(&self, key: &str) -> Result<Option<LockInfo>, StateError> {
        block_on(self.store.locked_until(key))
    }

    /// See [`StateStore::unlock`].
    pub fn unlock(&self, key: &str) -> Result<bool, StateError> {
        block_on(self.store.unlock(key))
    }

    /// See [`StateStore::locks`].
    pub fn locks(&self, prefix: &str) -> Result<Vec<(String, LockInfo)>, StateError> {
        block_on(self.store.locks(prefix))
    }

    /// See [`StateStore::ban`].
    pub fn ban(&self, request: BanRequest) -> Result<Ban, StateError> {
        block_on(self.store.ban(request))
    }

    /// See [`StateStore::unban`].
    pub fn unban(&self, network: IpNet) -> Result<bool, StateError> {
        block_on(self.store.unban(network))
    }

    /// See [`StateStore::bans`].
    pub fn bans(&self) -> Result<Vec<Ban>, StateError> {
        block_on(self.store.bans())
    }

    /// See [`StateStore::is_banned`] (already synchronous).
    pub fn is_banned(&self, ip: IpAddr) -> Option<Ban> {
        self.store.is_banned(ip)
    }

    /// See [`StateStore::quota_charge`].
    pub fn quota_charge(
        &self,
        key: &str,
        period: QuotaPeriod,
        limit: u64,
        cost: u64,
    ) -> Result<QuotaDecision, StateError> {
        block_on(self.store.quota_charge(key, period, limit, cost))
    }

    /// See [`StateStore::quota_used`].
    pub fn quota_used(&self, key: &str, period: QuotaPeriod) -> Result<u64, StateError> {
        block_on(self.store.quota_used(key, period))
    }

    /// See [`StateStore::kv_set`].
    pub fn kv_set(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<(), StateError> {
        block_on(self.store.kv_set(key, value, ttl))
    }

    /// See [`StateStore::kv_get`].
    pub fn kv_get(&self, key: &str) -> Result<Option<String>, StateError> {
        block_on(self.store.kv_get(key))
    }

    /// See [`StateStore::kv_delete`].
    pub fn kv_delete(&self, key: &str) -> Result<bool, StateError> {
        block_on(self.store.kv_delete(key))
    }

    /// See [`StateStore::kv_keys`].
    pub fn kv_keys(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        block_on(self.store.kv_keys(prefix))
    }
}

/// Wakes the thread that waits in [`block_on`].
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread. The store's futures never need this thread's
/// runtime (Redis work runs on the store's own runtime), so this is safe inside and outside
/// Tokio.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    // In-process operations are ready at the first poll: no waker allocation, no parking.
    if let Poll::Ready(output) = future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        return output;
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut wait = || {
        let mut context = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
            std::thread::park();
        }
    };
    let on_multi_thread_worker = tokio::runtime::Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if on_multi_thread_worker {
        tokio::task::block_in_place(wait)
    } else {
        wait()
    }
}
