//! Amazon Connect Global Resiliency kinds (instance, replica, traffic
//! distribution group, phone number) through the `ResourceKind` trait,
//! against the tandem sandbox over HTTP with the official SDK.

mod connect_common;

use aws_sdk_connect::types::{ContactFlowType, Distribution, TelephonyConfig};
use connect_common::{changed, ctx, kind, props, sandbox, Env, FLOW, REPLICA, SOURCE};
use serde_json::{json, Value};
use tandem_provider::{ErrorClass, Observed};
use tandem_sim::connect::AvailableNumber;

const CTR: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/ctr";
const CTR2: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/ctr-2";
const AGENT: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/agent-events";

fn out(o: &Observed, name: &str) -> String {
    o.outputs.get(name).and_then(Value::as_str).unwrap_or_else(|| panic!("output {name} in {:?}", o.outputs)).to_string()
}

/// A source instance in us-east-1 and its replica in us-west-2, made by the kinds.
async fn replicated(env: &Env, alias: &str) -> (Observed, Observed) {
    let instance = kind(&env.aws, "aws.connect.instance");
    let replica = kind(&env.aws, "aws.connect.replica");
    let i = instance
        .create(
            &ctx(alias, SOURCE),
            &props(json!({ "identity_management_type": "CONNECT_MANAGED", "instance_alias": alias, "inbound_calls_enabled": true, "outbound_calls_enabled": true })),
        )
        .await
        .expect("instance");
    let r = replica
        .create(&ctx(&format!("{alias}_replica"), SOURCE), &props(json!({ "instance_id": out(&i, "id"), "replica_region": REPLICA, "replica_alias": format!("{alias}-west") })))
        .await
        .expect("replica");
    (i, r)
}

fn split(east: i64) -> Value {
    json!({ "distributions": [{ "region": SOURCE, "percentage": east }, { "region": REPLICA, "percentage": 100 - east }] })
}

