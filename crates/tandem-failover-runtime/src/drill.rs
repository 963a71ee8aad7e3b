//! The failover drill: from the default distribution, take the primary
//! region's Connect down, run passes until `GetTrafficDistribution` reports
//! everything (calls and agents) on the secondary, bring the region back, run
//! passes until the default is back; measure both times.

use crate::controller::{Controller, ForcedDown};
use crate::{Result, RuntimeError};
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tandem_failover::distribution::Distribution;

/// Takes a region's Connect down and brings it back.
#[async_trait]
pub trait FaultInjector: Send + Sync {
    /// What the injection is (for the report).
    fn describe(&self) -> String;
    async fn inject(&self, region: &str) -> Result<()>;
    async fn clear(&self, region: &str) -> Result<()>;
    /// Where each agent associated with the group works now (user id ->
    /// region), when the injector can see it (a sandbox can; AWS has no API
    /// for it). `None`: not observable, the drill checks the association only.
    async fn agent_regions(&self, _group_arn: &str) -> Option<Result<BTreeMap<String, String>>> {
        None
    }
}

/// Against real AWS: nothing is broken; the controller's probes of the
/// region are forced to fail (a forced health override).
pub struct ForcedHealth(pub ForcedDown);

#[async_trait]
impl FaultInjector for ForcedHealth {
    fn describe(&self) -> String {
        "forced health override (the controller's probes of the region fail)".into()
    }
    async fn inject(&self, region: &str) -> Result<()> {
        self.0.lock().map_err(|_| RuntimeError::Invalid("override lock poisoned".into()))?.insert(region.to_string());
        Ok(())
    }
    async fn clear(&self, region: &str) -> Result<()> {
        self.0.lock().map_err(|_| RuntimeError::Invalid("override lock poisoned".into()))?.remove(region);
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct DrillOptions {
    /// Give up on a phase after this long.
    pub phase_timeout: Duration,
    /// The spec declares the group's agent distribution; when it does not,
    /// only calls must be at the default before the drill starts.
    pub agents_declared: bool,
}

impl Default for DrillOptions {
    fn default() -> Self {
        DrillOptions { phase_timeout: Duration::from_secs(600), agents_declared: true }
    }
}

/// At the default, as far as the spec declares it.
fn at_default(live: &Distribution, default: &Distribution, opts: &DrillOptions) -> bool {
    if opts.agents_declared {
        live.equivalent(default)
    } else {
        live.telephony.equivalent(&default.telephony)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DrillPhase {
    pub name: String,
    pub passed: bool,
    pub seconds: f64,
    /// What happened (text output only).
    #[serde(skip)]
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    pub passed: bool,
    pub phases: Vec<DrillPhase>,
    pub time_to_failover_s: Option<f64>,
    pub time_to_recover_s: Option<f64>,
}

pub(crate) fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

pub(crate) fn phase(name: &str, passed: bool, d: Duration, detail: String) -> DrillPhase {
    DrillPhase { name: name.into(), passed, seconds: secs(d), detail }
}

/// The `agents` phase of both drills: agents follow the agent distribution
/// only once associated with the group; with none, a failover moves calls
/// to a region with no agents
/// (https://docs.aws.amazon.com/connect/latest/adminguide/associate-agents-across-regions.html).
/// Returns the phase and how many agents are in the group.
pub(crate) async fn agents_phase(actuator: &dyn crate::actuator::Actuator) -> (DrillPhase, usize) {
    let t = Instant::now();
    let (ok, detail, agents) = match actuator.users().await {
        Ok(u) if u.is_empty() => (
            false,
            "no agent is associated with the group, so a failover would move calls but no agents; associate them (aws.connect.traffic_distribution_group_user)".to_string(),
            0,
        ),
        Ok(u) => (true, format!("{} agent(s) in the group follow its agent distribution", u.len()), u.len()),
        Err(e) => (false, e.to_string(), 0),
    };
    (phase("agents", ok, t.elapsed(), detail), agents)
}

/// Runs passes until the live distribution is `want` (checked after every
/// pass through the controller's actuator), or the timeout.
async fn until(controller: &mut Controller, want: &Distribution, timeout: Duration) -> (bool, u32, String) {
    let start = Instant::now();
    let mut passes = 0u32;
    let mut last: String;
    loop {
        let report = controller.pass().await;
        passes += 1;
        last = report.summary();
        tracing::info!("drill pass {passes}: {last}");
        match controller.actuator.get().await {
            Ok((live, _)) if live.equivalent(want) => return (true, passes, last),
            Ok(_) => {}
            Err(e) => last = format!("{last}; {e}"),
        }
        if start.elapsed() >= timeout {
            return (false, passes, last);
        }
        tokio::time::sleep(controller.config.policy.probe_interval).await;
    }
}

/// Where the injector sees the group's agents, against `want` (region ->
/// how many agents there): a phase, or `None` when it cannot see them.
async fn agents_where(
    injector: &dyn FaultInjector,
    group_arn: &str,
    agents: usize,
    want: impl Fn(&String) -> Option<usize>,
) -> Option<impl FnOnce(&str) -> DrillPhase> {
    let t = Instant::now();
    let seen = injector.agent_regions(group_arn).await?;
    let (ok, detail) = match seen {
        Err(e) => (false, e.to_string()),
        Ok(map) => {
            let mut count: BTreeMap<String, usize> = BTreeMap::new();
            for r in map.values() {
                *count.entry(r.clone()).or_default() += 1;
            }
            let wrong: Vec<String> =
                count.iter().filter(|(r, n)| want(r).is_some_and(|w| w != **n)).map(|(r, n)| format!("{n} in {r}")).collect();
            let ok = map.len() == agents && wrong.is_empty();
            (ok, format!("agents by region: {}", count.iter().map(|(r, n)| format!("{r}={n}")).collect::<Vec<_>>().join(", ")))
        }
    };
    let d = t.elapsed();
    Some(move |name: &str| DrillPhase { name: name.into(), passed: ok, seconds: secs(d), detail })
}

/// The drill; the outage is always cleared, whatever happens.
pub async fn run_drill(controller: &mut Controller, injector: &dyn FaultInjector, opts: &DrillOptions) -> DrillReport {
    let policy = controller.config.policy.clone();
    let (primary, secondary) = (policy.primary_region.clone(), policy.secondary_region.clone());
    let default = policy.default_distribution.clone();
    let failed_over = Distribution::all_to(&secondary, &primary);
    let mut report = DrillReport { passed: false, phases: Vec::new(), time_to_failover_s: None, time_to_recover_s: None };

    // 1. normal: the group is at the default distribution.
    let t = Instant::now();
    let (ok, detail) = match controller.actuator.get().await {
        Ok((live, via)) if at_default(&live, &default, opts) => (true, format!("at the default ({live}), read via {via}")),
        Ok((live, _)) => {
            (false, format!("the group is at {live}, not the default {default}; set it back first (`tandem failover shift --to default`)"))
        }
        Err(e) => (false, e.to_string()),
    };
    report.phases.push(phase("normal", ok, t.elapsed(), detail));
    if !ok {
        return report;
    }

    let (p, agents) = agents_phase(controller.actuator.as_ref()).await;
    let ok = p.passed;
    report.phases.push(p);
    if !ok {
        return report;
    }

    // 2. outage of the primary's Connect.
    let t = Instant::now();
    let r = injector.inject(&primary).await;
    report.phases.push(phase(
        "inject_outage",
        r.is_ok(),
        t.elapsed(),
        r.as_ref().map_or_else(|e| e.to_string(), |_| format!("{primary} Connect down: {}", injector.describe())),
    ));
    if r.is_err() {
        let _ = injector.clear(&primary).await;
        return report;
    }

    // 3. failover: passes until 0/100 (calls and agents).
    let (ok, passes, last) = until(controller, &failed_over, opts.phase_timeout).await;
    let d = t.elapsed();
    report.phases.push(phase("failover", ok, d, format!("{passes} passes; last: {last}")));
    if ok {
        report.time_to_failover_s = Some(secs(d));
        if let Some(p) =
            agents_where(injector, controller.actuator.group_arn(), agents, |n| if n == &secondary { Some(agents) } else { Some(0) }).await
        {
            report.phases.push(p("agents_moved"));
        }
    }

    // 4. clear the outage (always).
    let t = Instant::now();
    let r = injector.clear(&primary).await;
    report.phases.push(phase(
        "clear_outage",
        r.is_ok(),
        t.elapsed(),
        r.as_ref().map_or_else(|e| e.to_string(), |_| format!("{primary} Connect back")),
    ));
    if !ok || r.is_err() {
        return report;
    }

    // 5. recovery: passes until the default.
    let (ok, passes, last) = until(controller, &default, opts.phase_timeout).await;
    let d = t.elapsed();
    report.phases.push(phase("recover", ok, d, format!("{passes} passes; last: {last}")));
    if ok {
        report.time_to_recover_s = Some(secs(d));
        // Back at the default: each region has its share of the agents (rounded).
        let share = |region: &String| default.agents.0.get(region).map(|p| (agents * *p as usize + 50) / 100);
        if let Some(p) = agents_where(injector, controller.actuator.group_arn(), agents, share).await {
            report.phases.push(p("agents_back"));
        }
    }
    report.passed = report.phases.iter().all(|p| p.passed);
    report
}
