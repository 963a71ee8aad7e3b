//! The Lambda handler run locally, as Lambda would run it on a schedule: a
//! synthetic EventBridge scheduled event, the controller against the sandbox
//! (Connect, CloudWatch) with moto behind it (DynamoDB).

use aws_sdk_connect::types::{AgentConfig, Distribution as SdkDist, TelephonyConfig, TrafficDistributionGroupStatus};
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use tandem_failover_lambda::{answer, controller, handle, Config};
use tandem_failover_runtime::ClientOptions;
use tandem_sim::SandboxOptions;

const P: &str = "us-east-1";
const S: &str = "us-west-2";

/// What EventBridge sends a scheduled target.
/// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
fn scheduled_event() -> serde_json::Value {
    json!({"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-24T00:00:00Z", "region": S,
        "resources": ["arn:aws:events:us-west-2:123456789012:rule/failover-controller"], "detail": {}})
}

fn dists(rows: &[(&str, i32)]) -> Vec<SdkDist> {
    rows.iter().map(|(r, p)| SdkDist::builder().region(*r).percentage(*p).build().unwrap()).collect()
}

#[tokio::test]
async fn a_scheduled_invocation_fails_over_on_a_critical_alarm() {
    let sb = tandem_sim::start(SandboxOptions { moto: true, ..Default::default() }).await.expect("sandbox with moto");
    let clients = ClientOptions {
        api_timeout: Duration::from_secs(2),
        max_attempts: 1,
        endpoint_url: Some(sb.url()),
        static_credentials: Some(("AKIDTEST".into(), "secret".into())),
    };
    let east = clients.connect(P).await;
    let inst = east
        .create_instance()
        .identity_management_type(aws_sdk_connect::types::DirectoryType::Saml)
        .instance_alias("lambda-cc")
        .inbound_calls_enabled(true)
        .outbound_calls_enabled(true)
        .send()
        .await
        .unwrap();
    let (iid, iarn) = (inst.id().unwrap().to_string(), inst.arn().unwrap().to_string());
    east.replicate_instance().instance_id(&iid).replica_region(S).replica_alias("lambda-cc-west").send().await.unwrap();
    let group = east.create_traffic_distribution_group().name("lambda").instance_id(&iarn).send().await.unwrap().arn().unwrap().to_string();
    for _ in 0..100 {
        let d = east.describe_traffic_distribution_group().traffic_distribution_group_id(&group).send().await.unwrap();
        if d.traffic_distribution_group().unwrap().status() == Some(&TrafficDistributionGroupStatus::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    east.update_traffic_distribution()
        .id(&group)
        .telephony_config(TelephonyConfig::builder().set_distributions(Some(dists(&[(P, 50), (S, 50)]))).build().unwrap())
        .agent_config(AgentConfig::builder().set_distributions(Some(dists(&[(P, 50), (S, 50)]))).build().unwrap())
        .send()
        .await
        .unwrap();
    clients
        .dynamodb(P)
        .await
        .create_table()
        .table_name("agent-state")
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("agent_id").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("agent_id").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    let cw = clients.cloudwatch(P).await;
    cw.put_metric_alarm()
        .alarm_name("packet-loss-us-east-1")
        .namespace("AWS/Connect")
        .metric_name("ToInstancePacketLossRate")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(0.05)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
    cw.set_alarm_state()
        .alarm_name("packet-loss-us-east-1")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Ok)
        .state_reason("test")
        .send()
        .await
        .unwrap();

    // The environment the spec gives the function in the secondary region.
    let env: BTreeMap<&str, String> = [
        ("AWS_REGION", S.to_string()),
        ("TANDEM_PRIMARY_REGION", P.into()),
        ("TANDEM_SECONDARY_REGION", S.into()),
        ("TANDEM_GROUP_ARN", group.clone()),
        ("TANDEM_INSTANCE_ID", iid.clone()),
        ("TANDEM_TABLE", "agent-state".into()),
        ("TANDEM_ALARMS", "us-east-1/packet-loss-us-east-1".into()),
        ("TANDEM_FAILURES", "2".into()),
        ("TANDEM_SUCCESSES", "2".into()),
        ("TANDEM_MIN_DWELL_SECONDS", "0".into()),
        ("TANDEM_PROBE_INTERVAL_SECONDS", "1".into()),
        ("TANDEM_PASSES", "2".into()),
    ]
    .into_iter()
    .collect();
    let config = Config::from_env(|k| env.get(k).cloned()).expect("a valid environment");
    let mut c = controller(&config, clients.clone()).await.expect("controller");

    // Healthy: the invocation holds.
    let o = handle(&mut c, &config, &scheduled_event()).await;
    assert_eq!(o.passes, 2);
    let a = answer(&o);
    assert!(a["summaries"][1].as_str().unwrap().contains("hold"), "{a}");

    // A critical alarm in the primary: N failed checks inside one invocation move calls and agents.
    cw.set_alarm_state()
        .alarm_name("packet-loss-us-east-1")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("drill")
        .send()
        .await
        .unwrap();
    let o = handle(&mut c, &config, &scheduled_event()).await;
    let a = answer(&o);
    assert_eq!(a["last"]["action"]["action"], "shifted", "{a}");
    let west = clients.connect(S).await;
    let live = west.get_traffic_distribution().id(&group).send().await.unwrap();
    let pct = |d: &[SdkDist], r: &str| d.iter().find(|x| x.region() == r).map(|x| x.percentage()).unwrap();
    let t = live.telephony_config().unwrap().distributions();
    let ag = live.agent_config().unwrap().distributions();
    assert_eq!((pct(t, P), pct(t, S), pct(ag, P), pct(ag, S)), (0, 100, 0, 100));

    // Recovered: the next scheduled invocation (the event may ask for fewer passes) brings the default back.
    cw.set_alarm_state()
        .alarm_name("packet-loss-us-east-1")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Ok)
        .state_reason("fixed")
        .send()
        .await
        .unwrap();
    let mut ev = scheduled_event();
    ev["passes"] = json!(2);
    let a = answer(&handle(&mut c, &config, &ev).await);
    assert_eq!(a["last"]["action"]["action"], "shifted", "{a}");
    let live = west.get_traffic_distribution().id(&group).send().await.unwrap();
    assert_eq!(pct(live.telephony_config().unwrap().distributions(), P), 50);
    sb.shutdown().await;
}

