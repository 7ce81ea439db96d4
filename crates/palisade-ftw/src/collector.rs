//! Correlating WAF log entries with requests.
//!
//! The gateway answers every request with `X-Request-Id`, and the WAF's
//! logging-phase [`SecurityEvent`] carries the same `request_id` and the ids
//! of every rule that matched. [`IdCollector`] is the [`EventSink`] the runner
//! hands to the gateway: it files events by request id and lets the runner
//! wait for them. It also renders a log text per request (one
//! `[id "N"]` line per matched rule, then each event's message and fields) for
//! go-ftw's `match_regex` checks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use palisade_core::{EventSink, SecurityEvent};
use tokio::sync::Notify;
use tokio::time::Instant;

/// What was logged for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestLog {
    /// Numeric rule ids, in the order reported, without duplicates.
    pub rule_ids: Vec<u64>,
    /// Log text for regex checks.
    pub text: String,
    /// How many events arrived.
    pub events: usize,
}

/// Collects security events by request id.
#[derive(Debug, Default)]
pub struct IdCollector {
    events: Mutex<HashMap<String, RequestLog>>,
    arrived: Notify,
}

impl IdCollector {
    /// A new, empty collector.
    pub fn new() -> Arc<Self> {
        Arc::new(IdCollector::default())
    }

    /// Removes and returns what was logged for `request_id`.
    pub fn take(&self, request_id: &str) -> RequestLog {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(request_id)
            .unwrap_or_default()
    }

    fn event_count(&self, request_id: &str) -> Option<usize> {
        let events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        events.get(request_id).map(|log| log.events)
    }

    fn has_all(&self, request_id: &str, ids: &[u64]) -> bool {
        let events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        events
            .get(request_id)
            .is_some_and(|log| ids.iter().all(|id| log.rule_ids.contains(id)))
    }

    /// Waits until every id in `expect` was logged for `request_id`, or some
    /// event arrived and no further one came within `settle`, or `timeout`
    /// passed; then returns (and removes) what was logged.
    pub async fn wait(
        &self,
        request_id: &str,
        expect: &[u64],
        settle: Duration,
        timeout: Duration,
    ) -> RequestLog {
        let deadline = Instant::now() + timeout;
        let mut last_count = 0;
        let mut last_change = Instant::now();
        loop {
            let notified = self.arrived.notified();
            if !expect.is_empty() && self.has_all(request_id, expect) {
                break;
            }
            let now = Instant::now();
            if let Some(count) = self.event_count(request_id) {
                if count != last_count {
                    last_count = count;
                    last_change = now;
                } else if now >= last_change + settle && expect.is_empty() {
                    break;
                }
            }
            if now >= deadline {
                break;
            }
            let wake = if last_count > 0 {
                (last_change + settle).min(deadline)
            } else {
                deadline
            };
            let wake = wake.max(now + Duration::from_millis(1));
            let _ = tokio::time::timeout_at(wake, notified).await;
        }
        self.take(request_id)
    }
}

impl EventSink for IdCollector {
    fn record(&self, event: SecurityEvent) {
        let Some(request_id) = event.request_id.clone() else {
            return;
        };
        {
            let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
            let log = events.entry(request_id).or_default();
            log.events += 1;
            for id in &event.rule_ids {
                let Ok(id) = id.trim().parse::<u64>() else {
                    continue;
                };
                if !log.rule_ids.contains(&id) {
                    log.rule_ids.push(id);
                }
                log.text.push_str(&format!(
                    "[id \"{id}\"] [msg \"{}\"]\n",
                    escape_controls(&event.message)
                ));
            }
            log.text.push_str(&escape_controls(&event.message));
            log.text.push('\n');
            for (name, value) in &event.fields {
                append_field(&mut log.text, name, value);
            }
        }
        self.arrived.notify_waiters();
    }
}

/// Renders one event field; a list of matches (`{id, msg, data}` objects)
/// becomes ModSecurity-style `[id "…"] [msg "…"] [data "…"]` lines.
fn append_field(text: &mut String, name: &str, value: &serde_json::Value) {
    let as_text = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    if let Some(items) = value.as_array()
        && items.iter().all(|item| item.get("id").is_some())
    {
        for item in items {
            text.push_str(&format!(
                "[id \"{}\"] [msg \"{}\"] [data \"{}\"]\n",
                escape_controls(&as_text(item.get("id"))),
                escape_controls(&as_text(item.get("msg"))),
                escape_controls(&as_text(item.get("data")))
            ));
        }
        return;
    }
    text.push_str(&format!("{name}: {value}\n"));
}

/// Control characters as `\xHH`, as libmodsecurity v3 writes them to its log
/// (one message per line: a newline in matched data does not split it).
fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_ascii_control()) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_ascii_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::Severity;

    fn event(request_id: &str, ids: &[&str]) -> SecurityEvent {
        let mut event = SecurityEvent::new(
            "malicious_sqli",
            "web",
            Severity::High,
            "SQL Injection Attack",
        );
        event.request_id = Some(request_id.to_owned());
        event.rule_ids = ids.iter().map(|id| (*id).to_owned()).collect();
        event
    }

    #[tokio::test]
    async fn files_ids_by_request_and_waits_for_late_events() {
        let collector = IdCollector::new();
        collector.record(event("a", &["942100", "949110"]));
        let late = collector.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            late.record(event("b", &["920350", "x"]));
        });
        let log = collector
            .wait(
                "b",
                &[920350],
                Duration::from_millis(10),
                Duration::from_secs(2),
            )
            .await;
        assert_eq!(log.rule_ids, vec![920350]);
        assert!(log.text.contains("[id \"920350\"]"));
        let log = collector
            .wait("a", &[], Duration::from_millis(10), Duration::from_secs(2))
            .await;
        assert_eq!(log.rule_ids, vec![942100, 949110]);
        let empty = collector
            .wait(
                "c",
                &[],
                Duration::from_millis(10),
                Duration::from_millis(20),
            )
            .await;
        assert_eq!(empty, RequestLog::default());
    }

    #[test]
    fn control_characters_in_matched_data_stay_on_one_line() {
        let collector = IdCollector::new();
        let mut matched = event("d", &["932300"]);
        matched.fields.insert(
            "palisade.waf.matches".to_owned(),
            serde_json::json!([{ "id": 932300, "msg": "SMTP", "data": "Matched Data: \r\nMAIL FROM:<a@b>" }]),
        );
        collector.record(matched);
        let log = collector.take("d");
        assert!(
            log.text
                .contains("[data \"Matched Data: \\x0d\\x0aMAIL FROM:<a@b>\"]\n"),
            "{}",
            log.text
        );
    }
}
