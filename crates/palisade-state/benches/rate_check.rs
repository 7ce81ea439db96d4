//! Cost of one rate-limit check (GCRA): in memory, and in Redis on loopback
//! (`PALISADE_REDIS_URL`, default redis://127.0.0.1:6379; skipped with a notice when down).
//!
//! `cargo bench -p palisade-state --bench rate_check`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use palisade_state::{Rate, RedisSettings, StateStore};

fn rate_check(c: &mut Criterion) {
    let rate = Rate::new(1_000_000, Duration::from_secs(1)).expect("rate");
    let memory = StateStore::in_memory();
    let mut n = 0u64;
    c.bench_function("rate_check/memory", |b| {
        b.iter(|| {
            n += 1;
            let key = if n.is_multiple_of(2) {
                "ip:203.0.113.7"
            } else {
                "ip:198.51.100.1"
            };
            black_box(memory.blocking().rate_check(key, rate, 1000, 1))
        })
    });

    let url =
        std::env::var("PALISADE_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let mut settings = RedisSettings::new(url);
    settings.key_prefix = format!("palisade-bench-{}:", std::process::id());
    let redis = StateStore::redis(settings).expect("redis settings");
    if !redis.is_available() {
        eprintln!("NOTICE: Redis unreachable; rate_check/redis skipped");
        return;
    }
    c.bench_function("rate_check/redis", |b| {
        b.iter(|| black_box(redis.blocking().rate_check("ip:203.0.113.7", rate, 1000, 1)))
    });
}

criterion_group!(benches, rate_check);
criterion_main!(benches);
