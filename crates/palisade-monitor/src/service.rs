//! The running monitor: a thread that owns a [`Detector`] and a [`Responder`],
//! fed through bounded queues by the event pipeline ([`MonitorTap`]) and by the
//! gateway's traffic inspector ([`TrafficInspector`]); it records findings and
//! responses as events, and persists baselines into the event store.
//!
//! Nothing here blocks a request: feeding is a `try_send`; when the queue is
//! full the observation is dropped and counted (`palisade_monitor_dropped_total`
//! and [`MonitorService::dropped`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use palisade_core::{
    EventSink, ExchangeSummary, Inspection, Inspector, RequestHead, SecurityEvent,
};
use palisade_events::{EventTap, StateTable};

use crate::clock::Clock;
use crate::detector::{Detector, DetectorSettings, RequestSample};
use crate::error::{ErrorKind, MonitorError};
use crate::geo::GeoDatabase;
use crate::response::{BanEnforcer, Responder, ResponseAction, ResponsePolicy};

/// Settings of a [`MonitorService`].
#[derive(Debug)]
pub struct MonitorConfig {
    /// Detector thresholds.
    pub settings: DetectorSettings,
    /// GeoIP databases, when configured.
    pub geo: Option<GeoDatabase>,
    /// Responses per finding kind.
    pub policy: ResponsePolicy,
    /// Observations the queue holds before new ones are dropped.
    pub queue_capacity: usize,
    /// How often changed baselines are written to the store.
    pub persist_interval: Duration,
    /// Baselines not updated for this long are deleted from the store.
    pub state_retention: Duration,
}

