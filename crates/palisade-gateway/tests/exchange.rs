//! The inspection pipeline and response handling: block / detect / redirect verdicts in every phase,
//! Palisade's pages (HTML or JSON, with the request id), security events, header hardening, and the
//! 502 / 504 pages.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use common::*;
use http::StatusCode;
use http_body_util::Full;
use hyper::Request;
use palisade_core::{
    BodyView, ExchangeSummary, Inspection, Inspector, RequestHead, ResponseHead, SecurityEvent,
    Severity, Verdict,
};

/// Blocks `EVIL` in the target (phase 1) or the request body (phase 2), `LEAK` in the response body
/// (phase 4), redirects `/go-away`; logs one event per exchange.
struct MarkerInspector;
struct MarkerInspection;

fn block(rule: &str) -> Verdict {
    Verdict::Block {
        status: StatusCode::FORBIDDEN,
        reason: format!("marker {rule}"),
        rule_ids: vec![rule.to_owned()],
    }
}

impl Inspector for MarkerInspector {
    fn name(&self) -> &str {
        "marker"
    }
    fn wants_response_body(&self) -> bool {
        true
    }
    fn start(&self, _head: &RequestHead) -> Box<dyn Inspection> {
        Box::new(MarkerInspection)
    }
}

impl Inspection for MarkerInspection {
    fn request_headers(&mut self, head: &RequestHead) -> Verdict {
        if head.raw_target.contains("EVIL") {
            return block("100001");
        }
        if head.raw_target == "/go-away" {
            return Verdict::Redirect {
                status: StatusCode::FOUND,
                location: "/elsewhere".to_owned(),
            };
        }
        Verdict::Allow
    }
    fn request_body(&mut self, _head: &RequestHead, body: BodyView<'_>) -> Verdict {
        if body.bytes.windows(4).any(|w| w == b"EVIL") {
            block("100002")
        } else {
            Verdict::Allow
        }
    }
    fn response_body(
        &mut self,
        _head: &RequestHead,
        _resp: &ResponseHead,
        body: BodyView<'_>,
    ) -> Verdict {
        if body.bytes.windows(4).any(|w| w == b"LEAK") {
            block("100004")
        } else {
            Verdict::Allow
        }
    }
    fn logging(&mut self, head: &RequestHead, summary: &ExchangeSummary) -> Vec<SecurityEvent> {
        let mut event = SecurityEvent::new(
            "test_logged",
            "web",
            Severity::Info,
            head.raw_target.clone(),
        );
        event
            .fields
            .insert("status".to_owned(), summary.status.as_u16().into());
        vec![event]
    }
}

fn config_with_detect_route(upstream: std::net::SocketAddr) -> String {
    simple_config(
        upstream,
        "[[site.route]]\npath = \"/detect\"\nupstream = \"app\"\nmode = \"detect\"\n\
         [[site.route]]\npath = \"/teapot\"\nupstream = \"app\"\nblock_status = 418\n",
    )
}

