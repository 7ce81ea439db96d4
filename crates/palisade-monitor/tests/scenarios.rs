//! Deterministic scenario tests: synthetic event streams through the detectors,
//! asserting the exact findings (kind, subject, observed value, evidence).

mod support;

use std::net::{IpAddr, Ipv4Addr};

use palisade_core::{EventOutcome, SecurityEvent, Severity};
use palisade_monitor::{
    Detector, DetectorSettings, Finding, FindingKind, GeoDatabase, RequestSample,
};

use support::mmdb::{Place, build};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
/// 2026-11-30T00:00:00Z, a Monday.
const T0: i64 = 1_795_996_800_000;

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

fn login(action: &str, at: i64, user: &str, from: &str, id: &str) -> SecurityEvent {
    let mut event = SecurityEvent::new(action, "authentication", Severity::Low, "login");
    event.timestamp_ms = at;
    event.outcome = if action.ends_with("fail") {
        EventOutcome::Failure
    } else {
        EventOutcome::Success
    };
    event.source_ip = Some(ip(from));
    event.request_id = Some(id.to_owned());
    event.route = Some("login".to_owned());
    event.fields.insert("user.name".into(), user.into());
    event
}

fn with_agent(mut event: SecurityEvent, agent: &str) -> SecurityEvent {
    event
        .fields
        .insert("user_agent.original".into(), agent.into());
    event
}

fn request(at: i64, from: &str, path: &str, status: u16, id: String) -> RequestSample {
    RequestSample {
        timestamp_ms: at,
        request_id: id,
        source_ip: ip(from),
        route: "shop".to_owned(),
        path: path.to_owned(),
        status,
        blocked: false,
        user: None,
    }
}

/// (kind, subject, observed) of findings, for exact comparisons.
fn summary(findings: &[Finding]) -> Vec<(FindingKind, String, String)> {
    findings
        .iter()
        .map(|f| (f.kind, f.subject(), f.observed.clone()))
        .collect()
}

fn run_events(detector: &mut Detector, events: &[SecurityEvent]) -> Vec<Finding> {
    events
        .iter()
        .flat_map(|e| detector.observe_event(e))
        .collect()
}

#[test]
fn slow_brute_force_is_found_once_below_the_short_window_limit() {
    let mut detector = Detector::new(DetectorSettings::default(), None);
    // One failure every 5 minutes for 2 hours: never 5 within 10 minutes.
    let events: Vec<SecurityEvent> = (0..24)
        .map(|i| {
            login(
                "authn_login_fail",
                T0 + i * 5 * MINUTE,
                "alice",
                "203.0.113.5",
                &format!("fail-{i:02}"),
            )
        })
        .collect();
    let findings = run_events(&mut detector, &events);
    assert_eq!(
        summary(&findings),
        [(
            FindingKind::SlowBruteForce,
            "user:alice".to_owned(),
            "20".to_owned()
        )]
    );
    let finding = &findings[0];
    assert_eq!(finding.timestamp_ms, T0 + 19 * 5 * MINUTE);
    assert_eq!(
        finding.evidence,
        (0..20).map(|i| format!("fail-{i:02}")).collect::<Vec<_>>()
    );
    assert!(
        finding
            .explanation
            .contains("20 failed logins for account \"alice\" spread over 24h")
    );
    assert_eq!(finding.to_event().action, "anomaly_slow_brute_force");
}

#[test]
fn fast_brute_force_then_success_is_two_findings() {
    let mut detector = Detector::new(DetectorSettings::default(), None);
    let mut events: Vec<SecurityEvent> = (0..6)
        .map(|i| {
            login(
                "authn_login_fail",
                T0 + i * 10_000,
                "Erin",
                "203.0.113.9",
                &format!("f{i}"),
            )
        })
        .collect();
    events.push(login(
        "authn_login_success",
        T0 + 70_000,
        "erin",
        "203.0.113.9",
        "ok",
    ));
    let findings = run_events(&mut detector, &events);
    assert_eq!(
        summary(&findings),
        [
            (
                FindingKind::BruteForceAccount,
                "user:erin".to_owned(),
                "5".to_owned()
            ),
            (
                FindingKind::LoginAfterFailures,
                "user:erin".to_owned(),
                "6".to_owned()
            ),
        ]
    );
    assert_eq!(
        findings[1].evidence,
        ["f0", "f1", "f2", "f3", "f4", "f5", "ok"]
    );
    assert_eq!(findings[1].severity, Severity::High);
}

