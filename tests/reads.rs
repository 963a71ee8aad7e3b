//! How many calls a no-change plan makes, counted by the sandbox
//! (`/_tandem/calls`): the benchmark stack of scripts/bench-vs-terraform
//! (VPC + subnet + Kinesis stream + DynamoDB table, groups over two regions)
//! is applied with the real `tandem` binary, then planned. EC2 resources of
//! one kind and region are read together (one DescribeVpcs, one
//! DescribeRouteTables, one DescribeSubnets per region), so reads per resource
//! stay well under what one-by-one reads cost (2.25). A read fetches only
//! what the plan compares: a VPC's DNS attributes and a stream's or table's
//! tags take a call of their own each, made only when the spec sets them or
//! the state recorded them.

mod support;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::{sandbox, text, venv, Sandbox, TestEnv};

/// The benchmark stack: `groups` x (VPC, subnet, stream, table), alternating
/// between us-east-1 and us-west-2; VPCs of groups divisible by 4 set
/// `enable_dns_hostnames`, streams of odd groups have tags (`dns_support`:
/// VPC 1 sets `enable_dns_support` too).
fn stack(groups: usize, dns_support: bool) -> String {
    let mut s = String::from("version: 1\nname: reads\nresources:\n");
    for i in 0..groups {
        let region = if i % 2 == 0 { "us-east-1" } else { "us-west-2" };
        let dns = match i {
            _ if i % 4 == 0 => ", enable_dns_hostnames: true",
            1 if dns_support => ", enable_dns_support: true",
            _ => "",
        };
        let stream_tags = if i % 2 == 1 { format!(", tags: {{ Name: bench-{i} }}") } else { String::new() };
        s.push_str(&format!(
            "  vpc_{i}:\n    type: aws.ec2.vpc\n    region: {region}\n    properties: {{ cidr_block: 10.{i}.0.0/16, tags: {{ Name: bench-{i} }}{dns} }}\n\
             \x20 subnet_{i}:\n    type: aws.ec2.subnet\n    region: {region}\n    properties: {{ vpc_id: \"${{vpc_{i}.id}}\", cidr_block: 10.{i}.1.0/24, tags: {{ Name: bench-{i} }} }}\n\
             \x20 stream_{i}:\n    type: aws.kinesis.stream\n    region: {region}\n    properties: {{ stream_name: bench-{i}, shard_count: 1{stream_tags} }}\n\
             \x20 table_{i}:\n    type: aws.dynamodb.table\n    region: {region}\n    properties:\n      table_name: bench-{i}\n      billing_mode: PAY_PER_REQUEST\n      attribute_definitions: [{{ attribute_name: id, attribute_type: S }}]\n      key_schema: [{{ attribute_name: id, key_type: HASH }}]\n      tags: {{ Name: bench-{i} }}\n"
        ));
    }
    s
}

