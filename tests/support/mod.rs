//! What the tests that drive the `tandem` binary share: where the
//! repository and its virtualenv are, and `tandem sandbox --moto` (tandem-sim
//! in front of the pinned moto) on a free loopback port for one test.

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
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

/// `tandem sandbox --moto --port 0`, once it says where it listens.
pub fn sandbox() -> Sandbox {
    if !venv().join("bin/moto_server").exists() {
        assert!(Command::new("bash").arg(root().join("scripts/python-env.sh")).status().unwrap().success());
    }
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
