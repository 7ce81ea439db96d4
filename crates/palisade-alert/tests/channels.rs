//! Alert channels end to end: mail files in a directory, webhooks (JSON and
//! Slack) to a local receiver with retries, and SMTP with authentication to a
//! real SMTP server on loopback — plain, STARTTLS and implicit TLS with a private
//! CA (Python's aiosmtpd: set `PALISADE_AIOSMTPD_PYTHON` to a Python that has
//! it; otherwise those tests are skipped with a notice, and fail when `CI=true`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_alert::{
    Alerter, AlerterConfig, FileNotifier, MailAddresses, Notifier, SmtpNotifier, SmtpSecurity,
    SmtpSettings, WebhookFormat, WebhookNotifier,
};
use palisade_core::{EventSink, SecurityEvent, Severity};
use palisade_testkit::{SmtpMode, SmtpServer, TestPki};
use serde_json::Value;

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<SecurityEvent>>>);

impl EventSink for Collect {
    fn record(&self, event: SecurityEvent) {
        self.0.lock().expect("collect").push(event);
    }
}

impl Collect {
    fn actions(&self) -> Vec<String> {
        self.0
            .lock()
            .expect("collect")
            .iter()
            .map(|e| e.action.clone())
            .collect()
    }

    fn messages(&self) -> Vec<String> {
        let events = self.0.lock().expect("collect");
        events.iter().map(|e| e.message.clone()).collect()
    }
}

fn finding(ip: &str) -> SecurityEvent {
    let mut event = SecurityEvent::new(
        "anomaly_brute_force_ip",
        "authentication",
        Severity::Medium,
        "25 failed logins from 192.0.2.9 within 10m (limit 20)",
    );
    event.source_ip = Some(ip.parse().expect("ip"));
    let fields = &mut event.fields;
    fields.insert("palisade.finding.subject".into(), format!("ip:{ip}").into());
    fields.insert(
        "palisade.finding.baseline".into(),
        "failed logins, limit 20 per 10m".into(),
    );
    fields.insert("palisade.finding.observed".into(), "25".into());
    fields.insert(
        "palisade.finding.evidence".into(),
        Value::from(vec!["req-1", "req-2"]),
    );
    event
}

fn addresses() -> MailAddresses {
    MailAddresses {
        from: "Palisade <palisade@example.test>".into(),
        to: vec!["secops@example.test".into()],
    }
}

fn fast_config() -> AlerterConfig {
    AlerterConfig {
        backoff: Duration::from_millis(10),
        attempts: 3,
        ..AlerterConfig::default()
    }
}

fn start(notifiers: Vec<Box<dyn Notifier>>, output: &Collect) -> Alerter {
    Alerter::start(
        fast_config(),
        notifiers,
        Arc::new(output.clone()),
        Arc::new(palisade_events::now_ms),
    )
    .expect("start alerter")
}

#[test]
fn file_notifier_writes_one_mail_per_incident() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mail_dir = dir.path().join("mail");
    let notifier = FileNotifier::new(&mail_dir, addresses(), Severity::Low).expect("notifier");
    let output = Collect::default();
    let alerter = start(vec![Box::new(notifier)], &output);
    for _ in 0..3 {
        alerter.observe(&finding("192.0.2.9"));
    }
    alerter.observe(&finding("192.0.2.10"));
    // Not alertable: an ordinary block, and a low-severity event.
    alerter.observe(&SecurityEvent::new(
        "malicious_sqli",
        "web",
        Severity::High,
        "blocked",
    ));
    alerter.flush();
    let mut files: Vec<_> = std::fs::read_dir(&mail_dir)
        .expect("mail dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "one mail per incident: {files:?}");
    let mail = std::fs::read_to_string(&files[0]).expect("read mail");
    assert!(
        mail.contains("Subject: [Palisade] MEDIUM anomaly_brute_force_ip: ip:192.0.2."),
        "{mail}"
    );
    assert!(mail.contains("To: secops@example.test"), "{mail}");
    assert!(
        mail.contains("Baseline: failed logins, limit 20 per 10m"),
        "{mail}"
    );
    assert!(mail.contains("Evidence event ids: req-1, req-2"), "{mail}");
    assert_eq!(output.actions(), ["alert_delivered", "alert_delivered"]);
}

