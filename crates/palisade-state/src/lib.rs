//! Palisade's shared state: everything that must be remembered across requests — and, with
//! Redis, across gateway instances — behind one interface, [`StateStore`].
//!
//! * **Sliding-window counters** — [`StateStore::hit`], [`StateStore::count`],
//!   [`StateStore::reset`] (failed logins per account / per IP).
//! * **GCRA rate limits** — [`StateStore::rate_check`] with a [`Rate`], a burst and a cost,
//!   answering [`RateDecision::Allowed`] (remaining, reset) or [`RateDecision::Limited`]
//!   (retry after).
//! * **Locks** with a TTL that can double on repeat ([`BlockTtl::Escalating`]) —
//!   [`StateStore::lock`], [`StateStore::locked_until`], [`StateStore::unlock`].
//! * **Bans** of addresses or networks with TTL, reason and source — [`StateStore::ban`],
//!   [`StateStore::bans`], [`StateStore::unban`], and the synchronous in-memory
//!   [`StateStore::is_banned`] for every request.
//! * **Quotas** per UTC day or month — [`StateStore::quota_charge`], [`StateStore::quota_used`].
//! * **Key-value entries** with optional TTL — [`StateStore::kv_set`] and friends.
//!
//! Backends: the in-process store ([`StateStore::open_local`]: memory, with locks, bans, quotas
//! and entries written through to `<data_dir>/state.sqlite3`, so a restart loses none and the CLI
//! can change them) and Redis ([`StateStore::redis`]: atomic Lua scripts, a key prefix, short
//! timeouts and a per-feature fail mode with a local fallback while Redis is unreachable; see
//! [`RedisSettings`]). Operations are `async`; [`StateStore::blocking`] gives the same
//! operations to synchronous inspector hooks.
//!
//! Hostile input is bounded: keys over 200 bytes are hashed, a sliding window remembers at most
//! [`MAX_WINDOW_HITS`] hits per key, and expired in-memory entries are swept as shards are used.
#![forbid(unsafe_code)]

mod bans;
mod blocking;
mod clock;
mod error;
mod local;
mod model;
mod persist;
mod redis;
mod store;

pub use blocking::Blocking;
pub use clock::Clock;
pub use error::StateError;
pub use local::MAX_WINDOW_HITS;
pub use model::{
    Ban, BanRequest, BlockTtl, Escalation, LockInfo, QuotaDecision, QuotaPeriod, Rate, RateDecision,
};
pub use persist::STATE_FILE;
pub use redis::{BackendEvent, BackendEventCallback, FailMode, FailModes, RedisSettings};
pub use store::StateStore;
