//! Execution environments for custom-runtime functions: the function's
//! `bootstrap` as a child process talking to a Lambda Runtime API served on
//! loopback, one environment per concurrent invocation, kept warm.
//!
//! The Runtime API, as https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
//! defines it:
//! - `GET /2018-06-01/runtime/invocation/next`: the next event, with
//!   `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`,
//!   `Lambda-Runtime-Invoked-Function-Arn`, `Lambda-Runtime-Trace-Id`;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `.../error`: 202;
//! - `POST /2018-06-01/runtime/init/error`: 202 (the runtime then exits).
//!
//! The environment variables are Lambda's defined runtime variables
//! (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
//! the function's own, and the sandbox's endpoint so the function's SDK calls
//! come back to the sandbox.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

/// What the sandbox knows of a function when it runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionConfig {
    pub name: String,
    pub arn: String,
    pub region: String,
    pub runtime: String,
    pub handler: String,
    pub timeout: Duration,
    pub memory: i64,
    pub role: String,
    pub code_sha: String,
    pub env: Vec<(String, String)>,
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The runtime posted a response.
    Ok(Bytes),
    /// The runtime posted an error, timed out, failed to start or exited:
    /// the payload is the error document Lambda returns.
    Error(Bytes),
}

/// One invocation's result and the lines its environment printed meanwhile.
#[derive(Debug, Clone)]
pub struct Finished {
    pub request_id: String,
    pub outcome: Outcome,
    pub logs: String,
    pub duration: Duration,
}

struct Job {
    id: String,
    payload: Bytes,
    reply: oneshot::Sender<Finished>,
}

struct Current {
    id: String,
    started: Instant,
    reply: oneshot::Sender<Finished>,
}

/// One execution environment: a `bootstrap` process and its Runtime API.
struct Env {
    busy: AtomicBool,
    dead: watch::Sender<bool>,
    current: Mutex<Option<Current>>,
    logs: Mutex<String>,
    init_error: Mutex<Option<Bytes>>,
    took_a_job: AtomicBool,
    kill: Mutex<Option<oneshot::Sender<()>>>,
}

impl Env {
    fn is_dead(&self) -> bool {
        *self.dead.borrow()
    }
    fn drain_logs(&self) -> String {
        std::mem::take(&mut *self.logs.lock().unwrap_or_else(|e| e.into_inner()))
    }
    fn kill(&self) {
        if let Some(k) = self.kill.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = k.send(());
        }
    }
}

/// The environments of one function at one configuration.
pub struct Host {
    pub cfg: FunctionConfig,
    dir: tempfile::TempDir,
    sandbox_url: String,
    jobs: mpsc::UnboundedSender<Job>,
    queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Job>>>,
    envs: Mutex<Vec<Arc<Env>>>,
    seq: AtomicU64,
    /// Invocations queued and not yet taken by an environment.
    pending: std::sync::atomic::AtomicUsize,
}

/// At most this many environments (concurrent invocations) per function.
const MAX_ENVS: usize = 10;
/// How long a runtime may take to ask for its first event.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

fn epoch_ms(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default()
}

fn error_doc(error_type: &str, message: String) -> Bytes {
    Bytes::from(json!({ "errorType": error_type, "errorMessage": message }).to_string())
}

impl Host {
    /// Unpacks the package into a fresh directory.
    pub fn new(cfg: FunctionConfig, zip: &[u8], sandbox_url: &str) -> Result<Arc<Host>, String> {
        let dir = tempfile::Builder::new().prefix("tandem-lambda-").tempdir().map_err(|e| format!("a directory for the function: {e}"))?;
        super::unzip::unzip(zip, dir.path())?;
        if !dir.path().join("bootstrap").is_file() {
            return Err(
                "the deployment package has no `bootstrap` at its root, which a custom runtime (provided.al2023, provided.al2) needs"
                    .into(),
            );
        }
        let (jobs, rx) = mpsc::unbounded_channel();
        Ok(Arc::new(Host {
            cfg,
            dir,
            sandbox_url: sandbox_url.to_string(),
            jobs,
            queue: Arc::new(tokio::sync::Mutex::new(rx)),
            envs: Mutex::new(Vec::new()),
            seq: AtomicU64::new(0),
            pending: Default::default(),
        }))
    }

