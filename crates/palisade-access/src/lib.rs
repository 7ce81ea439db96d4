//! Access control at the edge, as a Palisade [`Inspector`](palisade_core::Inspector).
//!
//! This crate owns who may call what on sites with `[site.access]`:
//!
//! * authentication — API keys (only an HMAC-SHA256 of each key is stored, in
//!   `<data_dir>/access.sqlite3`; [`store`], [`keys`]), JWT bearer tokens ([`jwt`]) and verified
//!   TLS client certificates; the identity goes into the exchange context for later inspectors
//!   (rate limits by key or user) and, signed, to the upstream ([`identity`]);
//! * authorization — per-route rules with path parameters, first match wins, default deny on API
//!   sites ([`rules`]); 401 with `WWW-Authenticate` or 403;
//! * login protection — failed logins per account and per IP in sliding windows, doubling account
//!   locks, IP backoff, credential-stuffing detection; locked attempts get 429 + `Retry-After`
//!   without reaching the upstream ([`login`]);
//! * CSRF defence — Fetch Metadata / Origin / Referer and double-submit tokens ([`csrf`]).
//!
//! Entry points: [`AccessControl::new`] (the inspector of a configuration) and [`AccessStore`]
//! (the key and lock store the CLI manages). Nothing on the request path does I/O: a background
//! thread persists locks and key use, and reloads what other processes changed.
#![forbid(unsafe_code)]

pub mod csrf;
mod error;
pub mod identity;
mod inspector;
pub mod jwt;
pub mod keys;
pub mod login;
pub mod rules;
pub mod secret;
pub mod store;
mod sync;

pub use error::AccessError;
pub use inspector::{AccessControl, Authenticated};
pub use login::normalise_account;
pub use secret::KeyHasher;
pub use store::{AccessStore, AccountLock, ApiKeyInfo, CreatedKey};
