//! One controller: a pass is probe both regions, observe, read the record,
//! decide, act (conditional write, then `UpdateTrafficDistribution`);
//! `watch` runs passes every `probe_interval` until told to stop.

use super::actuator::Actuator;
use super::probe::{AlarmSource, ConnectProbe};
use super::record_store::{RecordStore, WriteOutcome};
use super::{unix_now, ClientOptions, Result, RuntimeError};
use crate::decide::{decide, observe, Decision, History};
use crate::distribution::Distribution;
use crate::health::{assess, Probe, RegionHealth};
use crate::policy::Policy;
use crate::record::{compare_and_set, DecisionRecord};
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Everything a controller needs to know.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    pub policy: Policy,
    /// The region this controller runs in (its calls go there first).
    pub own_region: String,
    /// The traffic distribution group's ARN (the only name valid in both regions).
    pub group_arn: String,
    /// The Connect instance id in the primary region.
    pub primary_instance_id: String,
    /// The replica's instance id in the secondary region (Global Resiliency
    /// keeps the source's id).
    pub secondary_instance_id: String,
    /// The DynamoDB table holding the decision record (the agent-state table).
    pub table: String,
    pub clients: ClientOptions,
}

impl ControllerConfig {
    fn other_region(&self) -> &str {
        if self.own_region == self.policy.primary_region {
            &self.policy.secondary_region
        } else {
            &self.policy.primary_region
        }
    }
}

/// Regions whose probes are forced to fail (a drill against real AWS).
pub type ForcedDown = Arc<Mutex<BTreeSet<String>>>;

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
    /// A call failed; the next pass tries again.
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
}

impl PassReport {
    /// One log line.
    pub fn summary(&self) -> String {
        let health = health_text;
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
        format!(
            "[{}] {} {}, {} {}: {decision}{action}",
            self.by_region,
            self.history_region_primary(),
            health(&self.primary),
            self.history_region_secondary(),
            health(&self.secondary),
        )
    }

    fn history_region_primary(&self) -> String {
        format!("primary f{}/s{}", self.history.primary.consecutive_failures, self.history.primary.consecutive_successes)
    }

