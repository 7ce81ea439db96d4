//! End-to-end tests of the `palisade` binary: `config check`, `serve` (with
//! `--upstream` and with a file, including hot reload), the admin endpoints,
//! `demo`, completions and help. Servers bind port 0; the binary reports the
//! bound addresses as a JSON line on stdout.

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_palisade");
const WAIT: Duration = Duration::from_secs(20);

fn palisade(args: &[&str]) -> std::process::Output {
    Command::new(BINARY)
        .args(args)
        .output()
        .expect("palisade runs")
}

// ---------------------------------------------------------------- config check

const VALID: &str = r#"
[[listener]]
addr = "127.0.0.1:0"

[admin]
addr = "127.0.0.1:0"

[[upstream]]
name = "app"
servers = ["http://127.0.0.1:9"]

[[site]]
hosts = ["*"]

[[site.route]]
upstream = "app"
"#;

#[test]
fn config_check_accepts_a_valid_file_with_a_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("palisade.toml");
    std::fs::write(&path, VALID).expect("write");
    let output = palisade(&["config", "check", path.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.trim(),
        format!(
            "{}: valid (1 listener, 1 upstream, 1 site, 1 route, WAF default)",
            path.display()
        )
    );
}

#[test]
fn config_check_rejects_an_invalid_file_with_located_messages_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("palisade.toml"),
        VALID
            .replace("upstream = \"app\"", "upsteam = \"app\"")
            .replace("\"*\"", "\"*\", \"bad host\""),
    )
    .expect("write");
    let output = Command::new(BINARY)
        .args(["config", "check", "palisade.toml"])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim_end(),
        "palisade.toml:16:1: unknown key \"upsteam\" in [[site.route]]; expected one of: name, path, upstream, mode, inspect, block_status, remove_rule_ids, remove_targets, rate_limit, quota"
    );

    // Semantic problems are all reported together.
    std::fs::write(
        dir.path().join("palisade.toml"),
        VALID.replace("\"*\"", "\"*\", \"bad host\"").replace(
            "upstream = \"app\"",
            "upstream = \"ap\"\nblock_status = 200",
        ),
    )
    .expect("write");
    let output = Command::new(BINARY)
        .args(["config", "check", "palisade.toml"])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "palisade.toml:13:15: invalid host pattern \"bad host\": label \"bad host\" is not a valid DNS label; expected \"example.com\", \"*.example.com\" or \"*\"",
            "palisade.toml:16:12: unknown upstream \"ap\"; expected one of: app",
            "palisade.toml:17:16: invalid block_status 200; expected a 4xx or 5xx status (400-599)",
        ]
    );
}

#[test]
fn config_check_of_a_missing_file_exits_2() {
    let output = palisade(&["config", "check", "/nonexistent/palisade.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .starts_with("/nonexistent/palisade.toml: cannot read the configuration file")
    );
}

// ---------------------------------------------------------------- running servers

/// A `palisade` child process; killed when dropped.
struct Running {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    listening: Vec<SocketAddr>,
    admin: SocketAddr,
}

impl Running {
    fn start(args: &[&str], dir: &Path) -> Running {
        let mut child = Command::new(BINARY)
            .args(args)
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("palisade starts");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (first_line_tx, first_line) = std::sync::mpsc::channel();
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        let collected = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = first_line_tx.send(line.clone());
                collected.lock().expect("lock").push_str(&(line + "\n"));
            }
        });
        let mut err = child.stderr.take().expect("stderr");
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                collected
                    .lock()
                    .expect("lock")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let line = match first_line.recv_timeout(WAIT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "no listening line; stderr:\n{}",
                    stderr.lock().expect("lock")
                );
            }
        };
        let announced: serde_json::Value =
            serde_json::from_str(&line).expect("JSON listening line");
        let listening = announced["listening"]
            .as_array()
            .expect("listening array")
            .iter()
            .map(|a| a.as_str().expect("string").parse().expect("address"))
            .collect();
        let admin = announced["admin"]
            .as_str()
            .expect("admin address")
            .parse()
            .expect("address");
        Running {
            child,
            stdout,
            stderr,
            listening,
            admin,
        }
    }

    fn gateway(&self) -> SocketAddr {
        self.listening[0]
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("lock").clone()
    }

    fn stdout(&self) -> String {
        self.stdout.lock().expect("lock").clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status and body of `GET path` (HTTP/1.1, Connection: close).
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
    (status, response)
}

/// Polls `condition` until it holds; on timeout the panic shows the server's log.
fn eventually(running: &Running, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if condition() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "timed out waiting for: {what}; stderr:\n{}",
        running.stderr()
    );
}

