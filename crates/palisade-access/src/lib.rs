//! Access control at the edge, as a Palisade [`Inspector`](palisade_core::Inspector).
//!
//! This crate owns who may call what on sites with `[site.access]`:
//!
//! * authentication — API keys (only an HMAC-SHA256 of each key is stored, in
//!   `<data_dir>/access.sqlite3`; [`store`], [`keys`]), JWT bearer tokens ([`jwt`], signatures
//!   checked with `ring`) and verified TLS client certificates; the identity goes into the
//!   exchange context for later inspectors (rate limits by key or user) and, signed, to the
//!   upstream ([`identity`]);
//! * authorization — per-route rules with path parameters, first match wins, default deny on API
//!   sites ([`rules`]); 401 with `WWW-Authenticate` or 403;
//! * login protection — failed logins per account and per IP in sliding windows, doubling account
//!   locks, IP backoff, credential-stuffing detection; locked attempts get 429 + `Retry-After`
//!   without reaching the upstream ([`login`]). Counters and locks live in the process's
//!   [`palisade_state::StateStore`], so gateways sharing Redis share them;
//! * CSRF defence — Fetch Metadata / Origin / Referer and double-submit tokens ([`csrf`]).
//!
//! Entry points: [`AccessControl::with_state`] (the inspector of a configuration over the
//! process's state store), [`AccessStore`] (the API key store the CLI manages), and
//! [`account_locks`] / [`unlock_account`] (`palisade accounts`; [`migrate_legacy_locks`] moves
//! locks older gateways kept in `access.sqlite3` into the state store). API keys never cause I/O on
//! the request path (a background thread persists key use and reloads what other processes
//! changed); login protection reads and writes the state store — memory, or one Redis round
//! trip per operation.
#![forbid(unsafe_code)]

pub mod csrf;
mod error;
pub mod identity;
mod inspector;
pub mod jwt;
mod jwt_crypto;
pub mod keys;
pub mod login;
pub mod rules;
pub mod secret;
pub mod store;
mod sync;

pub use error::AccessError;
pub use inspector::{AccessControl, Authenticated};
pub use login::{account_locks, migrate_legacy_locks, normalise_account, unlock_account};
pub use secret::KeyHasher;
pub use store::{AccessStore, AccountLock, ApiKeyInfo, CreatedKey};
