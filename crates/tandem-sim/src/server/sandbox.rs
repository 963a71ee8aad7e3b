//! Starting, running and stopping the sandbox: the listener, the moto child,
//! the connections.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::dispatch::handle;
use super::{Shared, SimState};
use crate::upstream::{self, Upstream};

/// How to run the sandbox.
#[derive(Debug, Clone, Default)]
pub struct SandboxOptions {
    /// Loopback port; 0 picks a free one.
    pub port: u16,
    /// Where to forward what the sandbox does not serve (`http://host:port`).
    pub upstream: Option<String>,
    /// Start moto from the venv as the upstream.
    pub moto: bool,
    /// The venv holding `moto_server` (default: `$TANDEM_VENV`, else the
    /// nearest `.venv` walking up from the current directory).
    pub venv: Option<PathBuf>,
}

/// A running sandbox. Dropping it (or `shutdown().await`) stops the server
/// and any moto child it started.
pub struct Sandbox {
    addr: SocketAddr,
    upstream: Option<String>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    moto: Option<tokio::process::Child>,
}

impl Sandbox {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
    pub fn upstream(&self) -> Option<&str> {
        self.upstream.as_deref()
    }
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(mut child) = self.moto.take() {
            let _ = child.kill().await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(child) = self.moto.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// Starts the sandbox in-process; returns once it is listening.
pub async fn start(opts: SandboxOptions) -> anyhow::Result<Sandbox> {
    let mut moto = None;
    let upstream = if opts.moto {
        let venv = opts
            .venv
            .clone()
            .or_else(upstream::find_venv)
            .context("--moto needs the project venv: run scripts/python-env.sh, set TANDEM_VENV or pass --venv")?;
        let (child, up) = upstream::start_moto(&venv).await?;
        moto = Some(child);
        Some(up)
    } else {
        opts.upstream.as_deref().map(Upstream::new).transpose()?
    };
    let listener = TcpListener::bind(("127.0.0.1", opts.port)).await.with_context(|| format!("binding 127.0.0.1:{}", opts.port))?;
    let addr = listener.local_addr()?;
    let upstream_url = upstream.as_ref().map(|u| u.base.clone());
    let lambda = Arc::new(crate::lambda::Lambda::new(upstream.clone()));
    lambda.set_url(format!("http://{addr}"));
    let shared = Arc::new(Shared {
        state: Mutex::new(SimState::default()),
        upstream,
        lambda: lambda.clone(),
        dynamodb_writes: tokio::sync::Mutex::new(()),
        s3_writes: tokio::sync::Mutex::new(()),
    });
    let (stop, stop_rx) = watch::channel(false);
    tokio::spawn(crate::lambda::schedule::run(lambda, stop_rx.clone()));
    let task = tokio::spawn(accept_loop(listener, shared, stop_rx));
    Ok(Sandbox { addr, upstream: upstream_url, stop, task: Some(task), moto })
}

/// Starts the sandbox, prints where it listens, and serves until Ctrl-C.
pub async fn run_foreground(opts: SandboxOptions) -> anyhow::Result<()> {
    let sandbox = start(opts).await?;
    let first = match sandbox.upstream() {
        Some(up) => format!("tandem sandbox listening on {} (upstream {up})", sandbox.url()),
        None => format!("tandem sandbox listening on {}", sandbox.url()),
    };
    // What points tandem (and the AWS and Google SDKs) at it. One write, and
    // a reader that stops after the first line (a test, `head -1`) is no error.
    let url = sandbox.url();
    let text = format!(
        "{first}\n  export AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing TANDEM_GCP_ENDPOINT={url}\n"
    );
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    }
    // Ctrl-C or SIGTERM: either way moto (our child) goes down with us.
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).context("installing the SIGTERM handler")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    sandbox.shutdown().await;
    Ok(())
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let shared = shared.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(shared.clone(), req));
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = stop.changed() => {}
            }
        });
    }
}
