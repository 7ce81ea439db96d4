//! What the monitor reports: a [`Finding`], and its form as a [`SecurityEvent`].

use std::net::IpAddr;

use palisade_core::{EventOutcome, SecurityEvent, Severity};
use serde_json::Value;

/// Most evidence ids one finding carries (the newest are kept).
pub const MAX_EVIDENCE: usize = 50;

/// Prefix of every finding's event action (`anomaly_scanner_burst`, …).
pub const FINDING_ACTION_PREFIX: &str = "anomaly_";

/// The kinds of findings. Each is also the suffix of the event action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FindingKind {
    /// Many failed logins on one account in a short window.
    BruteForceAccount,
    /// Failed logins on one account spread over hours (below the short-window limit).
    SlowBruteForce,
    /// Many failed logins from one client address.
    BruteForceIp,
    /// One client address failing logins on many accounts.
    CredentialStuffing,
    /// One account failing logins from many client addresses.
    DistributedBruteForce,
    /// A successful login after many failures on the account or from the address.
    LoginAfterFailures,
    /// Many distinct paths answered 4xx to one client in a short window.
    ScannerBurst,
    /// Requests for sensitive paths (`/.git`, `/.env`, backups, admin consoles).
    SensitivePathProbe,
    /// Requests, errors or blocks far above their baseline.
    TrafficSpike,
    /// A successful login from a country never seen for the user.
    NewCountryLogin,
    /// A successful login from an autonomous system never seen for the user.
    NewAsnLogin,
    /// Without a GeoIP database: a login from a new /24 (/48) with a new user-agent family.
    NewNetworkLogin,
    /// Two successful logins too far apart for the time between them.
    ImpossibleTravel,
    /// A successful login at an hour the user practically never logs in.
    UnusualLoginHour,
}

impl FindingKind {
    /// Every kind.
    pub const ALL: [FindingKind; 14] = [
        FindingKind::BruteForceAccount,
        FindingKind::SlowBruteForce,
        FindingKind::BruteForceIp,
        FindingKind::CredentialStuffing,
        FindingKind::DistributedBruteForce,
        FindingKind::LoginAfterFailures,
        FindingKind::ScannerBurst,
        FindingKind::SensitivePathProbe,
        FindingKind::TrafficSpike,
        FindingKind::NewCountryLogin,
        FindingKind::NewAsnLogin,
        FindingKind::NewNetworkLogin,
        FindingKind::ImpossibleTravel,
        FindingKind::UnusualLoginHour,
    ];

