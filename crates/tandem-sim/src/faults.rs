//! Fault injection: throttling (with each service's real throttling error),
//! server errors, dropped connections and held requests, per service /
//! operation / region, by probability or by count; and region outages.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The service's own throttling error (retried by the SDKs).
    Throttle,
    /// The service's own internal (5xx) error.
    ServerError,
    /// The connection is dropped without an answer.
    Reset,
    /// The request is held for `hold_ms` (past the client's timeout), then dropped.
    Timeout,
    /// The service's own access-denied error (a caller or an account without
    /// the permission or the feature).
    AccessDenied,
}

/// One fault rule. `service`, `operation`, `region`: `None` matches all.
/// `count`: fire for that many matching calls, then stop; `probability`: fire
/// with that chance per matching call; neither: fire on every matching call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    #[serde(default)]
    pub id: u64,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub operation: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    pub kind: FaultKind,
    #[serde(default)]
    pub probability: Option<f64>,
    #[serde(default)]
    pub count: Option<u32>,
    /// For `timeout`: how long the request is held (default 30 s).
    #[serde(default)]
    pub hold_ms: Option<u64>,
    /// How many times the rule has fired (read-only).
    #[serde(default)]
    pub fired: u32,
}

impl FaultRule {
    pub fn new(kind: FaultKind) -> Self {
        FaultRule { id: 0, service: None, operation: None, region: None, kind, probability: None, count: None, hold_ms: None, fired: 0 }
    }
    pub fn service(mut self, s: &str) -> Self {
        self.service = Some(s.to_string());
        self
    }
    pub fn operation(mut self, s: &str) -> Self {
        self.operation = Some(s.to_string());
        self
    }
    pub fn region(mut self, s: &str) -> Self {
        self.region = Some(s.to_string());
        self
    }
    pub fn count(mut self, n: u32) -> Self {
        self.count = Some(n);
        self
    }
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }
    pub fn hold_ms(mut self, ms: u64) -> Self {
        self.hold_ms = Some(ms);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OutageMode {
    /// Every call fails with the service's internal error (a failing region).
    #[default]
    Error,
    /// Every connection is dropped (an unreachable region).
    Unreachable,
}

fn every_service() -> String {
    "*".to_string()
}

/// A region outage: of one service, or of every service (`*`, the default:
/// a region that goes down takes all its endpoints with it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    pub region: String,
    #[serde(default = "every_service")]
    pub service: String,
    #[serde(default)]
    pub mode: OutageMode,
}

/// What the server does instead of serving a call.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    Error(ApiError),
    Reset,
    Hold(Duration),
}

#[derive(Debug, Default)]
pub struct Faults {
    next_id: u64,
    pub rules: Vec<FaultRule>,
    pub outages: Vec<Outage>,
}

/// The service's real throttling error: (HTTP status, error code).
pub fn throttling_error(service: &str) -> ApiError {
    let (status, code) = match service {
        "connect" => (429, "ThrottlingException"),
        "lambda" => (429, "TooManyRequestsException"),
        "ec2" => (503, "RequestLimitExceeded"),
        "s3" => (503, "SlowDown"),
        // Google APIs: 429 with reason rateLimitExceeded.
        // https://cloud.google.com/compute/docs/api/handle-api-errors
        "compute" => (429, "rateLimitExceeded"),
        "kinesis" => (400, "LimitExceededException"),
        "dynamodb" | "directconnect" | "events" | "logs" => (400, "ThrottlingException"),
        _ => (400, "Throttling"),
    };
    ApiError::new(status, code, "Rate exceeded")
}

/// The service's real internal error.
pub fn server_error(service: &str) -> ApiError {
    let (status, code) = match service {
        "connect" => (500, "InternalServiceException"),
        "dynamodb" => (500, "InternalServerError"),
        "ec2" | "s3" => (500, "InternalError"),
        "lambda" => (500, "ServiceException"),
        "directconnect" => (500, "DirectConnectServerException"),
        "compute" => (503, "backendError"),
        _ => (500, "InternalFailure"),
    };
    ApiError::new(status, code, "We encountered an internal error. Please try again.")
}

