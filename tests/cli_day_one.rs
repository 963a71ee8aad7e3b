//! The workflow a Terraform user expects on day one, through the real
//! binary: exit codes for usage errors, saved plans (before the first apply,
//! and refusing the options they already hold), a closed pipe, files only the
//! resources in scope need, refresh scoped or skipped or alone, the JSON
//! event stream and its errors (class, cloud code, request id), heartbeats
//! and the operation count, a second Ctrl-C, document diffs, `show`,
//! completions and the man page. Cloud calls go to `tandem sandbox --moto`.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{root, sandbox, text, venv, Sandbox, TestEnv};

/// A sandbox control call (`/_tandem/...`), through Python's standard library.
fn admin(sb: &Sandbox, method: &str, path: &str, body: &str) {
    let script = "import sys, urllib.request\nr = urllib.request.Request(sys.argv[1], data=sys.argv[3].encode() or None, method=sys.argv[2], headers={'content-type': 'application/json'})\nurllib.request.urlopen(r).read()";
    let o = Command::new(venv().join("bin/python")).args(["-c", script, &format!("{}{path}", sb.url), method, body]).output().unwrap();
    assert!(o.status.success(), "admin {method} {path}: {}", text(&o.stderr));
}

/// boto3, an independent client, against the sandbox.
fn boto3(sb: &Sandbox, script: &str) -> String {
    let prelude = format!(
        "import boto3, json\ndef c(s, r='us-east-1'): return boto3.client(s, region_name=r, endpoint_url='{}', aws_access_key_id='testing', aws_secret_access_key='testing')\n",
        sb.url
    );
    let o = Command::new(venv().join("bin/python")).arg("-c").arg(format!("{prelude}{script}")).output().unwrap();
    assert!(o.status.success(), "boto3: {}", text(&o.stderr));
    text(&o.stdout)
}

/// `tandem` in `dir`, with the cloud at `url` (port 9: nothing answers, so
/// a test without a sandbox proves no call was made).
fn cmd(dir: &Path, url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tandem"));
    c.args(args).current_dir(dir).aws_env(url).gcp_env(url).env_remove("TANDEM_HEARTBEAT").stdin(Stdio::null());
    c
}

fn run(dir: &Path, url: &str, args: &[&str]) -> Output {
    cmd(dir, url, args).output().unwrap()
}

const NO_CLOUD: &str = "http://127.0.0.1:9";

fn spec_dir(spec: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("tandem.yaml"), spec).unwrap();
    d
}

const TWO_REGIONS: &str = r#"version: 1
name: day-one
resources:
  east:
    type: aws.ec2.vpc
    region: us-east-1
    stage: east
    properties:
      cidr_block: 10.10.0.0/16
      tags: { Name: east }
  west:
    type: aws.ec2.vpc
    region: us-west-2
    stage: west
    properties:
      cidr_block: 10.20.0.0/16
"#;

/// JSON lines of a `--json` stream; every line must parse.
fn lines(out: &[u8]) -> Vec<Value> {
    text(out).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect()
}

#[test]
fn usage_errors_exit_3_and_asked_for_help_exits_0() {
    let d = spec_dir(TWO_REGIONS);
    for args in [&["plan", "--bogus"][..], &["apply", "--parallelism", "many"], &[], &["no-such-verb"], &["plan", "--refresh", "maybe"]] {
        let o = run(d.path(), NO_CLOUD, args);
        assert_eq!(o.status.code(), Some(3), "tandem {args:?}: {}", text(&o.stderr));
    }
    for args in [&["--help"][..], &["plan", "--help"], &["--version"]] {
        let o = run(d.path(), NO_CLOUD, args);
        assert_eq!(o.status.code(), Some(0), "tandem {args:?}");
    }
    // A --target or --stage that names nothing is the user's to fix: 3, with a suggestion.
    let o = run(d.path(), NO_CLOUD, &["plan", "--target", "eats"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o.stderr).contains("did you mean `east`"), "{}", text(&o.stderr));
    let o = run(d.path(), NO_CLOUD, &["plan", "--stage", "north"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o.stderr).contains("the stages of this spec: east, west"), "{}", text(&o.stderr));
}

