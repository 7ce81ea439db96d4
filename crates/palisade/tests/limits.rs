//! End-to-end: rate limits, bans and shared state through real `palisade serve` processes —
//! a 429 with its headers, a ban added with `palisade bans` blocking the next request, and two
//! gateways sharing Redis enforcing one limit. Redis tests use 127.0.0.1:6379 (or
//! `PALISADE_REDIS_URL`); without it they fail when `CI=true` and are skipped with a notice
//! otherwise.

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BINARY, palisade, redis_state, redis_url, unique_prefix};

/// A `palisade serve` process; killed when dropped.
struct Gateway {
    child: Child,
    addr: SocketAddr,
}

impl Gateway {
    fn start(config: &str, dir: &Path) -> Gateway {
        std::fs::write(dir.join("palisade.toml"), config).expect("write config");
        let mut child = Command::new(BINARY)
            .args(["serve", "--config", "palisade.toml"])
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("palisade starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = lines
            .next()
            .and_then(Result::ok)
            .expect("the listening line");
        let announced: serde_json::Value = serde_json::from_str(&line).expect("JSON line");
        let addr = announced["listening"][0]
            .as_str()
            .expect("address")
            .parse()
            .expect("socket address");
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Gateway { child, addr }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status and head (lower-cased header names) of `GET path`.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let head = response
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    (status, head)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
}

fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn config(upstream: SocketAddr, state: &str, route: &str) -> String {
    format!(
        r#"
data_dir = "data"
[[listener]]
addr = "127.0.0.1:0"
[admin]
enabled = false
[[upstream]]
name = "app"
servers = ["http://{upstream}"]
[[site]]
hosts = ["*"]
[[site.route]]
name = "app"
upstream = "app"
{route}
{state}
"#
    )
}

#[test]
fn over_the_limit_requests_get_429_with_retry_after_and_ratelimit_headers() {
    let (_runtime, demo) = common::demo_upstream();
    let app = demo.addr;
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(
        &config(app, "", r#"rate_limit = [{ by = "ip", rate = "2/min" }]"#),
        dir.path(),
    );
    let (status, head) = get(gateway.addr, "/search?q=mug");
    assert_eq!(status, 200, "{head}");
    assert_eq!(header(&head, "ratelimit-policy"), Some(r#""ip";q=2;w=60"#));
    assert!(
        header(&head, "ratelimit").is_some_and(|v| v.starts_with(r#""ip";r=1;t="#)),
        "{head}"
    );
    assert_eq!(get(gateway.addr, "/search?q=mug").0, 200);
    let (status, head) = get(gateway.addr, "/search?q=mug");
    assert_eq!(status, 429, "{head}");
    assert_eq!(header(&head, "retry-after"), Some("30"), "{head}");
    assert!(
        header(&head, "ratelimit").is_some_and(|v| v.starts_with(r#""ip";r=0;t="#)),
        "{head}"
    );
    assert!(header(&head, "x-request-id").is_some(), "{head}");
    // The refusal is a security event in the store `palisade events` reads.
    eventually("the excess_rate_limit_exceeded event", || {
        let out = palisade(
            &[
                "events",
                "search",
                "--data-dir",
                "data",
                "--action",
                "excess_rate_limit_exceeded",
                "--format",
                "json",
            ],
            dir.path(),
        );
        String::from_utf8_lossy(&out.stdout).contains("excess_rate_limit_exceeded")
    });
}

#[test]
fn a_ban_added_with_the_cli_blocks_the_next_request_until_removed() {
    let (_runtime, demo) = common::demo_upstream();
    let app = demo.addr;
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = Gateway::start(&config(app, "", ""), dir.path());
    assert_eq!(get(gateway.addr, "/").0, 200);

    let out = palisade(
        &[
            "bans",
            "add",
            "127.0.0.1",
            "--ttl",
            "1h",
            "--reason",
            "e2e test",
            "--data-dir",
            "data",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually("the ban to be enforced", || get(gateway.addr, "/").0 == 403);

    let out = palisade(
        &["bans", "list", "--format", "json", "--data-dir", "data"],
        dir.path(),
    );
    let bans: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON list");
    assert_eq!(bans[0]["network"], "127.0.0.1/32");
    assert_eq!(bans[0]["reason"], "e2e test");
    assert_eq!(bans[0]["source"], "cli");
    let table = palisade(&["bans", "list", "--data-dir", "data"], dir.path());
    assert!(String::from_utf8_lossy(&table.stdout).contains("127.0.0.1/32"));

    let out = palisade(
        &["bans", "remove", "127.0.0.1", "--data-dir", "data"],
        dir.path(),
    );
    assert!(out.status.success());
    eventually("the ban to be lifted", || get(gateway.addr, "/").0 == 200);
    let out = palisade(
        &["bans", "remove", "127.0.0.1", "--data-dir", "data"],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "removing a missing ban reports it"
    );
    let out = palisade(
        &["bans", "add", "not-an-ip", "--data-dir", "data"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn two_gateways_sharing_redis_enforce_one_limit() {
    let Some(url) = redis_url("two_gateways_sharing_redis_enforce_one_limit") else {
        return;
    };
    let (_runtime, demo) = common::demo_upstream();
    let app = demo.addr;
    let state = redis_state(&url, &unique_prefix("limits"));
    let route = r#"rate_limit = [{ by = "ip", rate = "3/min" }]"#;
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let a = Gateway::start(&config(app, &state, route), dir_a.path());
    let b = Gateway::start(&config(app, &state, route), dir_b.path());
    let statuses: Vec<u16> = [&a, &b, &a, &b, &a]
        .iter()
        .map(|gateway| get(gateway.addr, "/").0)
        .collect();
    assert_eq!(
        statuses,
        [200, 200, 200, 429, 429],
        "one 3/min limit across both gateways"
    );
    // A ban through one gateway's store (the CLI with its configuration) reaches the other.
    let out = palisade(
        &[
            "bans",
            "add",
            "127.0.0.1",
            "--ttl",
            "10m",
            "--config",
            "palisade.toml",
        ],
        dir_a.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually("gateway B to enforce the shared ban", || {
        get(b.addr, "/").0 == 403
    });
    let out = palisade(
        &["bans", "remove", "127.0.0.1", "--config", "palisade.toml"],
        dir_b.path(),
    );
    assert!(out.status.success());
}
