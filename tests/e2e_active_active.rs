//! The reference stack end to end: `tandem sandbox --moto` (tandem-sim in
//! front of moto) and the real `tandem` binary applying
//! specs/active-active.yaml, checked by boto3: apply from empty, no-change
//! plan, drift in the traffic distribution and its repair, destroy that
//! leaves nothing, import of an instance and a group made outside tandem, and
//! the same apply with the sandbox's latency model on.

use serde_json::{json, Value};
use std::process::{Command, Output, Stdio};

mod support;
use support::{root, sandbox, text, venv, Sandbox, TestEnv};

struct Run {
    dir: tempfile::TempDir,
    sb: Sandbox,
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
        std::fs::copy(&zip, dir.path().join("agent-state.zip")).unwrap();
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
        // The hosted connection the interconnect partner provisioned (the
        // vars file names it), waiting for this account to confirm it.
        run.admin(
            "POST",
            "/_tandem/seed/hosted-connections",
            json!({"region": "us-east-1", "connectionId": "dxcon-ffgcp001", "connectionName": "gcp-partner-interconnect", "bandwidth": "1Gbps", "vlan": 101, "partnerName": "Equinix"}),
        );
        run
    }
    fn tandem(&self, args: &[&str]) -> Output {
        let mut all = vec![
            "--spec",
            "active-active.yaml",
            "--var-file",
            "active-active.vars.yaml",
            "--var",
            "controller_zip=controller.zip",
            "--var",
            "agent_state_zip=agent-state.zip",
        ];
        if args[0] == "import" {
            all.clear();
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.arg(args[0]).args(&all).args(&args[1..]);
        cmd.current_dir(self.dir.path()).aws_env(&self.sb.url).gcp_env(&self.sb.url).stdin(Stdio::null()).output().unwrap()
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
    /// How many `operation` calls to `service` in `region` the sandbox counted.
    fn calls(&self, service: &str, operation: &str, region: &str) -> u64 {
        let v = self.py(&format!(
            "calls = json.loads(urllib.request.urlopen(E + '/_tandem/calls').read())['calls']\nprint(json.dumps(sum(c['count'] for c in calls if c['service'] == '{service}' and c['operation'] == '{operation}' and c['region'] == '{region}')))"
        ));
        v.as_u64().unwrap_or_else(|| panic!("a count: {v}"))
    }
    fn admin(&self, method: &str, path: &str, body: Value) -> Value {
        self.py(&format!(
            "req = urllib.request.Request(E + '{path}', data=json.dumps({body}).encode(), method='{method}', headers={{'content-type': 'application/json'}})\nprint(urllib.request.urlopen(req).read().decode() or '{{}}')",
            body = serde_json::to_string(&body.to_string()).unwrap().trim_matches('"').replace("\\\"", "\"")
        ))
    }
}

/// What the Python google-cloud-compute client (REST, anonymous, pointed at
/// the sandbox) and boto3 see of the network between the clouds.
const INSPECT_NETWORK: &str = r#"
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1
def g(cls): return cls(credentials=AnonymousCredentials(), client_options={'api_endpoint': E}, transport='rest')
P, R = 'acme-contact-center', 'us-east4'
out = {'gcp': {}, 'aws': {}}
out['gcp']['networks'] = [n.name for n in g(compute_v1.NetworksClient).list(project=P)]
out['gcp']['subnetworks'] = [[s.name, s.ip_cidr_range] for s in g(compute_v1.SubnetworksClient).list(project=P, region=R)]
out['gcp']['firewalls'] = [f.name for f in g(compute_v1.FirewallsClient).list(project=P)]
routers = {r.name: r for r in g(compute_v1.RoutersClient).list(project=P, region=R)}
out['gcp']['routers'] = {n: {'asn': r.bgp.asn, 'peers': sorted([p.name, p.ip_address, p.peer_ip_address, p.peer_asn] for p in r.bgp_peers),
    'interfaces': sorted([i.name, i.ip_range, i.linked_vpn_tunnel.split('/')[-1]] for i in r.interfaces)} for n, r in routers.items()}
out['gcp']['ha_gateway_ips'] = [[i.ip_address for i in gw.vpn_interfaces] for gw in g(compute_v1.VpnGatewaysClient).list(project=P, region=R)]
out['gcp']['external'] = [[x.redundancy_type, [i.ip_address for i in x.interfaces]] for x in g(compute_v1.ExternalVpnGatewaysClient).list(project=P)]
out['gcp']['tunnels'] = {t.name: {'status': t.status, 'peer_ip': t.peer_ip, 'iface': t.vpn_gateway_interface, 'secret_shown': bool(t.shared_secret)} for t in g(compute_v1.VpnTunnelsClient).list(project=P, region=R)}
out['gcp']['attachments'] = [[a.name, a.type_, a.state, bool(a.pairing_key)] for a in g(compute_v1.InterconnectAttachmentsClient).list(project=P, region=R)]
ec2 = c('ec2')
out['aws']['cgws'] = sorted([x['IpAddress'], x['BgpAsn']] for x in ec2.describe_customer_gateways()['CustomerGateways'] if x['State'] == 'available')
vpns = [v for v in ec2.describe_vpn_connections()['VpnConnections'] if v['State'] == 'available']
out['aws']['tunnels'] = sorted([t['OutsideIpAddress'], t['TunnelInsideCidr'], t['PreSharedKey']] for v in vpns for t in v['Options']['TunnelOptions'])
out['aws']['vgws'] = [[x['AmazonSideAsn'], [a['State'] for a in x['VpcAttachments']]] for x in ec2.describe_vpn_gateways()['VpnGateways'] if x['State'] == 'available']
dx = c('directconnect')
out['aws']['dx_gateways'] = [x['directConnectGatewayName'] for x in dx.describe_direct_connect_gateways()['directConnectGateways'] if x['directConnectGatewayState'] == 'available']
out['aws']['vifs'] = [[v['virtualInterfaceName'], v['vlan'], v['asn']] for v in dx.describe_virtual_interfaces()['virtualInterfaces'] if v['virtualInterfaceState'] not in ('deleted', 'deleting')]
out['aws']['connections'] = [[x['connectionId'], x['connectionState']] for x in dx.describe_connections()['connections']]
print(json.dumps(out))
"#;

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
out['controller'] = {'roles': [r['RoleName'] for r in c('iam').list_roles()['Roles'] if r['RoleName'].startswith('contact-center-failover')]}
for region in ('us-east-1', 'us-west-2'):
    lam, ev = c('lambda', region), c('events', region)
    # The controller's functions; the agent-state sync (fed by Kinesis, no resource policy) is checked on its own.
    fns = [f for f in lam.list_functions()['Functions'] if f['FunctionName'].startswith('contact-center-failover-')]
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
        # AWS's own defaults (Basic Hours, BasicQueue, Default ... flows) are not the spec's.
        ours = lambda name: not (name.startswith('Basic') or name.startswith('Default ') or name.startswith('Sample '))
        hours = {h['Name']: h['Id'] for h in cl.list_hours_of_operations(InstanceId=iid)['HoursOfOperationSummaryList'] if ours(h['Name'])}
        queues = {q['Name']: q['Id'] for q in cl.list_queues(InstanceId=iid, QueueTypes=['STANDARD'])['QueueSummaryList'] if ours(q['Name'])}
        out['routing'][region] = {
            'hours': sorted(hours),
            'queues': sorted(queues),
            'flows': sorted(n for n in flows.values() if ours(n)),
            'profiles': {r['Name']: sorted([q['QueueName'], q['Channel'], q['Priority']] for q in cl.list_routing_profile_queues(InstanceId=iid, RoutingProfileId=r['Id'])['RoutingProfileQueueConfigSummaryList']) for r in rps if ours(r['Name'])},
            'users': sorted(u['Username'] for u in users),
            'numbers': sorted(flows.get(a['FlowId'].split('/')[-1], a['FlowId']) for a in cl.list_flow_associations(InstanceId=iid, ResourceType='VOICE_PHONE_NUMBER')['FlowAssociationSummaryList']),
            # Ids, to show the replica holds the same objects (mirrored), not look-alikes.
            'ids': {'hours': hours, 'queues': queues, 'flows': {v: k for k, v in flows.items() if ours(v)},
                    'profiles': {r['Name']: r['Id'] for r in rps if ours(r['Name'])}, 'users': {u['Username']: u['Id'] for u in users}},
        }
# Agents in the tandem-made group, by user name.
for g in east.list_traffic_distribution_groups()['TrafficDistributionGroupSummaryList']:
    if g['Status'] == 'ACTIVE' and not g['IsDefault']:
        iid = g['InstanceArn'].split('/')[-1]
        names = {u['Id']: u['Username'] for u in east.list_users(InstanceId=iid)['UserSummaryList']}
        out.setdefault('group_agents', {})[g['Name']] = sorted(names.get(u['UserId'], u['UserId']) for u in east.list_traffic_distribution_group_users(TrafficDistributionGroupId=g['Id'])['TrafficDistributionGroupUserSummaryList'])
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
        json!([
            "contact-center-missed-calls-us-west-2",
            "contact-center-packet-loss-us-west-2",
            "contact-center-throttled-calls-us-west-2"
        ])
    );
    assert_eq!(seen["dashboards"], json!(["contact-center"]), "{seen}");
    assert_eq!(
        seen["tables"]["contact-center-agent-state"],
        json!([["us-west-2", "ACTIVE"]]),
        "the agent-state global table has its replica: {seen}"
    );
    let numbers: Vec<&str> =
        seen["numbers"].as_array().unwrap().iter().filter(|n| n["target"] == group["arn"]).filter_map(|n| n["number"].as_str()).collect();
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
    // Contact routing declared once is in both regions, and both numbers start the inbound flow in each.
    for region in ["us-east-1", "us-west-2"] {
        let mut r = seen["routing"][region].clone();
        r.as_object_mut().unwrap().remove("ids");
        assert_eq!(
            r,
            json!({"hours": ["business-hours"], "queues": ["sales", "support"], "flows": ["after-hours", "inbound"],
                "profiles": {"front-line": [["sales", "VOICE", 2], ["support", "CHAT", 1], ["support", "VOICE", 1]]},
                "users": ["alice", "bob"], "numbers": ["inbound", "inbound"]}),
            "{region}: {seen}"
        );
    }
    // The replica's are the source's objects, mirrored under the same ids (boto3 in both regions).
    assert_eq!(seen["routing"]["us-west-2"]["ids"], seen["routing"]["us-east-1"]["ids"], "{seen}");
    // tandem made nothing in the replica region itself.
    for op in [
        "CreateQueue",
        "CreateContactFlow",
        "CreateUser",
        "CreateRoutingProfile",
        "CreateHoursOfOperation",
        "AssociatePhoneNumberContactFlow",
    ] {
        assert_eq!(run.calls("connect", op, "us-west-2"), 0, "{op} in us-west-2");
    }
    // Both agents are in the group, so they follow its agent distribution.
    assert_eq!(seen["group_agents"]["contact-center-tdg"], json!(["alice", "bob"]), "{seen}");

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
    assert!(
        plan.contains("~ traffic_distribution_group (aws.connect.traffic_distribution_group, us-east-1) will be updated in place"),
        "{plan}"
    );
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
i = e.create_instance(IdentityManagementType='SAML', InstanceAlias='legacy-cc', InboundCallsEnabled=True, OutboundCallsEnabled=False)
while e.describe_instance(InstanceId=i['Id'])['Instance']['InstanceStatus'] != 'ACTIVE': time.sleep(0.05)
r = e.replicate_instance(InstanceId=i['Id'], ReplicaRegion='us-west-2', ReplicaAlias='legacy-cc-west')
w = c('connect', 'us-west-2')
while w.describe_instance(InstanceId=r['Arn'].split('/')[-1])['Instance']['InstanceStatus'] != 'ACTIVE': time.sleep(0.05)
g = e.create_traffic_distribution_group(Name='legacy-tdg', InstanceId=i['Arn'])
while e.describe_traffic_distribution_group(TrafficDistributionGroupId=g['Id'])['TrafficDistributionGroup']['Status'] != 'ACTIVE': time.sleep(0.05)
print(json.dumps({'instance': i['Id'], 'instance_arn': i['Arn'], 'replica': r['Arn'], 'group': g['Arn']}))
"#,
    );
    let spec = format!(
        "version: 1\nresources:\n  legacy:\n    type: aws.connect.instance\n    region: us-east-1\n    properties:\n      identity_management_type: SAML\n      instance_alias: legacy-cc\n      inbound_calls_enabled: true\n      outbound_calls_enabled: true\n  legacy_replica:\n    type: aws.connect.replica\n    region: us-east-1\n    properties:\n      instance_id: ${{legacy.id}}\n      replica_region: us-west-2\n      replica_alias: legacy-cc-west\n  legacy_tdg:\n    type: aws.connect.traffic_distribution_group\n    region: us-east-1\n    depends_on: [legacy_replica]\n    properties:\n      name: legacy-tdg\n      instance_id: {}\n      telephony_config:\n        distributions: [{{ region: us-east-1, percentage: 50 }}, {{ region: us-west-2, percentage: 50 }}]\n",
        made["instance_arn"].as_str().unwrap()
    );
    std::fs::write(run.dir.path().join("legacy.yaml"), spec).unwrap();
    let imp = |addr: &str, id: &str| {
        let o = run.tandem(&["import", "--spec", "legacy.yaml", addr, id]);
        assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    };
    imp("legacy", made["instance"].as_str().unwrap());
    imp("legacy_replica", made["replica"].as_str().unwrap());
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
            {"service": "connect", "kind": "phone-number", "creation_ms": 500},
            {"service": "connect", "kind": "mirror", "creation_ms": 400}]}),
    );
    let o = run.tandem(&["apply", "--auto-approve"]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(o.status.success(), "{out}{err}");
    assert!(
        err.contains("connect_instance: ") && err.contains("CREATION_IN_PROGRESS"),
        "waiters report the state they wait through: {err}"
    );
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
    assert_eq!(o.status.code(), Some(3), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stderr).contains("did you mean `aws_connect`?"), "{}", text(&o.stderr));
    run.ok(&["apply", "--auto-approve", "--stage", "aws_connect"]);
    run.ok(&["apply", "--auto-approve", "--stage", "gcp_cloud_router"]);
    run.ok(&["apply", "--auto-approve", "--stage", "aws_gcp_interconnect"]);
    let seen = run.py(INSPECT);
    assert_eq!(seen["instances"]["us-west-2"][0]["status"], "ACTIVE", "{seen}");
    assert_eq!(seen["routing"]["us-east-1"]["queues"], json!([]), "routing waits for its stage: {seen}");
    let plan = run.tandem(&["plan", "--stage", "contact_routing_config"]);
    let out = text(&plan.stdout);
    assert!(out.contains("+ queue_support") && !out.contains("connect_instance"), "only the stage's resources are left to make: {out}");
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