/// A loopback HTTP server recording bodies; the first `fail_first` get a 500.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    requests: Arc<AtomicUsize>,
}

impl Receiver {
    fn start(fail_first: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://{}/hooks/T000/B000/secret",
            listener.local_addr().expect("addr")
        );
        let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
        let requests = Arc::new(AtomicUsize::new(0));
        let (b, r) = (Arc::clone(&bodies), Arc::clone(&requests));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (b, r) = (Arc::clone(&b), Arc::clone(&r));
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                    let mut out = stream;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let mut length = 0;
                        loop {
                            let mut header = String::new();
                            reader.read_line(&mut header).expect("header");
                            let header = header.trim_end();
                            if header.is_empty() {
                                break;
                            }
                            if let Some((name, value)) = header.split_once(':')
                                && name.eq_ignore_ascii_case("content-length")
                            {
                                length = value.trim().parse().expect("length");
                            }
                        }
                        let mut body = vec![0; length];
                        reader.read_exact(&mut body).expect("body");
                        let n = r.fetch_add(1, Ordering::SeqCst);
                        let status = if n < fail_first {
                            "500 Internal Server Error"
                        } else {
                            b.lock()
                                .expect("bodies")
                                .push(serde_json::from_slice(&body).expect("JSON body"));
                            "200 OK"
                        };
                        let reply = format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\n\r\nok");
                        if out.write_all(reply.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Receiver {
            url,
            bodies,
            requests,
        }
    }
}

#[test]
fn webhooks_deliver_json_and_slack_bodies_with_retries() {
    let json = Receiver::start(2);
    let slack = Receiver::start(0);
    let output = Collect::default();
    let alerter = start(
        vec![
            Box::new(
                WebhookNotifier::new(
                    &json.url,
                    WebhookFormat::Json,
                    Severity::Medium,
                    Duration::from_secs(5),
                )
                .expect("webhook"),
            ),
            Box::new(
                WebhookNotifier::new(
                    &slack.url,
                    WebhookFormat::Slack,
                    Severity::High,
                    Duration::from_secs(5),
                )
                .expect("slack"),
            ),
        ],
        &output,
    );
    alerter.observe(&finding("192.0.2.9"));
    let mut high = finding("192.0.2.20");
    high.action = "anomaly_credential_stuffing".into();
    high.severity = Severity::High;
    alerter.observe(&high);
    alerter.flush();
    let bodies = json.bodies.lock().expect("bodies").clone();
    assert_eq!(
        json.requests.load(Ordering::SeqCst),
        4,
        "two 500s retried, then two alerts"
    );
    assert_eq!(bodies.len(), 2);
    assert_eq!(
        bodies[0]["title"],
        "[Palisade] MEDIUM anomaly_brute_force_ip: ip:192.0.2.9"
    );
    assert_eq!(bodies[0]["severity"], "medium");
    assert_eq!(bodies[0]["event"]["source.ip"], "192.0.2.9");
    assert_eq!(bodies[0]["event"]["palisade.finding.observed"], "25");
    let slack_bodies = slack.bodies.lock().expect("bodies").clone();
    assert_eq!(
        slack_bodies.len(),
        1,
        "Slack channel takes high and above only"
    );
    let text = slack_bodies[0]["text"].as_str().expect("text");
    assert!(
        text.starts_with("*[Palisade] HIGH anomaly_credential_stuffing: ip:192.0.2.20*\n"),
        "{text}"
    );
    assert_eq!(
        output.actions(),
        ["alert_delivered", "alert_delivered", "alert_delivered"]
    );
}

#[test]
fn an_unreachable_webhook_is_a_failure_event() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    drop(listener);
    let output = Collect::default();
    let alerter = start(
        vec![Box::new(
            WebhookNotifier::new(
                &url,
                WebhookFormat::Json,
                Severity::Low,
                Duration::from_secs(2),
            )
            .expect("webhook"),
        )],
        &output,
    );
    alerter.observe(&finding("192.0.2.9"));
    alerter.flush();
    let events = output.0.lock().expect("events").clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, "alert_delivery_failed");
    assert!(
        events[0].message.contains("after 3 attempts"),
        "{}",
        events[0].message
    );
}

