//! Syslog sink: RFC 5424 messages over UDP (RFC 5426, one datagram each) or TCP
//! (RFC 6587 octet-counting framing).
//!
//! Message layout:
//!
//! ```text
//! <PRI>1 TIMESTAMP HOSTNAME palisade PROCID MSGID [palisade@32473 action="…" …] MSG
//! ```
//!
//! * PRI = facility × 8 + syslog severity (critical→2, high→3, medium→4,
//!   low→5, info→6); facility defaults to 4 (security/authorization).
//! * MSGID is the event action when it is a valid MSGID (printable ASCII, at
//!   most 32 bytes), else `-`.
//! * Structured data `palisade@32473` carries action, category, outcome,
//!   severity, source IP, route, request id, rule ids, `url.path`, `user.name`.
//!   32473 is the IANA "example" enterprise number; a deployment that registers
//!   its own can change [`SD_ID`] later. Parameter values escape `"`, `\` and `]`
//!   as RFC 5424 requires, and are passed through [`escape_text`] first.
//! * MSG is the event message through [`escape_text`]: one line, no controls.
//!
//! UDP datagrams are cut to [`MAX_DATAGRAM_BYTES`] (on a character boundary).
//! A TCP write error drops the connection and fails the batch (the pipeline
//! spools it); the next batch reconnects.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use palisade_core::{SecurityEvent, Severity};
use serde_json::Value;

use crate::ecs::{format_timestamp, outcome_name, severity_name};
use crate::error::{ErrorKind, EventsError, Result};
use crate::escape::escape_text;
use crate::schema::{PATH_FIELD, USER_FIELD};
use crate::sink::BatchSink;

/// Structured data id of Palisade's parameters.
pub const SD_ID: &str = "palisade@32473";
/// Largest UDP datagram sent (RFC 5426 recommends receivers accept 2048).
pub const MAX_DATAGRAM_BYTES: usize = 2048;
/// Connect and write timeout for TCP.
const TCP_TIMEOUT: Duration = Duration::from_secs(2);

/// Transport of a [`SyslogSink`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogTransport {
    /// RFC 5426: one datagram per message.
    Udp,
    /// RFC 6587: octet-counted frames on one connection.
    Tcp,
}

/// Header values that do not change per event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogHeader {
    /// Syslog facility, 0–23 (default 4, security/authorization).
    pub facility: u8,
    /// HOSTNAME field; sanitised to printable ASCII, `-` when empty.
    pub hostname: String,
    /// APP-NAME field.
    pub app_name: String,
    /// PROCID field.
    pub proc_id: String,
}

impl Default for SyslogHeader {
    /// Facility 4, the host name from `$HOSTNAME` or `/etc/hostname`, app
    /// `palisade`, this process id.
    fn default() -> Self {
        let hostname = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .unwrap_or_default();
        SyslogHeader {
            facility: 4,
            hostname: hostname.trim().to_owned(),
            app_name: "palisade".to_owned(),
            proc_id: std::process::id().to_string(),
        }
    }
}

/// A header field: printable US-ASCII without spaces, at most `max` bytes, or
/// the NILVALUE `-`.
fn header_field(text: &str, max: usize) -> &str {
    let valid =
        !text.is_empty() && text.len() <= max && text.bytes().all(|b| (33..=126).contains(&b));
    if valid { text } else { "-" }
}

fn syslog_severity(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
        Severity::Info => 6,
    }
}

