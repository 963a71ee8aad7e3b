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
