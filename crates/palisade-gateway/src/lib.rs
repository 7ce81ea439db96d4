//! Palisade's data plane: HTTP/1.1 and HTTP/2 reverse proxy, TLS termination, routing, limits and the
//! inspection pipeline.
//!
//! This crate owns everything `palisade serve` does with client traffic:
//!
//! * [`start`] binds the configured listeners and returns a [`GatewayHandle`]; the handle reports the
//!   bound addresses, swaps configurations atomically ([`GatewayHandle::reload`]) and shuts down
//!   gracefully ([`GatewayHandle::shutdown`]).
//! * `server` — accept loops, PROXY protocol, TLS with SNI (`tls`), per-connection limits.
//! * `cert_watch` — certificates reloaded when their files change (and on every `reload()`).
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
//! * `upstream_pool` — per-server pools of upstream connections (`http://` and `https://`, HTTP/1.1 or
//!   HTTP/2): hyper's client, and for the common exchange (a buffered request to an `http://` server)
//!   `h1_upstream`, a lean HTTP/1.1 client that runs in the request's own task.
//! * [`fuzzing`] — the HTTP/1 head guard without sockets, for fuzz targets.
//!
//! Known limits: HTTP/2 client connections rely on hyper's HTTP/2 keep-alive pings rather than the
//! HTTP/1 guard's timers; idle upstream connections are closed when next seen after 90 s (or by the
//! upstream), not by a timer; on streaming routes (no body inspection) a body that turns out malformed or too large mid-stream is cut
//! (client gets 400/413) after the upstream may already have seen its head.
//!
//! Design notes: the plain-proxy path (no inspectors, or a route with `inspect = false`) streams both bodies
//! and takes no locks beyond the upstream pool's short checkout/checkin.
#![forbid(unsafe_code)]

mod body;
mod cert_watch;
mod error;
pub mod fuzzing;
mod h1_guard;
mod h1_upstream;
mod headers;
mod pages;
mod proxy;
mod proxy_protocol;
mod runtime;
mod server;
mod tls;
mod upstream_pool;

pub use error::GatewayError;
pub use runtime::ReloadSummary;
pub use server::{GatewayHandle, start};
