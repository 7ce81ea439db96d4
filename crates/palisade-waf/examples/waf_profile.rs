//! Profiling driver (not a benchmark): runs N exchanges through a [`WafInspector`] the
//! way the gateway does (start, request headers, request body, response headers,
//! response body, logging, drop), for instruction counts that a busy machine does not
//! blur. Rule sets: `engine` (Palisade's engine settings only), `default` (engine
//! settings + Palisade's default ruleset, as `palisade serve` without `[waf] rules`) and
//! `crs` (engine settings + CRS from `PALISADE_CRS_DIR`, paranoia level 1). Requests:
//! `get` (a small GET with browser headers), `post` (a 4 KB form POST) and `post4k`
//! (the 4 KiB form body of `bench/post4k.lua`: `field0=vvv…&field1=…`, 60 `v` a field).
//!
//! ```text
//! cargo build --release --locked -p palisade-waf --example waf_profile
//! valgrind --tool=callgrind --toggle-collect='waf_profile::measured' \
//!     target/release/examples/waf_profile default get 200
//! ```
//!
//! Instructions per exchange = collected instructions / N.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};
use palisade_core::{
    BodyView, ExchangeSummary, Inspector, RequestHead, ResponseHead, SecurityEvent, Verdict,
};
use palisade_waf::{Waf, WafExclusions, WafInspector, WafSettings};

const ENGINE_SETTINGS: &str = include_str!("../../../rules/palisade-engine.conf");
const DEFAULT_RULESET: &str = include_str!("../../../rules/palisade-default.conf");

/// One exchange: the request head and body.
struct Exchange {
    head: RequestHead,
    body: Vec<u8>,
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    map
}

fn exchange(kind: &str) -> Option<Exchange> {
    let mut pairs = vec![
        ("host", "shop.example.com"),
        (
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        ),
        (
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ),
        ("accept-language", "en-US,en;q=0.5"),
        ("accept-encoding", "gzip, deflate, br"),
        ("cookie", "session=3f2a9c1d7e; theme=dark"),
    ];
    let (method, target, body) = match kind {
        "get" => (
            Method::GET,
            "/products/list?category=shoes&size=42&color=blue&sort=price&page=3",
            Vec::new(),
        ),
        "post" => {
            let body: String = (0..64)
                .map(|i| format!("field{i}=value+number+{i:040}&"))
                .collect();
            pairs.push(("content-type", "application/x-www-form-urlencoded"));
            (Method::POST, "/checkout", body.into_bytes())
        }
        "post4k" => {
            // As the Lua script builds it: fields until their lengths plus one reach
            // 4096, joined with `&`, cut at 4096 bytes.
            let mut fields = Vec::new();
            let mut size = 0;
            while size < 4096 {
                let field = format!("field{}={}", fields.len(), "v".repeat(60));
                size += field.len() + 1;
                fields.push(field);
            }
            let mut body = fields.join("&");
            body.truncate(4096);
            pairs.push(("content-type", "application/x-www-form-urlencoded"));
            (Method::POST, "/checkout", body.into_bytes())
        }
        _ => return None,
    };
    let length = body.len().to_string();
    if !body.is_empty() {
        pairs.push(("content-length", &length));
    }
    let head = RequestHead {
        request_id: "0123456789abcdef".to_owned(),
        method,
        raw_target: target.to_owned(),
        version: Version::HTTP_11,
        headers: headers(&pairs),
        client_addr: "198.51.100.7:51234".parse().expect("addr"),
        server_addr: "127.0.0.1:8080".parse().expect("addr"),
        host: "shop.example.com".to_owned(),
        tls: false,
        route: "default".to_owned(),
        client_cert_subject: None,
        context: Default::default(),
    };
    Some(Exchange { head, body })
}

fn response() -> (ResponseHead, Vec<u8>) {
    let body = format!(
        "<!doctype html><html><head><title>Shop</title></head><body>{}</body></html>",
        "<p>product</p>".repeat(40)
    );
    let length = body.len().to_string();
    let head = ResponseHead {
        status: StatusCode::OK,
        version: Version::HTTP_11,
        headers: headers(&[
            ("content-type", "text/html; charset=utf-8"),
            ("content-length", &length),
            ("date", "Sun, 29 Nov 2026 18:00:00 GMT"),
            ("server", "upstream"),
        ]),
    };
    (head, body.into_bytes())
}

fn load(rules: &str) -> Option<WafInspector> {
    let mut settings = WafSettings {
        leading_rules: vec![(
            "palisade-engine.conf".to_owned(),
            ENGINE_SETTINGS.to_owned(),
        )],
        ..WafSettings::default()
    };
    match rules {
        "engine" => {}
        "default" => {
            settings.paranoia_level = Some(1);
            settings.extra_rules.push((
                "palisade-default.conf".to_owned(),
                DEFAULT_RULESET.to_owned(),
            ));
        }
        "crs" => {
            let Some(dir) = std::env::var_os("PALISADE_CRS_DIR").map(PathBuf::from) else {
                eprintln!("SKIPPED: PALISADE_CRS_DIR not set");
                std::process::exit(0);
            };
            settings.paranoia_level = Some(1);
            settings.rule_paths =
                vec![dir.join("crs-setup.conf.example"), dir.join("rules/*.conf")];
        }
        _ => return None,
    }
    let (waf, _) = Waf::load(&settings).expect("rules load");
    Some(WafInspector::new(Arc::new(waf), &WafExclusions::default()).expect("no exclusions"))
}

/// One exchange through every hook; returns the number of events.
fn run(inspector: &WafInspector, exchange: &Exchange, response: &(ResponseHead, Vec<u8>)) -> usize {
    let head = &exchange.head;
    let mut inspection = inspector.start(head);
    let mut blocked = inspection.request_headers(head) != Verdict::Allow;
    if !blocked {
        let body = BodyView {
            bytes: &exchange.body,
            total_len: Some(exchange.body.len() as u64),
            truncated: false,
        };
        blocked = inspection.request_body(head, body) != Verdict::Allow;
    }
    if !blocked {
        let (resp, resp_body) = response;
        inspection.response_headers(head, resp);
        let body = BodyView {
            bytes: resp_body,
            total_len: Some(resp_body.len() as u64),
            truncated: false,
        };
        inspection.response_body(head, resp, body);
    }
    let summary = ExchangeSummary {
        status: if blocked {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::OK
        },
        duration: Duration::from_millis(1),
        response_bytes: 0,
        blocked,
    };
    let events: Vec<SecurityEvent> = inspection.logging(head, &summary);
    events.len()
}

/// The measured loop (a separate function so callgrind can collect only this).
#[inline(never)]
fn measured(
    inspector: &WafInspector,
    exchange: &Exchange,
    response: &(ResponseHead, Vec<u8>),
    times: usize,
) -> usize {
    (0..times).map(|_| run(inspector, exchange, response)).sum()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rules = args.next().unwrap_or_else(|| "engine".to_owned());
    let kind = args.next().unwrap_or_else(|| "get".to_owned());
    let times: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(200);
    let (Some(inspector), Some(exchange)) = (load(&rules), exchange(&kind)) else {
        eprintln!("usage: waf_profile <engine|default|crs> <get|post|post4k> [N]");
        std::process::exit(2);
    };
    let response = response();
    // Warm-up outside the measured loop (lazy regex caches, pooled buffers).
    let events = run(&inspector, &exchange, &response);
    let total = measured(&inspector, &exchange, &response, times);
    println!("{rules} {kind}: {times} runs, {events} event(s) per run, {total} in total");
}
