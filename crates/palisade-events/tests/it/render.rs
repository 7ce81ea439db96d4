//! Renderers and log-injection escaping (cases in `tests/data/escape_cases.json`).

use palisade_events::render::{OutputFormat, render_events, render_table};
use palisade_events::{EventFilter, EventReader, Retention, SqliteStore, StoredEvent, escape_text};
use serde_json::Value;

use crate::support::{corpus, read_data};

#[test]
fn escape_cases() {
    let cases: Vec<Value> = serde_json::from_str(&read_data("escape_cases.json")).expect("cases");
    let mut failures = Vec::new();
    for case in &cases {
        let input = case["input"].as_str().expect("input");
        let expected = case["expected"].as_str().expect("expected");
        let got = escape_text(input);
        if got != expected {
            failures.push(format!("{input:?}: expected {expected:?}, got {got:?}"));
        }
        if got.chars().any(|c| c.is_control()) {
            failures.push(format!("{input:?}: output still holds a control character"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn stored_corpus() -> Vec<StoredEvent> {
    corpus()
        .into_iter()
        .enumerate()
        .map(|(i, event)| StoredEvent {
            id: i as i64 + 1,
            event,
        })
        .collect()
}

#[test]
fn table_and_json_renderings() {
    let events = stored_corpus();
    insta::assert_snapshot!("events_table", render_table(&events));
    insta::assert_snapshot!("events_json", render_events(OutputFormat::Json, &events));
    assert_eq!(
        "JSON".parse::<OutputFormat>().ok(),
        Some(OutputFormat::Json)
    );
    assert!("yaml".parse::<OutputFormat>().is_err());
}

#[test]
fn hostile_fields_cannot_add_lines_to_a_table() {
    let mut events = stored_corpus();
    events[0].event.message =
        "ok\r\n5  2026-01-01T00:00:00.000Z  info  authn_login_success  -  -  -  fine".into();
    events[1].event.action = "x\u{1b}[2J\u{1b}[H".into();
    events[2].event.route = Some("r\u{2028}oute\u{85}".into());
    events[3].event.rule_ids = vec!["1\n2".into()];
    let table = render_table(&events);
    assert_eq!(table.lines().count(), events.len() + 1, "{table}");
    assert!(
        !table.chars().any(|c| c.is_control() && c != '\n'),
        "{table:?}"
    );
    assert!(table.contains(r"ok\r\n5"), "{table}");
    assert!(table.contains(r"x\u{001B}[2J"), "{table}");
    let json = render_events(OutputFormat::Json, &events);
    assert_eq!(json.lines().count(), events.len());
}

#[test]
fn long_cells_are_cut() {
    let mut events = stored_corpus();
    events[0].event.message = "m".repeat(500);
    let table = render_table(&events[..1]);
    assert!(
        table.lines().all(|line| line.chars().count() < 200),
        "{table}"
    );
    assert!(table.contains('…'));
}

#[test]
fn rendering_what_the_store_returns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = SqliteStore::open_in(dir.path(), Retention::default()).expect("store");
    store.insert(&corpus()).expect("insert");
    let reader = EventReader::open_in(dir.path()).expect("reader");
    let stored = reader.search(&EventFilter::default()).expect("search");
    assert_eq!(render_table(&stored), render_table(&stored_corpus()));
}
