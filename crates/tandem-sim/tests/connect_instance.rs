//! Connect instances, attributes, storage configs, through aws-sdk-connect.
mod common;

use aws_sdk_connect::types::{
    DirectoryType, InstanceAttributeType, InstanceStatus, InstanceStorageConfig, InstanceStorageResourceType, KinesisStreamConfig,
    StorageType,
};
use common::*;
use tandem_sim::latency::{LatencyConfig, LatencyRule};

#[tokio::test]
async fn create_describe_list_delete_instance() {
    let (sb, _admin) = sandbox().await;
    let c = connect(&sb, "us-east-1");
    let (id, arn) = instance(&c, "tandem-east").await;
    assert_eq!(arn, format!("arn:aws:connect:us-east-1:123456789012:instance/{id}"));
    let d = c.describe_instance().instance_id(&id).send().await.unwrap();
    let i = d.instance().unwrap();
    assert_eq!(i.instance_status(), Some(&InstanceStatus::Active));
    assert_eq!(i.instance_alias(), Some("tandem-east"));
    assert!(i.created_time().is_some());
    assert_eq!(i.inbound_calls_enabled(), Some(true));
    assert!(d.replication_configuration().is_none());
    // DescribeInstance takes the id, not the ARN (InstanceId, not InstanceIdOrArn).
    let e = c.describe_instance().instance_id(&arn).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    let l = c.list_instances().send().await.unwrap();
    assert_eq!(l.instance_summary_list().len(), 1);
    // Other regions do not see it.
    let west = connect(&sb, "us-west-2");
    assert_eq!(west.list_instances().send().await.unwrap().instance_summary_list().len(), 0);
    let e = west.describe_instance().instance_id(&id).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    c.delete_instance().instance_id(&id).send().await.unwrap();
    let e = c.describe_instance().instance_id(&id).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn create_instance_validates_and_rejects_duplicate_alias() {
    let (sb, _admin) = sandbox().await;
    let c = connect(&sb, "us-east-1");
    instance(&c, "dup").await;
    let e = c
        .create_instance()
        .identity_management_type(DirectoryType::ConnectManaged)
        .instance_alias("dup")
        .inbound_calls_enabled(true)
        .outbound_calls_enabled(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    let e = c
        .create_instance()
        .identity_management_type(DirectoryType::ConnectManaged)
        .inbound_calls_enabled(true)
        .outbound_calls_enabled(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
}

#[tokio::test]
async fn instance_status_follows_latency_model() {
    let (sb, admin) = sandbox().await;
    admin.set_latency(&LatencyConfig { scale: 1.0, rules: vec![LatencyRule::kind("connect", "instance", 700, 0)] }).await.unwrap();
    let c = connect(&sb, "us-east-1");
    let (id, _) = instance(&c, "slow").await;
    let s = c.describe_instance().instance_id(&id).send().await.unwrap();
    assert_eq!(s.instance().unwrap().instance_status(), Some(&InstanceStatus::CreationInProgress));
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let s = c.describe_instance().instance_id(&id).send().await.unwrap();
    assert_eq!(s.instance().unwrap().instance_status(), Some(&InstanceStatus::Active));
}

#[tokio::test]
async fn instance_attributes() {
    let (sb, _admin) = sandbox().await;
    let c = connect(&sb, "us-east-1");
    let (id, _) = instance(&c, "attrs").await;
    let a = c.describe_instance_attribute().instance_id(&id).attribute_type(InstanceAttributeType::ContactflowLogs).send().await.unwrap();
    assert_eq!(a.attribute().unwrap().value(), Some("false"));
    c.update_instance_attribute()
        .instance_id(&id)
        .attribute_type(InstanceAttributeType::ContactflowLogs)
        .value("true")
        .send()
        .await
        .unwrap();
    let a = c.describe_instance_attribute().instance_id(&id).attribute_type(InstanceAttributeType::ContactflowLogs).send().await.unwrap();
    assert_eq!(a.attribute().unwrap().value(), Some("true"));
    let e = c
        .update_instance_attribute()
        .instance_id(&id)
        .attribute_type(InstanceAttributeType::ContactflowLogs)
        .value("yes")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
}

#[tokio::test]
async fn storage_configs_for_ctr_and_agent_events() {
    let (sb, _admin) = sandbox().await;
    let c = connect(&sb, "us-east-1");
    let (id, _) = instance(&c, "storage").await;
    let kinesis = |arn: &str| {
        InstanceStorageConfig::builder()
            .storage_type(StorageType::KinesisStream)
            .kinesis_stream_config(KinesisStreamConfig::builder().stream_arn(arn).build().unwrap())
            .build()
            .unwrap()
    };
    let ctr = c
        .associate_instance_storage_config()
        .instance_id(&id)
        .resource_type(InstanceStorageResourceType::ContactTraceRecords)
        .storage_config(kinesis("arn:aws:kinesis:us-east-1:123456789012:stream/ctr"))
        .send()
        .await
        .unwrap();
    c.associate_instance_storage_config()
        .instance_id(&id)
        .resource_type(InstanceStorageResourceType::AgentEvents)
        .storage_config(kinesis("arn:aws:kinesis:us-east-1:123456789012:stream/agent"))
        .send()
        .await
        .unwrap();
    // A second CTR stream conflicts.
    let e = c
        .associate_instance_storage_config()
        .instance_id(&id)
        .resource_type(InstanceStorageResourceType::ContactTraceRecords)
        .storage_config(kinesis("arn:aws:kinesis:us-east-1:123456789012:stream/other"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceConflictException");
    // Not a stream ARN.
    let e = c
        .associate_instance_storage_config()
        .instance_id(&id)
        .resource_type(InstanceStorageResourceType::AgentEvents)
        .storage_config(kinesis("arn:aws:s3:::bucket"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let l = c
        .list_instance_storage_configs()
        .instance_id(&id)
        .resource_type(InstanceStorageResourceType::ContactTraceRecords)
        .send()
        .await
        .unwrap();
    assert_eq!(l.storage_configs().len(), 1);
    let cfg = &l.storage_configs()[0];
    assert_eq!(cfg.association_id(), ctr.association_id());
    assert_eq!(cfg.kinesis_stream_config().unwrap().stream_arn(), "arn:aws:kinesis:us-east-1:123456789012:stream/ctr");
    c.disassociate_instance_storage_config()
        .instance_id(&id)
        .association_id(ctr.association_id().unwrap())
        .resource_type(InstanceStorageResourceType::ContactTraceRecords)
        .send()
        .await
        .unwrap();
    let l = c
        .list_instance_storage_configs()
        .instance_id(&id)
        .resource_type(InstanceStorageResourceType::ContactTraceRecords)
        .send()
        .await
        .unwrap();
    assert!(l.storage_configs().is_empty());
}

#[tokio::test]
async fn list_instances_paginates_with_next_token() {
    let (sb, _admin) = sandbox().await;
    let c = connect(&sb, "eu-central-1");
    for i in 0..5 {
        instance(&c, &format!("page{i}")).await;
    }
    let first = c.list_instances().max_results(2).send().await.unwrap();
    assert_eq!(first.instance_summary_list().len(), 2);
    assert!(first.next_token().is_some());
    let all: Vec<_> = c.list_instances().max_results(2).into_paginator().items().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    assert_eq!(all.len(), 5);
    let mut aliases: Vec<String> = all.iter().filter_map(|i| i.instance_alias().map(|s| s.to_string())).collect();
    aliases.sort();
    aliases.dedup();
    assert_eq!(aliases.len(), 5);
}
