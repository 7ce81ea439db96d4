//! [`LimitsInspector`]: per-route GCRA rate limits and daily / monthly quotas.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{HeaderName, StatusCode};
use palisade_config::{Config, LimitBy, QuotaRule, RateLimitRule};
use palisade_core::{
    EventOutcome, ExchangeSummary, Inspection, Inspector, RequestHead, SecurityEvent, Severity,
    Verdict,
};
use palisade_state::{QuotaPeriod, Rate, RateDecision, StateStore};

use crate::headers::{self, Policy, PolicyState};

const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// Enforces the `rate_limit` and `quota` settings of every route. Runs after the access
/// inspector (for `by = "api_key"` / `"user"`).
#[derive(Debug, Clone)]
pub struct LimitsInspector {
    store: StateStore,
    by_route: Arc<HashMap<String, Arc<RoutePolicy>>>,
}

/// The compiled limits of one route.
#[derive(Debug)]
struct RoutePolicy {
    route: String,
    rates: Vec<RateRule>,
    quotas: Vec<QuotaLimit>,
    /// Every policy, for `RateLimit-Policy` (rates first, then quotas, in order).
    policies: Vec<Policy>,
}

#[derive(Debug)]
struct RateRule {
    by: LimitBy,
    rate: Rate,
    burst: u32,
}

#[derive(Debug)]
struct QuotaLimit {
    by: LimitBy,
    period: QuotaPeriod,
    limit: u64,
}

impl LimitsInspector {
    /// The limits of every route of `config`, kept in `store`.
    pub fn new(config: &Config, store: StateStore) -> Self {
        let mut by_route = HashMap::new();
        for site in &config.sites {
            for route in &site.routes {
                if route.rate_limit.is_empty() && route.quota.is_none() {
                    continue;
                }
                let name = site.route_name(route);
                let policy = RoutePolicy::new(&name, &route.rate_limit, route.quota.as_ref());
                by_route.insert(name, Arc::new(policy));
            }
        }
        LimitsInspector {
            store,
            by_route: Arc::new(by_route),
        }
    }

    /// Whether any route has limits (the binary may leave the inspector out otherwise).
    pub fn is_empty(&self) -> bool {
        self.by_route.is_empty()
    }
}

impl RoutePolicy {
    fn new(route: &str, rules: &[RateLimitRule], quota: Option<&QuotaRule>) -> RoutePolicy {
        let mut policies = Vec::new();
        let mut names: HashMap<&'static str, usize> = HashMap::new();
        let mut unique_name = |base: &'static str| {
            let seen = names.entry(base).or_insert(0);
            *seen += 1;
            if *seen == 1 {
                base.to_owned()
            } else {
                format!("{base}-{seen}")
            }
        };
        let mut rates = Vec::new();
        for rule in rules {
            let Some(rate) = Rate::new(rule.rate.count, rule.rate.period) else {
                continue;
            };
            let burst = rule.burst.unwrap_or(rule.rate.count).max(1);
            policies.push(Policy {
                name: unique_name(rule.by.as_str()),
                quota: u64::from(rule.rate.count),
                window_secs: rule.rate.period.as_secs().max(1),
            });
            rates.push(RateRule {
                by: rule.by,
                rate,
                burst,
            });
        }
        let mut quotas = Vec::new();
        if let Some(quota) = quota {
            for (period, limit, name, window_secs) in [
                (QuotaPeriod::Daily, quota.daily, "quota-daily", 86_400),
                (
                    QuotaPeriod::Monthly,
                    quota.monthly,
                    "quota-monthly",
                    2_592_000,
                ),
            ] {
                if let Some(limit) = limit {
                    policies.push(Policy {
                        name: unique_name(name),
                        quota: limit,
                        window_secs,
                    });
                    quotas.push(QuotaLimit {
                        by: quota.by,
                        period,
                        limit,
                    });
                }
            }
        }
        RoutePolicy {
            route: route.to_owned(),
            rates,
            quotas,
            policies,
        }
    }
}

impl Inspector for LimitsInspector {
    fn name(&self) -> &str {
        "limits"
    }

    fn wants_request_body(&self) -> bool {
        false
    }

    fn start(&self, head: &RequestHead) -> Box<dyn Inspection> {
        Box::new(LimitsInspection {
            store: self.store.clone(),
            policy: self.by_route.get(&head.route).cloned(),
            refused: None,
        })
    }
}

struct LimitsInspection {
    store: StateStore,
    policy: Option<Arc<RoutePolicy>>,
    refused: Option<Refusal>,
}

/// Why a request was refused, for its event.
struct Refusal {
    policy: String,
    by: LimitBy,
    subject: String,
    retry_after: Duration,
}

