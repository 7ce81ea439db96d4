//! HTTP bulk sink for Elasticsearch and OpenSearch (`POST <url>/_bulk`).
//!
//! Each batch becomes one NDJSON request: an action line
//! `{"create":{"_index":"<index>","_id":"<id>"}}` followed by the event's flat ECS
//! document (see [`crate::ecs`]). The `_id` is derived from the document's bytes
//! (SHA-256, 128 bits in hex), so the pipeline's at-least-once redelivery of a
//! batch never duplicates a document: a re-sent event answers `409 conflict`,
//! which counts as delivered.
//!
//! Failure handling: a connection error, a 429/5xx answer, or item errors with
//! status 429/5xx are retried here a few times with doubling backoff; if that
//! does not help, `write_batch` fails and the pipeline spools the batch for this
//! sink and retries later (see [`crate::EventPipeline`]). Items refused for good
//! (for example a 400 mapping error) are logged and counted in
//! `palisade_events_bulk_rejected_total`; retrying them could never succeed.

use std::fmt::Write as _;
use std::time::Duration;

use palisade_core::SecurityEvent;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::ecs::to_ecs;
use crate::error::{ErrorKind, EventsError, Result};
use crate::sink::BatchSink;

/// Settings of a [`BulkSink`].
#[derive(Clone)]
pub struct BulkSinkConfig {
    /// Base URL of the cluster, e.g. `http://127.0.0.1:9200` (the sink appends `/_bulk`).
    pub url: String,
    /// Target index (or data stream).
    pub index: String,
    /// Value of the `Authorization` header (`Basic …` or `ApiKey …`); never logged.
    pub authorization: Option<String>,
    /// Timeout of one request, connect to last byte.
    pub timeout: Duration,
    /// Attempts per batch inside `write_batch` before the pipeline's spool takes over.
    pub attempts: u32,
    /// Delay before the second attempt (doubles each time).
    pub backoff: Duration,
}

impl std::fmt::Debug for BulkSinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkSinkConfig")
            .field("url", &self.url)
            .field("index", &self.index)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl BulkSinkConfig {
    /// Defaults: index `palisade-events`, 10 s timeout, 3 attempts 200 ms apart (doubling).
    pub fn new(url: impl Into<String>) -> Self {
        BulkSinkConfig {
            url: url.into(),
            index: "palisade-events".to_owned(),
            authorization: None,
            timeout: Duration::from_secs(10),
            attempts: 3,
            backoff: Duration::from_millis(200),
        }
    }
}

/// The `_bulk` sink (see the module docs).
pub struct BulkSink {
    config: BulkSinkConfig,
    endpoint: String,
    agent: ureq::Agent,
    body: String,
}

impl std::fmt::Debug for BulkSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkSink")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What one `_bulk` request achieved.
#[derive(Debug, PartialEq, Eq)]
enum BulkOutcome {
    /// Everything stored (or already stored); `rejected` items were refused for good.
    Done { rejected: u64 },
    /// Worth retrying: transport error, 429/5xx, or retryable item errors.
    Retry(String),
}

impl BulkSink {
    /// Creates the sink; no connection is made until the first batch.
    pub fn new(config: BulkSinkConfig) -> Result<Self> {
        let base = config.url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(EventsError::invalid_value(
                "bulk sink URL (http:// or https://)",
                base,
            ));
        }
        if config.index.is_empty()
            || config
                .index
                .bytes()
                .any(|b| b.is_ascii_uppercase() || b"\\/*?\"<>| ,#".contains(&b))
        {
            return Err(EventsError::invalid_value(
                "bulk index name",
                config.index.as_str(),
            ));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(BulkSink {
            endpoint: format!("{base}/_bulk"),
            config,
            agent,
            body: String::new(),
        })
    }

    /// Builds the NDJSON body of a batch into `self.body`.
    fn encode(&mut self, events: &[SecurityEvent]) -> Result<()> {
        self.body.clear();
        for event in events {
            let doc = serde_json::to_string(&to_ecs(event)).map_err(ErrorKind::Encode)?;
            let digest = Sha256::digest(doc.as_bytes());
            let action = serde_json::json!({
                "create": { "_index": self.config.index, "_id": hex::encode(&digest[..16]) }
            });
            // Writing to a String cannot fail.
            let _ = writeln!(self.body, "{action}");
            self.body.push_str(&doc);
            self.body.push('\n');
        }
        Ok(())
    }

