//! Integration tests of palisade-events: one binary, one module per concern.
//! Case tables live in `tests/data/` and are run by the harness functions here.

mod bulk;
mod crash;
mod pipeline;
mod postgres_store;
mod render;
mod store;
mod support;
mod syslog;
