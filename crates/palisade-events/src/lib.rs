//! Security event store and sinks: bounded async queue, embedded SQLite, JSON lines, query API.
#![forbid(unsafe_code)]