fn tandem(dir: &Path, sb: &Sandbox, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .current_dir(dir)
        .aws_env(&sb.url)
        .env_remove("TANDEM_HEARTBEAT")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A Python one-off against the sandbox: `admin(method, path)` answers the
/// admin API's JSON, `c(service, region)` is a boto3 client.
fn python(sb: &Sandbox, script: &str) -> String {
    let prelude = format!(
        "import boto3, json, urllib.request\nU = '{}'\n\
         def admin(m, p): return json.loads(urllib.request.urlopen(urllib.request.Request(U + p, method=m)).read() or 'null')\n\
         def c(s, r='us-east-1'): return boto3.client(s, region_name=r, endpoint_url=U, aws_access_key_id='testing', aws_secret_access_key='testing')\n",
        sb.url
    );
    let o = Command::new(venv().join("bin/python")).arg("-c").arg(format!("{prelude}{script}")).output().unwrap();
    assert!(o.status.success(), "python: {}", text(&o.stderr));
    text(&o.stdout)
}

/// Calls the sandbox counted since the last reset, by operation.
fn calls(sb: &Sandbox) -> serde_json::Map<String, Value> {
    let out = python(
        sb,
        "n = {}\nfor c in admin('GET', '/_tandem/calls')['calls']: n[c['operation']] = n.get(c['operation'], 0) + c['count']\nprint(json.dumps(n))",
    );
    serde_json::from_str(&out).unwrap()
}

/// Applies `spec` in `dir`, then counts the calls of a plan that must find
/// nothing to change.
fn calls_of_a_no_change_plan(dir: &Path, sb: &Sandbox, spec: &str) -> serde_json::Map<String, Value> {
    std::fs::write(dir.join("tandem.yaml"), spec).unwrap();
    let o = tandem(dir, sb, &["apply", "--auto-approve"]);
    assert!(o.status.success(), "apply: {}\n{}", text(&o.stdout), text(&o.stderr));
    python(sb, "admin('DELETE', '/_tandem/calls')");
    let o = tandem(dir, sb, &["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "expected no changes: {}\n{}", text(&o.stdout), text(&o.stderr));
    calls(sb)
}

#[test]
fn a_no_change_plan_reads_ec2_kinds_by_region_not_by_resource() {
    let sb = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let groups = 24;
    let n = calls_of_a_no_change_plan(dir.path(), &sb, &stack(groups, false));
    let count = |op: &str| n.get(op).and_then(Value::as_u64).unwrap_or(0);
    // One call per region for each batched describe, whatever the count of VPCs and subnets.
    assert_eq!(count("DescribeVpcs"), 2, "{n:?}");
    assert_eq!(count("DescribeRouteTables"), 2, "{n:?}");
    assert_eq!(count("DescribeSubnets"), 2, "{n:?}");
    // The DNS attributes have no batched read: one call per VPC and
    // attribute, for the attributes a spec sets (every 4th VPC, one each).
    assert_eq!(count("DescribeVpcAttribute"), groups as u64 / 4, "{n:?}");
    // Tags have a call of their own: only for streams and tables with tags.
    assert_eq!(count("ListTagsForStream"), groups as u64 / 2, "{n:?}");
    assert_eq!(count("ListTagsOfResource"), groups as u64, "{n:?}");
    assert_eq!(count("DescribeStreamSummary"), groups as u64, "{n:?}");
    assert_eq!(count("DescribeTable"), groups as u64, "{n:?}");
    let resources = 4 * groups;
    let total: u64 = n.values().filter_map(Value::as_u64).sum();
    let per_resource = total as f64 / resources as f64;
    // One by one this was 2.25 (VPC 4 calls, subnet 1, stream 2, table 2).
    assert!(per_resource <= 1.5, "{total} calls for {resources} resources ({per_resource:.2} each): {n:?}");
    // No call mutates anything in a plan.
    assert!(n.keys().all(|op| ["Describe", "List", "Get"].iter().any(|p| op.starts_with(p))), "{n:?}");

    // What is compared is still read: a DNS attribute the spec sets and tags
    // of a tagged stream, changed outside tandem, are planned back; an
    // attribute set for the first time is read before it is compared (AWS
    // has DNS support on already: no change).
    python(
        &sb,
        "e = c('ec2')\nv = e.describe_vpcs(Filters=[{'Name': 'tag:Name', 'Values': ['bench-4']}])['Vpcs'][0]['VpcId']\n\
         e.modify_vpc_attribute(VpcId=v, EnableDnsHostnames={'Value': False})\n\
         c('kinesis', 'us-west-2').add_tags_to_stream(StreamName='bench-5', Tags={'Name': 'changed'})",
    );
    std::fs::write(dir.path().join("tandem.yaml"), stack(groups, true)).unwrap();
    let o = tandem(dir.path(), &sb, &["plan", "--detailed-exitcode", "--json"]);
    assert_eq!(o.status.code(), Some(2), "expected changes: {}\n{}", text(&o.stdout), text(&o.stderr));
    let plan: Value =
        text(&o.stdout).lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|v| v["type"] == "plan").expect("a plan line");
    let changed: Vec<(String, Vec<String>)> = plan["plan"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no_op")
        .map(|c| {
            let fields = c["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_string()).collect();
            (c["address"].as_str().unwrap().to_string(), fields)
        })
        .collect();
    assert_eq!(
        changed,
        vec![("stream_5".to_string(), vec!["tags".to_string()]), ("vpc_4".to_string(), vec!["enable_dns_hostnames".to_string()])],
        "{plan}"
    );
    let o = tandem(dir.path(), &sb, &["apply", "--auto-approve"]);
    assert!(o.status.success(), "apply: {}\n{}", text(&o.stdout), text(&o.stderr));

    // A subnet and a VPC deleted outside tandem are left out of the batched
    // answers: the plan makes them again, and reads the rest as they are.
    python(
        &sb,
        "e = c('ec2', 'us-west-2')\nv = e.describe_vpcs(Filters=[{'Name': 'tag:Name', 'Values': ['bench-3']}])['Vpcs'][0]['VpcId']\n\
         for s in e.describe_subnets(Filters=[{'Name': 'vpc-id', 'Values': [v]}])['Subnets']: e.delete_subnet(SubnetId=s['SubnetId'])\n\
         e.delete_vpc(VpcId=v)\ne1 = c('ec2')\n\
         s = e1.describe_subnets(Filters=[{'Name': 'tag:Name', 'Values': ['bench-0']}])['Subnets'][0]['SubnetId']\ne1.delete_subnet(SubnetId=s)",
    );
    let o = tandem(dir.path(), &sb, &["plan", "--detailed-exitcode"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "expected changes: {out}\n{}", text(&o.stderr));
    for created in ["vpc_3 (aws.ec2.vpc, us-west-2)", "subnet_3 (aws.ec2.subnet, us-west-2)", "subnet_0 (aws.ec2.subnet, us-east-1)"] {
        assert!(out.contains(&format!("+ {created} will be created")), "{created}: {out}");
    }
    assert!(out.contains("Plan: 3 to create, 0 to update, 0 to replace, 0 to delete."), "{out}");
}

/// Customer gateways, virtual private gateways and VPN connections of one
/// region are read by group too: one describe each, whatever their count.
#[test]
fn a_no_change_plan_reads_vpn_kinds_by_region_not_by_resource() {
    let sb = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let mut spec = String::from(
        "version: 1\nname: vpn-reads\nresources:\n\
         \x20 vpc: { type: aws.ec2.vpc, region: us-east-1, properties: { cidr_block: 10.40.0.0/16 } }\n\
         \x20 vgw: { type: aws.ec2.vpn_gateway, region: us-east-1, properties: { amazon_side_asn: 64512, vpc_id: \"${vpc.id}\" } }\n",
    );
    for i in 0..3 {
        spec.push_str(&format!(
            "  cgw_{i}: {{ type: aws.ec2.customer_gateway, region: us-east-1, properties: {{ bgp_asn: {asn}, ip_address: 203.0.113.{ip}, tags: {{ Name: cgw-{i} }} }} }}\n\
             \x20 vpn_{i}:\n    type: aws.ec2.vpn_connection\n    region: us-east-1\n    properties:\n      customer_gateway_id: \"${{cgw_{i}.id}}\"\n      vpn_gateway_id: \"${{vgw.id}}\"\n      options:\n        static_routes_only: false\n        tunnel_options: [{{ tunnel_inside_cidr: 169.254.1{i}.0/30 }}, {{ tunnel_inside_cidr: 169.254.1{i}.4/30 }}]\n      tags: {{ Name: vpn-{i} }}\n",
            asn = 65010 + i,
            ip = 10 + i,
        ));
    }
    let n = calls_of_a_no_change_plan(dir.path(), &sb, &spec);
    let count = |op: &str| n.get(op).and_then(Value::as_u64).unwrap_or(0);
    assert_eq!(count("DescribeCustomerGateways"), 1, "{n:?}");
    assert_eq!(count("DescribeVpnConnections"), 1, "{n:?}");
    // The lone gateway's own read, and its ASN for the connections' group.
    assert_eq!(count("DescribeVpnGateways"), 2, "{n:?}");

    // A connection deleted outside tandem (listed as `deleted` for a while)
    // is found gone by the group read.
    python(
        &sb,
        "e = c('ec2')\n\
         v = e.describe_vpn_connections(Filters=[{'Name': 'tag:Name', 'Values': ['vpn-1']}])['VpnConnections'][0]['VpnConnectionId']\n\
         e.delete_vpn_connection(VpnConnectionId=v)",
    );
    let o = tandem(dir.path(), &sb, &["plan", "--detailed-exitcode"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "expected changes: {out}\n{}", text(&o.stderr));
    assert!(out.contains("+ vpn_1 (aws.ec2.vpn_connection, us-east-1) will be created"), "{out}");
    assert!(out.contains("Plan: 1 to create, 0 to update, 0 to replace, 0 to delete."), "{out}");
}
