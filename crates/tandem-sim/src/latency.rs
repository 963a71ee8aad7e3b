//! The configurable latency model: how long asynchronous creations and
//! deletions take, per service, resource kind and region, scaled by one factor.
//! States are computed lazily from these durations (see `env`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::env::LatencyModel;

fn star() -> String {
    "*".to_string()
}
fn one() -> f64 {
    1.0
}

/// One row of the model. `service`, `kind` and `region` match exactly or "*".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyRule {
    #[serde(default = "star")]
    pub service: String,
    /// Resource kind, e.g. Connect's `instance`, `replica`,
    /// `traffic-distribution-group`, `traffic-distribution`, `phone-number`.
    #[serde(default = "star")]
    pub kind: String,
    #[serde(default = "star")]
    pub region: String,
    #[serde(default)]
    pub creation_ms: u64,
    #[serde(default)]
    pub deletion_ms: u64,
}

/// A slow API rather than a slow resource: every matching call (service /
/// operation / region, each exact or "*") is answered `delay_ms` later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseDelay {
    #[serde(default = "star")]
    pub service: String,
    #[serde(default = "star")]
    pub operation: String,
    #[serde(default = "star")]
    pub region: String,
    pub delay_ms: u64,
}

impl ResponseDelay {
    pub fn new(service: &str, operation: &str, delay_ms: u64) -> Self {
        ResponseDelay { service: service.into(), operation: operation.into(), region: "*".into(), delay_ms }
    }
}

/// The response delays in force (admin API `/_tandem/delays`); the most
/// specific match wins; the latency model's `scale` applies.
pub fn response_delay(delays: &[ResponseDelay], scale: f64, service: &str, operation: &str, region: &str) -> Duration {
    let m = |pat: &str, v: &str| pat == "*" || pat == v;
    let scale = if scale.is_finite() && scale > 0.0 { scale } else { 0.0 };
    delays
        .iter()
        .filter(|r| m(&r.service, service) && m(&r.operation, operation) && m(&r.region, region))
        .max_by_key(|r| (r.service != "*") as u8 * 4 + (r.operation != "*") as u8 * 2 + (r.region != "*") as u8)
        .map(|r| Duration::from_secs_f64(r.delay_ms as f64 / 1000.0 * scale))
        .unwrap_or_default()
}

impl LatencyRule {
    /// A creation / deletion rule for one service and resource kind.
    pub fn kind(service: &str, kind: &str, creation_ms: u64, deletion_ms: u64) -> Self {
        LatencyRule { service: service.into(), kind: kind.into(), region: "*".into(), creation_ms, deletion_ms }
    }
}

/// Eventual consistency of reads after a create (admin API
/// `/_tandem/consistency`): for `not_found_ms` after a resource of `service`
/// is created, reads of it answer NotFound, as AWS documents for DynamoDB
/// ("If you issue a DescribeTable request immediately after a CreateTable
/// request, DynamoDB might return a ResourceNotFoundException",
/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeTable.html)
/// and as any eventually consistent control plane may.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsistencyRule {
    /// `connect`, `dynamodb`, ... or "*".
    #[serde(default = "star")]
    pub service: String,
    pub not_found_ms: u64,
}

/// The latency model with the consistency rules in force: what a handler's
/// `SimEnv` sees.
pub struct Model<'a> {
    pub latency: &'a LatencyConfig,
    pub consistency: &'a [ConsistencyRule],
}

impl LatencyModel for Model<'_> {
    fn creation(&self, service: &str, kind: &str, region: &str) -> Duration {
        self.latency.creation(service, kind, region)
    }
    fn deletion(&self, service: &str, kind: &str, region: &str) -> Duration {
        self.latency.deletion(service, kind, region)
    }
    fn not_found_after_create(&self, service: &str) -> Duration {
        let rule = self.consistency.iter().filter(|r| r.service == service || r.service == "*").max_by_key(|r| r.service != "*");
        rule.map(|r| Duration::from_millis(r.not_found_ms)).unwrap_or_default()
    }
}

/// The same, owned.
pub struct Clock {
    pub latency: LatencyConfig,
    pub consistency: Vec<ConsistencyRule>,
}

impl LatencyModel for Clock {
    fn creation(&self, service: &str, kind: &str, region: &str) -> Duration {
        self.latency.creation(service, kind, region)
    }
    fn deletion(&self, service: &str, kind: &str, region: &str) -> Duration {
        self.latency.deletion(service, kind, region)
    }
    fn not_found_after_create(&self, service: &str) -> Duration {
        Model { latency: &self.latency, consistency: &self.consistency }.not_found_after_create(service)
    }
}

/// The whole model: rules (the most specific match wins) and a scale factor
/// applied to every duration (0 makes everything settle on the next read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyConfig {
    #[serde(default = "one")]
    pub scale: f64,
    #[serde(default)]
    pub rules: Vec<LatencyRule>,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        LatencyConfig { scale: 1.0, rules: Vec::new() }
    }
}

impl LatencyConfig {
    fn rule(&self, service: &str, kind: &str, region: &str) -> Option<&LatencyRule> {
        let m = |pat: &str, v: &str| pat == "*" || pat == v;
        self.rules
            .iter()
            .filter(|r| m(&r.service, service) && m(&r.kind, kind) && m(&r.region, region))
            .max_by_key(|r| (r.service != "*") as u8 * 4 + (r.kind != "*") as u8 * 2 + (r.region != "*") as u8)
    }
    fn scaled(&self, ms: u64) -> Duration {
        let scale = if self.scale.is_finite() && self.scale > 0.0 { self.scale } else { 0.0 };
        Duration::from_secs_f64(ms as f64 / 1000.0 * scale)
    }
}

impl LatencyModel for LatencyConfig {
    fn creation(&self, service: &str, kind: &str, region: &str) -> Duration {
        self.rule(service, kind, region).map(|r| self.scaled(r.creation_ms)).unwrap_or_default()
    }
    fn deletion(&self, service: &str, kind: &str, region: &str) -> Duration {
        self.rule(service, kind, region).map(|r| self.scaled(r.deletion_ms)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_rule_wins_and_scale_applies() {
        let cfg = LatencyConfig {
            scale: 0.5,
            rules: vec![LatencyRule::kind("connect", "*", 1000, 0), LatencyRule::kind("connect", "instance", 4000, 2000)],
        };
        let delays = [ResponseDelay::new("connect", "DescribeInstance", 300), ResponseDelay::new("*", "*", 10)];
        assert_eq!(response_delay(&delays, 0.5, "connect", "DescribeInstance", "us-east-1"), Duration::from_millis(150));
        assert_eq!(response_delay(&delays, 1.0, "connect", "ListInstances", "us-east-1"), Duration::from_millis(10));
        assert_eq!(cfg.creation("connect", "instance", "us-east-1"), Duration::from_secs(2));
        assert_eq!(cfg.deletion("connect", "instance", "us-east-1"), Duration::from_secs(1));
        assert_eq!(cfg.creation("connect", "replica", "us-east-1"), Duration::from_millis(500));
        assert_eq!(cfg.creation("dynamodb", "table", "us-east-1"), Duration::ZERO);
    }
}
