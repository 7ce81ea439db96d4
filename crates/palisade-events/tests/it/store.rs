//! SQLite store: round trip, every filter (cases in `tests/data/filter_cases.json`),
//! follow, statistics, retention, migrations, and the JSON lines sink.

use std::net::IpAddr;
use std::time::Duration;

use palisade_core::SecurityEvent;
use palisade_events::ecs::{from_ecs, parse_severity};
use palisade_events::{
    BatchSink, EventFilter, EventReader, JsonLinesSink, Retention, SqliteStore, TailFollower,
    now_ms,
};
use serde_json::Value;

use crate::support::{NO_RETENTION, corpus, corpus_docs, doc, read_data};

pub fn store_with_corpus() -> (tempfile::TempDir, EventReader) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = SqliteStore::open_in(dir.path(), NO_RETENTION).expect("open store");
    store.write_batch(&corpus()).expect("insert corpus");
    let reader = EventReader::open_in(dir.path()).expect("open reader");
    (dir, reader)
}

fn messages(events: &[palisade_events::StoredEvent]) -> Vec<String> {
    events.iter().map(|e| e.event.message.clone()).collect()
}

#[test]
fn ecs_documents_decode_and_encode_back_unchanged() {
    for original in corpus_docs() {
        let encoded = palisade_events::ecs::to_ecs(&from_ecs(original.clone()).expect("decode"));
        for (key, value) in &original {
            assert_eq!(encoded.get(key), Some(value), "key {key} of {original:?}");
        }
        assert_eq!(encoded.get("ecs.version"), Some(&Value::from("8.11.0")));
    }
}

#[test]
fn events_round_trip_through_sqlite_unchanged() {
    let (_dir, reader) = store_with_corpus();
    let stored = reader.search(&EventFilter::default()).expect("search");
    let expected: Vec<Value> = corpus().iter().map(doc).collect();
    let actual: Vec<Value> = stored.iter().map(|s| doc(&s.event)).collect();
    assert_eq!(actual, expected);
    let ids: Vec<i64> = stored.iter().map(|s| s.id).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
}

fn filter_from_case(case: &Value) -> EventFilter {
    let f = &case["filter"];
    let text = |key: &str| f.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut filter = EventFilter {
        since: f.get("since").and_then(Value::as_i64),
        until: f.get("until").and_then(Value::as_i64),
        action: text("action"),
        source_ip: text("source_ip").map(|ip| ip.parse::<IpAddr>().expect("case ip")),
        user: text("user"),
        rule_id: text("rule_id"),
        route: text("route"),
        min_severity: text("min_severity").map(|s| parse_severity(&s).expect("case severity")),
        ..EventFilter::default()
    };
    if let Some(limit) = f.get("limit").and_then(Value::as_u64) {
        filter.limit = limit as usize;
    }
    filter
}

/// Runs every case of `tests/data/filter_cases.json` (search and tail) on a
/// reader of the corpus; returns what failed.
pub fn filter_case_failures(reader: &EventReader) -> Vec<String> {
    let cases: Vec<Value> = serde_json::from_str(&read_data("filter_cases.json")).expect("cases");
    assert!(cases.len() >= 15);
    let mut failures = Vec::new();
    for case in &cases {
        let filter = filter_from_case(case);
        let expected: Vec<String> =
            serde_json::from_value(case["expect"].clone()).expect("expect list");
        let got = messages(&reader.search(&filter).expect("search"));
        if got != expected {
            failures.push(format!(
                "{}: expected {expected:?}, got {got:?}",
                case["name"]
            ));
        }
        // tail and follow apply the same filter; the corpus is inserted in time order.
        let tailed = messages(&reader.tail(&filter).expect("tail"));
        if tailed != expected {
            failures.push(format!(
                "{} (tail): expected {expected:?}, got {tailed:?}",
                case["name"]
            ));
        }
    }
    failures
}

/// Statistics of the corpus over every filter case, for comparing stores.
pub fn stats_of_every_case(reader: &EventReader) -> Vec<palisade_events::EventStats> {
    let cases: Vec<Value> = serde_json::from_str(&read_data("filter_cases.json")).expect("cases");
    cases
        .iter()
        .map(|case| reader.stats(&filter_from_case(case), 2).expect("stats"))
        .chain([reader.stats(&EventFilter::default(), 10).expect("stats")])
        .collect()
}