#[tokio::test]
async fn verdicts_are_enforced_per_phase_and_mode() {
    let up = upstream("a").await;
    let (gw, sink) = start_with(
        &config_with_detect_route(up.addr),
        vec![Arc::new(MarkerInspector)],
    )
    .await;
    let addr = gw.local_addrs()[0];
    let client = client();

    // Phase 1, HTML page by default, with the request id and nothing internal.
    let answer = get(&client, &format!("http://{addr}/search?q=EVIL")).await;
    assert_eq!(answer.status, 403);
    let id = answer.header("x-request-id").unwrap();
    let html = answer.text();
    assert!(html.contains("<html") && html.contains(&id), "{html}");
    assert!(
        !html.contains("marker") && !html.contains("100001"),
        "no internals on the page: {html}"
    );
    assert_eq!(up.hits.load(Ordering::SeqCst), 0);

    // JSON when the client asks for it.
    let request = Request::get(format!("http://{addr}/?x=EVIL"))
        .header("accept", "application/json")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let answer = send(&client, request).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.json()["request_id"].as_str(),
        answer.header("x-request-id").as_deref()
    );

    // Phase 2: the body marker.
    let request = Request::post(format!("http://{addr}/form"))
        .body(Full::new(Bytes::from("a=1&b=EVIL")))
        .unwrap();
    assert_eq!(send(&client, request).await.status, 403);
    assert_eq!(up.hits.load(Ordering::SeqCst), 0);

    // The route's block status.
    assert_eq!(
        get(&client, &format!("http://{addr}/teapot?EVIL"))
            .await
            .status,
        418
    );

    // Detect mode: forwarded, recorded as "would have blocked".
    let answer = get(&client, &format!("http://{addr}/detect?q=EVIL")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);

    // Redirect verdicts.
    let answer = get(&client, &format!("http://{addr}/go-away")).await;
    assert_eq!(answer.status, 302);
    assert_eq!(answer.header("location").as_deref(), Some("/elsewhere"));

    // Phase 4: the response body marker (the echo repeats the request body).
    let request = Request::post(format!("http://{addr}/echo"))
        .body(Full::new(Bytes::from("LEAK")))
        .unwrap();
    assert_eq!(send(&client, request).await.status, 403);
    // A clean exchange passes all phases.
    let request = Request::post(format!("http://{addr}/echo"))
        .body(Full::new(Bytes::from("fine")))
        .unwrap();
    let answer = send(&client, request).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["body"], "fine");

    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let events = sink.events.lock().unwrap().clone();
    let blocked: Vec<&SecurityEvent> = events
        .iter()
        .filter(|e| e.action == "malicious_request_blocked")
        .collect();
    assert_eq!(blocked.len(), 5, "{:?}", sink.actions());
    assert_eq!(blocked[0].rule_ids, vec!["100001".to_owned()]);
    assert_eq!(blocked[0].request_id.as_deref(), Some(id.as_str()));
    assert_eq!(blocked[0].route.as_deref(), Some("*/"));
    assert_eq!(blocked[0].source_ip, Some([127, 0, 0, 1].into()));
    let detected: Vec<&SecurityEvent> = events
        .iter()
        .filter(|e| e.action == "malicious_request_detected")
        .collect();
    assert_eq!(detected.len(), 1);
    assert_eq!(detected[0].route.as_deref(), Some("*/detect"));
    // The logging phase ran for every exchange, blocked or not.
    assert_eq!(
        events.iter().filter(|e| e.action == "test_logged").count(),
        8
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn response_headers_are_hardened() {
    let up = upstream("a").await;
    let (gw, _) = start(&simple_config(up.addr, "")).await;
    let addr = gw.local_addrs()[0];
    let answer = get(&client(), &format!("http://{addr}/cookies")).await;
    assert_eq!(answer.status, 200);
    for leaky in ["server", "x-powered-by", "x-aspnet-version"] {
        assert!(answer.header(leaky).is_none(), "{leaky} stripped");
    }
    assert_eq!(
        answer.header("x-frame-options").as_deref(),
        Some("DENY"),
        "the upstream's own value is kept"
    );
    assert!(answer.header("content-security-policy").is_some());
    assert_eq!(
        answer.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert!(answer.header("referrer-policy").is_some());
    assert!(answer.header("permissions-policy").is_some());
    assert!(answer.header("cross-origin-opener-policy").is_some());
    assert!(answer.header("cross-origin-resource-policy").is_some());
    assert!(
        answer.header("strict-transport-security").is_none(),
        "no HSTS on plain HTTP"
    );
    let cookies: Vec<&str> = answer
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        cookies,
        vec![
            "sid=abc; Path=/; HttpOnly; SameSite=Lax",
            "pref=1; Secure; HttpOnly; SameSite=Strict"
        ]
    );
    // Palisade's own pages carry the same headers.
    let answer = raw(
        addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        std::time::Duration::from_millis(300),
    )
    .await;
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-content-type-options: nosniff"),
        "{answer}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn upstream_down_is_502_and_slow_is_504_with_palisade_pages() {
    let up = upstream("a").await;
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let toml = format!(
        r#"
[[listener]]
addr = "127.0.0.1:0"
[[upstream]]
name = "down"
servers = ["http://{closed_port}"]
connect_timeout = "500ms"
[[upstream]]
name = "slow"
servers = ["http://{slow}"]
response_timeout = "300ms"
[[site]]
hosts = ["*"]
[[site.route]]
path = "/down"
upstream = "down"
[[site.route]]
path = "/slow"
upstream = "slow"
"#,
        slow = up.addr
    );
    let (gw, _) = start(&toml).await;
    let addr = gw.local_addrs()[0];
    let client = client();
    let answer = get(&client, &format!("http://{addr}/down")).await;
    assert_eq!(answer.status, 502);
    let started = std::time::Instant::now();
    let slow = get(&client, &format!("http://{addr}/slow/2000")).await;
    assert_eq!(slow.status, 504);
    assert!(started.elapsed() < std::time::Duration::from_millis(1500));
    for page in [answer.text(), slow.text()] {
        assert!(page.contains("Palisade"), "{page}");
        assert!(
            !page.contains("127.0.0.1") && !page.to_lowercase().contains("connect"),
            "no internals: {page}"
        );
    }
    gw.shutdown().await;
}

/// Panics in phase 1 when the target contains `PANIC` (a buggy inspector).
struct PanickingInspector;
struct PanickingInspection;

impl Inspector for PanickingInspector {
    fn name(&self) -> &str {
        "panicking"
    }
    fn start(&self, _head: &RequestHead) -> Box<dyn Inspection> {
        Box::new(PanickingInspection)
    }
}

impl Inspection for PanickingInspection {
    fn request_headers(&mut self, head: &RequestHead) -> Verdict {
        assert!(!head.raw_target.contains("PANIC"), "inspector bug");
        Verdict::Allow
    }
}

/// A panicking inspector costs the client a 500 page with the request id (over raw TCP, like the CRS
/// runner), never a connection closed without an answer; the gateway keeps serving.
#[tokio::test]
async fn a_panicking_inspector_gets_a_500_page_not_a_silent_close() {
    let up = upstream("a").await;
    let (gw, _) = start_with(
        &simple_config(up.addr, ""),
        vec![Arc::new(PanickingInspector)],
    )
    .await;
    let addr = gw.local_addrs()[0];
    let wait = std::time::Duration::from_millis(500);
    let answer = raw(
        addr,
        b"GET /get?src=PANIC://x HTTP/1.1\r\nHost: a\r\nKeep-Alive: 300\r\nProxy-Connection: keep-alive\r\n\r\n",
        wait,
    )
    .await;
    assert_eq!(raw_status(&answer), Some(500), "{answer:?}");
    let lower = answer.to_ascii_lowercase();
    let id_line = lower
        .lines()
        .find_map(|line| line.strip_prefix("x-request-id: "))
        .expect("500 carries X-Request-Id");
    assert!(answer.contains(id_line.trim()), "page names the request id");
    assert_eq!(up.hits.load(Ordering::SeqCst), 0);
    let answer = raw(
        addr,
        b"GET /fine HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        wait,
    )
    .await;
    assert_eq!(raw_status(&answer), Some(200));
    gw.shutdown().await;
}
