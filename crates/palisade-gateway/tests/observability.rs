//! The access log: one `palisade::access` event per exchange with ECS-style fields.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::*;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::SubscriberExt;

type Fields = BTreeMap<String, String>;

#[derive(Clone, Default)]
struct AccessCapture(Arc<Mutex<Vec<Fields>>>);

struct FieldVisitor<'a>(&'a mut Fields);

impl Visit for FieldVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for AccessCapture {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if event.metadata().target() == "palisade::access" {
            let mut fields = Fields::new();
            event.record(&mut FieldVisitor(&mut fields));
            self.0.lock().unwrap().push(fields);
        }
    }
}

#[tokio::test]
async fn every_exchange_writes_one_access_event_with_ecs_fields() {
    let capture = AccessCapture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let up = upstream("a").await;
    let (gw, _) = start(&simple_config(up.addr, "")).await;
    let addr = gw.local_addrs()[0];
    let client = client();
    let ok = get(&client, &format!("http://{addr}/hello?x=1")).await;
    let missing = raw(
        addr,
        b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
        std::time::Duration::from_millis(300),
    )
    .await;
    assert_eq!(raw_status(&missing), Some(400));
    gw.shutdown().await;
    let events = capture.0.lock().unwrap().clone();
    assert_eq!(events.len(), 2, "{events:?}");
    let first = &events[0];
    assert_eq!(first["client.ip"], "127.0.0.1");
    assert_eq!(first["http.request.method"], "GET");
    assert_eq!(first["url.path"], "/hello");
    assert_eq!(first["http.response.status_code"], "200");
    assert_eq!(first["request.id"], ok.header("x-request-id").unwrap());
    assert_eq!(first["route"], "*/");
    assert_eq!(first["verdict"], "allow");
    assert!(first["event.duration"].parse::<u64>().unwrap() > 0);
    assert_eq!(events[1]["http.response.status_code"], "400");
    assert_eq!(events[1]["route"], "-");
}

/// The `x-request-id` header of a raw HTTP/1 answer.
fn raw_request_id(answer: &str) -> String {
    answer
        .lines()
        .find_map(|line| line.strip_prefix("x-request-id: "))
        .unwrap_or_else(|| panic!("no x-request-id in {answer}"))
        .trim()
        .to_owned()
}

#[tokio::test]
async fn heads_refused_by_the_guard_get_an_access_line_and_a_security_event() {
    let capture = AccessCapture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let up = upstream("a").await;
    let (gw, sink) = start(&simple_config(up.addr, "[limits]\nmax_headers = 3\n")).await;
    let addr = gw.local_addrs()[0];
    let wait = std::time::Duration::from_millis(300);
    let bad_version = raw(addr, b"GET /v1/x?q=1 HTTP/9.9\r\nHost: a\r\n\r\n", wait).await;
    assert_eq!(raw_status(&bad_version), Some(505), "{bad_version}");
    let too_many = raw(
        addr,
        b"POST /form HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
        wait,
    )
    .await;
    assert_eq!(raw_status(&too_many), Some(431), "{too_many}");
    gw.shutdown().await;
    assert_eq!(up.hits.load(std::sync::atomic::Ordering::SeqCst), 0);

    let lines = capture.0.lock().unwrap().clone();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let events = sink.events.lock().unwrap().clone();
    assert_eq!(events.len(), 2, "{events:?}");
    let expected = [
        (&bad_version, "GET", "/v1/x", "505"),
        (&too_many, "POST", "/form", "431"),
    ];
    for ((answer, method, path, status), (line, event)) in
        expected.iter().zip(lines.iter().zip(&events))
    {
        let id = raw_request_id(answer);
        assert_eq!(line["request.id"], id);
        assert_eq!(line["http.request.method"], *method);
        assert_eq!(line["url.path"], *path);
        assert_eq!(line["http.response.status_code"], *status);
        assert_eq!(line["client.ip"], "127.0.0.1");
        assert_eq!(line["route"], "-");
        assert_eq!(line["verdict"], "error");
        assert!(line["http.response.body.bytes"].parse::<u64>().unwrap() > 0);
        assert_eq!(event.action, "input_validation_fail");
        assert_eq!(event.request_id.as_deref(), Some(id.as_str()));
        assert_eq!(event.source_ip, Some([127, 0, 0, 1].into()));
        assert_eq!(event.fields["url.path"], *path);
        assert_eq!(
            event.fields["http.response.status_code"].to_string(),
            *status
        );
    }
}
