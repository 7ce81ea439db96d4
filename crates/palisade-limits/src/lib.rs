//! Rate limits, quotas and IP bans at the edge.
//!
//! This crate owns three things on top of [`palisade_state`]:
//!
//! * [`open_store`] — the process's [`StateStore`] built from the `[state]` configuration
//!   (in-process + SQLite, or Redis with its fail modes). It is cached: every caller in the
//!   process (these inspectors, access control, the monitor) and every configuration reload
//!   with the same `[state]` settings get the same store.
//! * [`BanInspector`] — refuses requests from banned addresses and networks with 403 at the
//!   request-headers phase (one in-memory lookup), recording `authz_fail` events. It also turns
//!   availability changes of the Redis backend into `sys_state_backend_*` events.
//! * [`LimitsInspector`] — the per-route `rate_limit` rules (GCRA by client address, API key,
//!   user or route) and `quota` (daily / monthly), answering 429 with `Retry-After`,
//!   `RateLimit` and `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers structured
//!   fields) and recording `excess_rate_limit_exceeded` events. The identity for `api_key` and
//!   `user` comes from [`palisade_core::ExchangeContext::identity`], set by the access
//!   inspector, which must run before this one; without an identity, requests count by client
//!   address.
#![forbid(unsafe_code)]

mod bans;
mod error;
mod headers;
mod limits;
mod store;

pub use bans::BanInspector;
pub use error::LimitsError;
pub use limits::LimitsInspector;
pub use store::{fail_modes, open_store};

pub use palisade_state::StateStore;
