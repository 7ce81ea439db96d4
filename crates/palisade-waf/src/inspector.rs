//! The gateway adapter: a [`WafInspector`] runs one [`Transaction`] per exchange on the
//! gateway's phase hooks and reports one security event per transaction.

use std::sync::Arc;

use palisade_core::{
    BodyView, EventOutcome, ExchangeSummary, Inspection, Inspector, RequestHead, ResponseHead,
    SecurityEvent, Severity, Verdict,
};

use crate::audit_log::AuditRecord;
use crate::transaction::{
    CompiledExclusions, Intervention, RequestView, Transaction, parse_target,
};
use crate::{Waf, WafError};

/// Per-route exclusions applied on top of the rules.
#[derive(Debug, Clone, Default)]
pub struct WafExclusions {
    /// Rule ids that never run on this route.
    pub remove_rule_ids: Vec<u64>,
    /// `(rule ids (empty = all rules), target)` pairs, target in SecLang syntax
    /// (`ARGS:password`, `REQUEST_COOKIES:/^_ga/`): removed from those rules' targets.
    pub remove_targets: Vec<(Vec<u64>, String)>,
}

impl WafExclusions {
    /// Compiles the exclusions once (targets parsed, selectors compiled).
    pub fn compile(&self) -> Result<Arc<CompiledExclusions>, WafError> {
        let mut targets = Vec::with_capacity(self.remove_targets.len());
        for (ids, text) in &self.remove_targets {
            let target = parse_target(text)
                .map_err(|message| WafError::invalid(format!("route exclusion: {message}")))?;
            targets.push((ids.clone(), target));
        }
        Ok(Arc::new(CompiledExclusions {
            rule_ids: self.remove_rule_ids.clone(),
            targets,
        }))
    }
}

/// The WAF as a gateway inspector.
#[derive(Debug, Clone)]
pub struct WafInspector {
    waf: Arc<Waf>,
    exclusions: Arc<CompiledExclusions>,
}

impl WafInspector {
    /// An inspector over a loaded WAF with per-route exclusions; fails when an
    /// exclusion target is not valid SecLang.
    pub fn new(waf: Arc<Waf>, exclusions: &WafExclusions) -> Result<Self, WafError> {
        Ok(WafInspector {
            waf,
            exclusions: exclusions.compile()?,
        })
    }
}

/// The protocol as SecLang shows it (`HTTP/1.1`), for the versions `http` names.
fn http_version(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "HTTP/0.9",
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_11 => "HTTP/1.1",
        http::Version::HTTP_2 => "HTTP/2.0",
        http::Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// The headers of a request or response as the transaction reads them (borrowed).
fn header_pairs(headers: &http::HeaderMap) -> impl Iterator<Item = (&str, &[u8])> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
}

impl Inspector for WafInspector {
    fn name(&self) -> &str {
        "waf"
    }

    fn wants_response_body(&self) -> bool {
        self.waf.program.settings.response_body_access
    }

    fn start(&self, head: &RequestHead) -> Box<dyn Inspection> {
        let request = RequestView {
            request_id: &head.request_id,
            client_addr: head.client_addr,
            server_addr: head.server_addr,
            server_name: &head.host,
            method: head.method.as_str(),
            uri: &head.raw_target,
            protocol: http_version(head.version),
            headers: || header_pairs(&head.headers),
        };
        let mut transaction = Transaction::from_view(Arc::clone(&self.waf), &request);
        transaction.exclude(&self.exclusions);
        let audit = self.waf.audit.is_some().then(|| AuditCapture {
            waf: Arc::clone(&self.waf),
            request_body: None,
            response_headers: Vec::new(),
        });
        Box::new(WafInspection { transaction, audit })
    }
}

struct WafInspection {
    transaction: Transaction,
    /// What the audit log needs beyond the transaction, when it is on.
    audit: Option<AuditCapture>,
}

/// The request body and response headers of an exchange, kept for its audit record.
struct AuditCapture {
    waf: Arc<Waf>,
    request_body: Option<Vec<u8>>,
    response_headers: Vec<(String, Vec<u8>)>,
}

impl WafInspection {
    fn verdict(&self, intervention: Option<Intervention>) -> Verdict {
        let Some(intervention) = intervention else {
            return Verdict::Allow;
        };
        if let Some(location) = intervention.redirect {
            let status =
                http::StatusCode::from_u16(intervention.status).unwrap_or(http::StatusCode::FOUND);
            return Verdict::Redirect { status, location };
        }
        let status =
            http::StatusCode::from_u16(intervention.status).unwrap_or(http::StatusCode::FORBIDDEN);
        Verdict::Block {
            status,
            reason: format!("rule {}: {}", intervention.rule_id, intervention.message),
            rule_ids: self
                .transaction
                .matched_rule_ids()
                .iter()
                .map(u64::to_string)
                .collect(),
        }
    }
}