#[tokio::test]
async fn instance_create_read_update_delete() {
    let env = sandbox().await;
    let instance = kind(&env.aws, "aws.connect.instance");
    let c = ctx("primary", SOURCE);
    let desired0 = props(json!({
        "identity_management_type": "CONNECT_MANAGED",
        "instance_alias": "tandem-primary",
        "inbound_calls_enabled": true,
        "outbound_calls_enabled": false,
        "contact_flow_logs": true,
        "contact_trace_records_stream_arn": CTR,
        "tags": { "app": "connect" }
    }));
    let created = instance.create(&c, &desired0).await.unwrap();
    let id = created.id.clone();
    assert_eq!(out(&created, "id"), id);
    assert_eq!(out(&created, "arn"), format!("arn:aws:connect:{SOURCE}:123456789012:instance/{id}"));

    // A re-run of the same create (a crash after CreateInstance) finds the same instance.
    let again = instance.create(&c, &desired0).await.unwrap();
    assert_eq!(again.id, id);

    let read = instance.read(&c, &id).await.unwrap().expect("the instance exists");
    for (k, v) in [
        ("identity_management_type", json!("CONNECT_MANAGED")),
        ("instance_alias", json!("tandem-primary")),
        ("inbound_calls_enabled", json!(true)),
        ("outbound_calls_enabled", json!(false)),
        ("contact_flow_logs", json!(true)),
        ("contact_trace_records_stream_arn", json!(CTR)),
        ("tags", json!({ "app": "connect" })),
    ] {
        assert_eq!(read.properties.get(k), Some(&v), "{k}");
    }
    assert!(!read.properties.contains_key("agent_events_stream_arn"));
    // The ARN reads too.
    assert_eq!(instance.read(&c, &out(&created, "arn")).await.unwrap().unwrap().id, id);

    // Attributes, storage configs (replaced) and tags change in place.
    let desired1 = props(json!({
        "identity_management_type": "CONNECT_MANAGED",
        "instance_alias": "tandem-primary",
        "inbound_calls_enabled": true,
        "outbound_calls_enabled": true,
        "contact_flow_logs": false,
        "contact_trace_records_stream_arn": CTR2,
        "agent_events_stream_arn": AGENT,
        "tags": { "app": "connect", "tier": "gold" }
    }));
    let fields = changed(&["outbound_calls_enabled", "contact_flow_logs", "contact_trace_records_stream_arn", "agent_events_stream_arn", "tags"]);
    let updated = instance.update(&c, &id, &read.properties, &desired1, &fields).await.unwrap();
    assert_eq!(updated.properties["outbound_calls_enabled"], json!(true));
    assert_eq!(updated.properties["contact_flow_logs"], json!(false));
    assert_eq!(updated.properties["contact_trace_records_stream_arn"], json!(CTR2));
    assert_eq!(updated.properties["agent_events_stream_arn"], json!(AGENT));
    assert_eq!(updated.properties["tags"], json!({ "app": "connect", "tier": "gold" }));

    // The storage config was replaced, not added: one per resource type.
    let sdk = env.aws.connect(SOURCE).await;
    let ctr = sdk.list_instance_storage_configs().instance_id(&id).resource_type("CONTACT_TRACE_RECORDS".into()).send().await.unwrap();
    assert_eq!(ctr.storage_configs().len(), 1);

    // Removing a storage config and a tag.
    let mut desired2 = desired1.clone();
    desired2.remove("agent_events_stream_arn");
    desired2.insert("tags".into(), json!({ "app": "connect" }));
    let u2 = instance.update(&c, &id, &updated.properties, &desired2, &changed(&["agent_events_stream_arn", "tags"])).await.unwrap();
    assert!(!u2.properties.contains_key("agent_events_stream_arn"));
    assert_eq!(u2.properties["tags"], json!({ "app": "connect" }));

    // force_new fields are not changed in place.
    let e = instance.update(&c, &id, &u2.properties, &desired2, &changed(&["instance_alias"])).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid);

    instance.delete(&c, &id, &desired2).await.unwrap();
    assert!(instance.read(&c, &id).await.unwrap().is_none());
    // Deleting what is gone succeeds.
    instance.delete(&c, &id, &desired2).await.unwrap();

    // The same create after a delete makes a new instance (the old token's answer is gone).
    let recreated = instance.create(&c, &desired0).await.unwrap();
    assert_ne!(recreated.id, id);
    instance.delete(&c, &recreated.id, &desired0).await.unwrap();
}

#[tokio::test]
async fn instance_needs_an_alias_or_a_directory() {
    let env = sandbox().await;
    let instance = kind(&env.aws, "aws.connect.instance");
    let e = instance
        .create(&ctx("x", SOURCE), &props(json!({ "identity_management_type": "CONNECT_MANAGED", "inbound_calls_enabled": true, "outbound_calls_enabled": true })))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.message.contains("instance_alias"), "{}", e.message);
}

#[tokio::test]
async fn replica_create_read_delete() {
    let env = sandbox().await;
    let (i, r) = replicated(&env, "tandem-gr").await;
    let replica = kind(&env.aws, "aws.connect.replica");
    let c = ctx("tandem-gr_replica", SOURCE);
    // The replica keeps the source's id; its ARN is in the replica region.
    assert_eq!(out(&r, "id"), out(&i, "id"));
    assert_eq!(out(&r, "arn"), format!("arn:aws:connect:{REPLICA}:123456789012:instance/{}", out(&i, "id")));
    assert_eq!(out(&r, "replica_region"), REPLICA);
    assert_eq!(r.id, out(&r, "arn"));

    let read = replica.read(&c, &r.id).await.unwrap().expect("the replica exists");
    assert_eq!(read.properties["replica_region"], json!(REPLICA));
    assert_eq!(read.properties["replica_alias"], json!("tandem-gr-west"));

    // The replica answers in us-west-2, ACTIVE, as a replica of us-east-1.
    let west = env.aws.connect(REPLICA).await;
    let d = west.describe_instance().instance_id(&r.id).send().await.unwrap();
    assert_eq!(d.instance().unwrap().instance_status().unwrap().as_str(), "ACTIVE");
    assert_eq!(d.replication_configuration().unwrap().source_region(), Some(SOURCE));

    // The source cannot be deleted while it has a replica; the replica goes first.
    let instance = kind(&env.aws, "aws.connect.instance");
    let e = instance.delete(&ctx("tandem-gr", SOURCE), &i.id, &Default::default()).await.unwrap_err();
    assert_ne!(e.class, ErrorClass::NotFound);
    replica.delete(&c, &r.id, &Default::default()).await.unwrap();
    assert!(replica.read(&c, &r.id).await.unwrap().is_none());
    replica.delete(&c, &r.id, &Default::default()).await.unwrap();
    instance.delete(&ctx("tandem-gr", SOURCE), &i.id, &Default::default()).await.unwrap();
    assert!(instance.read(&ctx("tandem-gr", SOURCE), &i.id).await.unwrap().is_none());
}

