//! The tandem sandbox (tandem-sim in front of moto) in-process, one per test:
//! the sandbox runs on the test's runtime, and SDK clients keep connections
//! on the runtime that opened them.

#![allow(dead_code)]

use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tandem_aws::AwsContext;
use tandem_provider::{Ctx, ResourceKind};
use tandem_sim::{Sandbox, SandboxClient, SandboxOptions};

pub const SOURCE: &str = "us-east-1";
pub const REPLICA: &str = "us-west-2";

pub struct Env {
    pub sandbox: Sandbox,
    pub admin: SandboxClient,
    pub aws: Arc<AwsContext>,
}

pub async fn sandbox() -> Env {
    let sandbox = tandem_sim::start(SandboxOptions { moto: true, ..Default::default() })
        .await
        .expect("the sandbox starts (run scripts/python-env.sh for moto)");
    let admin = SandboxClient::new(sandbox.url());
    let aws = Arc::new(AwsContext::with_endpoint(sandbox.url()).with_static_credentials("testing", "testing"));
    Env { sandbox, admin, aws }
}

pub fn kind(aws: &Arc<AwsContext>, type_name: &str) -> Arc<dyn ResourceKind> {
    tandem_aws::kinds(aws.clone()).into_iter().find(|k| k.schema().type_name == type_name).expect("kind is registered")
}

pub fn ctx(address: &str, region: &str) -> Ctx {
    let mut c = Ctx::quiet(address, Some(region));
    c.timeout = Duration::from_secs(60);
    c
}

pub fn props(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("props must be an object, got {other}"),
    }
}

pub fn changed(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| f.to_string()).collect()
}

pub const FLOW: &str = r#"{"Version":"2019-10-30","StartAction":"d1","Actions":[{"Identifier":"d1","Type":"DisconnectParticipant","Parameters":{},"Transitions":{}}]}"#;

/// Ask boto3 (an independent client) about what the sandbox at `url` serves:
/// `script` prints JSON; `c(service, region)` is a client on the sandbox.
/// Off the test's runtime thread: the sandbox on that runtime must keep serving.
pub async fn boto3(url: &str, script: &str) -> Value {
    let prelude = format!("import boto3, json\nE='{url}'\ndef c(s, r='{SOURCE}'): return boto3.client(s, region_name=r, endpoint_url=E, aws_access_key_id='testing', aws_secret_access_key='testing')\n");
    let program = format!("{prelude}{script}");
    let o =
        tokio::task::spawn_blocking(move || std::process::Command::new(tandem_test::venv_bin("python")).arg("-c").arg(program).output())
            .await
            .expect("python joins")
            .expect("python runs");
    assert!(o.status.success(), "boto3 check failed: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("boto3 printed no JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}
