//! What a controller pass saw and did, and who gets to see it: the
//! controller hands every [`PassReport`] to its [`PassObserver`]s (the
//! CloudWatch metrics publisher, a log, a test) and knows nothing of them.

use async_trait::async_trait;
use serde::Serialize;
use tandem_failover::{Decision, Distribution, Finding, History, RegionHealth};

/// What a pass did besides deciding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Nothing to do.
    None,
    /// Won the conditional write and set the group.
    Shifted { to: Distribution, version: u64, via_region: String },
    /// The group differed from the record and was set to it.
    Reconciled { to: Distribution, via_region: String },
    /// A call failed; the pass is retried after a backoff.
    Failed { error: String },
}

/// What one pass saw and did.
#[derive(Debug, Clone, Serialize)]
pub struct PassReport {
    /// Unix seconds.
    pub at: u64,
    pub by_region: String,
    pub primary: RegionHealth,
    pub secondary: RegionHealth,
    pub history: History,
    /// The record the final decision was made on (`None`: no record).
    pub record_version: Option<u64>,
    /// `None` when the record could not be read.
    pub decision: Option<Decision>,
    /// Conditional writes lost to the other controller in this pass.
    pub lost_races: u32,
    pub action: Action,
    /// What `GetTrafficDistribution` reported (when it was read this pass).
    pub live: Option<Distribution>,
    /// A retry of a failed pass: no new check (health is the last check's,
    /// the counters did not move), the record read and acted on again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retry: bool,
}

impl PassReport {
    /// One log line.
    pub fn summary(&self) -> String {
        let decision = self.decision.as_ref().map_or_else(|| "no decision".to_string(), |d| d.to_string());
        let action = match &self.action {
            Action::None => String::new(),
            Action::Shifted { version, via_region, .. } => {
                format!("; record v{version} written, group updated via {via_region}")
            }
            Action::Reconciled { to, via_region } => {
                format!("; group set to the record's {to} via {via_region}")
            }
            Action::Failed { error } => format!("; FAILED: {error}"),
        };
        let h = &self.history;
        format!(
            "[{}]{} primary f{}/s{} {}, secondary f{}/s{} {}: {decision}{action}",
            self.by_region,
            if self.retry { " retry:" } else { "" },
            h.primary.consecutive_failures,
            h.primary.consecutive_successes,
            health_text(&self.primary),
            h.secondary.consecutive_failures,
            h.secondary.consecutive_successes,
            health_text(&self.secondary),
        )
    }
}

/// `healthy`, `degraded (why)`, `UNHEALTHY (why)`.
pub fn health_text(h: &RegionHealth) -> String {
    match h {
        RegionHealth::Healthy => "healthy".to_string(),
        RegionHealth::Degraded(f) => format!("degraded ({})", join(f)),
        RegionHealth::Unhealthy(f) => format!("UNHEALTHY ({})", join(f)),
    }
}

fn join(findings: &[Finding]) -> String {
    findings.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Sees every pass the controller's `watch` loop runs, after it ran. An
/// observer must not fail the pass: it reports its own trouble (a log line).
#[async_trait]
pub trait PassObserver: Send + Sync {
    async fn on_pass(&self, report: &PassReport);
}
