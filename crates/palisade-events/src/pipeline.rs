//! The event pipeline: a non-blocking [`EventSink`] in front of the batch sinks.
//!
//! ```text
//! record() ──try_send──▶ bounded queue ──▶ writer thread ──batch──▶ sink 1..n
//!    │ queue full / closed                     │ sink error
//!    ▼                                         ▼
//!  spool/queue/  ──replayed to all sinks──   spool/sink-<name>/ ──replayed to that sink
//! ```
//!
//! Design notes:
//! * `record()` never waits for the writer or a sink. It does a `try_send` on a
//!   bounded queue; only when the queue is full (or the pipeline is shut down)
//!   does it append the event to the queue spool, a short buffered write under a
//!   mutex.
//! * One writer thread owns every sink. It batches: a batch is written when it
//!   holds `batch_max` events or `flush_interval` after its first event arrived.
//! * A failing sink gets the batch spooled for it alone and is retried with
//!   exponential backoff (from `retry_interval` up to 32×). Spooled events are
//!   replayed segment by segment, oldest first; delivery is at-least-once (a crash between a
//!   replayed write and the segment's removal repeats that segment).
//! * Loss is counted, never silent: an event is dropped only when a spool is
//!   full (`spool_full`), a spool cannot be written (`spool_io`) or a spooled line
//!   cannot be read back (`spool_corrupt`). Each drop increments the counter
//!   `palisade_events_dropped_total{reason}` of the `metrics` crate and
//!   [`PipelineCounters`]; the writer then records a `sys_events_dropped` event
//!   with the count, when a sink takes it.
//! * Crash bound: after a SIGKILL, events recorded in the last `flush_interval`
//!   (plus the time of the batch write in progress) may be lost: they were in
//!   memory (queue, current batch, or the queue spool's write buffer, which the
//!   writer flushes every `flush_interval`). A committed batch survives (SQLite
//!   WAL). Events already in the spool survive and are replayed on next start.
//! * Taps ([`EventTap`], given to [`EventPipeline::start_with_taps`]) see every
//!   batch the writer takes from the queue or the queue spool, before the sinks;
//!   the anomaly monitor and alerting observe the stream this way. A tap must
//!   hand events off without blocking.
//! * Shutdown (`shutdown()` or drop) closes the queue, writes what is queued,
//!   flushes the spools and joins the writer. Events recorded afterwards go to the
//!   queue spool and are delivered by the next pipeline on the same data dir.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use palisade_core::{EventOutcome, EventSink, SecurityEvent, Severity};

use crate::error::{ErrorKind, EventsError, Result};
use crate::query::now_ms;
use crate::sink::{BatchSink, EventTap};
use crate::spool::{AppendOutcome, Spool, read_segment};

/// Name of the spool directory inside the data dir.
pub const SPOOL_DIR: &str = "spool";

/// Pipeline settings; [`PipelineConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Data directory; spools live in `data_dir/spool/`.
    pub data_dir: PathBuf,
    /// Events the in-memory queue holds before `record()` spills to disk.
    pub queue_capacity: usize,
    /// Most events per sink write.
    pub batch_max: usize,
    /// Longest an event waits in memory before its batch is written; also the
    /// crash-loss bound.
    pub flush_interval: Duration,
    /// First retry delay for a failing sink (doubles up to 32×).
    pub retry_interval: Duration,
    /// Byte limit of each spool directory.
    pub spool_max_bytes: u64,
    /// How often sinks run retention ([`BatchSink::maintain`]).
    pub maintenance_interval: Duration,
}

impl PipelineConfig {
    /// Defaults: queue 16,384, batches of 1,024, flush every 200 ms, retry after
    /// 1 s, 256 MiB per spool, maintenance every 5 minutes.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        PipelineConfig {
            data_dir: data_dir.into(),
            queue_capacity: 16_384,
            batch_max: 1024,
            flush_interval: Duration::from_millis(200),
            retry_interval: Duration::from_secs(1),
            spool_max_bytes: 256 * 1024 * 1024,
            maintenance_interval: Duration::from_secs(300),
        }
    }
}

