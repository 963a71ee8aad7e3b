//! One controller: a pass is probe both regions, observe, read the record,
//! decide, act (conditional write, then set the group); `watch` runs passes
//! every `probe_interval` until told to stop, and retries a failed pass
//! after a backoff (kube-rs's error policy: 800 ms doubling to 30 s).
//!
//! The controller sees the world only through [`HealthProbe`],
//! [`Actuator`] and [`RecordStore`] ([`Parts`]); [`Controller::new`] builds
//! the AWS ones, tests hand in scripted fakes ([`Controller::from_parts`]).

use crate::actuator::{Actuator, ConnectActuator};
use crate::backoff::Backoff;
use crate::probe::{AlarmSource, ConnectProbe, HealthProbe};
use crate::record_store::{DynamoRecordStore, RecordStore, WriteOutcome};
use crate::report::{Action, PassObserver, PassReport};
use crate::{unix_now, ClientOptions, Result, RuntimeError};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use tandem_failover::decide::{decide, observe, Decision, History};
use tandem_failover::distribution::Distribution;
use tandem_failover::health::{assess, Probe, RegionHealth};
use tandem_failover::policy::Policy;
use tandem_failover::record::{compare_and_set, DecisionRecord};
use tokio::time::Instant;

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

/// What a controller acts through.
pub struct Parts {
    pub primary: Arc<dyn HealthProbe>,
    pub secondary: Arc<dyn HealthProbe>,
    pub actuator: Arc<dyn Actuator>,
    pub store: Arc<dyn RecordStore>,
}

pub struct Controller {
    pub config: ControllerConfig,
    primary: Arc<dyn HealthProbe>,
    secondary: Arc<dyn HealthProbe>,
    pub actuator: Arc<dyn Actuator>,
    pub store: Arc<dyn RecordStore>,
    history: History,
    /// The health of the last check: what a retry acts on.
    last_health: Option<(RegionHealth, RegionHealth)>,
    forced_down: ForcedDown,
    clock: Arc<dyn Fn() -> u64 + Send + Sync>,
    /// Who sees each pass `watch` runs (the metrics publisher, ...).
    observers: Vec<Arc<dyn PassObserver>>,
    backoff: Backoff,
}

/// How many times a pass re-reads and re-decides after losing the write.
const MAX_RACES: u32 = 3;

impl Controller {
    /// Builds the AWS clients (own region first) and checks the policy.
    pub async fn new(config: ControllerConfig, alarms: Arc<dyn AlarmSource>) -> Result<Self> {
        check(&config)?;
        let p = &config.policy;
        let c = &config.clients;
        let (pc, sc) = (c.connect(&p.primary_region).await, c.connect(&p.secondary_region).await);
        let probe_timeout = c.api_timeout.saturating_mul(c.max_attempts.max(1)) + std::time::Duration::from_millis(500);
        let primary = ConnectProbe::new(&p.primary_region, &config.primary_instance_id, pc.clone(), alarms.clone(), probe_timeout);
        let secondary = ConnectProbe::new(&p.secondary_region, &config.secondary_instance_id, sc.clone(), alarms, probe_timeout);
        let own = config.own_region.clone();
        let other = config.other_region().to_string();
        let (own_c, other_c) = if own == p.primary_region { (pc, sc) } else { (sc, pc) };
        let actuator = ConnectActuator::new(&config.group_arn, vec![(own.clone(), own_c), (other.clone(), other_c)]);
        let store = DynamoRecordStore::new(
            &config.table,
            &config.group_arn,
            vec![(own.clone(), c.dynamodb(&own).await), (other.clone(), c.dynamodb(&other).await)],
        );
        let parts =
            Parts { primary: Arc::new(primary), secondary: Arc::new(secondary), actuator: Arc::new(actuator), store: Arc::new(store) };
        Controller::from_parts(config, parts)
    }

    /// A controller over the given probes, actuator and store (scripted
    /// fakes in tests); checks the policy as [`Controller::new`] does.
    pub fn from_parts(config: ControllerConfig, parts: Parts) -> Result<Self> {
        check(&config)?;
        Ok(Controller {
            config,
            primary: parts.primary,
            secondary: parts.secondary,
            actuator: parts.actuator,
            store: parts.store,
            history: History::default(),
            last_health: None,
            forced_down: Arc::default(),
            clock: Arc::new(unix_now),
            observers: Vec::new(),
            backoff: Backoff::default(),
        })
    }