impl Inspection for WafInspection {
    fn request_headers(&mut self, _head: &RequestHead) -> Verdict {
        let intervention = self.transaction.process_request_headers();
        self.verdict(intervention)
    }

    fn request_body(&mut self, _head: &RequestHead, body: BodyView<'_>) -> Verdict {
        if let Some(audit) = &mut self.audit
            && audit
                .waf
                .audit
                .as_ref()
                .is_some_and(|log| log.has_part('C'))
        {
            audit.request_body = Some(body.bytes.to_vec());
        }
        let intervention = self.transaction.process_request_body(body.bytes);
        self.verdict(intervention)
    }

    fn response_headers(&mut self, _head: &RequestHead, resp: &ResponseHead) -> Verdict {
        let intervention = self.transaction.process_response_head(
            resp.status.as_u16(),
            http_version(resp.version),
            || header_pairs(&resp.headers),
        );
        if let Some(audit) = &mut self.audit {
            audit.response_headers = header_pairs(&resp.headers)
                .map(|(name, value)| (name.to_owned(), value.to_vec()))
                .collect();
        }
        self.verdict(intervention)
    }

    fn response_body(
        &mut self,
        _head: &RequestHead,
        _resp: &ResponseHead,
        body: BodyView<'_>,
    ) -> Verdict {
        let intervention = self.transaction.process_response_body(body.bytes);
        self.verdict(intervention)
    }

    fn logging(&mut self, head: &RequestHead, summary: &ExchangeSummary) -> Vec<SecurityEvent> {
        self.transaction.process_logging();
        let matched = self.transaction.matched_rules();
        let intervention = self.transaction.intervention().cloned();
        if let Some(audit) = &self.audit
            && let Some(log) = &audit.waf.audit
            && log.wants(
                self.transaction.audit_engine(),
                intervention.is_some() || summary.blocked,
                matched,
                summary.status.as_u16(),
            )
        {
            log.write(&AuditRecord {
                request_id: &head.request_id,
                client_addr: head.client_addr,
                server_addr: head.server_addr,
                method: head.method.as_str(),
                http_version: head.version,
                uri: &head.raw_target,
                request_headers: &head.headers,
                request_body: audit.request_body.as_deref(),
                status: summary.status.as_u16(),
                response_headers: &audit.response_headers,
                matched,
                intervention: intervention.as_ref(),
                detection_only: audit.waf.detection_only
                    || audit.waf.program.settings.engine
                        == palisade_seclang::EngineMode::DetectionOnly,
            });
        }
        // As in ModSecurity, rules marked `nolog` (initialisation, bookkeeping) leave no
        // record: a transaction is reported when a logging rule matched or it was disrupted.
        if intervention.is_none() && !matched.iter().any(|m| m.logged) {
            return Vec::new();
        }
        let blocked = intervention.is_some() || summary.blocked;
        let highest = matched
            .iter()
            .filter(|m| m.logged)
            .filter_map(|m| m.severity)
            .min();
        let severity = match highest {
            Some(0..=2) => Severity::Critical,
            Some(3) => Severity::High,
            Some(4) => Severity::Medium,
            Some(5) => Severity::Low,
            _ if blocked => Severity::High,
            _ => Severity::Info,
        };
        // The decision itself (`malicious_request_blocked`) is the gateway's event; this one
        // is the WAF's detail record of the same transaction: what matched, with the scores.
        let message = match &intervention {
            Some(intervention) => format!(
                "disrupted by rule {}: {}",
                intervention.rule_id, intervention.message
            ),
            None => format!("{} WAF rules matched", matched.len()),
        };
        let mut event = SecurityEvent::new("waf_rules_matched", "web", severity, message);
        event.outcome = if blocked {
            EventOutcome::Failure
        } else {
            EventOutcome::Success
        };
        event.request_id = Some(head.request_id.clone());
        event.source_ip = Some(head.client_addr.ip());
        event.route = Some(head.route.clone());
        event.rule_ids = matched.iter().map(|m| m.id.to_string()).collect();
        for score in [
            "blocking_inbound_anomaly_score",
            "detection_inbound_anomaly_score",
            "blocking_outbound_anomaly_score",
            "detection_outbound_anomaly_score",
        ] {
            if let Some(value) = self.transaction.tx_var(score) {
                let number = crate::operator::parse_number(value);
                event.fields.insert(
                    format!("palisade.waf.{score}"),
                    serde_json::Value::from(number),
                );
            }
        }
        let messages: Vec<serde_json::Value> = matched
            .iter()
            .filter(|m| m.logged && !m.message.is_empty())
            .map(|m| serde_json::json!({ "id": m.id, "msg": m.message, "data": m.logdata }))
            .collect();
        event.fields.insert(
            "palisade.waf.matches".to_owned(),
            serde_json::Value::Array(messages),
        );
        event.fields.insert(
            "url.original".to_owned(),
            serde_json::Value::from(head.raw_target.clone()),
        );
        vec![event]
    }
}