#[test]
fn every_filter_selects_the_expected_events() {
    let (_dir, reader) = store_with_corpus();
    let failures = filter_case_failures(&reader);
    assert!(
        failures.is_empty(),
        "filter cases failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn follow_returns_only_events_inserted_later() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = SqliteStore::open_in(dir.path(), NO_RETENTION).expect("open store");
    let events = corpus();
    store.write_batch(&events[..2]).expect("insert");
    let reader = EventReader::open_in(dir.path()).expect("reader");
    let start = reader.tail(&EventFilter::default()).expect("tail");
    let after = start.last().map(|e| e.id).expect("two events");
    let mut follower = TailFollower::new(
        reader,
        EventFilter::default(),
        after,
        Duration::from_millis(10),
    );
    assert!(follower.poll().expect("poll").is_empty());
    store.write_batch(&events[2..]).expect("insert more");
    let mut polls = 0;
    let next = follower
        .wait(|| {
            polls += 1;
            polls > 100
        })
        .expect("wait");
    assert_eq!(messages(&next), ["login-fail", "sqli-2", "reload"]);
    assert!(
        follower.poll().expect("poll").is_empty(),
        "events are returned once"
    );
}

#[test]
fn stats_count_top_values_over_the_filter() {
    let (_dir, reader) = store_with_corpus();
    let stats = reader.stats(&EventFilter::default(), 10).expect("stats");
    insta::assert_snapshot!(
        "stats_all",
        palisade_events::render::render_stats_table(&stats)
    );
    insta::assert_snapshot!(
        "stats_all_json",
        palisade_events::render::render_stats_json(&stats)
    );
    let web = EventFilter {
        route: Some("api".into()),
        ..EventFilter::default()
    };
    let stats = reader.stats(&web, 1).expect("stats");
    assert_eq!(stats.total, 2);
    assert_eq!(stats.top_rules.len(), 1, "top_n limits each list");
    assert_eq!(stats.top_users.len(), 1);
    let severities: Vec<&str> = stats.by_severity.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(
        severities,
        ["high", "medium"],
        "severity counts are complete, highest first"
    );
}

fn aged(message: &str, timestamp_ms: i64, rule: &str) -> SecurityEvent {
    let mut event = SecurityEvent::new(
        "malicious_sqli",
        "web",
        palisade_core::Severity::High,
        message,
    );
    event.timestamp_ms = timestamp_ms;
    event.rule_ids = vec![rule.to_owned()];
    event
}

#[test]
fn retention_deletes_by_age_and_by_row_count_including_rule_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let now = now_ms();
    let day = 86_400_000;
    let retention = Retention {
        max_age: Some(Duration::from_secs(86_400)),
        max_rows: Some(2),
    };
    let mut store = SqliteStore::open_in(dir.path(), retention).expect("open store");
    store
        .write_batch(&[
            aged("old", now - 2 * day, "old-rule"),
            aged("a", now - 3000, "r1"),
            aged("b", now - 2000, "r2"),
            aged("c", now - 1000, "r3"),
        ])
        .expect("insert");
    assert_eq!(store.enforce_retention(now).expect("retention"), 2);
    let reader = EventReader::open_in(dir.path()).expect("reader");
    assert_eq!(
        messages(&reader.search(&EventFilter::default()).expect("search")),
        ["b", "c"]
    );
    let stats = reader.stats(&EventFilter::default(), 10).expect("stats");
    let rules: Vec<&str> = stats.top_rules.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(rules, ["r2", "r3"], "rule rows of deleted events are gone");
    assert_eq!(store.enforce_retention(now).expect("retention"), 0);
}

/// How many events [`events_over_several_id_segments`] makes, and how many
/// addresses they cycle through.
const SEGMENT_SPAN_EVENTS: usize = 3 * 4096 + 10;
const SEGMENT_SPAN_ADDRESSES: usize = 7;

/// Events numbered by `event.message`, whose source ips cycle through seven
/// addresses: the source-ip index, keyed by 4,096-id segment and then address,
/// holds every address in four segments.
pub fn events_over_several_id_segments() -> Vec<SecurityEvent> {
    (0..SEGMENT_SPAN_EVENTS)
        .map(|i| {
            let mut event = aged(&i.to_string(), 1_780_000_000_000 + i as i64, "942100");
            event.source_ip = Some(IpAddr::from([10, 9, 0, (i % SEGMENT_SPAN_ADDRESSES) as u8]));
            event
        })
        .collect()
}