    /// Adds an observer that sees every pass `watch` runs.
    pub fn observe_with(&mut self, observer: Arc<dyn PassObserver>) {
        self.observers.push(observer);
    }

    /// Replace the retry backoff (tests: a short one).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
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
        for (probe, region) in [(&mut p, self.primary.region()), (&mut s, self.secondary.region())] {
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

    /// A retry of a failed pass: the record read, decided on and acted on
    /// again with the last check's health. No new check: the hysteresis
    /// counts checks a probe interval apart, and a retry sooner must not
    /// count as one. Before any check, it is a pass.
    pub async fn retry(&mut self) -> PassReport {
        match self.last_health.clone() {
            Some((ph, sh)) => {
                let mut report = self.decide_and_act(ph, sh, true).await;
                report.retry = true;
                report
            }
            None => self.pass().await,
        }
    }

    async fn run_pass(&mut self, act: bool) -> PassReport {
        let (pp, sp) = self.probe().await;
        let (ph, sh) = (assess(&pp), assess(&sp));
        self.history = observe(&self.history, &ph, &sh);
        self.last_health = Some((ph.clone(), sh.clone()));
        self.decide_and_act(ph, sh, act).await
    }

    async fn decide_and_act(&mut self, ph: RegionHealth, sh: RegionHealth, act: bool) -> PassReport {
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
            retry: false,
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

    /// Runs a check every `probe_interval` until `stop` turns true (looked
    /// at between passes: a pass in flight always finishes, so a conditional
    /// write is never left without its API call) or `max_checks` ran. A
    /// failed pass is retried after the backoff when that comes before the
    /// next check (which acts too); a pass that succeeds resets the backoff.
    /// Observers and `on_pass` see every report, retries included. Returns
    /// the checks run.
    pub async fn watch(
        &mut self,
        mut stop: tokio::sync::watch::Receiver<bool>,
        max_checks: Option<u64>,
        mut on_pass: impl FnMut(&PassReport),
    ) -> u64 {
        let mut checks = 0u64;
        let mut retry = false;
        let mut next_check = Instant::now();
        loop {
            if *stop.borrow() {
                break;
            }
            let report = if retry {
                self.retry().await
            } else {
                checks += 1;
                let r = self.pass().await;
                next_check = Instant::now() + self.config.policy.probe_interval;
                r
            };
            for o in &self.observers {
                o.on_pass(&report).await;
            }
            let failed = matches!(report.action, Action::Failed { .. });
            if failed {
                tracing::warn!(check = checks, "{}", report.summary());
            } else {
                tracing::info!(check = checks, "{}", report.summary());
            }
            on_pass(&report);
            let retry_at = if failed {
                Some(Instant::now() + self.backoff.next_delay())
            } else {
                self.backoff.reset();
                None
            };
            retry = retry_at.is_some_and(|at| at < next_check);
            if !retry && max_checks.is_some_and(|m| checks >= m) {
                break;
            }
            let until = match retry_at {
                Some(at) if retry => at,
                _ => next_check,
            };
            tokio::select! {
                _ = stop.changed() => {}
                _ = tokio::time::sleep_until(until) => {}
            }
        }
        checks
    }
}

/// The policy and the controller's region, as a running controller needs them.
fn check(config: &ControllerConfig) -> Result<()> {
    // The runtime takes sub-second intervals (tests, drills); the policy's
    // whole-second rule is for declared policies.
    let errors: Vec<String> = match config.policy.validate() {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .iter()
            .filter(|e| !matches!(e, tandem_failover::PolicyError::ZeroProbeInterval) || config.policy.probe_interval.is_zero())
            .map(ToString::to_string)
            .collect(),
    };
    if !errors.is_empty() {
        return Err(RuntimeError::Invalid(format!("the failover policy is invalid: {}", errors.join("; "))));
    }
    let p = &config.policy;
    if config.own_region != p.primary_region && config.own_region != p.secondary_region {
        return Err(RuntimeError::Invalid(format!(
            "the controller's region {} is neither the primary ({}) nor the secondary ({})",
            config.own_region, p.primary_region, p.secondary_region
        )));
    }
    Ok(())
}
