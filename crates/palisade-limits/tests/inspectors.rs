//! The limits and ban inspectors on request heads, with an in-memory store.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode, Version};
use palisade_core::{
    AuthMethod, ExchangeContext, ExchangeSummary, Identity, Inspector, RequestHead, Verdict,
};
use palisade_limits::{BanInspector, LimitsInspector};
use palisade_state::{BanRequest, BlockTtl, StateStore};

fn config(route_extra: &str) -> palisade_config::Config {
    let text = format!(
        r#"
[[listener]]
addr = "127.0.0.1:0"
[[upstream]]
name = "app"
servers = ["http://127.0.0.1:9"]
[[site]]
hosts = ["*"]
[[site.route]]
name = "api"
path = "/"
upstream = "app"
{route_extra}
"#
    );
    palisade_config::parse(&text, std::path::Path::new("test.toml")).expect("valid config")
}

fn request(ip: &str, identity: Option<Identity>) -> RequestHead {
    let context = ExchangeContext::shared();
    if let Some(identity) = identity {
        context.set_identity(identity);
    }
    RequestHead {
        request_id: "r1".into(),
        method: Method::GET,
        raw_target: "/".into(),
        version: Version::HTTP_11,
        headers: HeaderMap::new(),
        client_addr: SocketAddr::new(ip.parse::<IpAddr>().expect("ip"), 40000),
        server_addr: "127.0.0.1:8080".parse().expect("addr"),
        host: "localhost".into(),
        tls: false,
        route: "api".into(),
        client_cert_subject: None,
        context,
    }
}

fn key_identity(key_id: &str) -> Identity {
    Identity {
        subject: format!("client-{key_id}"),
        method: AuthMethod::ApiKey,
        key_id: Some(key_id.to_owned()),
        roles: Vec::new(),
        scopes: Vec::new(),
    }
}

fn summary(status: StatusCode) -> ExchangeSummary {
    ExchangeSummary {
        status,
        duration: Duration::from_millis(1),
        response_bytes: 0,
        blocked: true,
    }
}

#[test]
fn the_third_request_in_a_burst_of_two_gets_429_with_rate_limit_headers() {
    let config = config(r#"rate_limit = [{ by = "ip", rate = "2/min" }]"#);
    let inspector = LimitsInspector::new(&config, StateStore::in_memory());
    for expected_remaining in [1, 0] {
        let head = request("192.0.2.1", None);
        let mut inspection = inspector.start(&head);
        assert_eq!(inspection.request_headers(&head), Verdict::Allow);
        let headers = head.context.take_response_headers().expect("headers");
        assert_eq!(headers["ratelimit-policy"], r#""ip";q=2;w=60"#);
        assert!(
            headers["ratelimit"]
                .to_str()
                .unwrap()
                .starts_with(&format!(r#""ip";r={expected_remaining};t="#)),
            "{:?}",
            headers["ratelimit"]
        );
    }
    let head = request("192.0.2.1", None);
    let mut inspection = inspector.start(&head);
    match inspection.request_headers(&head) {
        Verdict::Block { status, .. } => assert_eq!(status, StatusCode::TOO_MANY_REQUESTS),
        other => panic!("expected 429, got {other:?}"),
    }
    let headers = head.context.take_response_headers().expect("headers");
    assert_eq!(headers["retry-after"], "30");
    assert_eq!(headers["ratelimit"], r#""ip";r=0;t=60"#);
    let events = inspection.logging(&head, &summary(StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, "excess_rate_limit_exceeded");
    assert_eq!(events[0].fields["palisade.limit.subject"], "ip:192.0.2.1");
    // Another client is not affected.
    let other = request("192.0.2.2", None);
    assert_eq!(
        inspector.start(&other).request_headers(&other),
        Verdict::Allow
    );
}

#[test]
fn api_key_limits_and_quotas_count_per_key_whatever_the_address() {
    let config = config(
        r#"rate_limit = [{ by = "api_key", rate = "100/s", burst = 100 }]
quota = { by = "api_key", daily = 3 }"#,
    );
    let inspector = LimitsInspector::new(&config, StateStore::in_memory());
    let run = |ip: &str, key: &str| {
        let head = request(ip, Some(key_identity(key)));
        let verdict = inspector.start(&head).request_headers(&head);
        (verdict, head.context.take_response_headers())
    };
    for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
        assert_eq!(run(ip, "k1").0, Verdict::Allow);
    }
    let (verdict, headers) = run("192.0.2.4", "k1");
    assert!(
        matches!(verdict, Verdict::Block { status, .. } if status == StatusCode::TOO_MANY_REQUESTS)
    );
    let headers = headers.expect("headers");
    assert_eq!(
        headers["ratelimit-policy"],
        r#""api_key";q=100;w=1, "quota-daily";q=3;w=86400"#
    );
    assert!(
        headers["ratelimit"]
            .to_str()
            .unwrap()
            .starts_with(r#""quota-daily";r=0;"#)
    );
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 86_400);
    // Another key has its own quota.
    assert_eq!(run("192.0.2.4", "k2").0, Verdict::Allow);
}

#[test]
fn routes_without_limits_are_left_alone() {
    let config = config("");
    let inspector = LimitsInspector::new(&config, StateStore::in_memory());
    assert!(inspector.is_empty());
    let head = request("192.0.2.1", None);
    assert_eq!(
        inspector.start(&head).request_headers(&head),
        Verdict::Allow
    );
    assert!(head.context.take_response_headers().is_none());
}

#[test]
fn banned_addresses_and_networks_get_403_with_an_event() {
    let store = StateStore::in_memory();
    store
        .blocking()
        .ban(BanRequest {
            network: "198.51.100.0/24".parse().expect("net"),
            ttl: Some(BlockTtl::Fixed(Duration::from_secs(60))),
            reason: "scanner burst".into(),
            source: "monitor".into(),
        })
        .expect("ban");
    let inspector = BanInspector::new(store);
    let banned = request("198.51.100.23", None);
    let mut inspection = inspector.start(&banned);
    match inspection.request_headers(&banned) {
        Verdict::Block { status, .. } => assert_eq!(status, StatusCode::FORBIDDEN),
        other => panic!("expected 403, got {other:?}"),
    }
    let events = inspection.logging(&banned, &summary(StatusCode::FORBIDDEN));
    let event = events
        .iter()
        .find(|e| e.action == "authz_fail")
        .expect("ban event");
    assert_eq!(event.fields["palisade.ban.reason"], "scanner burst");
    let fine = request("198.51.101.1", None);
    assert_eq!(
        inspector.start(&fine).request_headers(&fine),
        Verdict::Allow
    );
}
