//! Added latency of the limits inspector on one request (start + request_headers: one GCRA
//! check by client address, RateLimit headers), in memory and with Redis on loopback
//! (`PALISADE_REDIS_URL`, default redis://127.0.0.1:6379; skipped with a notice when down).
//!
//! `cargo bench -p palisade-limits --bench limits`

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, Method, Version};
use palisade_core::{ExchangeContext, Inspector, RequestHead};
use palisade_limits::LimitsInspector;
use palisade_state::{RedisSettings, StateStore};

fn config() -> palisade_config::Config {
    palisade_config::parse(
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
upstream = "app"
rate_limit = [{ by = "ip", rate = "1000000/s" }]
"#,
        std::path::Path::new("bench.toml"),
    )
    .expect("config")
}

fn head() -> RequestHead {
    RequestHead {
        request_id: "bench".into(),
        method: Method::GET,
        raw_target: "/".into(),
        version: Version::HTTP_11,
        headers: HeaderMap::new(),
        client_addr: SocketAddr::from(([192, 0, 2, 1], 40000)),
        server_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
        host: "localhost".into(),
        tls: false,
        route: "api".into(),
        client_cert_subject: None,
        context: ExchangeContext::shared(),
    }
}

fn run(inspector: &LimitsInspector) -> impl FnMut() + '_ {
    move || {
        let head = head();
        let mut inspection = inspector.start(&head);
        black_box(inspection.request_headers(&head));
    }
}

fn limits(c: &mut Criterion) {
    let config = config();
    let memory = LimitsInspector::new(&config, StateStore::in_memory());
    c.bench_function("limits_request/memory", |b| b.iter(run(&memory)));

    let url =
        std::env::var("PALISADE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let mut settings = RedisSettings::new(url);
    settings.key_prefix = format!("palisade-bench-limits-{}:", std::process::id());
    let store = StateStore::redis(settings).expect("redis settings");
    if !store.is_available() {
        eprintln!("NOTICE: Redis unreachable; limits_request/redis skipped");
        return;
    }
    let redis = LimitsInspector::new(&config, store);
    c.bench_function("limits_request/redis", |b| b.iter(run(&redis)));
}

criterion_group!(benches, limits);
criterion_main!(benches);
