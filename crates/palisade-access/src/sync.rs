//! The background thread between the request path and the access store: it writes account locks
//! as they happen, writes API key last-used times every few seconds, and reloads keys and locks
//! when another process (the CLI, another gateway on the same data directory) changed the store.
//! Nothing on the request path touches SQLite.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::keys::KeyIndex;
use crate::login::{LockWrite, LoginGuard};
use crate::store::AccessStore;

/// How often the store is checked for other processes' changes.
const RELOAD_EVERY: Duration = Duration::from_millis(500);
/// How often last-used times are written.
const FLUSH_EVERY: Duration = Duration::from_secs(5);

pub(crate) struct Synced {
    pub keys: Weak<ArcSwap<KeyIndex>>,
    pub guard: Weak<LoginGuard>,
    pub sites: Vec<Arc<str>>,
}

/// Runs until the key index and the login guard are gone.
pub(crate) fn start(store: AccessStore, synced: Synced, writes: Receiver<LockWrite>) {
    let spawned = std::thread::Builder::new()
        .name("palisade-access-store".to_owned())
        .spawn(move || run(store, synced, writes));
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the access store thread; locks are not persisted");
    }
}

fn run(mut store: AccessStore, synced: Synced, writes: Receiver<LockWrite>) {
    let mut version = store.data_version();
    let mut last_flush = Instant::now();
    let mut last_reload = Instant::now();
    loop {
        match writes.recv_timeout(RELOAD_EVERY) {
            Ok(write) => apply(&store, &synced, write),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                flush(&mut store, &synced);
                return;
            }
        }
        while let Ok(write) = writes.try_recv() {
            apply(&store, &synced, write);
        }
        if synced.keys.strong_count() == 0 && synced.guard.strong_count() == 0 {
            return;
        }
        if last_flush.elapsed() >= FLUSH_EVERY {
            flush(&mut store, &synced);
            last_flush = Instant::now();
        }
        if last_reload.elapsed() >= RELOAD_EVERY {
            last_reload = Instant::now();
            let now = store.data_version();
            if now != version {
                version = now;
                reload(&store, &synced);
            }
        }
    }
}

fn apply(store: &AccessStore, synced: &Synced, write: LockWrite) {
    match write {
        LockWrite::Put(lock) => match store.put_lock(&lock) {
            Ok(()) => {
                if let Some(guard) = synced.guard.upgrade() {
                    guard.mark_persisted(&lock.site, &lock.account, lock.until_ms);
                }
            }
            Err(error) => tracing::warn!(%error, "account lock not persisted"),
        },
        LockWrite::Delete { site, account } => {
            if let Err(error) = store.delete_lock(&site, &account) {
                tracing::warn!(%error, "account lock not removed from the store");
            }
        }
    }
}

fn flush(store: &mut AccessStore, synced: &Synced) {
    let Some(keys) = synced.keys.upgrade() else {
        return;
    };
    let used = keys.load().take_unflushed_uses();
    if used.is_empty() {
        return;
    }
    if let Err(error) = store.touch_keys(&used) {
        tracing::warn!(%error, "API key last-used times not written");
    }
}

/// Reloads keys and locks from the store.
pub(crate) fn reload(store: &AccessStore, synced: &Synced) {
    if let Some(keys) = synced.keys.upgrade() {
        match store.list_keys() {
            Ok(list) => {
                let previous = keys.load();
                keys.store(Arc::new(KeyIndex::new(list, Some(&previous))));
            }
            Err(error) => tracing::warn!(%error, "API keys not reloaded"),
        }
    }
    if let Some(guard) = synced.guard.upgrade() {
        match store.list_locks() {
            Ok(locks) => guard.apply_stored(&locks, &synced.sites),
            Err(error) => tracing::warn!(%error, "account locks not reloaded"),
        }
    }
}
