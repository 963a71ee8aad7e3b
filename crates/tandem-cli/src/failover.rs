//! `tandem failover status|shift|watch` and `tandem drill`: the failover
//! controller (crates/tandem-failover-runtime: settings, assembly, drills)
//! driven from the command line; this file parses flags and prints.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use tandem_failover::Distribution;
use tandem_failover_runtime::settings::{self, Deployment, Overrides};
use tandem_failover_runtime::{
    health_text, run_drill, Action, ClientOptions, Controller, DeclaredAlarm, DrillOptions, FaultInjector, ForcedHealth, PassReport,
    RuntimeError,
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
    #[arg(long = "alarm", value_name = "REGION:NAME[:warning]", value_parser = settings::parse_flag_alarm)]
    pub alarms: Vec<DeclaredAlarm>,
    /// Per-call timeout of the AWS API calls.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub api_timeout: Duration,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `10m`, `1s`, `200ms`.
fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// `500ms`, `10s`, `2m`, `1h` (humantime), or bare seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(s).map_err(|e| format!("`{s}` is not a duration (e.g. 500ms, 10s, 2m): {e}"))
}

/// The state the flags name; like every verb, `tandem.yaml`'s state in the
/// working directory when none is named (and there is one).
async fn from_args(a: &ControllerArgs) -> Result<Deployment, String> {
    let spec = a.spec.clone().unwrap_or_else(|| std::path::PathBuf::from("tandem.yaml"));
    // Nothing named and nothing here: the flags must say it all.
    if a.spec.is_none() && a.state.is_none() && !spec.exists() {
        return Ok(Deployment::default());
    }
    let opened = crate::backends::open(&spec, a.state.as_deref(), &[], false).await.map_err(|f| f.message())?;
    let state = opened.store.load().await.map_err(|e| e.to_string())?;
    Ok(Deployment::from_state(&state))
}

/// What the flags say over the state.
fn overrides(a: &ControllerArgs) -> Overrides {
    Overrides {
        group_arn: a.group_arn.clone(),
        primary_region: a.primary_region.clone(),
        secondary_region: a.secondary_region.clone(),
        instance_id: a.instance_id.clone(),
        table: a.table.clone(),
        region: a.region.clone(),
        probe_interval: a.probe_interval,
        min_dwell: a.min_dwell,
        failures: a.failures,
        successes: a.successes,
        clients: ClientOptions {
            api_timeout: a.api_timeout,
            max_attempts: 2,
            endpoint_url: a.sandbox.clone(),
            static_credentials: a.sandbox.as_ref().map(|_| ("testing".to_string(), "testing".to_string())),
        },
    }
}

/// The controller the flags and the state describe; `metrics`: it publishes
/// its pass metrics to CloudWatch (the dashboard's source).
async fn controller(a: &ControllerArgs, drill: bool, metrics: bool) -> Result<Controller, String> {
    let config = from_args(a).await?.controller_config(&overrides(a), drill)?;
    settings::assemble(config, &a.alarms, metrics).await.map_err(|e| e.to_string())
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
    let mut c = controller(&a, false, false).await?;
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
    let mut c = controller(&a.controller, false, false).await?;
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
    // Health per region and shifts go to CloudWatch (the dashboard's source).
    let mut c = controller(&a.controller, false, true).await?;
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
    let mut c = controller(&a.controller, true, false).await?;
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
async fn drill_deployed(a: &DrillArgs, st: &Deployment, opts: &DrillOptions) -> Result<u8, String> {
    use tandem_failover_runtime::{run_deployed_drill, AgentStateProbe, AlarmInjector};
    if st.controllers.is_empty() {
        return Err("the state has no deployed failover controller (an aws.lambda.function with TANDEM_GROUP_ARN in its environment): apply the failover_controller stage first, or drill without --deployed".into());
    }
    let c = controller(&a.controller, false, false).await?;
    let p = c.config.policy.clone();
    let injector: Box<dyn FaultInjector> = match &a.controller.sandbox {
        Some(url) => Box::new(SandboxOutage(tandem_sim::SandboxClient::new(url.clone()))),
        None => {
            // The critical alarms the deployed controllers read.
            let alarms = st.critical_alarms();
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
        let names: Vec<String> = st.controllers.iter().map(|c| format!("{} ({})", c.name, c.region)).collect();
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
        assert!(parse_duration("5x").is_err());
        assert_eq!(human(Duration::ZERO), "0s");
        assert_eq!(human(Duration::from_millis(200)), "200ms");
        assert_eq!(human(Duration::from_secs(600)), "10m");
    }
}