impl Inspection for LimitsInspection {
    fn request_headers(&mut self, head: &RequestHead) -> Verdict {
        let Some(policy) = self.policy.clone() else {
            return Verdict::Allow;
        };
        // The policy closest to its limit: its state goes into `RateLimit`.
        let mut closest: Option<(usize, PolicyState)> = None;
        let mut note = |index: usize, state: PolicyState| {
            if closest.is_none_or(|(_, best)| state.remaining < best.remaining) {
                closest = Some((index, state));
            }
        };
        let blocking = self.store.blocking();
        let mut refusal = None;
        for (index, rule) in policy.rates.iter().enumerate() {
            let subject = subject(head, rule.by);
            let key = format!("rl:{}:{index}:{subject}", policy.route);
            match blocking.rate_check(&key, rule.rate, rule.burst, 1) {
                Ok(RateDecision::Allowed { remaining, reset }) => note(
                    index,
                    PolicyState {
                        remaining: u64::from(remaining),
                        reset,
                    },
                ),
                Ok(RateDecision::Limited { retry_after, reset }) => {
                    note(
                        index,
                        PolicyState {
                            remaining: 0,
                            reset,
                        },
                    );
                    refusal = Some((index, rule.by, subject, retry_after));
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, route = %policy.route, "rate limit check failed; request allowed");
                }
            }
        }
        if refusal.is_none() {
            for (offset, quota) in policy.quotas.iter().enumerate() {
                let index = policy.rates.len() + offset;
                let subject = subject(head, quota.by);
                let key = format!("quota:{}:{subject}", policy.route);
                match blocking.quota_charge(&key, quota.period, quota.limit, 1) {
                    Ok(decision) => {
                        let reset = decision
                            .resets_at
                            .duration_since(SystemTime::now())
                            .unwrap_or(Duration::ZERO);
                        let remaining = decision.limit.saturating_sub(decision.used);
                        note(index, PolicyState { remaining, reset });
                        if !decision.allowed {
                            refusal = Some((index, quota.by, subject, reset));
                            break;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, route = %policy.route, "quota charge failed; request allowed");
                    }
                }
            }
        }
        let context = &head.context;
        if let Some(value) = headers::policy_header(&policy.policies) {
            context.insert_response_header(RATELIMIT_POLICY, value);
        }
        if let Some((index, state)) = closest
            && let Some(value) = headers::state_header(&policy.policies[index], state)
        {
            context.insert_response_header(RATELIMIT, value);
        }
        let Some((index, by, subject, retry_after)) = refusal else {
            return Verdict::Allow;
        };
        context
            .insert_response_header(http::header::RETRY_AFTER, headers::retry_after(retry_after));
        let name = policy.policies[index].name.clone();
        let verdict = Verdict::Block {
            status: StatusCode::TOO_MANY_REQUESTS,
            reason: format!("rate limit \"{name}\" exceeded"),
            rule_ids: vec![format!("palisade-ratelimit:{name}")],
        };
        self.refused = Some(Refusal {
            policy: name,
            by,
            subject,
            retry_after,
        });
        verdict
    }

    fn logging(&mut self, head: &RequestHead, summary: &ExchangeSummary) -> Vec<SecurityEvent> {
        let Some(refusal) = self.refused.take() else {
            return Vec::new();
        };
        let mut event = SecurityEvent::new(
            "excess_rate_limit_exceeded",
            "web",
            Severity::Low,
            format!(
                "rate limit \"{}\" exceeded by {} {}",
                refusal.policy,
                refusal.by.as_str(),
                refusal.subject
            ),
        );
        event.outcome = EventOutcome::Failure;
        event.request_id = Some(head.request_id.clone());
        event.source_ip = Some(head.client_addr.ip());
        event.route = Some(head.route.clone());
        event.rule_ids = vec![format!("palisade-ratelimit:{}", refusal.policy)];
        let fields = &mut event.fields;
        fields.insert("palisade.limit.policy".to_owned(), refusal.policy.into());
        fields.insert("palisade.limit.by".to_owned(), refusal.by.as_str().into());
        fields.insert("palisade.limit.subject".to_owned(), refusal.subject.into());
        fields.insert(
            "palisade.limit.retry_after_s".to_owned(),
            headers::ceil_secs(refusal.retry_after).into(),
        );
        fields.insert(
            "http.response.status_code".to_owned(),
            summary.status.as_u16().into(),
        );
        if let Some(identity) = head.context.identity() {
            fields.insert("user.name".to_owned(), identity.subject.clone().into());
        }
        vec![event]
    }
}

/// What a rule counts by for this request: `ip:<addr>`, `key:<id>`, `user:<name>` or `route`.
/// Without an authenticated identity, `api_key` and `user` rules count by client address.
fn subject(head: &RequestHead, by: LimitBy) -> String {
    let identity = head.context.identity();
    match (by, identity) {
        (LimitBy::Route, _) => "route".to_owned(),
        (LimitBy::ApiKey, Some(identity)) => {
            format!(
                "key:{}",
                identity.key_id.as_deref().unwrap_or(&identity.subject)
            )
        }
        (LimitBy::User, Some(identity)) => format!("user:{}", identity.subject),
        _ => format!("ip:{}", head.client_addr.ip()),
    }
}
