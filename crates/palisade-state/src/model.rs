//! The values the store takes and returns: rates, decisions, locks, bans, quotas.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ipnet::IpNet;
use palisade_core::civil::{civil_from_days, days_from_civil};

/// A rate: `count` events per `period` (e.g. 100 per minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    count: u32,
    period: Duration,
}

impl Rate {
    /// `count` per `period`; `None` when either is zero.
    pub fn new(count: u32, period: Duration) -> Option<Rate> {
        (count > 0 && !period.is_zero()).then_some(Rate { count, period })
    }

    /// Events allowed per period.
    pub fn count(self) -> u32 {
        self.count
    }

    /// The period.
    pub fn period(self) -> Duration {
        self.period
    }

    /// GCRA emission interval (time one unit of cost occupies), in microseconds, at least 1.
    pub(crate) fn interval_us(self) -> i64 {
        let period_us = i64::try_from(self.period.as_micros()).unwrap_or(i64::MAX);
        (period_us / i64::from(self.count)).max(1)
    }
}

/// The answer of a GCRA rate-limit check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// The request fits; its cost was charged.
    Allowed {
        /// Further requests (of cost 1) that would be allowed right now.
        remaining: u32,
        /// Time until the limiter is back to its full burst.
        reset: Duration,
    },
    /// Over the limit; nothing was charged.
    Limited {
        /// Time after which a request of the same cost would be allowed.
        retry_after: Duration,
        /// Time until the limiter is back to its full burst.
        reset: Duration,
    },
}

impl RateDecision {
    /// True for [`RateDecision::Allowed`].
    pub fn is_allowed(&self) -> bool {
        matches!(self, RateDecision::Allowed { .. })
    }
}

/// How long a lock or ban lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockTtl {
    /// Always this long.
    Fixed(Duration),
    /// Doubling on each repeat (see [`Escalation`]).
    Escalating(Escalation),
}

/// Escalating durations: `base`, `2·base`, `4·base`, … capped at `max`. A block counts as a
/// repeat when it starts less than `forget_after` after the previous one ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escalation {
    /// Duration of the first block.
    pub base: Duration,
    /// Longest duration.
    pub max: Duration,
    /// How long the repeat count is remembered after a block ends.
    pub forget_after: Duration,
}

impl Escalation {
    /// The duration of a block that is repeat number `repeat` (0 = first).
    pub fn ttl(&self, repeat: u32) -> Duration {
        let factor = 1u32.checked_shl(repeat.min(31)).unwrap_or(u32::MAX);
        self.base
            .saturating_mul(factor)
            .min(self.max.max(self.base))
    }
}

impl BlockTtl {
    /// Duration of block number `repeat` (0 = first) and how long the record outlives it.
    pub(crate) fn resolve(&self, repeat: u32) -> (Duration, Duration) {
        match self {
            BlockTtl::Fixed(ttl) => (*ttl, Duration::ZERO),
            BlockTtl::Escalating(escalation) => (escalation.ttl(repeat), escalation.forget_after),
        }
    }

    /// How long the repeat count is remembered after a block ends.
    pub(crate) fn forget_after(&self) -> Duration {
        self.resolve(0).1
    }
}

/// An account (or any key) lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInfo {
    /// When the lock ends.
    pub until: SystemTime,
    /// How many locks of this key came before this one within the escalation memory (0 = first).
    pub repeat: u32,
}

impl LockInfo {
    /// Time left from now (zero when over).
    pub fn remaining(&self) -> Duration {
        self.until
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    }
}

/// A ban to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanRequest {
    /// Address or network banned (an address is a /32 or /128).
    pub network: IpNet,
    /// How long; `None` bans until removed.
    pub ttl: Option<BlockTtl>,
    /// Why (shown by `palisade bans list`; never secret material).
    pub reason: String,
    /// Who banned (`cli`, `monitor:scanner_burst`, …).
    pub source: String,
}

