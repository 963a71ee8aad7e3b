//! The failover drill: from the default distribution, take the primary
//! region's Connect down, run passes until `GetTrafficDistribution` reports
//! everything (calls and agents) on the secondary, bring the region back, run
//! passes until the default is back; measure both times.

use crate::actuator::Actuator;
use crate::controller::{Controller, ForcedDown};
use crate::{Result, RuntimeError};
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tandem_failover::distribution::Distribution;
use tandem_failover::policy::Policy;

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
async fn agents_phase(actuator: &dyn Actuator) -> (DrillPhase, usize) {
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
/// how many agents there): the phase `name`, or `None` when it cannot see them.
async fn agents_where(
    name: &str,
    injector: &dyn FaultInjector,
    group_arn: &str,
    agents: usize,
    want: impl Fn(&String) -> Option<usize> + Send + Sync,
) -> Option<DrillPhase> {
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
    Some(DrillPhase { name: name.into(), passed: ok, seconds: secs(t.elapsed()), detail })
}

/// A leg of a drill: away from the primary, or back to the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leg {
    Failover,
    Recover,
}

/// What a drill does its own way. [`run_phases`] holds the order every
/// drill takes, so the drill that runs the controller here and the drill
/// that watches the deployed controllers cannot drift apart in it.
#[async_trait]
pub(crate) trait Driver: Send + Sync {
    /// The `inject_outage` phase's detail once `primary` is down.
    fn outage(&self, primary: &str, injector: &dyn FaultInjector) -> String;
    /// The `clear_outage` phase's detail once `primary` is back.
    fn back(&self, primary: &str) -> String;
    /// Until the live distribution is `want`, or the timeout: whether it
    /// got there, and the leg's detail.
    async fn reach(&mut self, leg: Leg, want: &Distribution, timeout: Duration) -> (bool, String);
    /// Where the group's `agents` are once `leg` succeeded, when this drill checks it.
    async fn agents(&self, leg: Leg, injector: &dyn FaultInjector, agents: usize) -> Option<DrillPhase>;
    /// Checks made once the outage is cleared, whatever happened before.
    async fn after(&self, _report: &mut DrillReport) {}
}

/// The phases of every drill, in order: normal, agents, inject_outage,
/// failover (+ where the agents went), clear_outage (always, once
/// injected), recover (+ where the agents went), then the driver's own
/// checks. The drill passes when every phase did and the default came back.
pub(crate) async fn run_phases(
    actuator: &dyn Actuator,
    policy: &Policy,
    injector: &dyn FaultInjector,
    opts: &DrillOptions,
    driver: &mut dyn Driver,
) -> DrillReport {
    let (primary, secondary) = (policy.primary_region.clone(), policy.secondary_region.clone());
    let default = policy.default_distribution.clone();
    let mut report = DrillReport { passed: false, phases: Vec::new(), time_to_failover_s: None, time_to_recover_s: None };

    // 1. normal: the group is at the default distribution.
    let t = Instant::now();
    let (ok, detail) = match actuator.get().await {
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

    let (p, agents) = agents_phase(actuator).await;
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
        r.as_ref().map_or_else(|e| e.to_string(), |_| driver.outage(&primary, injector)),
    ));
    if r.is_err() {
        let _ = injector.clear(&primary).await;
        return report;
    }

    // 3. failover: until 0/100 (calls and agents); timed from the injection.
    let (ok, detail) = driver.reach(Leg::Failover, &Distribution::all_to(&secondary, &primary), opts.phase_timeout).await;
    let d = t.elapsed();
    report.phases.push(phase("failover", ok, d, detail));
    if ok {
        report.time_to_failover_s = Some(secs(d));
        if let Some(p) = driver.agents(Leg::Failover, injector, agents).await {
            report.phases.push(p);
        }
    }

    // 4. clear the outage (always).
    let t = Instant::now();
    let r = injector.clear(&primary).await;
    report.phases.push(phase("clear_outage", r.is_ok(), t.elapsed(), r.as_ref().map_or_else(|e| e.to_string(), |_| driver.back(&primary))));

    // 5. recovery: until the default; timed from the clearing.
    if ok && r.is_ok() {
        let (ok, detail) = driver.reach(Leg::Recover, &default, opts.phase_timeout).await;
        let d = t.elapsed();
        report.phases.push(phase("recover", ok, d, detail));
        if ok {
            report.time_to_recover_s = Some(secs(d));
            if let Some(p) = driver.agents(Leg::Recover, injector, agents).await {
                report.phases.push(p);
            }
        }
    }
    driver.after(&mut report).await;
    report.passed = report.phases.iter().all(|p| p.passed) && report.time_to_recover_s.is_some();
    report
}

/// The drill that runs the controller itself, pass after pass.
struct Local<'a> {
    controller: &'a mut Controller,
}

