//! State for teams, end to end: the real `tandem` binary against one S3
//! backend in `tandem sandbox --moto` (tandem-sim in front of moto, which
//! serves S3 conditional writes and KMS), judged by boto3: applies at once
//! from two working directories (one waits, or is refused naming the
//! holder; nothing lost; the serial counts the writes), a killed holder's
//! lock forced open, no secret in plaintext in the S3 object or a plan file,
//! a `moved` rename that plans no change, state surgery, and migration from
//! a local state to S3 and back.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{sandbox, text, venv, Sandbox, TestEnv};

/// One sandbox, a versioned bucket and a KMS key; working directories share them.
struct Team {
    sb: Sandbox,
    root: tempfile::TempDir,
}

const PSK: &str = "Team_secret_psk_42";

impl Team {
    fn new() -> Team {
        let t = Team { sb: sandbox(), root: tempfile::tempdir().unwrap() };
        t.py("s3 = c('s3'); s3.create_bucket(Bucket='acme-tandem-state')\n\
             s3.put_bucket_versioning(Bucket='acme-tandem-state', VersioningConfiguration={'Status': 'Enabled'})\n\
             k = c('kms').create_key()['KeyMetadata']['KeyId']; c('kms').create_alias(AliasName='alias/tandem-state', TargetKeyId=k)\n\
             print(json.dumps({}))");
        t
    }
    fn dir(&self, name: &str, spec: &str) -> PathBuf {
        let d = self.root.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("tandem.yaml"), spec).unwrap();
        d
    }
    fn cmd(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.args(args)
            .current_dir(dir)
            .aws_env(&self.sb.url)
            .env("TANDEM_VAR_psk", PSK)
            .env_remove("TANDEM_STATE_PASSPHRASE")
            .stdin(Stdio::null());
        cmd
    }
    fn run(&self, dir: &Path, args: &[&str]) -> Output {
        self.cmd(dir, args).output().unwrap()
    }
    fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let o = self.run(dir, args);
        assert!(o.status.success(), "tandem {args:?}: {}\n{}", text(&o.stdout), text(&o.stderr));
        text(&o.stdout)
    }
    fn spawn(&self, dir: &Path, args: &[&str]) -> Child {
        self.cmd(dir, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
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
    /// The S3 object's bytes as boto3 reads them (empty when absent).
    fn object(&self, key: &str) -> String {
        let v = self.py(&format!(
            "try:\n  print(json.dumps(c('s3').get_object(Bucket='acme-tandem-state', Key='{key}')['Body'].read().decode()))\nexcept c('s3').exceptions.NoSuchKey:\n  print(json.dumps(''))"
        ));
        v.as_str().unwrap().to_string()
    }
    fn state(&self) -> Value {
        serde_json::from_str(&self.object("team/stack.json")).unwrap()
    }
    fn versions(&self) -> u64 {
        self.py("print(json.dumps(len([v for v in c('s3').list_object_versions(Bucket='acme-tandem-state', Prefix='team/stack.json').get('Versions', []) if v['Key'] == 'team/stack.json'])))")
            .as_u64()
            .unwrap()
    }
    fn delay(&self, operation: &str, ms: u64) {
        self.py(&format!(
            "req = urllib.request.Request(E + '/_tandem/delays', data=json.dumps({{'delays': [{{'service': 'ec2', 'operation': '{operation}', 'region': '*', 'delay_ms': {ms}}}]}}).encode(), method='PUT', headers={{'content-type': 'application/json'}})\nurllib.request.urlopen(req).read()\nprint('{{}}')"
        ));
    }
    fn wait_for_lock(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.object("team/stack.json.lock").is_empty() {
            assert!(Instant::now() < deadline, "no lock object appeared");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn spec(extra_backend: &str) -> String {
    format!(
        r#"version: 1
name: shared
backend:
  s3: {{ bucket: acme-tandem-state, key: team/stack.json, region: us-east-1, use_path_style: true{extra_backend} }}
variables:
  psk: {{ type: string, sensitive: true }}
resources:
  vpc_a:
    type: aws.ec2.vpc
    region: us-east-1
    properties: {{ cidr_block: 10.1.0.0/16, tags: {{ Name: team-a }} }}
  vpc_b:
    type: aws.ec2.vpc
    region: us-east-1
    properties: {{ cidr_block: 10.2.0.0/16, tags: {{ Name: team-b }} }}
  vpc_c:
    type: aws.ec2.vpc
    region: us-east-1
    properties: {{ cidr_block: 10.3.0.0/16, tags: {{ Name: team-c }} }}
  cgw:
    type: aws.ec2.customer_gateway
    region: us-east-1
    properties: {{ bgp_asn: 65010, ip_address: 203.0.113.10, tags: {{ Name: peer }} }}
  vgw:
    type: aws.ec2.vpn_gateway
    region: us-east-1
    properties: {{ amazon_side_asn: 64512, vpc_id: "${{vpc_a.id}}" }}
  vpn:
    type: aws.ec2.vpn_connection
    region: us-east-1
    properties:
      customer_gateway_id: ${{cgw.id}}
      vpn_gateway_id: ${{vgw.id}}
      options:
        static_routes_only: false
        tunnel_options: [{{ tunnel_inside_cidr: 169.254.10.0/30, pre_shared_key: "${{var.psk}}" }}, {{ tunnel_inside_cidr: 169.254.10.4/30 }}]
"#
    )
}

const KMS: &str = ", kms_key_id: alias/tandem-state";

fn wait_out(c: Child) -> Output {
    c.wait_with_output().unwrap()
}

#[test]
fn two_working_directories_apply_at_once_and_lose_nothing() {
    let t = Team::new();
    let (a, b) = (t.dir("alice", &spec(KMS)), t.dir("bob", &spec(KMS)));
    // Slow creates, so the two applies overlap.
    t.delay("CreateVpc", 1500);
    let pa = t.spawn(&a, &["apply", "--auto-approve", "--target", "vpc_a", "--lock-timeout", "2m"]);
    let pb = t.spawn(&b, &["apply", "--auto-approve", "--target", "vpc_b", "--lock-timeout", "2m"]);
    let (oa, ob) = (wait_out(pa), wait_out(pb));
    assert!(oa.status.success(), "alice: {}\n{}", text(&oa.stdout), text(&oa.stderr));
    assert!(ob.status.success(), "bob: {}\n{}", text(&ob.stdout), text(&ob.stderr));
    let waited = format!("{}{}", text(&oa.stderr), text(&ob.stderr));
    assert!(
        waited.contains("is locked by `tandem apply` (pid") && waited.contains("waiting up to 2m"),
        "one waited, naming the holder: {waited}"
    );
    let st = t.state();
    assert!(st["resources"]["vpc_a"]["id"].is_string() && st["resources"]["vpc_b"]["id"].is_string(), "nothing lost: {st}");
    assert_eq!(st["serial"].as_u64().unwrap(), t.versions(), "the serial counts the writes (one object version each)");

    // Without --lock-timeout the second is refused at once, naming the holder.
    t.delay("CreateVpc", 4000);
    let pa = t.spawn(&a, &["apply", "--auto-approve", "--target", "vpc_c"]);
    let holder = pa.id();
    t.wait_for_lock();
    let refused = t.run(&b, &["apply", "--auto-approve", "--target", "cgw"]);
    assert_eq!(refused.status.code(), Some(1));
    let e = text(&refused.stderr);
    assert!(
        e.contains(&format!("is locked by `tandem apply` (pid {holder} on")) && e.contains("lock ID") && e.contains("tandem force-unlock"),
        "{e}"
    );
    let oa = wait_out(pa);
    assert!(oa.status.success(), "{}", text(&oa.stderr));
    assert!(t.object("team/stack.json.lock").is_empty(), "the lock is released at the end");
    t.delay("CreateVpc", 0);

    // Everyone sees one state: bob's plan of the three VPCs has nothing to do.
    let o = t.run(&b, &["plan", "--detailed-exitcode", "--target", "vpc_a", "--target", "vpc_b", "--target", "vpc_c"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o.stdout), text(&o.stderr));
    let st = t.state();
    assert_eq!(st["serial"].as_u64().unwrap(), t.versions());
    let vpcs = t.py(
        "print(json.dumps(sorted(t['Value'] for v in c('ec2').describe_vpcs()['Vpcs'] for t in v.get('Tags', []) if t['Key'] == 'Name')))",
    );
    assert_eq!(vpcs, json!(["team-a", "team-b", "team-c"]), "each VPC made once");
}

#[test]
fn a_killed_holders_lock_is_forced_open() {
    let t = Team::new();
    let (a, b) = (t.dir("alice", &spec(KMS)), t.dir("bob", &spec(KMS)));
    t.delay("CreateVpc", 60_000);
    let mut pa = t.spawn(&a, &["apply", "--auto-approve", "--target", "cgw", "--target", "vpc_b"]);
    // The customer gateway is made and recorded while the VPC hangs.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let o = t.object("team/stack.json");
        if !o.is_empty() && serde_json::from_str::<Value>(&o).unwrap()["resources"]["cgw"]["id"].is_string() {
            break;
        }
        assert!(Instant::now() < deadline, "the customer gateway was never recorded");
        std::thread::sleep(Duration::from_millis(100));
    }
    let cgw = t.state()["resources"]["cgw"]["id"].clone();
    pa.kill().unwrap();
    pa.wait().unwrap();
    assert!(!t.object("team/stack.json.lock").is_empty(), "a killed holder leaves its lock");

    let o = t.run(&b, &["apply", "--auto-approve", "--target", "cgw", "--target", "vpc_b"]);
    assert_eq!(o.status.code(), Some(1));
    let e = text(&o.stderr);
    let id = e
        .split("tandem force-unlock ")
        .nth(1)
        .and_then(|s| s.split(|c: char| c.is_whitespace() || c == '`').next())
        .unwrap_or_else(|| panic!("no lock ID in: {e}"))
        .to_string();
    let lock: Value = serde_json::from_str(&t.object("team/stack.json.lock")).unwrap();
    assert_eq!(lock["id"], json!(id));
    assert_eq!(lock["operation"], json!("apply"));

    let wrong = t.run(&b, &["force-unlock", "--force", "11111111-2222-3333-4444-555555555555"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong.stderr).contains("nothing was unlocked"), "{}", text(&wrong.stderr));
    let no_force = t.run(&b, &["force-unlock", &id]);
    assert_eq!(no_force.status.code(), Some(1), "no terminal, no --force: refused");
    let out = t.ok(&b, &["force-unlock", "--force", &id]);
    assert!(out.contains(&format!("Removed the lock {id}")), "{out}");

    t.delay("CreateVpc", 0);
    t.ok(&b, &["apply", "--auto-approve", "--target", "cgw", "--target", "vpc_b"]);
    let st = t.state();
    assert_eq!(st["resources"]["cgw"]["id"], cgw, "what the killed apply recorded is kept, not made again");
    assert!(st["resources"]["vpc_b"]["id"].is_string());
    assert_eq!(st["serial"].as_u64().unwrap(), t.versions());
    assert!(t.object("team/stack.json.lock").is_empty());
}

#[test]
fn no_secret_in_plaintext_in_the_s3_object_or_the_plan_file() {
    let t = Team::new();
    let a = t.dir("alice", &spec(KMS));
    let o = t.run(&a, &["plan", "--target", "vpn", "--out", "plan.bin"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let plan = std::fs::read(a.join("plan.bin")).unwrap();
    assert!(!text(&plan).contains(PSK), "the plan file holds no secret in plaintext");
    assert!(text(&plan).contains("tandem:encrypted"));
    assert!(!text(&o.stdout).contains(PSK));
    t.ok(&a, &["apply", "plan.bin"]);

    let object = t.object("team/stack.json");
    let aws_keys = t.py("print(json.dumps([o['PreSharedKey'] for v in c('ec2').describe_vpn_connections()['VpnConnections'] for o in v['Options']['TunnelOptions']]))");
    let aws_keys: Vec<String> = serde_json::from_value(aws_keys).unwrap();
    assert_eq!(aws_keys.len(), 2);
    assert!(aws_keys.contains(&PSK.to_string()), "the key we set is the one AWS holds");
    for k in &aws_keys {
        assert!(!object.contains(k.as_str()), "secret {k} in plaintext in the S3 object");
    }
    let st: Value = serde_json::from_str(&object).unwrap();
    assert_eq!(st["encryption"]["method"], json!("kms"));
    let vpn_id = st["resources"]["vpn"]["id"].as_str().unwrap().to_string();

    // Without the key (KMS unreachable): addresses and ids still list; plans need it.
    let mut blind = t.cmd(&a, &["state", "list"]);
    blind.env("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:9").env("AWS_MAX_ATTEMPTS", "1");
    let o = blind.output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("vpn") && text(&o.stdout).contains(&vpn_id), "{}", text(&o.stdout));
    let mut blind = t.cmd(&a, &["plan"]);
    blind.env("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:9").env("AWS_MAX_ATTEMPTS", "1");
    let o = blind.output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("holds encrypted secrets this tandem could not open"), "{}", text(&o.stderr));

    // Show redacts; rotation re-encrypts under a new data key and changes nothing else.
    let shown = t.ok(&a, &["state", "show", "vpn"]);
    assert!(shown.contains("(sensitive)") && !aws_keys.iter().any(|k| shown.contains(k.as_str())), "{shown}");
    let before = st["encryption"]["key_id"].clone();
    let out = t.ok(&a, &["state", "rotate-key"]);
    assert!(out.contains("Re-encrypted"), "{out}");
    let rotated = t.state();
    assert_ne!(rotated["encryption"]["key_id"], before);
    let object = t.object("team/stack.json");
    assert!(!aws_keys.iter().any(|k| object.contains(k.as_str())));
    let o = t.run(&a, &["plan", "--detailed-exitcode", "--target", "vpn"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o.stdout), text(&o.stderr));

    // A shared state without a key configured is refused before anything is made.
    let b = t.dir("bob", &spec("").replace("key: team/stack.json", "key: other/stack.json"));
    let o = t.run(&b, &["apply", "--auto-approve", "--target", "vpc_c"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("set `kms_key_id`"), "{}", text(&o.stderr));
}

const LOCAL: &str = r#"version: 1
name: moves
resources:
  vpc:
    type: aws.ec2.vpc
    region: us-east-1
    properties: { cidr_block: 10.9.0.0/16, tags: { Name: moves } }
  subnet:
    type: aws.ec2.subnet
    region: us-east-1
    properties: { vpc_id: "${vpc.id}", cidr_block: 10.9.1.0/24 }
"#;

#[test]
fn moved_surgery_and_migration_from_local_to_s3_and_back() {
    let t = Team::new();
    let d = t.dir("carol", LOCAL);
    t.ok(&d, &["apply", "--auto-approve"]);
    let local: Value = serde_json::from_str(&std::fs::read_to_string(d.join(".tandem/state.json")).unwrap()).unwrap();

    // The spec now names S3: nothing runs until the state is migrated.
    let with_backend = LOCAL
        .replace("name: moves\n", "name: moves\nbackend:\n  s3: { bucket: acme-tandem-state, region: us-east-1, use_path_style: true }\n");
    std::fs::write(d.join("tandem.yaml"), &with_backend).unwrap();
    let o = t.run(&d, &["plan"]);
    assert_eq!(o.status.code(), Some(3), "the missing key is a spec problem: {}", text(&o.stderr));
    assert!(text(&o.stderr).contains("tandem.yaml:4:3") && text(&o.stderr).contains("needs `key`"), "{}", text(&o.stderr));
    let key = ["--backend-config", "key=team/stack.json"];
    let o = t.run(&d, &["plan", key[0], key[1]]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("tandem init --migrate-state"), "{}", text(&o.stderr));
    let out = t.ok(&d, &["init", "--migrate-state", key[0], key[1]]);
    assert!(out.contains("Copied the state (2 resources"), "{out}");
    let st = t.state();
    assert_eq!(st["lineage"], local["lineage"], "the lineage travels");
    let first = st["serial"].as_u64().unwrap();
    assert_eq!(first, local["serial"].as_u64().unwrap() + 1, "the serial goes on from the local one");
    // The environment works as well as the flag.
    let mut c = t.cmd(&d, &["plan", "--detailed-exitcode"]);
    c.env("TANDEM_BACKEND_KEY", "team/stack.json");
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o.stdout), text(&o.stderr));

    // A rename with `moved` plans no change, and apply records it without cloud calls.
    let renamed = with_backend.replace("  vpc:\n", "  main_vpc:\n").replace("${vpc.id}", "${main_vpc.id}")
        + "moved:\n  - { from: vpc, to: main_vpc }\n";
    std::fs::write(d.join("tandem.yaml"), &renamed).unwrap();
    let o = t.run(&d, &["plan", "--detailed-exitcode", key[0], key[1]]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stdout).contains("`vpc` has moved to `main_vpc`") && text(&o.stdout).contains("No changes"), "{}", text(&o.stdout));
    t.ok(&d, &["apply", "--auto-approve", key[0], key[1]]);
    let listed = t.ok(&d, &["state", "list", key[0], key[1]]);
    assert!(listed.contains("main_vpc") && !listed.lines().any(|l| l.starts_with("vpc ")), "{listed}");
    let n = t.py(
        "print(json.dumps(len([v for v in c('ec2').describe_vpcs()['Vpcs'] if any(t['Value'] == 'moves' for t in v.get('Tags', []))])))",
    );
    assert_eq!(n, json!(1), "the VPC was kept, not replaced");

    // Surgery: mv, rm, import from a file, pull and push with their checks.
    t.ok(&d, &["state", "mv", "subnet", "subnet_old", key[0], key[1]]);
    assert!(t.state()["resources"]["subnet_old"].is_object());
    t.ok(&d, &["state", "mv", "subnet_old", "subnet", key[0], key[1]]);
    let subnet_id = t.state()["resources"]["subnet"]["id"].as_str().unwrap().to_string();
    let vpc_id = t.state()["resources"]["main_vpc"]["id"].as_str().unwrap().to_string();
    let out = t.ok(&d, &["state", "rm", "subnet", "main_vpc", key[0], key[1]]);
    assert!(out.contains("Removed `subnet`") && out.contains("still exists"), "{out}");
    assert!(t.state()["resources"].as_object().unwrap().is_empty());
    std::fs::write(d.join("imports.yaml"), format!("main_vpc: {vpc_id}\nsubnet: {subnet_id}\n")).unwrap();
    let out = t.ok(&d, &["import", "--file", "imports.yaml", key[0], key[1]]);
    assert!(out.contains(&format!("Imported {vpc_id}")) && out.contains(&format!("Imported {subnet_id}")), "{out}");
    let o = t.run(&d, &["plan", "--detailed-exitcode", key[0], key[1]]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o.stdout), text(&o.stderr));

    let pulled = t.ok(&d, &["state", "pull", key[0], key[1]]);
    let mut older: Value = serde_json::from_str(&pulled).unwrap();
    std::fs::write(d.join("same.json"), &pulled).unwrap();
    t.ok(&d, &["state", "push", "same.json", key[0], key[1]]);
    older["serial"] = json!(1);
    std::fs::write(d.join("older.json"), older.to_string()).unwrap();
    let o = t.run(&d, &["state", "push", "older.json", key[0], key[1]]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("is older (serial 1)"), "{}", text(&o.stderr));
    older["lineage"] = json!("someone-else");
    std::fs::write(d.join("other.json"), older.to_string()).unwrap();
    let o = t.run(&d, &["state", "push", "other.json", key[0], key[1]]);
    assert!(text(&o.stderr).contains("they are different stacks"), "{}", text(&o.stderr));
    assert_eq!(t.state()["serial"].as_u64().unwrap() - first + 1, t.versions(), "one object version per write since the migration");

    // And back to a local state.
    std::fs::write(d.join("tandem.yaml"), LOCAL.replace("  vpc:\n", "  main_vpc:\n").replace("${vpc.id}", "${main_vpc.id}")).unwrap();
    let o = t.run(&d, &["plan"]);
    assert!(text(&o.stderr).contains("init --migrate-state"), "{}", text(&o.stderr));
    let out = t.ok(&d, &["init", "--migrate-state"]);
    assert!(out.contains("Copied the state (2 resources"), "{out}");
    let back: Value = serde_json::from_str(&std::fs::read_to_string(d.join(".tandem/state.json")).unwrap()).unwrap();
    assert_eq!(back["lineage"], local["lineage"]);
    let o = t.run(&d, &["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", text(&o.stdout), text(&o.stderr));
}
