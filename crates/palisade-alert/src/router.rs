//! Which events become alerts, and when: selection, deduplication into
//! incidents with a digest of repeats, and a global rate limit. Deterministic:
//! time is passed in, so tests replay streams exactly.

use std::collections::HashMap;

use palisade_core::{SecurityEvent, Severity};
use serde_json::Value;

/// Routing and deduplication settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RouterSettings {
    /// Events below this severity never alert (channels may ask for more).
    pub min_severity: Severity,
    /// Action prefixes that can alert (`anomaly_`, `response_`, `sys_`, …).
    pub actions: Vec<String>,
    /// Repeats of an incident within this window are summed into one digest.
    pub dedup_window_ms: i64,
    /// Most alerts (first alerts and digests) per hour, all channels together.
    pub max_per_hour: u32,
}

impl Default for RouterSettings {
    /// Medium and above; findings, responses, lockouts and system problems;
    /// one incident per hour; at most 60 alerts an hour.
    fn default() -> Self {
        RouterSettings {
            min_severity: Severity::Medium,
            actions: ["anomaly_", "response_", "authn_login_lock", "sys_"]
                .into_iter()
                .map(str::to_owned)
                .collect(),
            dedup_window_ms: 3_600_000,
            max_per_hour: 60,
        }
    }
}

/// One alert to deliver.
#[derive(Debug, Clone)]
pub struct Alert {
    /// Incident key (action and subject).
    pub incident: String,
    /// Severity (the highest seen in the incident for digests).
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Plain text for people.
    pub body: String,
    /// The (first or latest) event.
    pub event: SecurityEvent,
    /// For digests: how many repeats it sums up (0 for a first alert).
    pub repeats: u64,
    /// Alerts suppressed by the rate limit since the last delivered one.
    pub suppressed: u64,
}

#[derive(Debug, Clone)]
struct Incident {
    opened_ms: i64,
    repeats: u64,
    severity: Severity,
    last: SecurityEvent,
}

/// The router (see the module docs).
#[derive(Debug)]
pub struct AlertRouter {
    settings: RouterSettings,
    incidents: HashMap<String, Incident>,
    /// Send times of the alerts of the last hour.
    sent: std::collections::VecDeque<i64>,
    suppressed: u64,
}

/// Most open incidents tracked (oldest closed first).
const MAX_INCIDENTS: usize = 10_000;

fn field<'a>(event: &'a SecurityEvent, key: &str) -> Option<&'a str> {
    event.fields.get(key).and_then(Value::as_str)
}

/// Upper-case severity name.
pub fn severity_label(severity: Severity) -> String {
    palisade_events::ecs::severity_name(severity).to_ascii_uppercase()
}

/// What an incident is about: the finding's subject, else user, else address.
fn subject(event: &SecurityEvent) -> String {
    if let Some(subject) = field(event, "palisade.finding.subject") {
        return subject.to_owned();
    }
    if let Some(user) = field(event, "user.name") {
        return format!("user:{user}");
    }
    match event.source_ip {
        Some(ip) => format!("ip:{ip}"),
        None => "global".to_owned(),
    }
}

impl AlertRouter {
    /// A router with no history.
    pub fn new(settings: RouterSettings) -> Self {
        AlertRouter {
            settings,
            incidents: HashMap::new(),
            sent: std::collections::VecDeque::new(),
            suppressed: 0,
        }
    }

    /// Whether `event` can alert at all.
    pub fn selects(&self, event: &SecurityEvent) -> bool {
        event.severity >= self.settings.min_severity
            && !event.action.starts_with("alert_")
            && event.fields.get("palisade.alert") != Some(&Value::Bool(false))
            && self
                .settings
                .actions
                .iter()
                .any(|prefix| event.action.starts_with(prefix.as_str()))
    }

    fn rate_allows(&mut self, now_ms: i64) -> bool {
        while self.sent.front().is_some_and(|t| *t <= now_ms - 3_600_000) {
            self.sent.pop_front();
        }
        if self.sent.len() >= self.settings.max_per_hour as usize {
            self.suppressed += 1;
            metrics::counter!("palisade_alerts_suppressed_total").increment(1);
            return false;
        }
        self.sent.push_back(now_ms);
        true
    }

