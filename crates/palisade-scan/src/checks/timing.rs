//! Statistical confirmation of time-based injections. A payload that makes the server wait
//! `n` seconds is sent with several delays in a shuffled order (zero included, twice); the
//! response times must rise with the requested delay: Pearson correlation ≥ 0.95, a slope
//! between 0.7 and 1.6 seconds per requested second, and every delayed response at least
//! 80 % of its delay slower than the fastest zero-delay response. Network jitter, a slow
//! page or a server that is busy for other reasons does not pass all three.

use std::time::Duration;

use crate::error::ScanError;
use crate::http::Exchange;

/// The delays (seconds) sent to confirm, in this order.
pub const DELAYS: [u32; 6] = [2, 0, 1, 3, 0, 2];
/// The delay of the first screening probe.
pub const SCREEN_DELAY: u32 = 2;

/// The measured delays when confirmed.
#[derive(Debug, Clone)]
pub struct Confirmed {
    /// (requested seconds, measured seconds).
    pub samples: Vec<(u32, f64)>,
    /// Pearson correlation.
    pub correlation: f64,
    /// Seconds of response time per requested second.
    pub slope: f64,
    /// The response of the longest requested delay.
    pub exchange: Exchange,
}

/// Screens with one probe, then confirms with [`DELAYS`]. `send(n)` sends the payload that
/// waits `n` seconds; `baseline` is the normal response time.
pub fn confirm(
    baseline: Duration,
    send: impl Fn(u32) -> Result<Exchange, ScanError>,
) -> Result<Option<Confirmed>, ScanError> {
    let screen = send(SCREEN_DELAY)?;
    if screen.elapsed.as_secs_f64() < baseline.as_secs_f64() + 0.8 * f64::from(SCREEN_DELAY) {
        return Ok(None);
    }
    let mut samples = Vec::with_capacity(DELAYS.len());
    let mut longest: Option<Exchange> = None;
    for delay in DELAYS {
        let exchange = send(delay)?;
        samples.push((delay, exchange.elapsed.as_secs_f64()));
        if delay == 3 {
            longest = Some(exchange);
        }
    }
    let Some(exchange) = longest else {
        return Ok(None);
    };
    Ok(evaluate(&samples).map(|(correlation, slope)| Confirmed {
        samples,
        correlation,
        slope,
        exchange,
    }))
}

/// (correlation, slope) when the samples show a delay that follows the request.
pub fn evaluate(samples: &[(u32, f64)]) -> Option<(f64, f64)> {
    let n = samples.len() as f64;
    if samples.len() < 4 {
        return None;
    }
    let mean_x = samples.iter().map(|(x, _)| f64::from(*x)).sum::<f64>() / n;
    let mean_y = samples.iter().map(|(_, y)| *y).sum::<f64>() / n;
    let mut sxy = 0.0;
    let mut sxx = 0.0;
    let mut syy = 0.0;
    for (x, y) in samples {
        let dx = f64::from(*x) - mean_x;
        let dy = y - mean_y;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    let correlation = sxy / (sxx.sqrt() * syy.sqrt());
    let slope = sxy / sxx;
    let fastest_zero = samples
        .iter()
        .filter(|(x, _)| *x == 0)
        .map(|(_, y)| *y)
        .fold(f64::INFINITY, f64::min);
    let each_delayed = samples
        .iter()
        .filter(|(x, _)| *x > 0)
        .all(|(x, y)| y - fastest_zero >= 0.8 * f64::from(*x));
    (correlation >= 0.95 && (0.7..=1.6).contains(&slope) && each_delayed)
        .then_some((correlation, slope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_delay_passes() {
        let samples = [
            (2, 2.05),
            (0, 0.01),
            (1, 1.02),
            (3, 3.01),
            (0, 0.02),
            (2, 2.0),
        ];
        let (r, slope) = evaluate(&samples).unwrap_or_else(|| panic!("not confirmed"));
        assert!(r > 0.99 && (slope - 1.0).abs() < 0.05);
    }

    #[test]
    fn a_slow_page_and_jitter_fail() {
        // Uniformly slow: no correlation with the requested delay.
        let slow = [(2, 2.5), (0, 2.4), (1, 2.6), (3, 2.5), (0, 2.5), (2, 2.4)];
        assert!(evaluate(&slow).is_none());
        // One outlier spike at the long delay: correlation may be high but the 1-second and
        // 2-second probes were not delayed.
        let spike = [(2, 0.1), (0, 0.1), (1, 0.1), (3, 3.5), (0, 0.1), (2, 0.1)];
        assert!(evaluate(&spike).is_none());
    }
}
