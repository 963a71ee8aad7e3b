//! aws.dynamodb.global_table through the trait, against tandem-sim (which
//! serves ReplicaUpdates faithfully) in front of moto: create with a replica,
//! add and remove regions in place, delete replicas before the table.

use serde_json::{json, Map, Value};
use std::sync::Arc;
use tandem_aws::AwsContext;
use tandem_provider::{Ctx, Registry};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn regions(o: &tandem_provider::Observed) -> Value {
    o.properties["replicas"].clone()
}

#[tokio::test]
async fn replicas_are_added_and_removed_in_place() {
    let sb = tandem_sim::start(tandem_sim::SandboxOptions { moto: true, ..Default::default() }).await.unwrap();
    let aws = Arc::new(AwsContext::with_endpoint(sb.url()).with_static_credentials("testing", "testing"));
    let mut reg = Registry::new();
    tandem_aws::register(&mut reg, aws);
    let kind = reg.get("aws.dynamodb.global_table").unwrap();
    let ctx = Ctx::quiet("agent_state", Some("us-east-1"));
    let base = json!({
        "table_name": "agent-state", "billing_mode": "PAY_PER_REQUEST",
        "attribute_definitions": [{"attribute_name": "agent_id", "attribute_type": "S"}],
        "key_schema": [{"attribute_name": "agent_id", "key_type": "HASH"}],
        "stream_specification": {"stream_enabled": true, "stream_view_type": "NEW_AND_OLD_IMAGES"},
    });
    let with = |rs: &[&str]| {
        let mut p = obj(base.clone());
        p.insert("replicas".into(), Value::Array(rs.iter().map(|r| json!({"region_name": r})).collect()));
        p
    };
    assert_eq!(kind.validate(Some("us-east-1"), &with(&["us-east-1"])).len(), 1, "own region refused");
    let one = with(&["us-west-2"]);
    let made = kind.create(&ctx, &one).await.unwrap();
    assert_eq!(regions(&made), json!([{"region_name": "us-west-2"}]));
    let two = with(&["us-west-2", "eu-west-1"]);
    let o = kind.update(&ctx, &made.id, &one, &two, &["replicas".into()]).await.unwrap();
    assert_eq!(regions(&o), json!([{"region_name": "eu-west-1"}, {"region_name": "us-west-2"}]));
    let moved = with(&["eu-west-1"]);
    let o = kind.update(&ctx, &made.id, &two, &moved, &["replicas".into()]).await.unwrap();
    assert_eq!(regions(&o), json!([{"region_name": "eu-west-1"}]));
    kind.delete(&ctx, &made.id, &moved).await.unwrap();
    assert!(kind.read(&ctx, &made.id).await.unwrap().is_none());
    sb.shutdown().await;
}

/// With the sandbox's consistency knob on, DescribeTable answers
/// ResourceNotFoundException for a while after CreateTable (as DynamoDB
/// documents): the kind waits, never calls CreateTable twice, and the
/// replica still comes; items written through the SDK in one region then
/// reach the replica region.
#[tokio::test]
async fn not_found_right_after_create_is_waited_out() {
    let sb = tandem_sim::start(tandem_sim::SandboxOptions { moto: true, ..Default::default() }).await.unwrap();
    let admin = tandem_sim::SandboxClient::new(sb.url());
    admin.set_consistency(&[tandem_sim::latency::ConsistencyRule { service: "dynamodb".into(), not_found_ms: 700 }]).await.unwrap();
    let aws = Arc::new(AwsContext::with_endpoint(sb.url()).with_static_credentials("testing", "testing"));
    let mut reg = Registry::new();
    tandem_aws::register(&mut reg, aws.clone());
    let p = obj(json!({
        "table_name": "agent-state", "billing_mode": "PAY_PER_REQUEST",
        "attribute_definitions": [{"attribute_name": "agent_id", "attribute_type": "S"}],
        "key_schema": [{"attribute_name": "agent_id", "key_type": "HASH"}],
        "replicas": [{"region_name": "us-west-2"}],
    }));
    let ctx = Ctx::quiet("agent_state", Some("us-east-1"));
    let made = reg.get("aws.dynamodb.global_table").unwrap().create(&ctx, &p).await.expect("created despite the not-found window");
    assert_eq!(regions(&made), json!([{"region_name": "us-west-2"}]));
    assert_eq!(admin.count(Some("dynamodb"), Some("CreateTable"), None).await.unwrap(), 1, "one CreateTable");
    assert!(admin.count(Some("dynamodb"), Some("DescribeTable"), Some("us-east-1")).await.unwrap() >= 2);
    // A plain table too.
    let t = reg.get("aws.dynamodb.table").unwrap();
    let mut plain = p.clone();
    plain.remove("replicas");
    plain.insert("table_name".into(), json!("plain"));
    t.create(&Ctx::quiet("plain", Some("us-east-1")), &plain).await.expect("the table kind waits too");
    assert_eq!(admin.count(Some("dynamodb"), Some("CreateTable"), None).await.unwrap(), 2);

    // Items cross regions (lag zero: on the next call).
    let east = aws.dynamodb("us-east-1").await;
    let west = aws.dynamodb("us-west-2").await;
    let s = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_string());
    east.put_item().table_name("agent-state").item("agent_id", s("a1")).item("state", s("ready")).send().await.unwrap();
    let got = west.get_item().table_name("agent-state").key("agent_id", s("a1")).send().await.unwrap();
    assert_eq!(got.item().and_then(|i| i.get("state")), Some(&s("ready")), "{got:?}");
    sb.shutdown().await;
}