#[tokio::test]
async fn replica_pairs_aws_does_not_allow_are_refused() {
    let env = sandbox().await;
    let replica = kind(&env.aws, "aws.connect.replica");
    for (source, target) in [("us-east-1", "eu-west-2"), ("us-east-1", "us-east-1"), ("ap-northeast-3", "ap-northeast-1"), ("sa-east-1", "us-east-1")] {
        let e = replica
            .create(&ctx("r", source), &props(json!({ "instance_id": "00000000-0000-0000-0000-000000000000", "replica_region": target, "replica_alias": "x" })))
            .await
            .unwrap_err();
        assert_eq!(e.class, ErrorClass::Invalid, "{source} -> {target}");
        assert!(e.message.contains(target) && e.message.contains(source), "{}", e.message);
    }
    // Refused before any call: nothing reached the sandbox.
    assert_eq!(env.admin.count(Some("connect"), Some("ReplicateInstance"), None).await.unwrap(), 0);
    assert!(tandem_aws::kinds(env.aws.clone()).iter().any(|k| k.schema().type_name == "aws.connect.replica"));
}

#[tokio::test]
async fn traffic_distribution_group_lifecycle_and_drift() {
    let env = sandbox().await;
    let (i, _r) = replicated(&env, "tandem-tdg").await;
    let group = kind(&env.aws, "aws.connect.traffic_distribution_group");
    let c = ctx("tdg", SOURCE);
    let desired0 = props(json!({
        "name": "tandem-tdg",
        "description": "active-active",
        "instance_id": out(&i, "arn"),
        "telephony_config": split(50),
        "agent_config": split(50),
        "tags": { "app": "connect" }
    }));
    let created = group.create(&c, &desired0).await.unwrap();
    let id = created.id.clone();
    assert_eq!(out(&created, "id"), id);
    assert_eq!(out(&created, "arn"), format!("arn:aws:connect:{SOURCE}:123456789012:traffic-distribution-group/{id}"));

    let read = group.read(&c, &id).await.unwrap().expect("the group exists");
    assert_eq!(read.properties["name"], json!("tandem-tdg"));
    assert_eq!(read.properties["description"], json!("active-active"));
    assert_eq!(read.properties["instance_id"], json!(out(&i, "arn")));
    assert_eq!(read.properties["telephony_config"], split(50));
    assert_eq!(read.properties["agent_config"], split(50));
    assert_eq!(read.properties["tags"], json!({ "app": "connect" }));
    // Read by ARN too.
    assert_eq!(group.read(&c, &out(&created, "arn")).await.unwrap().unwrap().id, id);

    // The distribution changes in place.
    let mut desired1 = desired0.clone();
    desired1.insert("telephony_config".into(), split(70));
    desired1.insert("agent_config".into(), split(70));
    desired1.insert("tags".into(), json!({ "app": "connect", "tier": "gold" }));
    let updated = group.update(&c, &id, &read.properties, &desired1, &changed(&["telephony_config", "agent_config", "tags"])).await.unwrap();
    assert_eq!(updated.properties["telephony_config"], split(70));
    assert_eq!(updated.properties["agent_config"], split(70));
    assert_eq!(updated.properties["tags"], json!({ "app": "connect", "tier": "gold" }));

    // A manual failover (all calls to the replica region, from the replica
    // region by ARN, as an operator would) left in place shows as drift.
    let west = env.aws.connect(REPLICA).await;
    let all_west = TelephonyConfig::builder()
        .distributions(Distribution::builder().region(SOURCE).percentage(0).build().unwrap())
        .distributions(Distribution::builder().region(REPLICA).percentage(100).build().unwrap())
        .build()
        .unwrap();
    west.update_traffic_distribution().id(out(&created, "arn")).telephony_config(all_west).send().await.unwrap();
    let drifted = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            let r = group.read(&c, &id).await.unwrap().unwrap();
            if r.properties.contains_key("telephony_config") {
                return r;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(drifted.properties["telephony_config"], split(0));
    assert_ne!(drifted.properties["telephony_config"], desired1["telephony_config"]);
    // Reconciling puts it back.
    let back = group.update(&c, &id, &drifted.properties, &desired1, &changed(&["telephony_config"])).await.unwrap();
    assert_eq!(back.properties["telephony_config"], split(70));

    // Distributions the API refuses are refused before the call.
    let mut bad = desired1.clone();
    bad.insert("telephony_config".into(), json!({ "distributions": [{ "region": SOURCE, "percentage": 55 }, { "region": REPLICA, "percentage": 45 }] }));
    let e = group.update(&c, &id, &back.properties, &bad, &changed(&["telephony_config"])).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid);
    // A region outside the group: refused by the API (InvalidRequestException).
    bad.insert("telephony_config".into(), json!({ "distributions": [{ "region": SOURCE, "percentage": 50 }, { "region": "eu-west-2", "percentage": 50 }] }));
    let e = group.update(&c, &id, &back.properties, &bad, &changed(&["telephony_config"])).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid);
    assert_eq!(e.code.as_deref(), Some("InvalidRequestException"));

    group.delete(&c, &id, &desired1).await.unwrap();
    assert!(group.read(&c, &id).await.unwrap().is_none());
    group.delete(&c, &id, &desired1).await.unwrap();
}