    /// Runs one invocation to its end (response, error, timeout or crash).
    pub async fn invoke(self: &Arc<Self>, request_id: String, payload: Bytes) -> Finished {
        let (reply, done) = oneshot::channel();
        let started = Instant::now();
        self.pending.fetch_add(1, Ordering::SeqCst);
        let _ = self.jobs.send(Job { id: request_id.clone(), payload, reply });
        if let Err(e) = self.ensure_env().await {
            // Nothing could start: answer this invocation (and leave no job behind).
            if self.queue.lock().await.try_recv().is_ok() {
                self.pending.fetch_sub(1, Ordering::SeqCst);
            }
            return Finished {
                request_id,
                outcome: Outcome::Error(error_doc("Runtime.InvalidEntrypoint", e)),
                logs: String::new(),
                duration: started.elapsed(),
            };
        }
        let limit = INIT_TIMEOUT + self.cfg.timeout + Duration::from_secs(2);
        match tokio::time::timeout(limit, done).await {
            Ok(Ok(f)) => f,
            _ => Finished {
                request_id: request_id.clone(),
                outcome: Outcome::Error(error_doc(
                    "Runtime.Unknown",
                    format!("RequestId: {request_id} Error: the runtime never took the invocation"),
                )),
                logs: String::new(),
                duration: started.elapsed(),
            },
        }
    }

