//! The running alerter: a thread fed by the event pipeline ([`AlertTap`]) that
//! routes events ([`AlertRouter`]), delivers alerts to every channel whose
//! minimum severity they reach, retries failed deliveries with doubling
//! backoff, and records each delivery and each failure as an event
//! (`alert_delivered`, `alert_delivery_failed`) — events the router never
//! alerts on, so there is no loop.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use palisade_core::{EventOutcome, EventSink, SecurityEvent, Severity};
use palisade_events::EventTap;

use crate::error::{AlertError, ErrorKind};
use crate::notify::Notifier;
use crate::router::{Alert, AlertRouter, RouterSettings};

/// Settings of an [`Alerter`].
#[derive(Debug, Clone)]
pub struct AlerterConfig {
    /// Selection, deduplication, rate limit.
    pub router: RouterSettings,
    /// Delivery attempts per alert and channel.
    pub attempts: u32,
    /// Delay before the second attempt (doubles each time).
    pub backoff: Duration,
    /// How often incidents are checked for digests.
    pub tick_interval: Duration,
    /// Events the queue holds before new ones are dropped (and counted).
    pub queue_capacity: usize,
}

impl Default for AlerterConfig {
    /// Default routing; 4 attempts starting 1 s apart; digests checked every 10 s.
    fn default() -> Self {
        AlerterConfig {
            router: RouterSettings::default(),
            attempts: 4,
            backoff: Duration::from_secs(1),
            tick_interval: Duration::from_secs(10),
            queue_capacity: 4096,
        }
    }
}

enum Input {
    Event(Box<SecurityEvent>),
    Flush(mpsc::Sender<()>),
    Shutdown,
}

/// The running alerter (see the module docs).
pub struct Alerter {
    sender: SyncSender<Input>,
    dropped: Arc<AtomicU64>,
    min_severity: Severity,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Alerter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerter").finish_non_exhaustive()
    }
}

impl Alerter {
    /// Starts the alert thread. Delivery events go to `output`; `now_ms` is the
    /// clock (injectable for tests).
    pub fn start(
        config: AlerterConfig,
        notifiers: Vec<Box<dyn Notifier>>,
        output: Arc<dyn EventSink>,
        now_ms: Arc<dyn Fn() -> i64 + Send + Sync>,
    ) -> Result<Self, AlertError> {
        let (sender, receiver) = mpsc::sync_channel(config.queue_capacity.max(1));
        let min_severity = config.router.min_severity;
        let worker = Worker {
            router: AlertRouter::new(config.router.clone()),
            config,
            notifiers,
            output,
            now_ms,
        };
        let handle = std::thread::Builder::new()
            .name("palisade-alert".into())
            .spawn(move || worker.run(receiver))
            .map_err(ErrorKind::Thread)?;
        Ok(Alerter {
            sender,
            dropped: Arc::default(),
            min_severity,
            handle: Mutex::new(Some(handle)),
        })
    }

    /// Offers one event (never blocks).
    pub fn observe(&self, event: &SecurityEvent) {
        if event.severity < self.min_severity || event.action.starts_with("alert_") {
            return;
        }
        match self.sender.try_send(Input::Event(Box::new(event.clone()))) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("palisade_alerts_dropped_total").increment(1);
            }
        }
    }

    /// The tap to give the event pipeline.
    pub fn tap(self: &Arc<Self>) -> AlertTap {
        AlertTap {
            alerter: Arc::clone(self),
        }
    }

    /// Events dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until everything offered before the call is routed and delivered
    /// (including retries), and due digests are sent.
    pub fn flush(&self) {
        let (ack, done) = mpsc::channel();
        if self.sender.send(Input::Flush(ack)).is_ok() {
            let _ = done.recv();
        }
    }

    /// Delivers what is queued and stops the thread. Idempotent.
    pub fn shutdown(&self) {
        let handle = self
            .handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            let _ = self.sender.send(Input::Shutdown);
            if handle.join().is_err() {
                tracing::error!("alert thread panicked");
            }
        }
    }
}

impl Drop for Alerter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The event pipeline's view of the alerter.
pub struct AlertTap {
    alerter: Arc<Alerter>,
}

impl EventTap for AlertTap {
    fn observe(&mut self, events: &[SecurityEvent]) {
        for event in events {
            self.alerter.observe(event);
        }
    }
}

struct Worker {
    config: AlerterConfig,
    router: AlertRouter,
    notifiers: Vec<Box<dyn Notifier>>,
    output: Arc<dyn EventSink>,
    now_ms: Arc<dyn Fn() -> i64 + Send + Sync>,
}

impl Worker {
    fn run(mut self, receiver: Receiver<Input>) {
        loop {
            match receiver.recv_timeout(self.config.tick_interval) {
                Ok(Input::Event(event)) => {
                    let now = (self.now_ms)();
                    if let Some(alert) = self.router.process(&event, now) {
                        self.deliver(&alert);
                    }
                }
                Ok(Input::Flush(ack)) => {
                    self.tick();
                    let _ = ack.send(());
                }
                Ok(Input::Shutdown) | Err(RecvTimeoutError::Disconnected) => {
                    while let Ok(input) = receiver.try_recv() {
                        if let Input::Event(event) = input {
                            let now = (self.now_ms)();
                            if let Some(alert) = self.router.process(&event, now) {
                                self.deliver(&alert);
                            }
                        }
                    }
                    return;
                }
                Err(RecvTimeoutError::Timeout) => self.tick(),
            }
        }
    }

    fn tick(&mut self) {
        let now = (self.now_ms)();
        for digest in self.router.tick(now) {
            self.deliver(&digest);
        }
    }

    fn deliver(&mut self, alert: &Alert) {
        for notifier in &mut self.notifiers {
            if alert.severity < notifier.min_severity() {
                continue;
            }
            let mut delay = self.config.backoff;
            let attempts = self.config.attempts.max(1);
            let mut outcome = Ok(());
            for attempt in 1..=attempts {
                outcome = notifier.deliver(alert);
                match &outcome {
                    Ok(()) => break,
                    Err(error) => {
                        tracing::warn!(channel = notifier.name(), attempt, %error, "alert delivery failed");
                        if attempt < attempts {
                            std::thread::sleep(delay);
                            delay = delay.saturating_mul(2);
                        }
                    }
                }
            }
            let (action, outcome_kind, severity, message) = match &outcome {
                Ok(()) => (
                    "alert_delivered",
                    EventOutcome::Success,
                    Severity::Info,
                    format!("alert sent via {}: {}", notifier.name(), alert.title),
                ),
                Err(error) => (
                    "alert_delivery_failed",
                    EventOutcome::Failure,
                    Severity::High,
                    format!(
                        "alert not delivered via {} after {attempts} attempts: {error}",
                        notifier.name()
                    ),
                ),
            };
            metrics::counter!("palisade_alerts_total", "channel" => notifier.name().to_owned(), "outcome" => if outcome.is_ok() { "delivered" } else { "failed" })
                .increment(1);
            let mut event = SecurityEvent::new(action, "process", severity, message);
            event.outcome = outcome_kind;
            event.source_ip = alert.event.source_ip;
            event
                .fields
                .insert("palisade.alert.channel".into(), notifier.name().into());
            event.fields.insert(
                "palisade.alert.incident".into(),
                alert.incident.clone().into(),
            );
            event
                .fields
                .insert("palisade.alert.repeats".into(), alert.repeats.into());
            self.output.record(event);
        }
    }
}
