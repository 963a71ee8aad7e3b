//! Where a controller's settings come from, and its assembly: shared by the
//! CLI (`tandem failover`, `tandem drill`) and the Lambda function, so both
//! find the same resources and build the same controller.
//!
//! An applied state names everything a controller needs: the traffic
//! distribution group (its ARN, its declared distribution: the default to
//! return to), the source instance and its replica (the two regions), the
//! decision record's table, and the controllers and agent-event feeds the
//! spec deployed. Flags (or the function's environment) override it.

use crate::controller::{Controller, ControllerConfig};
use crate::metrics::MetricsPublisher;
use crate::probe::{AlarmSource, CloudWatchAlarms, DeclaredAlarm, NoAlarms};
use crate::{ClientOptions, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tandem_failover::{Distribution, Policy, Severity, Weights};
use tandem_state::{ResourceState, State};

/// The resource kinds a controller reads from the state.
pub mod kinds {
    pub const GROUP: &str = "aws.connect.traffic_distribution_group";
    pub const INSTANCE: &str = "aws.connect.instance";
    pub const REPLICA: &str = "aws.connect.replica";
    pub const FUNCTION: &str = "aws.lambda.function";
    pub const EVENT_SOURCE_MAPPING: &str = "aws.lambda.event_source_mapping";
    pub const GLOBAL_TABLE: &str = "aws.dynamodb.global_table";
    pub const TABLE: &str = "aws.dynamodb.table";
}

/// A controller function the spec deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedController {
    pub region: String,
    pub name: String,
    /// Its environment (`TANDEM_*`, see the Lambda crate).
    pub environment: BTreeMap<String, String>,
}

/// What an applied state says about the Global Resiliency setup.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Deployment {
    pub group_arn: Option<String>,
    pub primary_region: Option<String>,
    pub secondary_region: Option<String>,
    pub primary_instance_id: Option<String>,
    pub secondary_instance_id: Option<String>,
    /// The decision record's table (the agent-state table).
    pub table: Option<String>,
    /// The group's distribution as the spec declared it (telephony, and
    /// agents when declared: else agents follow telephony).
    pub declared: Option<Distribution>,
    pub agents_declared: bool,
    /// Deployed controller functions.
    pub controllers: Vec<DeployedController>,
    /// The agent event streams feeding a deployed function: (region, stream ARN).
    pub agent_feeds: Vec<(String, String)>,
}

