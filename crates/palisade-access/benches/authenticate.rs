//! Added latency of an authenticated request through the access inspector's phase 1 (the whole
//! `request_headers` hook: authentication, identity, signed headers, rule matching): an RS256 JWT
//! verified with a cached key, and an API key looked up and compared by keyed hash. Also the bare
//! JWT verification (of a token seen before, answered by the verified-token cache, and of a
//! token's first use) and key lookup. Issue target: p50 <= 50 µs.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use palisade_access::AccessControl;
use palisade_core::{Inspector, RequestHead};

mod support;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = support::config(dir.path(), "");
    let (jwt_headers, key_headers) = support::credentials(dir.path());
    // More tokens than the verifier caches, so each use below is a first use (see
    // authenticated_request.rs).
    let first_use: Vec<RequestHead> =
        support::distinct_jwts(palisade_access::jwt::CACHED_TOKENS + 1)
            .iter()
            .map(support::head)
            .collect();
    let access = AccessControl::new(&config)
        .expect("access")
        .expect("enabled");
    assert_eq!(access.api_key_count(), 1001);

    let jwt_head = support::head(&jwt_headers);
    let key_head = support::head(&key_headers);
    // Sanity: both are allowed.
    for h in [&jwt_head, &key_head] {
        let mut inspection = access.start(h);
        assert_eq!(inspection.request_headers(h), palisade_core::Verdict::Allow);
    }

    let mut group = c.benchmark_group("access_phase1");
    group.bench_function("rs256_jwt_cached_key", |b| {
        b.iter(|| {
            let h = RequestHead {
                context: Default::default(),
                ..jwt_head.clone()
            };
            let mut inspection = access.start(&h);
            black_box(inspection.request_headers(black_box(&h)))
        })
    });
    group.bench_function("api_key_1001_keys", |b| {
        b.iter(|| {
            let h = RequestHead {
                context: Default::default(),
                ..key_head.clone()
            };
            let mut inspection = access.start(&h);
            black_box(inspection.request_headers(black_box(&h)))
        })
    });
    group.bench_function("baseline_head_clone", |b| {
        b.iter(|| {
            black_box(RequestHead {
                context: Default::default(),
                ..key_head.clone()
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("access_authenticate");
    group.bench_function("rs256_jwt_cached_key", |b| {
        b.iter(|| black_box(access.authenticate(black_box(&jwt_head))).expect("ok"))
    });
    let mut first_use = first_use.iter().cycle();
    group.bench_function("rs256_jwt_first_use", |b| {
        b.iter(|| {
            let head = first_use.next().expect("tokens");
            black_box(access.authenticate(black_box(head))).expect("ok")
        })
    });
    group.bench_function("api_key_1001_keys", |b| {
        b.iter(|| black_box(access.authenticate(black_box(&key_head))).expect("ok"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