/// The network between the clouds (the spec's gcp_cloud_router and
/// aws_gcp_interconnect stages): outputs of each cloud feed the other, a BGP
/// peer changed out of band is drift, and destroy goes in dependency order
/// across clouds (the sandbox refuses deleting anything still in use, as the
/// clouds do, so a wrong order fails the run).
#[test]
fn network_across_clouds_apply_drift_destroy() {
    let run = Run::new();
    // A Cloud Router change takes a moment, as in GCP: the four BGP peers,
    // applied at once, meet resourceNotReady and each other's edits.
    run.admin(
        "PUT",
        "/_tandem/latency",
        json!({"scale": 1.0, "rules": [{"service": "compute", "kind": "router_update", "creation_ms": 150}]}),
    );
    let stages = ["--stage", "gcp_cloud_router", "--stage", "aws_gcp_interconnect"];
    let out = run.ok(&[&["apply", "--auto-approve"][..], &stages[..]].concat());
    assert!(out.contains("Apply complete"), "{out}");
    assert!(!out.contains("connect_instance"), "only the network and what it needs: {out}");

    let seen = run.py(INSPECT_NETWORK);
    let gcp = &seen["gcp"];
    let aws = &seen["aws"];
    assert_eq!(gcp["networks"], json!(["contact-center"]), "{seen}");
    assert_eq!(gcp["subnetworks"], json!([["contact-center-us-east4", "10.20.0.0/20"]]), "{seen}");
    assert_eq!(gcp["firewalls"], json!(["contact-center-allow-aws"]), "{seen}");
    // GCP's HA VPN interface IPs are the AWS customer gateways, with the Cloud Router's ASN.
    let mut ha_ips: Vec<String> = gcp["ha_gateway_ips"][0].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    ha_ips.sort();
    assert_eq!(aws["cgws"], json!([[ha_ips[0], "65010"], [ha_ips[1], "65010"]]), "{seen}");
    // The four AWS tunnel outside IPs are the external gateway's interfaces.
    let aws_tunnels = aws["tunnels"].as_array().unwrap();
    assert_eq!(aws_tunnels.len(), 4, "{seen}");
    let mut outside: Vec<Value> = aws_tunnels.iter().map(|t| t[0].clone()).collect();
    let mut external = gcp["external"][0][1].as_array().unwrap().clone();
    outside.sort_by_key(|v| v.to_string());
    external.sort_by_key(|v| v.to_string());
    assert_eq!(gcp["external"][0][0], "FOUR_IPS_REDUNDANCY");
    assert_eq!(outside, external, "{seen}");
    // Four GCP tunnels, up, each to one AWS outside IP; GCP never shows a key.
    let tunnels = gcp["tunnels"].as_object().unwrap();
    assert_eq!(tunnels.len(), 4, "{seen}");
    let mut peer_ips: Vec<Value> = tunnels.values().map(|t| t["peer_ip"].clone()).collect();
    peer_ips.sort_by_key(|v| v.to_string());
    assert_eq!(peer_ips, external);
    assert!(tunnels.values().all(|t| t["status"] == "ESTABLISHED" && t["secret_shown"] == false), "{seen}");
    assert_eq!(
        [0, 0, 1, 1],
        ["contact-center-aws-0", "contact-center-aws-1", "contact-center-aws-2", "contact-center-aws-3"]
            .map(|n| tunnels[n]["iface"].as_i64().unwrap())
    );
    // Every BGP peer landed on the router (none lost to a concurrent edit),
    // on the AWS inside /30s: router on the customer side, AWS ASN as peer.
    let vpn_router = &gcp["routers"]["contact-center-vpn"];
    assert_eq!(vpn_router["asn"], 65010);
    assert_eq!(
        vpn_router["peers"],
        json!([
            ["aws-0", "169.254.10.2", "169.254.10.1", 64512],
            ["aws-1", "169.254.10.6", "169.254.10.5", 64512],
            ["aws-2", "169.254.11.2", "169.254.11.1", 64512],
            ["aws-3", "169.254.11.6", "169.254.11.5", 64512]
        ]),
        "{seen}"
    );
    assert_eq!(vpn_router["interfaces"][0], json!(["aws-0", "169.254.10.2/30", "contact-center-aws-0"]), "{seen}");
    assert_eq!(aws["vgws"], json!([[64512, ["attached"]]]), "{seen}");
    // Direct Connect <-> Partner Interconnect.
    assert_eq!(gcp["routers"]["contact-center-interconnect"]["asn"], 16550);
    assert_eq!(gcp["attachments"], json!([["contact-center-aws-dx", "PARTNER", "PENDING_PARTNER", true]]), "{seen}");
    assert_eq!(aws["dx_gateways"], json!(["contact-center-to-gcp"]), "{seen}");
    assert_eq!(aws["vifs"], json!([["contact-center-gcp", 101, 16550]]), "{seen}");
    assert_eq!(aws["connections"], json!([["dxcon-ffgcp001", "available"]]), "confirmed: {seen}");
    // Keys cross from AWS to GCP but never reach the output.
    for t in aws_tunnels {
        assert!(!out.contains(t[2].as_str().unwrap()), "a pre-shared key was printed: {out}");
    }
    // The spec output made of the (sensitive) pairing key is sensitive too.
    assert!(out.contains("partner_interconnect_pairing_key = (sensitive)"), "{out}");
    let key = run.ok(&["output", "partner_interconnect_pairing_key", "--show-sensitive"]);
    assert!(key.trim().ends_with("/us-east4/1"), "{key}");

    // Nothing left to do.
    let o = run.tandem(&[&["plan", "--detailed-exitcode"][..], &stages[..]].concat());
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));

    // A BGP peer edited out of band (its ASN changed in the console) is drift; apply puts it back.
    run.py(
        r#"
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1
rc = compute_v1.RoutersClient(credentials=AnonymousCredentials(), client_options={'api_endpoint': E}, transport='rest')
r = rc.get(project='acme-contact-center', region='us-east4', router='contact-center-vpn')
for p in r.bgp_peers:
    if p.name == 'aws-1': p.peer_asn = 65099
op = rc.update_unary(project='acme-contact-center', region='us-east4', router='contact-center-vpn', router_resource=r)
compute_v1.RegionOperationsClient(credentials=AnonymousCredentials(), client_options={'api_endpoint': E}, transport='rest').wait(project='acme-contact-center', region='us-east4', operation=op.name)
print('{}')
"#,
    );
    let o = run.tandem(&[&["plan", "--detailed-exitcode"][..], &stages[..]].concat());
    let plan = text(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{plan}{}", text(&o.stderr));
    assert!(plan.contains("~ gcp_bgp_1 (gcp.compute.router_peer, us-east4) will be updated in place"), "{plan}");
    assert!(plan.contains("peer_asn: 65099 -> 64512"), "{plan}");
    assert!(!plan.contains("gcp_bgp_0"), "the other peers did not change: {plan}");
    run.ok(&[&["apply", "--auto-approve"][..], &stages[..]].concat());
    let seen = run.py(INSPECT_NETWORK);
    assert_eq!(seen["gcp"]["routers"]["contact-center-vpn"]["peers"][1], json!(["aws-1", "169.254.10.6", "169.254.10.5", 64512]), "{seen}");
    assert_eq!(seen["gcp"]["routers"]["contact-center-vpn"]["peers"].as_array().unwrap().len(), 4, "{seen}");

    // Destroy, in dependency order across clouds.
    let o = run.tandem(&[&["destroy", "--auto-approve"][..], &stages[..]].concat());
    let (out, log) = (text(&o.stdout), text(&o.stderr));
    assert!(o.status.success() && out.contains("Destroy complete"), "{out}{log}");
    // Progress lines (stderr) say when each deletion finished.
    let at = |addr: &str| log.find(&format!("{addr}: deleted")).unwrap_or_else(|| panic!("{addr} not deleted: {log}"));
    for (first, then) in [
        ("gcp_bgp_0", "gcp_tunnel_0"),
        ("gcp_tunnel_0", "gcp_ha_vpn_gateway"),
        ("gcp_tunnel_3", "gcp_aws_peer_gateway"),
        ("gcp_tunnel_2", "gcp_vpn_router"),
        ("gcp_aws_peer_gateway", "aws_vpn_0"),
        ("aws_vpn_1", "aws_cgw_1"),
        ("aws_vpn_0", "aws_vgw"),
        ("aws_dx_association", "aws_dx_gateway"),
        ("aws_dx_vif", "aws_dx_gateway"),
        ("aws_dx_association", "aws_vgw"),
        ("gcp_interconnect_attachment", "gcp_interconnect_router"),
        ("gcp_subnet", "gcp_network"),
        ("gcp_vpn_router", "gcp_network"),
    ] {
        assert!(at(first) < at(then), "{first} must go before {then}: {log}");
    }
    let seen = run.py(INSPECT_NETWORK);
    assert_eq!(seen["gcp"]["networks"], json!([]), "{seen}");
    assert_eq!(seen["gcp"]["tunnels"], json!({}), "{seen}");
    assert_eq!(seen["gcp"]["routers"], json!({}), "{seen}");
    assert_eq!(seen["gcp"]["external"], json!([]), "{seen}");
    assert_eq!(seen["gcp"]["attachments"], json!([]), "{seen}");
    assert_eq!(seen["aws"]["cgws"], json!([]), "{seen}");
    assert_eq!(seen["aws"]["tunnels"], json!([]), "{seen}");
    assert_eq!(seen["aws"]["vgws"], json!([]), "{seen}");
    assert_eq!(seen["aws"]["dx_gateways"], json!([]), "{seen}");
    assert_eq!(seen["aws"]["vifs"], json!([]), "{seen}");
}

