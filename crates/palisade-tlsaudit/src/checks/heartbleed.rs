//! Heartbleed.
//!
//! What: when the server echoes the heartbeat extension, a heartbeat request whose
//! payload_length (16 KiB) exceeds the bytes sent is written after the server's first flight.
//! A heartbeat response means the server copied memory past the request (CVE-2014-0160).
//! Servers that do not advertise the extension are not sent the request and are not reported.
//! Why: the response leaks up to 64 KiB of server memory per request: keys, cookies, passwords.
//! Example: OpenSSL 1.0.1 to 1.0.1f.
//! References: CWE-125 (out-of-bounds read), CVE-2014-0160, RFC 6520.

use super::finding;
use crate::report::{Severity, TlsFinding, TlsReport};
use crate::target::TlsAuditOptions;

pub(super) fn check(report: &TlsReport, _options: &TlsAuditOptions) -> Vec<TlsFinding> {
    let Some(heartbeat) = &report.heartbeat else {
        return Vec::new();
    };
    if heartbeat.heartbleed_vulnerable != Some(true) {
        return Vec::new();
    }
    vec![finding(
        "tls.heartbleed",
        "Heartbleed: server returns memory for over-long heartbeat requests",
        Severity::Critical,
        125,
        heartbeat.method.clone(),
        "Upgrade OpenSSL (1.0.1g or later), then revoke and reissue the certificate and rotate secrets.",
    )]
}
