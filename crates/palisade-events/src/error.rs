//! The one error type of this crate: an opaque struct over a private kind enum,
//! so variants can grow without breaking callers.

use std::path::PathBuf;

/// Why an event store, sink, spool or the pipeline failed.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct EventsError(#[from] ErrorKind);

#[derive(Debug, thiserror::Error)]
pub(crate) enum ErrorKind {
    #[error("SQLite event store: {context}")]
    Sqlite {
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("PostgreSQL event store: {context}")]
    Postgres {
        context: &'static str,
        #[source]
        source: postgres::Error,
    },
    #[error("cannot connect to PostgreSQL at {host}")]
    PostgresConnect {
        host: String,
        #[source]
        source: postgres::Error,
    },
    #[error(
        "no Palisade event store in PostgreSQL at {host} (check postgres_url and postgres_schema)"
    )]
    PostgresNoStore {
        host: String,
        #[source]
        source: postgres::Error,
    },
    #[error("bulk sink {endpoint}: {reason}")]
    Bulk { endpoint: String, reason: String },
    #[error("the PostgreSQL connection to {host} is closed")]
    PostgresClosed { host: String },
    #[error("{context} {}", path.display())]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{context}")]
    Stream {
        context: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "event database schema version {found} is newer than this build supports ({supported}); upgrade palisade"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error(
        "event database schema version {found} is older than {expected}; open it once with the event store to migrate it"
    )]
    SchemaOutdated { found: i64, expected: i64 },
    #[error("stored event {id} is invalid: {reason}")]
    InvalidStoredEvent { id: i64, reason: String },
    #[error("event record is invalid: {0}")]
    InvalidRecord(String),
    #[error("event could not be encoded")]
    Encode(#[source] serde_json::Error),
    #[error("event pipeline is shut down")]
    Closed,
    #[error("event writer thread panicked")]
    WriterPanicked,
    #[error("sink {sink} is failing; {spooled_bytes} bytes of events wait in its spool")]
    SinkBacklog { sink: String, spooled_bytes: u64 },
    #[error("invalid value {value:?} for {what}")]
    InvalidValue { what: &'static str, value: String },
}

impl EventsError {
    /// True when the pipeline was already shut down.
    pub fn is_closed(&self) -> bool {
        matches!(self.0, ErrorKind::Closed)
    }

    /// True when a flush finished but a failing sink still has spooled events.
    pub fn is_sink_backlog(&self) -> bool {
        matches!(self.0, ErrorKind::SinkBacklog { .. })
    }

    pub(crate) fn sqlite(context: &'static str, source: rusqlite::Error) -> Self {
        ErrorKind::Sqlite { context, source }.into()
    }

    pub(crate) fn io(
        context: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        ErrorKind::Io {
            context,
            path: path.into(),
            source,
        }
        .into()
    }

    pub(crate) fn invalid_value(what: &'static str, value: impl Into<String>) -> Self {
        ErrorKind::InvalidValue {
            what,
            value: value.into(),
        }
        .into()
    }
}

/// Shorthand used by this crate.
pub(crate) type Result<T, E = EventsError> = std::result::Result<T, E>;