    fn history_region_secondary(&self) -> String {
        format!("secondary f{}/s{}", self.history.secondary.consecutive_failures, self.history.secondary.consecutive_successes)
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

fn join(findings: &[crate::health::Finding]) -> String {
    findings.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

pub struct Controller {
    pub config: ControllerConfig,
    primary: ConnectProbe,
    secondary: ConnectProbe,
    pub actuator: Actuator,
    pub store: RecordStore,
    history: History,
    forced_down: ForcedDown,
    clock: Arc<dyn Fn() -> u64 + Send + Sync>,
    /// Where `watch` publishes each pass's metrics, when set.
    pub metrics: Option<super::metrics::MetricsPublisher>,
}

/// How many times a pass re-reads and re-decides after losing the write.
const MAX_RACES: u32 = 3;

impl Controller {
    /// Builds the clients (own region first) and checks the policy.
    pub async fn new(config: ControllerConfig, alarms: Arc<dyn AlarmSource>) -> Result<Self> {
        // The runtime takes sub-second intervals (tests, drills); the policy's
        // whole-second rule is for declared policies.
        let errors: Vec<String> = match config.policy.validate() {
            Ok(()) => Vec::new(),
            Err(errors) => errors
                .iter()
                .filter(|e| !matches!(e, crate::PolicyError::ZeroProbeInterval) || config.policy.probe_interval.is_zero())
                .map(ToString::to_string)
                .collect(),
        };
        if !errors.is_empty() {
            let text = errors;
            return Err(RuntimeError::Invalid(format!("the failover policy is invalid: {}", text.join("; "))));
        }
        let p = &config.policy;
        if config.own_region != p.primary_region && config.own_region != p.secondary_region {
            return Err(RuntimeError::Invalid(format!(
                "the controller's region {} is neither the primary ({}) nor the secondary ({})",
                config.own_region, p.primary_region, p.secondary_region
            )));
        }
        let c = &config.clients;
        let (pc, sc) = (c.connect(&p.primary_region).await, c.connect(&p.secondary_region).await);
        let probe_timeout = c.api_timeout.saturating_mul(c.max_attempts.max(1)) + std::time::Duration::from_millis(500);
        let primary = ConnectProbe::new(&p.primary_region, &config.primary_instance_id, pc.clone(), alarms.clone(), probe_timeout);
        let secondary = ConnectProbe::new(&p.secondary_region, &config.secondary_instance_id, sc.clone(), alarms, probe_timeout);
        let own = config.own_region.clone();
        let other = config.other_region().to_string();
        let (own_c, other_c) = if own == p.primary_region { (pc, sc) } else { (sc, pc) };
        let actuator = Actuator::new(&config.group_arn, vec![(own.clone(), own_c), (other.clone(), other_c)]);
        let store = RecordStore::new(
            &config.table,
            &config.group_arn,
            vec![(own.clone(), c.dynamodb(&own).await), (other.clone(), c.dynamodb(&other).await)],
        );
        Ok(Controller {
            config,
            primary,
            secondary,
            actuator,
            store,
            history: History::default(),
            forced_down: Arc::default(),
            clock: Arc::new(unix_now),
            metrics: None,
        })
    }

    /// Replace the clock (Unix seconds); tests.
    pub fn with_clock(mut self, clock: Arc<dyn Fn() -> u64 + Send + Sync>) -> Self {
        self.clock = clock;
        self
    }

    /// Regions named here fail every probe (a forced health override: a drill
    /// against real AWS, where no outage can be injected).
    pub fn forced_down(&self) -> ForcedDown {
        self.forced_down.clone()
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    async fn probe(&self) -> (Probe, Probe) {
        let (mut p, mut s) = tokio::join!(self.primary.probe(), self.secondary.probe());
        let forced = self.forced_down.lock().map(|f| f.clone()).unwrap_or_default();
        for (probe, region) in [(&mut p, &self.primary.region), (&mut s, &self.secondary.region)] {
            if forced.contains(region) {
                probe.api_reachable = false;
                probe.instance_status = None;
            }
        }
        (p, s)
    }

    /// One pass: probe, observe, read the record, decide, act.
    pub async fn pass(&mut self) -> PassReport {
        self.run_pass(true).await
    }

    /// A pass that acts on nothing: probe, observe, read the record and the
    /// live distribution, decide (what `tandem failover status` shows).
    pub async fn look(&mut self) -> PassReport {
        self.run_pass(false).await
    }

    /// A shift by hand: writes the record (the version read; a lost race is
    /// an error, not retried) and then sets the group. It starts the dwell
    /// window like any shift; the controllers bring the default back once
    /// both regions pass M checks.
    pub async fn shift_to(&mut self, to: &Distribution) -> Result<(u64, String)> {
        let stored = self.store.read().await?;
        let expected = stored.as_ref().map(|r| r.version);
        let now = (self.clock)();
        let new = compare_and_set(stored.as_ref(), expected, to.clone(), now, &self.config.own_region)
            .map_err(|c| RuntimeError::Invalid(c.to_string()))?;
        match self.store.write(&new, expected).await? {
            WriteOutcome::Written => {}
            WriteOutcome::LostRace => {
                return Err(RuntimeError::Invalid(
                    "a controller wrote the decision record at the same moment; look at `tandem failover status` and try again".into(),
                ))
            }
        }
        let via = self
            .actuator
            .set(to)
            .await
            .map_err(|e| RuntimeError::Invalid(format!("record v{} written, but {e}; the controllers will apply it", new.version)))?;
        Ok((new.version, via))
    }

    async fn run_pass(&mut self, act: bool) -> PassReport {
        let (pp, sp) = self.probe().await;
        let (ph, sh) = (assess(&pp), assess(&sp));
        self.history = observe(&self.history, &ph, &sh);
        let now = (self.clock)();
        let mut report = PassReport {
            at: now,
            by_region: self.config.own_region.clone(),
            primary: ph,
            secondary: sh,
            history: self.history.clone(),
            record_version: None,
            decision: None,
            lost_races: 0,
            action: Action::None,
            live: None,
        };
        loop {
            let stored = match self.store.read().await {
                Ok(r) => r,
                Err(e) => {
                    report.action = Action::Failed { error: e.to_string() };
                    break;
                }
            };
            report.record_version = stored.as_ref().map(|r| r.version);
            let policy = &self.config.policy;
            let current = DecisionRecord::current(stored.as_ref(), policy);
            let history = DecisionRecord::sync(stored.as_ref(), self.history.clone());
            let decision = decide(&history, &current, policy, now);
            report.decision = Some(decision.clone());
            if !act {
                match self.actuator.get().await {
                    Ok((live, _)) => report.live = Some(live),
                    Err(e) => report.action = Action::Failed { error: e.to_string() },
                }
                break;
            }
            let Decision::Shift { to, .. } = &decision else {
                report.action = self.reconcile(stored.as_ref(), &mut report.live).await;
                break;
            };
            let expected = stored.as_ref().map(|r| r.version);
            let new = match compare_and_set(stored.as_ref(), expected, to.clone(), now, &self.config.own_region) {
                Ok(r) => r,
                Err(c) => {
                    report.action = Action::Failed { error: c.to_string() };
                    break;
                }
            };
            match self.store.write(&new, expected).await {
                Ok(WriteOutcome::Written) => {
                    report.action = match self.actuator.set(to).await {
                        Ok(via_region) => {
                            report.live = Some(to.clone());
                            Action::Shifted { to: to.clone(), version: new.version, via_region }
                        }
                        Err(e) => Action::Failed { error: format!("record v{} written, but {e}; the next pass reconciles", new.version) },
                    };
                    report.record_version = Some(new.version);
                    break;
                }
                Ok(WriteOutcome::LostRace) => {
                    report.lost_races += 1;
                    tracing::info!(region = %self.config.own_region, "lost the decision record write; re-reading");
                    if report.lost_races >= MAX_RACES {
                        report.action = Action::Failed { error: format!("lost the decision record write {MAX_RACES} times in a row") };
                        break;
                    }
                }
                Err(e) => {
                    report.action = Action::Failed { error: e.to_string() };
                    break;
                }
            }
        }
        report
    }

    /// Not a decision: when a record exists and the group's live
    /// distribution differs from it, set the group to the record's
    /// (a crash between the write and the API call; a hand edit).
    async fn reconcile(&self, stored: Option<&DecisionRecord>, live_out: &mut Option<Distribution>) -> Action {
        let live = match self.actuator.get().await {
            Ok((live, _)) => live,
            Err(e) => return Action::Failed { error: e.to_string() },
        };
        *live_out = Some(live.clone());
        let Some(record) = stored else { return Action::None };
        if live.equivalent(&record.distribution) {
            return Action::None;
        }
        // Narrow the window against a newer record written meanwhile.
        match self.store.read().await {
            Ok(Some(again)) if again.version == record.version => {}
            Ok(_) => return Action::None,
            Err(e) => return Action::Failed { error: e.to_string() },
        }
        match self.actuator.set(&record.distribution).await {
            Ok(via_region) => {
                *live_out = Some(record.distribution.clone());
                Action::Reconciled { to: record.distribution.clone(), via_region }
            }
            Err(e) => Action::Failed { error: e.to_string() },
        }
    }

    /// Runs passes every `probe_interval` until `stop` turns true (checked
    /// between passes: a pass in flight always finishes, so a conditional
    /// write is never left without its API call) or `max_passes` ran.
    /// `on_pass` sees every report.
    pub async fn watch(
        &mut self,
        mut stop: tokio::sync::watch::Receiver<bool>,
        max_passes: Option<u64>,
        mut on_pass: impl FnMut(&PassReport),
    ) -> u64 {
        let mut passes = 0u64;
        loop {
            if *stop.borrow() {
                break;
            }
            let report = self.pass().await;
            passes += 1;
            if let Some(m) = &self.metrics {
                m.publish(&report).await;
            }
            match &report.action {
                Action::Failed { .. } => tracing::warn!(pass = passes, "{}", report.summary()),
                _ => tracing::info!(pass = passes, "{}", report.summary()),
            }
            on_pass(&report);
            if max_passes.is_some_and(|m| passes >= m) {
                break;
            }
            tokio::select! {
                _ = stop.changed() => {}
                _ = tokio::time::sleep(self.config.policy.probe_interval) => {}
            }
        }
        passes
    }
}
