//! The one trait every store and sink implements, and the JSON lines file sink.
//!
//! A [`BatchSink`] is driven by the pipeline's single writer thread: calls are
//! synchronous, take whole batches, and may block on I/O (they never run on the
//! request path). A sink reports failure by returning an error; the pipeline then
//! spools the batch to disk for that sink and retries later, so a sink does not
//! need its own retry logic.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use palisade_core::SecurityEvent;

use crate::ecs::to_ecs;
use crate::error::{ErrorKind, EventsError, Result};

/// A destination for batches of events (SQLite store, JSON lines file, syslog).
pub trait BatchSink: Send + 'static {
    /// Short stable name; also names the sink's spool directory, so keep it to
    /// `[a-z0-9_-]`.
    fn name(&self) -> &str;

    /// Writes a batch. On error, none or some of the batch may have been
    /// written; the pipeline re-delivers the whole batch later (at-least-once).
    fn write_batch(&mut self, events: &[SecurityEvent]) -> Result<(), EventsError>;

    /// Periodic housekeeping such as retention; `now_ms` is the current time.
    fn maintain(&mut self, now_ms: i64) -> Result<(), EventsError> {
        let _ = now_ms;
        Ok(())
    }
}

/// An observer of the live event stream (the anomaly monitor, alerting). The
/// pipeline's writer thread calls it with every batch it takes from the queue
/// (not with spool replays to a single failing sink, so each event is seen
/// once). It must not block: hand the events to another thread.
pub trait EventTap: Send + 'static {
    /// Sees a batch of events.
    fn observe(&mut self, events: &[SecurityEvent]);
}

/// Appends each event as one ECS JSON document per line (see [`crate::ecs`]).
/// `serde_json` escapes control characters, so a hostile field cannot split a
/// line.
#[derive(Debug)]
pub struct JsonLinesSink {
    path: PathBuf,
    out: BufWriter<File>,
}

impl JsonLinesSink {
    /// Opens (creating parent directories) `path` for appending.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| EventsError::io("cannot create directory for", parent, e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| EventsError::io("cannot open JSON lines file", &path, e))?;
        Ok(JsonLinesSink {
            path,
            out: BufWriter::new(file),
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Appends one ECS JSON line per event to `out` (shared by this sink and the spool).
pub(crate) fn write_json_lines(
    out: &mut impl Write,
    events: &[SecurityEvent],
) -> std::io::Result<()> {
    for event in events {
        serde_json::to_writer(&mut *out, &to_ecs(event))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

impl BatchSink for JsonLinesSink {
    fn name(&self) -> &str {
        "jsonl"
    }

    fn write_batch(&mut self, events: &[SecurityEvent]) -> Result<()> {
        write_json_lines(&mut self.out, events)
            .and_then(|()| self.out.flush())
            .map_err(|source| {
                ErrorKind::Io {
                    context: "cannot write JSON lines file",
                    path: self.path.clone(),
                    source,
                }
                .into()
            })
    }
}