    /// Starts an environment when fewer are idle than invocations wait
    /// (up to [`MAX_ENVS`]): concurrent invocations run side by side.
    /// Boxed: the Runtime API it starts calls it back (a requeued invocation).
    fn ensure_env(self: &Arc<Self>) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            if self.needs_env() {
                self.spawn_env().await?;
            }
            Ok(())
        })
    }

    fn needs_env(&self) -> bool {
        let mut envs = self.envs.lock().unwrap_or_else(|e| e.into_inner());
        envs.retain(|e| !e.is_dead());
        let idle = envs.iter().filter(|e| !e.busy.load(Ordering::SeqCst)).count();
        idle < self.pending.load(Ordering::SeqCst) && envs.len() < MAX_ENVS
    }

    /// Stops every environment (the function was deleted or changed).
    pub fn shutdown(&self) {
        for e in self.envs.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            e.kill();
        }
    }

    fn environment(&self, api: SocketAddr) -> Vec<(String, String)> {
        let c = &self.cfg;
        let n = self.seq.fetch_add(1, Ordering::SeqCst);
        let day = chrono_free_date();
        let mut env: Vec<(String, String)> = vec![
            ("AWS_LAMBDA_RUNTIME_API".into(), api.to_string()),
            ("_HANDLER".into(), c.handler.clone()),
            ("AWS_REGION".into(), c.region.clone()),
            ("AWS_DEFAULT_REGION".into(), c.region.clone()),
            ("AWS_LAMBDA_FUNCTION_NAME".into(), c.name.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), c.memory.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE".into(), "on-demand".into()),
            ("AWS_LAMBDA_LOG_GROUP_NAME".into(), format!("/aws/lambda/{}", c.name)),
            ("AWS_LAMBDA_LOG_STREAM_NAME".into(), format!("{day}/[$LATEST]{n:032x}")),
            ("LAMBDA_TASK_ROOT".into(), self.dir.path().display().to_string()),
            ("LAMBDA_RUNTIME_DIR".into(), self.dir.path().display().to_string()),
            ("TZ".into(), ":UTC".into()),
            ("LANG".into(), "en_US.UTF-8".into()),
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            // The execution role's credentials, as the sandbox takes any.
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
            ("AWS_SESSION_TOKEN".into(), "testing".into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            // The function's AWS and GCP calls come back to the sandbox.
            ("AWS_ENDPOINT_URL".into(), self.sandbox_url.clone()),
            ("TANDEM_GCP_ENDPOINT".into(), self.sandbox_url.clone()),
        ];
        for (k, v) in &c.env {
            env.retain(|(ek, _)| ek != k);
            env.push((k.clone(), v.clone()));
        }
        env
    }

    async fn spawn_env(self: &Arc<Self>) -> Result<(), String> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| format!("the Runtime API: {e}"))?;
        let api = listener.local_addr().map_err(|e| e.to_string())?;
        let bootstrap: PathBuf = self.dir.path().join("bootstrap");
        let mut child = tokio::process::Command::new(&bootstrap)
            .current_dir(self.dir.path())
            .env_clear()
            .envs(self.environment(api))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start bootstrap: {e} (a custom runtime's bootstrap must be an executable for this machine)"))?;
        let (dead, _) = watch::channel(false);
        let (kill_tx, kill_rx) = oneshot::channel();
        let env = Arc::new(Env {
            busy: AtomicBool::new(false),
            dead,
            current: Mutex::new(None),
            logs: Mutex::new(String::new()),
            init_error: Mutex::new(None),
            took_a_job: AtomicBool::new(false),
            kill: Mutex::new(Some(kill_tx)),
        });
        self.envs.lock().unwrap_or_else(|e| e.into_inner()).push(env.clone());
        // Output lines belong to the invocation running when they are printed.
        for stream in [
            child.stdout.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Send + Unpin>),
            child.stderr.take().map(|s| Box::new(s) as _),
        ]
        .into_iter()
        .flatten()
        {
            let env = env.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut l = env.logs.lock().unwrap_or_else(|e| e.into_inner());
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        // The Runtime API of this environment.
        {
            let (host, env) = (self.clone(), env.clone());
            tokio::spawn(async move {
                let mut dead = env.dead.subscribe();
                loop {
                    let stream = tokio::select! {
                        r = listener.accept() => match r { Ok((s, _)) => s, Err(_) => continue },
                        _ = dead.changed() => return,
                    };
                    let (host, env) = (host.clone(), env.clone());
                    tokio::spawn(async move {
                        let svc = service_fn(move |req| {
                            let (host, env) = (host.clone(), env.clone());
                            async move { Ok::<_, Infallible>(runtime_api(&host, &env, req).await) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                    });
                }
            });
        }
        // Exit: answer what was running, and an invocation waiting on an init that failed.
        {
            let (host, env) = (self.clone(), env.clone());
            tokio::spawn(async move {
                let status = tokio::select! {
                    s = child.wait() => s.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()),
                    _ = kill_rx => {
                        let _ = child.kill().await;
                        "killed".to_string()
                    }
                };
                let _ = env.dead.send(true);
                env.busy.store(true, Ordering::SeqCst);
                // Let the output readers finish.
                tokio::time::sleep(Duration::from_millis(20)).await;
                let current = env.current.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(c) = current {
                    let msg = format!("RequestId: {} Error: Runtime exited with error: {status}", c.id);
                    let _ = c.reply.send(Finished {
                        request_id: c.id,
                        outcome: Outcome::Error(error_doc("Runtime.ExitError", msg)),
                        logs: env.drain_logs(),
                        duration: c.started.elapsed(),
                    });
                } else if !env.took_a_job.load(Ordering::SeqCst) {
                    // The runtime died before its first event: that fails the invocation that started it.
                    let init = env.init_error.lock().unwrap_or_else(|e| e.into_inner()).take();
                    let job = host.queue.lock().await.try_recv();
                    if let Ok(job) = job {
                        host.pending.fetch_sub(1, Ordering::SeqCst);
                        let payload = init.unwrap_or_else(|| {
                            error_doc("Runtime.ExitError", format!("RequestId: {} Error: Runtime exited with error: {status}", job.id))
                        });
                        let _ = job.reply.send(Finished {
                            request_id: job.id,
                            outcome: Outcome::Error(payload),
                            logs: env.drain_logs(),
                            duration: Duration::ZERO,
                        });
                    }
                }
            });
        }
        Ok(())
    }
}

/// Today's date as Lambda writes it in log stream names (YYYY/MM/DD).
fn chrono_free_date() -> String {
    let days = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() / 86_400).unwrap_or_default() as i64;
    let (y, m, d) = crate::support::time::civil(days);
    format!("{y:04}/{m:02}/{d:02}")
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    r
}

/// Ends the running invocation `id` with `outcome`; false when `id` is not it.
fn finish(env: &Arc<Env>, id: &str, outcome: Outcome) -> bool {
    let current = {
        let mut cur = env.current.lock().unwrap_or_else(|e| e.into_inner());
        match cur.as_ref() {
            Some(c) if c.id == id => cur.take(),
            _ => None,
        }
    };
    let Some(c) = current else { return false };
    let env = env.clone();
    tokio::spawn(async move {
        // Lines printed just before the response belong to this invocation.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let logs = env.drain_logs();
        env.busy.store(false, Ordering::SeqCst);
        let _ = c.reply.send(Finished { request_id: c.id, outcome, logs, duration: c.started.elapsed() });
    });
    true
}