#[test]
fn the_environment_is_checked() {
    let e = Config::from_env(|_| None).unwrap_err();
    assert!(e.contains("TANDEM_PRIMARY_REGION") && e.contains("TANDEM_GROUP_ARN") && e.contains("AWS_REGION"), "{e}");
    let base: BTreeMap<&str, &str> = [
        ("AWS_REGION", S),
        ("TANDEM_PRIMARY_REGION", P),
        ("TANDEM_SECONDARY_REGION", S),
        ("TANDEM_GROUP_ARN", "arn:g"),
        ("TANDEM_INSTANCE_ID", "i"),
        ("TANDEM_TABLE", "t"),
    ]
    .into_iter()
    .collect();
    let with = |k: &'static str, v: &'static str| {
        let mut m = base.clone();
        m.insert(k, v);
        Config::from_env(move |key| m.get(key).map(|s| s.to_string()))
    };
    let c = with("TANDEM_ALARMS", "us-east-1/a, us-west-2/b/warning").unwrap();
    assert_eq!(c.alarms.len(), 2);
    assert_eq!((c.passes, c.policy.failures_to_fail_over, c.secondary_instance_id.as_str()), (5, 3, "i"));
    assert!(with("TANDEM_ALARMS", "us-east-1/a/loud").unwrap_err().contains("neither critical nor warning"));
    assert!(with("TANDEM_FAILURES", "three").unwrap_err().contains("not a whole number"));
    assert!(with("TANDEM_DEFAULT_PRIMARY_PERCENT", "55").unwrap_err().contains("steps of 10"));
}
