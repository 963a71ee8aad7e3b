//! End to end: the real `tandem` binary against a real moto server on
//! loopback, through the official AWS SDK, checked by an independent client
//! (boto3). apply -> no-change plan -> in-place update -> replace -> destroy
//! leaves nothing -> import of an object made outside tandem.

use serde_json::Value;
use std::process::{Command, Output, Stdio};

mod support;
use support::{moto, text, venv_bin, Moto, TestEnv};

struct Run {
    dir: tempfile::TempDir,
    moto: Moto,
}

impl Run {
    fn new() -> Run {
        Run { dir: tempfile::tempdir().unwrap(), moto: moto() }
    }
    fn write_spec(&self, text: &str) {
        std::fs::write(self.dir.path().join("tandem.yaml"), text).unwrap();
    }
    fn tandem(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(args)
            .current_dir(self.dir.path())
            .aws_env(&self.moto.url)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
    fn ok(&self, args: &[&str]) -> String {
        let o = self.tandem(args);
        assert!(o.status.success(), "tandem {args:?} failed: {}\n{}", text(&o.stdout), text(&o.stderr));
        text(&o.stdout)
    }
    /// Ask boto3 (an independent client) what exists.
    fn boto3(&self, script: &str) -> Value {
        let prelude = format!(
            "import boto3, json\nE='{}'\ndef c(s, r='us-east-1'): return boto3.client(s, region_name=r, endpoint_url=E, aws_access_key_id='testing', aws_secret_access_key='testing')\n",
            self.moto.url
        );
        let o = Command::new(venv_bin("python")).arg("-c").arg(format!("{prelude}{script}")).output().unwrap();
        assert!(o.status.success(), "boto3 check failed: {}", text(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("boto3 printed no JSON ({e}): {}", text(&o.stdout)))
    }
}

const SPEC: &str = r#"version: 1
name: e2e
variables:
  region: { type: string, default: us-east-1 }
  retention: { type: number, default: 24 }
  vpc_cidr: { type: string, default: 10.0.0.0/16 }
resources:
  vpc:
    type: aws.ec2.vpc
    region: ${var.region}
    properties:
      cidr_block: ${var.vpc_cidr}
      tags: { Name: e2e-vpc }
  subnet:
    type: aws.ec2.subnet
    region: ${var.region}
    properties:
      vpc_id: ${vpc.id}
      cidr_block: 10.0.1.0/24
  ctr:
    type: aws.kinesis.stream
    region: ${var.region}
    properties:
      shard_count: 1
      retention_period_hours: ${var.retention}
      tags: { Purpose: ctr }
  agent_state:
    type: aws.dynamodb.table
    region: ${var.region}
    properties:
      attribute_definitions: [{ attribute_name: agent_id, attribute_type: S }]
      key_schema: [{ attribute_name: agent_id, key_type: HASH }]
      billing_mode: PAY_PER_REQUEST
      stream_specification: { stream_enabled: true, stream_view_type: NEW_AND_OLD_IMAGES }
outputs:
  vpc_id: ${vpc.id}
  stream_arn: ${ctr.arn}
"#;

const INSPECT: &str = r#"
ec2 = c('ec2'); k = c('kinesis'); d = c('dynamodb')
vpcs = [{'id': v['VpcId'], 'cidr': v['CidrBlock'], 'tags': {t['Key']: t['Value'] for t in v.get('Tags', [])}}
        for v in ec2.describe_vpcs()['Vpcs'] if not v.get('IsDefault')]
subnets = [{'id': s['SubnetId'], 'vpc': s['VpcId'], 'cidr': s['CidrBlock']} for s in ec2.describe_subnets()['Subnets'] if s['VpcId'] in [v['id'] for v in vpcs]]
streams = {}
for n in k.list_streams()['StreamNames']:
    s = k.describe_stream_summary(StreamName=n)['StreamDescriptionSummary']
    streams[n] = {'retention': s['RetentionPeriodHours'], 'shards': s['OpenShardCount'],
                  'tags': {t['Key']: t['Value'] for t in k.list_tags_for_stream(StreamName=n)['Tags']}}
tables = {}
for n in d.list_tables()['TableNames']:
    t = d.describe_table(TableName=n)['Table']
    tables[n] = {'billing': t.get('BillingModeSummary', {}).get('BillingMode'), 'stream': t.get('StreamSpecification', {}),
                 'keys': [k['AttributeName'] for k in t['KeySchema']]}
print(json.dumps({'vpcs': vpcs, 'subnets': subnets, 'streams': streams, 'tables': tables}))
"#;

#[test]
fn apply_plan_update_replace_destroy_import() {
    let run = Run::new();
    run.write_spec(SPEC);

    // Validate: no cloud calls, and a clean spec passes.
    assert!(run.ok(&["validate"]).contains("is valid: 4 resources"));

    // Apply from empty.
    let out = run.ok(&["apply", "--auto-approve"]);
    assert!(out.contains("Apply complete: 4 created"), "{out}");
    let seen = run.boto3(INSPECT);
    let vpc = &seen["vpcs"][0];
    assert_eq!(vpc["cidr"], "10.0.0.0/16");
    assert_eq!(vpc["tags"]["Name"], "e2e-vpc");
    assert_eq!(vpc["tags"]["tandem:address"], "vpc", "the crash-recovery tag is set");
    assert_eq!(seen["subnets"][0]["vpc"], vpc["id"]);
    assert_eq!(seen["streams"]["ctr"]["retention"], 24, "stream_name defaults to the resource key");
    assert_eq!(seen["streams"]["ctr"]["tags"]["Purpose"], "ctr");
    assert_eq!(seen["tables"]["agent_state"]["billing"], "PAY_PER_REQUEST");
    assert_eq!(seen["tables"]["agent_state"]["stream"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
    assert_eq!(run.ok(&["output", "vpc_id"]).trim(), vpc["id"].as_str().unwrap());

    // A second plan shows no changes (exit 0 with --detailed-exitcode).
    let o = run.tandem(&["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stdout).contains("No changes"));

    // An in-place update: plan shows it field by field (exit 2), apply makes it.
    let o = run.tandem(&["plan", "--detailed-exitcode", "--var", "retention=48"]);
    assert_eq!(o.status.code(), Some(2));
    let plan = text(&o.stdout);
    assert!(plan.contains("~ ctr (aws.kinesis.stream, us-east-1) will be updated in place"), "{plan}");
    assert!(plan.contains("retention_period_hours: 24 -> 48"), "{plan}");
    // A saved plan applies as made...
    run.ok(&["plan", "--var", "retention=48", "--out", "update.plan"]);
    let out = run.ok(&["apply", "update.plan"]);
    assert!(out.contains("1 updated"), "{out}");
    assert_eq!(run.boto3(INSPECT)["streams"]["ctr"]["retention"], 48);
    // ...and a saved plan whose state moved on is refused.
    run.ok(&["plan", "--out", "stale.plan"]);
    run.ok(&["apply", "--auto-approve"]);
    let o = run.tandem(&["apply", "stale.plan"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("the state changed since this plan was made"), "{}", text(&o.stderr));
    let o = run.tandem(&["apply", "stale.plan", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let last: serde_json::Value = serde_json::from_str(text(&o.stdout).lines().last().unwrap_or_default()).unwrap();
    assert_eq!(last["error"]["code"], "tandem::stale_plan", "{}", text(&o.stdout));

    // Drift made out of band shows up in the plan.
    run.boto3("c('kinesis').add_tags_to_stream(StreamName='ctr', Tags={'Owner': 'someone'}); print('{}')");
    let plan = run.ok(&["plan"]);
    assert!(plan.contains("tags: {\"Owner\":\"someone\",\"Purpose\":\"ctr\"} -> {\"Purpose\":\"ctr\"}"), "{plan}");
    run.ok(&["apply", "--auto-approve"]);
    assert!(run.boto3(INSPECT)["streams"]["ctr"]["tags"].get("Owner").is_none());

    // A force-new change replaces the VPC, and with it the subnet that needs its id.
    let spec2 = SPEC.replace("cidr_block: 10.0.1.0/24", "cidr_block: 10.9.1.0/24");
    run.write_spec(&spec2);
    let plan = run.ok(&["plan", "--var", "vpc_cidr=10.9.0.0/16"]);
    assert!(plan.contains("-/+ vpc (aws.ec2.vpc, us-east-1) will be replaced: `cidr_block` forces replacement"), "{plan}");
    assert!(plan.contains("-/+ subnet"), "{plan}");
    let out = run.ok(&["apply", "--auto-approve", "--var", "vpc_cidr=10.9.0.0/16"]);
    assert!(out.contains("2 replaced"), "{out}");
    let seen = run.boto3(INSPECT);
    assert_eq!(seen["vpcs"].as_array().unwrap().len(), 1, "the old VPC is gone: {seen}");
    assert_eq!(seen["vpcs"][0]["cidr"], "10.9.0.0/16");
    assert_eq!(seen["subnets"][0]["cidr"], "10.9.1.0/24");

    // Without a terminal and without --auto-approve, destroy refuses rather than hang.
    let o = run.tandem(&["destroy", "--var", "vpc_cidr=10.9.0.0/16"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("refusing to destroy"), "{}", text(&o.stderr));

    // Destroy leaves nothing.
    let out = run.ok(&["destroy", "--auto-approve", "--var", "vpc_cidr=10.9.0.0/16"]);
    assert!(out.contains("4 deleted"), "{out}");
    let seen = run.boto3(INSPECT);
    assert_eq!(seen["vpcs"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["streams"], serde_json::json!({}), "{seen}");
    assert_eq!(seen["tables"], serde_json::json!({}), "{seen}");

    // Import a VPC and a stream created outside tandem; the plan then shows what differs.
    let made = run.boto3(
        "v = c('ec2').create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']\nc('kinesis').create_stream(StreamName='ctr', ShardCount=1)\nprint(json.dumps({'vpc': v}))",
    );
    let vpc_id = made["vpc"].as_str().unwrap();
    run.write_spec(SPEC);
    let out = run.ok(&["import", "vpc", vpc_id]);
    assert!(out.contains(&format!("Imported {vpc_id} (aws.ec2.vpc) as `vpc`")), "{out}");
    run.ok(&["import", "ctr", "ctr"]);
    let plan = run.ok(&["plan"]);
    assert!(plan.contains("~ vpc (aws.ec2.vpc, us-east-1) will be updated in place"), "{plan}");
    assert!(plan.contains("tags: {} -> {\"Name\":\"e2e-vpc\"}"), "{plan}");
    assert!(plan.contains("~ ctr (aws.kinesis.stream, us-east-1) will be updated in place"), "{plan}");
    assert!(plan.contains("+ subnet"), "{plan}");
    let o = run.tandem(&["import", "vpc", vpc_id]);
    assert!(text(&o.stderr).contains("already in the state"), "{}", text(&o.stderr));
    let out = run.ok(&["apply", "--auto-approve"]);
    assert!(out.contains("Apply complete"), "{out}");
    assert!(run.ok(&["plan"]).contains("No changes"));
    run.ok(&["destroy", "--auto-approve"]);
}

#[test]
fn invalid_specs_fail_before_any_cloud_call_with_positions() {
    let run = Run::new();
    run.write_spec(&SPEC.replace("shard_count: 1", "shard_cuont: 1").replace("${vpc.id}", "${vcp.id}"));
    let o = run.tandem(&["plan"]);
    assert_eq!(o.status.code(), Some(3), "invalid spec exit code");
    let err = text(&o.stderr);
    assert!(err.contains("tandem.yaml:24:7: unknown field `shard_cuont`"), "{err}");
    assert!(err.contains("did you mean `shard_count`?"), "{err}");
    assert!(err.contains("did you mean `${vpc.id}`?"), "{err}");
    let o = run.tandem(&["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(1), "with --detailed-exitcode every error is 1");
    let o = run.tandem(&["validate", "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["problems"][0]["line"], 24);
    assert_eq!(v["problems"][0]["column"], 7);
    // A cycle prints its path.
    run.write_spec("version: 1\nresources:\n  a:\n    type: aws.ec2.subnet\n    region: us-east-1\n    properties: { vpc_id: \"${b.id}\", cidr_block: 10.0.0.0/24 }\n  b:\n    type: aws.ec2.subnet\n    region: us-east-1\n    properties: { vpc_id: \"${a.id}\", cidr_block: 10.0.1.0/24 }\n");
    let o = run.tandem(&["validate"]);
    assert!(text(&o.stderr).contains("dependency cycle: a -> b -> a"), "{}", text(&o.stderr));
    // The graph as DOT.
    run.write_spec(SPEC);
    let dot = run.ok(&["graph"]);
    assert!(dot.contains("\"subnet\" -> \"vpc\";"), "{dot}");
}

#[test]
fn stream_and_table_settings_update_in_place() {
    let run = Run::new();
    let spec = |mode: &str, shards: u32, billing: &str| {
        format!(
            "version: 1\nresources:\n  ctr:\n    type: aws.kinesis.stream\n    region: us-west-2\n    properties:\n      stream_mode_details: {{ stream_mode: {mode} }}\n{}  table:\n    type: aws.dynamodb.table\n    region: us-west-2\n    properties:\n      attribute_definitions: [{{ attribute_name: id, attribute_type: S }}]\n      key_schema: [{{ attribute_name: id, key_type: HASH }}]\n      billing_mode: {billing}\n{}",
            if mode == "PROVISIONED" { format!("      shard_count: {shards}\n") } else { String::new() },
            if billing == "PROVISIONED" { "      provisioned_throughput: { read_capacity_units: 5, write_capacity_units: 5 }\n" } else { "" }
        )
    };
    run.write_spec(&spec("PROVISIONED", 1, "PAY_PER_REQUEST"));
    run.ok(&["apply", "--auto-approve"]);
    run.write_spec(&spec("PROVISIONED", 2, "PROVISIONED"));
    let plan = run.ok(&["plan"]);
    assert!(plan.contains("shard_count: 1 -> 2"), "{plan}");
    assert!(plan.contains("billing_mode          : \"PAY_PER_REQUEST\" -> \"PROVISIONED\""), "{plan}");
    run.ok(&["apply", "--auto-approve"]);
    let seen = run.boto3(
        "s = c('kinesis', 'us-west-2').describe_stream_summary(StreamName='ctr')['StreamDescriptionSummary']\nt = c('dynamodb', 'us-west-2').describe_table(TableName='table')['Table']\nprint(json.dumps({'shards': s['OpenShardCount'], 'billing': t.get('BillingModeSummary', {}).get('BillingMode'), 'rcu': t['ProvisionedThroughput']['ReadCapacityUnits']}))",
    );
    assert_eq!(seen["shards"], 2, "{seen}");
    assert_eq!(seen["billing"], "PROVISIONED", "{seen}");
    assert_eq!(seen["rcu"], 5, "{seen}");
    assert!(run.ok(&["plan"]).contains("No changes"));
    run.write_spec(&spec("ON_DEMAND", 0, "PROVISIONED"));
    let plan = run.ok(&["plan"]);
    assert!(plan.contains("stream_mode_details: {\"stream_mode\":\"PROVISIONED\"} -> {\"stream_mode\":\"ON_DEMAND\"}"), "{plan}");
    run.ok(&["apply", "--auto-approve"]);
    let seen = run.boto3("s = c('kinesis', 'us-west-2').describe_stream_summary(StreamName='ctr')['StreamDescriptionSummary']\nprint(json.dumps({'mode': s['StreamModeDetails']['StreamMode']}))");
    assert_eq!(seen["mode"], "ON_DEMAND");
    assert!(run.ok(&["plan"]).contains("No changes"));
    run.ok(&["destroy", "--auto-approve"]);
}
