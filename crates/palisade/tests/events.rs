//! End to end: `palisade events search | tail | stats --config FILE` read the PostgreSQL store the
//! configuration's `[events]` names (events written there by the PostgreSQL store, as gateways
//! write them), with the same filters and output as the SQLite store.

mod common;

use std::path::Path;

use palisade_core::{SecurityEvent, Severity};
use palisade_events::{BatchSink, PostgresStore, Retention};
use serde_json::Value;

use common::{BINARY, PostgresSchema};

fn event(message: &str, action: &str, severity: Severity, ip: &str, ts_ms: i64) -> SecurityEvent {
    let mut event = SecurityEvent::new(action, "web", severity, message);
    event.timestamp_ms = ts_ms;
    event.source_ip = Some(ip.parse().expect("ip"));
    event.route = Some("app".to_owned());
    event
}

/// Runs `palisade events ARGS` in `dir`, the URL in the environment (as `env:` secrets do).
fn events(args: &[&str], dir: &Path, url: &str) -> (i32, String, String) {
    let output = std::process::Command::new(BINARY)
        .arg("events")
        .args(args)
        .current_dir(dir)
        .env("PALISADE_TEST_EVENTS_URL", url)
        .output()
        .expect("palisade runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON document per line"))
        .collect()
}

fn messages(documents: &[Value]) -> Vec<&str> {
    documents
        .iter()
        .map(|doc| doc["message"].as_str().expect("message"))
        .collect()
}

#[test]
fn events_commands_read_the_postgres_store_the_configuration_names() {
    let Some(schema) = PostgresSchema::new("events_cli") else {
        return;
    };
    let now = palisade_events::now_ms();
    let mut store = PostgresStore::connect(
        &schema.url,
        Some(&schema.name),
        Retention {
            max_age: None,
            max_rows: None,
        },
    )
    .expect("PostgreSQL store");
    let mut login = event(
        "login failed",
        "authn_login_fail",
        Severity::Low,
        "198.51.100.4",
        now - 4000,
    );
    login.fields.insert("user.name".into(), "alice".into());
    let mut sqli = event(
        "sqli blocked",
        "malicious_sqli",
        Severity::High,
        "203.0.113.7",
        now - 3000,
    );
    sqli.rule_ids = vec!["942100".into()];
    store
        .write_batch(&[
            event(
                "old probe",
                "malicious_request_blocked",
                Severity::Medium,
                "203.0.113.7",
                now - 3 * 3_600_000,
            ),
            login,
            sqli,
            event(
                "xss blocked",
                "malicious_xss",
                Severity::High,
                "203.0.113.7",
                now - 2000,
            ),
        ])
        .expect("write events");

    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("palisade.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[[listener]]\naddr = \"127.0.0.1:0\"\n\
             [[upstream]]\nname = \"app\"\nservers = [\"http://127.0.0.1:9\"]\n\
             [[site]]\nhosts = [\"*\"]\n[[site.route]]\nname = \"app\"\npath = \"/\"\nupstream = \"app\"\n\
             [events]\nstore = \"postgres\"\npostgres_url = \"env:PALISADE_TEST_EVENTS_URL\"\n\
             postgres_schema = \"{}\"\n",
            schema.name
        ),
    )
    .expect("write config");
    let config = config.to_str().expect("utf-8 path");
    let url = schema.url.as_str();

    // search: filters by address and time, oldest first, as ECS JSON lines.
    let (code, stdout, stderr) = events(
        &[
            "search",
            "--config",
            config,
            "--ip",
            "203.0.113.7",
            "--since",
            "1h",
            "--format",
            "json",
        ],
        dir.path(),
        url,
    );
    assert_eq!(code, 0, "{stderr}");
    let found = json_lines(&stdout);
    assert_eq!(messages(&found), ["sqli blocked", "xss blocked"]);
    assert_eq!(found[0]["rule.id"], serde_json::json!(["942100"]));
    assert_eq!(found[0]["source.ip"], "203.0.113.7");

    let (code, stdout, stderr) = events(
        &[
            "search", "--config", config, "--user", "alice", "--format", "json",
        ],
        dir.path(),
        url,
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(messages(&json_lines(&stdout)), ["login failed"]);

    let (code, stdout, stderr) = events(
        &[
            "search",
            "--config",
            config,
            "--rule",
            "942100",
            "--min-severity",
            "high",
        ],
        dir.path(),
        url,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("sqli blocked"), "table output: {stdout}");
    assert!(!stdout.contains("xss blocked"), "table output: {stdout}");

    // tail: the last events by insertion.
    let (code, stdout, stderr) = events(
        &[
            "tail", "--config", config, "--limit", "2", "--format", "json",
        ],
        dir.path(),
        url,
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        messages(&json_lines(&stdout)),
        ["sqli blocked", "xss blocked"]
    );

    // stats: counts over the filter.
    let (code, stdout, stderr) = events(
        &["stats", "--config", config, "--format", "json"],
        dir.path(),
        url,
    );
    assert_eq!(code, 0, "{stderr}");
    let stats: Value = serde_json::from_str(&stdout).expect("stats JSON");
    assert_eq!(stats["total"], 4);
    assert_eq!(
        stats["top_source_ips"][0],
        serde_json::json!({"value": "203.0.113.7", "count": 3})
    );
    assert_eq!(
        stats["by_severity"],
        serde_json::json!([
            {"value": "high", "count": 2},
            {"value": "medium", "count": 1},
            {"value": "low", "count": 1}
        ])
    );
    assert_eq!(
        stats["top_rules"],
        serde_json::json!([{"value": "942100", "count": 1}])
    );
    let (code, stdout, stderr) = events(
        &[
            "stats", "--config", config, "--since", "1h", "--format", "json",
        ],
        dir.path(),
        url,
    );
    assert_eq!(code, 0, "{stderr}");
    let stats: Value = serde_json::from_str(&stdout).expect("stats JSON");
    assert_eq!(stats["total"], 3, "the old probe is outside --since");

    // The SQLite file in data_dir was not used (nor created).
    assert!(!dir.path().join("data").exists());
}

#[test]
fn a_configuration_naming_a_postgres_schema_without_a_store_is_an_error_not_an_empty_answer() {
    let Some(schema) = PostgresSchema::new("events_cli_missing") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("palisade.toml");
    std::fs::write(
        &config,
        format!(
            "[[listener]]\naddr = \"127.0.0.1:0\"\n\
             [[upstream]]\nname = \"app\"\nservers = [\"http://127.0.0.1:9\"]\n\
             [[site]]\nhosts = [\"*\"]\n[[site.route]]\nname = \"app\"\npath = \"/\"\nupstream = \"app\"\n\
             [events]\nstore = \"postgres\"\npostgres_url = \"env:PALISADE_TEST_EVENTS_URL\"\n\
             postgres_schema = \"{}\"\n",
            schema.name
        ),
    )
    .expect("write config");
    let (code, _, stderr) = events(
        &["search", "--config", config.to_str().expect("utf-8")],
        dir.path(),
        &schema.url,
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("no Palisade event store"), "{stderr}");
}
