//! Jittered exponential backoff for transient failures.
//!
//! The SDKs retry throttling and 5xx on their own (standard retry mode); this
//! is the engine-side layer for what the SDK does not cover: a waiter's read
//! that fails transiently, or a create refused because a dependency is still
//! settling.

use crate::{Ctx, ProviderError, Result};
use rand::Rng;
use std::future::Future;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 6, base: Duration::from_millis(200), cap: Duration::from_secs(20) }
    }
}

impl RetryPolicy {
    /// "Full jitter": a random delay in [0, min(cap, base * 2^attempt)].
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempt.min(16));
        let ceiling = exp.min(self.cap);
        let ms = ceiling.as_millis() as u64;
        Duration::from_millis(if ms == 0 { 0 } else { rand::rng().random_range(0..=ms) })
    }
}

/// Run `op` until it succeeds, fails with a non-retryable error, or runs out of attempts.
pub async fn retry<T, F, Fut>(ctx: &Ctx, what: &str, policy: RetryPolicy, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 0;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_retryable() && attempt + 1 < policy.max_attempts => {
                let d = policy.delay(attempt);
                ctx.report(format!("{what}: {e}; retrying in {} ms", d.as_millis()));
                tokio::time::sleep(d).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

impl From<std::convert::Infallible> for ProviderError {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorClass;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn retries_transient_then_succeeds() {
        let n = AtomicU32::new(0);
        let ctx = Ctx::quiet("x", None);
        let r = retry(&ctx, "op", RetryPolicy::default(), || async {
            if n.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(ProviderError::new(ErrorClass::Transient, "Throttling"))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(n.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn does_not_retry_invalid() {
        let n = AtomicU32::new(0);
        let ctx = Ctx::quiet("x", None);
        let r: Result<()> = retry(&ctx, "op", RetryPolicy::default(), || async {
            n.fetch_add(1, Ordering::SeqCst);
            Err(ProviderError::invalid("bad"))
        })
        .await;
        assert!(r.is_err());
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn delay_is_capped() {
        let p = RetryPolicy { max_attempts: 10, base: Duration::from_millis(100), cap: Duration::from_secs(1) };
        for a in 0..40 {
            assert!(p.delay(a) <= Duration::from_secs(1));
        }
    }
}
