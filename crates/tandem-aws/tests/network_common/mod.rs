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

pub const REGION: &str = "us-east-1";

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

pub fn ctx(address: &str) -> Ctx {
    let mut c = Ctx::quiet(address, Some(REGION));
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

/// A VPC made with the `aws.ec2.vpc` kind; its id.
pub async fn vpc(aws: &Arc<AwsContext>, address: &str, cidr: &str) -> String {
    let v = kind(aws, "aws.ec2.vpc");
    v.create(&ctx(address), &props(serde_json::json!({"cidr_block": cidr}))).await.expect("the VPC is made").id
}