    fn post(&self) -> BulkOutcome {
        let mut request = self
            .agent
            .post(&self.endpoint)
            .header("Content-Type", "application/x-ndjson");
        if let Some(authorization) = &self.config.authorization {
            request = request.header("Authorization", authorization);
        }
        let mut response = match request.send(self.body.as_bytes()) {
            Ok(response) => response,
            Err(error) => return BulkOutcome::Retry(format!("request failed: {error}")),
        };
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        match status {
            200..=299 => judge_items(&text),
            429 | 500..=599 => BulkOutcome::Retry(format!("HTTP status {status}")),
            // 4xx: the request itself is wrong (auth, URL); retrying later may help
            // once the operator fixes it, so keep the events.
            _ => BulkOutcome::Retry(format!("HTTP status {status} (check URL and credentials)")),
        }
    }
}

/// Reads a `_bulk` answer: `errors: false`, or per-item statuses.
fn judge_items(text: &str) -> BulkOutcome {
    let Ok(answer) = serde_json::from_str::<Value>(text) else {
        return BulkOutcome::Retry("answer is not JSON".to_owned());
    };
    if answer.get("errors").and_then(Value::as_bool) != Some(true) {
        return BulkOutcome::Done { rejected: 0 };
    }
    let mut rejected = 0;
    let items = answer.get("items").and_then(Value::as_array);
    for item in items.into_iter().flatten() {
        let Some(result) = item.as_object().and_then(|o| o.values().next()) else {
            continue;
        };
        let status = result.get("status").and_then(Value::as_u64).unwrap_or(0);
        match status {
            200..=299 | 409 => {}
            429 | 500..=599 => {
                return BulkOutcome::Retry(format!("item status {status}"));
            }
            _ => {
                let reason = result
                    .pointer("/error/type")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown");
                tracing::warn!(status, reason, "bulk sink: event refused by the cluster");
                rejected += 1;
            }
        }
    }
    BulkOutcome::Done { rejected }
}

impl BatchSink for BulkSink {
    fn name(&self) -> &str {
        "bulk"
    }

    fn write_batch(&mut self, events: &[SecurityEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.encode(events)?;
        let mut delay = self.config.backoff;
        let attempts = self.config.attempts.max(1);
        let mut last = String::new();
        for attempt in 1..=attempts {
            match self.post() {
                BulkOutcome::Done { rejected } => {
                    if rejected > 0 {
                        metrics::counter!("palisade_events_bulk_rejected_total")
                            .increment(rejected);
                    }
                    return Ok(());
                }
                BulkOutcome::Retry(reason) => {
                    tracing::debug!(attempt, %reason, "bulk sink attempt failed");
                    last = reason;
                }
            }
            if attempt < attempts {
                std::thread::sleep(delay);
                delay = delay.saturating_mul(2);
            }
        }
        Err(ErrorKind::Bulk {
            endpoint: self.endpoint.clone(),
            reason: last,
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_statuses_decide_retry_or_done() {
        assert_eq!(
            judge_items(r#"{"took":1,"errors":false,"items":[]}"#),
            BulkOutcome::Done { rejected: 0 }
        );
        let mixed = r#"{"errors":true,"items":[
            {"create":{"status":201}},
            {"create":{"status":409,"error":{"type":"version_conflict_engine_exception"}}},
            {"create":{"status":400,"error":{"type":"mapper_parsing_exception"}}}]}"#;
        assert_eq!(judge_items(mixed), BulkOutcome::Done { rejected: 1 });
        let busy = r#"{"errors":true,"items":[{"create":{"status":429}}]}"#;
        assert!(matches!(judge_items(busy), BulkOutcome::Retry(_)));
        assert!(matches!(judge_items("<html>"), BulkOutcome::Retry(_)));
    }

    #[test]
    fn bad_urls_and_index_names_are_refused() {
        assert!(BulkSink::new(BulkSinkConfig::new("ftp://x")).is_err());
        let mut config = BulkSinkConfig::new("http://127.0.0.1:9200");
        config.index = "Bad/Index".into();
        assert!(BulkSink::new(config).is_err());
    }
}