fn out_str(r: &ResourceState, key: &str) -> Option<String> {
    r.outputs.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

fn of<'a>(state: &'a State, kind: &'a str) -> impl Iterator<Item = (&'a String, &'a ResourceState)> + 'a {
    state.resources.iter().filter(move |(_, r)| r.type_name == kind)
}

impl Deployment {
    pub fn from_state(state: &State) -> Deployment {
        let mut f = Deployment::default();
        if let Some((_, g)) = of(state, kinds::GROUP).next() {
            f.group_arn = out_str(g, "arn").or_else(|| Some(g.id.clone()).filter(|id| id.starts_with("arn:")));
            f.primary_region = g.region.clone();
            let weights = |prop: &str| -> Option<Weights> {
                let list = g.properties.get(prop)?.get("distributions")?.as_array()?;
                let map: BTreeMap<String, u32> = list
                    .iter()
                    .filter_map(|d| Some((d.get("region")?.as_str()?.to_string(), u32::try_from(d.get("percentage")?.as_u64()?).ok()?)))
                    .collect();
                (!map.is_empty()).then_some(Weights(map))
            };
            if let Some(telephony) = weights("telephony_config") {
                let agents = weights("agent_config");
                f.agents_declared = agents.is_some();
                f.declared = Some(Distribution { agents: agents.unwrap_or_else(|| telephony.clone()), telephony });
            }
        }
        if let Some((_, i)) = of(state, kinds::INSTANCE).find(|(_, i)| f.primary_region.is_none() || i.region == f.primary_region) {
            f.primary_instance_id = out_str(i, "id").or_else(|| Some(i.id.clone()));
            f.primary_region = f.primary_region.clone().or_else(|| i.region.clone());
        }
        if let Some((_, r)) = of(state, kinds::REPLICA).next() {
            f.secondary_region = out_str(r, "replica_region");
            f.secondary_instance_id = out_str(r, "id");
        }
        for (_, r) in of(state, kinds::FUNCTION) {
            let environment: BTreeMap<String, String> = r
                .properties
                .get("environment")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect())
                .unwrap_or_default();
            if environment.contains_key("TANDEM_GROUP_ARN") {
                f.controllers.push(DeployedController { region: r.region.clone().unwrap_or_default(), name: r.id.clone(), environment });
            }
        }
        for (_, r) in of(state, kinds::EVENT_SOURCE_MAPPING) {
            if let Some(arn) = r.properties.get("event_source_arn").and_then(Value::as_str) {
                f.agent_feeds.push((r.region.clone().unwrap_or_default(), arn.to_string()));
            }
        }
        f.table = Self::record_table(state, &f.controllers);
        f
    }

    /// The decision record's table: the one the deployed controllers were
    /// given (`TANDEM_TABLE`); without a deployed controller, the table at an
    /// address naming the agent state, or the only table there is. Several
    /// tables and none of these: none (the caller asks for `--table`).
    fn record_table(state: &State, controllers: &[DeployedController]) -> Option<String> {
        if let Some(t) = controllers.iter().find_map(|c| c.environment.get("TANDEM_TABLE")).filter(|t| !t.is_empty()) {
            return Some(t.clone());
        }
        let tables: Vec<_> = of(state, kinds::GLOBAL_TABLE).chain(of(state, kinds::TABLE)).collect();
        let table = match tables.iter().find(|(addr, _)| addr.contains("agent_state")) {
            Some(t) => Some(t),
            None if tables.len() == 1 => tables.first(),
            None => None,
        };
        table.and_then(|(_, t)| out_str(t, "name").or_else(|| out_str(t, "table_name")).or_else(|| Some(t.id.clone())))
    }

    /// The critical alarms the deployed controllers read (their
    /// `TANDEM_ALARMS`), each once: what a drill sets to ALARM.
    pub fn critical_alarms(&self) -> Vec<(String, String)> {
        let mut alarms: Vec<(String, String)> = Vec::new();
        for c in &self.controllers {
            let list = c.environment.get("TANDEM_ALARMS").map(String::as_str).unwrap_or_default();
            for a in list.split(',').filter_map(|item| parse_env_alarm(item).ok().flatten()) {
                if a.severity == Severity::Critical && !alarms.iter().any(|(r, n)| *r == a.region && *n == a.name) {
                    alarms.push((a.region, a.name));
                }
            }
        }
        alarms
    }

    /// The controller's configuration: `o` over what the state says.
    /// `drill`: a pass a second and no dwell, unless `o` says otherwise.
    pub fn controller_config(&self, o: &Overrides, drill: bool) -> std::result::Result<ControllerConfig, String> {
        let mut missing = Vec::new();
        let mut need = |v: Option<String>, what: &str| {
            if v.is_none() {
                missing.push(what.to_string());
            }
            v.unwrap_or_default()
        };
        let group_arn = need(o.group_arn.clone().or(self.group_arn.clone()), "--group-arn (aws.connect.traffic_distribution_group)");
        let primary = need(o.primary_region.clone().or(self.primary_region.clone()), "--primary-region");
        let secondary = need(o.secondary_region.clone().or(self.secondary_region.clone()), "--secondary-region (aws.connect.replica)");
        let instance = need(o.instance_id.clone().or(self.primary_instance_id.clone()), "--instance-id (aws.connect.instance)");
        let table = need(o.table.clone().or(self.table.clone()), "--table (the agent-state aws.dynamodb table)");
        if !missing.is_empty() {
            return Err(format!(
                "the failover controller needs {}; give them as flags or point --spec/--state at an applied state",
                missing.join(", ")
            ));
        }
        let secondary_instance = o.instance_id.clone().or(self.secondary_instance_id.clone()).unwrap_or_else(|| instance.clone());
        let mut policy = Policy::new(&primary, &secondary);
        // The default is what the spec declared for the group, not an assumed 50/50.
        if let Some(d) = self.declared.clone() {
            policy.default_distribution = d;
        }
        if drill {
            policy.probe_interval = Duration::from_secs(1);
            policy.min_dwell = Duration::ZERO;
        }
        if let Some(v) = o.probe_interval {
            policy.probe_interval = v;
        }
        if let Some(v) = o.min_dwell {
            policy.min_dwell = v;
        }
        if let Some(v) = o.failures {
            policy.failures_to_fail_over = v;
        }
        if let Some(v) = o.successes {
            policy.successes_to_return = v;
        }
        Ok(ControllerConfig {
            own_region: o.region.clone().unwrap_or_else(|| secondary.clone()),
            policy,
            group_arn,
            primary_instance_id: instance,
            secondary_instance_id: secondary_instance,
            table,
            clients: o.clients.clone(),
        })
    }
}

/// What the caller (flags) says over the state.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub group_arn: Option<String>,
    pub primary_region: Option<String>,
    pub secondary_region: Option<String>,
    pub instance_id: Option<String>,
    pub table: Option<String>,
    /// The region the controller runs in [default: the secondary].
    pub region: Option<String>,
    pub probe_interval: Option<Duration>,
    pub min_dwell: Option<Duration>,
    pub failures: Option<u32>,
    pub successes: Option<u32>,
    pub clients: ClientOptions,
}

