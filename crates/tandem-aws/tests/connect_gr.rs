//! Amazon Connect Global Resiliency kinds (instance, replica, traffic
//! distribution group, phone number) through the `ResourceKind` trait,
//! against the tandem sandbox over HTTP with the official SDK.

mod connect_common;

use aws_sdk_connect::types::{ContactFlowType, Distribution, TelephonyConfig};
use connect_common::{boto3, changed, ctx, kind, props, sandbox, Env, FLOW, REPLICA, SOURCE};
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
            &props(json!({ "identity_management_type": "SAML", "instance_alias": alias, "inbound_calls_enabled": true, "outbound_calls_enabled": true })),
        )
        .await
        .expect("instance");
    let r = replica
        .create(
            &ctx(&format!("{alias}_replica"), SOURCE),
            &props(json!({ "instance_id": out(&i, "id"), "replica_region": REPLICA, "replica_alias": format!("{alias}-west") })),
        )
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
    let fields =
        changed(&["outbound_calls_enabled", "contact_flow_logs", "contact_trace_records_stream_arn", "agent_events_stream_arn", "tags"]);
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

    // The same create after a delete makes a new instance: the old token's
    // answer stays NotFound for the whole consistency window, so it is gone.
    let mut quick = c.clone();
    quick.consistency = std::time::Duration::from_secs(2);
    let recreated = instance.create(&quick, &desired0).await.unwrap();
    assert_ne!(recreated.id, id);
    instance.delete(&c, &recreated.id, &desired0).await.unwrap();
}

#[tokio::test]
async fn instance_needs_an_alias_or_a_directory() {
    let env = sandbox().await;
    let instance = kind(&env.aws, "aws.connect.instance");
    let e = instance
        .create(
            &ctx("x", SOURCE),
            &props(json!({ "identity_management_type": "CONNECT_MANAGED", "inbound_calls_enabled": true, "outbound_calls_enabled": true })),
        )
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
    assert_eq!(read.properties["instance_id"], json!(out(&i, "id")));

    // The replica answers in us-west-2 (by id: DescribeInstance takes no ARN), ACTIVE, as a replica of us-east-1.
    let west = env.aws.connect(REPLICA).await;
    let d = west.describe_instance().instance_id(out(&r, "id")).send().await.unwrap();
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
    for (source, target) in
        [("us-east-1", "eu-west-2"), ("us-east-1", "us-east-1"), ("ap-northeast-3", "ap-northeast-1"), ("sa-east-1", "us-east-1")]
    {
        let e = replica
            .create(
                &ctx("r", source),
                &props(json!({ "instance_id": "00000000-0000-0000-0000-000000000000", "replica_region": target, "replica_alias": "x" })),
            )
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
    let updated =
        group.update(&c, &id, &read.properties, &desired1, &changed(&["telephony_config", "agent_config", "tags"])).await.unwrap();
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
    bad.insert(
        "telephony_config".into(),
        json!({ "distributions": [{ "region": SOURCE, "percentage": 55 }, { "region": REPLICA, "percentage": 45 }] }),
    );
    let e = group.update(&c, &id, &back.properties, &bad, &changed(&["telephony_config"])).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid);
    // A region outside the group: refused by the API (InvalidRequestException).
    bad.insert(
        "telephony_config".into(),
        json!({ "distributions": [{ "region": SOURCE, "percentage": 50 }, { "region": "eu-west-2", "percentage": 50 }] }),
    );
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
    let e = group
        .create(&ctx("tdg", SOURCE), &props(json!({ "name": "tdg", "instance_id": out(&i, "arn"), "telephony_config": split(50) })))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid, "{}", e.message);
    assert_eq!(e.code.as_deref(), Some("InvalidRequestException"), "{}", e.message);
    // By id, the same: the API takes the id or the ARN.
    let e = group
        .create(&ctx("tdg", SOURCE), &props(json!({ "name": "tdg", "instance_id": out(&i, "id"), "telephony_config": split(50) })))
        .await
        .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("InvalidRequestException"), "{}", e.message);
    assert!(e.message.contains("ReplicateInstance"), "{}", e.message);
}

#[tokio::test]
async fn traffic_distribution_group_takes_the_instance_id_or_arn() {
    let env = sandbox().await;
    let (i, _r) = replicated(&env, "tandem-byid").await;
    let group = kind(&env.aws, "aws.connect.traffic_distribution_group");
    let schema = group.schema().clone();
    let c = ctx("tdg", SOURCE);
    let desired = props(json!({ "name": "by-id", "instance_id": out(&i, "id"), "telephony_config": split(50), "agent_config": split(50) }));
    let g = group.create(&c, &desired).await.unwrap();
    // It reads back the ARN, which satisfies the id: no drift.
    assert_eq!(g.properties["instance_id"], json!(out(&i, "arn")));
    let field = schema.field("instance_id").unwrap();
    assert!(tandem_schema::matches_field(field, &desired["instance_id"], &g.properties["instance_id"]));
    group.delete(&c, &g.id, &desired).await.unwrap();
}