    /// Takes one event: a first alert, or nothing (a repeat, or not selected, or
    /// rate limited). Digests come from [`AlertRouter::tick`].
    pub fn process(&mut self, event: &SecurityEvent, now_ms: i64) -> Option<Alert> {
        if !self.selects(event) {
            return None;
        }
        let incident = format!("{} {}", event.action, subject(event));
        if let Some(open) = self.incidents.get_mut(&incident)
            && now_ms < open.opened_ms + self.settings.dedup_window_ms
        {
            open.repeats += 1;
            open.severity = open.severity.max(event.severity);
            open.last = event.clone();
            return None;
        }
        // A new incident (or the old one's window is over and its digest sent).
        self.incidents.insert(
            incident.clone(),
            Incident {
                opened_ms: now_ms,
                repeats: 0,
                severity: event.severity,
                last: event.clone(),
            },
        );
        if self.incidents.len() > MAX_INCIDENTS {
            let oldest = self
                .incidents
                .iter()
                .min_by_key(|(_, i)| i.opened_ms)
                .map(|(k, _)| k.clone());
            if let Some(key) = oldest {
                self.incidents.remove(&key);
            }
        }
        if !self.rate_allows(now_ms) {
            return None;
        }
        Some(first_alert(
            incident,
            event,
            std::mem::take(&mut self.suppressed),
        ))
    }

    /// Closes incidents whose window is over; returns a digest for each that
    /// had repeats.
    pub fn tick(&mut self, now_ms: i64) -> Vec<Alert> {
        let window = self.settings.dedup_window_ms;
        let mut closed: Vec<(String, Incident)> = Vec::new();
        self.incidents.retain(|key, incident| {
            if now_ms >= incident.opened_ms + window {
                closed.push((key.clone(), incident.clone()));
                false
            } else {
                true
            }
        });
        closed.sort_by(|a, b| a.1.opened_ms.cmp(&b.1.opened_ms).then(a.0.cmp(&b.0)));
        let mut digests = Vec::new();
        for (key, incident) in closed.into_iter().filter(|(_, i)| i.repeats > 0) {
            if !self.rate_allows(now_ms) {
                continue;
            }
            digests.push(digest_alert(
                key,
                &incident,
                window,
                std::mem::take(&mut self.suppressed),
            ));
        }
        digests
    }
}

fn describe_event(event: &SecurityEvent) -> String {
    let mut body = String::new();
    body.push_str(&palisade_events::escape_text(&event.message));
    body.push_str("\n\n");
    let mut line = |label: &str, value: &str| {
        body.push_str(label);
        body.push_str(": ");
        body.push_str(&palisade_events::escape_text(value));
        body.push('\n');
    };
    line(
        "Time",
        &palisade_events::ecs::format_timestamp(event.timestamp_ms),
    );
    line("Action", &event.action);
    line(
        "Severity",
        palisade_events::ecs::severity_name(event.severity),
    );
    if let Some(ip) = event.source_ip {
        line("Source address", &ip.to_string());
    }
    if let Some(user) = field(event, "user.name") {
        line("User", user);
    }
    if let Some(route) = &event.route {
        line("Route", route);
    }
    if let Some(baseline) = field(event, "palisade.finding.baseline") {
        line("Baseline", baseline);
    }
    if let Some(observed) = field(event, "palisade.finding.observed") {
        line("Observed", observed);
    }
    if let Some(response) = field(event, "palisade.response") {
        line("Response", response);
    }
    if let Some(ids) = event
        .fields
        .get("palisade.finding.evidence")
        .and_then(Value::as_array)
    {
        let ids: Vec<&str> = ids.iter().filter_map(Value::as_str).collect();
        line("Evidence event ids", &ids.join(", "));
    }
    body
}