/// Why an event was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// A spool reached its byte limit.
    SpoolFull,
    /// A spool file could not be written.
    SpoolIo,
    /// A spooled line could not be read back.
    SpoolCorrupt,
}

impl DropReason {
    /// Every reason.
    pub const ALL: [DropReason; 3] = [
        DropReason::SpoolFull,
        DropReason::SpoolIo,
        DropReason::SpoolCorrupt,
    ];

    /// The `reason` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::SpoolFull => "spool_full",
            DropReason::SpoolIo => "spool_io",
            DropReason::SpoolCorrupt => "spool_corrupt",
        }
    }

    fn index(self) -> usize {
        match self {
            DropReason::SpoolFull => 0,
            DropReason::SpoolIo => 1,
            DropReason::SpoolCorrupt => 2,
        }
    }
}

/// Live counters of a pipeline, shareable with an API or metrics endpoint.
#[derive(Debug, Default)]
pub struct PipelineCounters {
    recorded: AtomicU64,
    spilled_queue: AtomicU64,
    spilled_sink: AtomicU64,
    replayed: AtomicU64,
    sink_failures: AtomicU64,
    dropped: [AtomicU64; 3],
}

/// A snapshot of [`PipelineCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PipelineStats {
    /// Events passed to `record()`.
    pub recorded: u64,
    /// Events spooled because the queue was full or closed.
    pub spilled_queue: u64,
    /// Event deliveries spooled because a sink failed (per sink).
    pub spilled_sink: u64,
    /// Events read back from a spool and delivered again.
    pub replayed: u64,
    /// Failed sink writes.
    pub sink_failures: u64,
    /// Events lost, all reasons.
    pub dropped_total: u64,
    /// Events lost because a spool was full.
    pub dropped_spool_full: u64,
    /// Events lost because a spool could not be written.
    pub dropped_spool_io: u64,
    /// Spooled lines that could not be read back.
    pub dropped_spool_corrupt: u64,
}

impl PipelineCounters {
    /// Events lost so far, all reasons.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// Events lost so far for one reason.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.index()].load(Ordering::Relaxed)
    }

    /// A consistent-enough snapshot of every counter.
    pub fn snapshot(&self) -> PipelineStats {
        PipelineStats {
            recorded: self.recorded.load(Ordering::Relaxed),
            spilled_queue: self.spilled_queue.load(Ordering::Relaxed),
            spilled_sink: self.spilled_sink.load(Ordering::Relaxed),
            replayed: self.replayed.load(Ordering::Relaxed),
            sink_failures: self.sink_failures.load(Ordering::Relaxed),
            dropped_total: self.dropped_total(),
            dropped_spool_full: self.dropped(DropReason::SpoolFull),
            dropped_spool_io: self.dropped(DropReason::SpoolIo),
            dropped_spool_corrupt: self.dropped(DropReason::SpoolCorrupt),
        }
    }

    fn count_drop(&self, reason: DropReason, events: u64) {
        if events == 0 {
            return;
        }
        self.dropped[reason.index()].fetch_add(events, Ordering::Relaxed);
        metrics::counter!("palisade_events_dropped_total", "reason" => reason.as_str())
            .increment(events);
    }
}