#[tokio::test]
async fn phone_numbers_claim_associate_release_and_the_delete_order() {
    let env = sandbox().await;
    let (i, r) = replicated(&env, "tandem-pn").await;
    let group = kind(&env.aws, "aws.connect.traffic_distribution_group");
    let number = kind(&env.aws, "aws.connect.phone_number");
    let gc = ctx("tdg", SOURCE);
    let g = group
        .create(&gc, &props(json!({ "name": "tandem-pn", "instance_id": out(&i, "arn"), "telephony_config": split(50) })))
        .await
        .unwrap();
    let group_arn = out(&g, "arn");

    // Two flows made in the source instance; Global Resiliency mirrors them to the replica.
    let east = env.aws.connect(SOURCE).await;
    let west = env.aws.connect(REPLICA).await;
    let mut flow_ids = Vec::new();
    for name in ["inbound", "inbound-2"] {
        let f = east
            .create_contact_flow()
            .instance_id(out(&i, "id"))
            .name(name)
            .r#type(ContactFlowType::ContactFlow)
            .content(FLOW)
            .send()
            .await
            .unwrap();
        flow_ids.push(f.contact_flow_id().unwrap().to_string());
    }
    // Associated once, in the source region.
    let flows = json!([{ "instance_id": out(&i, "id"), "contact_flow_id": flow_ids[0] }]);
    let associated_in = |region: &'static str| {
        let aws = env.aws.clone();
        let instance = out(&i, "id");
        async move {
            let c = aws.connect(region).await;
            let l = c.list_flow_associations().instance_id(instance).send().await.unwrap();
            l.flow_association_summary_list().iter().map(|a| a.flow_id().unwrap_or_default().to_string()).collect::<Vec<_>>()
        }
    };

    // By search: the first DID the sandbox offers for the group.
    env.admin
        .seed_phone_numbers(
            SOURCE,
            &[AvailableNumber { phone_number: "+12065550142".into(), country_code: "US".into(), number_type: "DID".into() }],
        )
        .await
        .unwrap();
    let nc = ctx("main_number", SOURCE);
    let desired0 = props(
        json!({ "target_arn": group_arn, "country_code": "US", "phone_number_type": "DID", "phone_number_prefix": "+1206", "contact_flows": flows, "tags": { "app": "connect" } }),
    );
    let created = number.create(&nc, &desired0).await.unwrap();
    let id = created.id.clone();
    assert_eq!(out(&created, "phone_number"), "+12065550142");
    assert_eq!(out(&created, "id"), id);
    assert!(out(&created, "arn").starts_with(&format!("arn:aws:connect:{SOURCE}:123456789012:phone-number/")));
    // Associated once in the source region; the mirror made the replica's association.
    assert_eq!(env.admin.count(Some("connect"), Some("AssociatePhoneNumberContactFlow"), Some(REPLICA)).await.unwrap(), 0);
    assert_eq!(env.admin.count(Some("connect"), Some("AssociatePhoneNumberContactFlow"), Some(SOURCE)).await.unwrap(), 1);
    assert_eq!(associated_in(REPLICA).await, vec![flow_ids[0].clone()]);
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

    // Flows and tags change in place; the replica follows the new association.
    let mut desired1 = desired0.clone();
    desired1.insert("contact_flows".into(), json!([{ "instance_id": out(&i, "id"), "contact_flow_id": flow_ids[1] }]));
    desired1.insert("tags".into(), json!({ "app": "connect", "line": "main" }));
    let updated = number.update(&nc, &id, &desired0, &desired1, &changed(&["contact_flows", "tags"])).await.unwrap();
    assert_eq!(updated.properties["tags"], json!({ "app": "connect", "line": "main" }));
    assert_eq!(associated_in(SOURCE).await, vec![flow_ids[1].clone()]);
    assert_eq!(associated_in(REPLICA).await, vec![flow_ids[1].clone()]);
    let _ = &r;

    // An explicit number, claimed to the instance itself.
    env.admin
        .seed_phone_numbers(
            SOURCE,
            &[AvailableNumber { phone_number: "+18005550199".into(), country_code: "US".into(), number_type: "TOLL_FREE".into() }],
        )
        .await
        .unwrap();
    let xc = ctx("toll_free", SOURCE);
    let explicit = props(json!({ "target_arn": out(&i, "arn"), "phone_number": "+18005550199" }));
    let x = number.create(&xc, &explicit).await.unwrap();
    assert_eq!(out(&x, "phone_number"), "+18005550199");
    assert_eq!(x.properties["target_arn"], json!(out(&i, "arn")));
    // Moved to the group in place (UpdatePhoneNumber keeps the number), then associated there.
    let mut moved = explicit.clone();
    moved.insert("target_arn".into(), json!(group_arn));
    moved.insert("contact_flows".into(), json!([{ "instance_id": out(&i, "id"), "contact_flow_id": flow_ids[0] }]));
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
    let rules = ["instance", "replica", "traffic-distribution-group", "traffic-distribution", "phone-number"]
        .iter()
        .map(|k| LatencyRule::kind("connect", k, 400, 300))
        .collect();
    env.admin.set_latency(&LatencyConfig { scale: 1.0, rules }).await.unwrap();
    let (i, r) = replicated(&env, "tandem-slow").await;
    let west = env.aws.connect(REPLICA).await;
    let d = west.describe_instance().instance_id(out(&r, "id")).send().await.unwrap();
    assert_eq!(d.instance().unwrap().instance_status().unwrap().as_str(), "ACTIVE");

    let group = kind(&env.aws, "aws.connect.traffic_distribution_group");
    let gc = ctx("tdg", SOURCE);
    let g = group
        .create(
            &gc,
            &props(json!({ "name": "slow", "instance_id": out(&i, "arn"), "telephony_config": split(60), "agent_config": split(60) })),
        )
        .await
        .unwrap();
    // Created, distributed and ACTIVE again before create returns.
    assert_eq!(g.properties["telephony_config"], split(60));
    let east = env.aws.connect(SOURCE).await;
    let s = east.describe_traffic_distribution_group().traffic_distribution_group_id(&g.id).send().await.unwrap();
    assert_eq!(s.traffic_distribution_group().unwrap().status().unwrap().as_str(), "ACTIVE");

    let number = kind(&env.aws, "aws.connect.phone_number");
    let nc = ctx("n", SOURCE);
    let n = number
        .create(&nc, &props(json!({ "target_arn": out(&g, "arn"), "country_code": "US", "phone_number_type": "TOLL_FREE" })))
        .await
        .unwrap();
    let st = east.describe_phone_number().phone_number_id(&n.id).send().await.unwrap();
    assert_eq!(st.claimed_phone_number_summary().unwrap().phone_number_status().unwrap().status().unwrap().as_str(), "CLAIMED");

    number.delete(&nc, &n.id, &Default::default()).await.unwrap();
    group.delete(&gc, &g.id, &Default::default()).await.unwrap();
    // Gone, not PENDING_DELETION.
    let e = east.describe_traffic_distribution_group().traffic_distribution_group_id(&g.id).send().await.unwrap_err();
    assert_eq!(e.as_service_error().and_then(|e| aws_sdk_connect::error::ProvideErrorMetadata::code(e)), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn a_failed_replication_is_reported_with_its_reason() {
    let env = sandbox().await;
    env.admin.fail_next_replication(REPLICA, "The service-linked role could not be created in us-west-2").await.unwrap();
    let instance = kind(&env.aws, "aws.connect.instance");
    let i = instance
        .create(&ctx("src", SOURCE), &props(json!({ "identity_management_type": "SAML", "instance_alias": "tandem-fails", "inbound_calls_enabled": true, "outbound_calls_enabled": true })))
        .await
        .unwrap();
    let replica = kind(&env.aws, "aws.connect.replica");
    let e = replica
        .create(
            &ctx("src_replica", SOURCE),
            &props(json!({ "instance_id": out(&i, "id"), "replica_region": REPLICA, "replica_alias": "tandem-fails-west" })),
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("INSTANCE_REPLICATION_FAILED") && e.message.contains("service-linked role"), "{}", e.message);
    // What exists is kept (the state records it tainted), so the next apply replaces it.
    let partial = e.partial.expect("the failed replica is reported");
    assert_eq!(partial.id, format!("arn:aws:connect:{REPLICA}:123456789012:instance/{}", out(&i, "id")));
}

#[tokio::test]
async fn not_found_right_after_a_create_is_waited_out_never_created_twice() {
    let env = sandbox().await;
    env.admin.set_consistency(&[tandem_sim::latency::ConsistencyRule { service: "connect".into(), not_found_ms: 1200 }]).await.unwrap();
    let (i, _r) = replicated(&env, "tandem-eventual").await;
    let group = kind(&env.aws, "aws.connect.traffic_distribution_group");
    let g = group
        .create(&ctx("tdg", SOURCE), &props(json!({ "name": "eventual", "instance_id": out(&i, "id"), "telephony_config": split(50) })))
        .await
        .unwrap();
    let number = kind(&env.aws, "aws.connect.phone_number");
    number
        .create(&ctx("n", SOURCE), &props(json!({ "target_arn": out(&g, "arn"), "country_code": "US", "phone_number_type": "DID" })))
        .await
        .unwrap();
    let queue_hours = kind(&env.aws, "aws.connect.hours_of_operation");
    queue_hours
        .create(
            &ctx("hours", SOURCE),
            &props(json!({ "instance_id": out(&i, "id"), "name": "h", "time_zone": "UTC", "config": [{ "day": "MONDAY", "start_time": { "hours": 8, "minutes": 0 }, "end_time": { "hours": 17, "minutes": 0 } }] })),
        )
        .await
        .unwrap();
    for op in ["CreateInstance", "ReplicateInstance", "CreateTrafficDistributionGroup", "ClaimPhoneNumber", "CreateHoursOfOperation"] {
        assert_eq!(env.admin.count(Some("connect"), Some(op), None).await.unwrap(), 1, "{op} was sent once");
    }
    // And the waits did see NotFound.
    assert!(env.admin.count(Some("connect"), Some("DescribeInstance"), Some(SOURCE)).await.unwrap() > 2);
}

#[tokio::test]
async fn agents_join_a_group_once_mirrored_and_follow_its_agent_distribution() {
    let env = sandbox().await;
    let (i, _r) = replicated(&env, "tandem-agents").await;
    let iid = out(&i, "id");
    let group = kind(&env.aws, "aws.connect.traffic_distribution_group");
    let g = group
        .create(
            &ctx("tdg", SOURCE),
            &props(json!({ "name": "agents", "instance_id": iid, "telephony_config": split(50), "agent_config": split(50) })),
        )
        .await
        .unwrap();
    // An agent, declared once in the source instance, with the copy's wait.
    let east = env.aws.connect(SOURCE).await;
    let profiles = east.list_security_profiles().instance_id(&iid).send().await.unwrap();
    assert!(profiles.security_profile_summary_list().iter().any(|p| p.name() == Some("Agent")));
    let rps = east.list_routing_profiles().instance_id(&iid).send().await.unwrap();
    let basic =
        rps.routing_profile_summary_list().iter().find(|p| p.name() == Some("Basic Routing Profile")).unwrap().id().unwrap().to_string();
    let user = kind(&env.aws, "aws.connect.user");
    let u = user
        .create(
            &ctx("agent", SOURCE),
            &props(json!({ "instance_id": iid, "username": "agent1", "phone_config": { "phone_type": "SOFT_PHONE" }, "routing_profile_id": basic, "security_profile_names": ["Agent"] })),
        )
        .await
        .unwrap();
    let member = kind(&env.aws, "aws.connect.traffic_distribution_group_user");
    let c = ctx("agent_in_group", SOURCE);
    let desired = props(json!({ "traffic_distribution_group_id": out(&g, "arn"), "instance_id": iid, "user_id": out(&u, "id") }));
    let m = member.create(&c, &desired).await.unwrap();
    assert_eq!(m.id, format!("{}|{iid}|{}", out(&g, "arn"), out(&u, "id")));
    assert_eq!(member.read(&c, &m.id).await.unwrap().unwrap().properties["user_id"], json!(out(&u, "id")));
    // boto3 sees the association.
    let listed = boto3(
        &env.sandbox.url(),
        &format!("print(json.dumps(c('connect').list_traffic_distribution_group_users(TrafficDistributionGroupId='{}')['TrafficDistributionGroupUserSummaryList']))", g.id),
    )
    .await;
    assert_eq!(listed, json!([{ "UserId": out(&u, "id") }]));
    // All agents to the replica region: the associated agent moves.
    let updated = group
        .update(
            &ctx("tdg", SOURCE),
            &g.id,
            &g.properties,
            &props(json!({ "name": "agents", "instance_id": iid, "telephony_config": split(0), "agent_config": split(0) })),
            &changed(&["telephony_config", "agent_config"]),
        )
        .await
        .unwrap();
    assert_eq!(updated.properties["agent_config"], split(0));
    let view = env.admin.connect_agents().await.unwrap();
    let agents = view["groups"].as_array().unwrap().iter().find(|x| x["Id"] == g.id.as_str()).unwrap()["Agents"].clone();
    assert_eq!(agents, json!([{ "UserId": out(&u, "id"), "Username": "agent1", "Region": REPLICA }]));
    member.delete(&c, &m.id, &desired).await.unwrap();
    assert!(member.read(&c, &m.id).await.unwrap().is_none());
    member.delete(&c, &m.id, &desired).await.unwrap();
}
