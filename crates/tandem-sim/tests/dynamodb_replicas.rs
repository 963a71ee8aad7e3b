//! DynamoDB global tables (2019.11.21) replicas through the official SDK,
//! with moto behind the sandbox holding the tables themselves.

mod common;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateReplicationGroupMemberAction, DeleteReplicationGroupMemberAction, KeySchemaElement, KeyType,
    ReplicaStatus, ReplicationGroupUpdate, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
};
use tandem_sim::latency::{LatencyConfig, LatencyRule};
use tandem_sim::{Sandbox, SandboxClient, SandboxOptions};

async fn sandbox() -> (Sandbox, SandboxClient) {
    let sb = tandem_sim::start(SandboxOptions { moto: true, ..Default::default() }).await.expect("sandbox with moto starts");
    let admin = SandboxClient::new(sb.url());
    (sb, admin)
}

fn ddb(sb: &Sandbox, region: &str) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(sb.url())
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

fn code<E: ProvideErrorMetadata, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|s| s.code()).unwrap_or("<no service error>").to_string()
}

async fn table(c: &aws_sdk_dynamodb::Client, name: &str, streams: Option<StreamViewType>) {
    let mut req = c
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().unwrap())
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap());
    if let Some(view) = streams {
        req = req.stream_specification(StreamSpecification::builder().stream_enabled(true).stream_view_type(view).build().unwrap());
    }
    req.send().await.expect("create table");
}

fn create(region: &str) -> ReplicationGroupUpdate {
    ReplicationGroupUpdate::builder().create(CreateReplicationGroupMemberAction::builder().region_name(region).build().unwrap()).build()
}

fn delete(region: &str) -> ReplicationGroupUpdate {
    ReplicationGroupUpdate::builder().delete(DeleteReplicationGroupMemberAction::builder().region_name(region).build().unwrap()).build()
}

#[tokio::test]
async fn replica_create_active_describe_and_delete() {
    let (sb, _admin) = sandbox().await;
    let east = ddb(&sb, "us-east-1");
    table(&east, "agent-state", Some(StreamViewType::NewAndOldImages)).await;

    let out = east.update_table().table_name("agent-state").replica_updates(create("us-west-2")).send().await.unwrap();
    let td = out.table_description().unwrap();
    assert_eq!(td.table_status(), Some(&TableStatus::Updating));
    assert_eq!(td.global_table_version(), Some("2019.11.21"));
    assert_eq!(td.replicas()[0].region_name(), Some("us-west-2"));
    assert_eq!(td.replicas()[0].replica_status(), Some(&ReplicaStatus::Creating));
    // moto's own fields come through.
    assert_eq!(td.table_name(), Some("agent-state"));

    let d = east.describe_table().table_name("agent-state").send().await.unwrap();
    let t = d.table().unwrap();
    assert_eq!(t.table_status(), Some(&TableStatus::Active));
    assert_eq!(t.replicas()[0].replica_status(), Some(&ReplicaStatus::Active));

    // In the replica's region the table exists as the replica.
    let west = ddb(&sb, "us-west-2");
    let d = west.describe_table().table_name("agent-state").send().await.unwrap();
    let t = d.table().unwrap();
    assert_eq!(t.table_status(), Some(&TableStatus::Active));
    assert!(t.table_arn().unwrap().contains(":us-west-2:"));
    assert_eq!(t.replicas()[0].region_name(), Some("us-east-1"));

    // Create of an existing replica; the local region; a missing replica.
    let e = east.update_table().table_name("agent-state").replica_updates(create("us-west-2")).send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let e = east.update_table().table_name("agent-state").replica_updates(create("us-east-1")).send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    let e = east.update_table().table_name("agent-state").replica_updates(delete("eu-west-1")).send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");

    let out = east.update_table().table_name("agent-state").replica_updates(delete("us-west-2")).send().await.unwrap();
    assert_eq!(out.table_description().unwrap().replicas()[0].replica_status(), Some(&ReplicaStatus::Deleting));
    let d = east.describe_table().table_name("agent-state").send().await.unwrap();
    assert!(d.table().unwrap().replicas().is_empty());
    sb.shutdown().await;
}

#[tokio::test]
async fn streams_are_required_and_one_change_at_a_time() {
    let (sb, admin) = sandbox().await;
    let east = ddb(&sb, "us-east-1");
    table(&east, "no-streams", None).await;
    let e = east.update_table().table_name("no-streams").replica_updates(create("us-west-2")).send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    table(&east, "keys-only", Some(StreamViewType::KeysOnly)).await;
    let e = east.update_table().table_name("keys-only").replica_updates(create("us-west-2")).send().await.unwrap_err();
    assert_eq!(code(&e), "ValidationException");
    // Missing table: upstream's ResourceNotFoundException.
    let e = east.update_table().table_name("missing").replica_updates(create("us-west-2")).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");

    // A replica that takes a minute to create keeps the table UPDATING.
    admin
        .set_latency(&LatencyConfig {
            scale: 1.0,
            // From JSON: unnamed fields take their defaults.
            rules: vec![serde_json::from_value::<LatencyRule>(
                serde_json::json!({"service": "dynamodb", "kind": "replica", "creation_ms": 60_000}),
            )
            .unwrap()],
        })
        .await
        .unwrap();
    table(&east, "slow", Some(StreamViewType::NewAndOldImages)).await;
    east.update_table().table_name("slow").replica_updates(create("us-west-2")).send().await.unwrap();
    let d = east.describe_table().table_name("slow").send().await.unwrap();
    assert_eq!(d.table().unwrap().table_status(), Some(&TableStatus::Updating));
    assert_eq!(d.table().unwrap().replicas()[0].replica_status(), Some(&ReplicaStatus::Creating));
    let e = east.update_table().table_name("slow").replica_updates(create("eu-west-2")).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceInUseException");
    sb.shutdown().await;
}

/// Items replicate between the regions of a global table (after the lag,
/// last writer wins, deletes too), a PROVISIONED table needs write auto
/// scaling for a replica, and DescribeTable right after CreateTable may answer
/// not found: checked by boto3 (tests/python/test_sim_dynamodb_global.py).
#[tokio::test]
async fn boto3_sees_items_replicate() {
    let (sb, _admin) = sandbox().await;
    common::python_check("test_sim_dynamodb_global", &sb.url()).await;
    sb.shutdown().await;
}
