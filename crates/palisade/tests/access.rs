//! End-to-end tests of access control through the real binary: the demo's login lockout (429 with
//! Retry-After, lifted by `palisade accounts unlock`), a login lock earned through one gateway
//! enforced by another sharing Redis (and lifted for both by the CLI), login locks an older
//! gateway left in `access.sqlite3` still enforced after an upgrade (locally, and through Redis by
//! every gateway), the lock fail mode while
//! the state store is unreachable, the demo API's key requirement (401 without a key,
//! `palisade keys create` keys accepted, revoked keys refused), and signed identity headers
//! reaching an upstream with client-sent copies stripped. The Redis test uses 127.0.0.1:6379 (or
//! `PALISADE_REDIS_URL`); without it it fails when `CI=true` and is skipped with a notice
//! otherwise.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{BINARY, palisade};
use palisade_testkit::ServeProcess as Running;
use palisade_testkit::legacy_access::{legacy_lock_rows, write_legacy_access_db};

const WAIT: Duration = Duration::from_secs(20);

/// A raw HTTP/1.1 exchange (Connection: close); returns the status and the whole response.
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

fn header<'r>(response: &'r str, name: &str) -> Option<&'r str> {
    let head = response.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn eventually(running: &Running, what: &str, condition: impl FnMut() -> bool) {
    running.wait_until(what, WAIT, condition);
}

