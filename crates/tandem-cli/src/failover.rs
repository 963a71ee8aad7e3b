//! `tandem failover status|shift|watch` and `tandem drill`: the failover
//! controller's runtime (crates/tandem-failover) driven from the command line.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tandem_failover::{Distribution, Policy, Severity};
use tandem_failover_runtime::{
    health_text, run_drill, Action, AlarmSource, ClientOptions, CloudWatchAlarms, Controller, ControllerConfig, DeclaredAlarm,
    DrillOptions, FaultInjector, ForcedHealth, NoAlarms, PassReport, RuntimeError,
};

#[derive(Args, Debug)]
pub struct FailoverArgs {
    #[command(subcommand)]
    pub command: FailoverCommand,
}

#[derive(Subcommand, Debug)]
pub enum FailoverCommand {
    /// Probe both regions, read the decision record and the live
    /// distribution, and say what the controller would decide. Changes nothing.
    Status(ControllerArgs),
    /// Move calls and agents by hand (writes the decision record, then the group).
    Shift(ShiftArgs),
    /// Run the controller: a pass every probe interval until Ctrl-C.
    Watch(WatchArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ShiftTarget {
    /// All calls and agents to the primary region.
    Primary,
    /// All calls and agents to the secondary region.
    Secondary,
    /// The policy's default distribution (50/50).
    Default,
}

#[derive(Args, Debug)]
pub struct ShiftArgs {
    #[command(flatten)]
    pub controller: ControllerArgs,
    /// Where traffic goes.
    #[arg(long)]
    pub to: ShiftTarget,
}

#[derive(Args, Debug)]
pub struct WatchArgs {
    #[command(flatten)]
    pub controller: ControllerArgs,
    /// Stop after this many passes (default: until Ctrl-C).
    #[arg(long)]
    pub passes: Option<u64>,
}

#[derive(Args, Debug)]
pub struct DrillArgs {
    #[command(flatten)]
    pub controller: ControllerArgs,
    /// Give up on the failover or the recovery after this long.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub phase_timeout: Duration,
    /// Drill the controllers the spec deployed (scheduled Lambda functions in
    /// both regions) instead of running one here: inject, watch them shift and
    /// return, then check agent-state sync through the deployed pipeline.
    #[arg(long)]
    pub deployed: bool,
    /// With --deployed and --sandbox: run the sandbox's schedules this many
    /// times as fast (12: a one-minute schedule every 5 s) during the drill.
    #[arg(long, default_value_t = 12.0)]
    pub time_scale: f64,
}

/// Where the controller finds its resources, and its policy.
#[derive(Args, Debug, Clone)]
pub struct ControllerArgs {
    /// An applied spec: the group, instance, replica and agent-state table come from its state.
    #[arg(long, short = 's')]
    pub spec: Option<PathBuf>,
    /// The state file [default: .tandem/state.json next to the spec].
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// The traffic distribution group's ARN (instead of, or over, the state).
    #[arg(long)]
    pub group_arn: Option<String>,
    #[arg(long)]
    pub primary_region: Option<String>,
    #[arg(long)]
    pub secondary_region: Option<String>,
    /// The Connect instance id (the replica keeps the same id).
    #[arg(long)]
    pub instance_id: Option<String>,
    /// The DynamoDB table holding the decision record (the agent-state table).
    #[arg(long)]
    pub table: Option<String>,
    /// The region this controller runs in; its calls go there first [default: the secondary].
    #[arg(long)]
    pub region: Option<String>,
    /// A local sandbox URL: every call goes there with test credentials, and
    /// `drill` injects the outage through its admin API.
    #[arg(long, env = "TANDEM_SANDBOX_URL")]
    pub sandbox: Option<String>,
    /// Time between passes (`500ms`, `10s`, `1m`) [default: 60s; drill 1s].
    #[arg(long, value_parser = parse_duration)]
    pub probe_interval: Option<Duration>,
    /// N: failed checks in a row before a region is down [default: 3].
    #[arg(long)]
    pub failures: Option<u32>,
    /// M: passed checks in a row of both regions before the default returns [default: 5].
    #[arg(long)]
    pub successes: Option<u32>,
    /// No shift sooner than this after the last one [default: 10m; drill 0s].
    #[arg(long, value_parser = parse_duration)]
    pub min_dwell: Option<Duration>,
    /// A CloudWatch alarm that counts for a region's health:
    /// `REGION:NAME` (critical) or `REGION:NAME:warning` (repeatable).
    #[arg(long = "alarm", value_name = "REGION:NAME[:warning]", value_parser = parse_alarm)]
    pub alarms: Vec<DeclaredAlarm>,
    /// Per-call timeout of the AWS API calls.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub api_timeout: Duration,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The inverse of [`parse_duration`] (whole units).
fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_millis() != 0 {
        format!("{}ms", d.as_millis())
    } else if secs >= 60 && (secs / 60) * 60 == secs {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// `us-east-1:ToInstancePacketLossRate` or `us-east-1:MissedCalls:warning`.
pub fn parse_alarm(s: &str) -> Result<DeclaredAlarm, String> {
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

/// `500ms`, `10s`, `2m`, or bare seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.find(|c: char| !c.is_ascii_digit()).map_or((s, ""), |i| s.split_at(i));
    let n: u64 = num.parse().map_err(|_| format!("`{s}` is not a duration (e.g. 500ms, 10s, 2m)"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        "h" => Ok(Duration::from_secs(n.saturating_mul(3600))),
        _ => Err(format!("`{s}`: the unit must be ms, s, m or h")),
    }
}

/// What the state file says about the Global Resiliency setup.
#[derive(Debug, Default, Clone, PartialEq)]
struct FromState {
    group_arn: Option<String>,
    primary_region: Option<String>,
    secondary_region: Option<String>,
    primary_instance_id: Option<String>,
    secondary_instance_id: Option<String>,
    table: Option<String>,
    /// The group's distribution as the spec declared it (telephony, and
    /// agents when declared: else agents follow telephony).
    declared: Option<Distribution>,
    agents_declared: bool,
    /// Deployed controller functions: (region, name, environment).
    controllers: Vec<(String, String, std::collections::BTreeMap<String, String>)>,
    /// The agent event streams feeding a deployed function: (region, stream ARN).
    agent_feeds: Vec<(String, String)>,
}

fn out_str(r: &tandem_state::ResourceState, key: &str) -> Option<String> {
    r.outputs.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

fn from_state(state: &tandem_state::State) -> FromState {
    let mut f = FromState::default();
    fn of<'a>(state: &'a tandem_state::State, t: &'a str) -> impl Iterator<Item = (&'a String, &'a tandem_state::ResourceState)> + 'a {
        state.resources.iter().filter(move |(_, r)| r.type_name == t)
    }
    if let Some((_, g)) = of(state, "aws.connect.traffic_distribution_group").next() {
        f.group_arn = out_str(g, "arn").or_else(|| Some(g.id.clone()).filter(|id| id.starts_with("arn:")));
        f.primary_region = g.region.clone();
        let weights = |prop: &str| -> Option<tandem_failover::Weights> {
            let list = g.properties.get(prop)?.get("distributions")?.as_array()?;
            let map: std::collections::BTreeMap<String, u32> =
                list.iter().filter_map(|d| Some((d.get("region")?.as_str()?.to_string(), d.get("percentage")?.as_u64()? as u32))).collect();
            (!map.is_empty()).then_some(tandem_failover::Weights(map))
        };
        if let Some(telephony) = weights("telephony_config") {
            let agents = weights("agent_config");
            f.agents_declared = agents.is_some();
            f.declared = Some(Distribution { agents: agents.unwrap_or_else(|| telephony.clone()), telephony });
        }
    }
    if let Some((_, i)) = of(state, "aws.connect.instance").find(|(_, i)| f.primary_region.is_none() || i.region == f.primary_region) {
        f.primary_instance_id = out_str(i, "id").or_else(|| Some(i.id.clone()));
        f.primary_region = f.primary_region.clone().or_else(|| i.region.clone());
    }
    if let Some((_, r)) = of(state, "aws.connect.replica").next() {
        f.secondary_region = out_str(r, "replica_region");
        f.secondary_instance_id = out_str(r, "id");
    }
    for (_, r) in of(state, "aws.lambda.function") {
        let env: std::collections::BTreeMap<String, String> = r
            .properties
            .get("environment")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect())
            .unwrap_or_default();
        if env.contains_key("TANDEM_GROUP_ARN") {
            f.controllers.push((r.region.clone().unwrap_or_default(), r.id.clone(), env));
        }
    }
    for (_, r) in of(state, "aws.lambda.event_source_mapping") {
        if let Some(arn) = r.properties.get("event_source_arn").and_then(Value::as_str) {
            f.agent_feeds.push((r.region.clone().unwrap_or_default(), arn.to_string()));
        }
    }
    let tables: Vec<_> = of(state, "aws.dynamodb.global_table").chain(of(state, "aws.dynamodb.table")).collect();
    let table = tables.iter().find(|(addr, _)| addr.contains("agent_state")).or_else(|| tables.first());
    if let Some((_, t)) = table {
        f.table = out_str(t, "name").or_else(|| out_str(t, "table_name")).or_else(|| Some(t.id.clone()));
    }
    f
}

/// The state the flags name; like every verb, `tandem.yaml`'s state in the
/// working directory when none is named (and there is one).
async fn from_args(a: &ControllerArgs) -> Result<FromState, String> {
    let spec = a.spec.clone().unwrap_or_else(|| std::path::PathBuf::from("tandem.yaml"));
    // Nothing named and nothing here: the flags must say it all.
    if a.spec.is_none() && a.state.is_none() && !spec.exists() {
        return Ok(FromState::default());
    }
    let opened = crate::backends::open(&spec, a.state.as_deref(), &[], false).await.map_err(|f| f.message())?;
    let state = opened.store.load().await.map_err(|e| e.to_string())?;
    Ok(from_state(&state))
}

/// The controller's configuration from the flags over the state.
async fn config(a: &ControllerArgs, drill: bool) -> Result<ControllerConfig, String> {
    let st = from_args(a).await?;
    let mut missing = Vec::new();
    let mut need = |v: Option<String>, what: &str| {
        if v.is_none() {
            missing.push(what.to_string());
        }
        v.unwrap_or_default()
    };
    let group_arn = need(a.group_arn.clone().or(st.group_arn), "--group-arn (aws.connect.traffic_distribution_group)");
    let primary = need(a.primary_region.clone().or(st.primary_region), "--primary-region");
    let secondary = need(a.secondary_region.clone().or(st.secondary_region), "--secondary-region (aws.connect.replica)");
    let instance = need(a.instance_id.clone().or(st.primary_instance_id), "--instance-id (aws.connect.instance)");
    let table = need(a.table.clone().or(st.table), "--table (the agent-state aws.dynamodb table)");
    if !missing.is_empty() {
        return Err(format!(
            "the failover controller needs {}; give them as flags or point --spec/--state at an applied state",
            missing.join(", ")
        ));
    }
    let secondary_instance = a.instance_id.clone().or(st.secondary_instance_id).unwrap_or_else(|| instance.clone());
    let mut policy = Policy::new(&primary, &secondary);
    // The default is what the spec declared for the group, not an assumed 50/50.
    if let Some(d) = st.declared.clone() {
        policy.default_distribution = d;
    }
    if drill {
        policy.probe_interval = Duration::from_secs(1);
        policy.min_dwell = Duration::ZERO;
    }
    if let Some(v) = a.probe_interval {
        policy.probe_interval = v;
    }
    if let Some(v) = a.min_dwell {
        policy.min_dwell = v;
    }
    if let Some(v) = a.failures {
        policy.failures_to_fail_over = v;
    }
    if let Some(v) = a.successes {
        policy.successes_to_return = v;
    }
    Ok(ControllerConfig {
        own_region: a.region.clone().unwrap_or_else(|| secondary.clone()),
        policy,
        group_arn,
        primary_instance_id: instance,
        secondary_instance_id: secondary_instance,
        table,
        clients: ClientOptions {
            api_timeout: a.api_timeout,
            max_attempts: 2,
            endpoint_url: a.sandbox.clone(),
            static_credentials: a.sandbox.as_ref().map(|_| ("testing".to_string(), "testing".to_string())),
        },
    })
}

async fn controller(a: &ControllerArgs, drill: bool) -> Result<Controller, String> {
    let config = config(a, drill).await?;
    let alarms: Arc<dyn AlarmSource> = if a.alarms.is_empty() {
        Arc::new(NoAlarms)
    } else {
        let p = &config.policy;
        let mut clients = std::collections::BTreeMap::new();
        for region in [&p.primary_region, &p.secondary_region] {
            clients.insert(region.clone(), config.clients.cloudwatch(region).await);
        }
        Arc::new(CloudWatchAlarms::new(a.alarms.clone(), clients))
    };
    Controller::new(config, alarms).await.map_err(|e| e.to_string())
}

fn pass_json(r: &PassReport) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
}

pub async fn run(a: FailoverArgs) -> Result<u8, String> {
    match a.command {
        FailoverCommand::Status(c) => status(c).await,
        FailoverCommand::Shift(s) => shift(s).await,
        FailoverCommand::Watch(w) => watch(w).await,
    }
}

async fn status(a: ControllerArgs) -> Result<u8, String> {
    let mut c = controller(&a, false).await?;
    let r = c.look().await;
    let record = c.store.read().await.map_err(|e| e.to_string())?;
    if a.json {
        let mut v = pass_json(&r);
        v["record"] = serde_json::to_value(&record).unwrap_or(Value::Null);
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let p = &c.config.policy;
        outln!("group      {}", c.config.group_arn);
        outln!("primary    {}: {}", p.primary_region, health_text(&r.primary));
        outln!("secondary  {}: {}", p.secondary_region, health_text(&r.secondary));
        match &r.live {
            Some(d) => outln!("live       {d}"),
            None => outln!("live       unknown"),
        }
        match &record {
            Some(rec) => outln!("record     v{}: {} (by {} at {})", rec.version, rec.distribution, rec.by_region, rec.decided_at),
            None => outln!("record     none (the default {} applies)", p.default_distribution),
        }
        match &r.decision {
            Some(d) => outln!("decision   {d} (one check; the controller needs {} in a row to move traffic)", p.failures_to_fail_over),
            None => outln!("decision   none"),
        }
        if let Action::Failed { error } = &r.action {
            outln!("error      {error}");
        }
    }
    Ok(if matches!(r.action, Action::Failed { .. }) { 1 } else { 0 })
}

async fn shift(a: ShiftArgs) -> Result<u8, String> {
    let mut c = controller(&a.controller, false).await?;
    let p = c.config.policy.clone();
    let to = match a.to {
        ShiftTarget::Primary => Distribution::all_to(&p.primary_region, &p.secondary_region),
        ShiftTarget::Secondary => Distribution::all_to(&p.secondary_region, &p.primary_region),
        ShiftTarget::Default => p.default_distribution.clone(),
    };
    let (version, via) = c.shift_to(&to).await.map_err(|e| e.to_string())?;
    if a.controller.json {
        outln!("{}", json!({ "distribution": to, "record_version": version, "via_region": via }));
    } else {
        outln!("Shifted to {to} (decision record v{version}, UpdateTrafficDistribution via {via}).");
    }
    Ok(0)
}

async fn watch(a: WatchArgs) -> Result<u8, String> {
    let mut c = controller(&a.controller, false).await?;
    // Health per region and shifts go to CloudWatch (the dashboard's source).
    let cw = c.config.clients.cloudwatch(&c.config.own_region).await;
    let p = &c.config.policy;
    let metrics = tandem_failover_runtime::metrics::MetricsPublisher::new(cw, &p.primary_region, &p.secondary_region, &c.config.group_arn);
    c.observe_with(Arc::new(metrics));
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            errln!("interrupted: finishing the current pass, then stopping");
            let _ = tx.send(true);
        }
    });
    let json = a.controller.json;
    if !json {
        let p = &c.config.policy;
        outln!(
            "Watching {} from {} every {} (N={}, M={}, min dwell {}); Ctrl-C stops after the current pass.",
            c.config.group_arn,
            c.config.own_region,
            human(p.probe_interval),
            p.failures_to_fail_over,
            p.successes_to_return,
            human(p.min_dwell)
        );
    }
    let passes = c
        .watch(rx, a.passes, |r| {
            if json {
                outln!("{}", pass_json(r));
            } else {
                outln!("{}", r.summary());
            }
        })
        .await;
    if !json {
        outln!("Stopped after {passes} passes.");
    }
    Ok(0)
}

struct SandboxOutage(tandem_sim::SandboxClient);

#[async_trait::async_trait]
impl FaultInjector for SandboxOutage {
    fn describe(&self) -> String {
        "sandbox outage (every Connect call in the region fails)".into()
    }
    async fn inject(&self, region: &str) -> Result<(), RuntimeError> {
        self.0
            .set_outage(region, "connect", tandem_sim::faults::OutageMode::Error)
            .await
            .map_err(|e| RuntimeError::Invalid(format!("sandbox: {e:#}")))
    }
    async fn clear(&self, region: &str) -> Result<(), RuntimeError> {
        self.0.clear_outage(region).await.map_err(|e| RuntimeError::Invalid(format!("sandbox: {e:#}")))
    }
    async fn agent_regions(&self, group_arn: &str) -> Option<Result<std::collections::BTreeMap<String, String>, RuntimeError>> {
        Some(self.0.agent_regions(group_arn).await.map_err(|e| RuntimeError::Invalid(format!("sandbox: {e:#}"))))
    }
}

pub async fn drill(a: DrillArgs) -> Result<u8, String> {
    let st = from_args(&a.controller).await?;
    let opts = DrillOptions { phase_timeout: a.phase_timeout, agents_declared: st.declared.is_none() || st.agents_declared };
    if a.deployed {
        return drill_deployed(&a, &st, &opts).await;
    }
    let mut c = controller(&a.controller, true).await?;
    let injector: Box<dyn FaultInjector> = match &a.controller.sandbox {
        Some(url) => Box::new(SandboxOutage(tandem_sim::SandboxClient::new(url.clone()))),
        None => Box::new(ForcedHealth(c.forced_down())),
    };
    if !a.controller.json {
        let p = &c.config.policy;
        outln!(
            "Drill: {} down by {}, controller in {}, a pass every {}, N={}, M={}, min dwell {}.",
            p.primary_region,
            injector.describe(),
            c.config.own_region,
            human(p.probe_interval),
            p.failures_to_fail_over,
            p.successes_to_return,
            human(p.min_dwell)
        );
    }
    let report = run_drill(&mut c, injector.as_ref(), &opts).await;
    print_drill(&report, a.controller.json);
    Ok(if report.passed { 0 } else { 1 })
}

fn print_drill(report: &tandem_failover_runtime::DrillReport, json: bool) {
    if json {
        outln!("{}", serde_json::to_string(&report).unwrap_or_default());
    } else {
        for p in &report.phases {
            outln!("  {:<14} {:<4} {:>8.3}s  {}", p.name, if p.passed { "ok" } else { "FAIL" }, p.seconds, p.detail);
        }
        let t = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |s| format!("{s:.3}s"));
        outln!(
            "Drill {}: time to failover {}, time to recover {}.",
            if report.passed { "passed" } else { "FAILED" },
            t(report.time_to_failover_s),
            t(report.time_to_recover_s)
        );
    }
}

