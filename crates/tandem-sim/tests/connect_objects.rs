//! Hours, queues, flows, routing profiles, users, security profiles, tags.
mod common;

use aws_sdk_connect::types::{
    Channel, ContactFlowType, HoursOfOperationConfig, HoursOfOperationDays, HoursOfOperationTimeSlice, MediaConcurrency, PhoneType,
    RoutingProfileQueueConfig, RoutingProfileQueueReference, UserPhoneConfig,
};
use common::*;

#[tokio::test]
async fn contact_center_objects_round_trip() {
    let (sb, _admin) = sandbox().await;
    let c = connect(&sb, "us-east-1");
    let (iid, _) = instance(&c, "objects").await;
    let profiles = c.list_security_profiles().instance_id(&iid).send().await.unwrap();
    let mut names: Vec<&str> = profiles.security_profile_summary_list().iter().filter_map(|p| p.name()).collect();
    names.sort();
    assert_eq!(names, vec!["Admin", "Agent", "CallCenterManager", "QualityAnalyst"]);
    let agent_profile =
        profiles.security_profile_summary_list().iter().find(|p| p.name() == Some("Agent")).unwrap().id().unwrap().to_string();

    let slice = |h| HoursOfOperationTimeSlice::builder().hours(h).minutes(0).build().unwrap();
    let hours = c
        .create_hours_of_operation()
        .instance_id(&iid)
        .name("business")
        .time_zone("America/New_York")
        .config(
            HoursOfOperationConfig::builder().day(HoursOfOperationDays::Monday).start_time(slice(9)).end_time(slice(17)).build().unwrap(),
        )
        .send()
        .await
        .unwrap();
    let hid = hours.hours_of_operation_id().unwrap();
    let d = c.describe_hours_of_operation().instance_id(&iid).hours_of_operation_id(hid).send().await.unwrap();
    assert_eq!(d.hours_of_operation().unwrap().time_zone(), Some("America/New_York"));
    c.update_hours_of_operation().instance_id(&iid).hours_of_operation_id(hid).time_zone("UTC").send().await.unwrap();
    let d = c.describe_hours_of_operation().instance_id(&iid).hours_of_operation_id(hid).send().await.unwrap();
    assert_eq!(d.hours_of_operation().unwrap().time_zone(), Some("UTC"));

    let q = c.create_queue().instance_id(&iid).name("support").hours_of_operation_id(hid).send().await.unwrap();
    let qid = q.queue_id().unwrap();
    let e = c.create_queue().instance_id(&iid).name("support").hours_of_operation_id(hid).send().await.unwrap_err();
    assert_eq!(code(&e), "DuplicateResourceException");
    c.update_queue_name().instance_id(&iid).queue_id(qid).name("support-2").send().await.unwrap();
    assert_eq!(c.describe_queue().instance_id(&iid).queue_id(qid).send().await.unwrap().queue().unwrap().name(), Some("support-2"));

    let e = c
        .create_contact_flow()
        .instance_id(&iid)
        .name("bad")
        .r#type(ContactFlowType::ContactFlow)
        .content("{not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidContactFlowException");
    let e = c
        .create_contact_flow()
        .instance_id(&iid)
        .name("bad")
        .r#type(ContactFlowType::ContactFlow)
        .content(r#"{"Version":"2019-10-30","StartAction":"x","Actions":[]}"#)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidContactFlowException");
    let f = c.create_contact_flow().instance_id(&iid).name("main").r#type(ContactFlowType::ContactFlow).content(FLOW).send().await.unwrap();
    let fd = c.describe_contact_flow().instance_id(&iid).contact_flow_id(f.contact_flow_id().unwrap()).send().await.unwrap();
    assert_eq!(fd.contact_flow().unwrap().content(), Some(FLOW));
    let e = c
        .update_contact_flow_content()
        .instance_id(&iid)
        .contact_flow_id(f.contact_flow_id().unwrap())
        .content("[]")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidContactFlowException");

    let rp = c
        .create_routing_profile()
        .instance_id(&iid)
        .name("agents")
        .description("agents")
        .default_outbound_queue_id(qid)
        .media_concurrencies(MediaConcurrency::builder().channel(Channel::Voice).concurrency(1).build().unwrap())
        .queue_configs(
            RoutingProfileQueueConfig::builder()
                .queue_reference(RoutingProfileQueueReference::builder().queue_id(qid).channel(Channel::Voice).build().unwrap())
                .priority(1)
                .delay(0)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let rpid = rp.routing_profile_id().unwrap();
    let user = c
        .create_user()
        .instance_id(&iid)
        .username("agent1")
        .password("Passw0rd!")
        .security_profile_ids(&agent_profile)
        .routing_profile_id(rpid)
        .phone_config(UserPhoneConfig::builder().phone_type(PhoneType::SoftPhone).build())
        .send()
        .await
        .unwrap();
    let u = c.describe_user().instance_id(&iid).user_id(user.user_id().unwrap()).send().await.unwrap();
    assert_eq!(u.user().unwrap().username(), Some("agent1"));
    assert_eq!(u.user().unwrap().routing_profile_id(), Some(rpid));
    // In use: the routing profile has a user, the queue a routing profile.
    let e = c.delete_routing_profile().instance_id(&iid).routing_profile_id(rpid).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceInUseException");
    c.delete_user().instance_id(&iid).user_id(user.user_id().unwrap()).send().await.unwrap();
    c.delete_routing_profile().instance_id(&iid).routing_profile_id(rpid).send().await.unwrap();
    c.delete_queue().instance_id(&iid).queue_id(qid).send().await.unwrap();
    c.delete_hours_of_operation().instance_id(&iid).hours_of_operation_id(hid).send().await.unwrap();
    let e = c.describe_queue().instance_id(&iid).queue_id(qid).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn tags_on_instances_and_objects() {
    let (sb, _admin) = sandbox().await;
    let c = connect(&sb, "us-east-1");
    let (iid, arn) = instance(&c, "tags").await;
    c.tag_resource().resource_arn(&arn).tags("env", "test").tags("team", "cc").send().await.unwrap();
    c.untag_resource().resource_arn(&arn).tag_keys("team").send().await.unwrap();
    let t = c.list_tags_for_resource().resource_arn(&arn).send().await.unwrap();
    let tags = t.tags().unwrap();
    assert_eq!(tags.get("env").map(|s| s.as_str()), Some("test"));
    assert!(!tags.contains_key("team"));
    let d = c.describe_instance().instance_id(&iid).send().await.unwrap();
    assert_eq!(d.instance().unwrap().tags().unwrap().get("env").map(|s| s.as_str()), Some("test"));
    let f = c.create_contact_flow().instance_id(&iid).name("f").r#type(ContactFlowType::ContactFlow).content(FLOW).send().await.unwrap();
    c.tag_resource().resource_arn(f.contact_flow_arn().unwrap()).tags("k", "v").send().await.unwrap();
    let fd = c.describe_contact_flow().instance_id(&iid).contact_flow_id(f.contact_flow_id().unwrap()).send().await.unwrap();
    assert_eq!(fd.contact_flow().unwrap().tags().unwrap().get("k").map(|s| s.as_str()), Some("v"));
    let e = c
        .tag_resource()
        .resource_arn("arn:aws:connect:us-east-1:123456789012:instance/00000000-0000-0000-0000-000000000000")
        .tags("a", "b")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
}
