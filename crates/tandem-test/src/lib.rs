//! What the test folders share to reach real servers on loopback: the
//! project's virtualenv (pinned moto, boto3; made by scripts/python-env.sh),
//! moto on a free port, the `tandem sandbox` binary on a free port, and the
//! environment that points a `tandem` process's SDK clients at them.
//!
//! Helpers that know a crate's own types (kinds, contexts, SDK clients)
//! stay in that crate's tests; the in-process sandbox is
//! `tandem_sim::start`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The repository's root (this crate sits in `crates/tandem-test`).
pub fn root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    here.canonicalize().unwrap_or(here)
}

/// The test virtualenv: `$TANDEM_VENV`, else `.venv` at the root.
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
        let ok = Command::new("bash").arg(root().join("scripts/python-env.sh")).status().expect("bash runs").success();
        assert!(ok, "scripts/python-env.sh failed to make the test virtualenv");
    }
}

/// A process's output as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A loopback port nothing listens on (at the time of asking).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

/// Does something answer HTTP on the port? (moto answers `/moto-api/`.)
fn answers_http(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/")
}

/// A moto server of the test virtualenv; stopped when dropped.
///
/// It runs under a small `sh` guard that holds a pipe from this process:
/// when the test binary exits (even when killed), the pipe closes, the
/// guard's `read` returns and it kills moto. So a server kept in a static,
/// which Rust never drops, still does not outlive its tests.
pub struct Moto {
    pub url: String,
    guard: Mutex<Child>,
}

impl Moto {
    /// `moto_server` on a free loopback port, once it answers HTTP.
    pub fn start() -> Moto {
        ensure_venv();
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
        while !answers_http(port) {
            assert!(Instant::now() < deadline, "moto did not answer on {url}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { url, guard: Mutex::new(guard) }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Ok(mut c) = self.guard.lock() {
            // Closing the guard's stdin makes it kill moto and exit. Killing
            // the guard instead could end it before its `kill`, leaving moto
            // running; it is killed only if it does not finish on its own.
            drop(c.stdin.take());
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(c.try_wait(), Ok(None)) {
                if Instant::now() >= deadline {
                    let _ = c.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.wait();
        }
    }
}

/// A running `tandem sandbox --moto`; stopped when dropped.
pub struct Sandbox {
    pub child: Child,
    pub url: String,
}

impl Sandbox {
    /// `tandem sandbox --moto --port 0` (`tandem` being the binary under
    /// test, `env!("CARGO_BIN_EXE_tandem")`), once it says where it listens:
    /// it prints its URL only when it serves.
    pub fn start(tandem: impl AsRef<Path>) -> Sandbox {
        ensure_venv();
        let mut child = Command::new(tandem.as_ref())
            .args(["sandbox", "--moto", "--port", "0", "--venv"])
            .arg(venv())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tandem sandbox starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line).expect("tandem sandbox prints its URL");
        let url = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_else(|| panic!("no URL in {line:?}")).to_string();
        Sandbox { child, url }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // SIGTERM lets the sandbox stop its moto child.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

/// The environment that points a process (`tandem`, a Python client) at
/// the test servers, as methods so they fit in a `Command` builder chain.
pub trait TestEnv {
    /// The AWS SDK clients talk to `url` with static test credentials; the
    /// developer's own AWS configuration (profile, instance metadata) stays out.
    fn aws_env(&mut self, url: &str) -> &mut Self;
    /// `tandem`'s GCP clients talk to `url` with no credentials.
    fn gcp_env(&mut self, url: &str) -> &mut Self;
}

impl TestEnv for Command {
    fn aws_env(&mut self, url: &str) -> &mut Self {
        self.env("AWS_ENDPOINT_URL", url)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
    }

    fn gcp_env(&mut self, url: &str) -> &mut Self {
        self.env("TANDEM_GCP_ENDPOINT", url).env_remove("GOOGLE_APPLICATION_CREDENTIALS")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_holds_the_workspace_and_the_venv_script() {
        assert!(root().join("Cargo.toml").is_file());
        assert!(root().join("scripts/python-env.sh").is_file());
    }

    #[test]
    fn the_env_points_sdk_clients_at_the_server_and_drops_the_developers_profile() {
        let mut c = Command::new("true");
        c.gcp_env("http://127.0.0.1:9").aws_env("http://127.0.0.1:9");
        let envs: Vec<(String, Option<String>)> =
            c.get_envs().map(|(k, v)| (k.to_string_lossy().into_owned(), v.map(|v| v.to_string_lossy().into_owned()))).collect();
        for want in ["AWS_ENDPOINT_URL", "TANDEM_GCP_ENDPOINT"] {
            assert!(envs.contains(&(want.into(), Some("http://127.0.0.1:9".into()))), "{want}: {envs:?}");
        }
        for gone in ["AWS_PROFILE", "GOOGLE_APPLICATION_CREDENTIALS"] {
            assert!(envs.contains(&(gone.into(), None)), "{gone}: {envs:?}");
        }
    }

    #[test]
    fn moto_answers_until_dropped() {
        let moto = Moto::start();
        let port: u16 = moto.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port in the URL");
        assert!(answers_http(port));
        drop(moto);
        // The guard kills moto once its pipe closes.
        let deadline = Instant::now() + Duration::from_secs(30);
        while answers_http(port) {
            assert!(Instant::now() < deadline, "moto still answers on {port} after its guard was dropped");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