impl Default for MonitorConfig {
    /// Default thresholds, no GeoIP, default policy, 65,536 queued observations,
    /// persisted every 60 s, kept 30 days.
    fn default() -> Self {
        MonitorConfig {
            settings: DetectorSettings::default(),
            geo: None,
            policy: ResponsePolicy::default(),
            queue_capacity: 65_536,
            persist_interval: Duration::from_secs(60),
            state_retention: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

enum Input {
    Event(Box<SecurityEvent>),
    Request(Box<RequestSample>),
    Flush(mpsc::Sender<()>),
    Shutdown,
}

/// Feeds the monitor; cheap to clone.
#[derive(Clone)]
struct Feed {
    sender: SyncSender<Input>,
    dropped: Arc<AtomicU64>,
}

impl Feed {
    fn send(&self, input: Input) {
        match self.sender.try_send(input) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("palisade_monitor_dropped_total").increment(1);
            }
            // Shut down: nothing observes any more.
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// The running monitor (see the module docs).
pub struct MonitorService {
    feed: Feed,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for MonitorService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorService")
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl MonitorService {
    /// Loads the baselines from `state` (when given) and starts the monitor
    /// thread. Findings and responses are recorded into `output`.
    pub fn start(
        config: MonitorConfig,
        clock: Arc<dyn Clock>,
        state: Option<Box<dyn StateTable>>,
        enforcer: Box<dyn BanEnforcer>,
        output: Arc<dyn EventSink>,
    ) -> Result<Self, MonitorError> {
        let mut detector = Detector::new(config.settings, config.geo);
        let mut state = state;
        if let Some(table) = state.as_mut() {
            let entries = table.load_all()?;
            let skipped = detector.restore(&entries);
            tracing::info!(
                loaded = entries.len() - skipped,
                skipped,
                "monitor baselines loaded"
            );
        }
        let (sender, receiver) = mpsc::sync_channel(config.queue_capacity.max(1));
        let feed = Feed {
            sender,
            dropped: Arc::default(),
        };
        let worker = Worker {
            detector,
            responder: Responder::new(config.policy, enforcer),
            clock,
            state,
            output,
            persist_interval: config.persist_interval,
            state_retention_ms: i64::try_from(config.state_retention.as_millis())
                .unwrap_or(i64::MAX),
        };
        let handle = std::thread::Builder::new()
            .name("palisade-monitor".into())
            .spawn(move || worker.run(receiver))
            .map_err(ErrorKind::Thread)?;
        Ok(MonitorService {
            feed,
            handle: Mutex::new(Some(handle)),
        })
    }

    /// Feeds one event (never blocks; dropped and counted when the queue is full).
    pub fn observe_event(&self, event: &SecurityEvent) {
        if is_monitored(event) {
            self.feed.send(Input::Event(Box::new(event.clone())));
        }
    }

    /// Feeds one request sample (never blocks).
    pub fn observe_request(&self, sample: RequestSample) {
        self.feed.send(Input::Request(Box::new(sample)));
    }

    /// The tap to give the event pipeline.
    pub fn tap(&self) -> MonitorTap {
        MonitorTap {
            feed: self.feed.clone(),
        }
    }

    /// The inspector to give the gateway (samples every request).
    pub fn traffic_inspector(&self, clock: Arc<dyn Clock>) -> TrafficInspector {
        TrafficInspector {
            feed: self.feed.clone(),
            clock,
        }
    }

    /// Observations dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.feed.dropped.load(Ordering::Relaxed)
    }

    /// Waits until everything fed before the call is processed, its findings
    /// recorded and the baselines persisted.
    pub fn flush(&self) {
        let (ack, done) = mpsc::channel();
        if self.feed.sender.send(Input::Flush(ack)).is_ok() {
            let _ = done.recv();
        }
    }

    /// Processes what is queued, persists, and stops the thread. Idempotent.
    pub fn shutdown(&self) {
        let handle = self
            .handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            let _ = self.feed.sender.send(Input::Shutdown);
            if handle.join().is_err() {
                tracing::error!("monitor thread panicked");
            }
        }
    }
}

impl Drop for MonitorService {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Events the detectors read (everything else is not even copied).
fn is_monitored(event: &SecurityEvent) -> bool {
    event.action.starts_with("authn_")
}

/// The event pipeline's view of the monitor.
pub struct MonitorTap {
    feed: Feed,
}

impl EventTap for MonitorTap {
    fn observe(&mut self, events: &[SecurityEvent]) {
        for event in events.iter().filter(|e| is_monitored(e)) {
            self.feed.send(Input::Event(Box::new(event.clone())));
        }
    }
}

/// An inspector that never blocks anything: at the end of every exchange it
/// hands (time, client, route, path, status, blocked) to the monitor.
pub struct TrafficInspector {
    feed: Feed,
    clock: Arc<dyn Clock>,
}

struct TrafficInspection {
    feed: Feed,
    clock: Arc<dyn Clock>,
}

impl Inspector for TrafficInspector {
    fn name(&self) -> &str {
        "monitor"
    }

    fn wants_request_body(&self) -> bool {
        false
    }

    fn start(&self, _head: &RequestHead) -> Box<dyn Inspection> {
        Box::new(TrafficInspection {
            feed: self.feed.clone(),
            clock: Arc::clone(&self.clock),
        })
    }
}

impl Inspection for TrafficInspection {
    fn logging(&mut self, head: &RequestHead, summary: &ExchangeSummary) -> Vec<SecurityEvent> {
        let path = head.raw_target.split(['?', '#']).next().unwrap_or("");
        // Absolute-form targets: keep the path only.
        let path = match path.find("://") {
            Some(at) => path[at + 3..]
                .find('/')
                .map_or("/", |p| &path[at + 3 + p..]),
            None => path,
        };
        self.feed.send(Input::Request(Box::new(RequestSample {
            timestamp_ms: self.clock.now_ms(),
            request_id: head.request_id.clone(),
            source_ip: head.client_addr.ip(),
            route: head.route.clone(),
            // The detector looks at the first 1 KiB of a path at most.
            path: path[..crate::detector::floor_char_boundary(path, 1024)].to_owned(),
            status: summary.status.as_u16(),
            blocked: summary.blocked,
            user: None,
        })));
        Vec::new()
    }
}

/// How long the worker sleeps when its queue is empty (the most a sample waits to be observed).
const IDLE_TICK: Duration = Duration::from_millis(10);

struct Worker {
    detector: Detector,
    responder: Responder,
    clock: Arc<dyn Clock>,
    state: Option<Box<dyn StateTable>>,
    output: Arc<dyn EventSink>,
    persist_interval: Duration,
    state_retention_ms: i64,
}

impl Worker {
    fn run(mut self, receiver: Receiver<Input>) {
        let mut next_persist = Instant::now() + self.persist_interval;
        loop {
            let wait = next_persist.saturating_duration_since(Instant::now());
            // Drain what is queued; when the queue is empty, sleep a tick instead of blocking on
            // the channel. A blocked receiver would make every request's send wake this thread
            // (a futex wake and a context switch per request, measured at a fifth of the proxy's
            // throughput on one core); a sleeping one costs IDLE_TICK wake-ups per second.
            let received = match receiver.try_recv() {
                Ok(input) => Ok(input),
                Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {
                    std::thread::sleep(wait.min(IDLE_TICK));
                    Err(RecvTimeoutError::Timeout)
                }
            };
            match received {
                Ok(Input::Event(event)) => {
                    let findings = self.detector.observe_event(&event);
                    self.handle(findings);
                }
                Ok(Input::Request(sample)) => {
                    let findings = self.detector.observe_request(&sample);
                    self.handle(findings);
                }
                Ok(Input::Flush(ack)) => {
                    self.persist(false);
                    let _ = ack.send(());
                }
                Ok(Input::Shutdown) | Err(RecvTimeoutError::Disconnected) => {
                    // Whatever is still queued was fed before shutdown: process it.
                    while let Ok(input) = receiver.try_recv() {
                        match input {
                            Input::Event(event) => {
                                let findings = self.detector.observe_event(&event);
                                self.handle(findings);
                            }
                            Input::Request(sample) => {
                                let findings = self.detector.observe_request(&sample);
                                self.handle(findings);
                            }
                            Input::Flush(ack) => {
                                let _ = ack.send(());
                            }
                            Input::Shutdown => {}
                        }
                    }
                    self.persist(false);
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            if Instant::now() >= next_persist {
                self.persist(true);
                next_persist = Instant::now() + self.persist_interval;
            }
        }
    }

    fn handle(&mut self, findings: Vec<crate::finding::Finding>) {
        for finding in findings {
            let (action, responses) = self.responder.respond(&finding);
            let mut event = finding.to_event();
            event
                .fields
                .insert("palisade.response".into(), action.as_str().into());
            if action == ResponseAction::Record {
                event.fields.insert("palisade.alert".into(), false.into());
            }
            tracing::info!(
                kind = finding.kind.as_str(),
                subject = %finding.subject(),
                response = action.as_str(),
                "anomaly found"
            );
            self.output.record(event);
            for response in responses {
                self.output.record(response);
            }
        }
    }

    fn persist(&mut self, expire: bool) {
        let Some(table) = self.state.as_mut() else {
            return;
        };
        let now = self.clock.now_ms();
        let entries = self.detector.dirty_state();
        if !entries.is_empty()
            && let Err(error) = table.save(&entries, now)
        {
            tracing::warn!(%error, entries = entries.len(), "monitor baselines not saved");
        }
        if expire && let Err(error) = table.expire(now.saturating_sub(self.state_retention_ms)) {
            tracing::warn!(%error, "old monitor baselines not expired");
        }
    }
}
