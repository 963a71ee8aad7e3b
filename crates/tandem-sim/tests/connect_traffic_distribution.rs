//! Traffic distribution groups and UpdateTrafficDistribution validation.
mod common;

use aws_sdk_connect::types::{
    AgentConfig, Distribution, SignInConfig, SignInDistribution, TelephonyConfig, TrafficDistributionGroupStatus,
};
use common::*;
use tandem_sim::latency::{LatencyConfig, LatencyRule};

fn tel(rows: &[(&str, i32)]) -> TelephonyConfig {
    TelephonyConfig::builder()
        .set_distributions(Some(rows.iter().map(|(r, p)| Distribution::builder().region(*r).percentage(*p).build().unwrap()).collect()))
        .build()
        .unwrap()
}
fn agents(rows: &[(&str, i32)]) -> AgentConfig {
    AgentConfig::builder()
        .set_distributions(Some(rows.iter().map(|(r, p)| Distribution::builder().region(*r).percentage(*p).build().unwrap()).collect()))
        .build()
        .unwrap()
}

#[tokio::test]
async fn create_needs_a_replicated_instance_in_its_source_region() {
    let (sb, _admin) = sandbox().await;
    let east = connect(&sb, "us-east-1");
    let (lonely, _) = instance(&east, "lonely").await;
    let e = east.create_traffic_distribution_group().name("g").instance_id(&lonely).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    let (id, arn, _) = replicated(&sb, "tdg").await;
    // In the replica region: refused.
    let west = connect(&sb, "us-west-2");
    let e = west.create_traffic_distribution_group().name("g").instance_id(&id).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    let g = east.create_traffic_distribution_group().name("g").instance_id(&arn).client_token("t1").send().await.unwrap();
    let again = east.create_traffic_distribution_group().name("g").instance_id(&arn).client_token("t1").send().await.unwrap();
    assert_eq!(g.id(), again.id(), "same ClientToken, same group");
    let d = east.describe_traffic_distribution_group().traffic_distribution_group_id(g.id().unwrap()).send().await.unwrap();
    let d = d.traffic_distribution_group().unwrap();
    assert!(!d.is_default());
    assert_eq!(d.name(), Some("g"));
    assert_eq!(
        east.list_traffic_distribution_groups().instance_id(&id).send().await.unwrap().traffic_distribution_group_summary_list().len(),
        2
    );
    let e = east.create_traffic_distribution_group().name("g").instance_id(&arn).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceConflictException", "duplicate name");
}

