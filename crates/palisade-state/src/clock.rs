//! Time for the in-process store: the system clock, or a manual clock tests advance.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where the in-process store reads the time. [`Clock::system`] in production; tests use
/// [`Clock::manual`] and [`Clock::advance`] to cross windows and periods without sleeping.
/// (The Redis store always uses the Redis server's clock, so all gateways agree.)
#[derive(Debug, Clone, Default)]
pub struct Clock {
    manual_us: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock standing at `start` until advanced.
    pub fn manual(start: SystemTime) -> Clock {
        let us = start
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        Clock {
            manual_us: Some(Arc::new(AtomicI64::new(us))),
        }
    }

    /// Moves a manual clock forward (no effect on the system clock).
    pub fn advance(&self, by: Duration) {
        if let Some(manual) = &self.manual_us {
            let by = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
            manual.fetch_add(by, Ordering::SeqCst);
        }
    }

    /// Microseconds since the Unix epoch.
    pub fn now_us(&self) -> i64 {
        match &self.manual_us {
            Some(manual) => manual.load(Ordering::SeqCst),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX)),
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.now_us() / 1000
    }
}
