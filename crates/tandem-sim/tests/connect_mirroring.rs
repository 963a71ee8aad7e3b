//! Global Resiliency's configuration mirroring, agents in traffic
//! distribution groups, and eventually consistent reads, through
//! aws-sdk-connect.
mod common;

use aws_sdk_connect::types::{
    Channel, ContactFlowType, HoursOfOperationConfig, HoursOfOperationDays, HoursOfOperationTimeSlice, MediaConcurrency, PhoneType,
    RoutingProfileQueueConfig, RoutingProfileQueueReference, UserPhoneConfig,
};
use common::*;
use std::time::Duration;
use tandem_sim::latency::{ConsistencyRule, LatencyConfig, LatencyRule};

async fn hours(c: &aws_sdk_connect::Client, instance: &str, name: &str) -> String {
    let slot = |h| HoursOfOperationTimeSlice::builder().hours(h).minutes(0).build().unwrap();
    let cfg = HoursOfOperationConfig::builder().day(HoursOfOperationDays::Monday).start_time(slot(8)).end_time(slot(18)).build().unwrap();
    c.create_hours_of_operation()
        .instance_id(instance)
        .name(name)
        .time_zone("UTC")
        .config(cfg)
        .send()
        .await
        .unwrap()
        .hours_of_operation_id()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn copies_land_after_the_mirror_latency_and_clashing_names_conflict() {
    let (sb, admin) = sandbox().await;
    let (id, _, _) = replicated(&sb, "mirror").await;
    admin.set_latency(&LatencyConfig { scale: 1.0, rules: vec![LatencyRule::kind("connect", "mirror", 400, 0)] }).await.unwrap();
    let east = connect(&sb, "us-east-1");
    let west = connect(&sb, "us-west-2");
    let h = hours(&east, &id, "weekdays").await;
    // Not there yet in the replica.
    let e = west.describe_hours_of_operation().instance_id(&id).hours_of_operation_id(&h).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Once the copy landed, the name is taken in the replica too.
    let slot = |h| HoursOfOperationTimeSlice::builder().hours(h).minutes(0).build().unwrap();
    let cfg = HoursOfOperationConfig::builder().day(HoursOfOperationDays::Friday).start_time(slot(8)).end_time(slot(12)).build().unwrap();
    let e = west.create_hours_of_operation().instance_id(&id).name("weekdays").time_zone("UTC").config(cfg).send().await.unwrap_err();
    assert_eq!(code(&e), "DuplicateResourceException", "the copy is in the replica under the same name");
    // The source's hours arrived in the replica under the same id.
    let copy = west.describe_hours_of_operation().instance_id(&id).hours_of_operation_id(&h).send().await.unwrap();
    assert_eq!(copy.hours_of_operation().unwrap().name(), Some("weekdays"));
    // Deletes are mirrored too.
    east.delete_hours_of_operation().instance_id(&id).hours_of_operation_id(&h).send().await.unwrap();
    west.describe_hours_of_operation().instance_id(&id).hours_of_operation_id(&h).send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let e = west.describe_hours_of_operation().instance_id(&id).hours_of_operation_id(&h).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn a_name_made_in_the_other_region_with_another_id_is_a_resource_conflict() {
    let (sb, admin) = sandbox().await;
    let (id, _, _) = replicated(&sb, "clash").await;
    // A copy that takes long: the replica gets its own "support" first.
    admin.set_latency(&LatencyConfig { scale: 1.0, rules: vec![LatencyRule::kind("connect", "mirror", 60_000, 0)] }).await.unwrap();
    let east = connect(&sb, "us-east-1");
    let west = connect(&sb, "us-west-2");
    let h = hours(&west, &id, "west-hours").await;
    west.create_queue().instance_id(&id).name("support").hours_of_operation_id(&h).send().await.unwrap();
    let eh = hours(&east, &id, "east-hours").await;
    // The queue is in the other region of the linked pair: same name, another id.
    let e = east.create_queue().instance_id(&id).name("support").hours_of_operation_id(&eh).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceConflictException");
}

#[tokio::test]
async fn agents_join_a_group_once_mirrored_and_only_they_follow_its_agent_config() {
    let (sb, admin) = sandbox().await;
    let (id, _, _) = replicated(&sb, "agents").await;
    let east = connect(&sb, "us-east-1");
    let west = connect(&sb, "us-west-2");
    let g = east.create_traffic_distribution_group().name("calls").instance_id(&id).send().await.unwrap();
    let (gid, garn) = (g.id().unwrap().to_string(), g.arn().unwrap().to_string());
    let profiles = east.list_security_profiles().instance_id(&id).send().await.unwrap();
    let agent = profiles.security_profile_summary_list().iter().find(|p| p.name() == Some("Agent")).unwrap().id().unwrap().to_string();
    let h = hours(&east, &id, "h").await;
    let q = east.create_queue().instance_id(&id).name("q").hours_of_operation_id(&h).send().await.unwrap().queue_id().unwrap().to_string();
    let rp = east
        .create_routing_profile()
        .instance_id(&id)
        .name("rp")
        .description("rp")
        .default_outbound_queue_id(&q)
        .media_concurrencies(MediaConcurrency::builder().channel(Channel::Voice).concurrency(1).build().unwrap())
        .queue_configs(
            RoutingProfileQueueConfig::builder()
                .queue_reference(RoutingProfileQueueReference::builder().queue_id(&q).channel(Channel::Voice).build().unwrap())
                .priority(1)
                .delay(0)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .routing_profile_id()
        .unwrap()
        .to_string();
    let mut users = Vec::new();
    for name in ["a1", "a2", "a3", "a4"] {
        let u = east
            .create_user()
            .instance_id(&id)
            .username(name)
            .phone_config(UserPhoneConfig::builder().phone_type(PhoneType::SoftPhone).build())
            .security_profile_ids(&agent)
            .routing_profile_id(&rp)
            .send()
            .await
            .unwrap();
        users.push(u.user_id().unwrap().to_string());
    }
    // A user not yet in the replica cannot join.
    admin.set_latency(&LatencyConfig { scale: 1.0, rules: vec![LatencyRule::kind("connect", "mirror", 60_000, 0)] }).await.unwrap();
    let late = east
        .create_user()
        .instance_id(&id)
        .username("late")
        .phone_config(UserPhoneConfig::builder().phone_type(PhoneType::SoftPhone).build())
        .security_profile_ids(&agent)
        .routing_profile_id(&rp)
        .send()
        .await
        .unwrap();
    let e = east
        .associate_traffic_distribution_group_user()
        .traffic_distribution_group_id(&gid)
        .instance_id(&id)
        .user_id(late.user_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    // Only in the source region; by id or ARN there.
    let e = west
        .associate_traffic_distribution_group_user()
        .traffic_distribution_group_id(&garn)
        .instance_id(&id)
        .user_id(&users[0])
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException");
    for (i, u) in users.iter().take(3).enumerate() {
        let group = if i == 0 { &garn } else { &gid };
        east.associate_traffic_distribution_group_user()
            .traffic_distribution_group_id(group)
            .instance_id(&id)
            .user_id(u)
            .send()
            .await
            .unwrap();
    }
    let listed = east.list_traffic_distribution_group_users().traffic_distribution_group_id(&gid).send().await.unwrap();
    let mut ids: Vec<&str> = listed.traffic_distribution_group_user_summary_list().iter().filter_map(|u| u.user_id()).collect();
    ids.sort();
    let mut want: Vec<&str> = users.iter().take(3).map(String::as_str).collect();
    want.sort();
    assert_eq!(ids, want);
    // All agents to the replica: the three associated move, the fourth does not.
    let all_west = aws_sdk_connect::types::Distribution::builder().region("us-west-2").percentage(100).build().unwrap();
    let none_east = aws_sdk_connect::types::Distribution::builder().region("us-east-1").percentage(0).build().unwrap();
    east.update_traffic_distribution()
        .id(&gid)
        .telephony_config(
            aws_sdk_connect::types::TelephonyConfig::builder()
                .distributions(none_east.clone())
                .distributions(all_west.clone())
                .build()
                .unwrap(),
        )
        .agent_config(aws_sdk_connect::types::AgentConfig::builder().distributions(none_east).distributions(all_west).build().unwrap())
        .send()
        .await
        .unwrap();
    let view = admin.connect_agents().await.unwrap();
    let group = view["groups"].as_array().unwrap().iter().find(|g| g["Id"] == gid.as_str()).unwrap();
    let regions: Vec<&str> = group["Agents"].as_array().unwrap().iter().map(|a| a["Region"].as_str().unwrap()).collect();
    assert_eq!(regions, ["us-west-2"; 3]);
    assert!(!group["Agents"].as_array().unwrap().iter().any(|a| a["UserId"] == users[3].as_str()));
}

#[tokio::test]
async fn describe_right_after_create_may_answer_not_found() {
    let (sb, admin) = sandbox().await;
    admin.set_consistency(&[ConsistencyRule { service: "connect".into(), not_found_ms: 300 }]).await.unwrap();
    let east = connect(&sb, "us-east-1");
    let (id, _) = saml_instance(&east, "eventual").await;
    let e = east.describe_instance().instance_id(&id).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    tokio::time::sleep(Duration::from_millis(350)).await;
    east.describe_instance().instance_id(&id).send().await.unwrap();
    let f = east.create_contact_flow().instance_id(&id).name("f").r#type(ContactFlowType::ContactFlow).content(FLOW).send().await.unwrap();
    let e = east.describe_contact_flow().instance_id(&id).contact_flow_id(f.contact_flow_id().unwrap()).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    tokio::time::sleep(Duration::from_millis(350)).await;
    east.describe_contact_flow().instance_id(&id).contact_flow_id(f.contact_flow_id().unwrap()).send().await.unwrap();
    // Off again: reads see creates at once.
    admin.set_consistency(&[]).await.unwrap();
    let h = hours(&east, &id, "now").await;
    east.describe_hours_of_operation().instance_id(&id).hours_of_operation_id(&h).send().await.unwrap();
}
