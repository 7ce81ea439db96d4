//! PostgreSQL store against the local server (127.0.0.1:5432, db `test`, or
//! `PALISADE_POSTGRES_URL`): each test in its own schema, dropped afterwards.
//! Unreachable server: FAIL when `CI=true`, otherwise skip with a notice.

use palisade_events::{
    BatchSink, EventFilter, EventPipeline, EventReader, PipelineConfig, PostgresStateTable,
    PostgresStore, Retention, StateTable, TailFollower,
};
use serde_json::Value;

use crate::store::{
    assert_source_ip_filter_spans_segments, events_over_several_id_segments, filter_case_failures,
    stats_of_every_case, store_with_corpus,
};
use crate::support::{NO_RETENTION, corpus, doc, numbered, seqs};

fn postgres_url() -> String {
    std::env::var("PALISADE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh schema name, or `None` (after a loud notice) when PostgreSQL is down.
struct TestSchema {
    name: String,
}

impl TestSchema {
    fn new(test: &str) -> Option<TestSchema> {
        let url = postgres_url();
        match postgres::Client::connect(&url, postgres::NoTls) {
            Ok(_) => {}
            Err(error) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("PostgreSQL at {url} is unreachable and CI=true: {error}");
                }
                eprintln!(
                    "SKIPPED {test}: PostgreSQL at {url} is unreachable ({error}); set PALISADE_POSTGRES_URL"
                );
                return None;
            }
        }
        let name = format!(
            "palisade_test_{}_{}_{}",
            test,
            std::process::id(),
            palisade_events::now_ms()
        );
        Some(TestSchema { name })
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&postgres_url(), postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

impl TestSchema {
    /// A reader of this schema.
    fn reader(&self) -> EventReader {
        EventReader::connect_postgres(&postgres_url(), Some(&self.name)).expect("reader")
    }
}

/// Every stored event, oldest first.
fn everything(reader: &EventReader) -> Vec<palisade_core::SecurityEvent> {
    reader
        .tail(&EventFilter {
            limit: palisade_events::MAX_LIMIT,
            ..EventFilter::default()
        })
        .expect("read back")
        .into_iter()
        .map(|stored| stored.event)
        .collect()
}

#[test]
fn events_round_trip_through_postgres_unchanged() {
    let Some(schema) = TestSchema::new("round_trip") else {
        return;
    };
    let mut store =
        PostgresStore::connect(&postgres_url(), Some(&schema.name), NO_RETENTION).expect("connect");
    store.write_batch(&corpus()).expect("insert corpus");
    let expected: Vec<Value> = corpus().iter().map(doc).collect();
    let actual: Vec<Value> = everything(&schema.reader()).iter().map(doc).collect();
    assert_eq!(actual, expected);
    // A second connection (a second gateway) migrates nothing and appends.
    let mut second =
        PostgresStore::connect(&postgres_url(), Some(&schema.name), NO_RETENTION).expect("again");
    second.write_batch(&corpus()[..2]).expect("insert more");
    assert_eq!(store.count().expect("count"), corpus().len() as u64 + 2);
}

#[test]
fn postgres_rule_index_and_retention_work() {
    let Some(schema) = TestSchema::new("retention") else {
        return;
    };
    let retention = Retention {
        max_age: None,
        max_rows: Some(3),
    };
    let mut store =
        PostgresStore::connect(&postgres_url(), Some(&schema.name), retention).expect("connect");
    let events: Vec<_> = (0..10).map(numbered).collect();
    store.write_batch(&events).expect("insert");
    assert_eq!(
        store
            .enforce_retention(palisade_events::now_ms())
            .expect("retention"),
        7
    );
    assert_eq!(seqs(&everything(&schema.reader())), [7, 8, 9]);
    let mut client = postgres::Client::connect(&postgres_url(), postgres::NoTls).expect("client");
    let rules: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM {}.event_rules", schema.name),
            &[],
        )
        .expect("count rules")
        .get(0);
    let version: i64 = client
        .query_one(
            &format!("SELECT version FROM {}.palisade_schema", schema.name),
            &[],
        )
        .expect("version")
        .get(0);
    assert_eq!(version, palisade_events::POSTGRES_SCHEMA_VERSION);
    assert_eq!(rules, 0, "numbered events carry no rules");
}

#[test]
fn postgres_source_ip_filter_finds_events_in_every_id_segment() {
    let Some(schema) = TestSchema::new("ip_segments") else {
        return;
    };
    let mut store =
        PostgresStore::connect(&postgres_url(), Some(&schema.name), NO_RETENTION).expect("connect");
    store
        .write_batch(&events_over_several_id_segments())
        .expect("insert");
    assert_source_ip_filter_spans_segments(&schema.reader());
}

#[test]
fn postgres_behind_the_pipeline_receives_everything() {
    let Some(schema) = TestSchema::new("pipeline") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        PostgresStore::connect(&postgres_url(), Some(&schema.name), NO_RETENTION).expect("connect");
    let pipeline = EventPipeline::start(PipelineConfig::new(dir.path()), vec![Box::new(store)])
        .expect("start");
    for i in 0..2500 {
        palisade_core::EventSink::record(&pipeline, numbered(i));
    }
    pipeline.flush().expect("flush");
    pipeline.shutdown().expect("shutdown");
    let mut reader =
        PostgresStore::connect(&postgres_url(), Some(&schema.name), NO_RETENTION).expect("reader");
    assert_eq!(reader.count().expect("count"), 2500);
}

#[test]
fn monitor_state_persists_in_postgres() {
    let Some(schema) = TestSchema::new("state") else {
        return;
    };
    let mut table = PostgresStateTable::connect(&postgres_url(), Some(&schema.name)).expect("open");
    table
        .save(
            &[("a".into(), "1".into()), ("b".into(), "{\"x\":2}".into())],
            1000,
        )
        .expect("save");
    table
        .save(&[("a".into(), "3".into())], 2000)
        .expect("update");
    drop(table);
    let mut table =
        PostgresStateTable::connect(&postgres_url(), Some(&schema.name)).expect("reopen");
    assert_eq!(
        table.load_all().expect("load"),
        [
            ("a".to_owned(), "3".to_owned()),
            ("b".to_owned(), "{\"x\":2}".to_owned())
        ]
    );
    assert_eq!(table.expire(1500).expect("expire"), 1);
    assert_eq!(table.load_all().expect("load").len(), 1);
}

#[test]
fn unreachable_postgres_is_a_typed_error_without_the_password() {
    let error = PostgresStore::connect(
        "postgres://palisade:hunter2@127.0.0.1:1/none",
        None,
        NO_RETENTION,
    )
    .expect_err("port 1 refuses");
    let text = format!("{error} {error:?}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("127.0.0.1:1"), "{text}");
}

#[test]
fn postgres_answers_every_query_like_sqlite() {
    let Some(schema) = TestSchema::new("queries") else {
        return;
    };
    let mut store =
        PostgresStore::connect(&postgres_url(), Some(&schema.name), NO_RETENTION).expect("connect");
    store.write_batch(&corpus()).expect("insert corpus");
    let reader = schema.reader();
    let failures = filter_case_failures(&reader);
    assert!(
        failures.is_empty(),
        "filter cases failed on PostgreSQL:\n{}",
        failures.join("\n")
    );
    let (_dir, sqlite) = store_with_corpus();
    assert_eq!(stats_of_every_case(&reader), stats_of_every_case(&sqlite));
    // tail --follow: only what is inserted after the last id seen.
    let last = reader.last_id().expect("last id");
    let mut follower = TailFollower::new(
        reader,
        EventFilter::default(),
        last,
        std::time::Duration::from_millis(10),
    );
    assert!(follower.poll().expect("poll").is_empty());
    store
        .write_batch(&[numbered(1), numbered(2)])
        .expect("insert");
    let followed: Vec<_> = follower
        .poll()
        .expect("poll")
        .into_iter()
        .map(|stored| stored.event)
        .collect();
    assert_eq!(seqs(&followed), [1, 2]);
}

#[test]
fn a_postgres_reader_creates_nothing_and_refuses_a_missing_store() {
    let Some(schema) = TestSchema::new("reader") else {
        return;
    };
    let error = EventReader::connect_postgres(&postgres_url(), Some(&schema.name))
        .expect_err("no store in this schema yet");
    assert!(
        error.to_string().contains("no Palisade event store"),
        "{error}"
    );
    let mut client = postgres::Client::connect(&postgres_url(), postgres::NoTls).expect("client");
    let created: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
            &[&schema.name],
        )
        .expect("schemata")
        .get(0);
    assert_eq!(created, 0, "the reader did not create the schema");
}

#[test]
fn tail_follow_returns_a_batch_that_commits_after_a_later_one() {
    let Some(schema) = TestSchema::new("late_commit") else {
        return;
    };
    let mut store =
        PostgresStore::connect(&postgres_url(), Some(&schema.name), NO_RETENTION).expect("connect");
    store.write_batch(&[numbered(1)]).expect("insert");
    let reader = schema.reader();
    let last = reader.last_id().expect("last id");
    let mut follower = TailFollower::new(
        reader,
        EventFilter::default(),
        last,
        std::time::Duration::from_millis(10),
    );
    // Another gateway's batch takes the next id and has not committed yet.
    let mut other = postgres::Client::connect(&postgres_url(), postgres::NoTls).expect("connect");
    let mut late = other.transaction().expect("begin");
    late.batch_execute(&format!("SET LOCAL search_path TO {}", schema.name))
        .expect("schema");
    let late_id: i64 = late
        .query_one(
            "INSERT INTO events (ts_ms, action, category, outcome, severity, request_id, source_ip,
                route, user_name, url_path, message, rule_ids, fields)
             SELECT ts_ms, action, category, outcome, severity, request_id, source_ip, route,
                user_name, url_path, message, rule_ids, fields FROM events WHERE id = $1
             RETURNING id",
            &[&last],
        )
        .expect("late insert")
        .get(0);
    // This gateway's batch takes a higher id and commits first.
    store.write_batch(&[numbered(2)]).expect("insert");
    let first: Vec<i64> = follower
        .poll()
        .expect("poll")
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(first.len(), 1, "only the committed batch is visible");
    assert!(first[0] > late_id);
    late.commit().expect("commit late batch");
    let second: Vec<i64> = follower
        .poll()
        .expect("poll")
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        second,
        [late_id],
        "the late batch is returned once it commits"
    );
    assert!(follower.poll().expect("poll").is_empty(), "returned once");
}
