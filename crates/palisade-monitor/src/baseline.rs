//! Rate baselines: per-minute counts of one series (requests, errors or blocks
//! of one client, user, route, or everything), an EWMA, a ring of recent
//! minutes for robust statistics (median and MAD), and optionally an
//! hour-of-week EWMA for seasonality.
//!
//! The threshold for the current minute is fixed when the minute opens, from
//! the history before it, so each event costs O(1) and a spike is reported as
//! soon as the count crosses it (once per minute). Silent minutes count as
//! zeros (up to the ring length), so a series that is usually quiet has a low
//! baseline.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Length of a bucket.
pub const BUCKET_MS: i64 = 60_000;
/// Minutes kept for median/MAD.
pub const HISTORY_MINUTES: usize = 60;
/// Slots of the seasonal profile (hours of a week).
pub const HOURS_PER_WEEK: usize = 168;
/// EWMA smoothing factor per minute.
const EWMA_ALPHA: f64 = 0.1;
/// EWMA smoothing factor of a seasonal slot (one update per minute of that hour).
const SEASONAL_ALPHA: f64 = 0.05;
/// Minutes of history a seasonal slot needs before it is trusted (3 weeks of that hour).
const SEASONAL_MIN_SAMPLES: u32 = 3 * 60;

/// How a series decides that a minute is anomalous.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpikeRule {
    /// Minimum count in the minute before anything is reported (quiet hours stay quiet).
    pub min_volume: u64,
    /// Robust z-score (median/MAD) the count must reach.
    pub min_z: f64,
    /// The count must also be at least this multiple of the baseline.
    pub min_ratio: f64,
    /// Minutes of history needed before the series can alert.
    pub min_history: usize,
}

/// One series' state (serialisable: persisted as a baseline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateSeries {
    /// Start of the current minute.
    bucket_start: i64,
    /// Count in the current minute.
    count: u64,
    /// Threshold fixed when the minute opened (`None`: not enough history).
    #[serde(default)]
    threshold: Option<f64>,
    /// Expected count fixed when the minute opened (for explanations).
    #[serde(default)]
    expected: f64,
    /// Whether this minute was already reported.
    #[serde(default)]
    reported: bool,
    /// Exponentially weighted mean of per-minute counts.
    ewma: f64,
    /// The last minutes' counts, oldest first.
    history: VecDeque<u32>,
    /// Hour-of-week profile: (ewma, samples), or empty when not kept.
    #[serde(default)]
    seasonal: Vec<(f64, u32)>,
}

