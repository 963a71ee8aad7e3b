//! Amazon Connect contact routing kinds (hours of operation, queue, flow,
//! routing profile, user) through the `ResourceKind` trait, against the
//! tandem sandbox over HTTP with the official SDK, checked with boto3.

mod connect_common;

use connect_common::{boto3, changed, ctx, kind, props, sandbox, Env, SOURCE};
use serde_json::{json, Map, Value};
use tandem_provider::{ErrorClass, Observed};

fn out(o: &Observed, name: &str) -> String {
    o.outputs.get(name).and_then(Value::as_str).unwrap_or_else(|| panic!("output {name} in {:?}", o.outputs)).to_string()
}

async fn instance(env: &Env, alias: &str) -> String {
    let i = kind(&env.aws, "aws.connect.instance")
        .create(&ctx(alias, SOURCE), &props(json!({ "identity_management_type": "CONNECT_MANAGED", "instance_alias": alias, "inbound_calls_enabled": true, "outbound_calls_enabled": true })))
        .await
        .expect("instance");
    out(&i, "id")
}

fn weekdays(start: i64, end: i64) -> Value {
    json!(["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
        .iter()
        .map(|d| json!({"day": d, "start_time": {"hours": start, "minutes": 0}, "end_time": {"hours": end, "minutes": 0}}))
        .collect::<Vec<_>>())
}

/// Does `current` (a read) hold every field of `desired` as the engine compares them?
fn satisfies(kind_name: &str, env: &Env, desired: &Map<String, Value>, current: &Map<String, Value>) -> bool {
    let k = kind(&env.aws, kind_name);
    tandem_core::plan::diff_fields(k.schema(), desired, &Default::default(), current, desired).is_empty()
}

const FLOW_TEXT: &str = "{\n  \"Version\": \"2019-10-30\",\n  \"StartAction\": \"hello\",\n  \"Actions\": [\n    {\"Identifier\": \"hello\", \"Type\": \"MessageParticipant\", \"Parameters\": {\"Text\": \"Thanks for calling\"}, \"Transitions\": {\"NextAction\": \"bye\"}},\n    {\"Identifier\": \"bye\", \"Type\": \"DisconnectParticipant\", \"Parameters\": {}, \"Transitions\": {}}\n  ]\n}\n";

#[tokio::test]
async fn routing_objects_create_read_update_import_delete() {
    let env = sandbox().await;
    let iid = instance(&env, "routing").await;
    let (hours_k, queue_k, flow_k, rp_k, user_k) = (
        kind(&env.aws, "aws.connect.hours_of_operation"),
        kind(&env.aws, "aws.connect.queue"),
        kind(&env.aws, "aws.connect.contact_flow"),
        kind(&env.aws, "aws.connect.routing_profile"),
        kind(&env.aws, "aws.connect.user"),
    );

    // Hours: create, read back as given, update in place.
    let c = ctx("hours.office", SOURCE);
    let hp = props(
        json!({"instance_id": iid, "name": "office", "time_zone": "America/New_York", "config": weekdays(9, 17), "tags": {"team": "cc"}}),
    );
    let hours = hours_k.create(&c, &hp).await.unwrap();
    assert!(
        hours.id.starts_with("arn:aws:connect:us-east-1:") && hours.id.contains(&format!("instance/{iid}/operating-hours/")),
        "{}",
        hours.id
    );
    assert!(satisfies("aws.connect.hours_of_operation", &env, &hp, &hours.properties), "{:?}", hours.properties);
    let hp2 = props(
        json!({"instance_id": iid, "name": "office", "time_zone": "America/Chicago", "config": weekdays(8, 18), "tags": {"team": "cc"}}),
    );
    let h2 = hours_k.update(&c, &hours.id, &hours.properties, &hp2, &changed(&["time_zone", "config"])).await.unwrap();
    assert!(satisfies("aws.connect.hours_of_operation", &env, &hp2, &h2.properties), "{:?}", h2.properties);
    let hours_id = out(&hours, "id");

    // Queues: create, rename, cap.
    let qc = ctx("queue.support", SOURCE);
    let qp = props(
        json!({"instance_id": iid, "name": "support", "description": "Support line", "hours_of_operation_id": hours_id, "max_contacts": 50}),
    );
    let q = queue_k.create(&qc, &qp).await.unwrap();
    assert!(satisfies("aws.connect.queue", &env, &qp, &q.properties), "{:?}", q.properties);
    let qp2 = props(
        json!({"instance_id": iid, "name": "support-tier1", "description": "Support line", "hours_of_operation_id": hours_id, "max_contacts": 80, "tags": {"tier": "1"}}),
    );
    let q2 = queue_k.update(&qc, &q.id, &q.properties, &qp2, &changed(&["name", "max_contacts", "tags"])).await.unwrap();
    assert!(satisfies("aws.connect.queue", &env, &qp2, &q2.properties), "{:?}", q2.properties);
    let queue_id = out(&q, "id");
    let sales = queue_k
        .create(&ctx("queue.sales", SOURCE), &props(json!({"instance_id": iid, "name": "sales", "hours_of_operation_id": hours_id})))
        .await
        .unwrap();
    let sales_id = out(&sales, "id");

    // A flow written as JSON text is the same document as the YAML mapping.
    let fc = ctx("flow.inbound", SOURCE);
    let fp = props(json!({"instance_id": iid, "name": "inbound", "content": FLOW_TEXT}));
    let flow = flow_k.create(&fc, &fp).await.unwrap();
    assert!(satisfies("aws.connect.contact_flow", &env, &fp, &flow.properties), "{:?}", flow.properties);
    let as_mapping: Value = serde_json::from_str(FLOW_TEXT).unwrap();
    assert!(satisfies(
        "aws.connect.contact_flow",
        &env,
        &props(json!({"instance_id": iid, "name": "inbound", "content": as_mapping})),
        &flow.properties
    ));
    assert_eq!(flow.properties["type"], "CONTACT_FLOW");
    let fp2 = props(json!({"instance_id": iid, "name": "inbound", "content": FLOW_TEXT.replace("Thanks for calling", "Welcome")}));
    assert!(!satisfies("aws.connect.contact_flow", &env, &fp2, &flow.properties), "a changed greeting is a change");
    let flow2 = flow_k.update(&fc, &flow.id, &flow.properties, &fp2, &changed(&["content"])).await.unwrap();
    assert!(satisfies("aws.connect.contact_flow", &env, &fp2, &flow2.properties));

    // Routing profile: queue associations follow the spec in place.
    let rc = ctx("routing.agents", SOURCE);
    let voice = |q: &str, p: i64| json!({"queue_id": q, "channel": "VOICE", "priority": p, "delay": 0});
    let rp = props(json!({"instance_id": iid, "name": "agents", "description": "Front line", "default_outbound_queue_id": queue_id,
        "media_concurrencies": [{"channel": "VOICE", "concurrency": 1}], "queue_configs": [voice(&queue_id, 1)]}));
    let r = rp_k.create(&rc, &rp).await.unwrap();
    assert!(satisfies("aws.connect.routing_profile", &env, &rp, &r.properties), "{:?}", r.properties);
    let mut rp2 = rp.clone();
    rp2.insert("queue_configs".into(), json!([voice(&queue_id, 2), voice(&sales_id, 1)]));
    rp2.insert("media_concurrencies".into(), json!([{"channel": "VOICE", "concurrency": 1}, {"channel": "CHAT", "concurrency": 3}]));
    let r2 = rp_k.update(&rc, &r.id, &r.properties, &rp2, &changed(&["queue_configs", "media_concurrencies"])).await.unwrap();
    assert!(satisfies("aws.connect.routing_profile", &env, &rp2, &r2.properties), "{:?}", r2.properties);
    let mut rp3 = rp2.clone();
    rp3.insert("queue_configs".into(), json!([voice(&sales_id, 1)]));
    rp3.insert("default_outbound_queue_id".into(), json!(sales_id));
    let r3 = rp_k.update(&rc, &r.id, &r2.properties, &rp3, &changed(&["queue_configs", "default_outbound_queue_id"])).await.unwrap();
    assert!(satisfies("aws.connect.routing_profile", &env, &rp3, &r3.properties), "{:?}", r3.properties);
    let rp_id = out(&r, "id");

    // Users: security profiles by name, phone config and profile in place.
    let uc = ctx("agent.alice", SOURCE);
    let up = props(
        json!({"instance_id": iid, "username": "alice", "password": "Sandbox-Pass-1", "identity_info": {"first_name": "Alice", "last_name": "Agent"},
        "phone_config": {"phone_type": "SOFT_PHONE", "auto_accept": false, "after_contact_work_time_limit": 30}, "routing_profile_id": rp_id, "security_profile_names": ["Agent"]}),
    );
    let u = user_k.create(&uc, &up).await.unwrap();
    assert!(u.properties.get("password").is_none(), "passwords are never read back");
    let mut up_read = up.clone();
    up_read.remove("password");
    assert!(satisfies("aws.connect.user", &env, &up_read, &u.properties), "{:?}", u.properties);
    let mut up2 = up_read.clone();
    up2.insert(
        "phone_config".into(),
        json!({"phone_type": "DESK_PHONE", "desk_phone_number": "+12065550199", "auto_accept": true, "after_contact_work_time_limit": 0}),
    );
    up2.insert("security_profile_names".into(), json!(["CallCenterManager", "Agent"]));
    let u2 = user_k.update(&uc, &u.id, &u.properties, &up2, &changed(&["phone_config", "security_profile_names"])).await.unwrap();
    assert!(satisfies("aws.connect.user", &env, &up2, &u2.properties), "{:?}", u2.properties);
    let mut bad = up2.clone();
    bad.insert("security_profile_names".into(), json!(["Agnet"]));
    let e = user_k.update(&uc, &u.id, &u2.properties, &bad, &changed(&["security_profile_names"])).await.unwrap_err();
    assert!(e.message.contains("no security profile named Agnet") && e.message.contains("Agent"), "{e:?}");

    // boto3 sees the same contact routing.
    let seen = boto3(
        &env.sandbox.url(),
        &format!(
            "cl = c('connect')\nu = cl.describe_user(InstanceId='{iid}', UserId='{uid}')['User']\n\
             q = cl.list_routing_profile_queues(InstanceId='{iid}', RoutingProfileId='{rp_id}')['RoutingProfileQueueConfigSummaryList']\n\
             sp = {{s['Id']: s['Name'] for s in cl.list_security_profiles(InstanceId='{iid}')['SecurityProfileSummaryList']}}\n\
             f = cl.describe_contact_flow(InstanceId='{iid}', ContactFlowId='{fid}')['ContactFlow']\n\
             print(json.dumps({{'rp': u['RoutingProfileId'], 'phone': u['PhoneConfig']['PhoneType'], 'profiles': sorted(sp[i] for i in u['SecurityProfileIds']),\n\
               'queues': [[x['QueueName'], x['Channel'], x['Priority']] for x in q], 'greeting': json.loads(f['Content'])['Actions'][0]['Parameters']['Text']}}))",
            uid = out(&u, "id"),
            fid = out(&flow, "id"),
        ),
    )
    .await;
    assert_eq!(
        seen,
        json!({"rp": rp_id, "phone": "DESK_PHONE", "profiles": ["Agent", "CallCenterManager"], "queues": [["sales", "VOICE", 1]], "greeting": "Welcome"})
    );

    // Import by ARN; anything else is refused with the form it takes.
    let imported = queue_k.import(&qc, &q.id).await.unwrap().expect("the queue exists");
    assert_eq!(out(&imported, "id"), queue_id);
    let e = queue_k.import(&qc, &queue_id).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Invalid);
    assert!(e.message.contains("instance/INSTANCE_ID/queue/ID"), "{e:?}");
    let e = queue_k.import(&qc, &hours.id).await.unwrap_err();
    assert!(e.message.contains("is not the ARN of a queue"), "{e:?}");

    // A re-run after a crash adopts what it made; someone else's object of that name is refused.
    let again = queue_k
        .create(&ctx("queue.sales", SOURCE), &props(json!({"instance_id": iid, "name": "sales", "hours_of_operation_id": hours_id})))
        .await
        .unwrap();
    assert_eq!(again.id, sales.id);
    let e = queue_k
        .create(&ctx("queue.other", SOURCE), &props(json!({"instance_id": iid, "name": "sales", "hours_of_operation_id": hours_id})))
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Conflict);
    assert!(e.message.contains(&format!("tandem import queue.other {}", sales.id)), "{e:?}");

    // Deletes: what is in use is refused, dependents first works, gone reads as None.
    let e = hours_k.delete(&c, &hours.id, &h2.properties).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Conflict, "{e:?}");
    for (k, o) in [(&user_k, &u), (&rp_k, &r), (&queue_k, &q), (&queue_k, &sales), (&flow_k, &flow), (&hours_k, &hours)] {
        k.delete(&ctx("x", SOURCE), &o.id, &Map::new()).await.unwrap_or_else(|e| panic!("delete {}: {e:?}", o.id));
        assert!(k.read(&ctx("x", SOURCE), &o.id).await.unwrap().is_none(), "{} is gone", o.id);
        k.delete(&ctx("x", SOURCE), &o.id, &Map::new()).await.expect("deleting what is gone succeeds");
    }
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn routing_objects_are_checked_before_any_call() {
    let env = sandbox().await;
    let problems = |k: &str, p: Value| -> Vec<String> {
        kind(&env.aws, k).validate(Some(SOURCE), &props(p)).into_iter().map(|i| format!("{}: {}", i.field, i.message)).collect()
    };
    let flow = problems("aws.connect.contact_flow", json!({"instance_id": "i", "name": "f", "content": "{not json"}));
    assert!(flow.iter().any(|m| m.starts_with("content: the flow is not JSON")), "{flow:?}");
    let flow = problems(
        "aws.connect.contact_flow",
        json!({"instance_id": "i", "name": "f", "content": {"Version": "2019-10-30", "StartAction": "x", "Actions": []}}),
    );
    assert!(flow.iter().any(|m| m.contains("StartAction` x is not the Identifier")), "{flow:?}");
    let arn = problems(
        "aws.connect.queue",
        json!({"instance_id": "arn:aws:connect:us-east-1:123456789012:instance/abc", "name": "q", "hours_of_operation_id": "h"}),
    );
    assert!(arn.iter().any(|m| m.starts_with("instance_id: give the instance's id")), "{arn:?}");
    let hours = problems(
        "aws.connect.hours_of_operation",
        json!({"instance_id": "i", "name": "h", "time_zone": "UTC", "config": [{"day": "MONDAY", "start_time": {"hours": 17, "minutes": 0}, "end_time": {"hours": 9, "minutes": 0}}]}),
    );
    assert!(hours.iter().any(|m| m.contains("MONDAY: the period ends (09:00) before it starts (17:00)")), "{hours:?}");
    let midnight = problems(
        "aws.connect.hours_of_operation",
        json!({"instance_id": "i", "name": "h", "time_zone": "UTC", "config": [{"day": "MONDAY", "start_time": {"hours": 0, "minutes": 0}, "end_time": {"hours": 0, "minutes": 0}}]}),
    );
    assert!(midnight.is_empty(), "00:00-00:00 is the whole day: {midnight:?}");
    let desk = problems(
        "aws.connect.user",
        json!({"instance_id": "i", "username": "u", "phone_config": {"phone_type": "DESK_PHONE"}, "routing_profile_id": "r", "security_profile_names": ["Agent"]}),
    );
    assert!(desk.iter().any(|m| m.contains("DESK_PHONE needs desk_phone_number")), "{desk:?}");
    env.sandbox.shutdown().await;
}

