//! The controller against scripted fakes of its probes, actuator and record
//! store: every call it makes is recorded, every answer is scripted, so the
//! order of decisions and actions is checked without any cloud.

use async_trait::async_trait;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tandem_failover::{Decision, DecisionRecord, Distribution, HoldReason, InstanceStatus, Policy, Probe, ShiftReason};
use tandem_failover_runtime::{
    Action, Actuator, Backoff, ClientOptions, Controller, ControllerConfig, HealthProbe, Parts, PassObserver, PassReport, RecordStore,
    RuntimeError, WriteOutcome,
};

const P: &str = "us-east-1";
const S: &str = "us-west-2";
const GROUP: &str = "arn:aws:connect:us-east-1:123456789012:traffic-distribution-group/g";

fn up() -> Probe {
    Probe { instance_status: Some(InstanceStatus::Active), api_reachable: true, alarms: Vec::new() }
}

fn down() -> Probe {
    Probe { instance_status: None, api_reachable: false, alarms: Vec::new() }
}

/// Answers the scripted probes in order, then the last one forever.
struct ScriptedProbe {
    region: String,
    script: Mutex<VecDeque<Probe>>,
    calls: Mutex<u32>,
}

impl ScriptedProbe {
    fn new(region: &str, script: Vec<Probe>) -> Arc<Self> {
        Arc::new(ScriptedProbe { region: region.into(), script: Mutex::new(script.into()), calls: Mutex::new(0) })
    }
    fn calls(&self) -> u32 {
        *self.calls.lock().unwrap()
    }
}

#[async_trait]
impl HealthProbe for ScriptedProbe {
    fn region(&self) -> &str {
        &self.region
    }
    async fn probe(&self) -> Probe {
        *self.calls.lock().unwrap() += 1;
        let mut script = self.script.lock().unwrap();
        if script.len() > 1 {
            script.pop_front().unwrap()
        } else {
            script.front().cloned().unwrap_or_else(up)
        }
    }
}

/// A group whose `set` fails as many times as scripted, then succeeds.
struct FakeGroup {
    live: Mutex<Distribution>,
    failures_left: Mutex<u32>,
    sets: Mutex<Vec<Distribution>>,
}

impl FakeGroup {
    fn new(failures: u32) -> Arc<Self> {
        Arc::new(FakeGroup { live: Mutex::new(Distribution::split(P, 50, S)), failures_left: Mutex::new(failures), sets: Mutex::default() })
    }
    fn sets(&self) -> Vec<Distribution> {
        self.sets.lock().unwrap().clone()
    }
}

#[async_trait]
impl Actuator for FakeGroup {
    fn group_arn(&self) -> &str {
        GROUP
    }
    async fn get(&self) -> Result<(Distribution, String), RuntimeError> {
        Ok((self.live.lock().unwrap().clone(), S.into()))
    }
    async fn set(&self, to: &Distribution) -> Result<String, RuntimeError> {
        self.sets.lock().unwrap().push(to.clone());
        let mut left = self.failures_left.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return Err(RuntimeError::Aws {
                operation: "UpdateTrafficDistribution",
                region: S.into(),
                message: "InternalServiceException: scripted".into(),
            });
        }
        *self.live.lock().unwrap() = to.clone();
        Ok(S.into())
    }
    async fn users(&self) -> Result<Vec<String>, RuntimeError> {
        Ok(vec!["alice".into()])
    }
}

/// The decision record in memory, with the conditional write's rule.
#[derive(Default)]
struct MemoryStore(Mutex<Option<DecisionRecord>>);

#[async_trait]
impl RecordStore for MemoryStore {
    async fn read(&self) -> Result<Option<DecisionRecord>, RuntimeError> {
        Ok(self.0.lock().unwrap().clone())
    }
    async fn write(&self, record: &DecisionRecord, expected: Option<u64>) -> Result<WriteOutcome, RuntimeError> {
        let mut stored = self.0.lock().unwrap();
        if stored.as_ref().map(|r| r.version) != expected {
            return Ok(WriteOutcome::LostRace);
        }
        *stored = Some(record.clone());
        Ok(WriteOutcome::Written)
    }
}

/// Every report an observer was handed.
#[derive(Default)]
struct Seen(Mutex<Vec<PassReport>>);

#[async_trait]
impl PassObserver for Seen {
    async fn on_pass(&self, report: &PassReport) {
        self.0.lock().unwrap().push(report.clone());
    }
}

fn config(policy: Policy) -> ControllerConfig {
    ControllerConfig {
        policy,
        own_region: S.into(),
        group_arn: GROUP.into(),
        primary_instance_id: "i".into(),
        secondary_instance_id: "i".into(),
        table: "t".into(),
        clients: ClientOptions::default(),
    }
}

fn policy(n: u32, m: u32, interval: Duration) -> Policy {
    let mut p = Policy::new(P, S);
    p.failures_to_fail_over = n;
    p.successes_to_return = m;
    p.min_dwell = Duration::ZERO;
    p.probe_interval = interval;
    p
}

