//! Security event store and sinks: bounded async queue, embedded SQLite, JSON
//! lines, query API.
//!
//! This crate owns where [`SecurityEvent`](palisade_core::SecurityEvent)s go
//! after something records them:
//!
//! * [`EventPipeline`] — the [`EventSink`](palisade_core::EventSink) the gateway
//!   holds. `record()` never blocks; a writer thread batches events into every
//!   [`BatchSink`], spilling to an on-disk spool (`data_dir/spool/`) when the
//!   queue is full or a sink fails, and counting anything lost.
//! * Sinks behind [`BatchSink`]: [`SqliteStore`] (WAL, versioned migrations,
//!   retention), [`JsonLinesSink`] (ECS documents, see [`ecs`]) and
//!   [`SyslogSink`] (RFC 5424 over UDP or TCP), [`PostgresStore`] (several
//!   gateways, one store) and [`BulkSink`] (Elasticsearch/OpenSearch `_bulk`).
//! * [`StateTable`] — the monitor's persisted baselines, kept in the same store.
//! * Queries for `palisade events tail|search|stats`: [`EventReader`] (over the
//!   SQLite file or PostgreSQL, one implementation of every query),
//!   [`EventFilter`], [`TailFollower`], and the renderers in [`render`].
//! * [`escape_text`] — log-injection escaping for every text output.
//!
//! Typical wiring (`palisade demo`):
//!
//! ```no_run
//! use palisade_core::{EventSink, SecurityEvent, Severity};
//! use palisade_events::{EventPipeline, PipelineConfig, Retention, SqliteStore};
//!
//! # fn main() -> Result<(), palisade_events::EventsError> {
//! let store = SqliteStore::open_in("./palisade-data", Retention::default())?;
//! let pipeline = EventPipeline::start(PipelineConfig::new("./palisade-data"), vec![Box::new(store)])?;
//! pipeline.record(SecurityEvent::new("malicious_sqli", "web", Severity::High, "blocked"));
//! pipeline.shutdown()?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod bulk;
pub mod ecs;
mod error;
mod escape;
mod pipeline;
mod postgres_store;
mod query;
pub mod render;
mod schema;
mod sink;
mod spool;
mod sql;
mod sqlite;
mod state_table;
pub mod syslog;

pub use bulk::{BulkSink, BulkSinkConfig};
pub use error::EventsError;
pub use escape::escape_text;
pub use pipeline::{
    DropReason, EventPipeline, PipelineConfig, PipelineCounters, PipelineStats, SPOOL_DIR,
};
pub use postgres_store::{POSTGRES_SCHEMA_VERSION, PostgresStore};
pub use query::{
    CountedValue, DEFAULT_LIMIT, EventFilter, EventReader, EventStats, MAX_LIMIT, StoredEvent,
    TailFollower, now_ms,
};
pub use render::{OutputFormat, render_events, render_json, render_stats, render_table};
pub use schema::{Retention, SCHEMA_VERSION};
pub use sink::{BatchSink, EventTap, JsonLinesSink};
pub use sqlite::{DEFAULT_DB_FILE, SqliteStore};
pub use state_table::{PostgresStateTable, SqliteStateTable, StateTable};
pub use syslog::{SyslogHeader, SyslogSink, SyslogTransport};
