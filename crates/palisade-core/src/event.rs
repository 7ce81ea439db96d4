//! Security events: one typed record for everything Palisade decides or notices.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// How bad something is: of a security event (the ECS numeric scale is derived from this) and of a
/// finding of the scanners (`scan`, the TLS audit). One scale for all of Palisade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: worth knowing, not a vulnerability by itself.
    Info,
    /// Low: a hardening gap.
    Low,
    /// Medium: exploitable with conditions.
    Medium,
    /// High: directly exploitable.
    High,
    /// Critical: directly exploitable with full compromise (code execution, database read).
    Critical,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity {other:?}: expected info, low, medium, high or critical"
            )),
        }
    }
}

/// ECS `event.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventOutcome {
    /// The action succeeded.
    Success,
    /// The action failed (e.g. a login failure, a refused reload).
    Failure,
    /// Unknown / not applicable.
    Unknown,
}

/// One security event. `action` follows the OWASP Logging Vocabulary
/// (`authn_login_fail`, `malicious_sqli`, `sys_config_changed`, …).
#[derive(Debug, Clone, Serialize)]
pub struct SecurityEvent {
    /// UTC timestamp, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// OWASP Logging Vocabulary action.
    pub action: String,
    /// ECS event.category (e.g. `web`, `authentication`, `configuration`).
    pub category: String,
    /// Outcome.
    pub outcome: EventOutcome,
    /// Severity.
    pub severity: Severity,
    /// Request id when the event is about a request.
    pub request_id: Option<String>,
    /// Client address when known.
    pub source_ip: Option<IpAddr>,
    /// Route name when known.
    pub route: Option<String>,
    /// Human message (escaped before any text output).
    pub message: String,
    /// Rule ids involved.
    pub rule_ids: Vec<String>,
    /// Extra fields (`palisade.*` extensions, url.path, user.name, …).
    pub fields: BTreeMap<String, serde_json::Value>,
}

impl SecurityEvent {
    /// A new event stamped now.
    pub fn new(
        action: &str,
        category: &str,
        severity: Severity,
        message: impl Into<String>,
    ) -> Self {
        let timestamp_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        SecurityEvent {
            timestamp_ms,
            action: action.to_owned(),
            category: category.to_owned(),
            outcome: EventOutcome::Unknown,
            severity,
            request_id: None,
            source_ip: None,
            route: None,
            message: message.into(),
            rule_ids: Vec::new(),
            fields: BTreeMap::new(),
        }
    }
}

/// Where security events go. Implementations must not block the caller:
/// they queue and write asynchronously.
pub trait EventSink: Send + Sync + 'static {
    /// Records one event.
    fn record(&self, event: SecurityEvent);
}

/// The fallback sink: writes each event as one JSON field of a log record
/// (target `palisade::event`). Real stores live in their own crate.
#[derive(Debug, Default, Clone, Copy)]
pub struct TracingSink;

impl EventSink for TracingSink {
    fn record(&self, event: SecurityEvent) {
        match serde_json::to_string(&event) {
            Ok(json) => tracing::warn!(target: "palisade::event", event = %json, "security event"),
            Err(error) => {
                tracing::error!(target: "palisade::event", %error, "security event not encodable")
            }
        }
    }
}
