//! Phone numbers: search, claim to an instance or a group, replica-region ARN
//! rule, flow association, release, and the in-use group delete.
mod common;

use aws_sdk_connect::types::{
    ContactFlowType, Distribution, PhoneNumberCountryCode, PhoneNumberType, PhoneNumberWorkflowStatus, TelephonyConfig,
};
use common::*;
use tandem_sim::connect::AvailableNumber;

async fn flow(c: &aws_sdk_connect::Client, instance: &str, name: &str) -> String {
    c.create_contact_flow()
        .instance_id(instance)
        .name(name)
        .r#type(ContactFlowType::ContactFlow)
        .content(FLOW)
        .send()
        .await
        .unwrap()
        .contact_flow_id()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn seeded_numbers_are_searched_and_claimed_once() {
    let (sb, admin) = sandbox().await;
    admin
        .seed_phone_numbers(
            "us-east-1",
            &[
                AvailableNumber { phone_number: "+12025550101".into(), country_code: "US".into(), number_type: "DID".into() },
                AvailableNumber { phone_number: "+18885550102".into(), country_code: "US".into(), number_type: "TOLL_FREE".into() },
            ],
        )
        .await
        .unwrap();
    let c = connect(&sb, "us-east-1");
    let (_, arn) = instance(&c, "numbers").await;
    let s = c
        .search_available_phone_numbers()
        .target_arn(&arn)
        .phone_number_country_code(PhoneNumberCountryCode::Us)
        .phone_number_type(PhoneNumberType::Did)
        .send()
        .await
        .unwrap();
    let list: Vec<&str> = s.available_numbers_list().iter().filter_map(|n| n.phone_number()).collect();
    assert_eq!(list, vec!["+12025550101"]);
    // ClaimPhoneNumber's ClientToken is a UUID (the API Reference's pattern).
    let e = c.claim_phone_number().target_arn(&arn).phone_number("+12025550101").client_token("claim-1").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    const TOKEN: &str = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
    let claim = c.claim_phone_number().target_arn(&arn).phone_number("+12025550101").client_token(TOKEN).send().await.unwrap();
    let again = c.claim_phone_number().target_arn(&arn).phone_number("+12025550101").client_token(TOKEN).send().await.unwrap();
    assert_eq!(claim.phone_number_id(), again.phone_number_id(), "same ClientToken, same claim");
    let e = c.claim_phone_number().target_arn(&arn).phone_number("+18885550102").client_token(TOKEN).send().await.unwrap_err();
    assert_eq!(code(&e), "IdempotencyException");
    let e = c.claim_phone_number().target_arn(&arn).phone_number("+12025550101").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException", "already claimed");
    let s = c
        .search_available_phone_numbers()
        .target_arn(&arn)
        .phone_number_country_code(PhoneNumberCountryCode::Us)
        .phone_number_type(PhoneNumberType::Did)
        .send()
        .await
        .unwrap();
    assert!(s.available_numbers_list().is_empty());
    let d = c.describe_phone_number().phone_number_id(claim.phone_number_id().unwrap()).send().await.unwrap();
    let d = d.claimed_phone_number_summary().unwrap();
    assert_eq!(d.phone_number(), Some("+12025550101"));
    assert_eq!(d.target_arn(), Some(arn.as_str()));
    assert_eq!(d.phone_number_status().unwrap().status(), Some(&PhoneNumberWorkflowStatus::Claimed));
    let l = c.list_phone_numbers_v2().target_arn(&arn).send().await.unwrap();
    assert_eq!(l.list_phone_numbers_summary_list().len(), 1);
    c.release_phone_number().phone_number_id(claim.phone_number_id().unwrap()).send().await.unwrap();
    assert!(c.list_phone_numbers_v2().send().await.unwrap().list_phone_numbers_summary_list().is_empty());
    // Released numbers are in a cooldown (up to 180 days): not offered, not claimable.
    let e = c.claim_phone_number().target_arn(&arn).phone_number("+12025550101").send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let s = c
        .search_available_phone_numbers()
        .target_arn(&arn)
        .phone_number_country_code(PhoneNumberCountryCode::Us)
        .phone_number_type(PhoneNumberType::Did)
        .send()
        .await
        .unwrap();
    assert!(s.available_numbers_list().is_empty());
}

#[tokio::test]
async fn global_resiliency_numbers_flow_and_group_delete() {
    let (sb, _admin) = sandbox().await;
    let (id, _, _) = replicated(&sb, "grnum").await;
    let east = connect(&sb, "us-east-1");
    let west = connect(&sb, "us-west-2");
    let g = east.create_traffic_distribution_group().name("calls").instance_id(&id).send().await.unwrap();
    let (gid, garn) = (g.id().unwrap().to_string(), g.arn().unwrap().to_string());
    let found = east
        .search_available_phone_numbers()
        .target_arn(&garn)
        .phone_number_country_code(PhoneNumberCountryCode::Us)
        .phone_number_type(PhoneNumberType::TollFree)
        .max_results(1)
        .send()
        .await
        .unwrap();
    let number = found.available_numbers_list()[0].phone_number().unwrap().to_string();
    // Claiming to a group works only in its source region.
    let e = west.claim_phone_number().target_arn(&garn).phone_number(&number).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException");
    let claimed = east.claim_phone_number().target_arn(&garn).phone_number(&number).send().await.unwrap();
    let (nid, narn) = (claimed.phone_number_id().unwrap().to_string(), claimed.phone_number_arn().unwrap().to_string());
    // The number shows in both regions' lists of the group.
    assert_eq!(west.list_phone_numbers_v2().target_arn(&garn).send().await.unwrap().list_phone_numbers_summary_list().len(), 1);
    // A flow made in the source instance is mirrored to the replica under the same id.
    let east_flow = flow(&east, &id, "inbound").await;
    west.describe_contact_flow().instance_id(&id).contact_flow_id(&east_flow).send().await.unwrap();
    // The same name under another id in the replica is a conflict.
    let e = west
        .create_contact_flow()
        .instance_id(&id)
        .name("inbound")
        .r#type(ContactFlowType::ContactFlow)
        .content(FLOW)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "DuplicateResourceException");
    // Associated once in the source region, the number starts the flow in both.
    east.associate_phone_number_contact_flow().phone_number_id(&nid).instance_id(&id).contact_flow_id(&east_flow).send().await.unwrap();
    let assoc = west.list_flow_associations().instance_id(&id).send().await.unwrap();
    assert_eq!(assoc.flow_association_summary_list().len(), 1);
    assert_eq!(assoc.flow_association_summary_list()[0].flow_id(), Some(east_flow.as_str()));
    // In the replica region the number is named by ARN only.
    let e = west
        .associate_phone_number_contact_flow()
        .phone_number_id(&nid)
        .instance_id(&id)
        .contact_flow_id(&east_flow)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    west.associate_phone_number_contact_flow().phone_number_id(&narn).instance_id(&id).contact_flow_id(&east_flow).send().await.unwrap();
    let e = west.describe_phone_number().phone_number_id(&nid).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    west.describe_phone_number().phone_number_id(&narn).send().await.unwrap();
    // An unknown flow is not found.
    let e = east
        .associate_phone_number_contact_flow()
        .phone_number_id(&nid)
        .instance_id(&id)
        .contact_flow_id("00000000-0000-0000-0000-000000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    // Shift traffic 50/50.
    east.update_traffic_distribution()
        .id(&gid)
        .telephony_config(
            TelephonyConfig::builder()
                .distributions(Distribution::builder().region("us-east-1").percentage(50).build().unwrap())
                .distributions(Distribution::builder().region("us-west-2").percentage(50).build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // The group is in use while the number is claimed.
    let e = east.delete_traffic_distribution_group().traffic_distribution_group_id(&gid).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceInUseException");
    // Removed in one region, the association goes in the other too.
    west.disassociate_phone_number_contact_flow().phone_number_id(&narn).instance_id(&id).send().await.unwrap();
    assert!(east.list_flow_associations().instance_id(&id).send().await.unwrap().flow_association_summary_list().is_empty());
    let e = west.release_phone_number().phone_number_id(&narn).send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidParameterException", "released only where claimed");
    east.release_phone_number().phone_number_id(&nid).send().await.unwrap();
    east.delete_traffic_distribution_group().traffic_distribution_group_id(&gid).send().await.unwrap();
    let e = east.describe_traffic_distribution_group().traffic_distribution_group_id(&gid).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn claim_is_in_progress_until_latency_elapses() {
    let (sb, admin) = sandbox().await;
    admin
        .set_latency(&tandem_sim::latency::LatencyConfig {
            scale: 1.0,
            rules: vec![tandem_sim::latency::LatencyRule::kind("connect", "phone-number", 500, 0)],
        })
        .await
        .unwrap();
    let c = connect(&sb, "us-east-1");
    let (_, arn) = instance(&c, "slowclaim").await;
    let n = c
        .search_available_phone_numbers()
        .target_arn(&arn)
        .phone_number_country_code(PhoneNumberCountryCode::Us)
        .phone_number_type(PhoneNumberType::Did)
        .max_results(1)
        .send()
        .await
        .unwrap();
    let number = n.available_numbers_list()[0].phone_number().unwrap().to_string();
    let id = c.claim_phone_number().target_arn(&arn).phone_number(&number).send().await.unwrap().phone_number_id().unwrap().to_string();
    let status = |d: aws_sdk_connect::operation::describe_phone_number::DescribePhoneNumberOutput| {
        d.claimed_phone_number_summary().unwrap().phone_number_status().unwrap().status().cloned()
    };
    assert_eq!(status(c.describe_phone_number().phone_number_id(&id).send().await.unwrap()), Some(PhoneNumberWorkflowStatus::InProgress));
    let e = c.release_phone_number().phone_number_id(&id).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceInUseException");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(status(c.describe_phone_number().phone_number_id(&id).send().await.unwrap()), Some(PhoneNumberWorkflowStatus::Claimed));
    c.release_phone_number().phone_number_id(&id).send().await.unwrap();
}

#[tokio::test]
async fn update_phone_number_moves_a_number_to_a_group() {
    let (sb, _admin) = sandbox().await;
    let (id, arn, _) = replicated(&sb, "move").await;
    let east = connect(&sb, "us-east-1");
    let west = connect(&sb, "us-west-2");
    let garn = east.create_traffic_distribution_group().name("m").instance_id(&id).send().await.unwrap().arn().unwrap().to_string();
    let n = east
        .search_available_phone_numbers()
        .target_arn(&arn)
        .phone_number_country_code(PhoneNumberCountryCode::Us)
        .phone_number_type(PhoneNumberType::Did)
        .max_results(1)
        .send()
        .await
        .unwrap();
    let number = n.available_numbers_list()[0].phone_number().unwrap().to_string();
    let c = east.claim_phone_number().target_arn(&arn).phone_number(&number).send().await.unwrap();
    let (nid, narn) = (c.phone_number_id().unwrap().to_string(), c.phone_number_arn().unwrap().to_string());
    // Before the move the replica region does not see it.
    assert_eq!(code(&west.describe_phone_number().phone_number_id(&narn).send().await.unwrap_err()), "ResourceNotFoundException");
    // Only in the region where it was claimed.
    let e = west.update_phone_number().phone_number_id(&narn).target_arn(&garn).send().await.unwrap_err();
    assert_eq!(code(&e), "ResourceNotFoundException");
    east.update_phone_number().phone_number_id(&nid).target_arn(&garn).client_token("mv").send().await.unwrap();
    east.update_phone_number().phone_number_id(&nid).target_arn(&garn).client_token("mv").send().await.unwrap();
    let d = west.describe_phone_number().phone_number_id(&narn).send().await.unwrap();
    assert_eq!(d.claimed_phone_number_summary().unwrap().target_arn(), Some(garn.as_str()));
    let e = east.update_phone_number().phone_number_id(&nid).target_arn(&arn).client_token("mv").send().await.unwrap_err();
    assert_eq!(code(&e), "IdempotencyException");
}
