//! aws.cloudwatch.alarm and aws.cloudwatch.dashboard through the trait,
//! against tandem-sim's CloudWatch (moto cannot serve it to the Rust SDK).

use serde_json::{json, Map, Value};
use std::sync::Arc;
use tandem_aws::AwsContext;
use tandem_provider::{Ctx, Registry};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test]
async fn alarm_and_dashboard_lifecycle() {
    let sb = tandem_sim::start(tandem_sim::SandboxOptions::default()).await.unwrap();
    let aws = Arc::new(AwsContext::with_endpoint(sb.url()).with_static_credentials("testing", "testing"));
    let mut reg = Registry::new();
    tandem_aws::register(&mut reg, aws.clone());
    let ctx = Ctx::quiet("packet_loss", Some("us-west-2"));

    let alarm = reg.get("aws.cloudwatch.alarm").unwrap();
    let props = obj(json!({
        "alarm_name": "cc-packet-loss-us-west-2", "namespace": "AWS/Connect", "metric_name": "ToInstancePacketLossRate",
        "dimensions": [{"name": "InstanceId", "value": "i-1"}, {"name": "MetricGroup", "value": "VoiceCalls"}],
        "statistic": "Average", "period": 60, "evaluation_periods": 3, "threshold": 0.05,
        "comparison_operator": "GreaterThanThreshold", "treat_missing_data": "notBreaching"
    }));
    assert!(alarm.validate(Some("us-west-2"), &props).is_empty());
    let bad = obj(json!({"period": 45, "evaluation_periods": 2, "datapoints_to_alarm": 3}));
    assert_eq!(alarm.validate(None, &bad).len(), 2);
    let made = alarm.create(&ctx, &props).await.unwrap();
    assert_eq!(made.id, "cc-packet-loss-us-west-2");
    assert!(made.outputs["arn"].as_str().unwrap().starts_with("arn:aws:cloudwatch:us-west-2:"));
    assert_eq!(made.properties["threshold"], json!(0.05));
    assert_eq!(made.properties["dimensions"].as_array().unwrap().len(), 2);
    let mut changed = props.clone();
    changed.insert("threshold".into(), json!(0.1));
    let upd = alarm.update(&ctx, &made.id, &props, &changed, &["threshold".into()]).await.unwrap();
    assert_eq!(upd.properties["threshold"], json!(0.1));
    alarm.delete(&ctx, &made.id, &changed).await.unwrap();
    assert!(alarm.read(&ctx, &made.id).await.unwrap().is_none());
    alarm.delete(&ctx, &made.id, &changed).await.unwrap();

    let dash = reg.get("aws.cloudwatch.dashboard").unwrap();
    let body = json!({"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
        "properties": {"metrics": [["Tandem/Failover", "RegionHealthy", "Region", "us-east-1"]], "region": "us-east-1", "title": "health"}}]});
    let props = obj(json!({"dashboard_name": "contact-center", "dashboard_body": body}));
    assert!(dash.validate(None, &props).is_empty());
    assert_eq!(dash.validate(None, &obj(json!({"dashboard_body": {"panels": []}}))).len(), 1);
    let made = dash.create(&ctx, &props).await.unwrap();
    assert_eq!(made.properties["dashboard_body"], body, "the body reads back as the same mapping");
    dash.delete(&ctx, &made.id, &props).await.unwrap();
    assert!(dash.read(&ctx, &made.id).await.unwrap().is_none());
    sb.shutdown().await;
}
