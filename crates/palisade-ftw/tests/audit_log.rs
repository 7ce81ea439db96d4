//! The WAF's JSON audit log end to end: requests through the real gateway (WAF
//! inspector, blocking route) to the albedo backend; the blocked one is written
//! to the `SecAuditLog` file in ModSecurity v3's JSON form, credentials
//! redacted; a clean one is not (`SecAuditEngine RelevantOnly`), nor one a rule
//! excluded with `ctl:auditEngine=Off`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use palisade_ftw::client::exchange;
use palisade_ftw::{Backend, IdCollector};
use palisade_waf::{Waf, WafExclusions, WafInspector, WafSettings};
use serde_json::Value;

/// A private directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "palisade-audit-test-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rules(audit_log: &Path) -> String {
    format!(
        r#"SecRuleEngine On
SecRequestBodyAccess On
SecAuditEngine RelevantOnly
SecAuditLogParts ABCFHZ
SecAuditLogFormat JSON
SecAuditLog "{}"
SecComponentSignature "test-rules/1.0"
SecRule REQUEST_HEADERS:Content-Type "@rx ^application/x-www-form-urlencoded" \
    "id:1000,phase:1,pass,nolog,ctl:requestBodyProcessor=URLENCODED"
SecRule ARGS "@contains attack" \
    "id:1001,phase:2,deny,status:403,log,capture,\
    msg:'Attack keyword',\
    logdata:'Matched Data: %{{MATCHED_VAR}} found within %{{MATCHED_VAR_NAME}}',\
    tag:'attack-test',severity:'CRITICAL',ver:'test/1.0',rev:'2',maturity:'9',accuracy:'8'"
SecRule REQUEST_FILENAME "@streq /health" "id:1002,phase:1,pass,nolog,ctl:auditEngine=Off"
"#,
        audit_log.display()
    )
}

fn gateway_config(backend_port: u16) -> String {
    format!(
        r#"
[[listener]]
addr = "127.0.0.1:0"
http2 = false

[admin]
enabled = false

[log]
access_log = false

[[upstream]]
name = "albedo"
servers = ["http://127.0.0.1:{backend_port}"]

[[site]]
hosts = ["*"]

[[site.route]]
upstream = "albedo"
mode = "block"
"#
    )
}

async fn audit_lines(path: &Path, at_least: usize) -> Vec<String> {
    for _ in 0..100 {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.len() >= at_least {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_requests_are_audited_as_modsecurity_json_without_secrets() {
    let scratch = Scratch::new();
    let audit_path = scratch.0.join("audit.log");
    let rules_path = scratch.0.join("rules.conf");
    std::fs::write(&rules_path, rules(&audit_path)).expect("rules written");
    let settings = WafSettings {
        rule_paths: vec![rules_path.clone()],
        ..WafSettings::default()
    };
    let (waf, _) = Waf::load(&settings).expect("rules load");
    let inspector = WafInspector::new(Arc::new(waf), &WafExclusions::default()).expect("inspector");
    let backend = Backend::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("backend starts");
    let config = palisade_config::parse(
        &gateway_config(backend.local_addr().port()),
        Path::new("audit-test.toml"),
    )
    .expect("gateway configuration");
    let gateway = palisade_gateway::start(
        Arc::new(config),
        vec![Arc::new(inspector)],
        IdCollector::new(),
    )
    .await
    .expect("gateway starts");
    let target = gateway.local_addrs()[0];

    let clean = b"GET /get?q=hello HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer s3cret-token\r\nConnection: close\r\n\r\n";
    let response = exchange(target, clean, false, Duration::from_secs(10))
        .await
        .expect("clean request answered");
    assert_eq!(response.status, 200);

    // ctl:auditEngine=Off: blocked, not audited.
    let health = b"GET /health?q=attack HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let response = exchange(target, health, false, Duration::from_secs(10))
        .await
        .expect("health request answered");
    assert_eq!(response.status, 403);

    let body = "q=attack+now";
    let attack = format!(
        "POST /post?x=1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer s3cret-token\r\n\
         Cookie: session=s3cret-cookie\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = exchange(target, attack.as_bytes(), false, Duration::from_secs(10))
        .await
        .expect("attack answered");
    assert_eq!(response.status, 403);
    let request_id = response
        .header("x-request-id")
        .expect("X-Request-Id")
        .to_owned();

    let lines = audit_lines(&audit_path, 1).await;
    gateway.shutdown().await;
    backend.shutdown();
    assert_eq!(
        lines.len(),
        1,
        "only the blocked request is audited: {lines:?}"
    );
    assert!(
        !lines[0].contains("s3cret"),
        "credentials leaked: {}",
        lines[0]
    );
    let record: Value = serde_json::from_str(&lines[0]).expect("one JSON object per line");
    let tx = &record["transaction"];
    assert_eq!(tx["unique_id"], Value::from(request_id));
    assert_eq!(tx["client_ip"], "127.0.0.1");
    assert!(tx["client_port"].as_u64().is_some_and(|p| p > 0));
    assert_eq!(tx["host_port"], Value::from(target.port()));
    assert!(tx["time_stamp"].as_str().is_some_and(|t| t.len() >= 24));
    let request = &tx["request"];
    assert_eq!(request["method"], "POST");
    assert_eq!(request["uri"], "/post?x=1");
    assert_eq!(request["http_version"], Value::from(1.1));
    assert_eq!(request["headers"]["authorization"], "[redacted]");
    assert_eq!(request["headers"]["cookie"], "[redacted]");
    assert_eq!(request["headers"]["host"], "localhost");
    assert_eq!(request["body"], body);
    assert_eq!(tx["response"]["http_code"], 403);
    let producer = &tx["producer"];
    assert!(
        producer["modsecurity"]
            .as_str()
            .is_some_and(|p| p.starts_with("Palisade "))
    );
    assert_eq!(
        producer["components"],
        serde_json::json!(["test-rules/1.0"])
    );
    assert_eq!(producer["secrules_engine"], "Enabled");
    let messages = tx["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0]["message"], "Attack keyword");
    let details = &messages[0]["details"];
    assert_eq!(details["ruleId"], "1001");
    assert_eq!(details["file"], rules_path.display().to_string());
    assert_eq!(details["lineNumber"], "10");
    assert_eq!(details["severity"], "2");
    assert_eq!(details["ver"], "test/1.0");
    assert_eq!(details["rev"], "2");
    assert_eq!(details["maturity"], "9");
    assert_eq!(details["accuracy"], "8");
    assert_eq!(details["tags"], serde_json::json!(["attack-test"]));
    assert_eq!(
        details["data"],
        "Matched Data: attack now found within ARGS:q"
    );
}
