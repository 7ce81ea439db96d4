//! The metrics the gateway reports through the `metrics` facade, read back from a Prometheus recorder
//! installed for this test's thread: requests by route/status/verdict, the duration histogram,
//! upstream errors by kind and open connections; configuration reloads are not counted here (the
//! caller owns that).

mod common;

use std::time::Duration;

use common::*;
use metrics_exporter_prometheus::PrometheusBuilder;

/// The value of the first sample line of `name` whose labels include every `labels` pair.
fn sample(rendered: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    rendered
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|line| {
            labels
                .iter()
                .all(|(key, value)| line.contains(&format!("{key}=\"{value}\"")))
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[test]
fn requests_errors_and_connections_are_counted_and_reloads_are_not() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let up = upstream("a").await;
            // A second upstream whose server is down, routed under /down.
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let down_addr = closed.local_addr().unwrap();
            drop(closed);
            let text = simple_config(
                up.addr,
                &format!(
                    "[[site.route]]\nname = \"down\"\npath = \"/down\"\nupstream = \"gone\"\n\n\
                     [[upstream]]\nname = \"gone\"\nservers = [\"http://{down_addr}\"]\n\
                     connect_timeout = \"1s\"\n"
                ),
            );
            let (gw, _) = start(&text).await;
            let addr = gw.local_addrs()[0];
            let wait = Duration::from_millis(300);
            for _ in 0..2 {
                let answer = raw(
                    addr,
                    b"GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                    wait,
                )
                .await;
                assert_eq!(raw_status(&answer), Some(200));
            }
            let answer = raw(
                addr,
                b"GET /down/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                wait,
            )
            .await;
            assert_eq!(raw_status(&answer), Some(502));
            let answer = raw(addr, b"GET / HTTP/1.x\r\nHost: a\r\n\r\n", wait).await;
            assert_eq!(raw_status(&answer), Some(400));
            // While a connection is open the gauge shows it.
            let open = tokio::net::TcpStream::connect(addr).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            let rendered = handle.render();
            assert_eq!(
                sample(&rendered, "palisade_open_connections", &[]),
                Some(1.0),
                "{rendered}"
            );
            drop(open);

            assert!(gw.reload(config(&text), Vec::new()).is_ok());
            let moved = text.replace("addr = \"127.0.0.1:0\"", "addr = \"127.0.0.2:0\"");
            assert!(gw.reload(config(&moved), Vec::new()).is_err());
            gw.shutdown().await;
        });
    });
    let rendered = handle.render();
    let count = |name: &str, labels: &[(&str, &str)]| sample(&rendered, name, labels);
    assert_eq!(
        count(
            "palisade_requests_total",
            &[("route", "*/"), ("status", "200"), ("verdict", "allow")]
        ),
        Some(2.0),
        "{rendered}"
    );
    assert_eq!(
        count(
            "palisade_requests_total",
            &[("route", "down"), ("status", "502"), ("verdict", "error")]
        ),
        Some(1.0),
        "{rendered}"
    );
    assert_eq!(
        count(
            "palisade_requests_total",
            &[("route", "-"), ("status", "400"), ("verdict", "error")]
        ),
        Some(1.0),
        "{rendered}"
    );
    assert_eq!(
        count(
            "palisade_upstream_errors_total",
            &[("upstream", "gone"), ("kind", "connect")]
        ),
        Some(1.0),
        "{rendered}"
    );
    assert_eq!(
        count(
            "palisade_request_duration_seconds_count",
            &[("route", "down")]
        ),
        Some(1.0),
        "{rendered}"
    );
    // Every route's series for allowed 200 answers exists from the start (registered handles).
    assert_eq!(
        count(
            "palisade_requests_total",
            &[("route", "down"), ("status", "200"), ("verdict", "allow")]
        ),
        Some(0.0),
        "{rendered}"
    );
    // Reloads are counted once, by the caller (the binary), not by the gateway.
    assert!(
        !rendered.contains("palisade_config_reloads_total"),
        "{rendered}"
    );
    assert_eq!(
        count("palisade_open_connections", &[]),
        Some(0.0),
        "{rendered}"
    );
}
