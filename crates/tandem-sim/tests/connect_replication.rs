//! ReplicateInstance: allowed pairs, idempotent ClientToken, replica identity,
//! default traffic distribution group, status with latency.
mod common;

use aws_sdk_connect::types::{InstanceReplicationStatus, InstanceStatus, TrafficDistributionGroupStatus};
use common::*;
use tandem_sim::latency::{LatencyConfig, LatencyRule};

#[tokio::test]
async fn allowed_pairs_replicate_and_others_are_refused() {
    let (sb, _admin) = sandbox().await;
    let allowed = [
        ("us-east-1", "us-west-2"),
        ("us-west-2", "us-east-1"),
        ("eu-central-1", "eu-west-2"),
        ("eu-west-2", "eu-central-1"),
        ("ap-northeast-1", "ap-northeast-3"),
    ];
    for (i, (src, dst)) in allowed.iter().enumerate() {
        let c = connect(&sb, src);
        let (id, _) = saml_instance(&c, &format!("ok{i}")).await;
        let out = c.replicate_instance().instance_id(&id).replica_region(*dst).replica_alias(format!("ok{i}-r")).send().await.unwrap();
        assert_eq!(out.id(), Some(id.as_str()), "{src}->{dst}: the replica keeps the instance id");
        assert_eq!(out.arn().unwrap(), format!("arn:aws:connect:{dst}:123456789012:instance/{id}"));
    }
    let refused =
        [("ap-northeast-3", "ap-northeast-1"), ("us-east-1", "eu-west-2"), ("eu-west-2", "us-west-2"), ("us-east-1", "us-east-1")];
    for (i, (src, dst)) in refused.iter().enumerate() {
        let c = connect(&sb, src);
        let (id, _) = saml_instance(&c, &format!("no{i}")).await;
        let e = c.replicate_instance().instance_id(&id).replica_region(*dst).replica_alias(format!("no{i}-r")).send().await.unwrap_err();
        assert_eq!(code(&e), "InvalidRequestException", "{src}->{dst}");
    }
}

#[tokio::test]
async fn replica_appears_in_replica_region_with_replication_configuration() {
    let (sb, _admin) = sandbox().await;
    let (id, arn, default) = replicated(&sb, "gr").await;
    let west = connect(&sb, "us-west-2");
    let r = west.describe_instance().instance_id(&id).send().await.unwrap();
    let inst = r.instance().unwrap();
    assert_eq!(inst.instance_alias(), Some("gr-replica"));
    assert_eq!(inst.arn().unwrap(), arn.replace("us-east-1", "us-west-2"));
    let rc = r.replication_configuration().unwrap();
    assert_eq!(rc.source_region(), Some("us-east-1"));
    assert_eq!(rc.replication_status_summary_list()[0].region(), Some("us-west-2"));
    assert_eq!(rc.replication_status_summary_list()[0].replication_status(), Some(&InstanceReplicationStatus::InstanceReplicationComplete));
    // The default group lives in the source region and is IsDefault.
    let east = connect(&sb, "us-east-1");
    let g = east.describe_traffic_distribution_group().traffic_distribution_group_id(&default).send().await.unwrap();
    let g = g.traffic_distribution_group().unwrap();
    assert!(g.is_default());
    assert_eq!(g.instance_arn(), Some(arn.as_str()));
    assert_eq!(g.status(), Some(&TrafficDistributionGroupStatus::Active));
    // "The instance was already replicated as part of a different
    // ReplicateInstance API call": InvalidRequestException.
    let e = east.replicate_instance().instance_id(&id).replica_region("us-west-2").replica_alias("again").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
}

#[tokio::test]
async fn client_token_makes_replicate_idempotent() {
    let (sb, _admin) = sandbox().await;
    let c = connect(&sb, "us-east-1");
    let (id, _) = saml_instance(&c, "idem").await;
    let send = |alias: &'static str| {
        c.replicate_instance().instance_id(&id).replica_region("us-west-2").replica_alias(alias).client_token("tok-1").send()
    };
    let a = send("idem-r").await.unwrap();
    let b = send("idem-r").await.unwrap();
    assert_eq!(a.id(), b.id());
    assert_eq!(a.arn(), b.arn());
    // One default group, not two.
    let groups = c.list_traffic_distribution_groups().send().await.unwrap();
    assert_eq!(groups.traffic_distribution_group_summary_list().len(), 1);
    // Same token, other parameters: refused.
    let e = send("other-alias").await.unwrap_err();
    assert_eq!(code(&e), "ResourceConflictException");
}

