//! What every service handler sees besides its request: the caller's region
//! and account, the clock, and the latency model.
//!
//! Asynchronous states are computed lazily from time, never by background
//! tasks: a record keeps when it was created and how long creation takes
//! (from the latency model), and a Describe computes CREATION_IN_PROGRESS or
//! ACTIVE from `now`. With zero latency the create call still answers with the
//! in-progress state (as AWS does) and the next read sees the final state.

use std::time::{Duration, Instant};

pub trait LatencyModel: Send + Sync {
    /// How long creating a `kind` (e.g. "connect.instance") takes in `region`.
    fn creation(&self, service: &str, kind: &str, region: &str) -> Duration;
    /// How long deleting a `kind` takes.
    fn deletion(&self, service: &str, kind: &str, region: &str) -> Duration;
    /// How long reads of a resource of `service` answer NotFound after its
    /// create (eventual consistency; zero unless switched on).
    fn not_found_after_create(&self, _service: &str) -> Duration {
        Duration::ZERO
    }
}

/// No latency: every asynchronous state settles on the next read.
pub struct Instant0;

impl LatencyModel for Instant0 {
    fn creation(&self, _: &str, _: &str, _: &str) -> Duration {
        Duration::ZERO
    }
    fn deletion(&self, _: &str, _: &str, _: &str) -> Duration {
        Duration::ZERO
    }
}

pub struct SimEnv<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub now: Instant,
    pub latency: &'a dyn LatencyModel,
}

impl<'a> SimEnv<'a> {
    /// The instant at which something created now of `kind` becomes ready.
    pub fn ready_at(&self, service: &str, kind: &str) -> Instant {
        self.now + self.latency.creation(service, kind, self.region)
    }
    pub fn gone_at(&self, service: &str, kind: &str) -> Instant {
        self.now + self.latency.deletion(service, kind, self.region)
    }
    /// Until when reads of something of `service` created now answer NotFound.
    pub fn visible_at(&self, service: &str) -> Instant {
        self.now + self.latency.not_found_after_create(service)
    }
}

/// Latency for unit tests: `base` for every creation and deletion, except
/// that creating `kind.0` takes `kind.1`; reads of service `not_found.0`
/// answer NotFound for `not_found.1` after a create.
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct TestLatency {
    pub base: Duration,
    pub kind: Option<(&'static str, Duration)>,
    pub not_found: Option<(&'static str, Duration)>,
}

#[cfg(test)]
impl TestLatency {
    pub const fn fixed(base: Duration) -> Self {
        TestLatency { base, kind: None, not_found: None }
    }
    pub const fn kind(kind: &'static str, creation: Duration) -> Self {
        TestLatency { base: Duration::ZERO, kind: Some((kind, creation)), not_found: None }
    }
    pub const fn not_found(service: &'static str, lag: Duration) -> Self {
        TestLatency { base: Duration::ZERO, kind: None, not_found: Some((service, lag)) }
    }
}

#[cfg(test)]
impl LatencyModel for TestLatency {
    fn creation(&self, _: &str, kind: &str, _: &str) -> Duration {
        match self.kind {
            Some((k, d)) if k == kind => d,
            _ => self.base,
        }
    }
    fn deletion(&self, _: &str, _: &str, _: &str) -> Duration {
        self.base
    }
    fn not_found_after_create(&self, service: &str) -> Duration {
        match self.not_found {
            Some((s, d)) if s == service => d,
            _ => Duration::ZERO,
        }
    }
}
