//! Palisade's data plane: HTTP/1.1 and HTTP/2 reverse proxy, TLS termination, routing, limits and the
//! inspection pipeline.
//!
//! This crate owns everything `palisade serve` does with client traffic:
//!
//! * [`start`] binds the configured listeners and returns a [`GatewayHandle`]; the handle reports the
//!   bound addresses, swaps configurations atomically ([`GatewayHandle::reload`]) and shuts down
//!   gracefully ([`GatewayHandle::shutdown`]).
//! * `server` — accept loops, PROXY protocol, TLS with SNI (`tls`), per-connection limits.
//! * `h1_guard` — HTTP/1 connection guard: refuses ambiguous framing (smuggling), enforces the header
//!   read and keep-alive idle timeouts.
//! * `runtime` — a compiled configuration: host and path routing tables, upstream pools with round robin
//!   and passive health, TLS server configurations. One `Runtime` lives behind an `ArcSwap`; every request
//!   loads it once (lock free) and keeps it until it is done, so a reload never disturbs in-flight requests.
//! * `proxy` — one request: protocol checks, routing, the inspection phases, forwarding, response hardening,
//!   the access log and metrics.
//! * `headers` — hop-by-hop removal, `X-Forwarded-*` / `Forwarded`, client address resolution, security
//!   response headers and cookie hardening.
//! * `pages` — Palisade's own small error and block pages (HTML or JSON).
//!
//! Known limits: upstream servers are `http://` only (HTTP/1.1 or prior-knowledge HTTP/2); HTTP/2
//! client connections rely on hyper's HTTP/2 keep-alive pings rather than the HTTP/1 guard's timers; on
//! streaming routes (no body inspection) a body that turns out malformed or too large mid-stream is cut
//! (client gets 400/413) after the upstream may already have seen its head; certificates are re-read on
//! `reload()` (no file watcher yet).
//!
//! Design notes: the plain-proxy path (no inspectors, or a route with `inspect = false`) streams both bodies
//! and takes no locks; the upstream connection pool is hyper-util's legacy client, one per upstream.
#![forbid(unsafe_code)]

mod body;
mod error;
mod h1_guard;
mod headers;
mod pages;
mod proxy;
mod proxy_protocol;
mod runtime;
mod server;
mod tls;

pub use error::GatewayError;
pub use runtime::ReloadSummary;
pub use server::{GatewayHandle, start};