#[tokio::test]
async fn scripted_unhealthy_probes_drive_one_failover_and_one_return() {
    // Primary: down for 2 checks (N = 2), then up; M = 2 brings the default back.
    let primary = ScriptedProbe::new(P, vec![down(), down(), up()]);
    let secondary = ScriptedProbe::new(S, vec![up()]);
    let group = FakeGroup::new(0);
    let store = Arc::new(MemoryStore::default());
    let parts = Parts { primary: primary.clone(), secondary: secondary.clone(), actuator: group.clone(), store: store.clone() };
    let mut c = Controller::from_parts(config(policy(2, 2, Duration::from_secs(60))), parts).expect("a valid policy");
    let mut clock = 1000u64;
    let mut decisions = Vec::new();
    for _ in 0..5 {
        let now = clock;
        c = c.with_clock(Arc::new(move || now));
        decisions.push(c.pass().await);
        clock += 60;
    }
    let d: Vec<Option<Decision>> = decisions.iter().map(|r| r.decision.clone()).collect();
    assert!(matches!(d[0], Some(Decision::Hold(HoldReason::Suspect { .. }))), "{}", decisions[0].summary());
    assert!(matches!(d[1], Some(Decision::Shift { reason: ShiftReason::RegionDown { .. }, .. })), "{}", decisions[1].summary());
    assert!(matches!(decisions[1].action, Action::Shifted { version: 1, .. }), "{}", decisions[1].summary());
    assert!(matches!(d[2], Some(Decision::Hold(HoldReason::Recovering { .. }))), "{}", decisions[2].summary());
    assert!(matches!(d[3], Some(Decision::Shift { reason: ShiftReason::Recovered { .. }, .. })), "{}", decisions[3].summary());
    assert!(matches!(d[4], Some(Decision::Hold(HoldReason::AtTarget))), "{}", decisions[4].summary());
    // One UpdateTrafficDistribution per shift, calls and agents together; the record follows.
    assert_eq!(group.sets(), vec![Distribution::all_to(S, P), Distribution::split(P, 50, S)]);
    let record = store.read().await.unwrap().expect("a record");
    assert_eq!((record.version, record.distribution, record.by_region.as_str()), (2, Distribution::split(P, 50, S), S));
    assert_eq!((primary.calls(), secondary.calls()), (5, 5));
}

#[tokio::test]
async fn a_failed_actuator_call_is_retried_after_a_backoff_without_a_new_check() {
    // N = 1: the first check shifts; the first UpdateTrafficDistribution fails.
    let primary = ScriptedProbe::new(P, vec![down()]);
    let secondary = ScriptedProbe::new(S, vec![up()]);
    let group = FakeGroup::new(1);
    let store = Arc::new(MemoryStore::default());
    let parts = Parts { primary: primary.clone(), secondary: secondary.clone(), actuator: group.clone(), store: store.clone() };
    // The next check is an hour away: only a retry can set the group within this test.
    let mut c = Controller::from_parts(config(policy(1, 1, Duration::from_secs(3600))), parts)
        .expect("a valid policy")
        .with_backoff(Backoff::new(Duration::from_millis(20), Duration::from_secs(1)));
    let seen = Arc::new(Seen::default());
    c.observe_with(seen.clone());
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let mut reports = Vec::new();
    let checks = c.watch(rx, Some(1), |r| reports.push(r.clone())).await;

    assert_eq!(checks, 1);
    assert_eq!(reports.len(), 2, "{:#?}", reports.iter().map(PassReport::summary).collect::<Vec<_>>());
    assert!(matches!(&reports[0].action, Action::Failed { error } if error.contains("record v1 written")), "{}", reports[0].summary());
    assert!(!reports[0].retry);
    // The retry set the group to the record written by the failed pass.
    assert!(reports[1].retry, "{}", reports[1].summary());
    assert_eq!(reports[1].action, Action::Reconciled { to: Distribution::all_to(S, P), via_region: S.into() }, "{}", reports[1].summary());
    assert_eq!(group.sets(), vec![Distribution::all_to(S, P), Distribution::all_to(S, P)]);
    // No second check: the retry reused the first one's health and counters.
    assert_eq!((primary.calls(), secondary.calls()), (1, 1));
    assert_eq!(reports[1].history, reports[0].history);
    assert_eq!(store.read().await.unwrap().map(|r| r.version), Some(1));
    // The observer (how metrics are published) saw both passes.
    assert_eq!(seen.0.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_failure_that_outlasts_the_retries_waits_for_the_next_check() {
    // The group never accepts a change; checks are 50 ms apart and the backoff
    // starts above that, so no retry fits between two checks: each check acts alone.
    let primary = ScriptedProbe::new(P, vec![down()]);
    let secondary = ScriptedProbe::new(S, vec![up()]);
    let group = FakeGroup::new(u32::MAX);
    let parts = Parts { primary: primary.clone(), secondary, actuator: group.clone(), store: Arc::new(MemoryStore::default()) };
    let mut c = Controller::from_parts(config(policy(1, 1, Duration::from_millis(50))), parts)
        .expect("a valid policy")
        .with_backoff(Backoff::new(Duration::from_secs(5), Duration::from_secs(30)));
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let mut reports = Vec::new();
    let checks = c.watch(rx, Some(3), |r| reports.push(r.clone())).await;
    assert_eq!(checks, 3);
    assert_eq!(reports.len(), 3);
    assert!(reports.iter().all(|r| !r.retry && matches!(r.action, Action::Failed { .. })));
    assert_eq!(primary.calls(), 3);
}

#[test]
fn a_controller_outside_its_two_regions_is_refused() {
    let parts = Parts {
        primary: ScriptedProbe::new(P, vec![up()]),
        secondary: ScriptedProbe::new(S, vec![up()]),
        actuator: FakeGroup::new(0),
        store: Arc::new(MemoryStore::default()),
    };
    let mut cfg = config(policy(1, 1, Duration::from_secs(1)));
    cfg.own_region = "eu-west-2".into();
    let e = Controller::from_parts(cfg, parts).err().expect("refused");
    assert!(e.to_string().contains("neither the primary"), "{e}");
}
