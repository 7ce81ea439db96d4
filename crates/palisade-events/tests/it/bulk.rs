//! HTTP bulk sink against a local `_bulk` receiver that checks the NDJSON and
//! answers like Elasticsearch (or fails on demand).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_core::EventSink;
use palisade_events::{BatchSink, BulkSink, BulkSinkConfig, EventPipeline, PipelineConfig};
use serde_json::Value;

use crate::support::{corpus, doc, numbered};

/// One received `_bulk` request.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    content_type: String,
    authorization: Option<String>,
    body: String,
}

/// A loopback HTTP/1.1 server answering `_bulk`; the first `fail_first`
/// requests get a 503.
#[derive(Clone)]
struct BulkReceiver {
    addr: std::net::SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicUsize>,
}

impl BulkReceiver {
    fn start(fail_first: usize) -> BulkReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let receiver = BulkReceiver {
            addr: listener.local_addr().expect("addr"),
            received: Arc::default(),
            fail_first: Arc::new(AtomicUsize::new(fail_first)),
        };
        let shared = receiver.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || shared.serve(stream));
            }
        });
        receiver
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn serve(&self, stream: TcpStream) {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut out = stream;
        loop {
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                return;
            }
            let path = request_line.split(' ').nth(1).unwrap_or("").to_owned();
            let (mut length, mut content_type, mut authorization) = (0, String::new(), None);
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("header");
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').expect("header colon");
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().expect("length"),
                    "content-type" => content_type = value.trim().to_owned(),
                    "authorization" => authorization = Some(value.trim().to_owned()),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("body");
            let body = String::from_utf8(body).expect("UTF-8 body");
            let failing = self
                .fail_first
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            let (status, answer) = if failing {
                (
                    "503 Service Unavailable",
                    "{\"error\":\"unavailable\"}".to_owned(),
                )
            } else {
                let items = body.lines().count() / 2;
                self.received.lock().expect("received").push(Received {
                    path,
                    content_type,
                    authorization,
                    body,
                });
                let item = "{\"create\":{\"status\":201}}";
                (
                    "200 OK",
                    format!(
                        "{{\"took\":1,\"errors\":false,\"items\":[{}]}}",
                        vec![item; items].join(",")
                    ),
                )
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                answer.len()
            );
            if out.write_all(response.as_bytes()).is_err() {
                return;
            }
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("received").clone()
    }
}

/// Splits a `_bulk` body into (action, document) pairs, asserting the NDJSON shape.
fn pairs(body: &str) -> Vec<(Value, Value)> {
    assert!(body.ends_with('\n'), "NDJSON ends with a newline");
    let lines: Vec<Value> = body
        .lines()
        .map(|line| serde_json::from_str(line).expect("every line is one JSON value"))
        .collect();
    assert_eq!(lines.len() % 2, 0, "action and document lines alternate");
    lines
        .chunks(2)
        .map(|pair| (pair[0].clone(), pair[1].clone()))
        .collect()
}

fn fast_config(url: String) -> BulkSinkConfig {
    let mut config = BulkSinkConfig::new(url);
    config.index = "security-events".into();
    config.authorization = Some("ApiKey c2VjcmV0".into());
    config.backoff = Duration::from_millis(10);
    config.timeout = Duration::from_secs(5);
    config
}

#[test]
fn bulk_sink_posts_action_and_ecs_document_lines() {
    let receiver = BulkReceiver::start(0);
    let mut sink = BulkSink::new(fast_config(receiver.url())).expect("sink");
    let events = corpus();
    sink.write_batch(&events).expect("write");
    let received = receiver.received();
    assert_eq!(received.len(), 1, "one request per batch");
    let request = &received[0];
    assert_eq!(request.path, "/_bulk");
    assert_eq!(request.content_type, "application/x-ndjson");
    assert_eq!(request.authorization.as_deref(), Some("ApiKey c2VjcmV0"));
    let lines = pairs(&request.body);
    assert_eq!(lines.len(), events.len());
    let mut ids = Vec::new();
    for ((action, document), event) in lines.iter().zip(&events) {
        assert_eq!(action["create"]["_index"], "security-events");
        let id = action["create"]["_id"].as_str().expect("_id").to_owned();
        assert_eq!(id.len(), 32);
        ids.push(id);
        assert_eq!(document, &doc(event));
    }
    // Same event, same id: redelivery cannot duplicate a document.
    sink.write_batch(&events[..1]).expect("write again");
    let again = pairs(&receiver.received()[1].body);
    assert_eq!(again[0].0["create"]["_id"], ids[0].as_str());
}

#[test]
fn bulk_sink_retries_a_busy_cluster_then_delivers() {
    let receiver = BulkReceiver::start(2);
    let mut sink = BulkSink::new(fast_config(receiver.url())).expect("sink");
    sink.write_batch(&[numbered(1)])
        .expect("third attempt succeeds");
    assert_eq!(receiver.received().len(), 1);
}

#[test]
fn bulk_sink_down_spools_and_the_pipeline_delivers_later() {
    // Six 503s: the first batch fails its three in-sink attempts and is spooled,
    // the first replay fails too; then the cluster is back.
    let receiver = BulkReceiver::start(6);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = PipelineConfig::new(dir.path());
    config.retry_interval = Duration::from_millis(50);
    config.flush_interval = Duration::from_millis(20);
    let sink = BulkSink::new(fast_config(receiver.url())).expect("sink");
    let pipeline = EventPipeline::start(config, vec![Box::new(sink)]).expect("start");
    for i in 0..50 {
        pipeline.record(numbered(i));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match pipeline.flush() {
            Ok(()) => break,
            Err(error) if error.is_sink_backlog() && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(error) => panic!("bulk sink never recovered: {error}"),
        }
    }
    assert!(
        pipeline.stats().spilled_sink >= 50,
        "{:?}",
        pipeline.stats()
    );
    let mut seqs: Vec<u64> = receiver
        .received()
        .iter()
        .flat_map(|r| pairs(&r.body))
        .filter_map(|(_, d)| d["palisade.seq"].as_u64())
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs, (0..50).collect::<Vec<u64>>());
    assert_eq!(pipeline.dropped_total(), 0);
}

#[test]
fn unreachable_cluster_is_an_error_after_the_attempts() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let mut sink = BulkSink::new(fast_config(url)).expect("sink");
    let error = sink
        .write_batch(&[numbered(1)])
        .expect_err("nothing listens");
    assert!(
        !format!("{error:?}").contains("c2VjcmV0"),
        "authorization leaked"
    );
}
