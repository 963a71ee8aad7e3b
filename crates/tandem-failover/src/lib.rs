//! The pure core of the tandem failover controller: no I/O, no clock, no
//! async. The runtime that probes, writes the record and moves traffic lives
//! in `tandem-failover-runtime` and calls in here.
//!
//! A controller runs in BOTH regions. Every `probe_interval` (a minute) it
//! probes both Connect instances, turns each [`Probe`] into a
//! [`RegionHealth`] ([`assess`]), folds the two into its [`History`]
//! ([`observe`]), reads the shared [`DecisionRecord`], and asks [`decide()`]
//! what to do. A [`Decision::Shift`] is written to the record with
//! [`compare_and_set`] first and applied to the traffic distribution group
//! (telephony AND agents) after; a controller that loses the write re-reads
//! the record and decides again. Time is passed in as Unix seconds.
//!
//! # The health rule
//!
//! A region is **Unhealthy** (a failed check) when any of these holds: its
//! Connect API did not answer; the API answered without an instance status;
//! the instance status is not `ACTIVE`; a declared alarm of severity
//! `critical` (the default; e.g. `ToInstancePacketLossRate`,
//! `ThrottledCalls`) is in `ALARM`. Otherwise it is **Degraded** when a
//! `warning` alarm (e.g. `MissedCalls`) is in `ALARM` or any alarm is in
//! `INSUFFICIENT_DATA`, and **Healthy** when nothing is found. Degraded is a
//! passed check: `INSUFFICIENT_DATA` alone never fails a region (an idle
//! region has no call metrics).
//!
//! # The decision
//!
//! N = `failures_to_fail_over`, M = `successes_to_return`. A region is *down*
//! after N failed checks in a row. Rules, first match wins:
//!
//! | observed | current | decision |
//! |---|---|---|
//! | both down | any | Alert, no change |
//! | one down | already all on the other | Hold (at target) |
//! | one down | other region's last check failed | Hold (target not ready) |
//! | one down | last shift < min_dwell ago | Alert, no change (blocked by dwell) |
//! | one down | otherwise | Shift all calls and agents to the other |
//! | none down | default, a region has failed checks < N | Hold (suspect) |
//! | none down | default | Hold (at target) |
//! | none down | not default, a region has < M passed checks in a row | Hold (recovering) |
//! | none down, both >= M passed | last shift < min_dwell ago | Hold (dwell) |
//! | none down, both >= M passed | otherwise | Shift back to the default |
//!
//! `current` is the distribution in the shared record (the policy's default
//! when there is none); the last shift time is the record's `decided_at`, so
//! a shift by either controller starts the dwell window for both. Two
//! controllers given the same observations decide the same thing; given
//! different ones (each region's view of the other), the conditional write
//! lets one win and the dwell window keeps the other from undoing it.
//!
//! See `docs/failover.md` for the same rules as one table.

pub mod decide;
pub mod distribution;
pub mod health;
pub mod policy;
pub mod record;

pub use decide::{decide, observe, AlertReason, Counters, Decision, History, HoldReason, ShiftReason};
pub use distribution::{Distribution, Weights};
pub use health::{assess, AlarmState, Finding, InstanceStatus, Probe, RegionHealth, Severity, StateValue};
pub use policy::{Policy, PolicyError, CONNECT_REGION_PAIRS};
pub use record::{compare_and_set, Conflict, DecisionRecord};

/// Runs one controller over a signal of `(primary_up, secondary_up)` checks,
/// one per `probe_interval` starting at t = 0, from the default distribution,
/// applying every Shift at once. Returns one decision per check.
pub fn simulate(signal: &[(bool, bool)], policy: &Policy) -> Vec<Decision> {
    let interval = policy.probe_interval.as_secs();
    let health = |up: bool| {
        if up {
            RegionHealth::Healthy
        } else {
            RegionHealth::Unhealthy(vec![Finding::ApiUnreachable])
        }
    };
    let mut history = History::default();
    let mut current = policy.default_distribution.clone();
    let mut decisions = Vec::with_capacity(signal.len());
    for (i, &(p, s)) in signal.iter().enumerate() {
        let now = (i as u64).saturating_mul(interval);
        history = observe(&history, &health(p), &health(s));
        let decision = decide(&history, &current, policy, now);
        if let Decision::Shift { to, .. } = &decision {
            current = to.clone();
            history.last_shift_at = Some(now);
        }
        decisions.push(decision);
    }
    decisions
}

#[cfg(test)]
mod tests;
