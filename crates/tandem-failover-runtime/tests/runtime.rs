//! The controller runtime against the sandbox (Connect Global Resiliency)
//! in front of moto (DynamoDB), through the official SDK clients.

use async_trait::async_trait;
use aws_sdk_connect::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_connect::types::{AgentConfig, Distribution as SdkDist, TelephonyConfig, TrafficDistributionGroupStatus};
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use std::sync::Arc;
use std::time::Duration;
use tandem_failover::{Decision, DecisionRecord, Distribution, Finding, HoldReason, Policy, RegionHealth, Severity};
use tandem_failover_runtime::{
    run_drill, Action, AlarmSource, ClientOptions, CloudWatchAlarms, Controller, ControllerConfig, DeclaredAlarm, DrillOptions,
    FaultInjector, ForcedHealth, NoAlarms, RuntimeError, WriteOutcome,
};
use tandem_sim::faults::OutageMode;
use tandem_sim::{Sandbox, SandboxClient, SandboxOptions};

const P: &str = "us-east-1";
const S: &str = "us-west-2";
const TABLE: &str = "contact-center-agent-state";

struct Env {
    sb: Sandbox,
    admin: SandboxClient,
    instance_id: String,
    group_arn: String,
}

fn connect(sb: &Sandbox, region: &str) -> aws_sdk_connect::Client {
    let conf = aws_sdk_connect::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(sb.url())
        .build();
    aws_sdk_connect::Client::from_conf(conf)
}

fn dynamodb(sb: &Sandbox, region: &str) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(sb.url())
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

fn dists(rows: &[(&str, i32)]) -> Vec<SdkDist> {
    rows.iter().map(|(r, p)| SdkDist::builder().region(*r).percentage(*p).build().unwrap()).collect()
}

