//! Logging set-up: tracing on standard error, JSON lines (default, formatted by [`json`]) or
//! pretty (tracing-subscriber's compact format), filtered by `log.level` unless `RUST_LOG` is set. Nothing here logs
//! configuration values, so secrets never reach the log.
//!
//! # Buffered, off-thread output
//! A request thread never makes a system call for its log line (the access log writes one per
//! request). Formatted lines are appended to one in-memory buffer; a writer thread hands the
//! buffer to standard error at least every [`FLUSH_INTERVAL`], sooner once it holds
//! [`FLUSH_BYTES`]. The buffer is bounded ([`MAX_PENDING_BYTES`]): when the output cannot keep
//! up, new lines are dropped, counted in the `palisade_log_lines_dropped_total` metric and
//! reported by a warning line as soon as the output drains — never lost silently.
//!
//! Everything buffered is written when the [`LogGuard`] returned by [`init`] drops (a normal
//! shutdown or an error return) and when the process panics. After `kill -9`, at most the lines
//! of the last flush interval are lost.

use std::io::IsTerminal as _;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

mod json;

/// Longest time a line waits in the buffer.
const FLUSH_INTERVAL: Duration = Duration::from_millis(20);
/// A buffer this full is written at once instead of at the next interval.
const FLUSH_BYTES: usize = 64 * 1024;
/// Bytes held at most while standard error is slow; lines beyond are dropped and counted.
const MAX_PENDING_BYTES: usize = 8 * 1024 * 1024;

/// Installs the global subscriber. Call once, after the configuration is loaded, and keep the
/// guard until the process is done logging.
pub(crate) fn init(log: &palisade_config::Log) -> anyhow::Result<LogGuard> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::try_new(&directives)
            .with_context(|| format!("invalid RUST_LOG {directives:?}"))?,
        _ => EnvFilter::try_new(&log.level)
            .with_context(|| format!("invalid log.level {:?}", log.level))?,
    };
    let buffer = LogBuffer::shared();
    let installed = match log.format.as_str() {
        "pretty" => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(Arc::clone(&buffer))
            .with_ansi(std::io::stderr().is_terminal())
            .compact()
            .try_init()
            .map_err(|error| error.to_string()),
        _ => tracing_subscriber::registry()
            .with(filter)
            .with(json::JsonLines::new(Arc::clone(&buffer)))
            .try_init()
            .map_err(|error| error.to_string()),
    };
    installed.map_err(|error| anyhow::anyhow!("cannot install the logger: {error}"))?;
    Ok(LogGuard::start(buffer))
}

/// Lines waiting for standard error.
#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    /// Lines dropped since the last report.
    dropped: u64,
    /// The guard dropped: write what is left and stop.
    closed: bool,
}

/// The buffer between the formatting threads and the writer thread.
#[derive(Default)]
pub(crate) struct LogBuffer {
    pending: Mutex<Pending>,
    /// Signalled when the buffer passes [`FLUSH_BYTES`] or closes.
    wake: Condvar,
}