#[test]
fn smtp_delivers_an_authenticated_mail_to_a_real_server() {
    let Some(server) = SmtpServer::start(SmtpMode::Plain, None) else {
        return;
    };
    let settings = SmtpSettings {
        host: "127.0.0.1".into(),
        port: server.port,
        security: SmtpSecurity::Plain,
        credentials: Some(("palisade".into(), "s3cret".into())),
        timeout: Duration::from_secs(5),
        ca_file: None,
    };
    let output = Collect::default();
    let alerter = start(
        vec![Box::new(
            SmtpNotifier::new(&settings, addresses(), Severity::Medium).expect("smtp"),
        )],
        &output,
    );
    alerter.observe(&finding("192.0.2.9"));
    alerter.flush();
    assert_eq!(output.actions(), ["alert_delivered"]);
    let mail = std::fs::read_to_string(server.dir().join("0.eml")).expect("mail saved");
    assert!(
        mail.starts_with("X-Test-Auth-User: palisade\r\nX-Test-Rcpt: secops@example.test\r\n"),
        "{mail}"
    );
    assert!(
        mail.contains("Subject: [Palisade] MEDIUM anomaly_brute_force_ip: ip:192.0.2.9"),
        "{mail}"
    );

    // Wrong password: the server refuses, the failure is an event.
    let wrong = SmtpSettings {
        credentials: Some(("palisade".into(), "wrong".into())),
        ..settings
    };
    let output = Collect::default();
    let alerter = start(
        vec![Box::new(
            SmtpNotifier::new(&wrong, addresses(), Severity::Medium).expect("smtp"),
        )],
        &output,
    );
    alerter.observe(&finding("192.0.2.9"));
    alerter.flush();
    assert_eq!(output.actions(), ["alert_delivery_failed"]);
}

/// STARTTLS and implicit TLS against a server with a private CA: delivered (encrypted, authenticated)
/// when `ca_file` names that CA, refused as a failed delivery (an event) when it does not.
#[test]
fn smtp_over_starttls_and_implicit_tls_verifies_the_server_certificate() {
    let pki = TestPki::new(30);
    let ca_dir = tempfile::tempdir().expect("temp dir");
    let ca_file = pki.write_to(ca_dir.path()).ca;
    for (mode, security) in [
        (SmtpMode::StartTls, SmtpSecurity::StartTls),
        (SmtpMode::ImplicitTls, SmtpSecurity::ImplicitTls),
    ] {
        let Some(server) = SmtpServer::start(mode, Some(&pki)) else {
            return;
        };
        let settings = SmtpSettings {
            host: "127.0.0.1".into(),
            port: server.port,
            security,
            credentials: Some(("palisade".into(), "s3cret".into())),
            timeout: Duration::from_secs(5),
            ca_file: Some(ca_file.clone()),
        };
        let output = Collect::default();
        let alerter = start(
            vec![Box::new(
                SmtpNotifier::new(&settings, addresses(), Severity::Medium).expect("smtp"),
            )],
            &output,
        );
        alerter.observe(&finding("192.0.2.9"));
        alerter.flush();
        assert_eq!(
            output.actions(),
            ["alert_delivered"],
            "{mode:?}: {:?}",
            output.messages()
        );
        let messages = server.messages();
        assert_eq!(messages.len(), 1, "{mode:?}");
        assert!(
            messages[0].starts_with(
                "X-Test-Auth-User: palisade\r\nX-Test-Rcpt: secops@example.test\r\nX-Test-TLS: yes\r\n"
            ),
            "{mode:?}: {}",
            messages[0]
        );

        // Without the private CA the certificate is not trusted: nothing is sent.
        let untrusted = SmtpSettings {
            ca_file: None,
            ..settings
        };
        let output = Collect::default();
        let alerter = start(
            vec![Box::new(
                SmtpNotifier::new(&untrusted, addresses(), Severity::Medium).expect("smtp"),
            )],
            &output,
        );
        alerter.observe(&finding("192.0.2.9"));
        alerter.flush();
        assert_eq!(output.actions(), ["alert_delivery_failed"], "{mode:?}");
        assert_eq!(server.messages().len(), 1, "{mode:?}");
    }
}
