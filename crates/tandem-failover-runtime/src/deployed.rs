//! The drill of what the spec deployed: no controller runs here. The outage
//! is injected, and the drill watches the group until the deployed
//! controllers (scheduled Lambda functions in both regions) have moved calls
//! and agents to the secondary; it clears the outage and watches them bring
//! the default back; then it checks agent-state sync: an agent event put on
//! the primary's agent event stream is read from the secondary region's
//! agent-state table (the deployed sync function writes it, the global table
//! replicates it).

use crate::actuator::Actuator;
use crate::drill::{phase, run_phases, DrillOptions, DrillPhase, DrillReport, Driver, FaultInjector, Leg};
use crate::Result;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tandem_failover::distribution::Distribution;
use tandem_failover::policy::Policy;

/// Makes a region unhealthy for the deployed controllers through their
/// alarms: SetAlarmState ALARM on the region's critical alarms ("how a drill
/// makes a region unhealthy" without breaking anything), OK to clear. Works
/// against AWS as against the sandbox.
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html
pub struct AlarmInjector {
    /// (region, alarm name) of the critical alarms the controllers read.
    pub alarms: Vec<(String, String)>,
    pub clients: BTreeMap<String, aws_sdk_cloudwatch::Client>,
}

#[async_trait]
impl FaultInjector for AlarmInjector {
    fn describe(&self) -> String {
        "SetAlarmState ALARM on the region's critical alarms".into()
    }
    async fn inject(&self, region: &str) -> Result<()> {
        self.set(region, aws_sdk_cloudwatch::types::StateValue::Alarm, "tandem drill: region made unhealthy").await
    }
    async fn clear(&self, region: &str) -> Result<()> {
        self.set(region, aws_sdk_cloudwatch::types::StateValue::Ok, "tandem drill: region back").await
    }
}

impl AlarmInjector {
    async fn set(&self, region: &str, state: aws_sdk_cloudwatch::types::StateValue, reason: &str) -> Result<()> {
        let names: Vec<&String> = self.alarms.iter().filter(|(r, _)| r == region).map(|(_, n)| n).collect();
        if names.is_empty() {
            return Err(crate::RuntimeError::Invalid(format!("no critical alarm of {region} is declared for the controllers to read")));
        }
        let c = self.clients.get(region).ok_or_else(|| crate::RuntimeError::Invalid(format!("no CloudWatch client for {region}")))?;
        for n in names {
            c.set_alarm_state().alarm_name(n).state_value(state.clone()).state_reason(reason).send().await.map_err(|e| {
                crate::RuntimeError::Aws { operation: "SetAlarmState", region: region.to_string(), message: crate::sdk_message(&e) }
            })?;
        }
        Ok(())
    }
}

/// Where the agent-state check writes and reads.
pub struct AgentStateProbe {
    pub kinesis: aws_sdk_kinesis::Client,
    /// The primary's agent event stream.
    pub stream_name: String,
    /// The agent-state table, read in the secondary region.
    pub table: String,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub read_region: String,
}

/// `2026-11-30T10:00:00.000Z` for Unix seconds (days to civil date: Howard Hinnant's algorithm).
fn iso_utc(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let t = unix % 86_400;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z", t / 3600, t % 3600 / 60, t % 60)
}