    /// Stable snake_case name (configuration keys, event actions).
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::BruteForceAccount => "brute_force_account",
            FindingKind::SlowBruteForce => "slow_brute_force",
            FindingKind::BruteForceIp => "brute_force_ip",
            FindingKind::CredentialStuffing => "credential_stuffing",
            FindingKind::DistributedBruteForce => "distributed_brute_force",
            FindingKind::LoginAfterFailures => "login_after_failures",
            FindingKind::ScannerBurst => "scanner_burst",
            FindingKind::SensitivePathProbe => "sensitive_path_probe",
            FindingKind::TrafficSpike => "traffic_spike",
            FindingKind::NewCountryLogin => "new_country_login",
            FindingKind::NewAsnLogin => "new_asn_login",
            FindingKind::NewNetworkLogin => "new_network_login",
            FindingKind::ImpossibleTravel => "impossible_travel",
            FindingKind::UnusualLoginHour => "unusual_login_hour",
        }
    }

    /// Parses [`FindingKind::as_str`].
    pub fn parse(name: &str) -> Option<FindingKind> {
        FindingKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Default severity of the kind.
    pub fn severity(self) -> Severity {
        match self {
            FindingKind::CredentialStuffing
            | FindingKind::DistributedBruteForce
            | FindingKind::LoginAfterFailures
            | FindingKind::ImpossibleTravel => Severity::High,
            FindingKind::BruteForceAccount
            | FindingKind::BruteForceIp
            | FindingKind::SlowBruteForce
            | FindingKind::ScannerBurst
            | FindingKind::TrafficSpike
            | FindingKind::NewCountryLogin => Severity::Medium,
            FindingKind::SensitivePathProbe
            | FindingKind::NewAsnLogin
            | FindingKind::NewNetworkLogin
            | FindingKind::UnusualLoginHour => Severity::Low,
        }
    }

    /// ECS `event.category` of the finding.
    fn category(self) -> &'static str {
        match self {
            FindingKind::ScannerBurst
            | FindingKind::SensitivePathProbe
            | FindingKind::TrafficSpike => "intrusion_detection",
            _ => "authentication",
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One anomaly: what, about whom, baseline versus observed, and the evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Kind.
    pub kind: FindingKind,
    /// When it was found (ms since the Unix epoch; the time of the last evidence).
    pub timestamp_ms: i64,
    /// Severity (the kind's default unless raised).
    pub severity: Severity,
    /// The client address concerned, when there is one.
    pub source_ip: Option<IpAddr>,
    /// The account concerned, when there is one.
    pub user: Option<String>,
    /// The route concerned (traffic spikes per route).
    pub route: Option<String>,
    /// What the observation is compared with (e.g. `"failed logins per 10m, limit 5"`).
    pub baseline: String,
    /// What was observed (e.g. `"7"`).
    pub observed: String,
    /// One sentence for people: baseline versus observed.
    pub explanation: String,
    /// Ids of the events that make the case (`event.id` or request id), oldest first.
    pub evidence: Vec<String>,
}

impl Finding {
    /// The subject an incident is about: `ip:…`, `user:…`, `route:…` or `global`.
    pub fn subject(&self) -> String {
        match (&self.user, self.source_ip, &self.route) {
            (Some(user), _, _) => format!("user:{user}"),
            (None, Some(ip), _) => format!("ip:{ip}"),
            (None, None, Some(route)) => format!("route:{route}"),
            (None, None, None) => "global".to_owned(),
        }
    }

    /// The security event recording this finding.
    pub fn to_event(&self) -> SecurityEvent {
        let mut event = SecurityEvent::new(
            &format!("{FINDING_ACTION_PREFIX}{}", self.kind.as_str()),
            self.kind.category(),
            self.severity,
            self.explanation.clone(),
        );
        event.timestamp_ms = self.timestamp_ms;
        event.outcome = EventOutcome::Unknown;
        event.source_ip = self.source_ip;
        event.route = self.route.clone();
        let fields = &mut event.fields;
        fields.insert("event.kind".into(), "alert".into());
        fields.insert("event.type".into(), "indicator".into());
        if let Some(user) = &self.user {
            fields.insert("user.name".into(), user.clone().into());
        }
        fields.insert("palisade.finding.kind".into(), self.kind.as_str().into());
        fields.insert("palisade.finding.subject".into(), self.subject().into());
        fields.insert(
            "palisade.finding.baseline".into(),
            self.baseline.clone().into(),
        );
        fields.insert(
            "palisade.finding.observed".into(),
            self.observed.clone().into(),
        );
        fields.insert(
            "palisade.finding.evidence".into(),
            Value::Array(self.evidence.iter().cloned().map(Value::from).collect()),
        );
        event
    }
}

/// Reads a finding back from its event (what alerting and responses consume).
pub fn finding_from_event(event: &SecurityEvent) -> Option<Finding> {
    let kind = FindingKind::parse(event.action.strip_prefix(FINDING_ACTION_PREFIX)?)?;
    let text = |key: &str| {
        event
            .fields
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Some(Finding {
        kind,
        timestamp_ms: event.timestamp_ms,
        severity: event.severity,
        source_ip: event.source_ip,
        user: text("user.name"),
        route: event.route.clone(),
        baseline: text("palisade.finding.baseline").unwrap_or_default(),
        observed: text("palisade.finding.observed").unwrap_or_default(),
        explanation: event.message.clone(),
        evidence: event
            .fields
            .get("palisade.finding.evidence")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names_and_events() {
        for kind in FindingKind::ALL {
            assert_eq!(FindingKind::parse(kind.as_str()), Some(kind));
            let finding = Finding {
                kind,
                timestamp_ms: 1_000,
                severity: kind.severity(),
                source_ip: Some("192.0.2.7".parse().expect("ip")),
                user: Some("alice".into()),
                route: None,
                baseline: "limit 5".into(),
                observed: "7".into(),
                explanation: "x".into(),
                evidence: vec!["r1".into(), "r2".into()],
            };
            assert_eq!(finding_from_event(&finding.to_event()), Some(finding));
        }
    }
}
