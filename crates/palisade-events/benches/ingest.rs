//! Ingest throughput of the SQLite store: batched inserts of realistic WAF
//! events on one core (target ≥ 50,000 events/s), directly and through the
//! pipeline (record → queue → writer thread → SQLite).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use palisade_core::{EventOutcome, EventSink, SecurityEvent, Severity};
use palisade_events::{EventPipeline, PipelineConfig, Retention, SqliteStore};

const BATCH: usize = 1024;

fn sample_event(i: usize) -> SecurityEvent {
    let mut fields = BTreeMap::new();
    fields.insert(
        "url.path".to_owned(),
        format!("/api/items/{}", i % 97).into(),
    );
    fields.insert("http.request.method".to_owned(), "GET".into());
    fields.insert("user.name".to_owned(), format!("user{}", i % 13).into());
    fields.insert("palisade.anomaly_score".to_owned(), 10.into());
    SecurityEvent {
        timestamp_ms: 1_780_000_000_000 + i as i64,
        action: "malicious_sqli".to_owned(),
        category: "web".to_owned(),
        outcome: EventOutcome::Failure,
        severity: Severity::High,
        request_id: Some(format!("req-{i:08}")),
        source_ip: Some(IpAddr::V4(Ipv4Addr::new(
            10,
            0,
            (i % 251) as u8,
            (i % 199) as u8,
        ))),
        route: Some("api".to_owned()),
        message: "SQL injection attack detected via libinjection".to_owned(),
        rule_ids: vec!["942100".to_owned(), "949110".to_owned()],
        fields,
    }
}

/// `BATCH` events numbered from `first` (so with timestamps from `first` ms on).
fn next_batch(first: usize) -> Vec<SecurityEvent> {
    (first..first + BATCH).map(sample_event).collect()
}

/// On-CPU time of the calling thread, from `/proc/thread-self/schedstat` (ns).
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        text.split_whitespace().next()?.parse().ok()?,
    ))
}

/// User + system CPU time of the whole process, from `/proc/self/stat`
/// (assumes the usual 100 clock ticks per second).
fn process_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn per_second(events: usize, time: Duration) -> f64 {
    events as f64 / time.as_secs_f64().max(1e-9)
}

/// Wall-clock figures on a shared machine depend on its load; CPU-time figures
/// say what one free core would do. Printed once before the criterion runs.
fn cpu_time_report() {
    const BATCHES: usize = 100;
    // Every batch its own events: timestamps grow as in real traffic (re-inserting one batch's
    // timestamps would scatter index inserts over the whole store).
    let batches: Vec<Vec<SecurityEvent>> = (0..BATCHES)
        .map(|batch| next_batch(batch * BATCH))
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = SqliteStore::open_in(dir.path(), Retention::default()).expect("store");
    let (wall, cpu) = (Instant::now(), thread_cpu());
    for events in &batches {
        store.insert(events).expect("insert");
    }
    let (wall, cpu) = (
        wall.elapsed(),
        thread_cpu().zip(cpu).map(|(end, start)| end - start),
    );
    let n = BATCHES * BATCH;
    println!(
        "sqlite direct: {n} events in batches of {BATCH}: wall {wall:?} = {:.0} events/s",
        per_second(n, wall)
    );
    if let Some(cpu) = cpu {
        println!(
            "sqlite direct: on-CPU {cpu:?} = {:.0} events per CPU-second",
            per_second(n, cpu)
        );
    }

    const PIPELINE_N: usize = 100_000;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open_in(dir.path(), Retention::default()).expect("store");
    let mut config = PipelineConfig::new(dir.path());
    config.queue_capacity = PIPELINE_N;
    let pipeline = EventPipeline::start(config, vec![Box::new(store)]).expect("pipeline");
    let events: Vec<SecurityEvent> = (0..PIPELINE_N).map(sample_event).collect();
    let (wall, cpu) = (Instant::now(), process_cpu());
    for event in events {
        pipeline.record(event);
    }
    let recorded = wall.elapsed();
    pipeline.flush().expect("flush");
    let (wall, cpu) = (
        wall.elapsed(),
        process_cpu().zip(cpu).map(|(end, start)| end - start),
    );
    println!(
        "pipeline: {PIPELINE_N} record() calls took {recorded:?} ({:.0} ns each); delivered to SQLite after {wall:?} = {:.0} events/s wall",
        recorded.as_nanos() as f64 / PIPELINE_N as f64,
        per_second(PIPELINE_N, wall)
    );
    if let Some(cpu) = cpu {
        println!(
            "pipeline: process CPU {cpu:?} = {:.0} events per CPU-second",
            per_second(PIPELINE_N, cpu)
        );
    }
    println!(
        "pipeline: spilled {} dropped {}",
        pipeline.stats().spilled_queue,
        pipeline.dropped_total()
    );
}

fn ingest(c: &mut Criterion) {
    cpu_time_report();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = SqliteStore::open_in(
        dir.path(),
        Retention {
            max_age: None,
            max_rows: None,
        },
    )
    .expect("store");

    let mut group = c.benchmark_group("sqlite");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    // The store grows through the run; each iteration inserts the next 1,024 events (later
    // timestamps), as a long-running gateway does.
    let mut inserted = 0;
    group.bench_function("insert_batch_1024", |b| {
        b.iter_batched(
            || {
                inserted += BATCH;
                next_batch(inserted)
            },
            |events| store.insert(black_box(&events)).expect("insert"),
            BatchSize::LargeInput,
        );
    });
    group.finish();

    let mut group = c.benchmark_group("pipeline");
    const PIPELINE_EVENTS: usize = 20_000;
    group.throughput(Throughput::Elements(PIPELINE_EVENTS as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.bench_function("record_to_sqlite_20000", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("temp dir");
                let store = SqliteStore::open_in(dir.path(), Retention::default()).expect("store");
                let mut config = PipelineConfig::new(dir.path());
                config.queue_capacity = 65_536;
                let pipeline =
                    EventPipeline::start(config, vec![Box::new(store)]).expect("pipeline");
                let events: Vec<SecurityEvent> = (0..PIPELINE_EVENTS).map(sample_event).collect();
                (dir, pipeline, events)
            },
            |(dir, pipeline, events)| {
                let start = Instant::now();
                for event in events {
                    pipeline.record(event);
                }
                pipeline.flush().expect("flush");
                assert_eq!(
                    pipeline.stats().spilled_queue,
                    0,
                    "queue overflowed during the bench"
                );
                black_box(start.elapsed());
                (dir, pipeline)
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
