//! The failover controller as an AWS Lambda function: each invocation (an
//! EventBridge schedule, `rate(1 minute)`) runs a few controller passes a
//! probe interval apart, so with N = 3 at 10 s an outage is acted on within
//! about 30 s instead of 3 minutes, and the counters that hysteresis needs
//! live within one invocation. A warm container keeps its controller (and
//! counters) for the next invocation; a cold one starts counting again,
//! which only ever delays a shift. Shifts and the dwell window go through the
//! shared decision record, so the copies in both regions agree.
//!
//! Configuration is the environment the spec gives the function (see
//! [`Config::from_env`]); nothing else is read.

use serde::Serialize;
use serde_json::{json, Value};
use std::time::Duration;
use tandem_failover::{Distribution, Policy};
use tandem_failover_runtime::settings::{assemble, parse_env_alarms};
use tandem_failover_runtime::{ClientOptions, Controller, ControllerConfig, DeclaredAlarm, PassReport};

/// What the function is told by its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub own_region: String,
    pub policy: Policy,
    pub group_arn: String,
    pub primary_instance_id: String,
    pub secondary_instance_id: String,
    pub table: String,
    pub alarms: Vec<DeclaredAlarm>,
    /// Passes per invocation.
    pub passes: u64,
}

impl Config {
    /// Reads `TANDEM_*` variables (and `AWS_REGION`, which Lambda sets):
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `TANDEM_PRIMARY_REGION`, `TANDEM_SECONDARY_REGION` | the two Connect regions | required |
    /// | `TANDEM_GROUP_ARN` | the traffic distribution group's ARN | required |
    /// | `TANDEM_INSTANCE_ID` | the source instance id | required |
    /// | `TANDEM_REPLICA_INSTANCE_ID` | the replica's id | `TANDEM_INSTANCE_ID` |
    /// | `TANDEM_TABLE` | the decision record's table | required |
    /// | `TANDEM_ALARMS` | `region/name[/warning]`, comma separated | none |
    /// | `TANDEM_FAILURES`, `TANDEM_SUCCESSES` | N and M | 3, 5 |
    /// | `TANDEM_MIN_DWELL_SECONDS` | at most one shift per this long | 600 |
    /// | `TANDEM_PROBE_INTERVAL_SECONDS` | time between passes | 10 |
    /// | `TANDEM_PASSES` | passes per invocation | 5 |
    /// | `TANDEM_DEFAULT_PRIMARY_PERCENT` | calls and agents to the primary when both are healthy | 50 |
    /// | `TANDEM_OWN_REGION` | the region it runs in | `AWS_REGION` |
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let mut missing = Vec::new();
        let mut need = |k: &str| {
            get(k).filter(|v| !v.is_empty()).unwrap_or_else(|| {
                missing.push(k.to_string());
                String::new()
            })
        };
        let (primary, secondary, group_arn, instance, table) = (
            need("TANDEM_PRIMARY_REGION"),
            need("TANDEM_SECONDARY_REGION"),
            need("TANDEM_GROUP_ARN"),
            need("TANDEM_INSTANCE_ID"),
            need("TANDEM_TABLE"),
        );
        let own_region = get("TANDEM_OWN_REGION").or_else(|| get("AWS_REGION")).unwrap_or_default();
        if own_region.is_empty() {
            missing.push("AWS_REGION".into());
        }
        if !missing.is_empty() {
            return Err(format!("the function's environment lacks {}", missing.join(", ")));
        }
        let number = |k: &str, default: u64| -> Result<u64, String> {
            match get(k) {
                None => Ok(default),
                Some(v) => v.trim().parse().map_err(|_| format!("{k}={v:?} is not a whole number")),
            }
        };
        let mut policy = Policy::new(&primary, &secondary);
        policy.failures_to_fail_over = number("TANDEM_FAILURES", 3)? as u32;
        policy.successes_to_return = number("TANDEM_SUCCESSES", 5)? as u32;
        policy.min_dwell = Duration::from_secs(number("TANDEM_MIN_DWELL_SECONDS", 600)?);
        policy.probe_interval = Duration::from_secs(number("TANDEM_PROBE_INTERVAL_SECONDS", 10)?);
        let pct = number("TANDEM_DEFAULT_PRIMARY_PERCENT", 50)?;
        if pct > 100 || pct % 10 != 0 {
            return Err(format!("TANDEM_DEFAULT_PRIMARY_PERCENT={pct}: Connect takes 0-100 in steps of 10"));
        }
        policy.default_distribution = Distribution::split(&primary, pct as u32, &secondary);
        policy
            .validate()
            .map_err(|e| format!("the failover policy is invalid: {}", e.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")))?;
        let alarms = parse_env_alarms(&get("TANDEM_ALARMS").unwrap_or_default())?;
        Ok(Config {
            own_region,
            policy,
            group_arn,
            secondary_instance_id: get("TANDEM_REPLICA_INSTANCE_ID").filter(|v| !v.is_empty()).unwrap_or_else(|| instance.clone()),
            primary_instance_id: instance,
            table,
            alarms,
            passes: number("TANDEM_PASSES", 5)?.max(1),
        })
    }
}

/// Builds the controller: SDK clients (the standard chain; `AWS_ENDPOINT_URL`
/// points them at a sandbox), alarms, and the metrics it publishes; the
/// same assembly as the CLI's (`tandem_failover_runtime::settings`).
pub async fn controller(config: &Config, clients: ClientOptions) -> Result<Controller, String> {
    let cc = ControllerConfig {
        policy: config.policy.clone(),
        own_region: config.own_region.clone(),
        group_arn: config.group_arn.clone(),
        primary_instance_id: config.primary_instance_id.clone(),
        secondary_instance_id: config.secondary_instance_id.clone(),
        table: config.table.clone(),
        clients,
    };
    assemble(cc, &config.alarms, true).await.map_err(|e| e.to_string())
}

/// What an invocation returns (and logs).
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub region: String,
    pub passes: u64,
    pub reports: Vec<PassReport>,
}

/// One invocation: `passes` controller passes (the event may lower it with
/// `{"passes": N}`, e.g. for a manual test invoke), a probe interval apart.
pub async fn handle(controller: &mut Controller, config: &Config, event: &Value) -> Outcome {
    let passes = event.get("passes").and_then(Value::as_u64).filter(|n| *n >= 1).unwrap_or(config.passes);
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let mut reports = Vec::new();
    let ran = controller.watch(rx, Some(passes), |r| reports.push(r.clone())).await;
    Outcome { region: config.own_region.clone(), passes: ran, reports }
}

/// The JSON an invocation answers with.
pub fn answer(o: &Outcome) -> Value {
    json!({
        "region": o.region,
        "passes": o.passes,
        "summaries": o.reports.iter().map(PassReport::summary).collect::<Vec<_>>(),
        "last": o.reports.last(),
    })
}