#[test]
fn credential_stuffing_is_one_address_on_many_accounts() {
    let mut detector = Detector::new(DetectorSettings::default(), None);
    let events: Vec<SecurityEvent> = (0..30)
        .map(|i| {
            login(
                "authn_login_fail",
                T0 + i * 5_000,
                &format!("user{i:02}"),
                "198.51.100.7",
                &format!("s{i:02}"),
            )
        })
        .collect();
    let findings = run_events(&mut detector, &events);
    assert_eq!(
        summary(&findings),
        [(
            FindingKind::CredentialStuffing,
            "ip:198.51.100.7".to_owned(),
            "10".to_owned()
        )]
    );
    assert_eq!(findings[0].source_ip, Some(ip("198.51.100.7")));
    assert_eq!(findings[0].evidence.len(), 10);
    assert_eq!(findings[0].evidence[9], "s09");
}

#[test]
fn one_account_from_many_addresses_is_a_distributed_attack() {
    let mut detector = Detector::new(DetectorSettings::default(), None);
    // 12 addresses, one failure each, 4 minutes apart: no per-address or short-window limit.
    let events: Vec<SecurityEvent> = (0..12)
        .map(|i| {
            login(
                "authn_login_fail",
                T0 + i * 4 * MINUTE,
                "frank",
                &format!("192.0.2.{}", 10 + i),
                &format!("d{i:02}"),
            )
        })
        .collect();
    let findings = run_events(&mut detector, &events);
    assert_eq!(
        summary(&findings),
        [(
            FindingKind::DistributedBruteForce,
            "user:frank".to_owned(),
            "10".to_owned()
        )]
    );
}

#[test]
fn scanner_burst_and_sensitive_probes() {
    let mut detector = Detector::new(DetectorSettings::default(), None);
    let mut samples: Vec<RequestSample> = (0..25)
        .map(|i| {
            request(
                T0 + i * 1000,
                "192.0.2.66",
                &format!("/page-{i}"),
                404,
                format!("r{i:02}"),
            )
        })
        .collect();
    samples.push(request(
        T0 + 30_000,
        "192.0.2.77",
        "/.git/config",
        404,
        "g1".into(),
    ));
    samples.push(request(
        T0 + 31_000,
        "192.0.2.77",
        "/.env",
        404,
        "g2".into(),
    ));
    // An ordinary client with a few 404s is not a scanner.
    samples.extend((0..5).map(|i| {
        request(
            T0 + i * 1000,
            "192.0.2.88",
            "/missing",
            404,
            format!("m{i}"),
        )
    }));
    let findings: Vec<Finding> = samples
        .iter()
        .flat_map(|s| detector.observe_request(s))
        .collect();
    assert_eq!(
        summary(&findings),
        [
            (
                FindingKind::ScannerBurst,
                "ip:192.0.2.66".to_owned(),
                "20".to_owned()
            ),
            (
                FindingKind::SensitivePathProbe,
                "ip:192.0.2.77".to_owned(),
                "/.git/config".to_owned()
            ),
        ]
    );
    assert_eq!(
        findings[0].evidence.first().map(String::as_str),
        Some("r00")
    );
    assert_eq!(findings[0].evidence.last().map(String::as_str), Some("r19"));
}