/// `tandem drill --deployed`: the controllers the spec deployed do the work.
async fn drill_deployed(a: &DrillArgs, st: &FromState, opts: &DrillOptions) -> Result<u8, String> {
    use tandem_failover_runtime::{run_deployed_drill, AgentStateProbe, AlarmInjector};
    if st.controllers.is_empty() {
        return Err("the state has no deployed failover controller (an aws.lambda.function with TANDEM_GROUP_ARN in its environment): apply the failover_controller stage first, or drill without --deployed".into());
    }
    let c = controller(&a.controller, false).await?;
    let p = c.config.policy.clone();
    let injector: Box<dyn FaultInjector> = match &a.controller.sandbox {
        Some(url) => Box::new(SandboxOutage(tandem_sim::SandboxClient::new(url.clone()))),
        None => {
            // The critical alarms the deployed controllers read (TANDEM_ALARMS: region/name[/warning]).
            let mut alarms: Vec<(String, String)> = Vec::new();
            for (_, _, env) in &st.controllers {
                for item in
                    env.get("TANDEM_ALARMS").map(String::as_str).unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty())
                {
                    let parts: Vec<&str> = item.split('/').collect();
                    if parts.len() == 2 && !alarms.iter().any(|(r, n)| r == parts[0] && n == parts[1]) {
                        alarms.push((parts[0].to_string(), parts[1].to_string()));
                    }
                }
            }
            let mut clients = std::collections::BTreeMap::new();
            for region in [&p.primary_region, &p.secondary_region] {
                clients.insert(region.clone(), c.config.clients.cloudwatch(region).await);
            }
            Box::new(AlarmInjector { alarms, clients })
        }
    };
    let probe = match st.agent_feeds.iter().find(|(r, _)| *r == p.primary_region) {
        Some((_, stream)) => Some(AgentStateProbe {
            kinesis: c.config.clients.kinesis(&p.primary_region).await,
            stream_name: stream.rsplit('/').next().unwrap_or_default().to_string(),
            table: c.config.table.clone(),
            dynamodb: c.config.clients.dynamodb(&p.secondary_region).await,
            read_region: p.secondary_region.clone(),
        }),
        None => None,
    };
    let sandbox = a.controller.sandbox.as_ref().map(|u| tandem_sim::SandboxClient::new(u.clone()));
    if let Some(sb) = &sandbox {
        sb.set_time_scale(a.time_scale).await.map_err(|e| format!("sandbox: {e:#}"))?;
    }
    if !a.controller.json {
        let names: Vec<String> = st.controllers.iter().map(|(r, n, _)| format!("{n} ({r})")).collect();
        outln!(
            "Drill of the deployed controllers {}: {} down by {}{}.",
            names.join(", "),
            p.primary_region,
            injector.describe(),
            sandbox.as_ref().map(|_| format!(", the sandbox's schedules {}x as fast", a.time_scale)).unwrap_or_default()
        );
    }
    let report = run_deployed_drill(c.actuator.as_ref(), &p, injector.as_ref(), probe.as_ref(), opts).await;
    if let Some(sb) = &sandbox {
        let _ = sb.set_time_scale(1.0).await;
    }
    print_drill(&report, a.controller.json);
    Ok(if report.passed { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5d").is_err());
        assert_eq!(human(Duration::ZERO), "0s");
        assert_eq!(parse_alarm("us-east-1:MissedCalls:warning").unwrap().severity, Severity::Warning);
        assert_eq!(parse_alarm("us-east-1:ThrottledCalls").unwrap().severity, Severity::Critical);
        assert!(parse_alarm("ThrottledCalls").is_err());
        assert!(parse_alarm("us-east-1:X:fatal").is_err());
        assert_eq!(human(Duration::from_millis(200)), "200ms");
        assert_eq!(human(Duration::from_secs(600)), "10m");
    }

    #[test]
    fn config_comes_from_the_state() {
        let state: tandem_state::State = serde_json::from_value(json!({
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
        let f = from_state(&state);
        assert_eq!(f.group_arn.as_deref(), Some("arn:aws:connect:us-east-1:123456789012:traffic-distribution-group/g1"));
        assert_eq!((f.primary_region.as_deref(), f.secondary_region.as_deref()), (Some("us-east-1"), Some("us-west-2")));
        assert_eq!((f.primary_instance_id.as_deref(), f.secondary_instance_id.as_deref()), (Some("i1"), Some("i1")));
        assert_eq!(f.table.as_deref(), Some("contact-center-agent-state"));
        assert_eq!(f.declared, None);
    }

    #[test]
    fn the_default_is_the_declared_distribution() {
        let state: tandem_state::State = serde_json::from_value(json!({
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
        let f = from_state(&state);
        let d = f.declared.expect("declared");
        assert_eq!(d, Distribution::split("us-east-1", 70, "us-west-2"), "agents follow telephony when undeclared");
        assert!(!f.agents_declared);
        assert_eq!(f.controllers.len(), 1);
        assert_eq!(f.controllers[0].2.get("TANDEM_ALARMS").map(String::as_str), Some("us-east-1/a"));
        assert_eq!(f.agent_feeds, vec![("us-east-1".to_string(), "arn:aws:kinesis:us-east-1:1:stream/agent-events".to_string())]);
    }
}