/// Appends ` name="value"` with RFC 5424 PARAM-VALUE escaping.
fn push_param(out: &mut String, name: &str, value: &str) {
    let _ = write!(out, " {name}=\"");
    for c in escape_text(value).chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Formats one event as an RFC 5424 message (without transport framing).
pub fn format_rfc5424(event: &SecurityEvent, header: &SyslogHeader) -> String {
    let pri = u16::from(header.facility.min(23)) * 8 + u16::from(syslog_severity(event.severity));
    let timestamp = format_timestamp(event.timestamp_ms);
    let timestamp = if timestamp.len() == 24 {
        timestamp.as_str()
    } else {
        "-"
    };
    let mut out = format!(
        "<{pri}>1 {timestamp} {} {} {} {} [{SD_ID}",
        header_field(&header.hostname, 255),
        header_field(&header.app_name, 48),
        header_field(&header.proc_id, 128),
        header_field(&event.action, 32),
    );
    push_param(&mut out, "action", &event.action);
    push_param(&mut out, "category", &event.category);
    push_param(&mut out, "outcome", outcome_name(event.outcome));
    push_param(&mut out, "severity", severity_name(event.severity));
    if let Some(ip) = event.source_ip {
        push_param(&mut out, "source_ip", &ip.to_string());
    }
    if let Some(route) = &event.route {
        push_param(&mut out, "route", route);
    }
    if let Some(id) = &event.request_id {
        push_param(&mut out, "request_id", id);
    }
    if !event.rule_ids.is_empty() {
        push_param(&mut out, "rule_ids", &event.rule_ids.join(","));
    }
    for (name, key) in [("url_path", PATH_FIELD), ("user", USER_FIELD)] {
        if let Some(Value::String(value)) = event.fields.get(key) {
            push_param(&mut out, name, value);
        }
    }
    out.push(']');
    if !event.message.is_empty() {
        out.push(' ');
        out.push_str(&escape_text(&event.message));
    }
    out
}

/// Cuts `text` to at most `max` bytes on a character boundary.
fn truncate_to(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

enum Connection {
    Udp(UdpSocket),
    Tcp(Option<TcpStream>),
}

/// Sends events to a syslog receiver (see the module docs).
pub struct SyslogSink {
    target: SocketAddr,
    header: SyslogHeader,
    connection: Connection,
}

impl std::fmt::Debug for SyslogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyslogSink")
            .field("target", &self.target)
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

fn socket_error(context: &'static str) -> impl FnOnce(std::io::Error) -> EventsError {
    move |source| ErrorKind::Stream { context, source }.into()
}

impl SyslogSink {
    /// A sink sending to `target` over `transport`. UDP binds a local socket
    /// now; TCP connects on the first batch.
    pub fn new(
        target: SocketAddr,
        transport: SyslogTransport,
        header: SyslogHeader,
    ) -> Result<Self> {
        let connection = match transport {
            SyslogTransport::Udp => {
                let local: SocketAddr = if target.is_ipv4() {
                    SocketAddr::from(([0, 0, 0, 0], 0))
                } else {
                    SocketAddr::from(([0u16; 8], 0))
                };
                Connection::Udp(
                    UdpSocket::bind(local)
                        .map_err(socket_error("cannot bind syslog UDP socket"))?,
                )
            }
            SyslogTransport::Tcp => Connection::Tcp(None),
        };
        Ok(SyslogSink {
            target,
            header,
            connection,
        })
    }

    fn send_tcp(
        stream: &mut TcpStream,
        events: &[SecurityEvent],
        header: &SyslogHeader,
    ) -> std::io::Result<()> {
        let mut frames = Vec::new();
        for event in events {
            let message = format_rfc5424(event, header);
            frames.extend_from_slice(format!("{} ", message.len()).as_bytes());
            frames.extend_from_slice(message.as_bytes());
        }
        stream.write_all(&frames)?;
        stream.flush()
    }
}

impl BatchSink for SyslogSink {
    fn name(&self) -> &str {
        "syslog"
    }

    fn write_batch(&mut self, events: &[SecurityEvent]) -> Result<()> {
        match &mut self.connection {
            Connection::Udp(socket) => {
                for event in events {
                    let message = format_rfc5424(event, &self.header);
                    socket
                        .send_to(
                            truncate_to(&message, MAX_DATAGRAM_BYTES).as_bytes(),
                            self.target,
                        )
                        .map_err(socket_error("cannot send syslog datagram"))?;
                }
                Ok(())
            }
            Connection::Tcp(slot) => {
                let stream = match slot {
                    Some(stream) => stream,
                    None => {
                        let stream = TcpStream::connect_timeout(&self.target, TCP_TIMEOUT)
                            .map_err(socket_error("cannot connect to syslog receiver"))?;
                        stream
                            .set_write_timeout(Some(TCP_TIMEOUT))
                            .map_err(socket_error("cannot set syslog write timeout"))?;
                        slot.insert(stream)
                    }
                };
                let sent = Self::send_tcp(stream, events, &self.header);
                if sent.is_err() {
                    *slot = None;
                }
                sent.map_err(socket_error("cannot write to syslog receiver"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate_to("héllo", 2), "h");
        assert_eq!(truncate_to("héllo", 3), "hé");
        assert_eq!(truncate_to("abc", 10), "abc");
    }
}
