//! A real moto server on loopback for the kind tests, one per test binary,
//! plus an independent client (boto3 in the project's virtualenv).
//!
//! The server runs under a small `sh` guard that holds a pipe from this
//! process: when the test binary exits (even when killed), the pipe closes,
//! the guard's `read` returns and it kills moto. So a shared server in a
//! static, which Rust never drops, still does not outlive its tests.

#![allow(dead_code)]

use serde_json::{Map, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tandem_aws::AwsContext;
use tandem_provider::{Ctx, ResourceKind};

pub const REGION: &str = "us-east-1";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn venv_bin(name: &str) -> PathBuf {
    let venv = std::env::var_os("TANDEM_VENV").map(PathBuf::from).unwrap_or_else(|| root().join(".venv"));
    venv.join("bin").join(name)
}

pub struct Moto {
    pub url: String,
    guard: Mutex<Child>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Ok(mut c) = self.guard.lock() {
            // Closing the guard's stdin makes it kill moto; kill the guard too.
            drop(c.stdin.take());
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Does something answer HTTP on the port?
fn answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/")
}

fn start() -> Moto {
    if !venv_bin("moto_server").exists() {
        let ok = Command::new("bash").arg(root().join("scripts/python-env.sh")).status().expect("bash runs").success();
        assert!(ok, "scripts/python-env.sh failed to make the test virtualenv");
    }
    let port = free_port();
    let guard = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" -H 127.0.0.1 -p "$1" >/dev/null 2>&1 & pid=$!; read _eof; kill $pid"#)
        .arg(venv_bin("moto_server"))
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !answers(port) {
        assert!(Instant::now() < deadline, "moto did not answer on {url}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto { url, guard: Mutex::new(guard) }
}

/// This test binary's moto server, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(start)
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