fn start_demo(dir: &Path) -> Running {
    Running::spawn(
        BINARY,
        &[
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--admin",
            "127.0.0.1:0",
            "--data-dir",
            "demo-data",
        ],
        dir,
    )
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const JSON: (&str, &str) = ("Content-Type", "application/json");

#[test]
fn demo_login_locks_after_repeated_failures_until_unlocked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start_demo(dir.path());
    let gateway = running.gateway;
    for attempt in 1..=5 {
        let (status, _) = exchange(
            gateway,
            "POST",
            "/login",
            &[FORM],
            "username=demo&password=wrong",
        );
        assert_eq!(status, 401, "attempt {attempt} reaches the demo app");
    }
    // Locked: refused before the upstream, even with the right password and another spelling.
    for body in [
        "username=demo&password=wrong",
        "username=demo&password=demo",
        "username=%20DEMO&password=demo",
    ] {
        let (status, response) = exchange(gateway, "POST", "/login", &[FORM], body);
        assert_eq!(status, 429, "{response}");
        assert_locked_for(&response, 1..=120);
    }
    // Another account is not affected.
    let (status, _) = exchange(
        gateway,
        "POST",
        "/login",
        &[FORM],
        "username=alice&password=x",
    );
    assert_eq!(status, 401);

    let output = palisade(
        &[
            "accounts",
            "locked",
            "--data-dir",
            "demo-data",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let locked: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(locked[0]["account"], "demo");

    let output = palisade(
        &["accounts", "unlock", "Demo", "--data-dir", "demo-data"],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    eventually(&running, "the unlock reaches the running gateway", || {
        let (status, _) = exchange(
            gateway,
            "POST",
            "/login",
            &[FORM],
            "username=demo&password=demo",
        );
        status == 303 || status == 302
    });
    eventually(&running, "login events are recorded", || {
        let output = palisade(
            &[
                "events",
                "search",
                "--data-dir",
                "demo-data",
                "--action",
                "authn_login_lock",
                "--format",
                "json",
            ],
            dir.path(),
        );
        String::from_utf8_lossy(&output.stdout).contains("\"user.name\":\"demo\"")
    });
}

/// A `palisade serve` configuration protecting the demo app's login form (5 failures in 10
/// minutes lock the name for 2 minutes), with `state` appended.
fn login_config(upstream: SocketAddr, state: &str) -> String {
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
[site.access]
[[site.access.login]]
path = "/login"
username = "form:username"
max_failures = 5
window = "10m"
lock = "2m"
{state}
"#
    )
}

fn serve(config: &str, dir: &Path) -> Running {
    std::fs::write(dir.join("palisade.toml"), config).expect("write config");
    Running::spawn(BINARY, &["serve", "--config", "palisade.toml"], dir)
}

/// `palisade accounts list --format json` run with `dir`'s palisade.toml.
fn locked_accounts(dir: &Path) -> serde_json::Value {
    let output = palisade(
        &[
            "accounts",
            "list",
            "--config",
            "palisade.toml",
            "--format",
            "json",
        ],
        dir,
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    serde_json::from_slice(&output.stdout).expect("json")
}

fn login(gateway: SocketAddr, user: &str, password: &str) -> (u16, String) {
    exchange(
        gateway,
        "POST",
        "/login",
        &[FORM],
        &format!("username={user}&password={password}"),
    )
}

/// Asserts a `Retry-After` header within `seconds`.
fn assert_locked_for(response: &str, seconds: std::ops::RangeInclusive<u64>) {
    let retry_after: u64 = header(response, "retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!(seconds.contains(&retry_after), "{retry_after}");
}

#[test]
fn a_login_lock_earned_through_one_gateway_is_enforced_by_the_other() {
    let Some(url) =
        common::redis_url("a_login_lock_earned_through_one_gateway_is_enforced_by_the_other")
    else {
        return;
    };
    let (_runtime, demo) = common::demo_upstream();
    let config = login_config(
        demo.addr,
        &common::redis_state(&url, &common::unique_prefix("access-login")),
    );
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let a = serve(&config, dir_a.path());
    let b = serve(&config, dir_b.path());
    for attempt in 1..=5 {
        let (status, response) = login(a.gateway, "demo", "wrong");
        assert_eq!(status, 401, "attempt {attempt} through A: {response}");
    }
    // The sixth attempt, through the other gateway, never reaches the upstream.
    let (status, response) = login(b.gateway, "demo", "demo");
    assert_eq!(
        status,
        429,
        "B enforces A's lock: {response}\n{}",
        b.stderr()
    );
    assert_locked_for(&response, 100..=120);
    assert_eq!(login(a.gateway, "DEMO", "demo").0, 429, "A enforces it too");
    assert_eq!(
        login(b.gateway, "alice", "x").0,
        401,
        "another account is not locked"
    );

    // The CLI sees and lifts the shared lock with either gateway's configuration.
    let locked = locked_accounts(dir_b.path());
    assert_eq!(locked[0]["account"], "demo", "{locked}");
    assert_eq!(locked[0]["repeat"], 1, "{locked}");
    let output = palisade(
        &["accounts", "unlock", "Demo", "--config", "palisade.toml"],
        dir_a.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    for (name, gateway) in [("A", a.gateway), ("B", b.gateway)] {
        let (status, response) = login(gateway, "demo", "demo");
        assert!(
            status == 303 || status == 302,
            "{name} accepts the unlocked account: {response}"
        );
    }
    let output = palisade(
        &["accounts", "unlock", "demo", "--config", "palisade.toml"],
        dir_b.path(),
    );
    assert_eq!(output.status.code(), Some(1), "nothing left to unlock");
}

/// `<dir>/data/access.sqlite3` as a gateway before the state store left it: the site `*` has a
/// lock of `demo` (its second in a row) with `seconds` left, and an expired one of `alice`.
fn legacy_locks_in(dir: &Path, seconds: i64) {
    let data_dir = dir.join("data");
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).expect("ms"));
    write_legacy_access_db(
        &data_dir,
        &[
            ("*", "demo", now_ms + seconds * 1000, 2),
            ("*", "alice", now_ms - 1000, 1),
        ],
    );
}

#[test]
fn a_login_lock_an_older_gateway_left_in_access_sqlite3_is_still_enforced() {
    let (_runtime, demo) = common::demo_upstream();
    let dir = tempfile::tempdir().expect("tempdir");
    legacy_locks_in(dir.path(), 120);
    let running = serve(&login_config(demo.addr, ""), dir.path());
    let (status, response) = login(running.gateway, "demo", "demo");
    assert_eq!(
        status,
        429,
        "the legacy lock holds: {response}\n{}",
        running.stderr()
    );
    assert_locked_for(&response, 100..=120);
    assert_eq!(
        login(running.gateway, "alice", "x").0,
        401,
        "an expired legacy lock is dropped"
    );
    assert_eq!(
        legacy_lock_rows(&dir.path().join("data")),
        0,
        "the legacy rows are gone"
    );
    // Log lines reach stderr from a background writer (at least every 20 ms): wait for it.
    eventually(&running, "the move is logged", || {
        running.stderr().contains("moved into the state store")
    });

    // The CLI lists the lock with its repeat count and lifts it like any other.
    let locked = locked_accounts(dir.path());
    assert_eq!(locked[0]["account"], "demo", "{locked}");
    assert_eq!(locked[0]["repeat"], 2, "{locked}");
    let output = palisade(
        &["accounts", "unlock", "demo", "--config", "palisade.toml"],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    eventually(&running, "the unlocked account logs in", || {
        matches!(login(running.gateway, "demo", "demo").0, 302 | 303)
    });
}

#[test]
fn a_login_lock_an_older_gateway_left_moves_into_redis_for_every_gateway() {
    let Some(url) =
        common::redis_url("a_login_lock_an_older_gateway_left_moves_into_redis_for_every_gateway")
    else {
        return;
    };
    let (_runtime, demo) = common::demo_upstream();
    let config = login_config(
        demo.addr,
        &common::redis_state(&url, &common::unique_prefix("access-legacy-lock")),
    );
    let (upgraded, other) = (
        tempfile::tempdir().expect("upgraded"),
        tempfile::tempdir().expect("other"),
    );
    legacy_locks_in(upgraded.path(), 120);
    // The upgraded gateway moves its legacy lock into Redis before it listens ...
    let _upgraded_gateway = serve(&config, upgraded.path());
    assert_eq!(legacy_lock_rows(&upgraded.path().join("data")), 0);
    // ... where a gateway that never had it enforces it.
    let gateway = serve(&config, other.path());
    let (status, response) = login(gateway.gateway, "demo", "demo");
    assert_eq!(status, 429, "{response}\n{}", gateway.stderr());
    assert_locked_for(&response, 100..=120);
    assert_eq!(login(gateway.gateway, "alice", "x").0, 401);
}

#[test]
fn an_unreachable_state_store_applies_the_lock_fail_mode_with_an_event() {
    let (_runtime, demo) = common::demo_upstream();
    // Nothing listens on port 1: the store starts degraded and stays so.
    let closed = "[state]\nbackend = \"redis\"\nredis_url = \"redis://127.0.0.1:1\"\n\
                  [state.fail_modes]\nlock = \"closed\"\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let running = serve(&login_config(demo.addr, closed), dir.path());
    let started = Instant::now();
    let (status, response) = login(running.gateway, "demo", "demo");
    assert_eq!(status, 429, "fail closed: {response}");
    assert!(header(&response, "retry-after").is_some(), "{response}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a degraded store never hangs a login: {:?}",
        started.elapsed()
    );
    eventually(&running, "the degraded-state event is recorded", || {
        let output = palisade(
            &[
                "events",
                "search",
                "--data-dir",
                "data",
                "--action",
                "authn_login_state_unavailable",
                "--format",
                "json",
            ],
            dir.path(),
        );
        String::from_utf8_lossy(&output.stdout).contains("\"palisade.state.fail_mode\":\"closed\"")
    });
    drop(running);

    // Fail open: the upstream judges the login; the gateway does not lock.
    let open = closed.replace("\"closed\"", "\"open\"");
    let dir = tempfile::tempdir().expect("tempdir");
    let running = serve(&login_config(demo.addr, &open), dir.path());
    for _ in 0..6 {
        assert_eq!(login(running.gateway, "demo", "wrong").0, 401);
    }
}

#[test]
fn demo_api_writes_need_an_api_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start_demo(dir.path());
    let gateway = running.gateway;
    let (status, _) = exchange(gateway, "GET", "/api/items", &[], "");
    assert_eq!(status, 200, "reading stays public");
    let (status, response) = exchange(gateway, "POST", "/api/items", &[JSON], r#"{"name":"Cap"}"#);
    assert_eq!(status, 401, "{response}");
    assert!(
        header(&response, "www-authenticate").is_some_and(|v| v.contains("X-Api-Key")),
        "{response}"
    );
    let (status, _) = exchange(
        gateway,
        "POST",
        "/api/items",
        &[JSON, ("X-Api-Key", "pal_0123456789ab_guess")],
        "{}",
    );
    assert_eq!(status, 401);

    let output = palisade(
        &[
            "keys",
            "create",
            "--name",
            "e2e",
            "--roles",
            "writer",
            "--expires",
            "1d",
            "--json",
            "--data-dir",
            "demo-data",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let key = created["key"].as_str().expect("key").to_owned();
    let id = created["id"].as_str().expect("id").to_owned();
    eventually(&running, "the new key is accepted", || {
        exchange(
            gateway,
            "POST",
            "/api/items",
            &[JSON, ("X-Api-Key", &key)],
            r#"{"name":"Cap"}"#,
        )
        .0 == 201
    });
    let bearer = format!("Bearer {key}");
    let (status, _) = exchange(
        gateway,
        "POST",
        "/api/items",
        &[JSON, ("Authorization", &bearer)],
        r#"{"name":"Mug"}"#,
    );
    assert_eq!(status, 201, "the key also works as a bearer token");

    // A key without the writer role is authenticated but forbidden.
    let output = palisade(
        &[
            "keys",
            "create",
            "--name",
            "reader",
            "--json",
            "--data-dir",
            "demo-data",
        ],
        dir.path(),
    );
    let reader: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let reader_key = reader["key"].as_str().expect("key").to_owned();
    eventually(&running, "a key without the role is forbidden", || {
        exchange(
            gateway,
            "POST",
            "/api/items",
            &[JSON, ("X-Api-Key", &reader_key)],
            "{}",
        )
        .0 == 403
    });

    let output = palisade(
        &[
            "keys",
            "list",
            "--format",
            "json",
            "--data-dir",
            "demo-data",
        ],
        dir.path(),
    );
    let listed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        listed.contains(&id) && !listed.contains(&key),
        "keys list never shows a key: {listed}"
    );
    let output = palisade(
        &["keys", "revoke", &id, "--data-dir", "demo-data"],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    eventually(&running, "the revoked key is refused", || {
        exchange(
            gateway,
            "POST",
            "/api/items",
            &[JSON, ("X-Api-Key", &key)],
            "{}",
        )
        .0 == 401
    });
}

/// An upstream that answers every request with its request head as the body.
fn echo_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let body = String::from_utf8_lossy(&head).into_owned();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    addr
}

#[test]
fn identity_reaches_the_upstream_signed_and_forged_copies_are_stripped() {
    let upstream = echo_upstream();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        r#"
[[listener]]
addr = "127.0.0.1:0"

[admin]
enabled = false

[[upstream]]
name = "app"
servers = ["http://{upstream}"]

[access]
identity_secret = "shared-with-the-upstream"

[[site]]
hosts = ["*"]

[[site.route]]
upstream = "app"

[site.access]
api = true

[[site.access.rule]]
path = "/public/*"
policy = "public"

[[site.access.rule]]
path = "/admin/*"
roles = ["admin"]

[[site.access.rule]]
path = "/*"
policy = "authenticated"
"#
    );
    std::fs::write(dir.path().join("palisade.toml"), config).expect("write");
    let output = palisade(
        &[
            "keys",
            "create",
            "--name",
            "ops-bot",
            "--roles",
            "ops,admin",
            "--json",
            "--config",
            "palisade.toml",
        ],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let key = created["key"].as_str().expect("key").to_owned();
    let running = Running::spawn(BINARY, &["serve", "--config", "palisade.toml"], dir.path());
    let gateway = running.gateway;

    let forged = [
        ("X-Palisade-User", "root"),
        ("X-Palisade-Roles", "admin"),
        ("X-Palisade-Signature", "t=1,v1=00"),
    ];
    let (status, response) = exchange(gateway, "GET", "/public/page", &forged, "");
    assert_eq!(status, 200, "{response}");
    assert!(
        !response.to_ascii_lowercase().contains("x-palisade-"),
        "forged headers reach the upstream: {response}"
    );

    let (status, _) = exchange(gateway, "GET", "/admin/panel", &forged, "");
    assert_eq!(status, 401, "forged headers grant nothing");
    let (status, _) = exchange(gateway, "GET", "/admin/../admin/panel", &[], "");
    assert_eq!(status, 401);

    let mut with_key = forged.to_vec();
    with_key.push(("X-Api-Key", &key));
    let (status, response) = exchange(gateway, "GET", "/admin/panel", &with_key, "");
    assert_eq!(status, 200, "{response}");
    let body = response.split("\r\n\r\n").nth(1).expect("body");
    let upstream_head = format!("x\r\n{body}");
    assert_eq!(
        header(&upstream_head, "x-palisade-user"),
        Some("ops-bot"),
        "{body}"
    );
    assert_eq!(
        header(&upstream_head, "x-palisade-roles"),
        Some("ops,admin")
    );
    let signature = header(&upstream_head, "x-palisade-signature").expect("signature");
    let request_id = header(&upstream_head, "x-request-id").expect("request id");
    let t: u64 = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .and_then(|t| t.parse().ok())
        .expect("timestamp");
    let expected = palisade_access::identity::IdentitySigner::new(b"shared-with-the-upstream")
        .sign("ops-bot", "ops,admin", request_id, t);
    assert_eq!(signature, expected);
    assert_eq!(
        body.matches("x-palisade-user").count() + body.matches("X-Palisade-User").count(),
        1,
        "{body}"
    );

    // Default deny on an API site: no rule, no entry even with a key? The catch-all needs a login only.
    let (status, _) = exchange(gateway, "GET", "/anything", &[("X-Api-Key", &key)], "");
    assert_eq!(status, 200);
    let (status, _) = exchange(gateway, "GET", "/anything", &[], "");
    assert_eq!(status, 401);
}
