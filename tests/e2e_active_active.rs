//! The reference stack end to end: `tandem sandbox --moto` (tandem-sim in
//! front of moto) and the real `tandem` binary applying
//! specs/active-active.yaml, checked by boto3: apply from empty, no-change
//! plan, drift in the traffic distribution and its repair, destroy that
//! leaves nothing, import of an instance and a group made outside tandem, and
//! the same apply with the sandbox's latency model on.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn venv() -> PathBuf {
    std::env::var_os("TANDEM_VENV").map(PathBuf::from).unwrap_or_else(|| root().join(".venv"))
}

struct Sandbox {
    child: Child,
    url: String,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // SIGTERM lets the sandbox stop its moto child.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

fn sandbox() -> Sandbox {
    if !venv().join("bin/moto_server").exists() {
        assert!(Command::new("bash").arg(root().join("scripts/python-env.sh")).status().unwrap().success());
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["sandbox", "--moto", "--port", "0", "--venv"])
        .arg(venv())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_else(|| panic!("no URL in {line:?}")).to_string();
    Sandbox { child, url }
}

struct Run {
    dir: tempfile::TempDir,
    sb: Sandbox,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Run {
    fn new() -> Run {
        let dir = tempfile::tempdir().unwrap();
        for f in ["active-active.yaml", "active-active.vars.yaml"] {
            std::fs::copy(root().join("specs").join(f), dir.path().join(f)).unwrap();
        }
        // The controller's Lambda package. moto stores the code without running
        // it, so any zip serves; the handler itself is tested in
        // crates/tandem-failover-lambda/tests/handler.rs.
        let zip = dir.path().join("controller.zip");
        let o = Command::new(venv().join("bin/python"))
            .arg("-c")
            .arg("import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z: z.writestr('bootstrap', '#!/bin/sh\\n')")
            .arg(&zip)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        // The files the spec reads with `${file(...)}`, relative to it.
        std::fs::create_dir_all(dir.path().join("flows")).unwrap();
        for entry in std::fs::read_dir(root().join("specs/flows")).unwrap() {
            let p = entry.unwrap().path();
            std::fs::copy(&p, dir.path().join("flows").join(p.file_name().unwrap())).unwrap();
        }
        let run = Run { dir, sb: sandbox() };
        // The numbers the spec claims must be available to claim.
        run.admin(
            "POST",
            "/_tandem/seed/phone-numbers",
            json!({"region": "us-east-1", "numbers": [
                {"PhoneNumber": "+12065550100", "PhoneNumberCountryCode": "US", "PhoneNumberType": "DID"},
                {"PhoneNumber": "+12065550101", "PhoneNumberCountryCode": "US", "PhoneNumberType": "DID"}]}),
        );
        run
    }
    fn tandem(&self, args: &[&str]) -> Output {
        let mut all = vec!["--spec", "active-active.yaml", "--var-file", "active-active.vars.yaml", "--var", "controller_zip=controller.zip"];
        if args[0] == "import" {
            all.clear();
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.arg(args[0]).args(&all).args(&args[1..]);
        cmd.current_dir(self.dir.path())
            .env("AWS_ENDPOINT_URL", &self.sb.url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
    fn ok(&self, args: &[&str]) -> String {
        let o = self.tandem(args);
        assert!(o.status.success(), "tandem {args:?}: {}\n{}", text(&o.stdout), text(&o.stderr));
        text(&o.stdout)
    }
    fn py(&self, script: &str) -> Value {
        let prelude = format!(
            "import boto3, json, urllib.request\nE='{}'\ndef c(s, r='us-east-1'): return boto3.client(s, region_name=r, endpoint_url=E, aws_access_key_id='testing', aws_secret_access_key='testing')\n",
            self.sb.url
        );
        let o = Command::new(venv().join("bin/python")).arg("-c").arg(format!("{prelude}{script}")).output().unwrap();
        assert!(o.status.success(), "python: {}", text(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("no JSON ({e}): {}", text(&o.stdout)))
    }
    fn admin(&self, method: &str, path: &str, body: Value) -> Value {
        self.py(&format!(
            "req = urllib.request.Request(E + '{path}', data=json.dumps({body}).encode(), method='{method}', headers={{'content-type': 'application/json'}})\nprint(urllib.request.urlopen(req).read().decode() or '{{}}')",
            body = serde_json::to_string(&body.to_string()).unwrap().trim_matches('"').replace("\\\"", "\"")
        ))
    }
}

/// What boto3 sees of the contact center.
const INSPECT: &str = r#"
east, west = c('connect'), c('connect', 'us-west-2')
out = {'instances': {}, 'groups': [], 'numbers': [], 'streams': {}, 'alarms': {}, 'dashboards': []}
for region, cl in (('us-east-1', east), ('us-west-2', west)):
    out['instances'][region] = [{'alias': i.get('InstanceAlias'), 'status': i['InstanceStatus'], 'id': i['Id']} for i in cl.list_instances()['InstanceSummaryList']]
    out['streams'][region] = sorted(c('kinesis', region).list_streams()['StreamNames'])
    out['alarms'][region] = sorted(a['AlarmName'] for a in c('cloudwatch', region).describe_alarms()['MetricAlarms'])
out['dashboards'] = [d['DashboardName'] for d in c('cloudwatch').list_dashboards()['DashboardEntries']]
# The failover controller: a role, and in each region a function on a one-minute schedule that may invoke it.
out['controller'] = {'roles': [r['RoleName'] for r in c('iam').list_roles()['Roles'] if r['RoleName'].startswith('contact-center')]}
for region in ('us-east-1', 'us-west-2'):
    lam, ev = c('lambda', region), c('events', region)
    fns = lam.list_functions()['Functions']
    out['controller'][region] = [{'name': f['FunctionName'], 'role': f['Role'].split('/')[-1], 'env': sorted(f.get('Environment', {}).get('Variables', {})),
        'schedule': [ev.describe_rule(Name=r)['ScheduleExpression'] for r in ev.list_rule_names_by_target(TargetArn=f['FunctionArn'])['RuleNames']],
        'invokers': [s['Principal']['Service'] for s in json.loads(lam.get_policy(FunctionName=f['FunctionName'])['Policy'])['Statement']]} for f in fns]
out['tables'] = {n: [[r['RegionName'], r['ReplicaStatus']] for r in c('dynamodb').describe_table(TableName=n)['Table'].get('Replicas', [])] for n in c('dynamodb').list_tables()['TableNames']}
for g in east.list_traffic_distribution_groups()['TrafficDistributionGroupSummaryList']:
    d = east.get_traffic_distribution(Id=g['Arn']) if g['Status'] == 'ACTIVE' else {}
    out['groups'].append({'name': g['Name'], 'default': g['IsDefault'], 'status': g['Status'], 'arn': g['Arn'],
        'telephony': {x['Region']: x['Percentage'] for x in d.get('TelephonyConfig', {}).get('Distributions', [])},
        'agents': {x['Region']: x['Percentage'] for x in d.get('AgentConfig', {}).get('Distributions', [])}})
for n in east.list_phone_numbers_v2()['ListPhoneNumbersSummaryList']:
    out['numbers'].append({'number': n['PhoneNumber'], 'target': n.get('TargetArn')})
# Contact routing, per region: names of each kind, the routing profile's queues, the users' profiles, and which flow each number starts.
out['routing'] = {}
for region, cl in (('us-east-1', east), ('us-west-2', west)):
    for i in cl.list_instances()['InstanceSummaryList']:
        iid = i['Id']
        flows = {f['Id']: f['Name'] for f in cl.list_contact_flows(InstanceId=iid)['ContactFlowSummaryList']}
        rps = cl.list_routing_profiles(InstanceId=iid)['RoutingProfileSummaryList']
        users = [cl.describe_user(InstanceId=iid, UserId=u['Id'])['User'] for u in cl.list_users(InstanceId=iid)['UserSummaryList']]
        out['routing'][region] = {
            'hours': sorted(h['Name'] for h in cl.list_hours_of_operations(InstanceId=iid)['HoursOfOperationSummaryList']),
            'queues': sorted(q['Name'] for q in cl.list_queues(InstanceId=iid, QueueTypes=['STANDARD'])['QueueSummaryList']),
            'flows': sorted(flows.values()),
            'profiles': {r['Name']: sorted([q['QueueName'], q['Channel'], q['Priority']] for q in cl.list_routing_profile_queues(InstanceId=iid, RoutingProfileId=r['Id'])['RoutingProfileQueueConfigSummaryList']) for r in rps},
            'users': sorted(u['Username'] for u in users),
            'numbers': sorted(flows.get(a['FlowId'].split('/')[-1], a['FlowId']) for a in cl.list_flow_associations(InstanceId=iid, ResourceType='VOICE_PHONE_NUMBER')['FlowAssociationSummaryList']),
        }
print(json.dumps(out))
"#;

#[test]
fn reference_stack_apply_drift_destroy() {
    let run = Run::new();
    assert!(run.ok(&["validate"]).contains("is valid"));
    let out = run.ok(&["apply", "--auto-approve"]);
    assert!(out.contains("Apply complete"), "{out}");
    let seen = run.py(INSPECT);
    let east = &seen["instances"]["us-east-1"];
    assert_eq!(east[0]["alias"], "acme-contact-center", "{seen}");
    assert_eq!(east[0]["status"], "ACTIVE");
    assert_eq!(seen["instances"]["us-west-2"][0]["alias"], "acme-contact-center-replica", "{seen}");
    let group = seen["groups"].as_array().unwrap().iter().find(|g| g["name"] == "contact-center-tdg").unwrap_or_else(|| panic!("{seen}"));
    assert_eq!(group["telephony"], json!({"us-east-1": 50, "us-west-2": 50}));
    assert_eq!(group["agents"], json!({"us-east-1": 50, "us-west-2": 50}));
    assert_eq!(seen["streams"]["us-west-2"], json!(["contact-center-agent-events-secondary", "contact-center-ctr-secondary"]));
    assert_eq!(
        seen["alarms"]["us-west-2"],
        json!(["contact-center-missed-calls-us-west-2", "contact-center-packet-loss-us-west-2", "contact-center-throttled-calls-us-west-2"])
    );
    assert_eq!(seen["dashboards"], json!(["contact-center"]), "{seen}");
    assert_eq!(seen["tables"]["contact-center-agent-state"], json!([["us-west-2", "ACTIVE"]]), "the agent-state global table has its replica: {seen}");
    let numbers: Vec<&str> = seen["numbers"].as_array().unwrap().iter().filter(|n| n["target"] == group["arn"]).filter_map(|n| n["number"].as_str()).collect();
    assert_eq!(numbers.len(), 2, "both numbers are claimed to the group: {seen}");
    // The controller runs in both regions, every minute, as the role.
    assert_eq!(seen["controller"]["roles"], json!(["contact-center-failover-controller"]), "{seen}");
    for (region, which) in [("us-east-1", "primary"), ("us-west-2", "secondary")] {
        let f = &seen["controller"][region];
        assert_eq!(f[0]["name"], format!("contact-center-failover-{which}"), "{seen}");
        assert_eq!(f[0]["role"], "contact-center-failover-controller");
        assert_eq!(f[0]["schedule"], json!(["rate(1 minute)"]));
        assert_eq!(f[0]["invokers"], json!(["events.amazonaws.com"]));
        assert!(f[0]["env"].as_array().unwrap().contains(&json!("TANDEM_GROUP_ARN")), "{seen}");
    }
    // The same contact routing in both regions, and both numbers start the inbound flow in each.
    for region in ["us-east-1", "us-west-2"] {
        assert_eq!(
            seen["routing"][region],
            json!({"hours": ["business-hours"], "queues": ["sales", "support"], "flows": ["after-hours", "inbound"],
                "profiles": {"front-line": [["sales", "VOICE", 2], ["support", "CHAT", 1], ["support", "VOICE", 1]]},
                "users": ["alice", "bob"], "numbers": ["inbound", "inbound"]}),
            "{region}: {seen}"
        );
    }

    // A second plan has nothing to do.
    let o = run.tandem(&["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));

    // A manual failover left in place is drift; apply restores 50/50.
    run.py(&format!(
        "c('connect').update_traffic_distribution(Id='{}', TelephonyConfig={{'Distributions': [{{'Region': 'us-east-1', 'Percentage': 0}}, {{'Region': 'us-west-2', 'Percentage': 100}}]}})\nprint('{{}}')",
        group["arn"].as_str().unwrap()
    ));
    let o = run.tandem(&["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2));
    let plan = text(&o.stdout);
    assert!(plan.contains("~ traffic_distribution_group (aws.connect.traffic_distribution_group, us-east-1) will be updated in place"), "{plan}");
    assert!(plan.contains("telephony_config"), "{plan}");
    run.ok(&["apply", "--auto-approve"]);
    let seen = run.py(INSPECT);
    let group = seen["groups"].as_array().unwrap().iter().find(|g| g["name"] == "contact-center-tdg").unwrap();
    assert_eq!(group["telephony"], json!({"us-east-1": 50, "us-west-2": 50}));

    // Destroy leaves nothing of it.
    let out = run.ok(&["destroy", "--auto-approve"]);
    assert!(out.contains("Destroy complete"), "{out}");
    let seen = run.py(INSPECT);
    assert_eq!(seen["instances"]["us-east-1"], json!([]), "{seen}");
    assert_eq!(seen["instances"]["us-west-2"], json!([]), "{seen}");
    assert!(seen["groups"].as_array().unwrap().iter().all(|g| g["name"] != "contact-center-tdg"), "{seen}");
    assert_eq!(seen["numbers"], json!([]), "{seen}");
    assert_eq!(seen["streams"]["us-east-1"], json!([]), "{seen}");
    assert_eq!(seen["alarms"]["us-east-1"], json!([]), "{seen}");
    assert_eq!(seen["dashboards"], json!([]), "{seen}");
    assert_eq!(seen["tables"], json!({}), "{seen}");
}

#[test]
fn import_an_instance_and_group_made_outside_tandem() {
    let run = Run::new();
    let made = run.py(
        r#"
import time
e = c('connect')
i = e.create_instance(IdentityManagementType='CONNECT_MANAGED', InstanceAlias='legacy-cc', InboundCallsEnabled=True, OutboundCallsEnabled=False)
while e.describe_instance(InstanceId=i['Id'])['Instance']['InstanceStatus'] != 'ACTIVE': time.sleep(0.05)
r = e.replicate_instance(InstanceId=i['Id'], ReplicaRegion='us-west-2', ReplicaAlias='legacy-cc-west')
w = c('connect', 'us-west-2')
while w.describe_instance(InstanceId=r['Arn'].split('/')[-1])['Instance']['InstanceStatus'] != 'ACTIVE': time.sleep(0.05)
g = e.create_traffic_distribution_group(Name='legacy-tdg', InstanceId=i['Arn'])
while e.describe_traffic_distribution_group(TrafficDistributionGroupId=g['Id'])['TrafficDistributionGroup']['Status'] != 'ACTIVE': time.sleep(0.05)
print(json.dumps({'instance': i['Id'], 'instance_arn': i['Arn'], 'group': g['Arn']}))
"#,
    );
    let spec = format!(
        "version: 1\nresources:\n  legacy:\n    type: aws.connect.instance\n    region: us-east-1\n    properties:\n      identity_management_type: CONNECT_MANAGED\n      instance_alias: legacy-cc\n      inbound_calls_enabled: true\n      outbound_calls_enabled: true\n  legacy_tdg:\n    type: aws.connect.traffic_distribution_group\n    region: us-east-1\n    properties:\n      name: legacy-tdg\n      instance_id: {}\n      telephony_config:\n        distributions: [{{ region: us-east-1, percentage: 50 }}, {{ region: us-west-2, percentage: 50 }}]\n",
        made["instance_arn"].as_str().unwrap()
    );
    std::fs::write(run.dir.path().join("legacy.yaml"), spec).unwrap();
    let imp = |addr: &str, id: &str| {
        let o = run.tandem(&["import", "--spec", "legacy.yaml", addr, id]);
        assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    };
    imp("legacy", made["instance"].as_str().unwrap());
    imp("legacy_tdg", made["group"].as_str().unwrap());
    let o = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["plan", "--spec", "legacy.yaml"])
        .current_dir(run.dir.path())
        .env("AWS_ENDPOINT_URL", &run.sb.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    let plan = text(&o.stdout);
    assert!(o.status.success(), "{plan}{}", text(&o.stderr));
    // Outbound calling differs from the spec; the group's distribution is not set yet.
    assert!(plan.contains("~ legacy (aws.connect.instance, us-east-1) will be updated in place"), "{plan}");
    assert!(plan.contains("outbound_calls_enabled: false -> true"), "{plan}");
    assert!(!plan.contains("will be created"), "imports are not re-created: {plan}");
}

#[test]
fn reference_stack_with_creation_latency() {
    let run = Run::new();
    // Connect objects take time to become usable, as in AWS: instances and
    // replicas 1.5 s, groups 1 s, numbers 0.5 s (the sandbox's latency model).
    run.admin(
        "PUT",
        "/_tandem/latency",
        json!({"scale": 1.0, "rules": [
            {"service": "connect", "kind": "instance", "creation_ms": 1500, "deletion_ms": 500},
            {"service": "connect", "kind": "replica", "creation_ms": 1500},
            {"service": "connect", "kind": "traffic-distribution-group", "creation_ms": 1000, "deletion_ms": 500},
            {"service": "connect", "kind": "phone-number", "creation_ms": 500}]}),
    );
    let o = run.tandem(&["apply", "--auto-approve"]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{out}{err}");
    assert!(err.contains("connect_instance: ") && err.contains("CREATION_IN_PROGRESS"), "waiters report the state they wait through: {err}");
    let o = run.tandem(&["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    let out = run.ok(&["destroy", "--auto-approve"]);
    assert!(out.contains("Destroy complete"), "{out}");
}

/// The seed's guide deploys in steps; `--stage` does each one (with what it
/// needs), and after the last the whole spec has nothing left to do.
#[test]
fn staged_apply_as_the_seed_guide_does() {
    let run = Run::new();
    let o = run.tandem(&["plan", "--stage", "aws_conect"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stderr).contains("did you mean `aws_connect`?"), "{}", text(&o.stderr));
    run.ok(&["apply", "--auto-approve", "--stage", "aws_connect"]);
    let seen = run.py(INSPECT);
    assert_eq!(seen["instances"]["us-west-2"][0]["status"], "ACTIVE", "{seen}");
    assert_eq!(seen["routing"]["us-east-1"]["queues"], json!([]), "routing waits for its stage: {seen}");
    let plan = run.tandem(&["plan", "--stage", "contact_routing_config"]);
    let out = text(&plan.stdout);
    assert!(out.contains("+ queue_support[us-west-2]") && !out.contains("connect_instance"), "only the stage's resources are left to make: {out}");
    run.ok(&["apply", "--auto-approve", "--stage", "contact_routing_config"]);
    run.ok(&["apply", "--auto-approve", "--stage", "failover_controller"]);
    let o = run.tandem(&["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    run.ok(&["destroy", "--auto-approve", "--stage", "contact_routing_config"]);
    let seen = run.py(INSPECT);
    assert_eq!(seen["routing"]["us-west-2"]["users"], json!([]), "{seen}");
    assert_eq!(seen["instances"]["us-west-2"][0]["status"], "ACTIVE", "destroying a stage leaves the stages it builds on: {seen}");
    run.ok(&["destroy", "--auto-approve"]);
}
