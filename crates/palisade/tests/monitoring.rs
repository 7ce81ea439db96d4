//! End to end through the real gateway: a scanner burst (404s on many paths)
//! becomes an `anomaly_scanner_burst` finding in the event store, an alert
//! mail in `data_dir/mail`, and a ban that refuses the scanner's next request;
//! a burst of failed logins becomes a lockout event, an alert mail delivered
//! over STARTTLS to a real SMTP server (aiosmtpd), and a ban; a success after failed
//! logins is an `authn_login_successafterfail` event and a `login_after_failures` finding.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use palisade_events::{EventFilter, EventReader};
use palisade_testkit::ServeProcess as Running;

const BINARY: &str = env!("CARGO_BIN_EXE_palisade");
const WAIT: Duration = Duration::from_secs(30);

fn get(addr: SocketAddr, path: &str) -> u16 {
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
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn eventually(running: &Running, what: &str, condition: impl FnMut() -> bool) {
    running.wait_until(what, WAIT, condition);
}

#[test]
fn a_scanner_burst_is_found_alerted_and_banned() {
    let (runtime, app) = common::demo_upstream();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let config = dir.path().join("palisade.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n\n[[listener]]\naddr = \"127.0.0.1:0\"\n\n[admin]\nenabled = false\n\n\
             [[upstream]]\nname = \"app\"\nservers = [\"http://{}\"]\n\n\
             [[site]]\nhosts = [\"*\"]\n\n[[site.route]]\nname = \"app\"\npath = \"/\"\nupstream = \"app\"\n\n\
             [log]\nformat = \"json\"\nlevel = \"warn\"\n",
            app.addr
        ),
    )
    .expect("write config");
    let running = Running::start(BINARY, &config, dir.path());
    assert_eq!(get(running.gateway, "/"), 200, "not banned yet");
    for i in 0..25 {
        let status = get(running.gateway, &format!("/no-such-page-{i}"));
        assert!(matches!(status, 404 | 403), "scan request {i}: {status}");
    }
    // The monitor bans asynchronously; the scanner's next request is refused.
    eventually(&running, "the scanner is banned", || {
        get(running.gateway, "/") == 403
    });
    eventually(&running, "the finding is in the event store", || {
        EventReader::open_in(&data)
            .and_then(|reader| {
                reader.search(&EventFilter {
                    action: Some("anomaly_scanner_burst".into()),
                    ..EventFilter::default()
                })
            })
            .is_ok_and(|found| found.len() == 1)
    });
    let reader = EventReader::open_in(&data).expect("reader");
    let finding = &reader
        .search(&EventFilter {
            action: Some("anomaly_scanner_burst".into()),
            ..EventFilter::default()
        })
        .expect("search")[0]
        .event;
    assert_eq!(finding.source_ip, Some("127.0.0.1".parse().expect("ip")));
    assert_eq!(finding.fields["palisade.finding.observed"], "20");
    assert_eq!(finding.fields["palisade.response"], "ban");
    assert_eq!(
        finding.fields["palisade.finding.evidence"]
            .as_array()
            .map(Vec::len),
        Some(20)
    );
    eventually(&running, "the ban is an event", || {
        reader
            .search(&EventFilter {
                action: Some("response_ip_banned".into()),
                ..EventFilter::default()
            })
            .is_ok_and(|found| found.len() == 1)
    });
    eventually(&running, "an alert mail is written", || {
        std::fs::read_dir(data.join("mail")).is_ok_and(|entries| {
            entries.flatten().any(|entry| {
                std::fs::read_to_string(entry.path()).is_ok_and(|mail| {
                    mail.contains("Subject: [Palisade] MEDIUM anomaly_scanner_burst: ip:127.0.0.1")
                })
            })
        })
    });
    runtime.block_on(app.shutdown());
}

const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0";