#[test]
fn traffic_spike_against_the_hourly_baseline() {
    let mut detector = Detector::new(DetectorSettings::default(), None);
    let mut findings = Vec::new();
    // An hour of steady traffic: 40 requests a minute from 40 clients.
    for minute in 0..60 {
        for i in 0..40 {
            let sample = request(
                T0 + minute * MINUTE + i * 1000,
                &format!("10.0.{}.{}", i / 200, i % 200 + 1),
                "/",
                200,
                format!("b{minute}-{i}"),
            );
            findings.extend(detector.observe_request(&sample));
        }
    }
    assert_eq!(summary(&findings), [], "steady traffic is not a spike");
    // Then 300 requests in one minute from one client.
    for i in 0..300 {
        let sample = request(
            T0 + 60 * MINUTE + i * 100,
            "203.0.113.200",
            "/",
            200,
            format!("x{i}"),
        );
        findings.extend(detector.observe_request(&sample));
    }
    assert_eq!(
        summary(&findings),
        [
            (
                FindingKind::TrafficSpike,
                "global".to_owned(),
                "120".to_owned()
            ),
            (
                FindingKind::TrafficSpike,
                "route:shop".to_owned(),
                "200".to_owned()
            ),
        ]
    );
    assert!(
        findings[0]
            .explanation
            .starts_with("requests of all clients: 120 this minute, expected 40.0 (median of the last hour), threshold 120"),
        "{}",
        findings[0].explanation
    );
    assert_eq!(findings[0].evidence, ["x119"]);
}

fn geo_db(dir: &tempfile::TempDir) -> GeoDatabase {
    let places = [
        Place {
            network: Ipv4Addr::new(198, 51, 100, 0),
            prefix: 24,
            country: "DE",
            latitude: 52.52,
            longitude: 13.405,
            asn: 3320,
            as_org: "Deutsche Telekom",
        },
        Place {
            network: Ipv4Addr::new(203, 0, 113, 0),
            prefix: 24,
            country: "US",
            latitude: 40.7128,
            longitude: -74.006,
            asn: 7018,
            as_org: "AT&T",
        },
        Place {
            network: Ipv4Addr::new(192, 0, 2, 0),
            prefix: 25,
            country: "FR",
            latitude: 48.8566,
            longitude: 2.3522,
            asn: 3215,
            as_org: "Orange",
        },
    ];
    let path = dir.path().join("test-city.mmdb");
    std::fs::write(&path, build(&places)).expect("write mmdb");
    GeoDatabase::open(Some(&path), None).expect("open mmdb")
}

#[test]
fn the_test_mmdb_answers_like_geolite2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = geo_db(&dir);
    let info = db.lookup(ip("203.0.113.77"));
    assert_eq!(info.country.as_deref(), Some("US"));
    assert_eq!(info.asn, Some(7018));
    assert_eq!(info.location, Some((40.7128, -74.006)));
    assert_eq!(
        db.lookup(ip("192.0.2.200")).country,
        None,
        "outside the /25"
    );
    assert_eq!(db.lookup(ip("192.0.2.1")).country.as_deref(), Some("FR"));
}

#[test]
fn impossible_travel_berlin_to_new_york_in_30_minutes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut detector = Detector::new(DetectorSettings::default(), Some(geo_db(&dir)));
    let mut events: Vec<SecurityEvent> = (0..3)
        .map(|day| {
            login(
                "authn_login_success",
                T0 + day * 24 * HOUR + 9 * HOUR,
                "carol",
                "198.51.100.20",
                &format!("de{day}"),
            )
        })
        .collect();
    events.push(login(
        "authn_login_success",
        T0 + 2 * 24 * HOUR + 9 * HOUR + 30 * MINUTE,
        "carol",
        "203.0.113.40",
        "us",
    ));
    let findings = run_events(&mut detector, &events);
    assert_eq!(
        summary(&findings),
        [
            (
                FindingKind::NewCountryLogin,
                "user:carol".to_owned(),
                "US".to_owned()
            ),
            (
                FindingKind::ImpossibleTravel,
                "user:carol".to_owned(),
                "12770 km/h".to_owned()
            ),
        ]
    );
    assert_eq!(findings[1].evidence, ["de2", "us"]);
    assert!(
        findings[1]
            .explanation
            .contains("from DE and US are 6385 km apart within 30 minutes")
    );
}