/// The cross-cloud rules are checked before anything is called: a GCP
/// subnetwork overlapping an AWS VPC, and one ASN on both ends of the BGP
/// sessions, are spec errors that point at the line.
#[test]
fn cross_cloud_mistakes_are_caught_by_validate() {
    let run = Run::new();
    let o = run.tandem(&["validate", "--var", "gcp_subnet_cidr=10.0.128.0/20"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "invalid spec: {err}");
    assert!(
        err.contains("tandem::spec::overlap") && err.contains("10.0.128.0/20 (in `gcp_subnet`) overlaps 10.0.0.0/16 (in `primary_vpc`)"),
        "{err}"
    );
    assert!(err.contains("active-active.yaml:"), "points at the spec: {err}");
    let o = run.tandem(&["validate", "--var", "gcp_bgp_asn=64512"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "invalid spec: {err}");
    assert!(err.contains("tandem::spec::asn") && err.contains("ASN 64512"), "{err}");
    let o = run.tandem(&["validate", "--var", "gcp_bgp_asn=65535"]);
    let err = text(&o.stderr);
    assert!(err.contains("65535 is not a private ASN"), "{err}");
    // Nothing was called.
    let calls = run.py("print(urllib.request.urlopen(E + '/_tandem/calls').read().decode())");
    assert!(!calls.to_string().contains("compute"), "{calls}");
}

/// The whole reference stack with the sandbox's eventual consistency on for
/// DynamoDB, EC2 and Compute Engine (a read right after a create answers not
/// found for a while), Partner Interconnect attachments that sit in
/// UNPROVISIONED after their insert, and items that take time to reach the
/// other region: apply converges with one create per resource, twenty plans
/// in a row find nothing to do (EC2 answers the VPN tunnels in a different
/// order from one read to the next), the agent-state table carries items
/// from one region to the other, and destroy leaves nothing.
#[test]
fn reference_stack_converges_with_eventual_consistency() {
    let run = Run::new();
    run.admin(
        "PUT",
        "/_tandem/consistency",
        json!({"rules": [{"service": "dynamodb", "not_found_ms": 800}, {"service": "ec2", "not_found_ms": 800}, {"service": "compute", "not_found_ms": 800}, {"service": "connect", "not_found_ms": 800}]}),
    );
    run.admin(
        "PUT",
        "/_tandem/latency",
        json!({"scale": 1.0, "rules": [{"service": "compute", "kind": "interconnect_attachment_turnup", "creation_ms": 2500}, {"service": "compute", "kind": "router_update", "creation_ms": 150},
            {"service": "connect", "kind": "mirror", "creation_ms": 300}]}),
    );
    let o = run.tandem(&["apply", "--auto-approve"]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(o.status.success() && out.contains("Apply complete"), "{out}{err}");
    assert!(err.contains("not visible yet"), "reads right after creates did answer not found: {err}");
    assert!(
        err.contains("gcp_interconnect_attachment: ") && err.contains("UNPROVISIONED"),
        "the attachment's turnup was waited out: {err}"
    );
    let key = run.ok(&["output", "partner_interconnect_pairing_key", "--show-sensitive"]);
    assert!(key.trim().ends_with("/us-east4/1"), "the pairing key, read once provisioned: {key}");
    let calls = run.py("print(urllib.request.urlopen(E + '/_tandem/calls').read().decode())");
    let count = |service: &str, op: &str| {
        calls["calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["service"] == service && c["operation"] == op)
            .map(|c| c["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(count("dynamodb", "CreateTable"), 1, "{calls}");
    assert_eq!(count("ec2", "CreateVpnConnection"), 2, "{calls}");
    assert_eq!(count("ec2", "CreateVpc"), 2, "{calls}");
    assert_eq!(count("compute", "interconnectAttachments.POST"), 1, "{calls}");
    for op in [
        "CreateInstance",
        "ReplicateInstance",
        "CreateTrafficDistributionGroup",
        "CreateQueue",
        "CreateUser",
        "AssociateTrafficDistributionGroupUser",
    ] {
        let want = match op {
            "CreateQueue" | "CreateUser" | "AssociateTrafficDistributionGroupUser" => 2,
            _ => 1,
        };
        assert_eq!(count("connect", op), want, "{op}: {calls}");
    }
    assert_eq!(count("connect", "ClaimPhoneNumber"), 2, "{calls}");

    for i in 0..20 {
        let o = run.tandem(&["plan", "--detailed-exitcode"]);
        assert_eq!(o.status.code(), Some(0), "plan {i}: {}{}", text(&o.stdout), text(&o.stderr));
    }

    // The agent-state global table: an item written in one region reaches the other once the lag has passed.
    run.admin(
        "PUT",
        "/_tandem/latency",
        json!({"scale": 1.0, "rules": [{"service": "dynamodb", "kind": "item-replication", "creation_ms": 3_600_000}]}),
    );
    let seen = run.py(
        "t = 'contact-center-agent-state'\nc('dynamodb').put_item(TableName=t, Item={'agent_id': {'S': 'alice'}, 'state': {'S': 'on-call'}})\nprint(json.dumps({'west': c('dynamodb', 'us-west-2').get_item(TableName=t, Key={'agent_id': {'S': 'alice'}}).get('Item')}))",
    );
    assert_eq!(seen["west"], Value::Null, "not before the lag: {seen}");
    run.admin("PUT", "/_tandem/latency", json!({"scale": 1.0, "rules": []}));
    let seen = run.py("print(json.dumps({'west': c('dynamodb', 'us-west-2').get_item(TableName='contact-center-agent-state', Key={'agent_id': {'S': 'alice'}}).get('Item')}))");
    assert_eq!(seen["west"]["state"]["S"], "on-call", "{seen}");

    let out = run.ok(&["destroy", "--auto-approve"]);
    assert!(out.contains("Destroy complete"), "{out}");
    let seen = run.py("print(json.dumps({r: c('dynamodb', r).list_tables()['TableNames'] for r in ('us-east-1', 'us-west-2')}))");
    assert_eq!(seen, json!({"us-east-1": [], "us-west-2": []}), "the replica's table went with it");
}

/// `tandem preflight` against the sandbox: what a real account needs for the
/// reference stack, found with reads only.
#[test]
fn preflight_says_what_the_account_needs_before_anything_is_made() {
    let run = Run::new();
    let o = run.tandem(&["preflight"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(out.contains("ok   connect_replica: region pair: us-east-1 -> us-west-2 is a pair Global Resiliency allows"), "{out}");
    assert!(out.contains("ok   connect_replica: SAML:"), "{out}");
    assert!(out.contains("ok   connect_replica: Global Resiliency access in us-east-1"), "{out}");
    assert!(
        out.contains("??   primary_number: phone number +12065550100: SearchAvailablePhoneNumbers needs an instance or group"),
        "{out}"
    );
    for action in ["ReplicateInstance", "AssociateTrafficDistributionGroupUser", "ClaimPhoneNumber", "CreateTrafficDistributionGroup"] {
        assert!(out.contains(action), "{action} in {out}");
    }
    let policy: Value = serde_json::from_str(&run.ok(&["preflight", "--iam-policy"])).unwrap();
    let actions = policy["Statement"][0]["Action"].as_array().unwrap();
    assert!(actions.contains(&json!("connect:ReplicateInstance")) && actions.contains(&json!("iam:PassRole")), "{policy}");
    assert!(actions.iter().all(|a| a.as_str().unwrap().contains(':')), "only AWS actions: {policy}");
    // Nothing was made: only reads reached the sandbox.
    let calls = run.py("print(urllib.request.urlopen(E + '/_tandem/calls').read().decode())");
    let writes: Vec<&Value> = calls["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            let op = c["operation"].as_str().unwrap();
            !(op.starts_with("List") || op.starts_with("Describe") || op.starts_with("Get") || op.starts_with("Search"))
        })
        .collect();
    assert!(writes.is_empty(), "preflight only reads: {writes:?}");

    // An account without Global Resiliency access: the probe says so, and what to do.
    run.admin(
        "POST",
        "/_tandem/faults",
        json!({"service": "connect", "operation": "ListTrafficDistributionGroups", "kind": "access_denied"}),
    );
    let o = run.tandem(&["preflight", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", text(&o.stdout), text(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["failed"], json!(true));
    let findings = report["preflight"]["findings"].to_string();
    assert!(findings.contains("AccessDeniedException") && findings.contains("Solutions Architect"), "{findings}");
    run.admin("DELETE", "/_tandem/faults", json!({}));

    // Once the instance and group exist, the numbers are searched for.
    run.ok(&["apply", "--auto-approve", "--stage", "aws_connect"]);
    let out = run.ok(&["preflight"]);
    assert!(out.contains("ok   primary_number: phone number +12065550100: available to claim in us-east-1"), "{out}");
    let o = run.tandem(&["preflight", "--var", "primary_phone_number=+12065559999"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL primary_number: phone number +12065559999: not offered in us-east-1"), "{out}");
    run.ok(&["destroy", "--auto-approve"]);
}

/// The stack runs what it deploys: the failover controllers (Lambda functions
/// in both regions on one-minute schedules, run by the sandbox on a faster
/// clock) shift calls and agents when the primary fails and bring the default
/// back, and an agent event put on the primary's stream reaches the
/// secondary region's table through the deployed sync function. The real
/// packages from scripts/build-lambda (scripts/test builds them).
#[test]
fn the_deployed_controllers_fail_over_and_agent_state_syncs() {
    let run = Run::new();
    for (zip, name) in [("tandem-failover.zip", "controller.zip"), ("tandem-agent-state.zip", "agent-state.zip")] {
        let built = root().join("target/lambda").join(zip);
        assert!(built.exists(), "{} is missing: run `PROFILE=dev scripts/build-lambda` (scripts/test does)", built.display());
        std::fs::copy(&built, run.dir.path().join(name)).unwrap();
    }
    run.ok(&["apply", "--auto-approve", "--var", "failover_probe_interval_seconds=1", "--var", "failover_min_dwell_seconds=0"]);
    // Like every verb, drill and failover find tandem.yaml and its state by default.
    std::fs::rename(run.dir.path().join("active-active.yaml"), run.dir.path().join("tandem.yaml")).unwrap();
    let bare = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(args)
            .current_dir(run.dir.path())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let o = bare(&["failover", "status", "--sandbox", &run.sb.url]);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stdout).contains("traffic-distribution-group/"), "{}", text(&o.stdout));
    let o = bare(&["drill", "--deployed", "--sandbox", &run.sb.url, "--phase-timeout", "2m", "--json"]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {}{}", text(&o.stdout), text(&o.stderr)));
    assert_eq!(report["passed"], json!(true), "{report}");
    let names: Vec<&str> = report["phases"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["normal", "agents", "inject_outage", "failover", "agents_moved", "clear_outage", "recover", "agent_state"],
        "{report}"
    );
    // The work was done by the functions the spec deployed, in both regions, on their schedules.
    let inv = run.py("print(urllib.request.urlopen(E + '/_tandem/lambda/invocations').read().decode())");
    let sources = |f: &str| {
        inv["invocations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["function"] == f)
            .map(|i| i["source"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    for f in ["contact-center-failover-primary", "contact-center-failover-secondary"] {
        let s = sources(f);
        assert!(!s.is_empty() && s.iter().all(|x| x.starts_with("schedule:contact-center-failover-")), "{f}: {s:?}");
    }
    assert!(sources("contact-center-agent-state-primary").iter().all(|s| s.starts_with("kinesis:")), "{inv}");
    assert!(!sources("contact-center-agent-state-primary").is_empty(), "the primary's sync function ran");
}