#[tokio::test]
async fn group_status_transitions_with_latency() {
    let (sb, admin) = sandbox().await;
    let (id, _, _) = replicated(&sb, "lat").await;
    admin
        .set_latency(&LatencyConfig {
            scale: 1.0,
            rules: vec![
                LatencyRule::kind("connect", "traffic-distribution-group", 500, 500),
                LatencyRule::kind("connect", "traffic-distribution", 500, 0),
            ],
        })
        .await
        .unwrap();
    let east = connect(&sb, "us-east-1");
    let g = east.create_traffic_distribution_group().name("slow").instance_id(&id).send().await.unwrap();
    let gid = g.id().unwrap().to_string();
    let status = |s: &aws_sdk_connect::operation::describe_traffic_distribution_group::DescribeTrafficDistributionGroupOutput| {
        s.traffic_distribution_group().unwrap().status().cloned()
    };
    let d = east.describe_traffic_distribution_group().traffic_distribution_group_id(&gid).send().await.unwrap();
    assert_eq!(status(&d), Some(TrafficDistributionGroupStatus::CreationInProgress));
    // Not ACTIVE: distribution cannot change yet ("will fail with an
    // InvalidRequestException", update-agents-across-regions.html).
    let e = east
        .update_traffic_distribution()
        .id(&gid)
        .telephony_config(tel(&[("us-east-1", 50), ("us-west-2", 50)]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let d = east.describe_traffic_distribution_group().traffic_distribution_group_id(&gid).send().await.unwrap();
    assert_eq!(status(&d), Some(TrafficDistributionGroupStatus::Active));
    east.update_traffic_distribution().id(&gid).telephony_config(tel(&[("us-east-1", 50), ("us-west-2", 50)])).send().await.unwrap();
    let d = east.describe_traffic_distribution_group().traffic_distribution_group_id(&gid).send().await.unwrap();
    assert_eq!(status(&d), Some(TrafficDistributionGroupStatus::UpdateInProgress));
    // A second change while the first is applied conflicts with it.
    let e = east
        .update_traffic_distribution()
        .id(&gid)
        .telephony_config(tel(&[("us-east-1", 0), ("us-west-2", 100)]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceConflictException");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    east.delete_traffic_distribution_group().traffic_distribution_group_id(&gid).send().await.unwrap();
    let d = east.describe_traffic_distribution_group().traffic_distribution_group_id(&gid).send().await.unwrap();
    assert_eq!(status(&d), Some(TrafficDistributionGroupStatus::PendingDeletion));
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let e = east.describe_traffic_distribution_group().traffic_distribution_group_id(&gid).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn distribution_validation_rows() {
    let (sb, _admin) = sandbox().await;
    let (id, _, _) = replicated(&sb, "val").await;
    let east = connect(&sb, "us-east-1");
    let gid = east.create_traffic_distribution_group().name("v").instance_id(&id).send().await.unwrap().id().unwrap().to_string();
    let rows: &[(&[(&str, i32)], bool)] = &[
        (&[("us-east-1", 50), ("us-west-2", 50)], true),
        (&[("us-east-1", 100), ("us-west-2", 0)], true),
        (&[("us-east-1", 0), ("us-west-2", 100)], true),
        (&[("us-east-1", 70), ("us-west-2", 30)], true),
        (&[("us-east-1", 55), ("us-west-2", 45)], false),
        (&[("us-east-1", 60), ("us-west-2", 60)], false),
        (&[("us-east-1", 100)], false),
        (&[("us-east-1", 50), ("eu-west-2", 50)], false),
        (&[("us-east-1", 50), ("us-east-1", 50)], false),
        (&[("us-east-1", 110), ("us-west-2", -10)], false),
    ];
    for (dist, ok) in rows {
        let r = east.update_traffic_distribution().id(&gid).telephony_config(tel(dist)).send().await;
        match (ok, r) {
            (true, Ok(_)) => {}
            (false, Err(e)) => assert_eq!(code(&e), "InvalidRequestException", "{dist:?}"),
            (ok, r) => panic!("{dist:?}: expected ok={ok}, got {r:?}"),
        }
    }
    // Telephony is required.
    let e =
        east.update_traffic_distribution().id(&gid).agent_config(agents(&[("us-east-1", 50), ("us-west-2", 50)])).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    // Agent distribution follows the same rules.
    let e = east
        .update_traffic_distribution()
        .id(&gid)
        .telephony_config(tel(&[("us-east-1", 50), ("us-west-2", 50)]))
        .agent_config(agents(&[("us-east-1", 45), ("us-west-2", 55)]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    east.update_traffic_distribution()
        .id(&gid)
        .telephony_config(tel(&[("us-east-1", 30), ("us-west-2", 70)]))
        .agent_config(agents(&[("us-east-1", 30), ("us-west-2", 70)]))
        .send()
        .await
        .unwrap();
    let g = east.get_traffic_distribution().id(&gid).send().await.unwrap();
    let t: Vec<(String, i32)> =
        g.telephony_config().unwrap().distributions().iter().map(|d| (d.region().to_string(), d.percentage())).collect();
    assert_eq!(t, vec![("us-east-1".to_string(), 30), ("us-west-2".to_string(), 70)]);
    let a: Vec<i32> = g.agent_config().unwrap().distributions().iter().map(|d| d.percentage()).collect();
    assert_eq!(a, vec![30, 70]);
}

#[tokio::test]
async fn replica_region_needs_the_group_arn() {
    let (sb, _admin) = sandbox().await;
    let (id, _, _) = replicated(&sb, "arnrule").await;
    let east = connect(&sb, "us-east-1");
    let g = east.create_traffic_distribution_group().name("a").instance_id(&id).send().await.unwrap();
    let (gid, garn) = (g.id().unwrap().to_string(), g.arn().unwrap().to_string());
    let west = connect(&sb, "us-west-2");
    let e = west
        .update_traffic_distribution()
        .id(&gid)
        .telephony_config(tel(&[("us-east-1", 0), ("us-west-2", 100)]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    west.update_traffic_distribution().id(&garn).telephony_config(tel(&[("us-east-1", 0), ("us-west-2", 100)])).send().await.unwrap();
    let e = west.get_traffic_distribution().id(&gid).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    let got = west.get_traffic_distribution().id(&garn).send().await.unwrap();
    assert_eq!(got.telephony_config().unwrap().distributions()[1].percentage(), 100);
    // From the source region both work.
    east.get_traffic_distribution().id(&gid).send().await.unwrap();
    east.get_traffic_distribution().id(&garn).send().await.unwrap();
    // Delete only in the group's region.
    let e = west.delete_traffic_distribution_group().traffic_distribution_group_id(&garn).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    east.delete_traffic_distribution_group().traffic_distribution_group_id(&gid).send().await.unwrap();
}

#[tokio::test]
async fn sign_in_config_only_on_the_default_group() {
    let (sb, _admin) = sandbox().await;
    let (id, _, default) = replicated(&sb, "signin").await;
    let east = connect(&sb, "us-east-1");
    let other = east.create_traffic_distribution_group().name("o").instance_id(&id).send().await.unwrap().id().unwrap().to_string();
    let signin = SignInConfig::builder()
        .distributions(SignInDistribution::builder().region("us-east-1").enabled(true).build().unwrap())
        .distributions(SignInDistribution::builder().region("us-west-2").enabled(false).build().unwrap())
        .build()
        .unwrap();
    let e = east
        .update_traffic_distribution()
        .id(&other)
        .telephony_config(tel(&[("us-east-1", 100), ("us-west-2", 0)]))
        .sign_in_config(signin.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    // An unmodified SignInConfig (both enabled, the initial state) is accepted on any group.
    let unchanged = SignInConfig::builder()
        .distributions(SignInDistribution::builder().region("us-east-1").enabled(true).build().unwrap())
        .distributions(SignInDistribution::builder().region("us-west-2").enabled(true).build().unwrap())
        .build()
        .unwrap();
    east.update_traffic_distribution()
        .id(&other)
        .telephony_config(tel(&[("us-east-1", 100), ("us-west-2", 0)]))
        .sign_in_config(unchanged)
        .send()
        .await
        .unwrap();
    east.update_traffic_distribution()
        .id(&default)
        .telephony_config(tel(&[("us-east-1", 100), ("us-west-2", 0)]))
        .sign_in_config(signin)
        .send()
        .await
        .unwrap();
    let g = east.get_traffic_distribution().id(&default).send().await.unwrap();
    let s: Vec<bool> = g.sign_in_config().unwrap().distributions().iter().map(|d| d.enabled()).collect();
    assert_eq!(s, vec![true, false]);
    // The default group cannot be deleted.
    let e = east.delete_traffic_distribution_group().traffic_distribution_group_id(&default).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
}