async fn runtime_api(host: &Arc<Host>, env: &Arc<Env>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let segs: Vec<&str> = parts.uri.path().trim_matches('/').split('/').collect();
    match (parts.method, segs.as_slice()) {
        (Method::GET, ["2018-06-01", "runtime", "invocation", "next"]) => {
            env.busy.store(false, Ordering::SeqCst);
            let mut dead = env.dead.subscribe();
            let job = {
                let mut queue = host.queue.lock().await;
                tokio::select! {
                    j = queue.recv() => j,
                    _ = dead.changed() => None,
                }
            };
            let Some(job) = job else {
                return reply(StatusCode::GONE, json!({ "errorType": "Runtime.Stopped", "errorMessage": "the environment is stopping" }));
            };
            if env.is_dead() {
                // Not ours to run: back in the queue for another environment.
                let _ = host.jobs.send(job);
                let _ = host.ensure_env().await;
                return reply(StatusCode::GONE, json!({ "errorType": "Runtime.Stopped", "errorMessage": "the environment is stopping" }));
            }
            host.pending.fetch_sub(1, Ordering::SeqCst);
            env.busy.store(true, Ordering::SeqCst);
            env.took_a_job.store(true, Ordering::SeqCst);
            let deadline = SystemTime::now() + host.cfg.timeout;
            let id = job.id.clone();
            *env.current.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(Current { id: id.clone(), started: Instant::now(), reply: job.reply });
            // The function's timeout: the environment is stopped, the invocation fails.
            {
                let (env, id, timeout) = (env.clone(), id.clone(), host.cfg.timeout);
                tokio::spawn(async move {
                    tokio::time::sleep(timeout).await;
                    let msg = format!("RequestId: {id} Error: Task timed out after {:.2} seconds", timeout.as_secs_f64());
                    if finish(&env, &id, Outcome::Error(error_doc("Sandbox.Timedout", msg))) {
                        env.kill();
                    }
                });
            }
            let mut r = Response::new(Full::new(job.payload));
            let h = r.headers_mut();
            let set = |h: &mut http::HeaderMap, k: &'static str, v: String| {
                if let Ok(v) = http::HeaderValue::from_str(&v) {
                    h.insert(k, v);
                }
            };
            set(h, "lambda-runtime-aws-request-id", id.clone());
            set(h, "lambda-runtime-deadline-ms", epoch_ms(deadline).to_string());
            set(h, "lambda-runtime-invoked-function-arn", host.cfg.arn.clone());
            set(
                h,
                "lambda-runtime-trace-id",
                format!("Root=1-{:08x}-{}", epoch_ms(SystemTime::now()) / 1000, &id.replace('-', "")[..24.min(id.len())]),
            );
            set(h, "content-type", "application/json".into());
            r
        }
        (Method::POST, ["2018-06-01", "runtime", "invocation", id, "response"]) => {
            if finish(env, id, Outcome::Ok(body)) {
                reply(StatusCode::ACCEPTED, json!({ "status": "OK" }))
            } else {
                reply(
                    StatusCode::BAD_REQUEST,
                    json!({ "errorType": "InvalidRequestID", "errorMessage": format!("{id} is not the invocation this environment runs") }),
                )
            }
        }
        (Method::POST, ["2018-06-01", "runtime", "invocation", id, "error"]) => {
            let doc =
                if body.is_empty() { error_doc("Runtime.Unknown", "the runtime reported an error without a body".into()) } else { body };
            if finish(env, id, Outcome::Error(doc)) {
                reply(StatusCode::ACCEPTED, json!({ "status": "OK" }))
            } else {
                reply(
                    StatusCode::BAD_REQUEST,
                    json!({ "errorType": "InvalidRequestID", "errorMessage": format!("{id} is not the invocation this environment runs") }),
                )
            }
        }
        (Method::POST, ["2018-06-01", "runtime", "init", "error"]) => {
            let doc = if body.is_empty() { error_doc("Runtime.InitError", "the runtime failed to initialize".into()) } else { body };
            *env.init_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(doc);
            reply(StatusCode::ACCEPTED, json!({ "status": "OK" }))
        }
        (m, _) => reply(
            StatusCode::NOT_FOUND,
            json!({ "errorType": "InvalidRequest", "errorMessage": format!("no Runtime API route {m} {}", parts.uri.path()) }),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn log_stream_dates() {
        let d = super::chrono_free_date();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"), "{d}");
    }
}
