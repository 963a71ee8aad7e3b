//! The seed's Terraform state (tests/fixtures/migrate/seed) mapped with
//! tandem's real kinds: every instance is accounted for, ids are adopted as
//! the kinds read them, and the spec loads.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use tandem_migrate::{migrate, parse, Options};
use tandem_provider::Registry;

fn registry() -> Registry {
    let mut r = Registry::new();
    tandem_aws::register(&mut r, Arc::new(tandem_aws::AwsContext::from_env()));
    tandem_gcp::register(&mut r, Arc::new(tandem_gcp::GcpContext::default()));
    r
}

fn seed() -> tandem_migrate::tfstate::TfState {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/migrate/seed/terraform.tfstate");
    parse("terraform.tfstate", &std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn every_instance_is_accounted_for() {
    let tf = seed();
    let m = migrate(&tf, &registry(), &Options { name: "contact-center".into(), source: "terraform.tfstate".into(), ..Default::default() });
    let instances: usize = tf.resources.iter().map(|r| r.instances.len()).sum();
    assert_eq!(m.report.entries.len(), instances, "{:#?}", m.report.entries);
    let skipped: Vec<&str> = m.report.entries.iter().filter(|e| e.outcome == "skipped").map(|e| e.terraform.as_str()).collect();
    assert_eq!(skipped, ["module.aws_connect.terraform_data.replica"], "{:#?}", m.report.entries);
    for e in m.report.entries.iter().filter(|e| e.outcome == "folded") {
        assert!(e.address.as_ref().is_some_and(|a| m.state.resources.contains_key(a)), "{e:?}");
    }
}

#[test]
fn kinds_ids_regions_and_stages() {
    let tf = seed();
    let m = migrate(&tf, &registry(), &Options { name: "contact-center".into(), ..Default::default() });
    let kinds: BTreeMap<&str, usize> = m.state.resources.values().fold(BTreeMap::new(), |mut acc, r| {
        *acc.entry(r.type_name.as_str()).or_default() += 1;
        acc
    });
    for (kind, n) in [
        ("aws.ec2.vpc", 2),
        ("aws.kinesis.stream", 4),
        ("aws.dynamodb.global_table", 1),
        ("aws.connect.queue", 2),
        ("aws.connect.user", 2),
        ("gcp.compute.router_peer", 4),
        ("gcp.compute.vpn_tunnel", 4),
    ] {
        assert_eq!(kinds.get(kind), Some(&n), "{kind}: {kinds:?}");
    }
    let vpc = &m.state.resources["vpc_secondary"];
    assert_eq!(vpc.region.as_deref(), Some("us-west-2"));
    assert!(vpc.id.starts_with("vpc-"));
    // Storage configs are the instance's properties in tandem.
    let instance = &m.state.resources["connect_instance_primary"];
    assert!(instance.properties["contact_trace_records_stream_arn"].as_str().unwrap().ends_with(":stream/contact-center-ctr-primary"));
    // Objects are kept by ARN, users with security profile names.
    let alice = &m.state.resources["connect_user_agent[alice]"];
    assert!(alice.id.starts_with("arn:aws:connect:us-east-1:"), "{}", alice.id);
    assert_eq!(alice.properties["security_profile_names"], serde_json::json!(["Agent"]));
    // Event targets are the rule's.
    assert_eq!(m.state.resources["cloudwatch_event_rule_failover_schedule"].properties["targets"][0]["id"], "controller");
    // Dependencies follow the rebuilt references.
    assert!(m.state.resources["subnet_primary_a"].dependencies.contains("vpc_primary"));
    assert!(m.spec.contains("stage: contact_routing_config"));
}

#[test]
fn the_spec_loads_and_every_for_each_kept_is_one_declaration() {
    let tf = seed();
    let reg = registry();
    let m = migrate(&tf, &reg, &Options { name: "contact-center".into(), ..Default::default() });
    let schemas: Vec<_> = reg.schemas().collect();
    let spec =
        tandem_spec::load(tandem_spec::SourceFile { name: "tandem.yaml".into(), text: m.spec.clone() }, &Default::default(), &schemas)
            .unwrap_or_else(|p| panic!("{p}\n{}", m.spec));
    let mut spec_addrs: Vec<&String> = spec.resources.keys().collect();
    let mut state_addrs: Vec<&String> = m.state.resources.keys().collect();
    spec_addrs.sort();
    state_addrs.sort();
    assert_eq!(spec_addrs, state_addrs);
    assert!(m.spec.contains("  kinesis_stream_primary:\n"), "{}", m.spec);
    assert!(!m.spec.contains("kinesis_stream_primary[ctr]:"), "{}", m.spec);
}

/// A small state of its own: a user of a CONNECT_MANAGED instance (its
/// password becomes a sensitive variable), a type tandem has no kind for, a
/// storage config tandem does not manage, and a target whose rule is not in
/// the state: each reported with the reason, none dropped.
#[test]
fn secrets_become_variables_and_nothing_is_dropped_silently() {
    let text = serde_json::json!({
        "version": 4, "terraform_version": "1.11.4", "serial": 3, "lineage": "x",
        "resources": [
            { "mode": "managed", "type": "aws_connect_instance", "name": "main", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
              "instances": [{ "attributes": { "id": "11111111-2222-3333-4444-555555555555", "arn": "arn:aws:connect:eu-central-1:123456789012:instance/11111111-2222-3333-4444-555555555555",
                "identity_management_type": "CONNECT_MANAGED", "instance_alias": "acme", "inbound_calls_enabled": true, "outbound_calls_enabled": false, "contact_flow_logs_enabled": false, "contact_lens_enabled": false, "tags_all": {} } }] },
            { "mode": "data", "type": "aws_connect_security_profile", "name": "agent", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
              "instances": [{ "attributes": { "security_profile_id": "sp-1", "name": "Agent" } }] },
            { "mode": "managed", "type": "aws_connect_user", "name": "bob", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
              "instances": [{ "attributes": { "id": "11111111-2222-3333-4444-555555555555:u-1", "arn": "arn:aws:connect:eu-central-1:123456789012:instance/11111111-2222-3333-4444-555555555555/agent/u-1", "user_id": "u-1",
                "instance_id": "11111111-2222-3333-4444-555555555555", "name": "bob", "password": "Hunter2-Secret", "routing_profile_id": "rp-1", "security_profile_ids": ["sp-1"],
                "identity_info": [{ "first_name": "Bob", "last_name": "B", "email": "" }], "phone_config": [{ "phone_type": "SOFT_PHONE", "auto_accept": false, "after_contact_work_time_limit": 0, "desk_phone_number": "" }] },
                "sensitive_attributes": [[{ "type": "get_attr", "value": "password" }]] }] },
            { "mode": "managed", "type": "aws_s3_bucket", "name": "recordings", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
              "instances": [{ "attributes": { "id": "acme-recordings", "arn": "arn:aws:s3:::acme-recordings" } }] },
            { "mode": "managed", "type": "aws_connect_instance_storage_config", "name": "recordings", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
              "instances": [{ "attributes": { "instance_id": "11111111-2222-3333-4444-555555555555", "resource_type": "CALL_RECORDINGS", "storage_config": [{ "storage_type": "S3" }] } }] },
            { "mode": "managed", "type": "aws_cloudwatch_event_target", "name": "orphan", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
              "instances": [{ "attributes": { "rule": "elsewhere", "target_id": "t", "arn": "arn:aws:lambda:eu-central-1:123456789012:function:f" } }] }
        ]
    })
    .to_string();
    let tf = parse("small.tfstate", &text).unwrap();
    let m = migrate(&tf, &registry(), &Options { name: "small".into(), ..Default::default() });
    let reason = |t: &str| m.report.entries.iter().find(|e| e.terraform == t).and_then(|e| e.reason.clone()).unwrap_or_default();
    assert!(reason("aws_s3_bucket.recordings").contains("no resource kind for aws_s3_bucket"));
    assert!(reason("aws_connect_instance_storage_config.recordings").contains("CALL_RECORDINGS"));
    assert!(reason("aws_cloudwatch_event_target.orphan").contains("elsewhere"));
    assert!(m.spec.contains("password: ${var.connect_user_bob_password}"), "{}", m.spec);
    assert!(!m.spec.contains("Hunter2-Secret"));
    assert!(m.secrets.as_deref().unwrap_or_default().contains("connect_user_bob_password: Hunter2-Secret"));
    // The state holds the value (as Terraform's did), to compare with.
    assert_eq!(m.state.resources["connect_user_bob"].properties["password"], "Hunter2-Secret");
    assert_eq!(m.state.resources["connect_user_bob"].region.as_deref(), Some("eu-central-1"));
    let notes = &m.report.entries.iter().find(|e| e.terraform == "aws_connect_instance.main").unwrap().notes;
    assert!(notes.iter().any(|n| n.contains("contact_lens_enabled")), "{notes:?}");
    let reg = registry();
    let schemas: Vec<_> = reg.schemas().collect();
    let inputs = tandem_spec::VarInputs {
        files: vec![tandem_spec::SourceFile { name: "tandem.secrets.yaml".into(), text: m.secrets.clone().unwrap() }],
        ..Default::default()
    };
    tandem_spec::load(tandem_spec::SourceFile { name: "tandem.yaml".into(), text: m.spec.clone() }, &inputs, &schemas)
        .unwrap_or_else(|p| panic!("{p}\n{}", m.spec));
}
