//! Automatic responses to findings: a temporary IP ban (escalating on repeat),
//! alert only, or nothing; allowlisted networks and users are never banned.
//!
//! Bans go through a [`BanEnforcer`] (the shared state store in the binary, so
//! the gateway enforces them at once); each ban is itself recorded as a
//! `response_ip_banned` event, and a refused or failed ban as
//! `response_ban_failed` / `response_ban_skipped`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use palisade_core::{EventOutcome, SecurityEvent, Severity};

use crate::error::MonitorError;
use crate::finding::{Finding, FindingKind};

/// What to do about one kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseAction {
    /// Ban the finding's client address (and alert).
    Ban,
    /// Record and alert, nothing more.
    Alert,
    /// Record only (alerting skips it).
    Record,
}

impl ResponseAction {
    /// `ban`, `alert` or `record` (the event field `palisade.response`).
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseAction::Ban => "ban",
            ResponseAction::Alert => "alert",
            ResponseAction::Record => "record",
        }
    }

    /// Parses [`ResponseAction::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        [
            ResponseAction::Ban,
            ResponseAction::Alert,
            ResponseAction::Record,
        ]
        .into_iter()
        .find(|a| a.as_str() == name)
    }
}

/// Ban durations: `base`, doubling for every repeat, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BanDurations {
    /// First ban.
    pub base: Duration,
    /// Longest ban.
    pub max: Duration,
    /// A ban counts as a repeat when the previous one ended less than this ago.
    pub forget_after: Duration,
}

impl Default for BanDurations {
    /// 15 minutes, doubling up to 24 hours, repeats remembered for 24 hours.
    fn default() -> Self {
        BanDurations {
            base: Duration::from_secs(15 * 60),
            max: Duration::from_secs(24 * 3600),
            forget_after: Duration::from_secs(24 * 3600),
        }
    }
}

/// Which response each finding kind gets, and who is exempt.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponsePolicy {
    /// Per kind; kinds not listed get [`ResponsePolicy::default_action`].
    pub actions: HashMap<FindingKind, ResponseAction>,
    /// For kinds not in `actions`.
    pub default_action: ResponseAction,
    /// Ban durations.
    pub bans: BanDurations,
    /// Addresses in these networks are never banned.
    pub allow_networks: Vec<IpNet>,
    /// Findings about these users (lower-case) are recorded only.
    pub allow_users: Vec<String>,
}

impl Default for ResponsePolicy {
    /// Bans for brute force from one address, credential stuffing and scanner
    /// bursts; alerts for the rest; no allowlist.
    fn default() -> Self {
        let actions = [
            (FindingKind::BruteForceIp, ResponseAction::Ban),
            (FindingKind::CredentialStuffing, ResponseAction::Ban),
            (FindingKind::ScannerBurst, ResponseAction::Ban),
        ]
        .into_iter()
        .collect();
        ResponsePolicy {
            actions,
            default_action: ResponseAction::Alert,
            bans: BanDurations::default(),
            allow_networks: Vec::new(),
            allow_users: Vec::new(),
        }
    }
}

impl ResponsePolicy {
    /// The action for a finding, allowlists applied.
    pub fn action_for(&self, finding: &Finding) -> ResponseAction {
        let user_allowed = finding.user.as_ref().is_some_and(|user| {
            self.allow_users
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(user))
        });
        if user_allowed {
            return ResponseAction::Record;
        }
        let action = self
            .actions
            .get(&finding.kind)
            .copied()
            .unwrap_or(self.default_action);
        match (action, finding.source_ip) {
            (ResponseAction::Ban, Some(ip)) if self.is_allowed_ip(ip) => ResponseAction::Alert,
            (ResponseAction::Ban, None) => ResponseAction::Alert,
            (action, _) => action,
        }
    }

    /// Whether `ip` is in an allowlisted network.
    pub fn is_allowed_ip(&self, ip: IpAddr) -> bool {
        self.allow_networks.iter().any(|net| net.contains(&ip))
    }
}

/// A ban as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedBan {
    /// How long it lasts.
    pub ttl: Duration,
    /// Earlier bans of the address within the repeat memory (0 = first).
    pub repeat: u32,
}

/// Whatever enforces bans (the binary passes the shared state store).
pub trait BanEnforcer: Send + 'static {
    /// Bans `ip` for `durations.base · 2^repeat` (at most `durations.max`).
    fn ban(
        &mut self,
        ip: IpAddr,
        durations: &BanDurations,
        reason: &str,
        source: &str,
    ) -> Result<AppliedBan, MonitorError>;
}

/// Escalating bans kept in memory (tests, and a monitor without a state store;
/// nothing enforces them).
#[derive(Debug, Default)]
pub struct MemoryBans {
    /// (ip, when the last ban ends in ms, repeat) per address; uses the wall clock.
    pub bans: HashMap<IpAddr, (i64, u32)>,
}

