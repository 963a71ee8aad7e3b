//! `tandem migrate` end to end: the seed's Terraform state (written by a
//! real Terraform run against the sandbox, tests/fixtures/migrate/seed; the
//! GCP half by hand, see its gcp/README.md) migrated into a fresh sandbox
//! that holds the same resources, recreated from the state's values with
//! boto3 and the google-cloud-compute client. Then `tandem plan
//! --detailed-exitcode` must exit 0, and neither the migration nor the plan
//! may have made a single mutating call (the sandbox counts every call).
//! Terraform is not needed.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod support;
use support::{root, sandbox, text, venv, Sandbox, TestEnv};

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/migrate").join(name)
}

fn python(args: &[&str], stdin_script: Option<&str>) -> Output {
    let mut c = Command::new(venv().join("bin/python"));
    match stdin_script {
        Some(s) => c.arg("-c").arg(s).args(args),
        None => c.args(args),
    };
    c.output().unwrap()
}

fn tandem(sb: &Sandbox, dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .current_dir(dir)
        .aws_env(&sb.url)
        .gcp_env(&sb.url)
        .env_remove("AWS_REGION")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn admin(sb: &Sandbox, method: &str, path: &str, body: &str) -> Value {
    let script = "import sys, urllib.request\nreq = urllib.request.Request(sys.argv[1], data=(sys.argv[3].encode() if sys.argv[3] else None), method=sys.argv[2], headers={'content-type': 'application/json'})\nprint(urllib.request.urlopen(req).read().decode() or '{}')";
    let o = python(&[&format!("{}{path}", sb.url), method, body], Some(script));
    assert!(o.status.success(), "admin {path}: {}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap_or(Value::Null)
}

/// The calls that change something, from the sandbox's accounting.
fn mutating(calls: &Value) -> Vec<String> {
    let verbs = [
        "Create",
        "Update",
        "Delete",
        "Put",
        "Associate",
        "Disassociate",
        "Claim",
        "Release",
        "Replicate",
        "Tag",
        "Untag",
        "Attach",
        "Detach",
        "Modify",
        "Enable",
        "Disable",
        "Confirm",
        "Add",
        "Remove",
        "Start",
        "Stop",
        "Increase",
        "Decrease",
    ];
    calls["calls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let op = c["operation"].as_str().unwrap_or_default();
            let gcp_write = op.ends_with(".POST") || op.ends_with(".PUT") || op.ends_with(".PATCH") || op.ends_with(".DELETE");
            (verbs.iter().any(|v| op.starts_with(v)) || gcp_write).then(|| format!("{} {} {op} x{}", c["service"], c["region"], c["count"]))
        })
        .collect()
}

/// A fresh sandbox holding the fixture's resources, and the fixture's state
/// rewritten with the ids that sandbox gave them.
fn adopted_cloud(name: &str) -> (Sandbox, tempfile::TempDir, PathBuf) {
    let sb = sandbox();
    admin(
        &sb,
        "POST",
        "/_tandem/seed/phone-numbers",
        r#"{"region":"us-east-1","numbers":[{"PhoneNumber":"+12065550100","PhoneNumberCountryCode":"US","PhoneNumberType":"DID"},{"PhoneNumber":"+12065550101","PhoneNumberCountryCode":"US","PhoneNumberType":"DID"}]}"#,
    );
    admin(
        &sb,
        "POST",
        "/_tandem/seed/hosted-connections",
        r#"{"region":"us-east-1","connectionId":"dxcon-ffgcp001","connectionName":"gcp-partner-interconnect","bandwidth":"1Gbps","vlan":101,"partnerName":"Equinix"}"#,
    );
    let state = fixture(name).join("terraform.tfstate");
    let zip = fixture(name).join("controller.zip");
    let o = python(
        &[root().join("tests/python/recreate_from_tfstate.py").to_str().unwrap(), &sb.url, state.to_str().unwrap(), zip.to_str().unwrap()],
        None,
    );
    assert!(o.status.success(), "recreating the fixture's resources failed: {}", text(&o.stderr));
    let subs: serde_json::Map<String, Value> = serde_json::from_slice(&o.stdout).unwrap();
    let mut tf = std::fs::read_to_string(&state).unwrap();
    let mut pairs: Vec<(&String, &str)> = subs.iter().map(|(k, v)| (k, v.as_str().unwrap())).collect();
    pairs.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    for (old, new) in pairs {
        tf = tf.replace(old.as_str(), new);
    }
    let dir = tempfile::tempdir().unwrap();
    let adopted = dir.path().join("terraform.tfstate");
    std::fs::write(&adopted, tf).unwrap();
    (sb, dir, adopted)
}

#[test]
fn the_seed_migrates_and_plans_no_change_with_no_mutating_call() {
    let (sb, dir, tfstate) = adopted_cloud("seed");
    admin(&sb, "DELETE", "/_tandem/calls", "");
    let out = dir.path().join("tandem");
    let o = tandem(
        &sb,
        dir.path(),
        &["migrate", "--from-tfstate", tfstate.to_str().unwrap(), "--out", "tandem", "--tf-dir", fixture("seed").to_str().unwrap()],
    );
    let report = text(&o.stdout);
    assert!(o.status.success(), "migrate failed: {report}\n{}", text(&o.stderr));
    let spec = std::fs::read_to_string(out.join("tandem.yaml")).unwrap();
    // Stages from the seed's modules, for_each from Terraform's for_each and count.
    for stage in ["aws_connect", "gcp_cloud_router", "aws_gcp_interconnect", "contact_routing_config"] {
        assert!(spec.contains(&format!("stage: {stage}")), "no stage {stage}:\n{spec}");
    }
    assert!(spec.contains("for_each:"), "{spec}");
    // References rebuilt across resources and clouds.
    assert!(spec.contains("${vpc_primary.id}"), "{spec}");
    assert!(spec.contains("${ha_vpn_gateway_vpn.interface0_ip}"), "{spec}");
    assert!(spec.contains("pre_shared_key}"), "the tunnels' secrets come from the AWS outputs: {spec}");
    // What Terraform had that tandem has no kind for is listed, with the reason.
    assert!(report.contains("module.aws_connect.terraform_data.replica: tandem has no resource kind for terraform_data"), "{report}");
    let o = tandem(&sb, &out, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "the plan after migrate is not empty:\n{}\n{}\n--- spec ---\n{spec}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let calls = admin(&sb, "GET", "/_tandem/calls", "");
    assert_eq!(mutating(&calls), Vec::<String>::new(), "migrate and plan made mutating calls");
    assert!(!calls["calls"].as_array().unwrap().is_empty(), "the plan read nothing: {calls}");
    // Secrets never reach the spec or the report.
    let tf: Value = serde_json::from_str(&std::fs::read_to_string(&tfstate).unwrap()).unwrap();
    let psk = tf["resources"].as_array().unwrap().iter().find(|r| r["type"] == "aws_vpn_connection").unwrap()["instances"][0]["attributes"]
        ["tunnel1_preshared_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!spec.contains(&psk) && !report.contains(&psk), "a pre-shared key leaked");
}

#[test]
fn a_state_in_an_s3_backend_is_read_from_the_bucket() {
    let sb = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let script = "import sys, boto3\ns3 = boto3.client('s3', region_name='us-east-1', endpoint_url=sys.argv[1], aws_access_key_id='testing', aws_secret_access_key='testing')\ns3.create_bucket(Bucket='tf-state')\ns3.put_object(Bucket='tf-state', Key='contact-center/terraform.tfstate', Body=open(sys.argv[2], 'rb').read())";
    let o = python(&[&sb.url, fixture("seed").join("terraform.tfstate").to_str().unwrap()], Some(script));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o =
        tandem(&sb, dir.path(), &["migrate", "--from-tfstate", "s3://tf-state/contact-center/terraform.tfstate", "--out", "out", "--json"]);
    assert!(o.status.success(), "{}\n{}", text(&o.stdout), text(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let resources = report["entries"].as_array().unwrap().iter().filter(|e| e["outcome"] == "resource").count();
    assert!(resources > 30, "{report}");
    assert!(dir.path().join("out/.tandem/state.json").exists());
    // A missing object is an error that says where it looked.
    let o = tandem(&sb, dir.path(), &["migrate", "--from-tfstate", "s3://tf-state/nope.tfstate", "--out", "other"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o.stderr).contains("s3://tf-state/nope.tfstate"), "{}", text(&o.stderr));
}

#[test]
fn bad_input_is_refused_with_the_place_and_nothing_is_written() {
    let sb = sandbox();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.tfstate"), "{\n  \"version\": 4,\n  \"resources\": [\n}").unwrap();
    let o = tandem(&sb, dir.path(), &["migrate", "--from-tfstate", "bad.tfstate", "--out", "out"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("bad.tfstate:4:"), "{}", text(&o.stderr));
    std::fs::write(dir.path().join("old.tfstate"), r#"{"version": 3, "modules": []}"#).unwrap();
    let o = tandem(&sb, dir.path(), &["migrate", "--from-tfstate", "old.tfstate", "--out", "out"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o.stderr).contains("version 3"), "{}", text(&o.stderr));
    assert!(!dir.path().join("out").exists());
    // An existing spec is not overwritten without --force.
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    std::fs::write(dir.path().join("out/tandem.yaml"), "version: 1\n").unwrap();
    let o = tandem(
        &sb,
        dir.path(),
        &["migrate", "--from-tfstate", fixture("seed").join("terraform.tfstate").to_str().unwrap(), "--out", "out"],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o.stderr).contains("--force"), "{}", text(&o.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("out/tandem.yaml")).unwrap(), "version: 1\n");
}

#[test]
fn values_tandem_refuses_leave_that_resource_out_with_the_reason() {
    let sb = sandbox();
    let dir = tempfile::tempdir().unwrap();
    // A table name shorter than DynamoDB's minimum of 3 (tandem checks it); the VPC next to it migrates.
    let state = serde_json::json!({"version": 4, "terraform_version": "1.11.4", "resources": [
        {"mode": "managed", "type": "aws_dynamodb_table", "name": "t", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
         "instances": [{"attributes": {"arn": "arn:aws:dynamodb:us-east-1:123456789012:table/t", "name": "t", "hash_key": "id", "attribute": [{"name": "id", "type": "S"}], "billing_mode": "PAY_PER_REQUEST"}}]},
        {"mode": "managed", "type": "aws_vpc", "name": "main", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
         "instances": [{"attributes": {"id": "vpc-0123456789abcdef0", "arn": "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0123456789abcdef0", "cidr_block": "10.9.0.0/16"}}]}]});
    std::fs::write(dir.path().join("s.tfstate"), state.to_string()).unwrap();
    let o = tandem(&sb, dir.path(), &["migrate", "--from-tfstate", "s.tfstate", "--out", "out"]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", text(&o.stderr));
    assert!(
        out.contains(
            "aws_dynamodb_table.t: its values do not pass tandem's checks (`table_name` must be 3 to 255 characters long, found 1)"
        ),
        "{out}"
    );
    let spec = std::fs::read_to_string(dir.path().join("out/tandem.yaml")).unwrap();
    assert!(spec.contains("vpc_main:") && !spec.contains("dynamodb_table_t:"), "{spec}");
}
