//! TLS 1.3 early data accepted.
//!
//! What: on a resumed TLS 1.3 session, the server accepted a request sent as 0-RTT early data.
//! Why: early data can be replayed by an attacker; unless the application treats it as
//! replayable (only safe, idempotent requests; `Early-Data: 1` handling per RFC 8470), replays
//! repeat state changes.
//! Example: nginx `ssl_early_data on;` in front of an application that ignores `Early-Data`.
//! References: CWE-294 (authentication bypass by capture-replay), RFC 8446 §8, RFC 8470.

use super::finding;
use crate::report::{Severity, TlsFinding, TlsReport};
use crate::target::TlsAuditOptions;

pub(super) fn check(report: &TlsReport, _options: &TlsAuditOptions) -> Vec<TlsFinding> {
    match &report.early_data {
        Some(early) if early.accepted => vec![finding(
            "tls.early_data.accepted",
            "TLS 1.3 early data (0-RTT) accepted",
            Severity::Low,
            294,
            "a GET sent as early data on a resumed session was accepted".into(),
            "Disable 0-RTT, or accept it only for idempotent requests and honour Early-Data (RFC 8470).",
        )],
        _ => Vec::new(),
    }
}