enum Message {
    Event(Box<SecurityEvent>),
    Flush(mpsc::Sender<Result<()>>),
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the spool lock leaves a usable spool (at worst a
    // partly written line, which replay counts as corrupt).
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Appends to a spool, counting what could not be stored (unless `counters` is
/// `None`, used for the drop reports themselves: their loss is already in the
/// counters they report).
fn spill(spool: &mut Spool, events: &[SecurityEvent], counters: Option<&PipelineCounters>) -> bool {
    let n = events.len() as u64;
    let count_drop = |reason| {
        if let Some(counters) = counters {
            counters.count_drop(reason, n);
        }
    };
    match spool.append(events) {
        Ok(AppendOutcome::Stored) => true,
        Ok(AppendOutcome::Full) => {
            count_drop(DropReason::SpoolFull);
            false
        }
        Err(error) => {
            tracing::error!(%error, "event spool write failed");
            count_drop(DropReason::SpoolIo);
            false
        }
    }
}

/// The non-blocking event pipeline (see the module docs).
pub struct EventPipeline {
    sender: RwLock<Option<SyncSender<Message>>>,
    queue_spool: Arc<Mutex<Spool>>,
    counters: Arc<PipelineCounters>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for EventPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventPipeline")
            .field("stats", &self.counters.snapshot())
            .finish_non_exhaustive()
    }
}

impl EventPipeline {
    /// Starts the writer thread over `sinks`. Spools left by an earlier run are
    /// replayed by the writer.
    pub fn start(config: PipelineConfig, sinks: Vec<Box<dyn BatchSink>>) -> Result<Self> {
        Self::start_with_taps(config, sinks, Vec::new())
    }

    /// [`EventPipeline::start`] with observers of the live stream (see [`EventTap`]).
    pub fn start_with_taps(
        config: PipelineConfig,
        sinks: Vec<Box<dyn BatchSink>>,
        taps: Vec<Box<dyn EventTap>>,
    ) -> Result<Self> {
        let mut names: Vec<&str> = sinks.iter().map(|sink| sink.name()).collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            // Each sink's name is its spool directory: two sinks must not share one.
            return Err(EventsError::invalid_value(
                "sink name (must be unique)",
                pair[0],
            ));
        }
        let spool_root = config.data_dir.join(SPOOL_DIR);
        let queue_spool = Arc::new(Mutex::new(Spool::open(
            spool_root.join("queue"),
            config.spool_max_bytes,
        )?));
        let slots = sinks
            .into_iter()
            .map(|sink| {
                let spool = Spool::open(
                    spool_root.join(format!("sink-{}", sink.name())),
                    config.spool_max_bytes,
                )?;
                Ok(SinkSlot {
                    sink,
                    spool,
                    retry_at: None,
                    backoff: config.retry_interval,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let counters = Arc::new(PipelineCounters::default());
        let (sender, receiver) = mpsc::sync_channel(config.queue_capacity.max(1));
        let writer = Writer {
            batch_max: config.batch_max.max(1),
            config,
            receiver,
            queue_spool: Arc::clone(&queue_spool),
            slots,
            taps,
            counters: Arc::clone(&counters),
            dropped_reported: 0,
            last_maintenance: None,
        };
        let handle = std::thread::Builder::new()
            .name("palisade-events".into())
            .spawn(move || writer.run())
            .map_err(|source| ErrorKind::Stream {
                context: "cannot start the event writer thread",
                source,
            })?;
        Ok(EventPipeline {
            sender: RwLock::new(Some(sender)),
            queue_spool,
            counters,
            writer: Mutex::new(Some(handle)),
        })
    }

    /// Counters, shareable (e.g. with the admin API).
    pub fn counters(&self) -> Arc<PipelineCounters> {
        Arc::clone(&self.counters)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> PipelineStats {
        self.counters.snapshot()
    }

    /// Events lost so far.
    pub fn dropped_total(&self) -> u64 {
        self.counters.dropped_total()
    }

    /// Blocks until everything recorded before the call is delivered, including
    /// spooled events (sinks in backoff are retried now). Errs with
    /// [`EventsError::is_sink_backlog`] when a sink still fails.
    pub fn flush(&self) -> Result<()> {
        let sender = self
            .sender
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(ErrorKind::Closed)?;
        let (ack, done) = mpsc::channel();
        sender
            .send(Message::Flush(ack))
            .map_err(|_| ErrorKind::Closed)?;
        drop(sender);
        done.recv().map_err(|_| ErrorKind::WriterPanicked)?
    }

    /// Closes the queue, writes what it holds, flushes spools and joins the
    /// writer. Idempotent.
    pub fn shutdown(&self) -> Result<()> {
        let sender = self
            .sender
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(sender);
        let handle = lock(&self.writer).take();
        if let Some(handle) = handle {
            handle.join().map_err(|_| ErrorKind::WriterPanicked)?;
        }
        lock(&self.queue_spool).flush()
    }

    fn spill_to_queue_spool(&self, event: &SecurityEvent) {
        let stored = spill(
            &mut lock(&self.queue_spool),
            std::slice::from_ref(event),
            Some(&self.counters),
        );
        if stored {
            self.counters.spilled_queue.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl EventSink for EventPipeline {
    fn record(&self, event: SecurityEvent) {
        self.counters.recorded.fetch_add(1, Ordering::Relaxed);
        let guard = self.sender.read().unwrap_or_else(PoisonError::into_inner);
        let returned = match guard.as_ref() {
            Some(sender) => match sender.try_send(Message::Event(Box::new(event))) {
                Ok(()) => None,
                Err(TrySendError::Full(message) | TrySendError::Disconnected(message)) => {
                    Some(message)
                }
            },
            None => {
                drop(guard);
                self.spill_to_queue_spool(&event);
                return;
            }
        };
        drop(guard);
        if let Some(Message::Event(event)) = returned {
            self.spill_to_queue_spool(&event);
        }
    }
}

impl Drop for EventPipeline {
    fn drop(&mut self) {
        if let Err(error) = self.shutdown() {
            tracing::error!(%error, "event pipeline shutdown failed");
        }
    }
}

struct SinkSlot {
    sink: Box<dyn BatchSink>,
    spool: Spool,
    /// Set while the sink is failing: no writes before this instant.
    retry_at: Option<Instant>,
    backoff: Duration,
}

struct Writer {
    config: PipelineConfig,
    batch_max: usize,
    receiver: Receiver<Message>,
    queue_spool: Arc<Mutex<Spool>>,
    slots: Vec<SinkSlot>,
    taps: Vec<Box<dyn EventTap>>,
    counters: Arc<PipelineCounters>,
    dropped_reported: u64,
    last_maintenance: Option<Instant>,
}

impl Writer {
    fn run(mut self) {
        let mut batch: Vec<SecurityEvent> = Vec::with_capacity(self.batch_max);
        let mut batch_deadline: Option<Instant> = None;
        let mut next_housekeeping = Instant::now();
        loop {
            let now = Instant::now();
            if now >= next_housekeeping {
                self.housekeeping(false);
                next_housekeeping = Instant::now() + self.config.flush_interval;
            }
            let wake = batch_deadline.map_or(next_housekeeping, |d| d.min(next_housekeeping));
            match self
                .receiver
                .recv_timeout(wake.saturating_duration_since(Instant::now()))
            {
                Ok(Message::Event(event)) => {
                    if batch.is_empty() {
                        batch_deadline = Some(Instant::now() + self.config.flush_interval);
                    }
                    batch.push(*event);
                    let due = batch_deadline.is_some_and(|d| Instant::now() >= d);
                    if batch.len() >= self.batch_max || due {
                        self.deliver(&batch);
                        batch.clear();
                        batch_deadline = None;
                    }
                }
                Ok(Message::Flush(ack)) => {
                    self.deliver(&batch);
                    batch.clear();
                    batch_deadline = None;
                    self.housekeeping(true);
                    let result = self.backlog();
                    // The flusher may have given up waiting; nothing to do then.
                    let _ = ack.send(result);
                }
                Err(RecvTimeoutError::Timeout) => {
                    if batch_deadline.is_some_and(|d| Instant::now() >= d) {
                        self.deliver(&batch);
                        batch.clear();
                        batch_deadline = None;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.deliver(&batch);
                    self.report_drops();
                    if let Err(error) = lock(&self.queue_spool).flush() {
                        tracing::error!(%error, "event spool flush failed");
                    }
                    for slot in &mut self.slots {
                        if let Err(error) = slot.spool.flush() {
                            tracing::error!(%error, sink = slot.sink.name(), "event spool flush failed");
                        }
                    }
                    return;
                }
            }
        }
    }

    /// Writes a batch to every sink; a failing sink gets it spooled.
    fn deliver(&mut self, batch: &[SecurityEvent]) {
        self.deliver_counted(batch, true);
    }

    /// [`Writer::deliver`]; `count_drops: false` for drop reports. True when
    /// every sink wrote or spooled the batch.
    fn deliver_counted(&mut self, batch: &[SecurityEvent], count_drops: bool) -> bool {
        if batch.is_empty() {
            return true;
        }
        for tap in &mut self.taps {
            tap.observe(batch);
        }
        let mut kept_everywhere = true;
        let now = Instant::now();
        for slot in &mut self.slots {
            let in_backoff = slot.retry_at.is_some_and(|at| now < at);
            if !in_backoff {
                match slot.sink.write_batch(batch) {
                    Ok(()) => {
                        if slot.retry_at.take().is_some() {
                            slot.backoff = self.config.retry_interval;
                        }
                        continue;
                    }
                    Err(error) => {
                        tracing::warn!(%error, sink = slot.sink.name(), events = batch.len(), "event sink failed; spooling");
                        self.counters.sink_failures.fetch_add(1, Ordering::Relaxed);
                        slot.fail(now, self.config.retry_interval);
                    }
                }
            }
            if spill(
                &mut slot.spool,
                batch,
                count_drops.then_some(&*self.counters),
            ) {
                self.counters
                    .spilled_sink
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                if let Err(error) = slot.spool.flush() {
                    tracing::error!(%error, "event spool flush failed");
                }
            } else {
                kept_everywhere = false;
            }
        }
        kept_everywhere
    }

    /// Flushes the queue spool, reports drops, replays spools, runs retention.
    /// `force` replays every spool now, ignoring backoff.
    fn housekeeping(&mut self, force: bool) {
        if let Err(error) = lock(&self.queue_spool).flush() {
            tracing::error!(%error, "event spool flush failed");
        }
        self.replay_queue_spool();
        for index in 0..self.slots.len() {
            let slot = &self.slots[index];
            let due = force || slot.retry_at.is_none_or(|at| Instant::now() >= at);
            if due && !slot.spool.is_empty() {
                self.replay_sink_spool(index);
            }
        }
        self.report_drops();
        let maintenance_due = self
            .last_maintenance
            .is_none_or(|at| at.elapsed() >= self.config.maintenance_interval);
        if maintenance_due {
            self.last_maintenance = Some(Instant::now());
            let now = now_ms();
            for slot in &mut self.slots {
                if let Err(error) = slot.sink.maintain(now) {
                    tracing::warn!(%error, sink = slot.sink.name(), "event sink maintenance failed");
                }
            }
        }
    }

    /// Errs when a sink still has spooled events.
    fn backlog(&self) -> Result<()> {
        match self.slots.iter().find(|slot| !slot.spool.is_empty()) {
            Some(slot) => Err(ErrorKind::SinkBacklog {
                sink: slot.sink.name().to_owned(),
                spooled_bytes: slot.spool.stored_bytes(),
            }
            .into()),
            None => Ok(()),
        }
    }

    /// Seals a spool and lists its segments, oldest first.
    fn sealed_segments(spool: &mut Spool) -> Vec<PathBuf> {
        if let Err(error) = spool.seal() {
            tracing::error!(%error, "event spool seal failed");
        }
        spool.segments().unwrap_or_else(|error| {
            tracing::error!(%error, "event spool listing failed");
            Vec::new()
        })
    }

    /// Reads one segment; corrupt lines are counted as dropped.
    fn read_counted(&self, path: &std::path::Path) -> Option<Vec<SecurityEvent>> {
        match read_segment(path) {
            Ok(contents) => {
                self.counters
                    .count_drop(DropReason::SpoolCorrupt, contents.corrupt_lines);
                Some(contents.events)
            }
            Err(error) => {
                tracing::error!(%error, "event spool segment unreadable");
                None
            }
        }
    }

    /// Delivers the queue spool to every sink (failures re-spool per sink).
    fn replay_queue_spool(&mut self) {
        let segments = {
            let mut spool = lock(&self.queue_spool);
            if spool.is_empty() {
                return;
            }
            Self::sealed_segments(&mut spool)
        };
        for path in segments {
            let Some(events) = self.read_counted(&path) else {
                continue;
            };
            for chunk in events.chunks(self.batch_max) {
                self.deliver(chunk);
            }
            self.counters
                .replayed
                .fetch_add(events.len() as u64, Ordering::Relaxed);
            if let Err(error) = lock(&self.queue_spool).remove_segment(&path) {
                tracing::error!(%error, "event spool segment not removed; it will be replayed again");
            }
        }
    }

    /// Replays one sink's spool into it, segment by segment; at the first
    /// failure the unwritten rest of that segment is re-spooled and later
    /// segments stay for the next attempt.
    fn replay_sink_spool(&mut self, index: usize) {
        let segments = Self::sealed_segments(&mut self.slots[index].spool);
        for path in segments {
            let Some(events) = self.read_counted(&path) else {
                continue;
            };
            let slot = &mut self.slots[index];
            let mut written = 0;
            let mut failed = false;
            for chunk in events.chunks(self.batch_max) {
                match slot.sink.write_batch(chunk) {
                    Ok(()) => written += chunk.len(),
                    Err(error) => {
                        tracing::warn!(%error, sink = slot.sink.name(), "event sink replay failed");
                        self.counters.sink_failures.fetch_add(1, Ordering::Relaxed);
                        slot.fail(Instant::now(), self.config.retry_interval);
                        failed = true;
                        break;
                    }
                }
            }
            self.counters
                .replayed
                .fetch_add(written as u64, Ordering::Relaxed);
            if let Err(error) = slot.spool.rewrite_segment(&path, &events[written..]) {
                tracing::error!(%error, "event spool segment not updated; it will be replayed again");
            }
            if failed {
                return;
            }
        }
        let slot = &mut self.slots[index];
        if slot.retry_at.take().is_some() {
            slot.backoff = self.config.retry_interval;
        }
    }

    /// Records a `sys_events_dropped` event for drops not yet reported. A
    /// report that no sink could take is retried at the next housekeeping.
    fn report_drops(&mut self) {
        let total = self.counters.dropped_total();
        if total <= self.dropped_reported {
            return;
        }
        let newly = total - self.dropped_reported;
        let mut event = SecurityEvent::new(
            "sys_events_dropped",
            "process",
            Severity::High,
            format!("{newly} security events were lost (spool full, unwritable or corrupt)"),
        );
        event.outcome = EventOutcome::Failure;
        event.fields.insert(
            "palisade.events.dropped".into(),
            serde_json::Value::from(newly),
        );
        for reason in DropReason::ALL {
            event.fields.insert(
                format!("palisade.events.dropped_total.{}", reason.as_str()),
                serde_json::Value::from(self.counters.dropped(reason)),
            );
        }
        if self.deliver_counted(std::slice::from_ref(&event), false) {
            self.dropped_reported = total;
        }
    }
}

impl SinkSlot {
    fn fail(&mut self, now: Instant, base: Duration) {
        if self.retry_at.is_some() {
            self.backoff = (self.backoff * 2).min(base * 32);
        }
        self.retry_at = Some(now + self.backoff);
    }
}
