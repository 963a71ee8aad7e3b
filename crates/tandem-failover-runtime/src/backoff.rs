//! How long to wait before retrying a failed pass: 800 ms doubling to 30 s,
//! as kube-rs's controllers do (`kube-runtime` `DefaultBackoff`), so a
//! failure that clears in a second is retried within one, and a failure that
//! lasts is not hammered. Each delay is drawn from `[3/4 d, d]`: two
//! controllers that failed on the same outage do not retry in step.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    /// Failures in a row so far.
    failures: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_millis(800), Duration::from_secs(30))
    }
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff { min, max: max.max(min), failures: 0 }
    }

    /// The delay before the attempt after `failures` failures, before jitter.
    pub fn nominal(&self, failures: u32) -> Duration {
        let factor = 2u32.checked_pow(failures.saturating_sub(1)).unwrap_or(u32::MAX);
        self.min.checked_mul(factor).map_or(self.max, |d| d.min(self.max))
    }

    /// Counts one more failure and returns the (jittered) delay before the retry.
    pub fn next_delay(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        jitter(self.nominal(self.failures), rand::random::<f64>())
    }

    /// A pass succeeded: the next failure starts from the minimum again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

/// `d` scaled into `[3/4 d, d]` by `r` in `[0, 1)`.
fn jitter(d: Duration, r: f64) -> Duration {
    d.mul_f64(0.75 + 0.25 * r.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_800ms_to_30s() {
        let b = Backoff::default();
        let ms: Vec<u128> = (1..=9).map(|n| b.nominal(n).as_millis()).collect();
        assert_eq!(ms, vec![800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000, 30_000]);
        assert_eq!(b.nominal(u32::MAX), Duration::from_secs(30), "no overflow after many failures");
    }

    #[test]
    fn jittered_delays_stay_in_the_upper_quarter_and_reset() {
        let mut b = Backoff::default();
        for n in 1..=10 {
            let d = b.next_delay();
            let nominal = b.nominal(n);
            assert!(d <= nominal && d >= nominal.mul_f64(0.75), "failure {n}: {d:?} outside [3/4, 1] of {nominal:?}");
        }
        assert_eq!(b.failures(), 10);
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(800));
        assert_eq!(jitter(Duration::from_secs(4), 0.0), Duration::from_secs(3));
    }
}
