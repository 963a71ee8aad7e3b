//! The upstream emulator (moto): what the sandbox does not serve is forwarded
//! there unchanged; `--moto` starts one as a child process.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// An upstream base URL (`http://host:port`) and a client to reach it.
#[derive(Clone)]
pub struct Upstream {
    pub base: String,
    client: HttpClient,
}

/// A forwarded answer, returned to the caller unchanged.
pub struct Forwarded {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Upstream {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let base = base.trim_end_matches('/').to_string();
        let uri: http::Uri = base.parse().with_context(|| format!("upstream URL {base:?}"))?;
        if uri.scheme_str() != Some("http") || uri.authority().is_none() {
            bail!("upstream URL {base:?} must be http://host:port");
        }
        Ok(Upstream { base, client: http_client() })
    }

    /// Sends the request upstream: same method, path, query, headers and body.
    pub async fn forward(&self, method: Method, path_and_query: &str, headers: &HeaderMap, body: Bytes) -> anyhow::Result<Forwarded> {
        let uri: http::Uri = format!("{}{}", self.base, path_and_query).parse()?;
        let mut req = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            // Hop-by-hop headers are the connection's, not the request's.
            if k == http::header::CONNECTION || k == http::header::TRANSFER_ENCODING {
                continue;
            }
            req = req.header(k, v);
        }
        let req = req.body(Full::new(body))?;
        let resp = self.client.request(req).await.map_err(|e| anyhow!("upstream {}: {e}", self.base))?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.map_err(|e| anyhow!("upstream body: {e}"))?.to_bytes();
        let mut headers = parts.headers;
        headers.remove(http::header::TRANSFER_ENCODING);
        headers.remove(http::header::CONNECTION);
        Ok(Forwarded { status: parts.status, headers, body })
    }

    /// Sends a plain GET and returns the status (used to see that moto is up).
    pub async fn ping(&self) -> anyhow::Result<StatusCode> {
        let req = http::Request::builder().uri(format!("{}/moto-api/", self.base)).body(Full::new(Bytes::new()))?;
        Ok(self.client.request(req).await?.status())
    }
}

/// Finds the project venv: `$TANDEM_VENV`, else `.venv` in the current
/// directory or the nearest parent that has one.
pub fn find_venv() -> Option<PathBuf> {
    if let Some(v) = std::env::var_os("TANDEM_VENV") {
        return Some(PathBuf::from(v));
    }
    let mut dir = std::env::current_dir().ok()?;
    loop {
        let cand = dir.join(".venv");
        if cand.join("bin").is_dir() {
            return Some(cand);
        }
        if !dir.pop() {
            return None;
        }
    }
}

/// A free loopback port (bound then released).
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Starts `<venv>/bin/moto_server -H 127.0.0.1 -p PORT` and waits until it answers.
pub async fn start_moto(venv: &Path) -> anyhow::Result<(tokio::process::Child, Upstream)> {
    let bin = venv.join("bin").join("moto_server");
    if !bin.exists() {
        bail!("{} not found: create the venv with scripts/python-env.sh or pass --venv", bin.display());
    }
    let port = free_port()?;
    let mut child = tokio::process::Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let upstream = Upstream::new(&format!("http://127.0.0.1:{port}"))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(status) = upstream.ping().await {
            if status.is_success() || status.is_client_error() {
                return Ok((child, upstream));
            }
        }
        if let Some(status) = child.try_wait()? {
            bail!("moto_server exited early ({status})");
        }
        if tokio::time::Instant::now() > deadline {
            let _ = child.kill().await;
            bail!("moto_server did not answer on port {port} within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
