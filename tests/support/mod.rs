//! What the tests that drive the `tandem` binary share: where the
//! repository and its virtualenv are, and `tandem sandbox --moto` (tandem-sim
//! in front of the pinned moto), or moto alone, on a free loopback port for
//! one test.

// Each test binary includes this module and uses what it needs.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub fn venv() -> PathBuf {
    std::env::var_os("TANDEM_VENV").map(PathBuf::from).unwrap_or_else(|| root().join(".venv"))
}

/// A program of the test virtualenv (`python`, `moto_server`).
pub fn venv_bin(name: &str) -> PathBuf {
    venv().join("bin").join(name)
}

/// Makes the test virtualenv (scripts/python-env.sh) when it has no moto yet.
pub fn ensure_venv() {
    if !venv_bin("moto_server").exists() {
        let ok = Command::new("bash").arg(root().join("scripts/python-env.sh")).status().unwrap().success();
        assert!(ok, "scripts/python-env.sh failed to make the test virtualenv");
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A running sandbox; stopped when dropped.
pub struct Sandbox {
    pub child: Child,
    pub url: String,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // SIGTERM lets the sandbox stop its moto child.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

/// `tandem sandbox --moto --port 0`, once it says where it listens.
pub fn sandbox() -> Sandbox {
    ensure_venv();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["sandbox", "--moto", "--port", "0", "--venv"])
        .arg(venv())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_else(|| panic!("no URL in {line:?}")).to_string();
    Sandbox { child, url }
}

/// A moto server alone; stopped when dropped.
pub struct Moto {
    pub child: Child,
    pub url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `moto_server` on a free loopback port, once it accepts connections.
pub fn moto() -> Moto {
    ensure_venv();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(venv_bin("moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "moto did not start listening on {url}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Moto { child, url }
}
