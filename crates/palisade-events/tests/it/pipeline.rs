//! The pipeline: batching, overflow spill and replay, failing sinks, drop
//! accounting, shutdown and restart.

use std::time::Duration;

use palisade_core::EventSink;
use palisade_events::{EventPipeline, PipelineConfig};

use crate::support::{TestSink, numbered, seqs};

fn config(dir: &std::path::Path) -> PipelineConfig {
    PipelineConfig {
        queue_capacity: 1024,
        batch_max: 64,
        flush_interval: Duration::from_millis(20),
        retry_interval: Duration::from_millis(20),
        ..PipelineConfig::new(dir)
    }
}

#[test]
fn recorded_events_reach_the_sink_in_order_and_shutdown_flushes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = TestSink::default();
    let pipeline =
        EventPipeline::start(config(dir.path()), vec![Box::new(sink.clone())]).expect("start");
    for i in 0..500 {
        pipeline.record(numbered(i));
    }
    pipeline.shutdown().expect("shutdown");
    let received = sink.received();
    let order: Vec<String> = received.iter().map(|e| e.message.clone()).collect();
    let expected: Vec<String> = (0..500).map(|i| format!("event-{i}")).collect();
    assert_eq!(order, expected);
    let stats = pipeline.stats();
    assert_eq!(
        (stats.recorded, stats.spilled_queue, stats.dropped_total),
        (500, 0, 0)
    );
    assert!(pipeline.flush().expect_err("closed").is_closed());
}

#[test]
fn batches_are_written_within_the_flush_interval_without_a_flush_call() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = TestSink::default();
    let pipeline =
        EventPipeline::start(config(dir.path()), vec![Box::new(sink.clone())]).expect("start");
    pipeline.record(numbered(1));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while sink.received().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(seqs(&sink.received()), [1]);
}

#[test]
fn queue_overflow_spills_to_disk_and_is_replayed_without_loss() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = TestSink::default();
    sink.hold();
    let pipeline = EventPipeline::start(
        PipelineConfig {
            queue_capacity: 8,
            batch_max: 1,
            ..config(dir.path())
        },
        vec![Box::new(sink.clone())],
    )
    .expect("start");
    let started = std::time::Instant::now();
    for i in 0..300 {
        pipeline.record(numbered(i));
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "record() must not wait for a stalled sink"
    );
    let spilled = pipeline.stats().spilled_queue;
    assert!(
        spilled >= 300 - 8 - 2,
        "most events spill while the sink is stalled: {spilled}"
    );
    let spool_files = std::fs::read_dir(dir.path().join("spool/queue"))
        .expect("queue spool")
        .count();
    assert!(spool_files > 0, "spilled events are on disk");
    sink.release();
    pipeline.flush().expect("flush");
    assert_eq!(
        seqs(&sink.received()),
        (0..300).collect::<Vec<u64>>(),
        "every event exactly once"
    );
    let stats = pipeline.stats();
    assert_eq!(stats.replayed, spilled);
    assert_eq!(stats.dropped_total, 0);
}

#[test]
fn a_failing_sink_gets_its_events_spooled_and_replayed_when_it_recovers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let healthy = TestSink::default();
    let failing = FailingName(TestSink::default());
    failing.0.set_failing(true);
    let pipeline = EventPipeline::start(
        config(dir.path()),
        vec![Box::new(healthy.clone()), Box::new(failing.clone())],
    )
    .expect("start");
    for i in 0..200 {
        pipeline.record(numbered(i));
    }
    let error = pipeline.flush().expect_err("backlog reported");
    assert!(error.is_sink_backlog(), "{error}");
    assert_eq!(
        seqs(&healthy.received()).len(),
        200,
        "the healthy sink is unaffected"
    );
    assert!(failing.0.received().is_empty());
    let stats = pipeline.stats();
    assert!(stats.sink_failures > 0);
    assert_eq!(stats.spilled_sink, 200);
    failing.0.set_failing(false);
    pipeline.flush().expect("recovered");
    assert_eq!(seqs(&failing.0.received()), (0..200).collect::<Vec<u64>>());
    assert_eq!(
        seqs(&healthy.received()),
        (0..200).collect::<Vec<u64>>(),
        "no duplicates elsewhere"
    );
    assert_eq!(pipeline.stats().dropped_total, 0);
}