/// One item of a `TANDEM_ALARMS` list: `region/name[/warning]`; `None` for
/// an empty item.
pub fn parse_env_alarm(item: &str) -> std::result::Result<Option<DeclaredAlarm>, String> {
    let item = item.trim();
    if item.is_empty() {
        return Ok(None);
    }
    let parts: Vec<&str> = item.split('/').collect();
    let severity = match parts.get(2).copied() {
        None | Some("critical") => Severity::Critical,
        Some("warning") => Severity::Warning,
        Some(other) => return Err(format!("TANDEM_ALARMS: {item}: severity {other:?} is neither critical nor warning")),
    };
    match parts.as_slice() {
        [region, name, ..] if !region.is_empty() && !name.is_empty() => {
            Ok(Some(DeclaredAlarm { region: region.to_string(), name: name.to_string(), severity }))
        }
        _ => Err(format!("TANDEM_ALARMS: {item:?} is not region/name[/warning]")),
    }
}

/// A `TANDEM_ALARMS` list: comma separated `region/name[/warning]`.
pub fn parse_env_alarms(list: &str) -> std::result::Result<Vec<DeclaredAlarm>, String> {
    let mut alarms = Vec::new();
    for item in list.split(',') {
        alarms.extend(parse_env_alarm(item)?);
    }
    Ok(alarms)
}

/// `us-east-1:ToInstancePacketLossRate` or `us-east-1:MissedCalls:warning` (a flag).
pub fn parse_flag_alarm(s: &str) -> std::result::Result<DeclaredAlarm, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let severity = match parts.get(2).copied() {
        None | Some("critical") => Severity::Critical,
        Some("warning") => Severity::Warning,
        Some(other) => return Err(format!("`{other}`: the severity is `critical` (the default) or `warning`")),
    };
    match parts.as_slice() {
        [region, name, ..] if parts.len() <= 3 && !region.is_empty() && !name.is_empty() => {
            Ok(DeclaredAlarm { region: region.to_string(), name: name.to_string(), severity })
        }
        _ => Err(format!("`{s}` must look like REGION:NAME or REGION:NAME:warning")),
    }
}

