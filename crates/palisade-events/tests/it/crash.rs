//! Crash safety: a child process records events into a SQLite-backed pipeline
//! and is killed with SIGKILL. What was committed must be intact, and the events
//! lost must all be recent: recorded within the flush interval (plus scheduling
//! slack on a loaded machine) before the kill.
//!
//! The child is this same test binary, running the ignored test
//! `crash::crash_child` with `PALISADE_EVENTS_CRASH_CHILD=<data dir>`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use palisade_core::EventSink;
use palisade_events::{
    EventFilter, EventPipeline, EventReader, MAX_LIMIT, PipelineConfig, Retention, SqliteStore,
    now_ms,
};

use crate::support::{numbered, seqs};

const CHILD_ENV: &str = "PALISADE_EVENTS_CRASH_CHILD";
const FLUSH_INTERVAL: Duration = Duration::from_millis(200);
/// Allowance for the writer thread being descheduled and for the batch write in
/// progress, on a shared 2-core machine.
const SLACK: Duration = Duration::from_millis(800);

#[test]
#[ignore = "helper: run as a child process by crash::sigkill_loses_at_most_the_last_flush_interval"]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        panic!("{CHILD_ENV} must name the data directory");
    };
    let store = SqliteStore::open_in(&dir, Retention::default()).expect("store");
    let pipeline = EventPipeline::start(
        PipelineConfig {
            flush_interval: FLUSH_INTERVAL,
            ..PipelineConfig::new(&dir)
        },
        vec![Box::new(store)],
    )
    .expect("pipeline");
    for i in 0.. {
        let mut event = numbered(i);
        event.timestamp_ms = now_ms();
        pipeline.record(event);
        // Line-buffered: the parent sees each record as it happens.
        println!("recorded {i}");
        std::thread::sleep(Duration::from_micros(500));
    }
}

#[test]
fn sigkill_loses_at_most_the_last_flush_interval() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "crash::crash_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let mut lines = BufReader::new(stdout).lines();
    let started = Instant::now();
    let mut last_recorded = None;
    // Let several flush intervals pass with events flowing.
    while started.elapsed() < Duration::from_millis(1500) {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(n) = line.strip_prefix("recorded ") {
                    last_recorded = n.parse::<u64>().ok();
                }
            }
            _ => break,
        }
    }
    child.kill().expect("SIGKILL the child");
    let killed_at = now_ms();
    child.wait().expect("reap child");
    let last_recorded = last_recorded.expect("child recorded events");
    assert!(
        last_recorded > 100,
        "child too slow to test anything: {last_recorded}"
    );

    let reader = EventReader::open_in(dir.path()).expect("database intact after SIGKILL");
    let stored = reader
        .search(&EventFilter {
            limit: MAX_LIMIT,
            ..EventFilter::default()
        })
        .expect("search");
    let events: Vec<_> = stored.into_iter().map(|s| s.event).collect();
    let stored_seqs = seqs(&events);
    let kept = stored_seqs.len() as u64;
    assert_eq!(
        stored_seqs,
        (0..kept).collect::<Vec<u64>>(),
        "committed events form a prefix, no holes"
    );
    assert!(kept > 0, "some batches were committed before the kill");
    // Everything not stored was recorded after this point in time.
    let newest_kept_ms = events.iter().map(|e| e.timestamp_ms).max().unwrap_or(0);
    let bound_ms = (FLUSH_INTERVAL + SLACK).as_millis() as i64;
    assert!(
        killed_at - newest_kept_ms <= bound_ms,
        "lost window {} ms > bound {bound_ms} ms (kept {kept}, recorded at least {})",
        killed_at - newest_kept_ms,
        last_recorded + 1
    );
    eprintln!(
        "crash test: recorded >= {}, kept {kept}, lost window {} ms",
        last_recorded + 1,
        killed_at - newest_kept_ms
    );
}