impl LogBuffer {
    /// The process's buffer (one subscriber per process; tests start several gateways in
    /// separate processes).
    fn shared() -> Arc<Self> {
        static SHARED: OnceLock<Arc<LogBuffer>> = OnceLock::new();
        Arc::clone(SHARED.get_or_init(|| {
            let buffer = Arc::new(LogBuffer::default());
            let for_panics = Arc::clone(&buffer);
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                for_panics.write_out(&mut std::io::stderr().lock());
                previous(info);
            }));
            buffer
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends one formatted line (tracing-subscriber writes each event with one `write_all`).
    fn append(&self, line: &[u8]) {
        let mut pending = self.lock();
        if pending.bytes.len() + line.len() > MAX_PENDING_BYTES {
            pending.dropped += 1;
            return;
        }
        pending.bytes.extend_from_slice(line);
        if pending.bytes.len() >= FLUSH_BYTES {
            self.wake.notify_one();
        }
    }

    /// Writes everything buffered to `out` now (at shutdown and from the panic hook).
    fn write_out(&self, out: &mut impl std::io::Write) {
        let (bytes, dropped) = {
            let mut pending = self.lock();
            (
                std::mem::take(&mut pending.bytes),
                std::mem::take(&mut pending.dropped),
            )
        };
        write_lines(out, &bytes, dropped);
    }

    /// The writer thread: waits for lines, writes them, until closed and drained.
    fn run_writer(&self) {
        let mut spare = Vec::new();
        loop {
            let (dropped, closed) = {
                let mut pending = self.lock();
                if !pending.closed && pending.bytes.len() < FLUSH_BYTES {
                    pending = self
                        .wake
                        .wait_timeout(pending, FLUSH_INTERVAL)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                std::mem::swap(&mut pending.bytes, &mut spare);
                (std::mem::take(&mut pending.dropped), pending.closed)
            };
            write_lines(&mut std::io::stderr().lock(), &spare, dropped);
            spare.clear();
            if closed {
                // Lines appended between the swap and now (from threads still shutting down).
                self.write_out(&mut std::io::stderr().lock());
                return;
            }
        }
    }
}

/// Writes `bytes`, then reports `dropped` lines if any. Errors writing standard error have
/// nowhere to be reported and are ignored, as tracing-subscriber does.
fn write_lines(out: &mut impl std::io::Write, bytes: &[u8], dropped: u64) {
    if !bytes.is_empty() {
        let _ = out.write_all(bytes);
    }
    if dropped > 0 {
        metrics::counter!("palisade_log_lines_dropped_total").increment(dropped);
        let _ = writeln!(
            out,
            r#"{{"level":"WARN","target":"palisade::log","message":"{dropped} log lines dropped: standard error could not keep up"}}"#
        );
    }
    let _ = out.flush();
}

/// tracing-subscriber's writer (through `Arc<LogBuffer>`): each event is one `write_all`.
impl std::io::Write for &LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Owns the writer thread; dropping it writes out everything buffered.
pub(crate) struct LogGuard {
    buffer: Arc<LogBuffer>,
    writer: Option<JoinHandle<()>>,
}

impl LogGuard {
    fn start(buffer: Arc<LogBuffer>) -> Self {
        let for_thread = Arc::clone(&buffer);
        let writer = std::thread::Builder::new()
            .name("palisade-log".into())
            .spawn(move || for_thread.run_writer());
        match writer {
            Ok(writer) => LogGuard {
                buffer,
                writer: Some(writer),
            },
            // No thread: lines still reach standard error when the guard drops or on a panic;
            // say so rather than buffer silently.
            Err(error) => {
                eprintln!(
                    "palisade: cannot start the log writer thread ({error}); log lines are written at exit"
                );
                LogGuard {
                    buffer,
                    writer: None,
                }
            }
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.buffer.lock().closed = true;
        self.buffer.wake.notify_one();
        match self.writer.take() {
            Some(writer) => {
                let _ = writer.join();
            }
            None => self.buffer.write_out(&mut std::io::stderr().lock()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_beyond_the_bound_are_dropped_counted_and_reported() {
        let buffer = LogBuffer::default();
        let mut line = vec![b'x'; 1023];
        line.push(b'\n');
        let fit = MAX_PENDING_BYTES / line.len();
        for _ in 0..fit + 3 {
            buffer.append(&line);
        }
        let mut out = Vec::new();
        buffer.write_out(&mut out);
        let kept = fit * line.len();
        assert!(out[..kept].chunks(line.len()).all(|chunk| chunk == line));
        let tail = String::from_utf8_lossy(&out[kept..]);
        assert!(
            tail.starts_with('{') && tail.contains("\"3 log lines dropped"),
            "drop report missing: {tail}"
        );
        // Reported once: the next write-out has nothing to say.
        let mut again = Vec::new();
        buffer.write_out(&mut again);
        assert!(again.is_empty());
    }

    #[test]
    fn the_writer_thread_writes_lines_within_the_interval_and_everything_at_close() {
        let buffer = Arc::new(LogBuffer::default());
        buffer.append(b"first\n");
        let guard = LogGuard::start(Arc::clone(&buffer));
        // The writer takes the line within a few intervals.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !buffer.lock().bytes.is_empty() {
            assert!(std::time::Instant::now() < deadline, "line never taken");
            std::thread::sleep(FLUSH_INTERVAL);
        }
        buffer.append(b"last\n");
        drop(guard);
        assert!(buffer.lock().bytes.is_empty(), "close left lines behind");
    }
}
