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
    for (kind, n) in [("aws.ec2.vpc", 2), ("aws.kinesis.stream", 4), ("aws.dynamodb.global_table", 1), ("aws.connect.queue", 2), ("aws.connect.user", 2), ("gcp.compute.router_peer", 4), ("gcp.compute.vpn_tunnel", 4)] {
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
    let spec = tandem_spec::load(tandem_spec::SourceFile { name: "tandem.yaml".into(), text: m.spec.clone() }, &Default::default(), &schemas).unwrap_or_else(|p| panic!("{p}\n{}", m.spec));
    let mut spec_addrs: Vec<&String> = spec.resources.keys().collect();
    let mut state_addrs: Vec<&String> = m.state.resources.keys().collect();
    spec_addrs.sort();
    state_addrs.sort();
    assert_eq!(spec_addrs, state_addrs);
    assert!(m.spec.contains("  kinesis_stream_primary:\n"), "{}", m.spec);
    assert!(!m.spec.contains("kinesis_stream_primary[ctr]:"), "{}", m.spec);
}