/// An active ban.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ban {
    /// Banned network.
    pub network: IpNet,
    /// End of the ban, `None` for permanent bans.
    #[serde(with = "opt_time_ms")]
    pub until: Option<SystemTime>,
    /// Why.
    pub reason: String,
    /// Who banned.
    pub source: String,
    /// When the ban was (last) set.
    #[serde(with = "time_ms")]
    pub created: SystemTime,
    /// Earlier bans of this network within the escalation memory (0 = first).
    pub repeat: u32,
}

impl Ban {
    /// Whether `ip` is inside the banned network.
    pub fn covers(&self, ip: IpAddr) -> bool {
        self.network.contains(&ip)
    }
}

/// The period of a quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuotaPeriod {
    /// A UTC calendar day.
    Daily,
    /// A UTC calendar month.
    Monthly,
}

impl QuotaPeriod {
    /// Stable name (`daily`, `monthly`).
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaPeriod::Daily => "daily",
            QuotaPeriod::Monthly => "monthly",
        }
    }

    /// The period containing `now_ms`: an id (days or months since 1970) and its end (ms).
    pub(crate) fn window(self, now_ms: i64) -> (i64, i64) {
        const DAY_MS: i64 = 86_400_000;
        let day = now_ms.div_euclid(DAY_MS);
        match self {
            QuotaPeriod::Daily => (day, (day + 1) * DAY_MS),
            QuotaPeriod::Monthly => {
                let (year, month, _) = civil_from_days(day);
                let id = year * 12 + (month - 1);
                let (next_year, next_month) = if month == 12 {
                    (year + 1, 1)
                } else {
                    (year, month + 1)
                };
                (id, days_from_civil(next_year, next_month, 1) * DAY_MS)
            }
        }
    }
}

/// The answer of a quota charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaDecision {
    /// Whether the cost fit (and was charged).
    pub allowed: bool,
    /// Units used in this period (after the charge when allowed).
    pub used: u64,
    /// The limit.
    pub limit: u64,
    /// When the period ends and the count starts over.
    pub resets_at: SystemTime,
}

/// Milliseconds since the Unix epoch → `SystemTime`.
pub(crate) fn from_ms(ms: i64) -> SystemTime {
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms as u64)
    } else {
        UNIX_EPOCH
    }
}

/// `SystemTime` → milliseconds since the Unix epoch.
pub(crate) fn to_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Duration → whole milliseconds, saturating.
pub(crate) fn dur_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

mod time_ms {
    pub(super) fn serialize<S: serde::Serializer>(
        time: &std::time::SystemTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(super::to_ms(*time))
    }
}

mod opt_time_ms {
    pub(super) fn serialize<S: serde::Serializer>(
        time: &Option<std::time::SystemTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => serializer.serialize_some(&super::to_ms(*time)),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monthly_window_ends_on_the_first_of_next_month() {
        // 2026-11-29T12:00:00Z
        let now = 1_795_953_600_000;
        let (_, end) = QuotaPeriod::Monthly.window(now);
        assert_eq!(end, 1_796_083_200_000); // 2026-12-01T00:00:00Z
        let (_, end) = QuotaPeriod::Monthly.window(1_796_083_200_000 + 1);
        assert_eq!(end, 1_798_761_600_000); // 2027-01-01T00:00:00Z
        let (_, end) = QuotaPeriod::Daily.window(now);
        assert_eq!(end, 1_795_996_800_000); // 2026-11-30T00:00:00Z
    }

    #[test]
    fn escalation_doubles_up_to_the_cap() {
        let escalation = Escalation {
            base: Duration::from_secs(900),
            max: Duration::from_secs(3600),
            forget_after: Duration::from_secs(86_400),
        };
        assert_eq!(escalation.ttl(0), Duration::from_secs(900));
        assert_eq!(escalation.ttl(1), Duration::from_secs(1800));
        assert_eq!(escalation.ttl(2), Duration::from_secs(3600));
        assert_eq!(escalation.ttl(40), Duration::from_secs(3600));
    }
}
