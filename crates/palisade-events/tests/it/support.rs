//! Shared fixtures: the event corpus, a controllable sink, document comparison.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use palisade_core::SecurityEvent;
use palisade_events::ecs::{from_ecs, to_ecs};
use palisade_events::{BatchSink, EventsError, Retention};
use serde_json::{Map, Value};

/// Keeps every event (no age or row limit).
pub const NO_RETENTION: Retention = Retention {
    max_age: None,
    max_rows: None,
};

pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn read_data(name: &str) -> String {
    let path = data_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The ECS documents of `tests/data/store_events.jsonl`.
pub fn corpus_docs() -> Vec<Map<String, Value>> {
    read_data("store_events.jsonl")
        .lines()
        .map(|line| serde_json::from_str(line).expect("corpus line is a JSON object"))
        .collect()
}

/// The corpus as events.
pub fn corpus() -> Vec<SecurityEvent> {
    corpus_docs()
        .into_iter()
        .map(|doc| from_ecs(doc).expect("corpus document decodes"))
        .collect()
}

/// Canonical comparable form of an event.
pub fn doc(event: &SecurityEvent) -> Value {
    Value::Object(to_ecs(event))
}

/// A numbered event for pipeline tests.
pub fn numbered(i: usize) -> SecurityEvent {
    let mut event = SecurityEvent::new(
        "malicious_sqli",
        "web",
        palisade_core::Severity::High,
        format!("event-{i}"),
    );
    event.fields.insert("palisade.seq".into(), Value::from(i));
    event
}

/// Sequence numbers (`palisade.seq`) of events, sorted.
pub fn seqs(events: &[SecurityEvent]) -> Vec<u64> {
    let mut seqs: Vec<u64> = events
        .iter()
        .filter_map(|e| e.fields.get("palisade.seq").and_then(Value::as_u64))
        .collect();
    seqs.sort_unstable();
    seqs
}

/// A sink that records batches, can be made to fail, and can be held shut.
#[derive(Clone, Default)]
pub struct TestSink {
    pub received: Arc<Mutex<Vec<SecurityEvent>>>,
    pub failing: Arc<AtomicBool>,
    /// While `true`, `write_batch` waits (simulates a stalled store).
    gate: Arc<(Mutex<bool>, Condvar)>,
}

impl TestSink {
    pub fn hold(&self) {
        *self.gate.0.lock().expect("gate") = true;
    }

    pub fn release(&self) {
        *self.gate.0.lock().expect("gate") = false;
        self.gate.1.notify_all();
    }

    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<SecurityEvent> {
        self.received.lock().expect("received").clone()
    }
}

impl BatchSink for TestSink {
    fn name(&self) -> &str {
        "test"
    }

    fn write_batch(&mut self, events: &[SecurityEvent]) -> Result<(), EventsError> {
        let (held, wake) = &*self.gate;
        let mut guard = held.lock().expect("gate");
        while *guard {
            guard = wake.wait(guard).expect("gate");
        }
        drop(guard);
        if self.failing.load(Ordering::SeqCst) {
            // Any typed error will do; a missing directory makes a real one.
            return palisade_events::JsonLinesSink::open("/proc/palisade-test-no-such-dir/x.jsonl")
                .map(|_| ());
        }
        self.received
            .lock()
            .expect("received")
            .extend_from_slice(events);
        Ok(())
    }
}
