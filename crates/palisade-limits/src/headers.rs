//! `RateLimit`, `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers, structured-field
//! lists) and `Retry-After` values.

use std::fmt::Write as _;
use std::time::Duration;

use http::HeaderValue;

/// A policy as announced in `RateLimit-Policy`: `"<name>";q=<quota>;w=<window seconds>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Policy {
    /// A token-safe name (`ip`, `api_key`, `quota-daily`, …).
    pub name: String,
    pub quota: u64,
    pub window_secs: u64,
}

/// The state of one policy for one request: `"<name>";r=<remaining>;t=<seconds to reset>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PolicyState {
    pub remaining: u64,
    pub reset: Duration,
}

/// Whole seconds, rounded up (a client retrying after that long is never too early).
pub(crate) fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// `RateLimit-Policy` listing every policy.
pub(crate) fn policy_header(policies: &[Policy]) -> Option<HeaderValue> {
    let mut value = String::new();
    for policy in policies {
        if !value.is_empty() {
            value.push_str(", ");
        }
        let _ = write!(
            value,
            "\"{}\";q={};w={}",
            policy.name, policy.quota, policy.window_secs
        );
    }
    HeaderValue::from_str(&value)
        .ok()
        .filter(|_| !value.is_empty())
}

/// `RateLimit` for the policy closest to its limit.
pub(crate) fn state_header(policy: &Policy, state: PolicyState) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "\"{}\";r={};t={}",
        policy.name,
        state.remaining,
        ceil_secs(state.reset)
    ))
    .ok()
}

/// `Retry-After` in whole seconds, at least 1.
pub(crate) fn retry_after(duration: Duration) -> HeaderValue {
    HeaderValue::from(ceil_secs(duration).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_structured_field_lists() {
        let policies = [
            Policy {
                name: "ip".into(),
                quota: 100,
                window_secs: 60,
            },
            Policy {
                name: "quota-daily".into(),
                quota: 1000,
                window_secs: 86_400,
            },
        ];
        assert_eq!(
            policy_header(&policies).unwrap(),
            r#""ip";q=100;w=60, "quota-daily";q=1000;w=86400"#
        );
        let state = PolicyState {
            remaining: 0,
            reset: Duration::from_millis(1500),
        };
        assert_eq!(
            state_header(&policies[0], state).unwrap(),
            r#""ip";r=0;t=2"#
        );
        assert_eq!(retry_after(Duration::from_millis(10)), "1");
        assert_eq!(retry_after(Duration::from_secs(30)), "30");
        assert!(policy_header(&[]).is_none());
    }
}
