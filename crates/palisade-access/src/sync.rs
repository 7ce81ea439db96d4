//! The background thread between the request path and the access store: it writes API key
//! last-used times every few seconds, and reloads the keys when another process (the CLI,
//! another gateway on the same data directory) changed the store. Nothing on the request path
//! touches SQLite. (Login counters and account locks live in the state store, see
//! [`crate::login`].)

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::keys::KeyIndex;
use crate::store::AccessStore;

/// How often the store is checked for other processes' changes.
const RELOAD_EVERY: Duration = Duration::from_millis(500);
/// How often last-used times are written.
const FLUSH_EVERY: Duration = Duration::from_secs(5);

pub(crate) struct Synced {
    pub keys: Weak<ArcSwap<KeyIndex>>,
}

/// Runs until the key index is gone.
pub(crate) fn start(store: AccessStore, synced: Synced) {
    let spawned = std::thread::Builder::new()
        .name("palisade-access-store".to_owned())
        .spawn(move || run(store, synced));
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the access store thread; key changes need a restart");
    }
}

fn run(mut store: AccessStore, synced: Synced) {
    let mut version = store.data_version();
    let mut last_flush = Instant::now();
    loop {
        std::thread::sleep(RELOAD_EVERY);
        if synced.keys.strong_count() == 0 {
            return;
        }
        if last_flush.elapsed() >= FLUSH_EVERY {
            flush(&mut store, &synced);
            last_flush = Instant::now();
        }
        let now = store.data_version();
        if now != version {
            version = now;
            reload(&store, &synced);
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

/// Reloads the keys from the store.
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
}