/// Progress that keeps the remarks a read makes.
#[derive(Default)]
struct Remarks(std::sync::Mutex<Vec<String>>);

impl tandem_provider::Progress for Remarks {
    fn message(&self, _: &str, _: String) {}
    fn remark(&self, _: &str, message: String) {
        self.0.lock().unwrap().push(message);
    }
}

#[tokio::test]
async fn routing_declared_once_is_mirrored_and_drift_in_either_region_shows() {
    use connect_common::REPLICA;
    use tandem_sim::latency::{LatencyConfig, LatencyRule};
    let env = sandbox().await;
    let i = kind(&env.aws, "aws.connect.instance")
        .create(&ctx("cc", SOURCE), &props(json!({ "identity_management_type": "SAML", "instance_alias": "mirrored", "inbound_calls_enabled": true, "outbound_calls_enabled": true })))
        .await
        .unwrap();
    let iid = out(&i, "id");
    kind(&env.aws, "aws.connect.replica")
        .create(
            &ctx("cc_replica", SOURCE),
            &props(json!({ "instance_id": iid, "replica_region": REPLICA, "replica_alias": "mirrored-west" })),
        )
        .await
        .unwrap();
    // Copies take a moment, as on AWS ("near real-time").
    env.admin.set_latency(&LatencyConfig { scale: 1.0, rules: vec![LatencyRule::kind("connect", "mirror", 700, 0)] }).await.unwrap();
    let hours = kind(&env.aws, "aws.connect.hours_of_operation")
        .create(&ctx("hours", SOURCE), &props(json!({"instance_id": iid, "name": "office", "time_zone": "UTC", "config": weekdays(9, 17)})))
        .await
        .unwrap();
    let queue_k = kind(&env.aws, "aws.connect.queue");
    let qc = ctx("queue", SOURCE);
    let qp =
        props(json!({"instance_id": iid, "name": "support", "description": "Support line", "hours_of_operation_id": out(&hours, "id")}));
    let q = queue_k.create(&qc, &qp).await.unwrap();
    let flow = kind(&env.aws, "aws.connect.contact_flow")
        .create(&ctx("flow", SOURCE), &props(json!({"instance_id": iid, "name": "inbound", "content": FLOW_TEXT})))
        .await
        .unwrap();
    // Created means copied: the replica has each under the same id, right away.
    assert_eq!(out(&q, "replica_arn"), out(&q, "arn").replace(SOURCE, REPLICA));
    assert_eq!(out(&q, "any_region_arn"), out(&q, "arn").replace(SOURCE, "$.AwsRegion"));
    let seen = boto3(
        &env.sandbox.url(),
        &format!(
            "w = c('connect', '{REPLICA}')\nprint(json.dumps([w.describe_queue(InstanceId='{iid}', QueueId='{q}')['Queue']['Name'], w.describe_hours_of_operation(InstanceId='{iid}', HoursOfOperationId='{h}')['HoursOfOperation']['Name'], w.describe_contact_flow(InstanceId='{iid}', ContactFlowId='{f}')['ContactFlow']['Name']]))",
            q = out(&q, "id"),
            h = out(&hours, "id"),
            f = out(&flow, "id"),
        ),
    )
    .await;
    assert_eq!(seen, json!(["support", "office", "inbound"]));
    // Nothing was created in the replica region by tandem.
    assert_eq!(env.admin.count(Some("connect"), Some("CreateQueue"), Some(REPLICA)).await.unwrap(), 0);

    // Someone changes the copy in the replica region: the next read shows it, and says where.
    let west = env.aws.connect(REPLICA).await;
    west.update_queue_name().instance_id(&iid).queue_id(out(&q, "id")).description("changed in Oregon").send().await.unwrap();
    let remarks = std::sync::Arc::new(Remarks::default());
    let mut rc = qc.clone();
    rc.progress = remarks.clone();
    let read = queue_k.read(&rc, &q.id).await.unwrap().unwrap();
    assert_eq!(read.properties["description"], json!("changed in Oregon"));
    assert!(
        remarks.0.lock().unwrap().iter().any(|m| m.contains("`description` differs in the copy in us-west-2")),
        "{:?}",
        remarks.0.lock().unwrap()
    );
    assert!(!satisfies("aws.connect.queue", &env, &qp, &read.properties), "the plan shows the drift");
    // Apply writes the spec's value in the source; the mirror carries it over, and update waits for that.
    let fixed = queue_k.update(&qc, &q.id, &read.properties, &qp, &changed(&["description"])).await.unwrap();
    assert!(satisfies("aws.connect.queue", &env, &qp, &fixed.properties));
    let copy = west.describe_queue().instance_id(&iid).queue_id(out(&q, "id")).send().await.unwrap();
    assert_eq!(copy.queue().unwrap().description(), Some("Support line"));

    // A delete goes to both regions before it returns.
    queue_k.delete(&qc, &q.id, &qp).await.unwrap();
    assert!(west.describe_queue().instance_id(&iid).queue_id(out(&q, "id")).send().await.is_err());
}
