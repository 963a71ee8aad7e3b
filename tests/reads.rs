//! How many calls a no-change plan makes, counted by the sandbox
//! (`/_tandem/calls`): the benchmark stack of scripts/bench-vs-terraform
//! (VPC + subnet + Kinesis stream + DynamoDB table, groups over two regions)
//! is applied with the real `tandem` binary, then planned. EC2 resources of
//! one kind and region are read together (one DescribeVpcs, one
//! DescribeRouteTables, one DescribeSubnets per region), so reads per resource
//! stay well under what one-by-one reads cost (2.25).

mod support;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::{sandbox, text, venv, Sandbox, TestEnv};

/// The benchmark stack: `groups` x (VPC, subnet, stream, table), alternating
/// between us-east-1 and us-west-2.
fn stack(groups: usize) -> String {
    let mut s = String::from("version: 1\nname: reads\nresources:\n");
    for i in 0..groups {
        let region = if i % 2 == 0 { "us-east-1" } else { "us-west-2" };
        s.push_str(&format!(
            "  vpc_{i}:\n    type: aws.ec2.vpc\n    region: {region}\n    properties: {{ cidr_block: 10.{i}.0.0/16, tags: {{ Name: bench-{i} }} }}\n\
             \x20 subnet_{i}:\n    type: aws.ec2.subnet\n    region: {region}\n    properties: {{ vpc_id: \"${{vpc_{i}.id}}\", cidr_block: 10.{i}.1.0/24, tags: {{ Name: bench-{i} }} }}\n\
             \x20 stream_{i}:\n    type: aws.kinesis.stream\n    region: {region}\n    properties: {{ stream_name: bench-{i}, shard_count: 1, tags: {{ Name: bench-{i} }} }}\n\
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

#[test]
fn a_no_change_plan_reads_ec2_kinds_by_region_not_by_resource() {
    let sb = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let groups = 24;
    std::fs::write(dir.path().join("tandem.yaml"), stack(groups)).unwrap();
    let o = tandem(dir.path(), &sb, &["apply", "--auto-approve"]);
    assert!(o.status.success(), "apply: {}\n{}", text(&o.stdout), text(&o.stderr));

    python(&sb, "admin('DELETE', '/_tandem/calls')");
    let o = tandem(dir.path(), &sb, &["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "expected no changes: {}\n{}", text(&o.stdout), text(&o.stderr));
    let n = calls(&sb);
    let count = |op: &str| n.get(op).and_then(Value::as_u64).unwrap_or(0);
    // One call per region for each batched describe, whatever the count of VPCs and subnets.
    assert_eq!(count("DescribeVpcs"), 2, "{n:?}");
    assert_eq!(count("DescribeRouteTables"), 2, "{n:?}");
    assert_eq!(count("DescribeSubnets"), 2, "{n:?}");
    // The DNS attributes have no batched read: one call per VPC and attribute.
    assert_eq!(count("DescribeVpcAttribute"), 2 * groups as u64, "{n:?}");
    let resources = 4 * groups;
    let total: u64 = n.values().filter_map(Value::as_u64).sum();
    let per_resource = total as f64 / resources as f64;
    // One by one this was 2.25 (VPC 4 calls, subnet 1, stream 2, table 2).
    assert!(per_resource <= 1.6, "{total} calls for {resources} resources ({per_resource:.2} each): {n:?}");
    // No call mutates anything in a plan.
    assert!(n.keys().all(|op| ["Describe", "List", "Get"].iter().any(|p| op.starts_with(p))), "{n:?}");

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
