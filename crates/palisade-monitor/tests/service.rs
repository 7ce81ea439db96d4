//! The running monitor: baselines survive a restart through the event store,
//! findings and bans are recorded as events, the pipeline tap feeds it.

mod support;

use std::sync::Arc;

use palisade_core::{EventSink, SecurityEvent, Severity};
use palisade_events::{EventPipeline, PipelineConfig, SqliteStateTable};
use palisade_monitor::{ManualClock, MemoryBans, MonitorConfig, MonitorService, RequestSample};
use serde_json::Value;

use support::Collect;

const MINUTE: i64 = 60_000;
const T0: i64 = 1_795_996_800_000;

fn sample(at: i64, from: &str, path: &str, status: u16, id: String) -> RequestSample {
    RequestSample {
        timestamp_ms: at,
        request_id: id,
        source_ip: from.parse().expect("ip"),
        route: "shop".to_owned(),
        path: path.to_owned(),
        status,
        blocked: false,
        user: None,
    }
}

fn start(dir: &tempfile::TempDir, clock: &ManualClock, output: &Collect) -> MonitorService {
    let table = SqliteStateTable::open(dir.path().join(palisade_events::DEFAULT_DB_FILE))
        .expect("state table");
    MonitorService::start(
        MonitorConfig::default(),
        Arc::new(clock.clone()),
        Some(Box::new(table)),
        Box::new(MemoryBans::default()),
        Arc::new(output.clone()),
    )
    .expect("start monitor")
}

#[test]
fn baselines_survive_a_restart_and_a_spike_is_still_seen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::at(T0);
    let output = Collect::default();
    let monitor = start(&dir, &clock, &output);
    for minute in 0..60 {
        for i in 0..40 {
            monitor.observe_request(sample(
                T0 + minute * MINUTE + i * 1000,
                &format!("10.0.0.{}", i + 1),
                "/",
                200,
                format!("b{minute}-{i}"),
            ));
        }
    }
    monitor.flush();
    monitor.shutdown();
    assert_eq!(output.actions(), Vec::<String>::new());
    assert_eq!(monitor.dropped(), 0);

    // A new process: the hour of history comes from the store.
    clock.set(T0 + 60 * MINUTE);
    let monitor = start(&dir, &clock, &output);
    for i in 0..150 {
        monitor.observe_request(sample(
            T0 + 60 * MINUTE + i * 100,
            "203.0.113.200",
            "/",
            200,
            format!("x{i}"),
        ));
    }
    monitor.flush();
    let events = output.events();
    assert_eq!(output.actions(), ["anomaly_traffic_spike"]);
    assert_eq!(events[0].fields["palisade.finding.subject"], "global");
    assert_eq!(events[0].fields["palisade.finding.observed"], "120");
    assert_eq!(events[0].fields["palisade.response"], "alert");
}

#[test]
fn findings_from_the_pipeline_tap_become_events_and_bans() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::at(T0);
    let output = Collect::default();
    let monitor = start(&dir, &clock, &output);
    // Failed logins reach the monitor through the event pipeline's tap.
    let pipeline = EventPipeline::start_with_taps(
        PipelineConfig::new(dir.path()),
        Vec::new(),
        vec![Box::new(monitor.tap())],
    )
    .expect("pipeline");
    for i in 0..12 {
        let mut event = SecurityEvent::new(
            "authn_login_fail",
            "authentication",
            Severity::Low,
            "bad password",
        );
        event.timestamp_ms = T0 + i * 1000;
        event.source_ip = Some("198.51.100.7".parse().expect("ip"));
        event.request_id = Some(format!("req-{i}"));
        event
            .fields
            .insert("user.name".into(), format!("victim{i}").into());
        pipeline.record(event);
    }
    pipeline.flush().expect("flush pipeline");
    monitor.flush();
    assert_eq!(
        output.actions(),
        ["anomaly_credential_stuffing", "response_ip_banned"]
    );
    let events = output.events();
    assert_eq!(events[0].fields["palisade.response"], "ban");
    assert_eq!(
        events[0].fields["palisade.finding.evidence"],
        Value::from((0..10).map(|i| format!("req-{i}")).collect::<Vec<_>>())
    );
    assert_eq!(
        events[1].source_ip,
        Some("198.51.100.7".parse().expect("ip"))
    );
    assert_eq!(events[1].fields["palisade.ban.ttl_s"], 900);
    assert_eq!(events[1].severity, Severity::High);
}
