//! A real moto server on loopback for the kind tests, one per test binary
//! (tandem-test's, which does not outlive the binary even from a static),
//! plus an independent client (boto3 in the project's virtualenv).

#![allow(dead_code)]

use serde_json::{Map, Value};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tandem_aws::AwsContext;
use tandem_provider::{Ctx, ResourceKind};
use tandem_test::{venv_bin, Moto};

pub const REGION: &str = "us-east-1";

/// This test binary's moto server, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

/// A context on moto with static test credentials. One per test: SDK clients
/// keep connections on the runtime that opened them.
pub fn aws() -> Arc<AwsContext> {
    Arc::new(AwsContext::with_endpoint(&moto().url).with_static_credentials("testing", "testing"))
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

/// Ask boto3 (an independent client) about what exists: `script` prints JSON;
/// `c(service)` is a client on this binary's moto.
pub fn boto3(script: &str) -> Value {
    let prelude = format!(
        "import boto3, json\nE='{}'\ndef c(s, r='{REGION}'): return boto3.client(s, region_name=r, endpoint_url=E, aws_access_key_id='testing', aws_secret_access_key='testing')\n",
        moto().url
    );
    let o = Command::new(venv_bin("python")).arg("-c").arg(format!("{prelude}{script}")).output().expect("python runs");
    assert!(o.status.success(), "boto3 check failed: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("boto3 printed no JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}
