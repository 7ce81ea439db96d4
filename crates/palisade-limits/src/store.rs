//! The process's state store, built once per `[state]` configuration, and the queue that carries
//! the Redis backend's availability changes to the event pipeline.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use palisade_config::{State, StateBackend, StateFailMode};
use palisade_core::SecurityEvent;
use palisade_state::{BackendEvent, FailMode, FailModes, RedisSettings, StateStore};

use crate::error::LimitsError;

/// Backend events waiting for an inspection's logging phase (bounded; oldest dropped).
const MAX_PENDING_EVENTS: usize = 64;

struct Cached {
    state: State,
    data_dir: PathBuf,
    store: StateStore,
}

fn cache() -> &'static Mutex<Option<Cached>> {
    static CACHE: OnceLock<Mutex<Option<Cached>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(None))
}

fn pending() -> &'static Mutex<VecDeque<SecurityEvent>> {
    static PENDING: OnceLock<Mutex<VecDeque<SecurityEvent>>> = OnceLock::new();
    PENDING.get_or_init(|| Mutex::new(VecDeque::new()))
}

/// Backend availability events recorded since the last call, as security events.
pub(crate) fn take_backend_events() -> Vec<SecurityEvent> {
    let mut queue = pending().lock().unwrap_or_else(PoisonError::into_inner);
    queue.drain(..).collect()
}

fn queue_backend_event(event: BackendEvent) {
    let mut queue = pending().lock().unwrap_or_else(PoisonError::into_inner);
    if queue.len() == MAX_PENDING_EVENTS {
        queue.pop_front();
    }
    queue.push_back(event.to_security_event());
}

/// The state store for `state` (data in `data_dir` for the local backend). The same store is
/// returned while the settings stay the same, so counters survive configuration reloads and
/// every component of the process shares one store.
pub fn open_store(state: &State, data_dir: &Path) -> Result<StateStore, LimitsError> {
    let mut cached = cache().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(existing) = cached.as_ref()
        && existing.state == *state
        && existing.data_dir == data_dir
    {
        return Ok(existing.store.clone());
    }
    let store = match state.backend {
        StateBackend::Local => StateStore::open_local(data_dir)?,
        StateBackend::Redis => {
            let url = state
                .redis_url
                .as_ref()
                .ok_or_else(LimitsError::missing_redis_url)?;
            let mut settings = RedisSettings::new(url.expose());
            settings.key_prefix = state.key_prefix.clone();
            settings.op_timeout = state.op_timeout;
            settings.fail_modes = fail_modes(state);
            settings.on_event = Some(Arc::new(queue_backend_event));
            StateStore::redis(settings)?
        }
    };
    *cached = Some(Cached {
        state: state.clone(),
        data_dir: data_dir.to_owned(),
        store: store.clone(),
    });
    Ok(store)
}

/// The per-feature fail modes a `[state]` table asks for.
pub fn fail_modes(state: &State) -> FailModes {
    let mode = |over: Option<StateFailMode>| match over.unwrap_or(state.fail_mode) {
        StateFailMode::Local => FailMode::Local,
        StateFailMode::Open => FailMode::Open,
        StateFailMode::Closed => FailMode::Closed,
    };
    FailModes {
        rate_limit: mode(state.fail_modes.rate_limit),
        quota: mode(state.fail_modes.quota),
        lock: mode(state.fail_modes.lock),
    }
}