impl BanEnforcer for MemoryBans {
    fn ban(
        &mut self,
        ip: IpAddr,
        durations: &BanDurations,
        _reason: &str,
        _source: &str,
    ) -> Result<AppliedBan, MonitorError> {
        let now = palisade_events::now_ms();
        let forget = i64::try_from(durations.forget_after.as_millis()).unwrap_or(i64::MAX);
        let repeat = match self.bans.get(&ip) {
            Some((until, repeat)) if now < until.saturating_add(forget) => repeat + 1,
            _ => 0,
        };
        let factor = 1u32.checked_shl(repeat.min(31)).unwrap_or(u32::MAX);
        let ttl = durations.base.saturating_mul(factor).min(durations.max);
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        self.bans.insert(ip, (now.saturating_add(ttl_ms), repeat));
        Ok(AppliedBan { ttl, repeat })
    }
}

/// Applies a [`ResponsePolicy`] to findings.
pub struct Responder {
    policy: ResponsePolicy,
    enforcer: Box<dyn BanEnforcer>,
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Responder {
    /// A responder banning through `enforcer`.
    pub fn new(policy: ResponsePolicy, enforcer: Box<dyn BanEnforcer>) -> Self {
        Responder { policy, enforcer }
    }

    /// Decides and applies the response to `finding`. Returns the action taken
    /// and the events to record about it (a ban, or a failed ban).
    pub fn respond(&mut self, finding: &Finding) -> (ResponseAction, Vec<SecurityEvent>) {
        let action = self.policy.action_for(finding);
        let (ResponseAction::Ban, Some(ip)) = (action, finding.source_ip) else {
            return (action, Vec::new());
        };
        let reason = format!("{}: {}", finding.kind, finding.explanation);
        let source = format!("monitor:{}", finding.kind);
        let event = match self.enforcer.ban(ip, &self.policy.bans, &reason, &source) {
            Ok(applied) => {
                metrics::counter!("palisade_monitor_bans_total", "kind" => finding.kind.as_str())
                    .increment(1);
                let mut event = SecurityEvent::new(
                    "response_ip_banned",
                    "intrusion_detection",
                    Severity::High,
                    format!(
                        "{ip} banned for {} after {} (ban number {})",
                        humanize(applied.ttl),
                        finding.kind,
                        applied.repeat + 1
                    ),
                );
                event.outcome = EventOutcome::Success;
                event.fields.insert("event.type".into(), "denied".into());
                event
                    .fields
                    .insert("palisade.ban.ttl_s".into(), applied.ttl.as_secs().into());
                event
                    .fields
                    .insert("palisade.ban.repeat".into(), applied.repeat.into());
                event
            }
            Err(error) => {
                let mut event = SecurityEvent::new(
                    "response_ban_failed",
                    "intrusion_detection",
                    Severity::High,
                    format!("{ip} could not be banned after {}: {error}", finding.kind),
                );
                event.outcome = EventOutcome::Failure;
                event
            }
        };
        let mut event = event;
        event.timestamp_ms = finding.timestamp_ms;
        event.source_ip = Some(ip);
        event
            .fields
            .insert("palisade.finding.kind".into(), finding.kind.as_str().into());
        (action, vec![event])
    }
}

/// `15m`, `1h`, `90s` — whole units.
fn humanize(ttl: Duration) -> String {
    let secs = ttl.as_secs();
    match secs {
        s if s % 3600 == 0 && s > 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: FindingKind, ip: &str, user: Option<&str>) -> Finding {
        Finding {
            kind,
            timestamp_ms: 0,
            severity: kind.severity(),
            source_ip: Some(ip.parse().expect("ip")),
            user: user.map(str::to_owned),
            route: None,
            baseline: String::new(),
            observed: String::new(),
            explanation: "x".into(),
            evidence: Vec::new(),
        }
    }

    #[test]
    fn bans_escalate_and_allowlists_hold() {
        let mut policy = ResponsePolicy {
            allow_networks: vec!["10.0.0.0/8".parse().expect("net")],
            allow_users: vec!["monitoring".into()],
            ..ResponsePolicy::default()
        };
        policy.bans.base = Duration::from_secs(60);
        policy.bans.max = Duration::from_secs(200);
        let mut responder = Responder::new(policy, Box::new(MemoryBans::default()));
        let ttls: Vec<u64> = (0..4)
            .map(|_| {
                let (action, events) =
                    responder.respond(&finding(FindingKind::ScannerBurst, "192.0.2.1", None));
                assert_eq!(action, ResponseAction::Ban);
                events[0].fields["palisade.ban.ttl_s"]
                    .as_u64()
                    .expect("ttl")
            })
            .collect();
        assert_eq!(ttls, [60, 120, 200, 200]);
        let (action, events) =
            responder.respond(&finding(FindingKind::ScannerBurst, "10.1.2.3", None));
        assert_eq!((action, events.len()), (ResponseAction::Alert, 0));
        let (action, _) = responder.respond(&finding(
            FindingKind::BruteForceIp,
            "192.0.2.9",
            Some("Monitoring"),
        ));
        assert_eq!(action, ResponseAction::Record);
        let (action, _) = responder.respond(&finding(
            FindingKind::NewCountryLogin,
            "192.0.2.9",
            Some("bob"),
        ));
        assert_eq!(action, ResponseAction::Alert);
    }
}