/// Instance in us-east-1, replicated to us-west-2, a group (ACTIVE) at
/// 50/50 calls and agents, and the agent-state table in moto.
async fn setup() -> Env {
    let sb = tandem_sim::start(SandboxOptions { moto: true, ..Default::default() }).await.expect("sandbox with moto");
    let admin = SandboxClient::new(sb.url());
    let east = connect(&sb, P);
    let inst = east
        .create_instance()
        .identity_management_type(aws_sdk_connect::types::DirectoryType::Saml)
        .instance_alias("tandem-failover")
        .inbound_calls_enabled(true)
        .outbound_calls_enabled(true)
        .send()
        .await
        .expect("create instance");
    let (instance_id, instance_arn) = (inst.id().unwrap().to_string(), inst.arn().unwrap().to_string());
    east.replicate_instance()
        .instance_id(&instance_id)
        .replica_region(S)
        .replica_alias("tandem-failover-replica")
        .send()
        .await
        .expect("replicate");
    let g = east.create_traffic_distribution_group().name("tandem").instance_id(&instance_arn).send().await.expect("create group");
    let group_arn = g.arn().unwrap().to_string();
    for _ in 0..100 {
        let d = east.describe_traffic_distribution_group().traffic_distribution_group_id(&group_arn).send().await.unwrap();
        if d.traffic_distribution_group().unwrap().status() == Some(&TrafficDistributionGroupStatus::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    east.update_traffic_distribution()
        .id(&group_arn)
        .telephony_config(TelephonyConfig::builder().set_distributions(Some(dists(&[(P, 50), (S, 50)]))).build().unwrap())
        .agent_config(AgentConfig::builder().set_distributions(Some(dists(&[(P, 50), (S, 50)]))).build().unwrap())
        .send()
        .await
        .expect("50/50");
    for name in ["alice", "bob"] {
        join_group(&east, &instance_id, &group_arn, name).await;
    }
    dynamodb(&sb, P)
        .create_table()
        .table_name(TABLE)
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("agent_id").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("agent_id").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
    Env { sb, admin, instance_id, group_arn }
}

/// An agent of the source instance (the instance's Agent profile and Basic
/// Routing Profile), associated with the group so agent shifts move it.
async fn join_group(east: &aws_sdk_connect::Client, instance: &str, group_arn: &str, name: &str) {
    let sp = east.list_security_profiles().instance_id(instance).send().await.unwrap();
    let agent = sp.security_profile_summary_list().iter().find(|p| p.name() == Some("Agent")).unwrap().id().unwrap().to_string();
    let rp = east.list_routing_profiles().instance_id(instance).send().await.unwrap();
    let basic =
        rp.routing_profile_summary_list().iter().find(|p| p.name() == Some("Basic Routing Profile")).unwrap().id().unwrap().to_string();
    let phone = aws_sdk_connect::types::UserPhoneConfig::builder().phone_type(aws_sdk_connect::types::PhoneType::SoftPhone).build();
    let u = east
        .create_user()
        .instance_id(instance)
        .username(name)
        .phone_config(phone)
        .security_profile_ids(agent)
        .routing_profile_id(basic)
        .send()
        .await
        .unwrap();
    east.associate_traffic_distribution_group_user()
        .traffic_distribution_group_id(group_arn)
        .instance_id(instance)
        .user_id(u.user_id().unwrap())
        .send()
        .await
        .expect("associate the agent");
}

/// N = 2, M = 3, no dwell, a pass every 20 ms.
fn policy() -> Policy {
    let mut p = Policy::new(P, S);
    p.failures_to_fail_over = 2;
    p.successes_to_return = 3;
    p.min_dwell = Duration::ZERO;
    p.probe_interval = Duration::from_millis(20);
    p
}

fn options(env: &Env) -> ClientOptions {
    ClientOptions {
        api_timeout: Duration::from_secs(2),
        max_attempts: 1,
        endpoint_url: Some(env.sb.url().to_string()),
        static_credentials: Some(("AKIDTEST".into(), "secret".into())),
    }
}

async fn controller(env: &Env, own: &str) -> Controller {
    controller_with(env, own, Arc::new(NoAlarms)).await
}

async fn controller_with(env: &Env, own: &str, alarms: Arc<dyn AlarmSource>) -> Controller {
    let config = ControllerConfig {
        policy: policy(),
        own_region: own.into(),
        group_arn: env.group_arn.clone(),
        primary_instance_id: env.instance_id.clone(),
        secondary_instance_id: env.instance_id.clone(),
        table: TABLE.into(),
        clients: options(env),
    };
    Controller::new(config, alarms).await.expect("controller")
}

/// What GetTrafficDistribution reports, asked in `region` by ARN: (telephony, agents) percent of (P, S).
async fn live(env: &Env, region: &str) -> ((i32, i32), (i32, i32)) {
    let g = connect(&env.sb, region).get_traffic_distribution().id(&env.group_arn).send().await.expect("get distribution");
    let pct = |d: &[SdkDist], r: &str| d.iter().find(|x| x.region() == r).map_or(0, |x| x.percentage());
    let t = g.telephony_config().unwrap().distributions();
    let a = g.agent_config().unwrap().distributions();
    ((pct(t, P), pct(t, S)), (pct(a, P), pct(a, S)))
}

#[tokio::test]
async fn a_pass_at_health_holds() {
    let env = setup().await;
    let mut c = controller(&env, P).await;
    let r = c.pass().await;
    assert_eq!(r.decision, Some(Decision::Hold(HoldReason::AtTarget)), "{}", r.summary());
    assert_eq!(r.action, Action::None);
    assert_eq!(r.live, Some(Distribution::split(P, 50, S)));
    assert_eq!(r.record_version, None);
    assert_eq!(live(&env, P).await, ((50, 50), (50, 50)));
}

#[tokio::test]
async fn primary_outage_fails_over_after_n_passes_and_recovers_after_m() {
    let env = setup().await;
    let mut c = controller(&env, P).await;
    env.admin.set_outage(P, "connect", OutageMode::Error).await.unwrap();
    let r1 = c.pass().await;
    assert!(matches!(r1.decision, Some(Decision::Hold(HoldReason::Suspect { .. }))), "{}", r1.summary());
    assert_eq!(live(&env, S).await, ((50, 50), (50, 50)), "one failed check moves nothing");
    let r2 = c.pass().await;
    match &r2.action {
        // The controller runs in the failing region: its own Connect API is
        // down, so the update went through the replica region, by ARN.
        Action::Shifted { version, via_region, .. } => {
            assert_eq!(*version, 1);
            assert_eq!(via_region, S);
        }
        other => panic!("expected a shift on pass N=2, got {other:?}: {}", r2.summary()),
    }
    assert_eq!(live(&env, S).await, ((0, 100), (0, 100)), "calls AND agents moved");
    let r3 = c.pass().await;
    assert_eq!(r3.decision, Some(Decision::Hold(HoldReason::AtTarget)));

    env.admin.clear_outage(P).await.unwrap();
    for i in 1..3 {
        let r = c.pass().await;
        assert!(matches!(r.decision, Some(Decision::Hold(HoldReason::Recovering { .. }))), "pass {i}: {}", r.summary());
        assert_eq!(live(&env, P).await, ((0, 100), (0, 100)));
    }
    let r = c.pass().await;
    assert!(matches!(r.action, Action::Shifted { version: 2, .. }), "M=3rd healthy pass shifts back: {}", r.summary());
    assert_eq!(live(&env, P).await, ((50, 50), (50, 50)));
    let rec = c.store.read().await.unwrap().unwrap();
    assert_eq!((rec.version, rec.by_region.as_str()), (2, P));
    assert_eq!(rec.distribution, Distribution::split(P, 50, S));
}

#[tokio::test]
async fn with_the_source_region_unreachable_the_replica_controller_shifts_by_arn() {
    let env = setup().await;
    let mut c = controller(&env, S).await;
    env.admin.set_outage(P, "connect", OutageMode::Unreachable).await.unwrap();
    env.admin.reset_calls().await.unwrap();
    let mut shifted = None;
    for _ in 0..2 {
        let r = c.pass().await;
        if let Action::Shifted { via_region, .. } = &r.action {
            shifted = Some(via_region.clone());
        }
    }
    assert_eq!(shifted.as_deref(), Some(S));
    assert_eq!(live(&env, S).await, ((0, 100), (0, 100)));
    assert!(env.admin.count(Some("connect"), Some("UpdateTrafficDistribution"), Some(S)).await.unwrap() >= 1);
    // A group id is refused in the replica region: the ARN is what made it work.
    let gid = env.group_arn.rsplit('/').next().unwrap().to_string();
    assert!(connect(&env.sb, S).get_traffic_distribution().id(gid).send().await.is_err());
}

/// `passes` rounds of both controllers passing at once: none fails, the live
/// distribution stays one of `allowed` after each round; returns the shifts.
async fn side_by_side(
    env: &Env,
    east: &mut Controller,
    west: &mut Controller,
    passes: usize,
    allowed: &[((i32, i32), (i32, i32))],
) -> usize {
    let mut shifts = 0;
    for _ in 0..passes {
        let (a, b) = tokio::join!(east.pass(), west.pass());
        for r in [&a, &b] {
            assert!(!matches!(r.action, Action::Failed { .. }), "{}", r.summary());
            if matches!(r.action, Action::Shifted { .. }) {
                shifts += 1;
            }
        }
        assert!(allowed.contains(&live(env, S).await));
    }
    shifts
}

#[tokio::test]
async fn two_controllers_never_fight_and_one_wins_each_write() {
    let env = setup().await;
    let mut east = controller(&env, P).await;
    let mut west = controller(&env, S).await;

    // The raw conditional write: of two first writes, exactly one wins.
    let rec = |by: &str| DecisionRecord { version: 1, distribution: Distribution::all_to(S, P), decided_at: 1, by_region: by.into() };
    let (rp, rs) = (rec(P), rec(S));
    let (a, b) = tokio::join!(east.store.write(&rp, None), west.store.write(&rs, None));
    let mut outcomes = vec![a.unwrap(), b.unwrap()];
    outcomes.sort_by_key(|o| *o == WriteOutcome::LostRace);
    assert_eq!(outcomes, vec![WriteOutcome::Written, WriteOutcome::LostRace]);
    // Start over from a clean record: write the default as version 2 (the agreed intent).
    let back = DecisionRecord { version: 2, distribution: Distribution::split(P, 50, S), decided_at: 1, by_region: P.into() };
    assert_eq!(east.store.write(&back, Some(1)).await.unwrap(), WriteOutcome::Written);
    assert_eq!(west.store.write(&back, Some(1)).await.unwrap(), WriteOutcome::LostRace, "stale version");

    let allowed = [((50, 50), (50, 50)), ((0, 100), (0, 100))];
    env.admin.set_outage(P, "connect", OutageMode::Error).await.unwrap();
    let mut shifts = side_by_side(&env, &mut east, &mut west, 4, &allowed).await;
    assert_eq!(shifts, 1, "one controller moved the traffic, once");
    assert_eq!(live(&env, S).await, ((0, 100), (0, 100)));
    assert_eq!(east.store.read().await.unwrap().unwrap().version, 3);

    env.admin.clear_outage(P).await.unwrap();
    shifts += side_by_side(&env, &mut east, &mut west, 5, &allowed).await;
    assert_eq!(shifts, 2, "and one moved it back, once");
    assert_eq!(live(&env, P).await, ((50, 50), (50, 50)));
    assert_eq!(east.store.read().await.unwrap().unwrap().version, 4);
}

#[tokio::test]
async fn reconciles_the_group_to_the_record() {
    let env = setup().await;
    let mut c = controller(&env, S).await;
    // A winner that crashed between its write and UpdateTrafficDistribution.
    let rec = DecisionRecord { version: 1, distribution: Distribution::all_to(S, P), decided_at: 1, by_region: P.into() };
    assert_eq!(c.store.write(&rec, None).await.unwrap(), WriteOutcome::Written);
    env.admin.set_outage(P, "connect", OutageMode::Error).await.unwrap();
    let r = c.pass().await;
    assert!(matches!(r.action, Action::Reconciled { .. }), "{}", r.summary());
    assert_eq!(live(&env, S).await, ((0, 100), (0, 100)));
}

struct SandboxOutage(SandboxClient);

#[async_trait]
impl FaultInjector for SandboxOutage {
    fn describe(&self) -> String {
        "sandbox outage".into()
    }
    async fn inject(&self, region: &str) -> Result<(), RuntimeError> {
        self.0.set_outage(region, "connect", OutageMode::Error).await.map_err(|e| RuntimeError::Invalid(e.to_string()))
    }
    async fn clear(&self, region: &str) -> Result<(), RuntimeError> {
        self.0.clear_outage(region).await.map_err(|e| RuntimeError::Invalid(e.to_string()))
    }
    async fn agent_regions(&self, group_arn: &str) -> Option<Result<std::collections::BTreeMap<String, String>, RuntimeError>> {
        Some(self.0.agent_regions(group_arn).await.map_err(|e| RuntimeError::Invalid(e.to_string())))
    }
}

#[tokio::test]
async fn the_drill_passes_end_to_end_with_both_times_measured() {
    let env = setup().await;
    let mut c = controller(&env, S).await;
    let report = run_drill(
        &mut c,
        &SandboxOutage(env.admin.clone()),
        &DrillOptions { phase_timeout: Duration::from_secs(20), ..Default::default() },
    )
    .await;
    assert!(report.passed, "{report:#?}");
    let names: Vec<&str> = report.phases.iter().map(|p| p.name.as_str()).collect();
    // The associated agents moved with the calls and came back.
    assert_eq!(names, ["normal", "agents", "inject_outage", "failover", "agents_moved", "clear_outage", "recover", "agents_back"]);
    assert!(report.phases[1].detail.contains("2 agent(s)"), "{}", report.phases[1].detail);
    assert!(report.phases[4].detail.contains("us-west-2=2"), "{}", report.phases[4].detail);
    assert!(
        report.phases[7].detail.contains("us-east-1=1") && report.phases[7].detail.contains("us-west-2=1"),
        "{}",
        report.phases[7].detail
    );
    let (f, r) = (report.time_to_failover_s.unwrap(), report.time_to_recover_s.unwrap());
    assert!(f > 0.0 && r > 0.0, "{f} {r}");
    assert_eq!(live(&env, P).await, ((50, 50), (50, 50)));
    let json = serde_json::to_value(&report).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["passed", "phases", "time_to_failover_s", "time_to_recover_s"]);
    let phase_keys: Vec<&String> = json["phases"][0].as_object().unwrap().keys().collect();
    assert_eq!(phase_keys, ["name", "passed", "seconds"]);
    assert!(env.admin.faults().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_drill_with_a_forced_health_override() {
    let env = setup().await;
    let mut c = controller(&env, S).await;
    let forced = ForcedHealth(c.forced_down());
    let report = run_drill(&mut c, &forced, &DrillOptions { phase_timeout: Duration::from_secs(20), ..Default::default() }).await;
    assert!(report.passed, "{report:#?}");
    assert!(c.forced_down().lock().unwrap().is_empty(), "the override is cleared");
}

#[tokio::test]
async fn the_drill_fails_when_no_agent_would_move() {
    let env = setup().await;
    let east = connect(&env.sb, P);
    for u in east
        .list_traffic_distribution_group_users()
        .traffic_distribution_group_id(&env.group_arn)
        .send()
        .await
        .unwrap()
        .traffic_distribution_group_user_summary_list()
    {
        east.disassociate_traffic_distribution_group_user()
            .traffic_distribution_group_id(&env.group_arn)
            .instance_id(&env.instance_id)
            .user_id(u.user_id().unwrap())
            .send()
            .await
            .unwrap();
    }
    let mut c = controller(&env, S).await;
    let report = run_drill(&mut c, &SandboxOutage(env.admin.clone()), &DrillOptions::default()).await;
    assert!(!report.passed);
    assert_eq!(report.phases.last().unwrap().name, "agents");
    assert!(report.phases.last().unwrap().detail.contains("no agent is associated"), "{report:#?}");
    assert!(env.admin.faults().await.unwrap().is_empty(), "nothing was injected");
}

/// A group whose spec declares only the telephony split: agents may sit
/// anywhere before the drill (the controller then moves both).
#[tokio::test]
async fn the_drill_starts_on_a_group_declared_with_telephony_only() {
    let env = setup().await;
    let mut c = controller(&env, S).await;
    c.actuator
        .set(&Distribution { telephony: tandem_failover::Weights::split(P, 50, S), agents: tandem_failover::Weights::split(P, 100, S) })
        .await
        .unwrap();
    let strict = run_drill(
        &mut c,
        &SandboxOutage(env.admin.clone()),
        &DrillOptions { phase_timeout: Duration::from_secs(20), agents_declared: true },
    )
    .await;
    assert!(!strict.passed && strict.phases[0].detail.contains("not the default"), "{strict:#?}");
    let mut c = controller(&env, S).await;
    let report = run_drill(
        &mut c,
        &SandboxOutage(env.admin.clone()),
        &DrillOptions { phase_timeout: Duration::from_secs(20), agents_declared: false },
    )
    .await;
    assert!(report.passed, "{report:#?}");
}

#[tokio::test]
async fn the_drill_refuses_to_start_away_from_the_default() {
    let env = setup().await;
    let mut c = controller(&env, S).await;
    c.actuator.set(&Distribution::split(P, 70, S)).await.unwrap();
    let report = run_drill(&mut c, &SandboxOutage(env.admin.clone()), &DrillOptions::default()).await;
    assert!(!report.passed);
    assert_eq!(report.phases.len(), 1);
    assert!(report.phases[0].detail.contains("not the default"), "{}", report.phases[0].detail);
}

#[tokio::test]
async fn cloudwatch_alarms_drive_health() {
    let env = setup().await;
    let o = options(&env);
    let cw_east = o.cloudwatch(P).await;
    for name in ["ToInstancePacketLossRate", "MissedCalls"] {
        cw_east
            .put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/Connect")
            .metric_name(name)
            .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
            .period(60)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold)
            .send()
            .await
            .expect("put alarm");
        cw_east
            .set_alarm_state()
            .alarm_name(name)
            .state_value(aws_sdk_cloudwatch::types::StateValue::Ok)
            .state_reason("test")
            .send()
            .await
            .unwrap();
    }
    let declared = vec![
        DeclaredAlarm { region: P.into(), name: "ToInstancePacketLossRate".into(), severity: Severity::Critical },
        DeclaredAlarm { region: P.into(), name: "MissedCalls".into(), severity: Severity::Warning },
        DeclaredAlarm { region: S.into(), name: "NeverCreated".into(), severity: Severity::Critical },
    ];
    let clients = [(P.to_string(), cw_east.clone()), (S.to_string(), o.cloudwatch(S).await)].into_iter().collect();
    let mut c = controller_with(&env, S, Arc::new(CloudWatchAlarms::new(declared, clients))).await;
    let r = c.pass().await;
    assert_eq!(r.primary, RegionHealth::Healthy, "{}", r.summary());
    // An alarm CloudWatch does not know reads as INSUFFICIENT_DATA: degraded, still up.
    assert_eq!(r.secondary, RegionHealth::Degraded(vec![Finding::InsufficientData { alarm: "NeverCreated".into() }]));
    // A warning alarm degrades; it never moves traffic.
    cw_east
        .set_alarm_state()
        .alarm_name("MissedCalls")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("drill")
        .send()
        .await
        .unwrap();
    for _ in 0..3 {
        let r = c.pass().await;
        assert!(matches!(r.primary, RegionHealth::Degraded(_)), "{}", r.summary());
        assert_eq!(r.decision, Some(Decision::Hold(HoldReason::AtTarget)));
    }
    // A critical alarm fails the region: N passes later, everything is on the secondary.
    cw_east
        .set_alarm_state()
        .alarm_name("ToInstancePacketLossRate")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("drill")
        .send()
        .await
        .unwrap();
    for _ in 0..2 {
        c.pass().await;
    }
    assert_eq!(live(&env, S).await, ((0, 100), (0, 100)));
}

#[tokio::test]
async fn the_drill_waits_out_update_in_progress() {
    let env = setup().await;
    // Each UpdateTrafficDistribution leaves the group UPDATE_IN_PROGRESS for
    // 300 ms, during which GetTrafficDistribution is refused (as in AWS).
    env.admin
        .set_latency(&tandem_sim::latency::LatencyConfig {
            scale: 1.0,
            rules: vec![tandem_sim::latency::LatencyRule::kind("connect", "traffic-distribution", 300, 0)],
        })
        .await
        .unwrap();
    let mut c = controller(&env, S).await;
    let report = run_drill(
        &mut c,
        &SandboxOutage(env.admin.clone()),
        &DrillOptions { phase_timeout: Duration::from_secs(20), ..Default::default() },
    )
    .await;
    assert!(report.passed, "{report:#?}");
    assert!(report.time_to_failover_s.unwrap() >= 0.3, "{report:?}");
    assert!(report.time_to_recover_s.unwrap() >= 0.3, "{report:?}");
}