#[async_trait]
impl Driver for Local<'_> {
    fn outage(&self, primary: &str, injector: &dyn FaultInjector) -> String {
        format!("{primary} Connect down: {}", injector.describe())
    }

    fn back(&self, primary: &str) -> String {
        format!("{primary} Connect back")
    }

    async fn reach(&mut self, _leg: Leg, want: &Distribution, timeout: Duration) -> (bool, String) {
        let (ok, passes, last) = until(self.controller, want, timeout).await;
        (ok, format!("{passes} passes; last: {last}"))
    }

    async fn agents(&self, leg: Leg, injector: &dyn FaultInjector, agents: usize) -> Option<DrillPhase> {
        let policy = &self.controller.config.policy;
        let group = self.controller.actuator.group_arn();
        match leg {
            Leg::Failover => {
                let secondary = &policy.secondary_region;
                agents_where("agents_moved", injector, group, agents, |n| if n == secondary { Some(agents) } else { Some(0) }).await
            }
            Leg::Recover => {
                // Back at the default: each region has its share of the agents (rounded).
                let default = &policy.default_distribution;
                let share = |region: &String| default.agents.0.get(region).map(|p| (agents * *p as usize + 50) / 100);
                agents_where("agents_back", injector, group, agents, share).await
            }
        }
    }
}

/// The drill; the outage is always cleared, whatever happens.
pub async fn run_drill(controller: &mut Controller, injector: &dyn FaultInjector, opts: &DrillOptions) -> DrillReport {
    let policy = controller.config.policy.clone();
    let actuator = controller.actuator.clone();
    run_phases(actuator.as_ref(), &policy, injector, opts, &mut Local { controller }).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A group at the policy's default with one agent.
    struct AtDefault(Distribution);

    #[async_trait]
    impl Actuator for AtDefault {
        fn group_arn(&self) -> &str {
            "arn:group"
        }
        async fn get(&self) -> Result<(Distribution, String)> {
            Ok((self.0.clone(), "us-east-1".into()))
        }
        async fn set(&self, _: &Distribution) -> Result<String> {
            Ok("us-east-1".into())
        }
        async fn users(&self) -> Result<Vec<String>> {
            Ok(vec!["alice".into()])
        }
    }

    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    #[async_trait]
    impl FaultInjector for Recorder {
        fn describe(&self) -> String {
            "scripted".into()
        }
        async fn inject(&self, region: &str) -> Result<()> {
            self.0.lock().unwrap().push(format!("inject {region}"));
            Ok(())
        }
        async fn clear(&self, region: &str) -> Result<()> {
            self.0.lock().unwrap().push(format!("clear {region}"));
            Ok(())
        }
    }

    /// Reaches the target on the legs it is told to; says what it was asked.
    struct Scripted {
        reaches: Vec<Leg>,
        asked: Vec<Leg>,
    }

    #[async_trait]
    impl Driver for Scripted {
        fn outage(&self, primary: &str, _: &dyn FaultInjector) -> String {
            format!("{primary} down")
        }
        fn back(&self, primary: &str) -> String {
            format!("{primary} back")
        }
        async fn reach(&mut self, leg: Leg, _: &Distribution, _: Duration) -> (bool, String) {
            self.asked.push(leg);
            (self.reaches.contains(&leg), format!("{leg:?}"))
        }
        async fn agents(&self, leg: Leg, _: &dyn FaultInjector, agents: usize) -> Option<DrillPhase> {
            Some(phase(&format!("agents_after_{leg:?}"), true, Duration::ZERO, format!("{agents}")))
        }
        async fn after(&self, report: &mut DrillReport) {
            report.phases.push(phase("after", true, Duration::ZERO, String::new()));
        }
    }

    fn names(r: &DrillReport) -> Vec<&str> {
        r.phases.iter().map(|p| p.name.as_str()).collect()
    }

    #[tokio::test]
    async fn every_drill_clears_the_outage_and_recovers_only_after_a_failover() {
        let policy = Policy::new("us-east-1", "us-west-2");
        let actuator = AtDefault(policy.default_distribution.clone());
        let opts = DrillOptions::default();

        let injector = Recorder::default();
        let mut both = Scripted { reaches: vec![Leg::Failover, Leg::Recover], asked: vec![] };
        let r = run_phases(&actuator, &policy, &injector, &opts, &mut both).await;
        assert_eq!(
            names(&r),
            [
                "normal",
                "agents",
                "inject_outage",
                "failover",
                "agents_after_Failover",
                "clear_outage",
                "recover",
                "agents_after_Recover",
                "after"
            ]
        );
        assert!(r.passed && r.time_to_failover_s.is_some() && r.time_to_recover_s.is_some());
        assert_eq!(r.phases[2].detail, "us-east-1 down");
        assert_eq!(*injector.0.lock().unwrap(), ["inject us-east-1", "clear us-east-1"]);

        // No failover: the outage is still cleared, no recovery is tried,
        // the driver's own checks still run, and the drill fails.
        let injector = Recorder::default();
        let mut stuck = Scripted { reaches: vec![], asked: vec![] };
        let r = run_phases(&actuator, &policy, &injector, &opts, &mut stuck).await;
        assert_eq!(names(&r), ["normal", "agents", "inject_outage", "failover", "clear_outage", "after"]);
        assert_eq!(stuck.asked, [Leg::Failover]);
        assert!(!r.passed && r.time_to_failover_s.is_none() && r.time_to_recover_s.is_none());
        assert_eq!(*injector.0.lock().unwrap(), ["inject us-east-1", "clear us-east-1"]);

        // Back at the default never comes: the drill fails though every phase it ran passed but one.
        let mut half = Scripted { reaches: vec![Leg::Failover], asked: vec![] };
        let r = run_phases(&actuator, &policy, &Recorder::default(), &opts, &mut half).await;
        assert_eq!(half.asked, [Leg::Failover, Leg::Recover]);
        assert!(!r.passed && r.time_to_recover_s.is_none());
    }
}