#[tokio::test]
async fn traffic_distribution_group_needs_a_replicated_instance() {
    let env = sandbox().await;
    let instance = kind(&env.aws, "aws.connect.instance");
    let i = instance
        .create(&ctx("solo", SOURCE), &props(json!({ "identity_management_type": "CONNECT_MANAGED", "instance_alias": "solo", "inbound_calls_enabled": true, "outbound_calls_enabled": true })))
        .await
        .unwrap();
    let group = kind(&env.aws, "aws.connect.traffic_distribution_group");
    let e = group.create(&ctx("tdg", SOURCE), &props(json!({ "name": "tdg", "instance_id": out(&i, "arn"), "telephony_config": split(50) }))).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid, "{}", e.message);
    // The instance goes by ARN (what the group reads back), not by id.
    let e = group.create(&ctx("tdg", SOURCE), &props(json!({ "name": "tdg", "instance_id": out(&i, "id"), "telephony_config": split(50) }))).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.message.contains("ARN"), "{}", e.message);
}

#[tokio::test]
async fn phone_numbers_claim_associate_release_and_the_delete_order() {
    let env = sandbox().await;
    let (i, r) = replicated(&env, "tandem-pn").await;
    let group = kind(&env.aws, "aws.connect.traffic_distribution_group");
    let number = kind(&env.aws, "aws.connect.phone_number");
    let gc = ctx("tdg", SOURCE);
    let g = group.create(&gc, &props(json!({ "name": "tandem-pn", "instance_id": out(&i, "arn"), "telephony_config": split(50) }))).await.unwrap();
    let group_arn = out(&g, "arn");

    // A flow in each instance of the group.
    let east = env.aws.connect(SOURCE).await;
    let west = env.aws.connect(REPLICA).await;
    let mut flow_ids = Vec::new();
    for (client, instance) in [(&east, out(&i, "arn")), (&west, out(&r, "arn"))] {
        let f = client.create_contact_flow().instance_id(&instance).name("inbound").r#type(ContactFlowType::ContactFlow).content(FLOW).send().await.unwrap();
        flow_ids.push(f.contact_flow_id().unwrap().to_string());
    }
    let flows = json!([
        { "instance_id": out(&i, "arn"), "contact_flow_id": flow_ids[0] },
        { "instance_id": out(&r, "arn"), "contact_flow_id": flow_ids[1] }
    ]);

    // By search: the first DID the sandbox offers for the group.
    env.admin
        .seed_phone_numbers(SOURCE, &[AvailableNumber { phone_number: "+12065550142".into(), country_code: "US".into(), number_type: "DID".into() }])
        .await
        .unwrap();
    let nc = ctx("main_number", SOURCE);
    let desired0 = props(json!({ "target_arn": group_arn, "country_code": "US", "phone_number_type": "DID", "phone_number_prefix": "+1206", "contact_flows": flows, "tags": { "app": "connect" } }));
    let created = number.create(&nc, &desired0).await.unwrap();
    let id = created.id.clone();
    assert_eq!(out(&created, "phone_number"), "+12065550142");
    assert_eq!(out(&created, "id"), id);
    assert!(out(&created, "arn").starts_with(&format!("arn:aws:connect:{SOURCE}:123456789012:phone-number/")));
    // Associated in both regions; in us-west-2 the number went by ARN (an id is not found there).
    assert_eq!(env.admin.count(Some("connect"), Some("AssociatePhoneNumberContactFlow"), Some(REPLICA)).await.unwrap(), 1);
    assert_eq!(env.admin.count(Some("connect"), Some("AssociatePhoneNumberContactFlow"), Some(SOURCE)).await.unwrap(), 1);
    // A re-run after a crash adopts the number (tagged with the address) instead of claiming another.
    let again = number.create(&nc, &desired0).await.unwrap();
    assert_eq!(again.id, id);

    let read = number.read(&nc, &id).await.unwrap().expect("the number exists");
    assert_eq!(read.properties["target_arn"], json!(group_arn));
    assert_eq!(read.properties["phone_number"], json!("+12065550142"));
    assert_eq!(read.properties["country_code"], json!("US"));
    assert_eq!(read.properties["phone_number_type"], json!("DID"));
    assert_eq!(read.properties["tags"], json!({ "app": "connect" }));
    let status = east.describe_phone_number().phone_number_id(&id).send().await.unwrap();
    assert_eq!(status.claimed_phone_number_summary().unwrap().phone_number_status().unwrap().status().unwrap().as_str(), "CLAIMED");
    // The number is visible from the replica region by ARN (not by id).
    west.describe_phone_number().phone_number_id(out(&created, "arn")).send().await.unwrap();

    // The group cannot go while the number is claimed to it: a Conflict.
    let e = group.delete(&gc, &g.id, &Default::default()).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Conflict, "{}", e.message);
    assert_eq!(e.code.as_deref(), Some("ResourceInUseException"));

    // Flows and tags change in place: the replica's association goes away.
    let mut desired1 = desired0.clone();
    desired1.insert("contact_flows".into(), json!([{ "instance_id": out(&i, "arn"), "contact_flow_id": flow_ids[0] }]));
    desired1.insert("tags".into(), json!({ "app": "connect", "line": "main" }));
    let updated = number.update(&nc, &id, &desired0, &desired1, &changed(&["contact_flows", "tags"])).await.unwrap();
    assert_eq!(updated.properties["tags"], json!({ "app": "connect", "line": "main" }));
    let gone = west.disassociate_phone_number_contact_flow().phone_number_id(out(&created, "arn")).instance_id(out(&r, "arn")).send().await.unwrap_err();
    assert_eq!(gone.as_service_error().and_then(|e| aws_sdk_connect::error::ProvideErrorMetadata::code(e)), Some("ResourceNotFoundException"));

    // An explicit number, claimed to the instance itself.
    env.admin.seed_phone_numbers(SOURCE, &[AvailableNumber { phone_number: "+18005550199".into(), country_code: "US".into(), number_type: "TOLL_FREE".into() }]).await.unwrap();
    let xc = ctx("toll_free", SOURCE);
    let explicit = props(json!({ "target_arn": out(&i, "arn"), "phone_number": "+18005550199" }));
    let x = number.create(&xc, &explicit).await.unwrap();
    assert_eq!(out(&x, "phone_number"), "+18005550199");
    assert_eq!(x.properties["target_arn"], json!(out(&i, "arn")));
    // Moved to the group in place (UpdatePhoneNumber keeps the number), then associated there.
    let mut moved = explicit.clone();
    moved.insert("target_arn".into(), json!(group_arn));
    moved.insert("contact_flows".into(), json!([{ "instance_id": out(&i, "arn"), "contact_flow_id": flow_ids[0] }]));
    let m = number.update(&xc, &x.id, &explicit, &moved, &changed(&["target_arn", "contact_flows"])).await.unwrap();
    assert_eq!(m.id, x.id);
    assert_eq!(m.properties["target_arn"], json!(group_arn));
    assert_eq!(m.properties["phone_number"], json!("+18005550199"));
    number.delete(&xc, &x.id, &moved).await.unwrap();
    assert!(number.read(&xc, &x.id).await.unwrap().is_none());

    // Numbers first, then the group (the engine's order: the number depends on the group).
    number.delete(&nc, &id, &desired1).await.unwrap();
    assert!(number.read(&nc, &id).await.unwrap().is_none());
    number.delete(&nc, &id, &desired1).await.unwrap();
    group.delete(&gc, &g.id, &Default::default()).await.unwrap();
    assert!(group.read(&gc, &g.id).await.unwrap().is_none());
}