#[test]
fn serve_with_upstream_proxies_and_exposes_admin_endpoints() {
    let (_runtime, app) = common::demo_upstream();
    let dir = tempfile::tempdir().expect("tempdir");
    let upstream_url = format!("http://{}", app.addr);
    let running = Running::start(
        &[
            "serve",
            "--upstream",
            &upstream_url,
            "--listen",
            "127.0.0.1:0",
            "--admin",
            "127.0.0.1:0",
            "--data-dir",
            "data",
        ],
        dir.path(),
    );
    assert!(dir.path().join("data").is_dir(), "data dir created");
    let (status, body) = get(running.gateway(), "/search?q=mug");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("You searched for: <strong>mug</strong>"),
        "{body}"
    );

    assert_eq!(get(running.admin, "/healthz").0, 200);
    assert_eq!(get(running.admin, "/readyz").0, 200);
    let (status, metrics) = get(running.admin, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("palisade_build_info{version=\""),
        "{metrics}"
    );
    assert_eq!(get(running.admin, "/nope").0, 404);
    // JSON logs on stderr, one object per line (written by a background writer at least every
    // 20 ms: wait for the first).
    eventually(&running, "a log line", || !running.stderr().is_empty());
    let stderr = running.stderr();
    let first = stderr.lines().next().expect("a log line");
    assert!(
        serde_json::from_str::<serde_json::Value>(first).is_ok(),
        "not JSON: {first}"
    );
}

/// `mode = "off"` on a route lets through what the WAF blocks elsewhere; in `[waf]` it turns the
/// WAF off everywhere (and `config check` says so).
#[test]
fn waf_mode_off_skips_the_waf_on_its_route_or_everywhere() {
    let (_runtime, app) = common::demo_upstream();
    let dir = tempfile::tempdir().expect("tempdir");
    let base = VALID.replace("http://127.0.0.1:9", &format!("http://{}", app.addr));
    let attack = "/search?q=%27%20OR%201%3D1--";
    let per_route =
        format!("{base}\n[[site.route]]\npath = \"/search\"\nupstream = \"app\"\nmode = \"off\"\n");
    std::fs::write(dir.path().join("route.toml"), &per_route).expect("write");
    let running = Running::start(&["serve", "--config", "route.toml"], dir.path());
    let (status, body) = get(running.gateway(), attack);
    assert_eq!(status, 200, "the WAF is off on /search: {body}");
    let (status, body) = get(running.gateway(), &attack.replace("/search", "/"));
    assert_eq!(status, 403, "the WAF still runs on /: {body}");
    drop(running);

    let everywhere = format!("{base}\n[waf]\nmode = \"off\"\n");
    let path = dir.path().join("off.toml");
    std::fs::write(&path, &everywhere).expect("write");
    let output = palisade(&["config", "check", path.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("WAF off"),
        "{output:?}"
    );
    let running = Running::start(&["serve", "--config", "off.toml"], dir.path());
    let (status, body) = get(running.gateway(), &attack.replace("/search", "/"));
    assert_eq!(status, 200, "no WAF anywhere: {body}");
}

#[test]
fn config_file_changes_are_reloaded_and_invalid_ones_are_refused() {
    let (_runtime, app) = common::demo_upstream();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("palisade.toml");
    let base = VALID.replace("http://127.0.0.1:9", &format!("http://{}", app.addr));
    std::fs::write(&path, &base).expect("write");
    let running = Running::start(&["serve", "--config", "palisade.toml"], dir.path());
    assert_eq!(get(running.gateway(), "/api/items").0, 200);

    // A new route to an upstream nothing listens on: /api now fails, / still works.
    let with_route = format!(
        "{base}\n[[upstream]]\nname = \"dead\"\nservers = [\"http://127.0.0.1:9\"]\nconnect_timeout = \"1s\"\n\n\
         [[site.route]]\npath = \"/api\"\nupstream = \"dead\"\n"
    );
    // Editors replace files: write a temporary file and rename it over the original.
    std::fs::write(dir.path().join("palisade.toml.tmp"), &with_route).expect("write");
    std::fs::rename(dir.path().join("palisade.toml.tmp"), &path).expect("rename");
    eventually(&running, "the new route answers", || {
        get(running.gateway(), "/api/items").0 == 502
    });
    assert_eq!(get(running.gateway(), "/").0, 200);
    eventually(&running, "the reload event is logged", || {
        running.stderr().contains("sys_config_changed")
    });

    // An invalid file is refused; the running configuration keeps serving.
    std::fs::write(&path, format!("{with_route}\n[limits]\nmax_bodies = 1\n")).expect("write");
    // The log line and the security event are written one after the other: wait for both.
    eventually(&running, "the reload failure is logged", || {
        let stderr = running.stderr();
        stderr.contains("configuration reload failed")
            && stderr.contains("sys_config_reload_failed")
    });
    let stderr = running.stderr();
    assert!(stderr.contains("sys_config_reload_failed"), "{stderr}");
    assert!(
        stderr.contains("palisade.toml:28:1"),
        "location of the unknown key: {stderr}"
    );
    assert_eq!(get(running.gateway(), "/api/items").0, 502);
    assert_eq!(get(running.gateway(), "/").0, 200);

    let (_, metrics) = get(running.admin, "/metrics");
    assert!(
        metrics.contains("palisade_config_reloads_total{result=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_config_reloads_total{result=\"error\"} 1"),
        "{metrics}"
    );
}

#[test]
fn sighup_reloads_and_sigterm_shuts_down_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("palisade.toml"), VALID).expect("write");
    let mut running = Running::start(&["serve", "--config", "palisade.toml"], dir.path());
    let pid = running.child.id().to_string();
    let signal = |name: &str| {
        let status = Command::new("kill")
            .args([name, &pid])
            .status()
            .expect("kill runs");
        assert!(status.success());
    };
    signal("-HUP");
    eventually(&running, "the SIGHUP reload", || {
        running.stderr().contains("SIGHUP received")
            && running.stderr().contains("sys_config_changed")
    });
    signal("-TERM");
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = running.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "{}", running.stderr());
    assert!(running.stderr().contains("shutting down"));
}

