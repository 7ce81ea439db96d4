//! Events per second into the SQLite and PostgreSQL stores, batched (1,024 per
//! transaction), directly into the sink on this thread: wall time and this
//! thread's CPU time (the machine is shared, CPU time is the steadier figure).
//!
//! ```sh
//! cargo run --release -p palisade-events --example ingest_rate -- 100000
//! PALISADE_POSTGRES_URL=postgres://postgres@127.0.0.1/test cargo run --release -p palisade-events --example ingest_rate
//! ```
//! PostgreSQL runs in its own schema `palisade_ingest_rate`, dropped at the end.
//! (PostgreSQL's server-side CPU is not in the thread figure; wall time is.)

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use palisade_core::{EventOutcome, SecurityEvent, Severity};
use palisade_events::{BatchSink, PostgresStore, Retention, SqliteStore};

const BATCH: usize = 1024;
const NO_RETENTION: Retention = Retention {
    max_age: None,
    max_rows: None,
};

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

fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

fn measure(name: &str, sink: &mut dyn BatchSink, events: &[SecurityEvent]) {
    let (wall, cpu) = (Instant::now(), thread_cpu());
    for chunk in events.chunks(BATCH) {
        sink.write_batch(chunk).expect("write batch");
    }
    let (wall, cpu) = (wall.elapsed(), thread_cpu().saturating_sub(cpu));
    let n = events.len() as f64;
    println!(
        "{name:>10}: {} events, {:>8.0} events/s wall, {:>8.0} events/CPU-s (client thread)",
        events.len(),
        n / wall.as_secs_f64(),
        n / cpu.as_secs_f64().max(1e-9),
    );
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let events: Vec<SecurityEvent> = (0..count).map(sample_event).collect();

    let dir = tempfile::tempdir().expect("temp dir");
    let mut sqlite = SqliteStore::open_in(dir.path(), NO_RETENTION).expect("open SQLite");
    measure("sqlite", &mut sqlite, &events);

    let url = std::env::var("PALISADE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = "palisade_ingest_rate";
    match PostgresStore::connect(&url, Some(schema), NO_RETENTION) {
        Ok(mut store) => {
            measure("postgres", &mut store, &events);
            if let Ok(mut client) = postgres::Client::connect(&url, postgres::NoTls) {
                let _ = client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
            }
        }
        Err(error) => println!("  postgres: skipped ({error})"),
    }
}
