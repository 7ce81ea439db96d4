//! The in-process store through its SQLite file: what survives a restart, and what another
//! process (the CLI) changes while a gateway runs.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use palisade_state::{
    BanRequest, BlockTtl, Clock, Escalation, QuotaPeriod, Rate, STATE_FILE, StateStore,
};

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

#[tokio::test]
async fn locks_bans_quotas_and_entries_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let escalation = BlockTtl::Escalating(Escalation {
        base: Duration::from_secs(900),
        max: Duration::from_secs(86_400),
        forget_after: Duration::from_secs(86_400),
    });
    {
        let store = StateStore::open_local(dir.path()).expect("open");
        let first = store.lock("login:alice", escalation).await.expect("lock");
        assert_eq!(first.repeat, 0);
        let ban = store
            .ban(BanRequest {
                network: "203.0.113.0/24".parse().expect("net"),
                ttl: Some(BlockTtl::Fixed(Duration::from_secs(3600))),
                reason: "scanner".into(),
                source: "test".into(),
            })
            .await
            .expect("ban");
        assert_eq!(ban.network.to_string(), "203.0.113.0/24");
        let charged = store
            .quota_charge("key:1", QuotaPeriod::Daily, 10, 3)
            .await
            .expect("quota");
        assert!(charged.allowed);
        store
            .kv_set("apikey:1", r#"{"name":"ci"}"#, None)
            .await
            .expect("kv");
        // Counters and rate limiters are not persisted (they are short-lived by nature).
        store
            .rate_check("ip:1", Rate::new(1, Duration::from_secs(60)).unwrap(), 1, 1)
            .await
            .expect("rate");
    }
    assert!(dir.path().join(STATE_FILE).exists());
    let store = StateStore::open_local(dir.path()).expect("reopen");
    let lock = store
        .locked_until("login:alice")
        .await
        .expect("read")
        .expect("lock survived");
    assert!(lock.remaining() > Duration::from_secs(800));
    // The repeat count survived too: the next lock doubles.
    let second = store.lock("login:alice", escalation).await.expect("lock");
    assert_eq!(second.repeat, 1);
    assert!(second.remaining() > Duration::from_secs(1700));
    let ban = store.is_banned(ip("203.0.113.77")).expect("ban survived");
    assert_eq!(ban.reason, "scanner");
    assert!(store.is_banned(ip("203.0.114.1")).is_none());
    assert_eq!(
        store
            .quota_used("key:1", QuotaPeriod::Daily)
            .await
            .expect("used"),
        3
    );
    assert_eq!(
        store.kv_get("apikey:1").await.expect("kv").as_deref(),
        Some(r#"{"name":"ci"}"#)
    );
    assert_eq!(
        store.kv_keys("apikey:").await.expect("keys"),
        vec!["apikey:1".to_owned()]
    );
    assert!(store.unlock("login:alice").await.expect("unlock"));
    assert!(
        store
            .locked_until("login:alice")
            .await
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn a_running_store_sees_changes_made_by_another_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = StateStore::open_local(dir.path()).expect("gateway store");
    let cli = StateStore::open_local(dir.path()).expect("cli store");
    cli.ban(BanRequest {
        network: "198.51.100.9".parse::<IpAddr>().expect("ip").into(),
        ttl: None,
        reason: "manual".into(),
        source: "cli".into(),
    })
    .await
    .expect("ban");
    gateway
        .lock("login:bob", BlockTtl::Fixed(Duration::from_secs(600)))
        .await
        .expect("lock");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while gateway.is_banned(ip("198.51.100.9")).is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "ban from another process not seen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(cli.unlock("login:bob").await.expect("unlock"));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while gateway
        .locked_until("login:bob")
        .await
        .expect("read")
        .is_some()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "unlock from another process not seen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        cli.unban("198.51.100.9/32".parse().expect("net"))
            .await
            .expect("unban")
    );
}

#[test]
fn quotas_start_over_with_the_next_period_and_never_overcharge() {
    // 2026-11-30T23:59:00Z
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_083_140);
    let clock = Clock::manual(start);
    let store = StateStore::in_memory_with_clock(clock.clone());
    let s = store.blocking();
    let charge = |cost| {
        s.quota_charge("model-api:k1", QuotaPeriod::Monthly, 5, cost)
            .expect("charge")
    };
    assert!(charge(4).allowed);
    let refused = charge(2);
    assert!(!refused.allowed, "4 + 2 > 5 must be refused");
    assert_eq!(refused.used, 4, "a refused charge is not counted");
    assert!(charge(1).allowed);
    assert!(!charge(1).allowed);
    // One minute later it is December: a new month.
    clock.advance(Duration::from_secs(60));
    let next = charge(5);
    assert!(next.allowed);
    assert_eq!(next.used, 5);
    assert_eq!(
        next.resets_at,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_798_761_600)
    );
}

#[test]
fn hostile_keys_and_floods_stay_bounded() {
    let store = StateStore::in_memory();
    let s = store.blocking();
    let long_key = "x".repeat(1 << 20);
    assert_eq!(s.hit(&long_key, Duration::from_secs(60)).expect("hit"), 1);
    assert_eq!(
        s.count(&long_key, Duration::from_secs(60)).expect("count"),
        1
    );
    for _ in 0..(palisade_state::MAX_WINDOW_HITS + 50) {
        s.hit("flood", Duration::from_secs(600)).expect("hit");
    }
    assert_eq!(
        s.count("flood", Duration::from_secs(600)).expect("count"),
        palisade_state::MAX_WINDOW_HITS as u64
    );
}