#[test]
fn serve_refuses_an_invalid_file_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("palisade.toml"),
        "[[listener]]\naddr = \"nowhere\"\n",
    )
    .expect("write");
    let output = Command::new(BINARY)
        .args(["serve", "-c", "palisade.toml"])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("palisade.toml:2:8: invalid value for \"addr\" in [[listener]]"),
        "{stderr}"
    );
}

#[test]
fn demo_serves_the_demo_app_behind_the_gateway() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = Running::start(
        &[
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--admin",
            "127.0.0.1:0",
            "--data-dir",
            "demo-data",
        ],
        dir.path(),
    );
    let (status, body) = get(running.gateway(), "/");
    assert_eq!(status, 200);
    assert!(body.contains("Palisade demo shop"), "{body}");
    assert!(dir.path().join("demo-data").is_dir());
    eventually(&running, "the banner is printed", || {
        running.stdout().contains("curl -i")
    });
    let banner = running.stdout();
    assert!(
        banner.contains(&format!("http://{}/search", running.gateway())),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("http://{}/metrics", running.admin)),
        "{banner}"
    );
}

#[test]
fn demo_blocks_attacks_passes_benign_requests_and_records_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = Running::start(
        &["demo", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"],
        dir.path(),
    );
    let gateway = running.gateway();
    for benign in [
        "/search?q=mug",
        "/search?q=O%27Brien%20select%20a%20union%20plan",
    ] {
        let (status, body) = get(gateway, benign);
        assert_eq!(status, 200, "{benign} must pass: {body}");
    }
    for attack in [
        "/search?q=%27%20OR%201%3D1--",
        "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "/search?q=..%2F..%2F..%2Fetc%2Fpasswd",
    ] {
        let (status, response) = get(gateway, attack);
        assert_eq!(status, 403, "{attack} must be blocked: {response}");
        let request_id = response
            .lines()
            .find_map(|line| line.strip_prefix("x-request-id: "))
            .expect("blocked answers carry the request id")
            .trim()
            .to_owned();
        assert!(
            response.contains(&request_id),
            "the page names the request id"
        );
    }
    // The events land in ./palisade-data, where `palisade events` finds them without flags.
    eventually(&running, "blocked requests are stored as events", || {
        let output = Command::new(BINARY)
            .args([
                "events",
                "search",
                "--action",
                "malicious_request_blocked",
                "--format",
                "json",
            ])
            .current_dir(dir.path())
            .output()
            .expect("palisade events runs");
        output.status.success() && String::from_utf8_lossy(&output.stdout).lines().count() >= 3
    });
}

// ---------------------------------------------------------------- cli surface

#[test]
fn help_explains_commands_and_options() {
    let output = palisade(&["--help"]);
    let help = String::from_utf8_lossy(&output.stdout);
    for command in [
        "serve",
        "demo",
        "config",
        "waf",
        "detect",
        "events",
        "completions",
    ] {
        assert!(help.contains(command), "{help}");
    }
    let output = palisade(&["serve", "--help"]);
    let help = String::from_utf8_lossy(&output.stdout);
    for option in [
        "--config",
        "--upstream",
        "--listen",
        "--admin",
        "--data-dir",
    ] {
        assert!(help.contains(option), "{help}");
    }
    let version = palisade(&["--version"]);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("palisade {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn serve_needs_a_config_or_an_upstream() {
    let output = palisade(&["serve"]);
    assert_eq!(output.status.code(), Some(2), "clap usage error");
    assert!(String::from_utf8_lossy(&output.stderr).contains("--config"));
}

#[test]
fn completions_are_generated() {
    let output = palisade(&["completions", "bash"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("_palisade()"));
}
