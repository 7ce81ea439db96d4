//! End-to-end tests of `palisade scan`: the real binary over real sockets against the
//! deliberately vulnerable Flask and Django applications in crates/palisade-scan/testapps,
//! scored against their labels (true vulnerabilities and safe look-alikes).
//!
//! Needs Python with Flask, lxml and Django: `$PALISADE_SCAN_PYTHON`, else
//! `$HOME/.cache/palisade-scan-venv/bin/python`. Without it the tests are skipped with a
//! notice, and fail when `CI=true`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use palisade_scan::ScanReport;
use palisade_scan::score::{Labels, score};

const BINARY: &str = env!("CARGO_BIN_EXE_palisade");
const SECRET_COOKIE: &str = "session=SuperSecretSession123";
const SECRET_BEARER: &str = "tok_ZXhhbXBsZVNlY3JldA";
/// The test app's member password (testapps/flask/app.py), given through the environment.
const MEMBER_PASSWORD: &str = "Tr0ub4dor&3-palisade";

fn app_dir() -> PathBuf {
    testapp_dir("flask")
}

fn testapp_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../palisade-scan/testapps")
        .join(name)
}

/// The test Python, if it imports `modules` (`flask, lxml`).
fn python(modules: &str) -> Option<PathBuf> {
    let candidate = std::env::var_os("PALISADE_SCAN_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/palisade-scan-venv/bin/python"))
        })?;
    let ok = Command::new(&candidate)
        .args(["-c", &format!("import {modules}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(candidate)
}

/// The Flask app on a free port; killed on drop.
struct App {
    child: Child,
    addr: SocketAddr,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_app() -> Option<App> {
    start_app_logging(None)
}

/// The app with its standard output (one `LOGIN <session id>` line per sign-in) in a file.
fn start_app_logging(stdout: Option<&Path>) -> Option<App> {
    start_testapp("flask", "flask, lxml", stdout)
}

/// testapps/`name` (whose app.py needs `modules`) on a free port.
fn start_testapp(name: &str, modules: &str, stdout: Option<&Path>) -> Option<App> {
    let Some(python) = python(modules) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Python with {modules} is missing and CI=true (see .ci/run)"
        );
        eprintln!(
            "NOTICE: skipping the palisade scan end-to-end test: no Python with {modules} \
             (set PALISADE_SCAN_PYTHON or create ~/.cache/palisade-scan-venv)"
        );
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(python)
        .arg("app.py")
        .arg(port.to_string())
        .current_dir(testapp_dir(name))
        .stdout(match stdout {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("app log")),
            None => Stdio::null(),
        })
        .stderr(Stdio::null())
        .spawn()
        .expect("the test app starts");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let app = App { child, addr };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(Instant::now() < deadline, "the test app did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(app)
}

fn scan(args: &[&str]) -> Output {
    Command::new(BINARY)
        .arg("scan")
        .args(args)
        .env("PALISADE_TEST_PASSWORD", MEMBER_PASSWORD)
        .output()
        .expect("palisade runs")
}

/// The session ids the app handed out on sign-in (its `LOGIN <id>` lines).
fn signed_in_sessions(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("LOGIN "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_vulnerable_app_is_scored_with_zero_false_positives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app_log = dir.path().join("app.log");
    let Some(app) = start_app_logging(Some(&app_log)) else {
        return;
    };
    let report_path = dir.path().join("report.json");
    let url = format!("http://{}/", app.addr);
    let bearer = format!("Authorization: Bearer {SECRET_BEARER}");
    let openapi = app_dir().join("openapi.yaml");
    // Signed in through the legacy form, whose session fixation is a labeled case.
    let login_url = format!("{url}auth/weak/login");
    let out = scan(&[
        &url,
        "--openapi",
        openapi.to_str().expect("utf-8 path"),
        "--login-url",
        &login_url,
        "--login-field",
        "user=alice",
        "--login-password",
        "env:PALISADE_TEST_PASSWORD",
        "--login-check",
        "Signed in as alice",
        "--rate",
        "300",
        "--concurrency",
        "8",
        "--format",
        "json",
        "--output",
        report_path.to_str().expect("utf-8 path"),
        "--cookie",
        SECRET_COOKIE,
        "--header",
        &bearer,
        "--fail-on",
        "high",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "high findings exit 1: {stderr}");
    let text = std::fs::read_to_string(&report_path).expect("report written");
    let sessions = signed_in_sessions(&app_log);
    assert!(!sessions.is_empty(), "the scan signed in");
    for secret in ["SuperSecretSession123", SECRET_BEARER, MEMBER_PASSWORD]
        .into_iter()
        .chain(sessions.iter().map(String::as_str))
    {
        assert!(
            !text.contains(secret),
            "a credential leaked into the report"
        );
        assert!(!stderr.contains(secret), "a credential leaked into the log");
    }
    let report: ScanReport = serde_json::from_str(&text).expect("JSON report");
    assert!(
        report.findings.iter().all(|f| !f.url.contains("/private/")),
        "robots.txt disallows /private/"
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| !f.evidence.request.is_empty() && f.cwe > 0 && !f.fix.is_empty()),
        "every finding carries evidence, a CWE and a fix"
    );
    let uploads: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.url.ends_with("/upload/document"))
        .map(|f| f.evidence.request.as_str())
        .collect();
    assert!(
        !uploads.is_empty()
            && uploads
                .iter()
                .all(|r| r.contains("Content-Type: multipart/form-data; boundary=")),
        "the multipart form is probed as multipart: {uploads:?}"
    );
    assert_every_labeled_case_found(
        "flask",
        &report.findings,
        &[
            "sqli",
            "xss",
            "cmdi",
            "traversal",
            "redirect",
            "ssti",
            "xpath",
            "files",
            "cors",
            "xxe",
            "ssrf",
            "session",
            "deser",
            "serialized",
        ],
    );
}

/// The Django app: raw SQL through `connection.cursor()` with string formatting, `mark_safe`
/// and `|safe`, `next` redirects unchecked or checked for a leading slash only, each next to
/// the Django idiom that is safe (query parameters, autoescaping and `format_html`,
/// `url_has_allowed_host_and_scheme`): every vulnerability found, no safe twin reported.
#[test]
fn the_django_app_is_scored_with_zero_false_positives() {
    let Some(app) = start_testapp("django", "django", None) else {
        return;
    };
    let url = format!("http://{}/", app.addr);
    let out = scan(&[
        &url,
        "--rate",
        "300",
        "--concurrency",
        "8",
        "--format",
        "json",
        "--fail-on",
        "never",
        "-q",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: ScanReport = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_every_labeled_case_found("django", &report.findings, &["sqli", "xss", "redirect"]);
}

/// Scores `findings` against the labels of the test app `app`: no false positive, no
/// unlabeled finding, and every vulnerable case of each of `categories` found.
fn assert_every_labeled_case_found(
    app: &str,
    findings: &[palisade_scan::Finding],
    categories: &[&str],
) {
    let labels = Labels::load(&testapp_dir(app).join("labels.toml")).expect("labels");
    let score = score(&labels, findings);
    eprintln!("{}", score.render());
    let total = score.total();
    assert_eq!(total.false_positives, 0, "{}", score.render());
    assert_eq!(total.unlabeled, 0, "{}", score.render());
    for category in categories {
        let counts = score.categories[*category];
        assert!(
            counts.tpr() >= 1.0,
            "{category}: TPR {:.2} < 1\n{}",
            counts.tpr(),
            score.render()
        );
    }
}

#[test]
fn passive_scan_formats_budget_and_usage_errors() {
    let Some(app) = start_app() else { return };
    let url = format!("http://{}/", app.addr);
    let out = scan(&[
        &url,
        "--passive-only",
        "--rate",
        "300",
        "--format",
        "sarif",
        "--fail-on",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "no progress when standard error is not a terminal: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "clickjacking.framing")
    );
    assert!(
        results
            .iter()
            .all(|r| !r["ruleId"].as_str().unwrap_or("").starts_with("sqli")),
        "passive scans send no probes"
    );

    let junit = scan(&[
        &url,
        "--passive-only",
        "--rate",
        "300",
        "--format",
        "junit",
        "-q",
    ]);
    assert_eq!(
        junit.status.code(),
        Some(1),
        "medium clickjacking fails the default threshold"
    );
    assert!(String::from_utf8_lossy(&junit.stdout).contains("<testsuites"));

    let budget = scan(&[
        &url,
        "--rate",
        "300",
        "--max-requests",
        "5",
        "--format",
        "json",
        "-q",
    ]);
    let report: ScanReport = serde_json::from_slice(&budget.stdout).expect("JSON report");
    assert!(report.stopped_early && report.requests <= 5, "{report:?}");

    assert_eq!(scan(&["not a url"]).status.code(), Some(2));
    assert_eq!(scan(&[&url, "--fail-on", "severe"]).status.code(), Some(2));
}

/// The endpoints under /api/v1 are named only by the app's OpenAPI document: without it the
/// scan never reaches them; with it (a file, or the URL the app serves it at) the header
/// parameter of /api/v1/reports is probed and its template injection found, and the safe twin
/// is not reported. A missing document is an input error.
#[test]
fn openapi_operations_are_scanned_only_with_the_document() {
    let Some(app) = start_app() else { return };
    let url = format!("http://{}/", app.addr);
    let ssti = |extra: &[&str]| -> Vec<String> {
        findings_of(&app, "ssti", extra)
            .iter()
            .filter(|f| f.url.contains("/api/v1/"))
            .map(|f| format!("{} {}", f.url, f.parameter.as_deref().unwrap_or("-")))
            .collect()
    };
    assert!(ssti(&[]).is_empty(), "no page links to /api/v1");
    let expected = [format!("http://{}/api/v1/reports X-Report-Name", app.addr)];
    let file = app_dir().join("openapi.yaml");
    assert_eq!(
        ssti(&["--openapi", file.to_str().expect("utf-8")]),
        expected
    );
    let served = format!("{url}openapi.yaml");
    assert_eq!(ssti(&["--openapi", &served]), expected);
    let missing = scan(&[&url, "--openapi", "/nonexistent/openapi.yaml", "-q"]);
    assert_eq!(missing.status.code(), Some(2));
}

/// Progress: with standard error on a terminal (a pseudo-terminal from util-linux `script`)
/// the scan redraws one status line with the phase, checks done of the total, pages, requests
/// and findings, and erases it at the end; with `--quiet` it draws nothing. With standard
/// error on a pipe nothing is drawn either (see the passive test).
#[test]
fn progress_line_on_a_terminal_only() {
    let Some(app) = start_app() else { return };
    if Command::new("script").arg("--version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "util-linux script is missing and CI=true"
        );
        eprintln!("NOTICE: skipping the progress test: no util-linux `script`");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let under_terminal = |extra: &str| -> String {
        let command = format!(
            "{BINARY} scan http://{}/ --only session,redirect --rate 300 --fail-on never --output {} {extra}",
            app.addr,
            dir.path().join("report.txt").display()
        );
        let out = Command::new("script")
            .args(["-q", "-e", "-c", &command, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .expect("script runs");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = under_terminal("");
    let lines: Vec<&str> = shown
        .split("\r\x1b[2K")
        .filter(|l| l.contains(" checks · "))
        .collect();
    for phase in ["crawl [", "site check session [", "parameter checks ["] {
        assert!(
            lines.iter().any(|l| l.starts_with(phase)),
            "{phase:?} never shown: {lines:?}"
        );
    }
    // During the parameter checks: some done of a known total, the crawled pages, the
    // requests and the session check's findings are all counted.
    let counters = regex::Regex::new(
        r"^parameter checks \[[#-]{20}\] ([1-9]\d*)/([1-9]\d*) checks · ([1-9]\d*) pages · ([1-9]\d*) requests · ([1-9]\d*) findings",
    )
    .expect("regex");
    assert!(
        lines.iter().any(|l| counters
            .captures(l)
            .is_some_and(|c| c[1].parse::<u32>().ok() <= c[2].parse::<u32>().ok())),
        "{lines:?}"
    );
    assert!(
        shown.ends_with("\r\x1b[2K"),
        "the line is erased at the end"
    );
    assert!(!under_terminal("--quiet").contains("\x1b[2K"));
}

/// `--state FILE`: a scan interrupted by SIGINT (a real process, in its parameter checks) exits
/// 130 with its state saved; run again with the same file it continues: the checks it had done
/// are restored, not run again (this run's checks plus the restored ones are exactly those of
/// an uninterrupted run), and the findings equal an uninterrupted run's. The state file never
/// holds the scan's cookie, not even where a page echoes it.
#[test]
fn an_interrupted_scan_resumes_without_repeating_checks() {
    let Some(app) = start_app() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/", app.addr);
    let state = dir.path().join("scan.state");
    let args = |output: &str, with_state: bool| -> Vec<String> {
        let mut args: Vec<String> = [
            url.as_str(),
            "--only",
            "sqli,xss,session,redirect",
            "--rate",
            "150",
            "--concurrency",
            "4",
            "--format",
            "json",
            "--fail-on",
            "never",
            "-q",
            "--cookie",
            SECRET_COOKIE,
            "--output",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
        args.push(dir.path().join(output).display().to_string());
        if with_state {
            args.push("--state".into());
            args.push(state.display().to_string());
        }
        args
    };
    let report = |name: &str| -> ScanReport {
        let text = std::fs::read_to_string(dir.path().join(name)).expect("report");
        serde_json::from_str(&text).expect("JSON report")
    };
    let fingerprints = |report: &ScanReport| -> Vec<String> {
        let mut all: Vec<String> = report.findings.iter().map(|f| f.fingerprint()).collect();
        all.sort();
        all
    };

    let full = Command::new(BINARY)
        .arg("scan")
        .args(args("full.json", false))
        .output()
        .expect("palisade runs");
    assert_eq!(full.status.code(), Some(0));
    let full = report("full.json");
    assert!(!full.interrupted && full.checks_resumed == 0, "{full:?}");

    let child = Command::new(BINARY)
        .arg("scan")
        .args(args("part.json", true))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("palisade runs");
    // Wait for the first checkpoint of the parameter checks, then interrupt.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "no parameter checkpoint");
        let saved: Option<palisade_scan::state::ScanState> = std::fs::read_to_string(&state)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        if saved.is_some_and(|s| !s.done.param_checks.is_empty()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let interrupted = child.wait_with_output().expect("the scan ends");
    let stderr = String::from_utf8_lossy(&interrupted.stderr);
    assert_eq!(interrupted.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("run the same command to continue"),
        "{stderr}"
    );
    let part = report("part.json");
    assert!(part.interrupted && part.stopped_early, "{part:?}");
    assert!(
        part.checks_run > 0 && part.checks_run < full.checks_run,
        "interrupted midway: {} of {} checks",
        part.checks_run,
        full.checks_run
    );

    let resumed = Command::new(BINARY)
        .arg("scan")
        .args(args("resumed.json", true))
        .output()
        .expect("palisade runs");
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let resumed = report("resumed.json");
    assert!(!resumed.interrupted, "{resumed:?}");
    assert_eq!(
        resumed.checks_resumed, part.checks_run,
        "every check the interrupted run did is restored"
    );
    assert_eq!(
        resumed.checks_run + resumed.checks_resumed,
        full.checks_run,
        "no check ran twice, none was skipped"
    );
    assert_eq!(fingerprints(&resumed), fingerprints(&full));
    // /whoami echoes the Cookie header into a crawled page: the state file has it redacted.
    let saved = std::fs::read_to_string(&state).expect("state file");
    assert!(saved.contains("/whoami") && saved.contains("[redacted]"));
    assert!(
        !saved.contains("SuperSecretSession123"),
        "a credential in the state file"
    );

    // Another scan refuses the file instead of mixing states.
    let other = scan(&[
        &url,
        "--only",
        "ssti",
        "--state",
        state.to_str().expect("utf-8"),
        "-q",
    ]);
    assert_eq!(other.status.code(), Some(2));
}

/// `--login-url`: the scan signs in through the members' form (its anti-CSRF token kept, the
/// password from the environment), reaches the SQL injection only members see, notices when
/// the app expires its session (every 40 requests) and signs in again, and the safe form's
/// fresh session id on login is not reported as fixation. Neither the password nor any session
/// id the app handed out appears in any report format or on standard error. A wrong password
/// and a password on the command line are input errors that do not print the password.
#[test]
fn scripted_login_signs_in_again_and_keeps_credentials_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app_log = dir.path().join("app.log");
    let Some(app) = start_app_logging(Some(&app_log)) else {
        return;
    };
    let url = format!("http://{}/", app.addr);
    let login_url = format!("{url}auth/login");
    let report_path = dir.path().join("report.json");
    let login = [
        "--login-url",
        login_url.as_str(),
        "--login-field",
        "user=alice",
        "--login-check",
        "Signed in as alice",
    ];
    let mut args = vec![
        url.as_str(),
        "--only",
        "sqli,xss,session",
        "--rate",
        "300",
        "--concurrency",
        "4",
        "--format",
        "json",
        "--fail-on",
        "never",
        "--output",
        report_path.to_str().expect("utf-8"),
        "--login-password",
        "env:PALISADE_TEST_PASSWORD",
    ];
    args.extend_from_slice(&login);
    let out = scan(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: ScanReport =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report"))
            .expect("JSON report");
    let found = |id: &str, path: &str| {
        report
            .findings
            .iter()
            .any(|f| f.id.starts_with(id) && f.url.ends_with(path))
    };
    assert!(found("sqli.", "/auth/search"), "{:?}", report.findings);
    assert!(
        !found("session.fixation", "/auth/login"),
        "a new id on login"
    );
    // The app logged one sign-in for the scan, one for the fixation test, and more for every
    // session it expired under the scan.
    let sessions = signed_in_sessions(&app_log);
    assert!(sessions.len() >= 3, "signed in again: {sessions:?}");
    for format in ["table", "json", "sarif", "junit", "html"] {
        let text = report.render(format.parse().expect("format"));
        for secret in sessions.iter().map(String::as_str).chain([MEMBER_PASSWORD]) {
            assert!(
                !text.contains(secret),
                "a credential in the {format} report"
            );
            assert!(!stderr.contains(secret), "a credential on standard error");
        }
    }
    // Evidence that showed a session cookie shows it redacted (/whoami echoes the Cookie
    // header).
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.url.ends_with("/whoami") && f.evidence.response.contains("[redacted]")),
        "{:?}",
        report
            .findings
            .iter()
            .filter(|f| f.url.ends_with("/whoami"))
            .collect::<Vec<_>>()
    );

    let mut wrong = vec![url.as_str(), "--login-password", "file:/dev/null"];
    wrong.extend_from_slice(&login);
    let refused = scan(&wrong);
    assert_eq!(refused.status.code(), Some(2));
    let mut bad = Command::new(BINARY);
    bad.arg("scan")
        .arg(&url)
        .args(login)
        .args(["--login-password", "env:WRONG_PASSWORD"]);
    let refused = bad
        .env("WRONG_PASSWORD", "not-the-password-42")
        .output()
        .expect("palisade runs");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("login failed") && !stderr.contains("not-the-password-42"),
        "{stderr}"
    );
    let mut plain = vec![url.as_str(), "--login-password", "hunter2-plain"];
    plain.extend_from_slice(&login);
    let refused = scan(&plain);
    assert_eq!(refused.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&refused.stderr).contains("hunter2-plain"));
}

/// A free TCP port on all interfaces.
fn free_port() -> u16 {
    TcpListener::bind("0.0.0.0:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The findings of a scan of `app` limited to `check`, with `extra` arguments.
fn findings_of(app: &App, check: &str, extra: &[&str]) -> Vec<palisade_scan::Finding> {
    let url = format!("http://{}/", app.addr);
    let mut args = vec![
        url.as_str(),
        "--only",
        check,
        "--rate",
        "300",
        "--format",
        "json",
        "--fail-on",
        "never",
        "-q",
    ];
    args.extend_from_slice(extra);
    let out = scan(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: ScanReport = serde_json::from_slice(&out.stdout).expect("JSON report");
    report.findings
}

/// `--callback-addr` hands the application another address than the one the receiver listens
/// on: the fetcher calls `localhost:PORT` (resolved by the application, not the scanner), and
/// then a non-loopback address of this machine with the receiver on every interface, as a
/// remote application would. The allowlisted fetcher stays unreported.
#[test]
fn ssrf_callbacks_reach_the_advertised_address() {
    let Some(app) = start_app() else { return };
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let advertised = format!("localhost:{port}");
    let findings = findings_of(
        &app,
        "ssrf",
        &["--callback-listen", &listen, "--callback-addr", &advertised],
    );
    let paths: Vec<&str> = findings.iter().map(|f| f.url.as_str()).collect();
    assert_eq!(
        paths,
        [format!("http://{}/ssrf/fetch", app.addr)],
        "{findings:?}"
    );
    assert!(
        findings[0]
            .evidence
            .request
            .contains(&format!("localhost%3A{port}")),
        "the URL handed out names the advertised address: {}",
        findings[0].evidence.request
    );
    // A non-loopback address of this machine (the interface of the default route), if any.
    let interface = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|socket| {
            socket.connect("192.0.2.1:9")?;
            socket.local_addr()
        })
        .ok()
        .map(|addr| addr.ip())
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified());
    let Some(ip) = interface else {
        eprintln!("NOTICE: no non-loopback interface: the remote-address half is skipped");
        return;
    };
    let port = free_port();
    let advertised = format!("{ip}:{port}");
    let findings = findings_of(&app, "ssrf", &["--callback-addr", &advertised]);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0].evidence.detail.contains("receiver got")
            && findings[0]
                .evidence
                .request
                .contains(&format!("{ip}%3A{port}")),
        "{:?}",
        findings[0].evidence
    );
    let refused = scan(&[
        &format!("http://{}/", app.addr),
        "--callback-listen",
        "0.0.0.0:0",
    ]);
    assert_eq!(refused.status.code(), Some(2), "nothing to advertise");
}

/// `palisade scan --tls` audits Palisade's own TLS listener (rcgen certificate, private CA): the
/// gateway's secure defaults (TLS 1.2+, AEAD suites with forward secrecy) leave nothing at or above
/// medium, TLS 1.3 and the trusted chain are in the report, and a closed port is an input error.
#[test]
fn tls_audit_of_the_gateway_finds_nothing_medium_or_worse() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = palisade_testkit::TestPki::new(90);
    let files = pki.write_to(dir.path());
    // The application behind the gateway: answers every request with 200.
    let upstream = TcpListener::bind("127.0.0.1:0").expect("bind");
    let upstream_addr = upstream.local_addr().expect("addr");
    std::thread::spawn(move || {
        for mut stream in upstream.incoming().map_while(Result::ok) {
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = std::io::Read::read(&mut stream, &mut buf) {
                    if n == 0
                        || std::io::Write::write_all(
                            &mut stream,
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                        )
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
    });
    let config = dir.path().join("palisade.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n\n[[listener]]\naddr = \"127.0.0.1:0\"\ntls = true\n\n[admin]\nenabled = false\n\n\
             [[upstream]]\nname = \"app\"\nservers = [\"http://{}\"]\n\n\
             [[site]]\nhosts = [\"*\"]\n\n[site.tls]\ncert = \"{}\"\nkey = \"{}\"\n\n\
             [[site.route]]\nupstream = \"app\"\n\n[log]\nlevel = \"warn\"\n",
            upstream_addr,
            files.cert.display(),
            files.key.display()
        ),
    )
    .expect("write config");
    let gateway = palisade_testkit::ServeProcess::start(BINARY, &config, dir.path());
    let target = gateway.gateway.to_string();
    let output = scan(&[
        "--tls",
        &target,
        "--tls-ca",
        files.ca.to_str().expect("utf-8"),
        "--format",
        "json",
        "--fail-on",
        "medium",
        "--quiet",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let report: ScanReport = serde_json::from_slice(&output.stdout).expect("JSON report");
    assert_eq!(report.target, format!("tls://{target}"));
    assert!(
        report
            .findings
            .iter()
            .all(|finding| finding.id.starts_with("tls.") && finding.url == report.target),
        "{:?}",
        report.findings
    );
    // Nothing about protocols or the chain: TLS 1.0/1.1 are refused and the chain is trusted.
    for bad in ["tls.protocol", "tls.cert", "tls.cipher"] {
        assert!(
            !report
                .findings
                .iter()
                .any(|finding| finding.id.starts_with(bad)
                    && finding.severity >= palisade_scan::Severity::Medium),
            "{bad}: {:?}",
            report.findings
        );
    }
    // Without the private CA the chain is not trusted: a finding at or above medium, exit 1.
    let untrusted = scan(&[
        "--tls",
        &target,
        "--format",
        "json",
        "--fail-on",
        "medium",
        "--quiet",
    ]);
    assert_eq!(
        untrusted.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&untrusted.stdout)
    );
    drop(gateway);
    // A port nobody listens on: usage/input error.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_addr = closed.local_addr().expect("addr").to_string();
    drop(closed);
    let refused = scan(&["--tls", &closed_addr, "--quiet"]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(scan(&[]).status.code(), Some(2), "neither a URL nor --tls");
}
