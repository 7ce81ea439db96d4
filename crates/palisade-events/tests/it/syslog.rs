//! Syslog sink: exact RFC 5424 text, escaping, UDP datagrams and TCP framing.

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

use palisade_events::BatchSink;
use palisade_events::syslog::{SyslogHeader, SyslogSink, SyslogTransport, format_rfc5424};

use crate::support::corpus;

fn header() -> SyslogHeader {
    SyslogHeader {
        facility: 4,
        hostname: "gw-1".into(),
        app_name: "palisade".into(),
        proc_id: "42".into(),
    }
}

#[test]
fn messages_follow_rfc5424() {
    let events = corpus();
    assert_eq!(
        format_rfc5424(&events[0], &header()),
        r#"<35>1 1970-01-01T00:00:01.000Z gw-1 palisade 42 malicious_sqli [palisade@32473 action="malicious_sqli" category="web" outcome="failure" severity="high" source_ip="10.0.0.1" route="api" request_id="req-1" rule_ids="942100,949110" url_path="/login" user="alice"] sqli-1"#
    );
    assert_eq!(
        format_rfc5424(&events[4], &header()),
        r#"<38>1 1970-01-01T00:00:05.000Z gw-1 palisade 42 sys_config_changed [palisade@32473 action="sys_config_changed" category="configuration" outcome="success" severity="info"] reload"#
    );
}

#[test]
fn hostile_fields_stay_inside_one_message_and_one_parameter() {
    let mut event = corpus().remove(0);
    event.message = "ok\n<34>1 forged entry".into();
    event.action = "act ion\u{7}".into();
    event.route = Some(r#"a"] [x@1 y="z\"#.into());
    let hostile_header = SyslogHeader {
        hostname: "bad host\n".into(),
        ..header()
    };
    let text = format_rfc5424(&event, &hostile_header);
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert!(
        text.contains(r#" - palisade 42 - [palisade@32473 "#),
        "invalid header fields become NILVALUE: {text}"
    );
    assert!(text.contains(r#"route="a\"\] [x@1 y=\"z\\\\""#), "{text}");
    assert!(text.ends_with(r"] ok\n<34>1 forged entry"), "{text}");
}

#[test]
fn udp_sends_one_datagram_per_event() {
    let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind");
    receiver
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let target = receiver.local_addr().expect("addr");
    let mut sink = SyslogSink::new(target, SyslogTransport::Udp, header()).expect("sink");
    let mut events = corpus();
    events[1].message = "x".repeat(5000);
    sink.write_batch(&events[..2]).expect("send");
    let mut buffer = [0u8; 65536];
    let first = receiver.recv(&mut buffer).expect("first datagram");
    assert_eq!(
        &buffer[..first],
        format_rfc5424(&events[0], &header()).as_bytes()
    );
    let second = receiver.recv(&mut buffer).expect("second datagram");
    assert_eq!(
        second,
        palisade_events::syslog::MAX_DATAGRAM_BYTES,
        "long messages are cut"
    );
}

#[test]
fn tcp_uses_octet_counting_and_reconnects_after_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let target = listener.local_addr().expect("addr");
    let mut sink = SyslogSink::new(target, SyslogTransport::Tcp, header()).expect("sink");
    let events = corpus();
    let expected: String = events[..2]
        .iter()
        .map(|e| {
            let m = format_rfc5424(e, &header());
            format!("{} {m}", m.len())
        })
        .collect();
    let reader = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut received = Vec::new();
        stream.read_to_end(&mut received).expect("read");
        String::from_utf8(received).expect("utf-8")
    });
    sink.write_batch(&events[..2]).expect("send");
    drop(sink);
    assert_eq!(reader.join().expect("reader"), expected);

    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let gone = closed.local_addr().expect("addr");
    drop(closed);
    let mut sink = SyslogSink::new(gone, SyslogTransport::Tcp, header()).expect("sink");
    assert!(
        sink.write_batch(&events[..1]).is_err(),
        "no receiver: the batch fails and is spooled"
    );
}