#[test]
fn a_saved_plan_refuses_the_options_it_already_holds() {
    let d = spec_dir(TWO_REGIONS);
    std::fs::write(d.path().join("vars.yaml"), "{}\n").unwrap();
    // An empty state: the plan reads nothing, so no cloud is needed.
    let o = run(d.path(), NO_CLOUD, &["plan", "--out", "p.json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for extra in [
        &["--var", "a=b"][..],
        &["--var-file", "vars.yaml"],
        &["--target", "east"],
        &["--stage", "east"],
        &["--spec", "tandem.yaml"],
        &["--refresh=false"],
        &["--refresh-only"],
    ] {
        let mut args = vec!["apply", "p.json"];
        args.extend_from_slice(extra);
        let o = run(d.path(), NO_CLOUD, &args);
        assert_eq!(o.status.code(), Some(3), "tandem {args:?} must be refused: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains("cannot be used with"), "{}", text(&o.stderr));
    }
    // `show PLANFILE` renders the saved plan without touching the cloud.
    let o = run(d.path(), NO_CLOUD, &["show", "p.json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("+ east (aws.ec2.vpc, us-east-1) will be created"), "{}", text(&o.stdout));
    let o = run(d.path(), NO_CLOUD, &["show", "p.json", "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["format"], "tandem-json/1");
    assert_eq!(v["plan"]["changes"].as_array().unwrap().len(), 2);
}

#[test]
fn a_closed_stdout_does_not_panic() {
    // A plan long enough to fill the pipe, whose reader goes away at once.
    let mut spec = String::from("version: 1\nname: big\nresources:\n");
    for i in 0..800 {
        spec.push_str(&format!("  vpc{i}:\n    type: aws.ec2.vpc\n    region: us-east-1\n    properties:\n      cidr_block: 10.{}.{}.0/24\n      tags: {{ Name: a-rather-long-name-so-that-the-plan-fills-the-pipe-{i} }}\n", i / 200, i % 200));
    }
    let d = spec_dir(&spec);
    for args in [&["plan"][..], &["plan", "--json"]] {
        let mut child = cmd(d.path(), NO_CLOUD, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut first = [0u8; 16];
        let _ = child.stdout.as_mut().unwrap().read(&mut first);
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "tandem {args:?} after its reader left: {}", text(&o.stderr));
        assert!(!text(&o.stderr).contains("panicked"), "{}", text(&o.stderr));
    }
}

/// The reference spec on a fresh checkout: the Lambda zips are not built.
#[test]
fn a_missing_file_blocks_only_the_plans_that_include_its_resource() {
    let d = tempfile::tempdir().unwrap();
    for f in ["active-active.yaml", "active-active.vars.yaml"] {
        std::fs::copy(root().join("specs").join(f), d.path().join(f)).unwrap();
    }
    std::fs::create_dir_all(d.path().join("flows")).unwrap();
    for entry in std::fs::read_dir(root().join("specs/flows")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, d.path().join("flows").join(p.file_name().unwrap())).unwrap();
    }
    let base = [
        "--spec",
        "active-active.yaml",
        "--var-file",
        "active-active.vars.yaml",
        "--var",
        "controller_zip=controller.zip",
        "--var",
        "agent_state_zip=agent-state.zip",
    ];
    let with = |verb: &str, extra: &[&str]| {
        let mut a = vec![verb];
        a.extend_from_slice(&base);
        a.extend_from_slice(extra);
        run(d.path(), NO_CLOUD, &a)
    };
    let o = with("validate", &[]);
    assert!(o.status.success(), "validate must pass with a warning: {}", text(&o.stderr));
    assert!(text(&o.stderr).contains("warning[tandem::spec::file]") && text(&o.stderr).contains("controller.zip"), "{}", text(&o.stderr));
    // A stage that deploys no Lambda plans (empty state: no cloud call).
    let o = with("plan", &["--stage", "aws_connect"]);
    assert!(o.status.success(), "plan --stage aws_connect: {}", text(&o.stderr));
    // The stage that deploys the controller cannot.
    let o = with("plan", &["--stage", "failover_controller"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("controller.zip") && text(&o.stderr).contains("scripts/build-lambda"), "{}", text(&o.stderr));
    let o = with("plan", &[]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn completions_and_the_man_page() {
    let d = spec_dir(TWO_REGIONS);
    for (shell, needle) in [("bash", "_tandem()"), ("zsh", "#compdef tandem"), ("fish", "complete -c tandem")] {
        let o = run(d.path(), NO_CLOUD, &["completions", shell]);
        assert!(o.status.success());
        assert!(text(&o.stdout).contains(needle), "{shell}: {}", &text(&o.stdout)[..200.min(o.stdout.len())]);
        assert!(text(&o.stdout).contains("refresh-only"), "{shell} completes the options too");
    }
    let o = run(d.path(), NO_CLOUD, &["man"]);
    assert!(o.status.success());
    assert!(text(&o.stdout).starts_with(".ie") && text(&o.stdout).contains(".TH tandem 1"), "{}", text(&o.stdout));
}

#[test]
fn json_is_a_versioned_stream_and_errors_are_json_too() {
    let d = spec_dir(TWO_REGIONS);
    let o = run(d.path(), NO_CLOUD, &["plan", "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let l = lines(&o.stdout);
    assert_eq!(l[0]["type"], "version");
    assert_eq!(l[0]["format"], "tandem-json/1");
    assert!(l.iter().all(|x| x["time"].as_str().is_some_and(|t| t.ends_with('Z'))), "every line has a timestamp");
    let last = l.last().unwrap();
    assert_eq!(last["type"], "plan");
    assert_eq!(last["changes"], true);
    // A usage error: the stream ends with an error line; exit 3.
    let o = run(d.path(), NO_CLOUD, &["plan", "--json", "--stage", "north"]);
    assert_eq!(o.status.code(), Some(3));
    let l = lines(&o.stdout);
    assert_eq!(l[0]["type"], "version");
    let err = l.last().unwrap();
    assert_eq!(err["type"], "error");
    assert_eq!(err["error"]["class"], "invalid");
    assert!(err["error"]["message"].as_str().unwrap().contains("north"));
    // An invalid spec: the problems, with where they are.
    std::fs::write(d.path().join("bad.yaml"), "version: 1\nname: bad\nresources:\n  v:\n    type: aws.ec2.vpcc\n").unwrap();
    let o = run(d.path(), NO_CLOUD, &["apply", "--spec", "bad.yaml", "--json", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(3));
    let err = lines(&o.stdout).pop().unwrap();
    assert_eq!(err["type"], "error");
    assert_eq!(err["problems"][0]["line"], 5);
    // A non-stream command prints one error object.
    let o = run(d.path(), NO_CLOUD, &["state", "show", "nothing", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o.stdout)));
    assert_eq!(v["type"], "error");
}

#[test]
fn a_plan_saved_before_the_first_apply_applies_and_show_lists_the_state() {
    let sb = sandbox();
    let d = spec_dir(TWO_REGIONS);
    let o = run(d.path(), &sb.url, &["plan", "--out", "first.plan"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run(d.path(), &sb.url, &["apply", "first.plan"]);
    assert!(o.status.success(), "the first saved plan must apply: {}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stdout).contains("2 created"), "{}", text(&o.stdout));
    // The count of operations done, on each finished one.
    assert!(text(&o.stderr).contains("[2/2] "), "{}", text(&o.stderr));
    let o = run(d.path(), &sb.url, &["show"]);
    assert!(o.status.success());
    assert!(text(&o.stdout).contains("# east") && text(&o.stdout).contains("\"cidr_block\": \"10.20.0.0/16\""), "{}", text(&o.stdout));
    let v: Value = serde_json::from_slice(&run(d.path(), &sb.url, &["show", "--json"]).stdout).unwrap();
    assert!(v["resources"]["west"]["id"].as_str().unwrap().starts_with("vpc-"));
    // Nothing to do: apply --json still says so, as a plan and a summary.
    let o = run(d.path(), &sb.url, &["apply", "--json", "--auto-approve"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let l = lines(&o.stdout);
    let types: Vec<&str> = l.iter().map(|x| x["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"version"));
    assert!(types.contains(&"plan") && types.last() == Some(&"summary"), "{types:?}");
    assert_eq!(l.last().unwrap()["ok"], true);
}

/// During a regional outage, work in the other region goes on: a plan
/// leaves what it cannot read (and what depends on it) as it is and plans
/// the rest; apply does the rest and says the stack has not converged.
/// Only an outage with nowhere healthy left fails the plan.
#[test]
fn a_region_outage_holds_only_what_cannot_be_read_and_refresh_can_be_skipped() {
    let sb = sandbox();
    let d = spec_dir(TWO_REGIONS);
    let o = run(d.path(), &sb.url, &["apply", "--auto-approve"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    admin(&sb, "PUT", "/_tandem/outages", r#"{"region":"us-west-2","service":"ec2","mode":"error"}"#);
    // A full plan: us-west-2 is not read, the rest is planned.
    let o = run(d.path(), &sb.url, &["plan", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let plan = lines(&o.stdout).into_iter().find(|l| l["type"] == "plan").unwrap();
    let unread = &plan["plan"]["unread"][0];
    assert_eq!(unread["address"], "west", "{plan}");
    assert_eq!(unread["region"], "us-west-2", "{plan}");
    assert_eq!(unread["code"], "InternalError", "{plan}");
    assert!(unread["message"].as_str().unwrap().contains("DescribeVpcs"), "{plan}");
    let o = run(d.path(), &sb.url, &["plan"]);
    let out = text(&o.stdout);
    assert!(out.contains("could not be read in us-west-2") && out.contains("failover shift") && out.contains("No changes"), "{out}");
    // A change in the healthy region is applied; the summary says what was left.
    std::fs::write(d.path().join("tandem.yaml"), TWO_REGIONS.replace("tags: { Name: east }", "tags: { Name: east, team: ops }")).unwrap();
    let o = run(d.path(), &sb.url, &["apply", "--auto-approve"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "not converged while west is unread: {out}");
    assert!(out.contains("Apply incomplete: 0 created, 1 updated") && out.contains("west (us-west-2)"), "{out}");
    let east = boto3(&sb, "print([t['Value'] for v in c('ec2').describe_vpcs(Filters=[{'Name':'tag:Name','Values':['east']}])['Vpcs'] for t in v['Tags'] if t['Key']=='team'])");
    assert_eq!(east.trim(), "['ops']");
    // Scoped to the healthy region, only that region is read.
    let o = run(d.path(), &sb.url, &["plan", "--stage", "east"]);
    assert!(o.status.success(), "plan --stage east during a us-west-2 outage: {}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("west: refreshing"), "{}", text(&o.stderr));
    let o = run(d.path(), &sb.url, &["plan", "--target", "east", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // Or nothing is read at all.
    let o = run(d.path(), &sb.url, &["plan", "--refresh=false"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("refreshing"), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("No changes"), "{}", text(&o.stdout));
    // With both regions down nothing could go on: the plan fails, naming the
    // regions, the call, the cloud's code and request id, and what still works.
    admin(&sb, "PUT", "/_tandem/outages", r#"{"region":"us-east-1","service":"ec2","mode":"error"}"#);
    let o = run(d.path(), &sb.url, &["plan", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    let err = lines(&o.stdout).pop().unwrap();
    assert_eq!(err["type"], "error");
    assert_eq!(err["error"]["class"], "transient");
    assert_eq!(err["error"]["code"], "InternalError");
    assert!(!err["error"]["request_id"].as_str().unwrap_or("").is_empty(), "{err}");
    let msg = err["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("us-west-2") && msg.contains("us-east-1") && msg.contains("DescribeVpcs") && msg.contains("--refresh=false"),
        "{msg}"
    );
}

#[test]
fn refresh_only_shows_drift_and_records_it_without_changing_the_cloud() {
    let sb = sandbox();
    let d = spec_dir(TWO_REGIONS);
    assert!(run(d.path(), &sb.url, &["apply", "--auto-approve"]).status.success());
    let o = run(d.path(), &sb.url, &["plan", "--refresh-only"]);
    assert!(o.status.success());
    assert!(text(&o.stdout).contains("No changes outside tandem"), "{}", text(&o.stdout));
    let state = |d: &Path| -> Value { serde_json::from_slice(&run(d, NO_CLOUD, &["show", "--json"]).stdout).unwrap() };
    let east = state(d.path())["resources"]["east"]["id"].as_str().unwrap().to_string();
    // Someone retags the VPC by hand.
    boto3(
        &sb,
        &format!(
            "c('ec2').create_tags(Resources=['{east}'], Tags=[{{'Key': 'Name', 'Value': 'renamed'}}, {{'Key': 'owner', 'Value': 'ops'}}])"
        ),
    );
    let o = run(d.path(), &sb.url, &["plan", "--refresh-only", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("~ east (aws.ec2.vpc) changed") && text(&o.stdout).contains("renamed"), "{}", text(&o.stdout));
    let serial = state(d.path())["serial"].as_u64().unwrap();
    let o = run(d.path(), &sb.url, &["apply", "--refresh-only", "--auto-approve"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let after = state(d.path());
    assert_eq!(after["serial"].as_u64().unwrap(), serial + 1);
    assert_eq!(after["resources"]["east"]["properties"]["tags"]["owner"], "ops");
    // The cloud was not touched: the hand-made tags are still there.
    let tags = boto3(&sb, &format!("t = {{x['Key']: x['Value'] for x in c('ec2').describe_vpcs(VpcIds=['{east}'])['Vpcs'][0]['Tags']}}\nprint(t['Name'], t['owner'])"));
    assert_eq!(tags.trim(), "renamed ops");
    let o = run(d.path(), &sb.url, &["plan", "--refresh-only"]);
    assert!(text(&o.stdout).contains("No changes outside tandem"), "{}", text(&o.stdout));
    // A normal plan now proposes to bring the tags back to the spec.
    let o = run(d.path(), &sb.url, &["plan"]);
    assert!(text(&o.stdout).contains("~ east"), "{}", text(&o.stdout));
}

#[test]
fn cloud_errors_keep_their_class_code_and_request_id_to_the_output() {
    let sb = sandbox();
    let d = spec_dir("version: 1\nname: err\nresources:\n  ctr:\n    type: aws.kinesis.stream\n    region: us-east-1\n    properties:\n      shard_count: 1\n");
    admin(&sb, "POST", "/_tandem/faults", r#"{"service":"kinesis","operation":"CreateStream","kind":"access_denied","count":1}"#);
    let o = run(d.path(), &sb.url, &["apply", "--auto-approve", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let l = lines(&o.stdout);
    let failed = l.iter().find(|x| x["type"] == "event" && x["event"] == "failed").unwrap_or_else(|| panic!("no failed event: {l:?}"));
    assert_eq!(failed["class"], "auth");
    assert_eq!(failed["code"], "AccessDeniedException");
    let summary = l.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["ok"], false);
    let f = &summary["summary"]["failed"][0];
    assert_eq!(f["address"], "ctr");
    assert_eq!(f["region"], "us-east-1");
    assert_eq!(f["class"], "auth");
    assert_eq!(f["code"], "AccessDeniedException");
    let rid = f["request_id"].as_str().unwrap();
    assert!(!rid.is_empty());
    // People see it too.
    admin(&sb, "POST", "/_tandem/faults", r#"{"service":"kinesis","operation":"CreateStream","kind":"access_denied","count":1}"#);
    let o = run(d.path(), &sb.url, &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("FAILED ctr (us-east-1): ") && text(&o.stdout).contains("(request id "), "{}", text(&o.stdout));
}

const GCP_NETWORK: &str = "version: 1\nname: slow\nresources:\n  net:\n    type: gcp.compute.network\n    properties:\n      project: tandem-test\n      name: slow-net\n";

#[test]
fn long_operations_say_they_are_still_running() {
    let sb = sandbox();
    admin(
        &sb,
        "PUT",
        "/_tandem/latency",
        r#"{"scale":1.0,"rules":[{"service":"compute","kind":"network","region":"*","creation_ms":5000,"deletion_ms":0}]}"#,
    );
    let d = spec_dir(GCP_NETWORK);
    let o = cmd(d.path(), &sb.url, &["apply", "--auto-approve"]).env("TANDEM_HEARTBEAT", "1s").output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("net: still creating... [1s elapsed]") && err.contains("net: still creating... [2s elapsed]"), "{err}");
    assert!(err.contains("[1/1] net: created"), "{err}");
    // In JSON, as heartbeat events.
    let o = cmd(d.path(), &sb.url, &["destroy", "--auto-approve", "--json"]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    admin(
        &sb,
        "PUT",
        "/_tandem/latency",
        r#"{"scale":1.0,"rules":[{"service":"compute","kind":"network","region":"*","creation_ms":3000,"deletion_ms":0}]}"#,
    );
    let o = cmd(d.path(), &sb.url, &["apply", "--auto-approve", "--json"]).env("TANDEM_HEARTBEAT", "1s").output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let beats: Vec<Value> = lines(&o.stdout).into_iter().filter(|x| x["event"] == "heartbeat").collect();
    assert!(!beats.is_empty() && beats[0]["address"] == "net" && beats[0]["op"] == "create", "{}", text(&o.stdout));
}

/// A call the cloud holds open cannot be interrupted politely: the second
/// Ctrl-C exits at once.
#[test]
fn a_second_ctrl_c_exits_at_once() {
    let sb = sandbox();
    admin(&sb, "POST", "/_tandem/faults", r#"{"service":"ec2","operation":"CreateVpc","kind":"timeout","hold_ms":120000}"#);
    let d = spec_dir("version: 1\nname: held\nresources:\n  net:\n    type: aws.ec2.vpc\n    region: us-east-1\n    properties:\n      cidr_block: 10.40.0.0/16\n");
    let mut child = cmd(d.path(), &sb.url, &["apply", "--auto-approve"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(l) if l.contains(needle) => return,
                Ok(_) => {}
                Err(_) => panic!("no line with {needle:?}"),
            }
        }
    };
    wait_for("net: creating...");
    let int = || assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    int();
    wait_for("interrupted: starting nothing new");
    let t = Instant::now();
    int();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(t.elapsed() < Duration::from_secs(30), "the second Ctrl-C must not wait for the held call");
}

#[test]
fn a_policy_document_change_is_shown_line_by_line() {
    let sb = sandbox();
    let spec = |service: &str| {
        format!(
            "version: 1\nname: doc\nresources:\n  role:\n    type: aws.iam.role\n    properties:\n      role_name: doc-role\n      assume_role_policy:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n            Principal: {{ Service: {service} }}\n            Action: sts:AssumeRole\n"
        )
    };
    let d = spec_dir(&spec("lambda.amazonaws.com"));
    let o = run(d.path(), &sb.url, &["apply", "--auto-approve"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    std::fs::write(d.path().join("tandem.yaml"), spec("events.amazonaws.com")).unwrap();
    let o = run(d.path(), &sb.url, &["plan"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("assume_role_policy: (document)"), "{out}");
    let minus = out.lines().find(|l| l.trim_start().starts_with("- ") && l.contains("lambda.amazonaws.com"));
    let plus = out.lines().find(|l| l.trim_start().starts_with("+ ") && l.contains("events.amazonaws.com"));
    assert!(minus.is_some() && plus.is_some(), "{out}");
    // Unchanged lines are context, not changes.
    assert!(out.lines().any(|l| l.trim_start().starts_with("\"Action\": \"sts:AssumeRole\"")), "{out}");
}

/// Colour only on a terminal, and never with NO_COLOR: `script` gives the
/// command a pseudo-terminal.
#[test]
fn colour_on_terminals_only_and_no_color_is_honoured() {
    let d = spec_dir(TWO_REGIONS);
    let bin = env!("CARGO_BIN_EXE_tandem");
    let under_pty = |no_color: bool| {
        let mut c = Command::new("script");
        c.args(["-qec", &format!("{bin} plan"), "/dev/null"]).current_dir(d.path()).env("AWS_ENDPOINT_URL", NO_CLOUD).env("TERM", "xterm");
        if no_color {
            c.env("NO_COLOR", "1");
        } else {
            c.env_remove("NO_COLOR");
        }
        let o = c.stdin(Stdio::null()).output().unwrap();
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    let coloured = under_pty(false);
    assert!(coloured.contains("\x1b[32m+\x1b[0m east"), "{coloured:?}");
    assert!(!under_pty(true).contains('\x1b'));
    let piped = run(d.path(), NO_CLOUD, &["plan"]);
    assert!(!text(&piped.stdout).contains('\x1b'));
}

/// Two specs side by side (as in specs/): the second must not plan to
/// delete what the first made.
#[test]
fn a_state_belongs_to_its_spec() {
    let sb = sandbox();
    let d = spec_dir(TWO_REGIONS);
    assert!(run(d.path(), &sb.url, &["apply", "--auto-approve"]).status.success());
    std::fs::write(d.path().join("other.yaml"), "version: 1\nname: other\nresources:\n  q:\n    type: aws.kinesis.stream\n    region: us-east-1\n    properties: { shard_count: 1 }\n").unwrap();
    for verb in [&["plan"][..], &["apply", "--auto-approve"], &["destroy", "--auto-approve"], &["import", "q", "q"]] {
        let mut args = verb.to_vec();
        args.extend_from_slice(&["--spec", "other.yaml"]);
        let o = run(d.path(), &sb.url, &args);
        assert_eq!(o.status.code(), Some(1), "tandem {args:?}: {}", text(&o.stdout));
        assert!(
            text(&o.stderr).contains("belongs to the spec named `day-one`") && text(&o.stderr).contains("--state .tandem/other.json"),
            "{}",
            text(&o.stderr)
        );
    }
    // With its own state it works, and the first stack is untouched.
    let o = run(d.path(), &sb.url, &["apply", "--spec", "other.yaml", "--state", ".tandem/other.json", "--auto-approve"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run(d.path(), &sb.url, &["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));

    // Each refusal has a stable code in JSON, for scripts.
    let code = |args: &[&str]| {
        let o = run(d.path(), &sb.url, args);
        assert_eq!(o.status.code(), Some(1), "tandem {args:?}: {}{}", text(&o.stdout), text(&o.stderr));
        let out = text(&o.stdout);
        let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}: {out}"));
        v["error"]["code"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(code(&["plan", "--spec", "other.yaml", "--json"]), "tandem::state_owner");
    std::fs::write(
        d.path().join("tandem.yaml"),
        TWO_REGIONS.replace("    stage: east\n", "    stage: east\n    lifecycle: { prevent_destroy: true }\n"),
    )
    .unwrap();
    assert_eq!(code(&["destroy", "--auto-approve", "--json"]), "tandem::prevent_destroy");
    let o = run(d.path(), &sb.url, &["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "nothing was deleted: {}", text(&o.stdout));
}

/// On a terminal an apply shows a progress bar of operations done.
#[test]
fn a_progress_bar_on_terminals() {
    let sb = sandbox();
    let d = spec_dir(TWO_REGIONS);
    let bin = env!("CARGO_BIN_EXE_tandem");
    let o = Command::new("script")
        .args(["-qec", &format!("{bin} apply --auto-approve"), "/dev/null"])
        .current_dir(d.path())
        .env("AWS_ENDPOINT_URL", &sb.url)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stdout));
    let out = text(&o.stdout);
    assert!(out.contains("[==============================] 2/2 done"), "{out:?}");
    // Piped, no bar: lines only.
    let o = run(d.path(), &sb.url, &["destroy", "--auto-approve"]);
    assert!(o.status.success());
    assert!(!text(&o.stderr).contains("2/2 done") && text(&o.stderr).contains("[2/2] "), "{}", text(&o.stderr));
}

#[test]
fn fmt_lays_out_specs_and_check_fails_ci_until_it_is_done() {
    let d = spec_dir("version: 1\nname: f   \n\n\n\n# a VPC\nresources:\n    vpc:\n        type: aws.ec2.vpc\n        region: us-east-1\n        properties:\n            cidr_block: 10.0.0.0/16\n            tags: { Name: a }\n");
    let before = std::fs::read_to_string(d.path().join("tandem.yaml")).unwrap();
    let o = run(d.path(), NO_CLOUD, &["fmt", "--check"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o.stdout).contains("tandem.yaml"));
    assert_eq!(std::fs::read_to_string(d.path().join("tandem.yaml")).unwrap(), before, "--check writes nothing");
    let o = run(d.path(), NO_CLOUD, &["fmt"]);
    assert!(o.status.success());
    let after = std::fs::read_to_string(d.path().join("tandem.yaml")).unwrap();
    assert_eq!(after, "version: 1\nname: f\n\n# a VPC\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    region: us-east-1\n    properties:\n      cidr_block: 10.0.0.0/16\n      tags: { Name: a }\n");
    assert_eq!(run(d.path(), NO_CLOUD, &["fmt", "--check"]).status.code(), Some(0));
    // The repository's own specs are formatted, and stay valid.
    for f in ["quickstart.yaml", "active-active.yaml", "active-active.vars.yaml"] {
        let o = run(&root().join("specs"), NO_CLOUD, &["fmt", "--check", f]);
        assert_eq!(o.status.code(), Some(0), "specs/{f} is not formatted: {}{}", text(&o.stdout), text(&o.stderr));
    }
    // Broken YAML is refused with where, and left alone.
    std::fs::write(d.path().join("bad.yaml"), "a: [1, 2\n").unwrap();
    let o = run(d.path(), NO_CLOUD, &["fmt", "bad.yaml"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o.stderr).contains("bad.yaml"), "{}", text(&o.stderr));
}

/// The reference var file names its schema; the committed schema is what
/// `tandem vars-schema` makes of the spec, and the var file fits it.
#[test]
fn var_files_have_a_schema_made_from_the_spec() {
    let specs = root().join("specs");
    let o = run(&specs, NO_CLOUD, &["vars-schema", "--spec", "active-active.yaml"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let committed = std::fs::read_to_string(specs.join("active-active.vars.schema.json")).unwrap();
    assert_eq!(
        text(&o.stdout),
        committed,
        "regenerate: tandem vars-schema --spec specs/active-active.yaml > specs/active-active.vars.schema.json"
    );
    let schema: Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["properties"]["failover_min_dwell_seconds"]["type"], "number");
    let vars = std::fs::read_to_string(specs.join("active-active.vars.yaml")).unwrap();
    assert!(vars.starts_with("# yaml-language-server: $schema=active-active.vars.schema.json\n"));
    for key in vars.lines().filter(|l| !l.starts_with([' ', '#', '-']) && l.contains(':')).map(|l| l.split(':').next().unwrap().trim()) {
        assert!(schema["properties"].get(key).is_some(), "`{key}` of the var file is not in the schema");
    }
}

/// A state that repeats a key is corrupt, not "last one wins", and is left as it is.
#[test]
fn a_state_with_a_repeated_key_is_refused_and_left_alone() {
    let d = spec_dir(TWO_REGIONS);
    std::fs::create_dir_all(d.path().join(".tandem")).unwrap();
    let r = r#"{"type":"aws.ec2.vpc","region":"us-east-1","id":"vpc-1","properties":{},"outputs":{}}"#;
    for state in [
        format!(r#"{{"format_version":1,"lineage":"l","serial":3,"spec_name":"day-one","resources":{{"east":{r}}},"resources":{{}}}}"#),
        format!(r#"{{"format_version":1,"lineage":"l","serial":3,"spec_name":"day-one","resources":{{"east":{r},"east":{r}}}}}"#),
    ] {
        std::fs::write(d.path().join(".tandem/state.json"), &state).unwrap();
        for args in [&["plan"][..], &["state", "list"]] {
            let o = run(d.path(), NO_CLOUD, args);
            assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o.stdout));
            assert!(text(&o.stderr).contains("appears twice"), "{}", text(&o.stderr));
        }
        assert_eq!(std::fs::read_to_string(d.path().join(".tandem/state.json")).unwrap(), state);
    }
}

/// A sensitive variable stays hidden wherever tandem prints what it flows
/// into, and validate warns when it flows into a field the cloud shows.
#[test]
fn sensitive_values_stay_hidden_and_validate_warns_about_plain_fields() {
    let sb = sandbox();
    let d = spec_dir("version: 1\nname: secret\nvariables:\n  token: { type: string, sensitive: true }\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    region: us-east-1\n    properties:\n      cidr_block: 10.0.0.0/16\n      tags: { Name: \"prefix-${var.token}\" }\noutputs:\n  derived: { value: \"x-${var.token}\" }\n");
    let secret = "hunter2-not-for-output";
    let with = |args: &[&str]| cmd(d.path(), &sb.url, args).env("TANDEM_VAR_token", secret).output().unwrap();
    let o = with(&["validate"]);
    assert!(o.status.success());
    assert!(
        text(&o.stderr).contains("warning[tandem::spec::sensitive_in_plain_field]") && text(&o.stderr).contains("`tags` of `vpc`"),
        "{}",
        text(&o.stderr)
    );
    for args in [&["plan"][..], &["plan", "--json"], &["apply", "--auto-approve"], &["output"], &["show"], &["show", "--json"]] {
        let o = with(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
        let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert!(!all.contains(secret), "tandem {args:?} printed the secret: {all}");
    }
    let o = with(&["output", "derived", "--show-sensitive"]);
    assert!(text(&o.stdout).contains(&format!("x-{secret}")), "{}", text(&o.stdout));
}

/// Fail-stop: when the state cannot be written mid-apply (here S3 refuses
/// every write), nothing new starts, and what was made but not recorded is
/// named with the command that records it.
#[test]
fn a_failed_state_write_stops_the_apply_and_names_what_is_unrecorded() {
    let sb = sandbox();
    boto3(&sb, "c('s3').create_bucket(Bucket='failstop')");
    admin(
        &sb,
        "PUT",
        "/_tandem/latency",
        r#"{"scale":1.0,"rules":[{"service":"compute","kind":"network","region":"*","creation_ms":3000,"deletion_ms":0}]}"#,
    );
    let net = |name: &str, after: &str| {
        format!("  {name}:\n    type: gcp.compute.network\n{after}    properties:\n      project: tandem-test\n      name: fs-{name}\n")
    };
    let spec = format!(
        "version: 1\nname: failstop\nbackend:\n  s3: {{ bucket: failstop, key: s.json, region: us-east-1, use_path_style: true }}\nresources:\n{}{}{}",
        net("a", ""),
        net("b", "    depends_on: [a]\n"),
        net("c", "    depends_on: [b]\n")
    );
    let d = spec_dir(&spec);
    let mut child = cmd(d.path(), &sb.url, &["apply", "--auto-approve"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    loop {
        let l = rx.recv_timeout(Duration::from_secs(60)).expect("a: created");
        if l.contains("a: created") {
            break;
        }
    }
    // From now on every state write fails.
    admin(&sb, "POST", "/_tandem/faults", r#"{"service":"s3","operation":"PUT /failstop","kind":"server_error"}"#);
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    let status = child.wait().unwrap();
    let stderr = reader.join().unwrap();
    assert_eq!(status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("STATE NOT SAVED") && stdout.contains("Nothing new was started"), "{stdout}");
    assert!(stdout.contains("tandem import b "), "b was made and must be named: {stdout}");
    assert!(!stderr.contains("c: creating"), "c must not start once the state cannot be written: {stderr}");
    // Recover: the state can be written again; import what was named; c is all that is left.
    admin(&sb, "DELETE", "/_tandem/faults", "");
    let import = stdout.lines().find(|l| l.trim_start().starts_with("tandem import b ")).unwrap();
    let id = import.split_whitespace().nth(3).unwrap();
    let o = run(d.path(), &sb.url, &["import", "b", id]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run(d.path(), &sb.url, &["plan"]);
    assert!(text(&o.stdout).contains("Plan: 1 to create, 0 to update, 0 to replace, 0 to delete."), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("+ c "), "{}", text(&o.stdout));
}

/// A create whose read-back fails is recorded (tainted), never lost: destroy
/// finds and deletes it.
#[test]
fn a_create_whose_read_back_fails_is_recorded_and_destroyable() {
    let sb = sandbox();
    let d = spec_dir("version: 1\nname: rb\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    region: us-east-1\n    properties:\n      cidr_block: 10.30.0.0/16\n");
    admin(&sb, "POST", "/_tandem/faults", r#"{"service":"ec2","operation":"DescribeVpcAttribute","kind":"server_error","count":100}"#);
    let o = run(d.path(), &sb.url, &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    admin(&sb, "DELETE", "/_tandem/faults", "");
    let v: Value = serde_json::from_slice(&run(d.path(), NO_CLOUD, &["show", "--json"]).stdout).unwrap();
    assert_eq!(v["resources"]["vpc"]["tainted"], true, "{v}");
    let id = v["resources"]["vpc"]["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("vpc-"));
    let o = run(d.path(), &sb.url, &["destroy", "--auto-approve"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let left = boto3(&sb, &format!("print(len(c('ec2').describe_vpcs(Filters=[{{'Name': 'vpc-id', 'Values': ['{id}']}}])['Vpcs']))"));
    assert_eq!(left.trim(), "0");
}

/// The first Ctrl-C stops waiting for a slow create at once (the state is
/// saved, the object kept as tainted); it does not sit out the create.
#[test]
fn one_ctrl_c_stops_a_slow_create_promptly_and_keeps_track_of_it() {
    let sb = sandbox();
    admin(
        &sb,
        "PUT",
        "/_tandem/latency",
        r#"{"scale":1.0,"rules":[{"service":"compute","kind":"network","region":"*","creation_ms":120000,"deletion_ms":0}]}"#,
    );
    let d = spec_dir(GCP_NETWORK);
    let mut child = cmd(d.path(), &sb.url, &["apply", "--auto-approve"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
    assert!(lines.any(|l| l.contains("net: creating...")));
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "one Ctrl-C must not wait out a 120 s create");
        std::thread::sleep(Duration::from_millis(100));
    };
    let rest: Vec<String> = lines.collect();
    assert_eq!(status.code(), Some(1), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("interrupted")), "{rest:?}");
    let v: Value = serde_json::from_slice(&run(d.path(), NO_CLOUD, &["show", "--json"]).stdout).unwrap();
    assert_eq!(v["resources"]["net"]["tainted"], true, "{v}");
    assert!(v["resources"]["net"]["id"].as_str().unwrap().ends_with("/global/networks/slow-net"), "{v}");
}

/// The local state, its backup and its lock file are for their owner only.
#[cfg(unix)]
#[test]
fn state_and_lock_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let sb = sandbox();
    let d = spec_dir(TWO_REGIONS);
    assert!(run(d.path(), &sb.url, &["apply", "--auto-approve", "--target", "east"]).status.success());
    assert!(run(d.path(), &sb.url, &["apply", "--auto-approve"]).status.success());
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(d.path().join(".tandem")).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("state") {
            continue; // backend.json records where the state is: no secret
        }
        seen.push(name);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is {mode:o}", p.display());
    }
    seen.sort();
    assert!(seen.iter().any(|n| n.ends_with(".lock")) && seen.len() >= 3, "{seen:?}");
}

/// After an apply, tandem says how close it came to the critical path: the
/// chain of dependent operations no schedule can beat.
#[test]
fn an_apply_reports_its_critical_path() {
    let sb = sandbox();
    admin(
        &sb,
        "PUT",
        "/_tandem/latency",
        r#"{"scale":1.0,"rules":[{"service":"compute","kind":"network","region":"*","creation_ms":1500,"deletion_ms":0}]}"#,
    );
    let net = |name: &str, after: &str| {
        format!("  {name}:\n    type: gcp.compute.network\n{after}    properties:\n      project: tandem-test\n      name: cp-{name}\n")
    };
    let d = spec_dir(&format!("version: 1\nname: cp\nresources:\n{}{}{}", net("a", ""), net("b", "    depends_on: [a]\n"), net("c", "")));
    let o = run(d.path(), &sb.url, &["apply", "--auto-approve", "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let summary = lines(&o.stdout).pop().unwrap();
    let t = &summary["summary"]["timing"];
    assert_eq!(t["critical_path"], serde_json::json!(["a", "b"]), "{summary}");
    assert!(t["critical_path_seconds"].as_f64().unwrap() >= 3.0, "two creates of 1.5 s in a row: {t}");
    assert!(t["ratio"].as_f64().unwrap() >= 1.0, "no schedule beats the critical path: {t}");
    let o = run(d.path(), &sb.url, &["destroy", "--auto-approve"]);
    assert!(o.status.success());
    assert!(text(&o.stdout).contains("Critical path ") && text(&o.stdout).contains("x the critical path"), "{}", text(&o.stdout));
}

/// The state file as written, without taking the lock (a test watching an apply).
fn state_file(dir: &Path) -> Value {
    std::fs::read(dir.join(".tandem/state.json")).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null)
}

/// Kill -9 a running apply once `ready` holds of its state file.
fn kill_when(dir: &Path, child: &mut std::process::Child, ready: impl Fn(&Value) -> bool) -> Value {
    let t = Instant::now();
    loop {
        let s = state_file(dir);
        if ready(&s) {
            child.kill().unwrap();
            child.wait().unwrap();
            return s;
        }
        assert!(child.try_wait().unwrap().is_none(), "the apply ended before the journal showed the create: {s}");
        assert!(t.elapsed() < Duration::from_secs(60), "no journal entry after 60 s: {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A run killed (-9) while a create waits leaves the cloud's id in the
/// state's journal; the next plan adopts the object and destroy deletes it:
/// nothing tandem made is left unknown to it.
#[test]
fn a_create_killed_mid_wait_is_adopted_from_the_journal_and_destroyed() {
    let sb = sandbox();
    admin(
        &sb,
        "PUT",
        "/_tandem/latency",
        r#"{"scale":1.0,"rules":[{"service":"connect","kind":"instance","region":"*","creation_ms":120000,"deletion_ms":0}]}"#,
    );
    let d = spec_dir(
        "version: 1\nname: wal\nresources:\n  cc:\n    type: aws.connect.instance\n    region: us-east-1\n    properties:\n      identity_management_type: CONNECT_MANAGED\n      instance_alias: wal-cc\n      inbound_calls_enabled: true\n      outbound_calls_enabled: true\n",
    );
    let mut child = cmd(d.path(), &sb.url, &["apply", "--auto-approve"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let s = kill_when(d.path(), &mut child, |s| s["pending"]["cc"]["id"].is_string());
    let id = s["pending"]["cc"]["id"].as_str().unwrap().to_string();
    assert_eq!(s["pending"]["cc"]["op"], "create", "{s}");
    assert!(s["resources"].get("cc").is_none(), "the create never finished: {s}");
    // The instance exists, and only the journal knows it.
    let listed = boto3(&sb, "print(json.dumps([i['Id'] for i in c('connect').list_instances()['InstanceSummaryList']]))");
    assert!(listed.contains(&id), "{listed}");

    let o = run(d.path(), &sb.url, &["plan"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("interrupted run left unfinished") && out.contains(&format!("it made {id}, adopted as tainted")), "{out}");
    assert!(out.contains("-/+ cc"), "a tainted object is replaced: {out}");
    let o = run(d.path(), &sb.url, &["plan", "--json"]);
    let plan = lines(&o.stdout).into_iter().find(|l| l["type"] == "plan").unwrap();
    assert_eq!(plan["plan"]["pending"][0]["outcome"], "adopted", "{plan}");
    assert_eq!(plan["plan"]["pending"][0]["id"], id.as_str(), "{plan}");

    admin(&sb, "PUT", "/_tandem/latency", r#"{"scale":1.0,"rules":[]}"#);
    let o = run(d.path(), &sb.url, &["destroy", "--auto-approve"]);
    assert!(o.status.success(), "{}\n{}", text(&o.stdout), text(&o.stderr));
    let listed = boto3(&sb, "print(json.dumps([i['Id'] for i in c('connect').list_instances()['InstanceSummaryList'] if i.get('InstanceStatus') != 'DELETED']))");
    assert_eq!(listed.trim(), "[]", "destroy deleted what the journal found");
    let s = state_file(d.path());
    assert!(s.get("pending").is_none() && s["resources"].as_object().unwrap().is_empty(), "{s}");
}

/// A create whose answer was never recorded (the id is not in the journal)
/// is found by name where names are unique, and a new apply replaces it
/// instead of failing on the taken name.
#[test]
fn a_create_killed_before_its_answer_is_found_by_name_and_replaced() {
    let sb = sandbox();
    admin(
        &sb,
        "PUT",
        "/_tandem/latency",
        r#"{"scale":1.0,"rules":[{"service":"compute","kind":"network","region":"*","creation_ms":3000,"deletion_ms":0}]}"#,
    );
    let d = spec_dir(GCP_NETWORK);
    let mut child = cmd(d.path(), &sb.url, &["apply", "--auto-approve"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // The GCP insert answers with an operation; the entry has the intent and the name.
    let s = kill_when(d.path(), &mut child, |s| {
        // Past the intent, the insert is sent at once; give it a moment to arrive.
        s["pending"]["net"]["op"] == "create" && {
            std::thread::sleep(Duration::from_millis(500));
            true
        }
    });
    assert_eq!(s["pending"]["net"]["properties"]["name"], "slow-net", "{s}");
    // The sandbox finishes making it (3 s), with nobody left waiting.
    std::thread::sleep(Duration::from_secs(4));
    let o = run(d.path(), &sb.url, &["apply", "--auto-approve"]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", text(&o.stderr));
    assert!(out.contains("/global/networks/slow-net, adopted as tainted"), "{out}");
    assert!(out.contains("-/+ net"), "{out}");
    let s = state_file(d.path());
    assert!(s.get("pending").is_none(), "the journal is settled: {s}");
    assert!(s["resources"]["net"]["id"].as_str().unwrap().ends_with("/global/networks/slow-net"), "{s}");
    assert!(s["resources"]["net"].get("tainted").is_none(), "{s}");
}
