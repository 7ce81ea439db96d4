//! Configuration of shared state and of rate limits, quotas and bans at the edge: the
//! `[state]` table and the per-route `rate_limit` / `quota` fields.
//!
//! ```toml
//! [state]
//! backend = "redis"                          # default "local" (memory + data_dir/state.sqlite3)
//! redis_url = "env:PALISADE_REDIS_URL"       # a secret reference: the URL may hold a password
//! key_prefix = "palisade:"
//! fail_mode = "local"                        # while Redis is unreachable: "local", "open", "closed"
//! [state.fail_modes]                         # per-feature overrides
//! rate_limit = "open"
//! quota = "closed"
//!
//! [[site.route]]
//! path = "/api/"
//! upstream = "app"
//! rate_limit = [
//!   { by = "ip", rate = "100/min", burst = 20 },
//!   { by = "api_key", rate = "10/s" },
//! ]
//! quota = { by = "api_key", daily = 1000, monthly = 20000 }
//! ```

use std::time::Duration;

use serde::Deserialize;

use crate::Secret;

/// Where counters, limits, locks, bans, quotas and key metadata live.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// "local" (default): in this process, persisted in `data_dir/state.sqlite3`; "redis": shared
    /// by every gateway using the same Redis.
    #[serde(default)]
    pub backend: StateBackend,
    /// Redis URL (`redis://[user:password@]host:port[/db]`), as a secret reference
    /// (`env:NAME`, `file:PATH`). Required with `backend = "redis"`.
    #[serde(default)]
    pub redis_url: Option<Secret>,
    /// Prefix of every Redis key (several deployments may share one Redis).
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
    /// What features do while Redis is unreachable (default "local": decide on this gateway).
    #[serde(default)]
    pub fail_mode: StateFailMode,
    /// Per-feature overrides of `fail_mode`.
    #[serde(default)]
    pub fail_modes: StateFailModes,
    /// Time allowed for one Redis operation (default 250ms).
    #[serde(
        default = "default_op_timeout",
        with = "crate::model::humantime_serde_compat"
    )]
    pub op_timeout: Duration,
}

impl Default for State {
    fn default() -> Self {
        State {
            backend: StateBackend::Local,
            redis_url: None,
            key_prefix: default_key_prefix(),
            fail_mode: StateFailMode::Local,
            fail_modes: StateFailModes::default(),
            op_timeout: default_op_timeout(),
        }
    }
}

fn default_key_prefix() -> String {
    "palisade:".to_owned()
}

fn default_op_timeout() -> Duration {
    Duration::from_millis(250)
}

/// The state backend.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StateBackend {
    /// In process, persisted in SQLite.
    #[default]
    Local,
    /// Redis.
    Redis,
}

/// Behaviour of a feature while Redis is unreachable.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StateFailMode {
    /// Decide from an in-memory store on this gateway.
    #[default]
    Local,
    /// Allow.
    Open,
    /// Refuse.
    Closed,
}

/// Per-feature overrides of [`State::fail_mode`].
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StateFailModes {
    /// Rate limits.
    #[serde(default)]
    pub rate_limit: Option<StateFailMode>,
    /// Quotas.
    #[serde(default)]
    pub quota: Option<StateFailMode>,
    /// Account lock checks.
    #[serde(default)]
    pub lock: Option<StateFailMode>,
}

/// What a rate limit or quota counts by.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum LimitBy {
    /// The client address.
    Ip,
    /// The authenticated API key (requests without one count by client address).
    ApiKey,
    /// The authenticated user (requests without one count by client address).
    User,
    /// The route as a whole (all clients together).
    Route,
}

impl LimitBy {
    /// The config spelling (`ip`, `api_key`, `user`, `route`).
    pub fn as_str(self) -> &'static str {
        match self {
            LimitBy::Ip => "ip",
            LimitBy::ApiKey => "api_key",
            LimitBy::User => "user",
            LimitBy::Route => "route",
        }
    }
}

/// One rate limit of a route.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateLimitRule {
    /// What is counted.
    pub by: LimitBy,
    /// "N/unit" (units: s, sec, second, m, min, minute, h, hour, d, day) or "N/<duration>"
    /// such as "5/10s".
    pub rate: RateSpec,
    /// Requests allowed at once (default: the rate's N).
    #[serde(default)]
    pub burst: Option<u32>,
}

/// A parsed rate: `count` per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSpec {
    /// Requests per period (at least 1).
    pub count: u32,
    /// The period (non-zero).
    pub period: Duration,
}

impl<'de> Deserialize<'de> for RateSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_rate(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid rate {text:?}: expected \"N/unit\" with N >= 1 and unit s, min, h or day (e.g. \"100/min\", \"5/10s\")"
            ))
        })
    }
}

/// Parses "100/min", "10/s", "5/10s", "1000/day".
pub fn parse_rate(text: &str) -> Option<RateSpec> {
    let (count, unit) = text.split_once('/')?;
    let count: u32 = count.trim().parse().ok().filter(|&n| n > 0)?;
    let unit = unit.trim();
    let period = match unit {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        "d" | "day" => Duration::from_secs(86_400),
        other => humantime::parse_duration(other).ok()?,
    };
    (!period.is_zero()).then_some(RateSpec { count, period })
}

/// A route's quota.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QuotaRule {
    /// What is counted (usually `api_key`).
    pub by: LimitBy,
    /// Requests per UTC day.
    #[serde(default)]
    pub daily: Option<u64>,
    /// Requests per UTC month.
    #[serde(default)]
    pub monthly: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_in_every_spelling() {
        assert_eq!(
            parse_rate("100/min"),
            Some(RateSpec {
                count: 100,
                period: Duration::from_secs(60)
            })
        );
        assert_eq!(
            parse_rate("10/s").map(|r| r.period),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            parse_rate("5/10s").map(|r| r.period),
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse_rate("1000/day").map(|r| r.count), Some(1000));
        for bad in ["0/min", "ten/min", "10", "10/fortnightly", "10/0s", "-1/s"] {
            assert_eq!(parse_rate(bad), None, "{bad}");
        }
    }
}