/// The controller on AWS: its clients, the declared alarms read from
/// CloudWatch in both regions (none: health from `DescribeInstance`
/// alone), and, with `metrics`, its pass metrics published in its own region.
pub async fn assemble(config: ControllerConfig, alarms: &[DeclaredAlarm], metrics: bool) -> Result<Controller> {
    let p = config.policy.clone();
    let source: Arc<dyn AlarmSource> = if alarms.is_empty() {
        Arc::new(NoAlarms)
    } else {
        let mut clients = BTreeMap::new();
        for region in [&p.primary_region, &p.secondary_region] {
            clients.insert(region.clone(), config.clients.cloudwatch(region).await);
        }
        Arc::new(CloudWatchAlarms::new(alarms.to_vec(), clients))
    };
    let (own, group_arn, clients) = (config.own_region.clone(), config.group_arn.clone(), config.clients.clone());
    let mut c = Controller::new(config, source).await?;
    if metrics {
        let cw = clients.cloudwatch(&own).await;
        c.observe_with(Arc::new(MetricsPublisher::new(cw, &p.primary_region, &p.secondary_region, &group_arn)));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn alarms_from_flags_and_environments() {
        assert_eq!(parse_flag_alarm("us-east-1:MissedCalls:warning").unwrap().severity, Severity::Warning);
        assert_eq!(parse_flag_alarm("us-east-1:ThrottledCalls").unwrap().severity, Severity::Critical);
        assert!(parse_flag_alarm("ThrottledCalls").is_err());
        assert!(parse_flag_alarm("us-east-1:X:fatal").is_err());
        assert_eq!(parse_env_alarms(" us-east-1/a, ,us-west-2/b/warning").unwrap().len(), 2);
        assert!(parse_env_alarms("us-east-1/a/loud").unwrap_err().contains("neither critical nor warning"));
    }

    #[test]
    fn config_comes_from_the_state() {
        let state: State = serde_json::from_value(json!({
            "format_version": 1, "lineage": "x", "serial": 3, "spec_name": "s",
            "resources": {
                "tdg": { "type": "aws.connect.traffic_distribution_group", "region": "us-east-1", "id": "g1", "properties": {},
                         "outputs": { "id": "g1", "arn": "arn:aws:connect:us-east-1:123456789012:traffic-distribution-group/g1" } },
                "connect_instance": { "type": "aws.connect.instance", "region": "us-east-1", "id": "i1", "properties": {}, "outputs": { "id": "i1", "arn": "arn:i1" } },
                "connect_replica": { "type": "aws.connect.replica", "region": "us-east-1", "id": "arn:r", "properties": {},
                         "outputs": { "id": "i1", "arn": "arn:r", "replica_region": "us-west-2" } },
                "ctr": { "type": "aws.dynamodb.table", "region": "us-east-1", "id": "other", "properties": {}, "outputs": { "name": "other" } },
                "agent_state": { "type": "aws.dynamodb.global_table", "region": "us-east-1", "id": "contact-center-agent-state", "properties": {},
                         "outputs": { "name": "contact-center-agent-state" } }
            }
        }))
        .expect("state parses");
        let f = Deployment::from_state(&state);
        assert_eq!(f.group_arn.as_deref(), Some("arn:aws:connect:us-east-1:123456789012:traffic-distribution-group/g1"));
        assert_eq!((f.primary_region.as_deref(), f.secondary_region.as_deref()), (Some("us-east-1"), Some("us-west-2")));
        assert_eq!((f.primary_instance_id.as_deref(), f.secondary_instance_id.as_deref()), (Some("i1"), Some("i1")));
        assert_eq!(f.table.as_deref(), Some("contact-center-agent-state"));
        assert_eq!(f.declared, None);
        let c = f.controller_config(&Overrides::default(), true).expect("complete");
        assert_eq!((c.own_region.as_str(), c.policy.probe_interval), ("us-west-2", Duration::from_secs(1)));
    }

    #[test]
    fn the_default_is_the_declared_distribution() {
        let state: State = serde_json::from_value(json!({
            "format_version": 1, "lineage": "x", "serial": 3, "spec_name": "s",
            "resources": {
                "tdg": { "type": "aws.connect.traffic_distribution_group", "region": "us-east-1", "id": "g1",
                         "properties": { "telephony_config": { "distributions": [{ "region": "us-east-1", "percentage": 70 }, { "region": "us-west-2", "percentage": 30 }] } },
                         "outputs": { "arn": "arn:aws:connect:us-east-1:1:traffic-distribution-group/g1" } },
                "ctl": { "type": "aws.lambda.function", "region": "us-west-2", "id": "ctl-west", "properties": { "environment": { "TANDEM_GROUP_ARN": "arn:g", "TANDEM_ALARMS": "us-east-1/a" } }, "outputs": {} },
                "feed": { "type": "aws.lambda.event_source_mapping", "region": "us-east-1", "id": "u1", "properties": { "event_source_arn": "arn:aws:kinesis:us-east-1:1:stream/agent-events" }, "outputs": {} }
            }
        }))
        .expect("state parses");
        let f = Deployment::from_state(&state);
        let d = f.declared.clone().expect("declared");
        assert_eq!(d, Distribution::split("us-east-1", 70, "us-west-2"), "agents follow telephony when undeclared");
        assert!(!f.agents_declared);
        assert_eq!(f.controllers.len(), 1);
        assert_eq!(f.controllers[0].environment.get("TANDEM_ALARMS").map(String::as_str), Some("us-east-1/a"));
        assert_eq!(f.agent_feeds, vec![("us-east-1".to_string(), "arn:aws:kinesis:us-east-1:1:stream/agent-events".to_string())]);
        assert_eq!(f.critical_alarms(), vec![("us-east-1".to_string(), "a".to_string())]);
    }

    #[test]
    fn the_record_table_is_the_one_the_controllers_were_given() {
        let state: State = serde_json::from_value(json!({
            "format_version": 1, "lineage": "x", "serial": 3, "spec_name": "s",
            "resources": {
                "agent_state": { "type": "aws.dynamodb.global_table", "region": "us-east-1", "id": "a", "properties": {}, "outputs": { "name": "a" } },
                "decisions": { "type": "aws.dynamodb.table", "region": "us-east-1", "id": "d", "properties": {}, "outputs": { "name": "d" } },
                "ctl": { "type": "aws.lambda.function", "region": "us-west-2", "id": "ctl", "properties": { "environment": { "TANDEM_GROUP_ARN": "arn:g", "TANDEM_TABLE": "d" } }, "outputs": {} }
            }
        }))
        .expect("state parses");
        assert_eq!(Deployment::from_state(&state).table.as_deref(), Some("d"));
        let two_tables: State = serde_json::from_value(json!({
            "format_version": 1, "lineage": "x", "serial": 3, "spec_name": "s",
            "resources": {
                "ctr": { "type": "aws.dynamodb.table", "region": "us-east-1", "id": "c", "properties": {}, "outputs": { "name": "c" } },
                "other": { "type": "aws.dynamodb.table", "region": "us-east-1", "id": "o", "properties": {}, "outputs": { "name": "o" } }
            }
        }))
        .expect("state parses");
        assert_eq!(Deployment::from_state(&two_tables).table, None, "no guess between two unrelated tables");
    }
}
