//! One region's probe: `DescribeInstance` (did the API answer, with which
//! status) and the region's alarms.

use async_trait::async_trait;
use aws_sdk_connect::error::ProvideErrorMetadata;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tandem_failover::health::{AlarmState, InstanceStatus, Probe, Severity, StateValue};

/// One region's health check. The controller calls both regions' probes
/// every pass; [`ConnectProbe`] is the AWS one, tests script their own.
#[async_trait]
pub trait HealthProbe: Send + Sync {
    /// The region probed.
    fn region(&self) -> &str;
    /// What the region looks like now. Never fails: a call that does not
    /// answer is an unreachable API, which is itself an observation.
    async fn probe(&self) -> Probe;
}

/// Where the alarm states of a region come from. The controller works
/// without alarms ([`NoAlarms`]); a CloudWatch `DescribeAlarms` source plugs in here.
#[async_trait]
pub trait AlarmSource: Send + Sync {
    /// The declared alarms of `region` and their states now.
    async fn alarms(&self, region: &str) -> Vec<AlarmState>;
}

/// No alarms declared: health comes from `DescribeInstance` alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAlarms;

#[async_trait]
impl AlarmSource for NoAlarms {
    async fn alarms(&self, _region: &str) -> Vec<AlarmState> {
        Vec::new()
    }
}

/// One declared alarm: its name and how much it counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredAlarm {
    pub region: String,
    pub name: String,
    pub severity: Severity,
}

/// CloudWatch `DescribeAlarms` (by name) in each region for the alarms
/// declared there. A declared alarm CloudWatch does not return, or a
/// `DescribeAlarms` that fails, reads as `INSUFFICIENT_DATA`: it degrades the
/// region, never fails it (the Connect API is the hard signal; an alarm
/// that cannot be read must not move traffic).
pub struct CloudWatchAlarms {
    declared: Vec<DeclaredAlarm>,
    clients: BTreeMap<String, aws_sdk_cloudwatch::Client>,
}

impl CloudWatchAlarms {
    /// `clients`: one CloudWatch client per region.
    pub fn new(declared: Vec<DeclaredAlarm>, clients: BTreeMap<String, aws_sdk_cloudwatch::Client>) -> Self {
        CloudWatchAlarms { declared, clients }
    }
}

#[async_trait]
impl AlarmSource for CloudWatchAlarms {
    async fn alarms(&self, region: &str) -> Vec<AlarmState> {
        let declared: Vec<&DeclaredAlarm> = self.declared.iter().filter(|a| a.region == region).collect();
        if declared.is_empty() {
            return Vec::new();
        }
        let mut states: BTreeMap<String, StateValue> = BTreeMap::new();
        if let Some(client) = self.clients.get(region) {
            let names: Vec<String> = declared.iter().map(|a| a.name.clone()).collect();
            match client.describe_alarms().set_alarm_names(Some(names)).send().await {
                Ok(out) => {
                    for a in out.metric_alarms() {
                        use aws_sdk_cloudwatch::types::StateValue as S;
                        let state = match a.state_value() {
                            Some(S::Ok) => StateValue::Ok,
                            Some(S::Alarm) => StateValue::Alarm,
                            _ => StateValue::InsufficientData,
                        };
                        states.insert(a.alarm_name().unwrap_or_default().to_string(), state);
                    }
                }
                Err(e) => tracing::debug!(%region, error = %e, "DescribeAlarms failed; alarms read as INSUFFICIENT_DATA"),
            }
        }
        declared
            .iter()
            .map(|a| AlarmState {
                name: a.name.clone(),
                state: states.get(&a.name).copied().unwrap_or(StateValue::InsufficientData),
                severity: a.severity,
            })
            .collect()
    }
}

/// Probes one region's Connect instance.
#[derive(Clone)]
pub struct ConnectProbe {
    pub region: String,
    pub instance_id: String,
    client: aws_sdk_connect::Client,
    alarms: Arc<dyn AlarmSource>,
    /// A whole probe (all attempts) longer than this is an unreachable API.
    timeout: Duration,
}

impl ConnectProbe {
    pub fn new(region: &str, instance_id: &str, client: aws_sdk_connect::Client, alarms: Arc<dyn AlarmSource>, timeout: Duration) -> Self {
        ConnectProbe { region: region.to_string(), instance_id: instance_id.to_string(), client, alarms, timeout }
    }
}

#[async_trait]
impl HealthProbe for ConnectProbe {
    fn region(&self) -> &str {
        &self.region
    }

    /// `DescribeInstance` in this region. An answer with a status gives that
    /// status; `ResourceNotFoundException` / `AccessDeniedException` is an
    /// answer without a status; anything else (5xx, throttling after the
    /// retries, a dropped connection, a timeout) is an API that did not answer.
    async fn probe(&self) -> Probe {
        let call = self.client.describe_instance().instance_id(&self.instance_id).send();
        let (api_reachable, instance_status) = match tokio::time::timeout(self.timeout, call).await {
            Err(_) => {
                tracing::debug!(region = %self.region, "DescribeInstance timed out");
                (false, None)
            }
            Ok(Ok(out)) => (true, out.instance().and_then(|i| i.instance_status()).and_then(status_of)),
            Ok(Err(e)) => {
                let code = e.as_service_error().and_then(|s| s.code()).map(str::to_string);
                tracing::debug!(region = %self.region, error = %crate::sdk_message(&e), "DescribeInstance failed");
                match code.as_deref() {
                    Some("ResourceNotFoundException" | "AccessDeniedException" | "InvalidParameterException") => (true, None),
                    _ => (false, None),
                }
            }
        };
        let alarms = self.alarms.alarms(&self.region).await;
        Probe { instance_status, api_reachable, alarms }
    }
}

fn status_of(s: &aws_sdk_connect::types::InstanceStatus) -> Option<InstanceStatus> {
    use aws_sdk_connect::types::InstanceStatus as S;
    match s {
        S::Active => Some(InstanceStatus::Active),
        S::CreationInProgress => Some(InstanceStatus::CreationInProgress),
        S::CreationFailed => Some(InstanceStatus::CreationFailed),
        _ => None,
    }
}
