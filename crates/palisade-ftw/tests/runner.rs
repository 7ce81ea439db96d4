//! The runner end to end: YAML files → requests over TCP → a fake gateway
//! (which logs rule 942100 for requests containing "attack", like a WAF
//! would, and forwards to the albedo backend) → checks → report.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use palisade_core::{EventSink, SecurityEvent, Severity};
use palisade_ftw::client::exchange;
use palisade_ftw::{
    Backend, FailureKind, IdCollector, Outcome, Report, ReportFormat, RunOptions, load_overrides,
    load_suite, run_suite,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn data(path: &str) -> String {
    format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// Reads one request (head + Content-Length body) from the stream.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buffer.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    break;
                }
                buffer.extend_from_slice(&chunk[..n]);
            }
            return Some(buffer);
        }
    }
}

async fn fake_gateway(backend: SocketAddr, sink: Arc<IdCollector>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind fake gateway");
    let addr = listener.local_addr().expect("fake gateway address");
    let counter = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let sink = sink.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let Some(request) = read_request(&mut stream).await else {
                    return;
                };
                let first_line = request.split(|&b| b == b'\n').next().unwrap_or_default();
                if first_line.windows(4).any(|w| w == b"JUNK") {
                    return; // drop the connection: the client sees an error
                }
                let request_id = format!("req-{}", counter.fetch_add(1, Ordering::Relaxed));
                let mut event =
                    SecurityEvent::new("waf_transaction", "web", Severity::Info, "fake WAF");
                event.request_id = Some(request_id.clone());
                if request.windows(6).any(|w| w == b"attack") {
                    event.rule_ids = vec!["942100".to_owned(), "949110".to_owned()];
                }
                let Ok(response) = exchange(backend, &request, false, Duration::from_secs(5)).await
                else {
                    return;
                };
                let status_end = response
                    .raw
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .unwrap_or(0)
                    + 2;
                let mut out = response.raw[..status_end].to_vec();
                out.extend_from_slice(format!("X-Request-Id: {request_id}\r\n").as_bytes());
                out.extend_from_slice(&response.raw[status_end..]);
                let _ = stream.write_all(&out).await;
                let _ = stream.shutdown().await;
                // Logging happens after the response, as in the gateway.
                sink.record(event);
            });
        }
    });
    addr
}

async fn run(overrides: bool) -> Report {
    let backend = Backend::start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("backend starts");
    let collector = IdCollector::new();
    let gateway = fake_gateway(backend.local_addr(), collector.clone()).await;
    let suite = load_suite(data("suite")).expect("suite loads");
    assert!(suite.load_errors.is_empty(), "{:?}", suite.load_errors);
    assert_eq!(suite.files.len(), 1, "the comment-only file holds no tests");
    let opts = RunOptions {
        overrides: overrides
            .then(|| load_overrides(data("overrides.yaml")).expect("overrides load")),
        log_timeout: Duration::from_millis(300),
        ..RunOptions::default()
    };
    run_suite(&suite, gateway, collector, &opts).await
}

fn outcome(report: &Report, id: &str) -> (Outcome, Vec<FailureKind>) {
    let test = report
        .files
        .iter()
        .flat_map(|f| &f.tests)
        .find(|t| t.id == id)
        .expect("test present");
    (test.outcome, test.failures.iter().map(|f| f.kind).collect())
}

#[tokio::test]
async fn runner_checks_every_expectation() {
    let report = run(false).await;
    assert_eq!(outcome(&report, "942100-1"), (Outcome::Passed, vec![]));
    assert_eq!(outcome(&report, "942100-2"), (Outcome::Passed, vec![]));
    assert_eq!(
        outcome(&report, "942100-3"),
        (Outcome::Failed, vec![FailureKind::MissingId])
    );
    assert_eq!(outcome(&report, "942100-4"), (Outcome::Passed, vec![]));
    assert_eq!(
        outcome(&report, "942100-5"),
        (Outcome::Failed, vec![FailureKind::Status])
    );
    assert_eq!(
        outcome(&report, "942100-6"),
        (Outcome::Failed, vec![FailureKind::UnexpectedId])
    );
    assert_eq!(outcome(&report, "942100-7"), (Outcome::Passed, vec![]));
    assert_eq!(outcome(&report, "942100-8"), (Outcome::Passed, vec![]));
    assert_eq!(outcome(&report, "942100-9"), (Outcome::Passed, vec![]));
    assert_eq!((report.passed(), report.failed()), (6, 3));
    assert!(report.overrides.is_empty());

    let table = report.render(ReportFormat::Table);
    assert!(table.contains("pass rate: 66.67% (6 of 9 tests"), "{table}");
    assert!(table.contains("942100-5 stage 0: Status"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&report.render(ReportFormat::Json)).expect("valid JSON");
    assert_eq!(json["totals"]["failed"], 3);
    let junit = report.render(ReportFormat::Junit);
    assert!(
        junit.contains("<testsuites name=\"go-ftw\" tests=\"9\" failures=\"3\""),
        "{junit}"
    );
    assert_eq!(junit.matches("<failure ").count(), 3);
}

#[tokio::test]
async fn overrides_replace_expectations_and_are_reported() {
    let report = run(true).await;
    assert_eq!(outcome(&report, "942100-6"), (Outcome::Passed, vec![]));
    assert_eq!(report.overrides.len(), 1);
    assert_eq!(report.overrides[0].test, "942100-6");
    assert!(
        report
            .render(ReportFormat::Table)
            .contains("override applied to 942100-6: the fake WAF")
    );
}

#[tokio::test]
async fn backend_follows_the_albedo_contract() {
    let backend = Backend::start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("backend starts");
    let addr = backend.local_addr();
    let send = |raw: &'static str| exchange(addr, raw.as_bytes(), false, Duration::from_secs(5));
    let default = send("GET /anything?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await
        .expect("answer");
    assert_eq!((default.status, default.body.len()), (200, 0));
    let spec = r#"{"status": 503, "headers": {"X-A": "b", "Bad Name": "x"}, "encodedBody": "PGh0bWw+aGk8L2h0bWw+"}"#;
    let raw = format!(
        "POST /reflect HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{spec}",
        spec.len()
    );
    let reflected = exchange(addr, raw.as_bytes(), false, Duration::from_secs(5))
        .await
        .expect("answer");
    assert_eq!(reflected.status, 503);
    assert_eq!(reflected.header("x-a"), Some("b"));
    assert_eq!(reflected.body, b"<html>hi</html>");
    assert_eq!(
        reflected.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let bad = send(
        "POST /reflect HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{x",
    )
    .await
    .expect("answer");
    assert_eq!(bad.status, 400);
    let configure = r#"{"status": 202, "body": "configured", "endpoints": [{"method": "GET", "url": "/c?x=1"}]}"#;
    let raw = format!(
        "POST /configure_reflection HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{configure}",
        configure.len()
    );
    exchange(addr, raw.as_bytes(), false, Duration::from_secs(5))
        .await
        .expect("configured");
    let configured = send("GET /c?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await
        .expect("answer");
    assert_eq!(
        (configured.status, configured.body.as_slice()),
        (202, &b"configured"[..])
    );
    send("PUT /reset HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .await
        .expect("reset");
    let after = send("GET /c?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .await
        .expect("answer");
    assert_eq!(after.status, 200);
}