#[tokio::test]
async fn replica_and_default_group_are_in_progress_until_latency_elapses() {
    let (sb, admin) = sandbox().await;
    admin.set_latency(&LatencyConfig { scale: 1.0, rules: vec![LatencyRule::kind("connect", "replica", 800, 0)] }).await.unwrap();
    let east = connect(&sb, "us-east-1");
    let (id, _) = saml_instance(&east, "slowrep").await;
    east.replicate_instance().instance_id(&id).replica_region("us-west-2").replica_alias("slowrep-r").send().await.unwrap();
    let west = connect(&sb, "us-west-2");
    let r = west.describe_instance().instance_id(&id).send().await.unwrap();
    assert_eq!(r.instance().unwrap().instance_status(), Some(&InstanceStatus::CreationInProgress));
    assert_eq!(
        r.replication_configuration().unwrap().replication_status_summary_list()[0].replication_status(),
        Some(&InstanceReplicationStatus::InstanceReplicationInProgress)
    );
    let g = east.list_traffic_distribution_groups().send().await.unwrap();
    assert_eq!(g.traffic_distribution_group_summary_list()[0].status(), Some(&TrafficDistributionGroupStatus::CreationInProgress));
    // Creating another group needs the replica ready.
    let e = east.create_traffic_distribution_group().name("early").instance_id(&id).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotReadyException");
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    let r = west.describe_instance().instance_id(&id).send().await.unwrap();
    assert_eq!(r.instance().unwrap().instance_status(), Some(&InstanceStatus::Active));
    let g = east.list_traffic_distribution_groups().send().await.unwrap();
    assert_eq!(g.traffic_distribution_group_summary_list()[0].status(), Some(&TrafficDistributionGroupStatus::Active));
}

#[tokio::test]
async fn replicate_needs_an_active_source() {
    let (sb, admin) = sandbox().await;
    admin.set_latency(&LatencyConfig { scale: 1.0, rules: vec![LatencyRule::kind("connect", "instance", 60_000, 0)] }).await.unwrap();
    let c = connect(&sb, "us-east-1");
    let (id, _) = saml_instance(&c, "notyet").await;
    let e = c.replicate_instance().instance_id(&id).replica_region("us-west-2").replica_alias("notyet-r").send().await.unwrap_err();
    // "The instance is not in ACTIVE status": InvalidRequestException.
    assert_eq!(code(&e), "InvalidRequestException");
}

/// Every documented reason ReplicateInstance fails, with the documented error
/// (https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html#why-replicateinstance-fails).
#[tokio::test]
async fn replicate_refuses_what_the_admin_guide_lists() {
    let (sb, _admin) = sandbox().await;
    let c = connect(&sb, "us-east-1");
    // Not SAML.
    let (managed, _) = instance(&c, "managed").await;
    let e = c.replicate_instance().instance_id(&managed).replica_region("us-west-2").replica_alias("managed-r").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    assert!(format!("{e:?}").contains("SAML"), "{e:?}");
    // Same region.
    let (id, arn) = saml_instance(&c, "saml").await;
    let e = c.replicate_instance().instance_id(&id).replica_region("us-east-1").replica_alias("saml-r").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    // An alias taken by another instance: ResourceConflictException.
    let e = c.replicate_instance().instance_id(&id).replica_region("us-west-2").replica_alias("managed").send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceConflictException");
    // The ARN is accepted (InstanceIdOrArn).
    c.replicate_instance().instance_id(&arn).replica_region("us-west-2").replica_alias("saml-r").send().await.unwrap();
    // A replica cannot be replicated.
    let west = connect(&sb, "us-west-2");
    let e = west.replicate_instance().instance_id(&id).replica_region("us-east-1").replica_alias("back").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
}

#[tokio::test]
async fn a_failed_replication_reports_its_reason() {
    let (sb, admin) = sandbox().await;
    admin.fail_next_replication("us-west-2", "Service-linked role creation failed").await.unwrap();
    let east = connect(&sb, "us-east-1");
    let (id, _) = saml_instance(&east, "fails").await;
    east.replicate_instance().instance_id(&id).replica_region("us-west-2").replica_alias("fails-r").send().await.unwrap();
    let d = east.describe_instance().instance_id(&id).send().await.unwrap();
    let s = &d.replication_configuration().unwrap().replication_status_summary_list()[0];
    assert_eq!(s.replication_status(), Some(&InstanceReplicationStatus::InstanceReplicationFailed));
    assert_eq!(s.replication_status_reason(), Some("Service-linked role creation failed"));
    let west = connect(&sb, "us-west-2");
    let r = west.describe_instance().instance_id(&id).send().await.unwrap();
    assert_eq!(r.instance().unwrap().instance_status(), Some(&InstanceStatus::CreationFailed));
    // Nothing is copied to a failed replica, and the failed replica can be deleted.
    assert!(west.list_queues().instance_id(&id).send().await.unwrap().queue_summary_list().is_empty());
    west.delete_instance().instance_id(&id).send().await.unwrap();
}