/// Asserts that filtering by source ip finds the address's events in every
/// segment (and only them), also combined with a time range.
pub fn assert_source_ip_filter_spans_segments(reader: &EventReader) {
    let ip = IpAddr::from([10, 9, 0, 3]);
    let numbers = |filter: &EventFilter| -> Vec<usize> {
        let found = reader.search(filter).expect("search by ip");
        assert!(found.iter().all(|e| e.event.source_ip == Some(ip)));
        found
            .iter()
            .map(|e| e.event.message.parse().expect("numbered event"))
            .collect()
    };
    let expected: Vec<usize> = (3..SEGMENT_SPAN_EVENTS)
        .step_by(SEGMENT_SPAN_ADDRESSES)
        .collect();
    let all = EventFilter {
        source_ip: Some(ip),
        limit: palisade_events::MAX_LIMIT,
        ..EventFilter::default()
    };
    assert_eq!(numbers(&all), expected, "every segment is searched");
    let counted = reader.stats(&all, 3).expect("stats by ip");
    assert_eq!(
        counted.total,
        expected.len() as u64,
        "stats count the same events"
    );
    assert_eq!(counted.top_source_ips.len(), 1);
    let late = EventFilter {
        since: Some(1_780_000_000_000 + 12_000),
        ..all.clone()
    };
    let expected_late: Vec<usize> = expected.into_iter().filter(|&n| n >= 12_000).collect();
    assert_eq!(numbers(&late), expected_late, "ip and time range combine");
}

#[test]
fn source_ip_filter_finds_events_in_every_id_segment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = SqliteStore::open_in(dir.path(), NO_RETENTION).expect("open store");
    store
        .write_batch(&events_over_several_id_segments())
        .expect("insert");
    assert_source_ip_filter_spans_segments(&EventReader::open_in(dir.path()).expect("reader"));
}

#[test]
fn migrations_are_idempotent_and_newer_schemas_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("events.sqlite3");
    drop(SqliteStore::open(&path, NO_RETENTION).expect("create"));
    drop(SqliteStore::open(&path, NO_RETENTION).expect("reopen"));
    set_user_version(&path, 1 + palisade_events::SCHEMA_VERSION);
    let error = SqliteStore::open(&path, NO_RETENTION).expect_err("newer schema refused");
    assert!(error.to_string().contains("newer"), "{error}");
    let error = EventReader::open(&path).expect_err("reader refuses too");
    assert!(error.to_string().contains("newer"), "{error}");

    let missing =
        EventReader::open(dir.path().join("missing.sqlite3")).expect_err("reader does not create");
    assert!(!dir.path().join("missing.sqlite3").exists(), "{missing}");
}

/// Pretends a newer build wrote the database.
fn set_user_version(path: &std::path::Path, version: i64) {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.pragma_update(None, "user_version", version)
        .expect("set user_version");
}

#[test]
fn json_lines_sink_writes_one_parseable_ecs_line_per_event_even_for_hostile_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("logs/events.jsonl");
    let mut sink = JsonLinesSink::open(&path).expect("open");
    let mut events = corpus();
    events[0].message = "forged\r\n{\"event.action\":\"authn_login_success\"}\u{2028}".into();
    events[1]
        .fields
        .insert("url.path".into(), Value::from("/a\nb\u{0}"));
    sink.write_batch(&events).expect("write");
    sink.write_batch(&events[..1]).expect("append");
    let text = std::fs::read_to_string(&path).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), events.len() + 1);
    for (line, event) in lines.iter().zip(events.iter().chain(&events[..1])) {
        let parsed =
            from_ecs(serde_json::from_str(line).expect("line is JSON")).expect("line is ECS");
        assert_eq!(doc(&parsed), doc(event));
    }
    assert!(lines[0].contains(r#""@timestamp":"1970-01-01T00:00:01.000Z""#));
    assert!(lines[0].contains(r#""event.severity":73"#));
    assert!(lines[0].contains(r#""rule.id":["942100","949110"]"#));
}

#[test]
fn monitor_state_persists_in_the_sqlite_file() {
    use palisade_events::{SqliteStateTable, StateTable};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(palisade_events::DEFAULT_DB_FILE);
    let mut table = SqliteStateTable::open(&path).expect("open");
    table
        .save(&[("a".into(), "1".into()), ("b".into(), "2".into())], 1000)
        .expect("save");
    table
        .save(&[("a".into(), "3".into())], 2000)
        .expect("update");
    drop(table);
    let mut table = SqliteStateTable::open(&path).expect("reopen");
    assert_eq!(
        table.load_all().expect("load"),
        [
            ("a".to_owned(), "3".to_owned()),
            ("b".to_owned(), "2".to_owned())
        ]
    );
    assert_eq!(table.expire(1500).expect("expire"), 1);
    // The events side of the same file still works.
    let mut store = SqliteStore::open(&path, NO_RETENTION).expect("store");
    store.write_batch(&corpus()).expect("insert");
}