/// The service's real access-denied error.
/// https://docs.aws.amazon.com/connect/latest/APIReference/CommonErrors.html
pub fn access_denied(service: &str) -> ApiError {
    let (status, code) = match service {
        "ec2" => (403, "UnauthorizedOperation"),
        "s3" => (403, "AccessDenied"),
        "compute" => (403, "forbidden"),
        "iam" | "monitoring" => (403, "AccessDenied"),
        _ => (403, "AccessDeniedException"),
    };
    ApiError::new(status, code, "You do not have sufficient access to perform this action.")
}

impl Faults {
    pub fn add(&mut self, mut rule: FaultRule) -> u64 {
        self.next_id += 1;
        rule.id = self.next_id;
        rule.fired = 0;
        self.rules.push(rule);
        self.next_id
    }
    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        before != self.rules.len()
    }
    pub fn set_outage(&mut self, outage: Outage) {
        self.outages.retain(|o| !(o.region == outage.region && o.service == outage.service));
        self.outages.push(outage);
    }
    pub fn clear_outage(&mut self, region: &str) {
        self.outages.retain(|o| o.region != region);
    }

    /// Decides whether this call fails, and how. Counts down count-limited rules.
    pub fn check(&mut self, service: &str, operation: &str, region: &str) -> Option<FaultAction> {
        if let Some(o) = self.outages.iter().find(|o| o.region == region && (o.service == service || o.service == "*")) {
            return Some(match o.mode {
                OutageMode::Error => FaultAction::Error(server_error(service)),
                OutageMode::Unreachable => FaultAction::Reset,
            });
        }
        let m = |pat: &Option<String>, v: &str| pat.as_deref().is_none_or(|p| p == v);
        for rule in self.rules.iter_mut() {
            if !(m(&rule.service, service) && m(&rule.operation, operation) && m(&rule.region, region)) {
                continue;
            }
            if rule.count.is_some_and(|c| rule.fired >= c) {
                continue;
            }
            if let Some(p) = rule.probability {
                if rand::rng().random::<f64>() >= p {
                    continue;
                }
            }
            rule.fired += 1;
            return Some(match rule.kind {
                FaultKind::Throttle => FaultAction::Error(throttling_error(service)),
                FaultKind::ServerError => FaultAction::Error(server_error(service)),
                FaultKind::Reset => FaultAction::Reset,
                FaultKind::Timeout => FaultAction::Hold(Duration::from_millis(rule.hold_ms.unwrap_or(30_000))),
                FaultKind::AccessDenied => FaultAction::Error(access_denied(service)),
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_limited_rule_fires_exactly_n_times() {
        let mut f = Faults::default();
        f.add(FaultRule::new(FaultKind::ServerError).service("connect").operation("DescribeInstance").count(2));
        assert!(f.check("connect", "DescribeInstance", "us-east-1").is_some());
        assert!(f.check("connect", "ListInstances", "us-east-1").is_none());
        assert!(f.check("connect", "DescribeInstance", "us-west-2").is_some());
        assert!(f.check("connect", "DescribeInstance", "us-east-1").is_none());
    }

    #[test]
    fn an_outage_without_a_service_takes_the_whole_region() {
        let o: Outage = serde_json::from_str(r#"{"region":"us-west-2"}"#).unwrap();
        let mut f = Faults::default();
        f.set_outage(o);
        for service in ["connect", "ec2", "dynamodb", "kinesis", "lambda"] {
            assert!(f.check(service, "X", "us-west-2").is_some(), "{service}");
            assert!(f.check(service, "X", "us-east-1").is_none(), "{service}");
        }
    }

    #[test]
    fn outage_hits_only_its_region_and_service() {
        let mut f = Faults::default();
        f.set_outage(Outage { region: "us-east-1".into(), service: "connect".into(), mode: OutageMode::Error });
        assert!(matches!(f.check("connect", "X", "us-east-1"), Some(FaultAction::Error(e)) if e.status == 500));
        assert!(f.check("connect", "X", "us-west-2").is_none());
        assert!(f.check("dynamodb", "X", "us-east-1").is_none());
        f.clear_outage("us-east-1");
        assert!(f.check("connect", "X", "us-east-1").is_none());
    }

    #[test]
    fn probability_zero_never_fires() {
        let mut f = Faults::default();
        f.add(FaultRule::new(FaultKind::Throttle).probability(0.0));
        assert!(f.check("connect", "X", "us-east-1").is_none());
    }
}