fn post_login(addr: SocketAddr, user: &str, password: &str) -> u16 {
    let body = format!("username={user}&password={password}");
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         User-Agent: {USER_AGENT}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn events(data: &Path, action: &str) -> Vec<palisade_core::SecurityEvent> {
    EventReader::open_in(data)
        .and_then(|reader| {
            reader.search(&EventFilter {
                action: Some(action.into()),
                ..EventFilter::default()
            })
        })
        .map_or_else(
            |_| Vec::new(),
            |found| found.into_iter().map(|stored| stored.event).collect(),
        )
}

fn count_events(data: &Path, action: &str) -> usize {
    events(data, action).len()
}

#[test]
fn a_burst_of_failed_logins_is_locked_alerted_by_mail_and_banned() {
    let pki = palisade_testkit::TestPki::new(30);
    let Some(smtp) =
        palisade_testkit::SmtpServer::start(palisade_testkit::SmtpMode::StartTls, Some(&pki))
    else {
        return;
    };
    let (runtime, app) = common::demo_upstream();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let ca = pki.write_to(dir.path()).ca;
    let password = dir.path().join("smtp-password");
    std::fs::write(&password, "s3cret\n").expect("write password");
    let config = dir.path().join("palisade.toml");
    std::fs::write(
        &config,
        format!(
            r#"data_dir = "data"

[[listener]]
addr = "127.0.0.1:0"

[admin]
enabled = false

[[upstream]]
name = "app"
servers = ["http://{app}"]

[[site]]
hosts = ["*"]

[[site.route]]
name = "app"
path = "/"
upstream = "app"

[[site.access.login]]
path = "/login"
username = "form:username"
max_failures = 5
window = "10m"
lock = "15m"

[monitor.responses]
brute_force_account = "ban"

[alert]
min_severity = "medium"
mail_files = false
from = "Palisade <palisade@example.test>"
to = ["secops@example.test"]

[alert.smtp]
host = "127.0.0.1"
port = {port}
security = "starttls"
username = "palisade"
password = "file:{password}"
ca_file = "{ca}"

[log]
format = "json"
level = "warn"
"#,
            app = app.addr,
            port = smtp.port,
            ca = ca.display(),
            password = password.display(),
        ),
    )
    .expect("write config");
    let running = Running::start(BINARY, &config, dir.path());
    assert_eq!(get(running.gateway, "/"), 200, "not banned yet");
    for attempt in 0..5 {
        assert_eq!(
            post_login(running.gateway, "alice", "wrong"),
            401,
            "failed login {attempt} reaches the application"
        );
    }
    // The account is locked: the next attempt never reaches the application.
    let locked = post_login(running.gateway, "alice", "wrong");
    assert!(matches!(locked, 429 | 403), "locked attempt: {locked}");
    eventually(&running, "the lockout is an event", || {
        count_events(&data, "authn_login_fail_max") == 1
    });
    eventually(&running, "the finding is an event", || {
        count_events(&data, "anomaly_brute_force_account") == 1
    });
    // The monitor's ban refuses every later request from that address.
    eventually(&running, "the client is banned", || {
        get(running.gateway, "/") == 403
    });
    eventually(&running, "the ban is an event", || {
        count_events(&data, "response_ip_banned") == 1
    });
    eventually(&running, "an alert mail reaches the SMTP server", || {
        smtp.messages()
            .iter()
            .any(|mail| mail.contains("Subject: [Palisade] MEDIUM anomaly_brute_force_account"))
    });
    let mail = smtp
        .messages()
        .into_iter()
        .find(|mail| mail.contains("anomaly_brute_force_account"))
        .expect("mail");
    assert!(
        mail.starts_with(
            "X-Test-Auth-User: palisade\r\nX-Test-Rcpt: secops@example.test\r\nX-Test-TLS: yes\r\n"
        ),
        "{mail}"
    );
    assert!(
        !mail.contains("s3cret"),
        "the SMTP password leaked into the mail"
    );
    eventually(&running, "the delivery is an event", || {
        count_events(&data, "alert_delivered") >= 1
    });
    drop(running);
    runtime.block_on(app.shutdown());
}

#[test]
fn a_login_success_after_failures_is_an_event_and_a_finding() {
    let (runtime, app) = common::demo_upstream();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let config = dir.path().join("palisade.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n\n[[listener]]\naddr = \"127.0.0.1:0\"\n\n[admin]\nenabled = false\n\n\
             [[upstream]]\nname = \"app\"\nservers = [\"http://{}\"]\n\n\
             [[site]]\nhosts = [\"*\"]\n\n[[site.route]]\nname = \"app\"\npath = \"/\"\nupstream = \"app\"\n\n\
             [[site.access.login]]\npath = \"/login\"\nusername = \"form:username\"\nmax_failures = 10\n\n\
             [alert]\nmail_files = false\n\n[log]\nformat = \"json\"\nlevel = \"warn\"\n",
            app.addr
        ),
    )
    .expect("write config");
    let running = Running::start(BINARY, &config, dir.path());
    for attempt in 0..5 {
        assert_eq!(
            post_login(running.gateway, "%20DEMO", "wrong"),
            401,
            "failed login {attempt}"
        );
    }
    // The demo app answers a good login with a redirect to /account.
    let status = post_login(running.gateway, "demo", "demo");
    assert!(matches!(status, 302 | 303), "good login: {status}");
    eventually(&running, "the success is an event", || {
        count_events(&data, "authn_login_successafterfail") == 1
    });
    let success = &events(&data, "authn_login_successafterfail")[0];
    let failure = &events(&data, "authn_login_fail")[0];
    assert_eq!(success.outcome, palisade_core::EventOutcome::Success);
    assert_eq!(success.category, "authentication");
    assert_eq!(success.source_ip, Some("127.0.0.1".parse().expect("ip")));
    assert_eq!(success.route.as_deref(), Some("app"));
    assert_eq!(success.rule_ids, ["access-login"]);
    assert_eq!(success.fields["user.name"], "demo", "normalised");
    assert_eq!(success.fields["user_agent.original"], USER_AGENT);
    assert_eq!(success.fields["palisade.login.failures"], 5);
    // The same shape as the failures it follows.
    for key in [
        "user.name",
        "user_agent.original",
        "url.path",
        "http.request.method",
        "palisade.site",
    ] {
        assert_eq!(success.fields[key], failure.fields[key], "{key}");
    }
    assert_eq!(failure.outcome, palisade_core::EventOutcome::Failure);
    eventually(
        &running,
        "the monitor finds the success after failures",
        || count_events(&data, "anomaly_login_after_failures") == 1,
    );
    let finding = &events(&data, "anomaly_login_after_failures")[0];
    assert_eq!(finding.fields["user.name"], "demo");
    assert_eq!(finding.fields["palisade.finding.observed"], "5");
    // The success cleared the account's failures: the next login is a plain success.
    let status = post_login(running.gateway, "demo", "demo");
    assert!(matches!(status, 302 | 303), "good login: {status}");
    eventually(&running, "a plain success is an event", || {
        count_events(&data, "authn_login_success") == 1
    });
    assert!(
        !events(&data, "authn_login_success")[0]
            .fields
            .contains_key("palisade.login.failures")
    );
    drop(running);
    runtime.block_on(app.shutdown());
}
