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
