//! Added latency of an authenticated request at the edge, the issue's performance figure: the
//! access inspector's phase 1 (an RS256 JWT verified with a cached key — a token seen before,
//! answered by the verified-token cache, and a token's first use, whose signature is checked —
//! or an API key looked up among 1001 by keyed hash; identity, signed upstream headers, rule
//! matching) followed by the
//! limits inspector's rate-limit check by user — with the state store in memory and in Redis on
//! loopback (`PALISADE_REDIS_URL`, default redis://127.0.0.1:6379; skipped with a notice when
//! unreachable). Targets: p50 ≤ 50 µs in memory, ≤ 300 µs with Redis.
//!
//! Besides criterion's estimates, each case prints the p50 / p90 / p99 of 20 000 single
//! requests timed one by one (criterion reports means of batches, not percentiles).
//!
//! `cargo bench -p palisade-access --bench authenticated_request`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderMap;
use palisade_access::AccessControl;
use palisade_core::{Inspector, Verdict};
use palisade_limits::LimitsInspector;
use palisade_state::{RedisSettings, StateStore};

const TIMED_REQUESTS: usize = 20_000;

mod support;

/// One request through both inspectors' request-head phase; both must allow it.
fn request(access: &AccessControl, limits: &LimitsInspector, headers: &HeaderMap) -> bool {
    let h = support::head(headers);
    let mut authn = access.start(&h);
    let allowed = authn.request_headers(&h) == Verdict::Allow;
    let mut limit = limits.start(&h);
    let limited = limit.request_headers(&h) != Verdict::Allow;
    black_box(allowed && !limited)
}

fn percentiles(name: &str, mut each: impl FnMut()) {
    let mut times: Vec<Duration> = (0..TIMED_REQUESTS)
        .map(|_| {
            let started = Instant::now();
            each();
            started.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{name}: p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs ({TIMED_REQUESTS} requests)",
        at(0.50).as_secs_f64() * 1e6,
        at(0.90).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
    );
}

fn redis_store() -> Option<StateStore> {
    let url =
        std::env::var("PALISADE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let mut settings = RedisSettings::new(url);
    settings.key_prefix = format!("palisade-bench:{}:", std::process::id());
    let store = StateStore::redis(settings).expect("redis settings");
    if store.is_available() {
        Some(store)
    } else {
        eprintln!(
            "NOTICE: Redis unreachable: the Redis cases are SKIPPED (set PALISADE_REDIS_URL)"
        );
        None
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = support::config(
        dir.path(),
        r#"rate_limit = [{ by = "user", rate = "100000000/s" }]"#,
    );
    let (jwt, api_key) = support::credentials(dir.path());
    // More tokens than the verifier caches: when one comes round again the cache has been
    // emptied since, so every request is that token's first use.
    let first_use = support::distinct_jwts(palisade_access::jwt::CACHED_TOKENS + 1);
    let mut stores = vec![("memory", StateStore::in_memory())];
    stores.extend(redis_store().map(|store| ("redis", store)));

    let mut group = c.benchmark_group("authenticated_request");
    for (backend, state) in stores {
        let access = AccessControl::with_state(&config, state.clone())
            .expect("access")
            .expect("enabled");
        let limits = LimitsInspector::new(&config, state);
        assert!(!limits.is_empty());
        for (credential, headers) in [
            ("rs256_jwt_cached_key", &jwt),
            ("api_key_1001_keys", &api_key),
        ] {
            assert!(
                request(&access, &limits, headers),
                "{credential} must be allowed"
            );
            let name = format!("{credential}+rate_limit_{backend}");
            percentiles(&name, || {
                request(&access, &limits, headers);
            });
            group.bench_function(&name, |b| b.iter(|| request(&access, &limits, headers)));
        }
        let mut tokens = first_use.iter().cycle();
        let mut next_token = || tokens.next().expect("tokens");
        let name = format!("rs256_jwt_first_use+rate_limit_{backend}");
        percentiles(&name, || {
            request(&access, &limits, next_token());
        });
        group.bench_function(&name, |b| {
            b.iter(|| request(&access, &limits, next_token()))
        });
    }
    group.bench_function("baseline_head_clone", |b| {
        b.iter(|| black_box(support::head(&jwt)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
