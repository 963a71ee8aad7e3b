//! Waiting until the cloud says a resource is usable (or gone).
//!
//! A resource is done when the cloud reports it ACTIVE / available, not when
//! the create call returns. Polls back off from `first` to `max`, progress is
//! reported with the state seen and the time spent, and the wait fails with a
//! Timeout error after `ctx.timeout`.

use crate::{Ctx, ErrorClass, ProviderError, Result};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// What one poll saw.
pub enum WaitOutcome<T> {
    /// Done, with the final value.
    Ready(T),
    /// Not yet; the state the cloud reports, for progress lines.
    Pending(String),
    /// The cloud reports a terminal failure (CREATION_FAILED).
    Failed(String),
}

#[derive(Debug, Clone, Copy)]
pub struct Waiter {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Waiter {
    fn default() -> Self {
        Waiter { first: Duration::from_millis(100), max: Duration::from_secs(5) }
    }
}

/// Poll `check` until ready, failed, or out of time. Transient poll errors
/// are tolerated (and reported) until the deadline.
pub async fn wait_until<T, F, Fut>(ctx: &Ctx, what: &str, waiter: Waiter, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<WaitOutcome<T>>>,
{
    let start = Instant::now();
    let mut delay = waiter.first;
    let mut last_state = String::new();
    loop {
        match check().await {
            Ok(WaitOutcome::Ready(v)) => return Ok(v),
            Ok(WaitOutcome::Failed(state)) => {
                return Err(ProviderError::new(ErrorClass::Other, format!("{what}: the cloud reports {state}")))
            }
            Ok(WaitOutcome::Pending(state)) => {
                if state != last_state {
                    ctx.report(format!("{what}: {state} ({}s)", start.elapsed().as_secs()));
                    last_state = state;
                }
            }
            Err(e) if e.is_retryable() => ctx.report(format!("{what}: {e}; polling again")),
            Err(e) => return Err(e),
        }
        if start.elapsed() >= ctx.timeout {
            return Err(ProviderError::new(
                ErrorClass::Timeout,
                format!(
                    "{what}: still {} after {}s (timeout); re-run apply to keep waiting",
                    if last_state.is_empty() { "not ready" } else { &last_state },
                    start.elapsed().as_secs()
                ),
            ));
        }
        // Sleep in short steps, so an interrupt is seen within a quarter second.
        let until = Instant::now() + delay;
        while Instant::now() < until {
            if ctx.interrupt.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(ProviderError::new(
                    ErrorClass::Interrupted,
                    format!(
                        "{what}: interrupted while {} after {}s; what was made is kept in the state as tainted, and the next apply replaces it",
                        if last_state.is_empty() { "waiting" } else { &last_state },
                        start.elapsed().as_secs()
                    ),
                ));
            }
            tokio::time::sleep((until - Instant::now()).min(Duration::from_millis(250))).await;
        }
        delay = (delay * 2).min(waiter.max);
    }
}

/// How long a just-created object may stay invisible to reads before tandem
/// believes it is really gone. Control planes are eventually consistent:
/// "If you issue a DescribeTable request immediately after a CreateTable
/// request, DynamoDB might return a ResourceNotFoundException"
/// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeTable.html).
pub const CONSISTENCY_WINDOW: Duration = Duration::from_secs(20);

/// Read a just-created object until it is visible: NotFound right after a
/// create means "not yet", never "gone" (which would make a second create).
/// `read` answers `Ok(None)` for NotFound. Gives `None` only when the object
/// stayed invisible for the whole `window` (a create answered from an
/// idempotency record whose object was deleted since).
pub async fn await_visible<T, F, Fut>(ctx: &Ctx, what: &str, window: Duration, mut read: F) -> Result<Option<T>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(100);
    let mut told = false;
    loop {
        match read().await {
            Ok(Some(v)) => return Ok(Some(v)),
            Ok(None) => {}
            Err(e) if e.is_retryable() => ctx.report(format!("{what}: {e}; reading again")),
            Err(e) => return Err(e),
        }
        if start.elapsed() >= window {
            return Ok(None);
        }
        if !told {
            ctx.report(format!("{what}: not visible yet right after its create (reads are eventually consistent); waiting"));
            told = true;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn waits_through_pending_states() {
        let n = AtomicU32::new(0);
        let ctx = Ctx::quiet("x", None);
        let v = wait_until(&ctx, "stream", Waiter::default(), || async {
            Ok(if n.fetch_add(1, Ordering::SeqCst) < 3 { WaitOutcome::Pending("CREATING".into()) } else { WaitOutcome::Ready("ACTIVE") })
        })
        .await
        .unwrap();
        assert_eq!(v, "ACTIVE");
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_with_last_state() {
        let mut ctx = Ctx::quiet("x", None);
        ctx.timeout = Duration::from_secs(30);
        let e = wait_until::<(), _, _>(&ctx, "table", Waiter::default(), || async { Ok(WaitOutcome::Pending("CREATING".into())) })
            .await
            .unwrap_err();
        assert_eq!(e.class, ErrorClass::Timeout);
        assert!(e.message.contains("CREATING"), "{}", e.message);
    }

    #[tokio::test(start_paused = true)]
    async fn not_found_right_after_create_is_waited_out() {
        let n = AtomicU32::new(0);
        let ctx = Ctx::quiet("x", None);
        let seen = await_visible(&ctx, "queue", CONSISTENCY_WINDOW, || async { Ok((n.fetch_add(1, Ordering::SeqCst) >= 4).then_some(7)) })
            .await
            .unwrap();
        assert_eq!(seen, Some(7));
        let never = await_visible::<u8, _, _>(&ctx, "queue", Duration::from_secs(3), || async { Ok(None) }).await.unwrap();
        assert_eq!(never, None);
    }

    #[tokio::test(start_paused = true)]
    async fn terminal_failure_stops() {
        let ctx = Ctx::quiet("x", None);
        let e = wait_until::<(), _, _>(&ctx, "group", Waiter::default(), || async { Ok(WaitOutcome::Failed("CREATION_FAILED".into())) })
            .await
            .unwrap_err();
        assert!(e.message.contains("CREATION_FAILED"));
    }
}