#[tokio::test]
async fn creates_wait_for_active_and_deletes_wait_for_gone() {
    use tandem_sim::latency::{LatencyConfig, LatencyRule};
    let env = sandbox().await;
    let rules = ["instance", "replica", "traffic-distribution-group", "traffic-distribution", "phone-number"].iter().map(|k| LatencyRule::kind("connect", k, 400, 300)).collect();
    env.admin.set_latency(&LatencyConfig { scale: 1.0, rules }).await.unwrap();
    let (i, r) = replicated(&env, "tandem-slow").await;
    let west = env.aws.connect(REPLICA).await;
    let d = west.describe_instance().instance_id(out(&r, "arn")).send().await.unwrap();
    assert_eq!(d.instance().unwrap().instance_status().unwrap().as_str(), "ACTIVE");

    let group = kind(&env.aws, "aws.connect.traffic_distribution_group");
    let gc = ctx("tdg", SOURCE);
    let g = group.create(&gc, &props(json!({ "name": "slow", "instance_id": out(&i, "arn"), "telephony_config": split(60), "agent_config": split(60) }))).await.unwrap();
    // Created, distributed and ACTIVE again before create returns.
    assert_eq!(g.properties["telephony_config"], split(60));
    let east = env.aws.connect(SOURCE).await;
    let s = east.describe_traffic_distribution_group().traffic_distribution_group_id(&g.id).send().await.unwrap();
    assert_eq!(s.traffic_distribution_group().unwrap().status().unwrap().as_str(), "ACTIVE");

    let number = kind(&env.aws, "aws.connect.phone_number");
    let nc = ctx("n", SOURCE);
    let n = number.create(&nc, &props(json!({ "target_arn": out(&g, "arn"), "country_code": "US", "phone_number_type": "TOLL_FREE" }))).await.unwrap();
    let st = east.describe_phone_number().phone_number_id(&n.id).send().await.unwrap();
    assert_eq!(st.claimed_phone_number_summary().unwrap().phone_number_status().unwrap().status().unwrap().as_str(), "CLAIMED");

    number.delete(&nc, &n.id, &Default::default()).await.unwrap();
    group.delete(&gc, &g.id, &Default::default()).await.unwrap();
    // Gone, not PENDING_DELETION.
    let e = east.describe_traffic_distribution_group().traffic_distribution_group_id(&g.id).send().await.unwrap_err();
    assert_eq!(e.as_service_error().and_then(|e| aws_sdk_connect::error::ProvideErrorMetadata::code(e)), Some("ResourceNotFoundException"));
}
