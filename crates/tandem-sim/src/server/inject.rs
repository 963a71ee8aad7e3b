//! Counts every call, then plays its response delay and any injected fault.

use super::Shared;
use crate::error::ApiError;
use crate::faults::FaultAction;

pub(super) fn dropped(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, why.to_string())
}

/// Counts a call, then plays its response delay and any injected fault:
/// the error to answer with (in the caller's format), or a dropped
/// connection (reset, or held past the client's timeout first).
pub(super) async fn count_and_inject(
    shared: &Shared,
    service: &str,
    operation: &str,
    region: &str,
) -> Result<Option<ApiError>, std::io::Error> {
    let (action, delay) = {
        let mut st = shared.lock();
        st.accounting.record(service, operation, region);
        let delay = crate::latency::response_delay(&st.delays, st.latency.scale, service, operation, region);
        (st.faults.check(service, operation, region), delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match action {
        Some(FaultAction::Error(e)) => Ok(Some(e)),
        Some(FaultAction::Reset) => Err(dropped("injected connection reset")),
        Some(FaultAction::Hold(d)) => {
            tokio::time::sleep(d).await;
            Err(dropped("injected timeout"))
        }
        None => Ok(None),
    }
}
