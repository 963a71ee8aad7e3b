//! The reference stack (specs/active-active.yaml, as it is, with a
//! `backend:` block added to a copy) applied from two working directories
//! that share one S3 state, in `tandem sandbox --moto`: what one applies the
//! other plans as no change and can destroy; the S3 object holds no secret
//! of the stack (the VPN pre-shared keys AWS made, the Direct Connect BGP
//! key) in plaintext; its serial counts the object's versions.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod support;
use support::{root, sandbox, text, venv, Sandbox, TestEnv};

const BACKEND: &str = "backend:\n  s3: { bucket: acme-contact-center-state, key: contact-center/state.json, region: us-east-1, kms_key_id: alias/tandem-state, use_path_style: true }\n";

/// A working directory with the reference spec (plus the backend block), its vars, flows and Lambda zips.
fn workdir(base: &Path, name: &str) -> PathBuf {
    let d = base.join(name);
    std::fs::create_dir_all(d.join("flows")).unwrap();
    let spec = std::fs::read_to_string(root().join("specs/active-active.yaml")).unwrap();
    let at = spec.find("\nname: contact-center\n").expect("the reference spec names itself") + "\nname: contact-center\n".len();
    std::fs::write(d.join("active-active.yaml"), format!("{}{BACKEND}{}", &spec[..at], &spec[at..])).unwrap();
    std::fs::copy(root().join("specs/active-active.vars.yaml"), d.join("active-active.vars.yaml")).unwrap();
    for entry in std::fs::read_dir(root().join("specs/flows")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, d.join("flows").join(p.file_name().unwrap())).unwrap();
    }
    let o = Command::new(venv().join("bin/python"))
        .arg("-c")
        .arg("import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z: z.writestr('bootstrap', '#!/bin/sh\\n')")
        .arg(d.join("controller.zip"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    // moto stores the code without running it; any zip serves for both functions.
    std::fs::copy(d.join("controller.zip"), d.join("agent-state.zip")).unwrap();
    d
}

struct Team {
    sb: Sandbox,
}

impl Team {
    fn tandem(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.arg(args[0]);
        if !["state", "force-unlock", "init"].contains(&args[0]) {
            cmd.args([
                "--spec",
                "active-active.yaml",
                "--var-file",
                "active-active.vars.yaml",
                "--var",
                "controller_zip=controller.zip",
                "--var",
                "agent_state_zip=agent-state.zip",
            ]);
        } else {
            cmd.args(&args[1..2]).args(["--spec", "active-active.yaml"]);
        }
        let rest = if ["state"].contains(&args[0]) { &args[2..] } else { &args[1..] };
        cmd.args(rest)
            .current_dir(dir)
            .aws_env(&self.sb.url)
            .gcp_env(&self.sb.url)
            .env_remove("TANDEM_STATE_PASSPHRASE")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
    fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let o = self.tandem(dir, args);
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
    fn admin(&self, path: &str, body: Value) {
        self.py(&format!(
            "req = urllib.request.Request(E + '{path}', data={body:?}.encode(), method='POST', headers={{'content-type': 'application/json'}})\nurllib.request.urlopen(req).read()\nprint('{{}}')",
            body = body.to_string()
        ));
    }
    fn object(&self) -> String {
        self.py("print(json.dumps(c('s3').get_object(Bucket='acme-contact-center-state', Key='contact-center/state.json')['Body'].read().decode()))")
            .as_str()
            .unwrap()
            .to_string()
    }
}

#[test]
fn reference_stack_from_two_working_directories_sharing_one_s3_backend() {
    let team = Team { sb: sandbox() };
    let base = tempfile::tempdir().unwrap();
    let (alice, bob) = (workdir(base.path(), "alice"), workdir(base.path(), "bob"));
    team.py("s3 = c('s3'); s3.create_bucket(Bucket='acme-contact-center-state')\n\
         s3.put_bucket_versioning(Bucket='acme-contact-center-state', VersioningConfiguration={'Status': 'Enabled'})\n\
         k = c('kms').create_key()['KeyMetadata']['KeyId']; c('kms').create_alias(AliasName='alias/tandem-state', TargetKeyId=k)\n\
         print('{}')");
    team.admin(
        "/_tandem/seed/phone-numbers",
        json!({"region": "us-east-1", "numbers": [
            {"PhoneNumber": "+12065550100", "PhoneNumberCountryCode": "US", "PhoneNumberType": "DID"},
            {"PhoneNumber": "+12065550101", "PhoneNumberCountryCode": "US", "PhoneNumberType": "DID"}]}),
    );
    team.admin(
        "/_tandem/seed/hosted-connections",
        json!({"region": "us-east-1", "connectionId": "dxcon-ffgcp001", "connectionName": "gcp-partner-interconnect", "bandwidth": "1Gbps", "vlan": 101, "partnerName": "Equinix"}),
    );

    let out = team.ok(&alice, &["apply", "--auto-approve"]);
    assert!(out.contains("Apply complete"), "{out}");
    // Bob, in his own directory, sees Alice's stack: nothing to do.
    let o = team.tandem(&bob, &["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(team.ok(&alice, &["state", "list"]), team.ok(&bob, &["state", "list"]));

    // No secret of the stack in plaintext in the shared object.
    let object = team.object();
    let secrets = team.py(
        "ec2, dx = c('ec2'), c('directconnect')\n\
         keys = [t['PreSharedKey'] for v in ec2.describe_vpn_connections()['VpnConnections'] for t in v['Options']['TunnelOptions']]\n\
         keys += [p['authKey'] for v in dx.describe_virtual_interfaces()['virtualInterfaces'] for p in v.get('bgpPeers', []) if p.get('authKey')]\n\
         print(json.dumps(keys))",
    );
    let secrets: Vec<String> = serde_json::from_value(secrets).unwrap();
    assert!(secrets.len() >= 4, "the four tunnel keys at least: {secrets:?}");
    for s in &secrets {
        assert!(!object.contains(s.as_str()), "a secret ({s}) is in plaintext in the S3 object");
    }
    let st: Value = serde_json::from_str(&object).unwrap();
    assert_eq!(st["encryption"]["method"], json!("kms"));
    assert!(object.contains("tandem:encrypted"));

    // Bob destroys it; Alice's next plan would make everything again.
    let out = team.ok(&bob, &["destroy", "--auto-approve"]);
    assert!(out.contains("Destroy complete"), "{out}");
    let o = team.tandem(&alice, &["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(!text(&o.stdout).contains(" to delete") || text(&o.stdout).contains("0 to delete"), "{}", text(&o.stdout));
    let st: Value = serde_json::from_str(&team.object()).unwrap();
    assert!(st["resources"].as_object().unwrap().is_empty());
    let versions = team.py("print(json.dumps(len([v for v in c('s3').list_object_versions(Bucket='acme-contact-center-state', Prefix='contact-center/state.json').get('Versions', []) if v['Key'] == 'contact-center/state.json'])))");
    assert_eq!(json!(st["serial"]), versions, "every write is one object version");
}