#[test]
fn new_country_login_after_a_known_history() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut detector = Detector::new(DetectorSettings::default(), Some(geo_db(&dir)));
    let mut events: Vec<SecurityEvent> = (0..3)
        .map(|day| {
            login(
                "authn_login_success",
                T0 + day * 24 * HOUR + 8 * HOUR,
                "dave",
                "198.51.100.30",
                &format!("de{day}"),
            )
        })
        .collect();
    // Two days later from Paris: a new country, but 880 km in 2 days is travel, not a finding.
    events.push(login(
        "authn_login_success",
        T0 + 4 * 24 * HOUR + 8 * HOUR,
        "dave",
        "192.0.2.5",
        "fr",
    ));
    // And back from Berlin the next day: known country.
    events.push(login(
        "authn_login_success",
        T0 + 5 * 24 * HOUR + 8 * HOUR,
        "dave",
        "198.51.100.31",
        "de3",
    ));
    let findings = run_events(&mut detector, &events);
    assert_eq!(
        summary(&findings),
        [(
            FindingKind::NewCountryLogin,
            "user:dave".to_owned(),
            "FR".to_owned()
        )]
    );
    assert!(
        findings[0]
            .explanation
            .contains("country FR, never seen for this account in 3 logins (known: DE)")
    );
}

#[test]
fn without_geoip_a_new_network_and_agent_family_is_reported() {
    let mut detector = Detector::new(DetectorSettings::default(), None);
    let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
    let mut events: Vec<SecurityEvent> = (0..3)
        .map(|day| {
            with_agent(
                login(
                    "authn_login_success",
                    T0 + day * 24 * HOUR,
                    "gina",
                    "192.0.2.10",
                    &format!("k{day}"),
                ),
                chrome,
            )
        })
        .collect();
    // Same network, new agent: fine. New network, same agent: fine.
    events.push(with_agent(
        login(
            "authn_login_success",
            T0 + 3 * 24 * HOUR,
            "gina",
            "192.0.2.11",
            "k3",
        ),
        "curl/8.5.0",
    ));
    events.push(with_agent(
        login(
            "authn_login_success",
            T0 + 4 * 24 * HOUR,
            "gina",
            "198.51.100.1",
            "k4",
        ),
        chrome,
    ));
    // New network and a never-seen agent family.
    events.push(with_agent(
        login(
            "authn_login_success",
            T0 + 5 * 24 * HOUR,
            "gina",
            "203.0.113.99",
            "k5",
        ),
        "python-requests/2.31",
    ));
    let findings = run_events(&mut detector, &events);
    assert_eq!(
        summary(&findings),
        [(
            FindingKind::NewNetworkLogin,
            "user:gina".to_owned(),
            "203.0.113.0/24 python-requests".to_owned()
        )]
    );
}

#[test]
fn unusual_login_hour_after_enough_history() {
    let mut detector = Detector::new(DetectorSettings::default(), None);
    let mut events: Vec<SecurityEvent> = (0..25)
        .map(|day| {
            login(
                "authn_login_success",
                T0 + day * 24 * HOUR + 9 * HOUR + (day % 3) * 20 * MINUTE,
                "hank",
                "192.0.2.50",
                &format!("h{day}"),
            )
        })
        .collect();
    events.push(login(
        "authn_login_success",
        T0 + 25 * 24 * HOUR + 3 * HOUR,
        "hank",
        "192.0.2.50",
        "night",
    ));
    let findings = run_events(&mut detector, &events);
    assert_eq!(
        summary(&findings),
        [(
            FindingKind::UnusualLoginHour,
            "user:hank".to_owned(),
            "03:00 UTC".to_owned()
        )]
    );
}

#[test]
fn hostile_input_is_bounded() {
    let mut detector = Detector::new(
        DetectorSettings {
            max_tracked: 1000,
            ..DetectorSettings::default()
        },
        None,
    );
    for i in 0..20_000u32 {
        let from = Ipv4Addr::from(0x0a00_0000 + i).to_string();
        let long_user = "x".repeat(10_000);
        detector.observe_event(&login(
            "authn_login_fail",
            T0 + i64::from(i),
            &long_user,
            &from,
            "e",
        ));
        detector.observe_request(&request(
            T0 + i64::from(i),
            &from,
            &"/a".repeat(5000),
            404,
            "r".into(),
        ));
    }
    let (series, _) = detector.sizes();
    assert!(series <= 1000, "{series} series");
}