fn first_alert(incident: String, event: &SecurityEvent, suppressed: u64) -> Alert {
    let mut body = describe_event(event);
    if suppressed > 0 {
        body.push_str(&format!(
            "\n{suppressed} earlier alerts were suppressed by the alert rate limit.\n"
        ));
    }
    Alert {
        title: format!(
            "[Palisade] {} {}: {}",
            severity_label(event.severity),
            event.action,
            subject(event)
        ),
        incident,
        severity: event.severity,
        body,
        event: event.clone(),
        repeats: 0,
        suppressed,
    }
}

fn digest_alert(incident: String, open: &Incident, window_ms: i64, suppressed: u64) -> Alert {
    let event = &open.last;
    let mut body = format!(
        "{} more times within {} minutes after the first alert of this incident, since {}.\nLatest occurrence:\n\n",
        open.repeats,
        window_ms / 60_000,
        palisade_events::ecs::format_timestamp(open.opened_ms)
    );
    body.push_str(&describe_event(event));
    if suppressed > 0 {
        body.push_str(&format!(
            "\n{suppressed} earlier alerts were suppressed by the alert rate limit.\n"
        ));
    }
    Alert {
        title: format!(
            "[Palisade] digest: {} repeats of {}: {}",
            open.repeats,
            event.action,
            subject(event)
        ),
        incident,
        severity: open.severity,
        body,
        event: event.clone(),
        repeats: open.repeats,
        suppressed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(ip: &str, at: i64) -> SecurityEvent {
        let mut event = SecurityEvent::new(
            "anomaly_scanner_burst",
            "intrusion_detection",
            Severity::Medium,
            "scan",
        );
        event.timestamp_ms = at;
        event.source_ip = Some(ip.parse().expect("ip"));
        event
            .fields
            .insert("palisade.finding.subject".into(), format!("ip:{ip}").into());
        event
    }

    #[test]
    fn one_alert_per_incident_then_a_digest() {
        let mut router = AlertRouter::new(RouterSettings::default());
        let first = router
            .process(&finding("192.0.2.1", 0), 0)
            .expect("first alerts");
        assert_eq!(
            first.title,
            "[Palisade] MEDIUM anomaly_scanner_burst: ip:192.0.2.1"
        );
        for t in 1..=4 {
            assert!(
                router
                    .process(&finding("192.0.2.1", t * 1000), t * 1000)
                    .is_none()
            );
        }
        assert!(
            router.process(&finding("192.0.2.2", 5000), 5000).is_some(),
            "other subject"
        );
        assert!(router.tick(3_599_999).is_empty());
        let digests = router.tick(3_600_000);
        assert_eq!(digests.len(), 1, "192.0.2.2 had no repeats");
        assert_eq!(digests[0].repeats, 4);
        assert!(
            digests[0]
                .body
                .starts_with("4 more times within 60 minutes")
        );
        assert!(
            router
                .process(&finding("192.0.2.1", 3_700_000), 3_700_000)
                .is_some()
        );
    }

    #[test]
    fn rate_limit_suppresses_and_reports_the_count() {
        let settings = RouterSettings {
            max_per_hour: 2,
            ..RouterSettings::default()
        };
        let mut router = AlertRouter::new(settings);
        let sent: Vec<bool> = (0..5)
            .map(|i| {
                router
                    .process(&finding(&format!("192.0.2.{i}"), i), i)
                    .is_some()
            })
            .collect();
        assert_eq!(sent, [true, true, false, false, false]);
        let later = router
            .process(&finding("198.51.100.1", 3_600_001), 3_600_001)
            .expect("an hour later");
        assert_eq!(later.suppressed, 3);
    }

    #[test]
    fn ordinary_blocks_and_low_severity_do_not_alert() {
        let router = AlertRouter::new(RouterSettings::default());
        let block = SecurityEvent::new("malicious_sqli", "web", Severity::High, "blocked");
        assert!(!router.selects(&block));
        let mut quiet = finding("192.0.2.1", 0);
        quiet.fields.insert("palisade.alert".into(), false.into());
        assert!(!router.selects(&quiet));
        let delivered = SecurityEvent::new("alert_delivery_failed", "process", Severity::High, "x");
        assert!(!router.selects(&delivered));
    }
}