/// What crossing a threshold looked like.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    /// Count in the minute so far.
    pub observed: u64,
    /// The expected count (seasonal EWMA, or median of the last hour).
    pub expected: f64,
    /// The threshold crossed.
    pub threshold: f64,
    /// Robust z-score of the count.
    pub z: f64,
    /// Whether the expectation came from the hour-of-week profile.
    pub seasonal: bool,
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Median and MAD of `values`.
pub fn median_mad(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let mut sorted: Vec<f64> = values.collect();
    sorted.sort_by(f64::total_cmp);
    let med = median(&sorted);
    let mut deviations: Vec<f64> = sorted.iter().map(|v| (v - med).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    (med, median(&deviations))
}

/// Hour of the week (0 = Monday 00:00 UTC) of a timestamp.
pub fn hour_of_week(timestamp_ms: i64) -> usize {
    // 1970-01-01 was a Thursday: shift by three days so Monday is 0.
    let hours = timestamp_ms.div_euclid(3_600_000) + 72;
    hours.rem_euclid(HOURS_PER_WEEK as i64) as usize
}

impl RateSeries {
    /// A new series whose first minute contains `now_ms`; `seasonal` keeps an
    /// hour-of-week profile (168 slots; only for few, busy series).
    pub fn new(now_ms: i64, seasonal: bool) -> Self {
        RateSeries {
            bucket_start: now_ms - now_ms.rem_euclid(BUCKET_MS),
            count: 0,
            threshold: None,
            expected: 0.0,
            reported: false,
            ewma: 0.0,
            history: VecDeque::with_capacity(HISTORY_MINUTES),
            seasonal: if seasonal {
                vec![(0.0, 0); HOURS_PER_WEEK]
            } else {
                Vec::new()
            },
        }
    }

    /// Minutes of history.
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    /// The EWMA of per-minute counts.
    pub fn ewma(&self) -> f64 {
        self.ewma
    }

    /// Start of the current minute.
    pub fn bucket_start(&self) -> i64 {
        self.bucket_start
    }

    fn close_minute(&mut self, count: u64) {
        let value = count as f64;
        self.ewma = if self.history.is_empty() {
            value
        } else {
            EWMA_ALPHA * value + (1.0 - EWMA_ALPHA) * self.ewma
        };
        if self.history.len() == HISTORY_MINUTES {
            self.history.pop_front();
        }
        self.history
            .push_back(u32::try_from(count).unwrap_or(u32::MAX));
        if !self.seasonal.is_empty() {
            let slot = &mut self.seasonal[hour_of_week(self.bucket_start)];
            slot.0 = if slot.1 == 0 {
                value
            } else {
                SEASONAL_ALPHA * value + (1.0 - SEASONAL_ALPHA) * slot.0
            };
            slot.1 = slot.1.saturating_add(1);
        }
    }

    /// Closes every minute before the one containing `now_ms` and opens that one.
    pub fn roll_to(&mut self, now_ms: i64, rule: &SpikeRule) {
        let start = now_ms - now_ms.rem_euclid(BUCKET_MS);
        if start <= self.bucket_start {
            return;
        }
        let count = std::mem::take(&mut self.count);
        self.close_minute(count);
        // Silent minutes in between are zeros (at most a ring's worth matter).
        let silent = ((start - self.bucket_start) / BUCKET_MS - 1).min(HISTORY_MINUTES as i64);
        for _ in 0..silent {
            self.close_minute(0);
        }
        self.bucket_start = start;
        self.reported = false;
        self.fix_threshold(rule);
    }

    fn fix_threshold(&mut self, rule: &SpikeRule) {
        if self.history.len() < rule.min_history {
            self.threshold = None;
            return;
        }
        let (med, mad) = median_mad(self.history.iter().map(|&c| f64::from(c)));
        let seasonal = self
            .seasonal
            .get(hour_of_week(self.bucket_start))
            .filter(|(_, samples)| *samples >= SEASONAL_MIN_SAMPLES)
            .map(|(ewma, _)| *ewma);
        let expected = seasonal.unwrap_or(med);
        // MAD is 0 for perfectly steady traffic; Poisson noise is about sqrt(mean).
        let scale = (1.4826 * mad).max(expected.sqrt()).max(1.0);
        let threshold = (expected + rule.min_z * scale)
            .max(rule.min_ratio * expected)
            .max(rule.min_volume as f64);
        self.expected = expected;
        self.threshold = Some(threshold);
    }

    /// Counts `n` events at `now_ms`; returns a spike the first time this
    /// minute's count reaches its threshold.
    pub fn add(&mut self, now_ms: i64, n: u64, rule: &SpikeRule) -> Option<Spike> {
        // A late event (from a minute already closed) counts in the current one.
        self.roll_to(now_ms, rule);
        self.count = self.count.saturating_add(n);
        let threshold = self.threshold?;
        if self.reported || (self.count as f64) < threshold {
            return None;
        }
        self.reported = true;
        let (med, mad) = median_mad(self.history.iter().map(|&c| f64::from(c)));
        let scale = (1.4826 * mad).max(self.expected.sqrt()).max(1.0);
        Some(Spike {
            observed: self.count,
            expected: self.expected,
            threshold,
            z: (self.count as f64 - med) / scale,
            seasonal: self
                .seasonal
                .get(hour_of_week(self.bucket_start))
                .is_some_and(|(_, samples)| *samples >= SEASONAL_MIN_SAMPLES),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: SpikeRule = SpikeRule {
        min_volume: 30,
        min_z: 6.0,
        min_ratio: 3.0,
        min_history: 10,
    };

    #[test]
    fn median_and_mad_are_robust_to_one_outlier() {
        let (med, mad) = median_mad([10.0, 11.0, 9.0, 10.0, 1000.0].into_iter());
        assert_eq!((med, mad), (10.0, 1.0));
    }

    #[test]
    fn steady_traffic_never_spikes_and_a_burst_does_once() {
        let mut series = RateSeries::new(0, false);
        for minute in 0..30 {
            for i in 0..20 {
                let t = minute * BUCKET_MS + i * 1000;
                assert_eq!(series.add(t, 1, &RULE), None, "minute {minute}");
            }
        }
        let burst_start = 30 * BUCKET_MS;
        let spikes: Vec<Spike> = (0..200)
            .filter_map(|i| series.add(burst_start + i * 100, 1, &RULE))
            .collect();
        assert_eq!(spikes.len(), 1);
        assert_eq!(spikes[0].expected, 20.0);
        assert_eq!(
            spikes[0].observed, 60,
            "threshold max(20+6*sqrt(20), 3*20, 30) = 60"
        );
    }

    #[test]
    fn quiet_series_below_the_volume_floor_stay_quiet() {
        let mut series = RateSeries::new(0, false);
        series.add(0, 1, &RULE);
        let t = 20 * BUCKET_MS;
        let spikes = (0..29).filter_map(|i| series.add(t + i, 1, &RULE)).count();
        assert_eq!(spikes, 0, "29 < min_volume 30");
    }

    #[test]
    fn hour_of_week_seasonality_expects_the_morning_rush() {
        let rule = SpikeRule {
            min_volume: 30,
            ..RULE
        };
        // 2026-11-30 is a Monday; office hours 09-17 UTC carry 100 requests a
        // minute, the rest of the day 5.
        let start = palisade_events::ecs::parse_timestamp("2026-11-30T00:00:00Z").expect("ts");
        let rate = |t: i64| {
            if (9..17).contains(&(t / 3_600_000 % 24)) {
                100
            } else {
                5
            }
        };
        let mut seasonal = RateSeries::new(start, true);
        let mut flat = RateSeries::new(start, false);
        let three_weeks = 21 * 24 * 60;
        for minute in 0..three_weeks {
            let t = start + minute * BUCKET_MS;
            seasonal.add(t, rate(t), &rule);
            flat.add(t, rate(t), &rule);
        }
        // Monday 09:00 of the fourth week: the last hour was quiet.
        let monday_nine = start + three_weeks * BUCKET_MS + 9 * 3_600_000;
        for minute in 0..9 * 60 {
            let t = start + three_weeks * BUCKET_MS + minute * BUCKET_MS;
            seasonal.add(t, rate(t), &rule);
            flat.add(t, rate(t), &rule);
        }
        let flat_spike = flat
            .add(monday_nine, 100, &rule)
            .expect("without seasonality: a spike");
        assert_eq!(flat_spike.expected, 5.0);
        assert_eq!(
            seasonal.add(monday_nine, 100, &rule),
            None,
            "the usual Monday rush"
        );
        // Three and a half times the usual rush is a spike against the hour-of-week baseline.
        let spike = seasonal
            .add(monday_nine + 1000, 250, &rule)
            .expect("rush x3.5");
        assert!(spike.seasonal);
        assert!((spike.expected - 100.0).abs() < 1.0, "{spike:?}");
    }

    #[test]
    fn hour_of_week_starts_monday() {
        // 2026-11-30 is a Monday.
        let monday = palisade_events::ecs::parse_timestamp("2026-11-30T00:30:00Z").expect("ts");
        assert_eq!(hour_of_week(monday), 0);
        assert_eq!(hour_of_week(monday - 3_600_000), 167);
    }
}