/// Until the live distribution is `want` (read every 250 ms), or the timeout.
async fn watch(actuator: &dyn Actuator, want: &Distribution, timeout: Duration) -> (bool, String) {
    let start = Instant::now();
    let mut last: String;
    loop {
        match actuator.get().await {
            Ok((live, via)) if live.equivalent(want) => return (true, format!("{live}, read via {via}")),
            Ok((live, _)) => last = live.to_string(),
            Err(e) => last = e.to_string(),
        }
        if start.elapsed() >= timeout {
            return (false, format!("still {last} after {:.0}s", timeout.as_secs_f64()));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The agent-state check: a synthetic agent's event through the deployed
/// pipeline, read back from the other region; the item is removed after.
async fn agent_state(p: &AgentStateProbe, timeout: Duration) -> (bool, String) {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let agent = format!("tandem-drill-{}", crate::unix_now());
    let at = crate::unix_now();
    let ts = iso_utc(at);
    let event = serde_json::json!({
        "AgentARN": format!("arn:aws:connect:drill:0:instance/drill/agent/{agent}"),
        "EventType": "STATE_CHANGE",
        "EventId": agent,
        "EventTimestamp": ts,
        "CurrentAgentSnapshot": { "AgentStatus": { "Name": "Available" }, "Configuration": { "Username": agent } },
    });
    let put = p
        .kinesis
        .put_record()
        .stream_name(&p.stream_name)
        .partition_key(&agent)
        .data(aws_sdk_kinesis::primitives::Blob::new(event.to_string()))
        .send()
        .await;
    if let Err(e) = put {
        return (false, format!("PutRecord on {}: {}", p.stream_name, aws_sdk_kinesis::error::DisplayErrorContext(&e)));
    }
    let start = Instant::now();
    loop {
        let got = p.dynamodb.get_item().table_name(&p.table).key("agent_id", A::S(agent.clone())).send().await;
        if let Ok(out) = got {
            if let Some(item) = out.item() {
                let status = item.get("status").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                let _ = p.dynamodb.delete_item().table_name(&p.table).key("agent_id", A::S(agent.clone())).send().await;
                return (
                    status == "Available",
                    format!("{agent} {status} in {}'s table after {:.1}s", p.read_region, start.elapsed().as_secs_f64()),
                );
            }
        }
        if start.elapsed() >= timeout {
            return (
                false,
                format!(
                    "{agent}'s event never reached {} in {} within {:.0}s (is the agent-state sync deployed with its mapping?)",
                    p.table,
                    p.read_region,
                    timeout.as_secs_f64()
                ),
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The drill of the deployed controllers: it only watches them.
struct Deployed<'a> {
    actuator: &'a dyn Actuator,
    secondary: String,
    probe: Option<&'a AgentStateProbe>,
    phase_timeout: Duration,
}

#[async_trait]
impl Driver for Deployed<'_> {
    fn outage(&self, primary: &str, injector: &dyn FaultInjector) -> String {
        format!("{primary}: {}", injector.describe())
    }

    fn back(&self, primary: &str) -> String {
        format!("{primary} back")
    }

    async fn reach(&mut self, leg: Leg, want: &Distribution, timeout: Duration) -> (bool, String) {
        let (ok, detail) = watch(self.actuator, want, timeout).await;
        let did = match leg {
            Leg::Failover => "shifted",
            Leg::Recover => "returned the default",
        };
        (ok, format!("the deployed controllers {did}: {detail}"))
    }

    async fn agents(&self, leg: Leg, injector: &dyn FaultInjector, agents: usize) -> Option<DrillPhase> {
        if leg != Leg::Failover {
            return None;
        }
        let Some(Ok(map)) = injector.agent_regions(self.actuator.group_arn()).await else { return None };
        let there = map.values().filter(|r| **r == self.secondary).count();
        Some(phase("agents_moved", there == agents, Duration::ZERO, format!("{there} of {agents} agent(s) in {}", self.secondary)))
    }

    async fn after(&self, report: &mut DrillReport) {
        if let Some(p) = self.probe {
            let t = Instant::now();
            let (ok, detail) = agent_state(p, self.phase_timeout.min(Duration::from_secs(120))).await;
            report.phases.push(phase("agent_state", ok, t.elapsed(), detail));
        }
    }
}

/// The drill of the deployed controllers; the outage is always cleared.
pub async fn run_deployed_drill(
    actuator: &dyn Actuator,
    policy: &Policy,
    injector: &dyn FaultInjector,
    probe: Option<&AgentStateProbe>,
    opts: &DrillOptions,
) -> DrillReport {
    let mut driver = Deployed { actuator, secondary: policy.secondary_region.clone(), probe, phase_timeout: opts.phase_timeout };
    run_phases(actuator, policy, injector, opts, &mut driver).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_times() {
        assert_eq!(super::iso_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::iso_utc(1_796_040_000), "2026-11-30T12:00:00.000Z");
    }
}