/// A [`TestSink`] under another name, so two sinks get two spools.
#[derive(Clone)]
struct FailingName(TestSink);

impl palisade_events::BatchSink for FailingName {
    fn name(&self) -> &str {
        "failing"
    }

    fn write_batch(
        &mut self,
        events: &[palisade_core::SecurityEvent],
    ) -> Result<(), palisade_events::EventsError> {
        self.0.write_batch(events)
    }
}

#[test]
fn a_full_spool_drops_counts_and_reports_the_loss() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = TestSink::default();
    sink.set_failing(true);
    let pipeline = EventPipeline::start(
        PipelineConfig {
            spool_max_bytes: 4096,
            ..config(dir.path())
        },
        vec![Box::new(sink.clone())],
    )
    .expect("start");
    for i in 0..100 {
        pipeline.record(numbered(i));
    }
    assert!(pipeline.flush().is_err());
    let dropped = pipeline.dropped_total();
    assert!(dropped > 0, "a 4 KiB spool cannot hold 100 events");
    assert_eq!(pipeline.stats().dropped_spool_full, dropped);
    assert_eq!(
        pipeline
            .counters()
            .dropped(palisade_events::DropReason::SpoolFull),
        dropped
    );
    sink.set_failing(false);
    // Let a drop report be generated and delivered.
    std::thread::sleep(Duration::from_millis(100));
    pipeline.flush().expect("recovered");
    let received = sink.received();
    let originals = seqs(&received).len() as u64;
    assert_eq!(
        originals + dropped,
        100,
        "every event is delivered or counted as dropped"
    );
    let reported: u64 = received
        .iter()
        .filter(|e| e.action == "sys_events_dropped")
        .filter_map(|e| {
            e.fields
                .get("palisade.events.dropped")
                .and_then(serde_json::Value::as_u64)
        })
        .sum();
    assert!(reported > 0, "the loss is reported as an event");
    assert!(reported <= dropped);
}

#[test]
fn events_recorded_after_shutdown_are_spooled_and_delivered_by_the_next_pipeline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first_sink = TestSink::default();
    let pipeline = EventPipeline::start(config(dir.path()), vec![Box::new(first_sink.clone())])
        .expect("start");
    pipeline.record(numbered(0));
    pipeline.shutdown().expect("shutdown");
    pipeline.record(numbered(1));
    pipeline.record(numbered(2));
    drop(pipeline);
    assert_eq!(seqs(&first_sink.received()), [0]);

    let second_sink = TestSink::default();
    let pipeline = EventPipeline::start(config(dir.path()), vec![Box::new(second_sink.clone())])
        .expect("restart");
    pipeline.flush().expect("flush");
    assert_eq!(seqs(&second_sink.received()), [1, 2]);
    assert_eq!(pipeline.stats().replayed, 2);
}

#[test]
fn corrupt_spool_lines_are_skipped_and_counted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let queue_spool = dir.path().join("spool/queue");
    std::fs::create_dir_all(&queue_spool).expect("mkdir");
    let good = serde_json::to_string(&palisade_events::ecs::to_ecs(&numbered(7))).expect("json");
    // A crash mid-write leaves a cut line; a bad actor might leave anything.
    let content = format!(
        "{good}\nnot json\n{{\"@timestamp\":\"x\"}}\n{}\n{good}",
        &good[..good.len() / 2]
    );
    std::fs::write(queue_spool.join("current.jsonl"), content).expect("write");
    let sink = TestSink::default();
    let pipeline =
        EventPipeline::start(config(dir.path()), vec![Box::new(sink.clone())]).expect("start");
    pipeline.flush().expect("flush");
    assert_eq!(seqs(&sink.received()), [7, 7]);
    assert_eq!(pipeline.stats().dropped_spool_corrupt, 3);
}

#[test]
fn sinks_with_the_same_name_are_refused_because_they_would_share_a_spool() {
    let dir = tempfile::tempdir().expect("temp dir");
    let result = EventPipeline::start(
        config(dir.path()),
        vec![Box::new(TestSink::default()), Box::new(TestSink::default())],
    );
    let error = result.expect_err("duplicate sink names");
    assert!(error.to_string().contains("unique"), "{error}");
}
