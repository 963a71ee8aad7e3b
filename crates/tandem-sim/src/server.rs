//! The sandbox HTTP server: one loopback endpoint for all of AWS. It reads
//! each request's service and region from the SigV4 credential scope, its
//! operation from the protocol (restJson1 path, awsJson `X-Amz-Target`, query
//! `Action`), counts it, applies injected faults, serves what tandem-sim
//! implements and forwards everything else to the upstream emulator unchanged.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use anyhow::Context;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::accounting::Accounting;
use crate::connect::{self, Connect};
use crate::env::SimEnv;
use crate::error::{ApiError, Protocol};
use crate::faults::{FaultAction, Faults};
use crate::latency::LatencyConfig;
use crate::upstream::{self, Upstream};

/// moto's default account, which the sandbox uses too.
pub const ACCOUNT_ID: &str = "123456789012";
pub const DEFAULT_REGION: &str = "us-east-1";

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

/// Everything the sandbox simulates, behind one lock.
#[derive(Default)]
pub(crate) struct SimState {
    pub latency: LatencyConfig,
    pub delays: Vec<crate::latency::ResponseDelay>,
    pub consistency: Vec<crate::latency::ConsistencyRule>,
    pub faults: Faults,
    pub accounting: Accounting,
    pub connect: Connect,
    pub directconnect: crate::directconnect::DirectConnect,
    pub dynamodb: crate::dynamodb::Replicas,
    pub vpn: crate::ec2::VpnTunnels,
    pub ec2_visibility: crate::ec2_consistency::Visibility,
    pub routes: crate::ec2_routes::RoutePropagation,
    pub compute: crate::gcp::Compute,
    pub cloudwatch: crate::cloudwatch::CloudWatch,
}

pub(crate) struct Shared {
    state: Mutex<SimState>,
    pub upstream: Option<Upstream>,
    /// Functions run, schedules fired, Kinesis delivered (outside the state's lock).
    pub lambda: Arc<crate::lambda::Lambda>,
    /// Serializes DynamoDB item writes with their replication (see `dynamodb`).
    pub dynamodb_writes: tokio::sync::Mutex<()>,
    /// Serializes S3 writes so a conditional one is checked and made atomically.
    pub s3_writes: tokio::sync::Mutex<()>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, SimState> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
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

/// How a call's answers (and errors) are put on the wire.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Wire {
    RestJson,
    /// awsJson 1.0/1.1 with the request's content type.
    AwsJson(String),
    Ec2Query,
    AwsQuery,
    RestXml,
    RpcV2Cbor,
}

/// What a request is: service, region, operation, wire protocol.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub service: String,
    pub region: String,
    pub operation: String,
    pub wire: Wire,
}

/// Service and region from a SigV4 credential scope
/// (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`), header or presigned query.
fn credential_scope(headers: &HeaderMap, query: &str) -> Option<(String, String)> {
    let cred = if let Some(auth) = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let i = auth.find("Credential=")?;
        auth[i + "Credential=".len()..].split([',', ' ']).next()?.to_string()
    } else {
        form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "X-Amz-Credential")?.1.into_owned()
    };
    let parts: Vec<&str> = cred.split('/').collect();
    if parts.len() >= 5 {
        Some((parts[3].to_string(), parts[2].to_string()))
    } else {
        None
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) fn identify(method: &Method, path: &str, query: &str, headers: &HeaderMap, body: &[u8]) -> Call {
    let target = header(headers, "x-amz-target");
    let (mut service, region) = credential_scope(headers, query).unwrap_or_default();
    let region = if region.is_empty() { DEFAULT_REGION.to_string() } else { region };
    if service.is_empty() {
        service = match target.and_then(|t| t.split('.').next()) {
            Some("OvertureService") => "directconnect".into(),
            Some(p) if p.starts_with("DynamoDB") => "dynamodb".into(),
            Some(p) if p.starts_with("Kinesis") => "kinesis".into(),
            _ if connect::operation(method, &connect::segments(path)).is_some() => "connect".into(),
            Some(crate::cloudwatch::SMITHY_SERVICE) => crate::cloudwatch::SERVICE.into(),
            _ if path.starts_with(&format!("/service/{}/", crate::cloudwatch::SMITHY_SERVICE)) => crate::cloudwatch::SERVICE.into(),
            _ => "unknown".into(),
        };
    }
    if header(headers, "smithy-protocol") == Some("rpc-v2-cbor") {
        let op = path.rsplit('/').next().unwrap_or("").to_string();
        return Call { service, region, operation: op, wire: Wire::RpcV2Cbor };
    }
    if let Some(t) = target {
        let ct = header(headers, "content-type").unwrap_or("application/x-amz-json-1.1").to_string();
        let op = t.rsplit('.').next().unwrap_or(t).to_string();
        return Call { service, region, operation: op, wire: Wire::AwsJson(ct) };
    }
    let form = header(headers, "content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let action = form_urlencoded::parse(query.as_bytes())
        .chain(if form { form_urlencoded::parse(body) } else { form_urlencoded::parse(b"") })
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.into_owned());
    if let Some(action) = action {
        let wire = if service == "ec2" { Wire::Ec2Query } else { Wire::AwsQuery };
        return Call { service, region, operation: action, wire };
    }
    if service == "connect" {
        let op = connect::operation(method, &connect::segments(path)).unwrap_or("Unknown").to_string();
        return Call { service, region, operation: op, wire: Wire::RestJson };
    }
    if let (true, Some(op)) = (service == "lambda", crate::lambda::operation(method, path)) {
        return Call { service, region, operation: op.to_string(), wire: Wire::RestJson };
    }
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let wire = if service == "s3" { Wire::RestXml } else { Wire::RestJson };
    Call { service, region, operation: format!("{method} /{first}"), wire }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A CBOR text string (major type 3).
fn cbor_text(out: &mut Vec<u8>, s: &str) {
    let n = s.len();
    if n < 24 {
        out.push(0x60 | n as u8);
    } else if n < 256 {
        out.extend([0x78, n as u8]);
    } else {
        let n = n.min(u16::MAX as usize);
        out.push(0x79);
        out.extend((n as u16).to_be_bytes());
        out.extend(&s.as_bytes()[..n]);
        return;
    }
    out.extend(s.as_bytes());
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn respond(status: u16, headers: &[(&str, String)], body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in headers {
        if let (Ok(name), Ok(val)) = (http::HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            resp.headers_mut().insert(name, val);
        }
    }
    resp
}

/// Renders an error the way the call's protocol puts errors on the wire.
pub(crate) fn render_error(wire: &Wire, e: &ApiError) -> Response<Full<Bytes>> {
    let rid = request_id();
    match wire {
        Wire::RestJson => respond(
            e.status,
            &[("content-type", "application/json".into()), ("x-amzn-ErrorType", e.code.clone()), ("x-amzn-RequestId", rid)],
            e.json_body(Protocol::RestJson1).to_string(),
        ),
        Wire::AwsJson(ct) => respond(
            e.status,
            &[("content-type", ct.clone()), ("x-amzn-RequestId", rid)],
            e.json_body(Protocol::AwsJson).to_string(),
        ),
        // EC2 answers the request id in the body and in `x-amzn-RequestId`;
        // the SDK reads it from the header.
        Wire::Ec2Query => respond(
            e.status,
            &[("content-type", "text/xml;charset=UTF-8".into()), ("x-amzn-RequestId", rid.clone())],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>",
                xml_escape(&e.code),
                xml_escape(&e.message)
            ),
        ),
        Wire::AwsQuery => respond(
            e.status,
            &[("content-type", "text/xml".into()), ("x-amzn-RequestId", rid.clone())],
            format!(
                "<ErrorResponse><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>",
                if e.status >= 500 { "Receiver" } else { "Sender" },
                xml_escape(&e.code),
                xml_escape(&e.message)
            ),
        ),
        Wire::RestXml => respond(
            e.status,
            &[("content-type", "application/xml".into()), ("x-amz-request-id", rid.clone())],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{rid}</RequestId></Error>",
                xml_escape(&e.code),
                xml_escape(&e.message)
            ),
        ),
        Wire::RpcV2Cbor => {
            let mut body = vec![0xA2];
            cbor_text(&mut body, "__type");
            cbor_text(&mut body, &e.code);
            cbor_text(&mut body, "message");
            cbor_text(&mut body, &e.message);
            respond(
                e.status,
                &[("content-type", "application/cbor".into()), ("smithy-protocol", "rpc-v2-cbor".into()), ("x-amzn-RequestId", rid)],
                body,
            )
        }
    }
}

pub(crate) fn json_response(status: u16, v: &Value) -> Response<Full<Bytes>> {
    respond(status, &[("content-type", "application/json".into()), ("x-amzn-RequestId", request_id())], v.to_string())
}

fn dropped(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, why.to_string())
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|e| dropped(&e.to_string()))?.to_bytes();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    if path == "/_tandem" || path.starts_with("/_tandem/") {
        return Ok(crate::admin::handle(&shared, &parts.method, &path, &query, &body));
    }
    // GCP requests carry no SigV4 scope: they are known by their path.
    if let Some(rest) = path.strip_prefix("/compute/v1/projects/") {
        // The query travels along: `requestId` makes a mutation idempotent.
        let rest = if query.is_empty() { rest.to_string() } else { format!("{rest}?{query}") };
        return compute(&shared, parts.method.as_str(), &rest, &parts.headers, &body).await;
    }
    let call = identify(&parts.method, &path, &query, &parts.headers, &body);
    if let Some(e) = count_and_inject(&shared, &call.service, &call.operation, &call.region).await? {
        return Ok(render_error(&call.wire, &e));
    }
    if call.service == "connect" && call.wire == Wire::RestJson {
        if let Some(resp) = serve_connect(&shared, &call, &parts.method, &path, &query, &body) {
            return Ok(resp);
        }
    }
    if call.service == "lambda" {
        if let Some(resp) = lambda_call(&shared, &call, parts.method.clone(), parts.uri.clone(), &parts.headers, body.clone()).await {
            return Ok(resp);
        }
    }
    if call.service == "events" && crate::lambda::schedule::FOLLOWED.contains(&call.operation.as_str()) {
        let resp = forward(&shared, &call, parts.method, parts.uri, &parts.headers, body.clone()).await;
        if resp.status().is_success() {
            let (resp, bytes) = body_text(resp).await;
            let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            shared.lambda.schedules.lock().unwrap_or_else(|e| e.into_inner()).follow(&call.region, &call.operation, &input, &answer);
            return Ok(resp);
        }
        return Ok(resp);
    }
    if call.service == "directconnect"
        && matches!(call.wire, Wire::AwsJson(_))
        && crate::directconnect::OPERATIONS.contains(&call.operation.as_str())
    {
        return Ok(serve_json(&shared, &call, &body, |st, env, input| st.directconnect.handle(env, &call.operation, input)));
    }
    if call.service == crate::cloudwatch::SERVICE && crate::cloudwatch::OPERATIONS.contains(&call.operation.as_str()) {
        let wire = match call.wire {
            Wire::RpcV2Cbor => Some(crate::cloudwatch::CwWire::RpcV2Cbor),
            Wire::AwsJson(_) => Some(crate::cloudwatch::CwWire::AwsJson10),
            _ => None,
        };
        if let Some(wire) = wire {
            let mut st = shared.lock();
            return Ok(crate::cloudwatch::serve(&mut st.cloudwatch, wire, ACCOUNT_ID, &call.region, &call.operation, &body));
        }
    }
    if call.service == "dynamodb" && matches!(call.wire, Wire::AwsJson(_)) {
        if let Ok(input) = serde_json::from_slice::<Value>(&body) {
            return Ok(dynamodb(&shared, &call, parts.method, parts.uri, &parts.headers, body, input).await);
        }
    }
    if call.service == "ec2" && call.wire == Wire::Ec2Query {
        return Ok(ec2(&shared, &call, parts.method, parts.uri, &parts.headers, body).await);
    }
    if call.service == "s3" && matches!(parts.method, Method::PUT | Method::POST | Method::DELETE) {
        // S3 evaluates a conditional write (If-Match / If-None-Match) and
        // makes it in one step: "If multiple conditional writes occur for the
        // same object name, the first write operation to finish succeeds" and
        // the others get 412 PreconditionFailed (S3 User Guide,
        // conditional-requests; API Reference, PutObject and DeleteObject).
        // moto checks the condition and then writes, unlocked, on a threaded
        // server; one S3 write at a time through the sandbox makes the pair
        // atomic as S3's is.
        let _serial = shared.s3_writes.lock().await;
        return Ok(forward(&shared, &call, parts.method, parts.uri, &parts.headers, body).await);
    }
    Ok(forward(&shared, &call, parts.method, parts.uri, &parts.headers, body).await)
}

impl SimState {
    /// The latency model and consistency rules in force, owned, so a handler
    /// can hold them while it mutates the state.
    pub(crate) fn clock(&self) -> crate::latency::Clock {
        crate::latency::Clock { latency: self.latency.clone(), consistency: self.consistency.clone() }
    }
}

fn env_for<'a>(call: &'a Call, latency: &'a dyn crate::env::LatencyModel) -> SimEnv<'a> {
    SimEnv { region: &call.region, account: ACCOUNT_ID, now: Instant::now(), latency }
}

fn with_body(mut resp: Response<Full<Bytes>>, body: String) -> Response<Full<Bytes>> {
    // The body changed: its length and upstream's checksum no longer apply.
    resp.headers_mut().remove(http::header::CONTENT_LENGTH);
    resp.headers_mut().remove("x-amz-crc32");
    *resp.body_mut() = Full::new(Bytes::from(body));
    resp
}

async fn body_text(resp: Response<Full<Bytes>>) -> (Response<Full<Bytes>>, Bytes) {
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    (Response::from_parts(parts, Full::new(bytes.clone())), bytes)
}

/// DynamoDB: global table replicas (`dynamodb::Replicas`) on top of upstream:
/// replica tables made in the replica regions, item writes replicated between
/// regions, PROVISIONED tables checked for write auto scaling, and the
/// not-found window after CreateTable.
async fn dynamodb(
    shared: &Shared,
    call: &Call,
    method: Method,
    uri: http::Uri,
    headers: &HeaderMap,
    body: Bytes,
    input: Value,
) -> Response<Full<Bytes>> {
    // Replicated writes that are due land before anything is served, so every
    // read, in any region, sees what has reached its region by now.
    replicate_due(shared, call, headers).await;
    let op = call.operation.as_str();
    if op == "DescribeTable" {
        let mut st = shared.lock();
        let clock = st.clock();
        let env = env_for(call, &clock);
        if st.dynamodb.hidden(&env, &input) {
            let name = input.get("TableName").and_then(Value::as_str).unwrap_or_default();
            return render_error(
                &call.wire,
                &ApiError::new(400, crate::dynamodb::RESOURCE_NOT_FOUND, format!("Requested resource not found: Table: {name} not found")),
            );
        }
        if let Some(v) = st.dynamodb.describe_in_replica_region(&env, &input) {
            return json_like(call, &v);
        }
    }
    let intercepts = shared.lock().dynamodb.intercepts(op, &input);
    if intercepts {
        return dynamodb_replica_update(shared, call, headers, &input).await;
    }
    if DYNAMODB_WRITES.contains(&op) {
        // One write (and its replication) at a time: a replicated write applied
        // after a newer local one would undo it.
        let _serial = shared.dynamodb_writes.lock().await;
        let resp = forward(shared, call, method, uri, headers, body).await;
        if resp.status().is_success() {
            record_writes(shared, call, headers, &input).await;
        }
        return resp;
    }
    let resp = forward(shared, call, method, uri, headers, body).await;
    let status = resp.status();
    let (resp, bytes) = body_text(resp).await;
    if !status.is_success() {
        return resp;
    }
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else { return resp };
    let name = input.get("TableName").and_then(Value::as_str).unwrap_or_default().to_string();
    let doomed = {
        let mut st = shared.lock();
        let clock = st.clock();
        let env = env_for(call, &clock);
        if op == "CreateTable" {
            st.dynamodb.note_created(&env, &name);
        }
        let doomed = if op == "DeleteTable" { st.dynamodb.replica_regions(&env, &name) } else { Vec::new() };
        st.dynamodb.augment(&env, op, &input, &mut v);
        doomed
    };
    // The source table goes: its replicas' tables go with it.
    for region in doomed {
        upstream_json(
            shared,
            call,
            headers,
            &region,
            "dynamodb",
            "DynamoDB_20120810.DeleteTable",
            &serde_json::json!({ "TableName": name }),
        )
        .await;
    }
    with_body(resp, v.to_string())
}

/// The DynamoDB operations that change items.
const DYNAMODB_WRITES: &[&str] = &["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"];

/// UpdateTable with ReplicaUpdates: checked against the table as upstream
/// knows it, answered by `dynamodb::Replicas`; a created replica gets its
/// table (and the items) in its region upstream, a deleted one loses it.
async fn dynamodb_replica_update(shared: &Shared, call: &Call, headers: &HeaderMap, input: &Value) -> Response<Full<Bytes>> {
    let name = input.get("TableName").cloned().unwrap_or(Value::Null);
    // The table as upstream knows it; its errors (no such table) are returned as they are.
    let table = match upstream_json(
        shared,
        call,
        headers,
        &call.region,
        "dynamodb",
        "DynamoDB_20120810.DescribeTable",
        &serde_json::json!({ "TableName": name }),
    )
    .await
    {
        Some((200, v)) => v.get("Table").cloned().unwrap_or(Value::Null),
        Some((status, v)) => {
            let code = v.get("__type").and_then(Value::as_str).unwrap_or("InternalServerError");
            let message = v.get("message").or_else(|| v.get("Message")).and_then(Value::as_str).unwrap_or_default();
            return render_error(&call.wire, &ApiError::new(status, code, message));
        }
        None => return render_error(&call.wire, &ApiError::new(502, "BadGateway", "the upstream did not answer DescribeTable")),
    };
    let update = input.get("ReplicaUpdates").and_then(|u| u.get(0)).cloned().unwrap_or(Value::Null);
    let created = update.get("Create").and_then(|c| c.get("RegionName")).and_then(Value::as_str).map(str::to_string);
    let deleted = update.get("Delete").and_then(|c| c.get("RegionName")).and_then(Value::as_str).map(str::to_string);
    let table_name = table.get("TableName").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut scaling = crate::dynamodb::WriteScaling { table: true, indexes: crate::dynamodb::index_names(&table) };
    if let Some(region) = &created {
        if crate::dynamodb::billing_mode(&table) == "PROVISIONED" {
            scaling = write_scaling(shared, call, headers, &table_name, &scaling.indexes).await;
        }
        // A table of that name in the replica region already: DynamoDB refuses.
        // (The table's own region, and a replica of this table, are refused
        // for their own reasons, below.)
        let known = {
            let st = shared.lock();
            let clock = st.clock();
            st.dynamodb.replica_regions(&env_for(call, &clock), &table_name).contains(region)
        };
        if region != &call.region && !known {
            let there = upstream_json(
                shared,
                call,
                headers,
                region,
                "dynamodb",
                "DynamoDB_20120810.DescribeTable",
                &serde_json::json!({ "TableName": table_name }),
            )
            .await;
            if let Some((200, _)) = there {
                return render_error(
                    &call.wire,
                    &ApiError::new(400, crate::dynamodb::VALIDATION, format!("Failed to create a the new replica of table with name: '{table_name}' because one or more replicas already existed as tables.")),
                );
            }
        }
    }
    let answer = {
        let mut st = shared.lock();
        let clock = st.clock();
        let env = env_for(call, &clock);
        st.dynamodb.update_table_scaled(&env, input, &table, &scaling)
    };
    let answer = match answer {
        Ok(v) => v,
        Err(e) => return render_error(&call.wire, &e),
    };
    if let Some(region) = &created {
        let _serial = shared.dynamodb_writes.lock().await;
        upstream_json(
            shared,
            call,
            headers,
            region,
            "dynamodb",
            "DynamoDB_20120810.CreateTable",
            &crate::dynamodb::replica_table_input(&table),
        )
        .await;
        copy_items(shared, call, headers, &table_name, region).await;
    }
    if let Some(region) = &deleted {
        upstream_json(
            shared,
            call,
            headers,
            region,
            "dynamodb",
            "DynamoDB_20120810.DeleteTable",
            &serde_json::json!({ "TableName": table_name }),
        )
        .await;
    }
    json_like(call, &answer)
}

/// Whether Application Auto Scaling (upstream) manages the write capacity of
/// the table and of each of its indexes: a scalable target and a scaling policy.
async fn write_scaling(
    shared: &Shared,
    call: &Call,
    headers: &HeaderMap,
    table: &str,
    indexes: &[String],
) -> crate::dynamodb::WriteScaling {
    let scaled = |resource: String, dimension: &'static str| async move {
        let targets = upstream_json(
            shared,
            call,
            headers,
            &call.region,
            "application-autoscaling",
            "AnyScaleFrontendService.DescribeScalableTargets",
            &serde_json::json!({ "ServiceNamespace": "dynamodb", "ResourceIds": [resource], "ScalableDimension": dimension }),
        )
        .await;
        let policies = upstream_json(
            shared,
            call,
            headers,
            &call.region,
            "application-autoscaling",
            "AnyScaleFrontendService.DescribeScalingPolicies",
            &serde_json::json!({ "ServiceNamespace": "dynamodb", "ResourceId": resource, "ScalableDimension": dimension }),
        )
        .await;
        let some = |r: Option<(u16, Value)>, member: &str| {
            r.is_some_and(|(s, v)| s == 200 && v.get(member).and_then(Value::as_array).is_some_and(|a| !a.is_empty()))
        };
        some(targets, "ScalableTargets") && some(policies, "ScalingPolicies")
    };
    let mut out = crate::dynamodb::WriteScaling {
        table: scaled(format!("table/{table}"), "dynamodb:table:WriteCapacityUnits").await,
        indexes: Vec::new(),
    };
    for i in indexes {
        if scaled(format!("table/{table}/index/{i}"), "dynamodb:index:WriteCapacityUnits").await {
            out.indexes.push(i.clone());
        }
    }
    out
}

/// A new replica starts with the source's items (Scan, page by page).
async fn copy_items(shared: &Shared, call: &Call, headers: &HeaderMap, table: &str, region: &str) {
    let mut start: Option<Value> = None;
    loop {
        let mut scan = serde_json::json!({ "TableName": table, "ConsistentRead": true });
        if let Some(k) = start.take() {
            scan["ExclusiveStartKey"] = k;
        }
        let Some((200, page)) = upstream_json(shared, call, headers, &call.region, "dynamodb", "DynamoDB_20120810.Scan", &scan).await
        else {
            return;
        };
        for item in page.get("Items").and_then(Value::as_array).into_iter().flatten() {
            upstream_json(
                shared,
                call,
                headers,
                region,
                "dynamodb",
                "DynamoDB_20120810.PutItem",
                &serde_json::json!({ "TableName": table, "Item": item }),
            )
            .await;
        }
        match page.get("LastEvaluatedKey").filter(|k| k.is_object()) {
            Some(k) => start = Some(k.clone()),
            None => return,
        }
    }
}

/// After a successful item write: what it changed, queued for the global
/// table's other regions. Puts and deletes carry their own image; updates are
/// read back (consistently) in the region they were made.
async fn record_writes(shared: &Shared, call: &Call, headers: &HeaderMap, input: &Value) {
    // (table, key or item, item after: Some for puts, None for deletes; updates read back)
    enum Change {
        Put(String, Value),
        Delete(String, Value),
        Update(String, Value),
    }
    let mut changes = Vec::new();
    let table_of = |v: &Value| v.get("TableName").and_then(Value::as_str).unwrap_or_default().to_string();
    match call.operation.as_str() {
        "PutItem" => changes.push(Change::Put(table_of(input), input.get("Item").cloned().unwrap_or(Value::Null))),
        "DeleteItem" => changes.push(Change::Delete(table_of(input), input.get("Key").cloned().unwrap_or(Value::Null))),
        "UpdateItem" => changes.push(Change::Update(table_of(input), input.get("Key").cloned().unwrap_or(Value::Null))),
        "BatchWriteItem" => {
            for (table, reqs) in input.get("RequestItems").and_then(Value::as_object).into_iter().flatten() {
                for r in reqs.as_array().into_iter().flatten() {
                    if let Some(item) = r.get("PutRequest").and_then(|p| p.get("Item")) {
                        changes.push(Change::Put(table.clone(), item.clone()));
                    } else if let Some(key) = r.get("DeleteRequest").and_then(|d| d.get("Key")) {
                        changes.push(Change::Delete(table.clone(), key.clone()));
                    }
                }
            }
        }
        _ => {
            for t in input.get("TransactItems").and_then(Value::as_array).into_iter().flatten() {
                if let Some(p) = t.get("Put") {
                    changes.push(Change::Put(table_of(p), p.get("Item").cloned().unwrap_or(Value::Null)));
                } else if let Some(d) = t.get("Delete") {
                    changes.push(Change::Delete(table_of(d), d.get("Key").cloned().unwrap_or(Value::Null)));
                } else if let Some(u) = t.get("Update") {
                    changes.push(Change::Update(table_of(u), u.get("Key").cloned().unwrap_or(Value::Null)));
                }
            }
        }
    }
    for c in changes {
        let (table, key, item) = match c {
            Change::Put(t, item) => (t, item.clone(), Some(item)),
            Change::Delete(t, key) => (t, key, None),
            Change::Update(t, key) => {
                // Not a global table: no need to read the item back. (Only the
                // clock's `now` matters to the lookup, so any latency model does.)
                if shared.lock().dynamodb.key_names(&env_for(call, &crate::env::Instant0), &t).is_none() {
                    continue;
                }
                let read = upstream_json(
                    shared,
                    call,
                    headers,
                    &call.region,
                    "dynamodb",
                    "DynamoDB_20120810.GetItem",
                    &serde_json::json!({ "TableName": t, "Key": key, "ConsistentRead": true }),
                )
                .await;
                let item = read.and_then(|(s, v)| (s == 200).then(|| v.get("Item").cloned()).flatten());
                (t, key, item)
            }
        };
        let mut st = shared.lock();
        let clock = st.clock();
        let env = env_for(call, &clock);
        st.dynamodb.record_write(&env, &table, &key, item);
    }
}

/// Applies the replicated writes that are due, in their regions upstream.
async fn replicate_due(shared: &Shared, call: &Call, headers: &HeaderMap) {
    let _serial = shared.dynamodb_writes.lock().await;
    let due = {
        let mut st = shared.lock();
        let clock = st.clock();
        st.dynamodb.take_due(&clock, Instant::now())
    };
    for w in due {
        let (target, body) = match &w.item {
            Some(item) => ("DynamoDB_20120810.PutItem", serde_json::json!({ "TableName": w.table, "Item": item })),
            None => ("DynamoDB_20120810.DeleteItem", serde_json::json!({ "TableName": w.table, "Key": w.key })),
        };
        upstream_json(shared, call, headers, &w.region, "dynamodb", target, &body).await;
    }
}

/// One awsJson call to the upstream as `service` in `region`, with the
/// caller's credentials (the upstream reads service and region from the
/// SigV4 credential scope and does not check signatures). None when the
/// upstream is unreachable or answers no JSON.
async fn upstream_json(
    shared: &Shared,
    call: &Call,
    headers: &HeaderMap,
    region: &str,
    service: &str,
    target: &str,
    body: &Value,
) -> Option<(u16, Value)> {
    let mut h = HeaderMap::new();
    let akid = header(headers, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next())
        .unwrap_or("testing")
        .to_string();
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={akid}/20250101/{region}/{service}/aws4_request, SignedHeaders=host;x-amz-target, Signature=0"
    );
    h.insert(http::header::AUTHORIZATION, HeaderValue::from_str(&auth).ok()?);
    h.insert("x-amz-target", HeaderValue::from_str(target).ok()?);
    let json_version = if service == "dynamodb" { "1.0" } else { "1.1" };
    h.insert(http::header::CONTENT_TYPE, HeaderValue::from_str(&format!("application/x-amz-json-{json_version}")).ok()?);
    if let Some(host) = headers.get(http::header::HOST) {
        h.insert(http::header::HOST, host.clone());
    }
    let resp = forward(shared, call, Method::POST, http::Uri::from_static("/"), &h, Bytes::from(body.to_string())).await;
    let status = resp.status().as_u16();
    let (_, bytes) = body_text(resp).await;
    let v = if bytes.is_empty() { Value::Object(Default::default()) } else { serde_json::from_slice(&bytes).ok()? };
    Some((status, v))
}

/// Lambda: Invoke and event source mappings served here; the package of
/// CreateFunction / UpdateFunctionCode kept as moto accepts it; everything
/// else (and those, first) moto's. `None`: forward unchanged.
async fn lambda_call(
    shared: &Shared,
    call: &Call,
    method: Method,
    uri: http::Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Option<Response<Full<Bytes>>> {
    use crate::lambda::{path_function, InvocationType};
    let lambda = shared.lambda.clone();
    let path = uri.path().to_string();
    let query: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).into_owned().collect();
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let json_body = || serde_json::from_slice::<Value>(&body).unwrap_or(Value::Object(Default::default()));
    let answer = |r: Result<Value, ApiError>, ok: u16| match r {
        Ok(v) => json_response(ok, &v),
        Err(e) => render_error(&Wire::RestJson, &e),
    };
    let uuid = path.trim_matches('/').split('/').nth(2).unwrap_or_default().to_string();
    Some(match call.operation.as_str() {
        "Invoke" => {
            let name = path_function(&path).unwrap_or_default();
            let kind = match header(headers, "x-amz-invocation-type") {
                Some("Event") => InvocationType::Event,
                Some("DryRun") => InvocationType::DryRun,
                _ => InvocationType::RequestResponse,
            };
            let tail = header(headers, "x-amz-log-type") == Some("Tail");
            let source = if kind == InvocationType::Event { "event" } else { "api" };
            match lambda.invoke(&call.region, &name, body, kind, tail, source).await {
                Ok(a) => {
                    let mut h = vec![
                        ("content-type", "application/json".to_string()),
                        ("x-amzn-RequestId", request_id()),
                        ("x-amz-executed-version", "$LATEST".to_string()),
                    ];
                    if a.function_error {
                        h.push(("x-amz-function-error", "Unhandled".to_string()));
                    }
                    if let Some(t) = a.log_tail {
                        h.push(("x-amz-log-result", t));
                    }
                    respond(a.status, &h, a.payload)
                }
                Err(e) => render_error(&Wire::RestJson, &e),
            }
        }
        "CreateEventSourceMapping" => answer(lambda.create_mapping(&call.region, &json_body()).await, 202),
        "GetEventSourceMapping" => answer(lambda.get_mapping(&uuid), 200),
        "ListEventSourceMappings" => {
            json_response(200, &lambda.list_mappings(&call.region, q("EventSourceArn").as_deref(), q("FunctionName").as_deref()))
        }
        "UpdateEventSourceMapping" => answer(lambda.update_mapping(&uuid, &json_body()), 202),
        "DeleteEventSourceMapping" => answer(lambda.delete_mapping(&uuid), 202),
        "CreateFunction" | "UpdateFunctionCode" | "DeleteFunction" => {
            let resp = forward(shared, call, method, uri, headers, body.clone()).await;
            if resp.status().is_success() {
                let (resp, bytes) = body_text(resp).await;
                let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                let name = match call.operation.as_str() {
                    "CreateFunction" => answer.get("FunctionName").and_then(Value::as_str).map(str::to_string),
                    _ => path_function(&path),
                };
                if let Some(name) = name {
                    if call.operation == "DeleteFunction" {
                        lambda.forget(&call.region, &name);
                    } else {
                        lambda.keep_code(&call.region, &name, &json_body());
                    }
                }
                return Some(resp);
            }
            resp
        }
        _ => return None,
    })
}

/// A 200 answer in the call's JSON dialect.
fn json_like(call: &Call, v: &Value) -> Response<Full<Bytes>> {
    let ct = match &call.wire {
        Wire::AwsJson(ct) => ct.clone(),
        _ => "application/json".to_string(),
    };
    respond(200, &[("content-type", ct), ("x-amzn-RequestId", request_id())], v.to_string())
}

const VPN_ACTIONS: &[&str] =
    &["CreateVpnConnection", "DescribeVpnConnections", "DeleteVpnConnection", "CreateCustomerGateway", "DescribeCustomerGateways"];

/// EC2: VPN tunnel options (`ec2::VpnTunnels`) on top of upstream's XML, and
/// the not-found window after a create (`ec2_consistency`).
async fn ec2(shared: &Shared, call: &Call, method: Method, uri: http::Uri, headers: &HeaderMap, body: Bytes) -> Response<Full<Bytes>> {
    if crate::ec2_routes::ACTIONS.contains(&call.operation.as_str()) {
        return ec2_routes(shared, call, method, uri, headers, body).await;
    }
    let op = call.operation.as_str();
    let vpn = VPN_ACTIONS.contains(&op);
    let consistency = crate::ec2_consistency::kind_of(op);
    if !vpn && consistency.is_none() {
        return forward(shared, call, method, uri, headers, body).await;
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .chain(form_urlencoded::parse(&body))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut st = shared.lock();
        let clock = st.clock();
        let env = env_for(call, &clock);
        if let Err(e) = st.ec2_visibility.check(&env, op, &params) {
            return render_error(&call.wire, &e);
        }
        if op == "CreateVpnConnection" {
            if let Err(e) = st.vpn.validate_create(&params) {
                return render_error(&call.wire, &e);
            }
        }
    }
    let resp = forward(shared, call, method, uri, headers, body).await;
    if !resp.status().is_success() {
        return resp;
    }
    let (resp, bytes) = body_text(resp).await;
    let xml = String::from_utf8_lossy(&bytes).into_owned();
    let mut st = shared.lock();
    let clock = st.clock();
    let env = env_for(call, &clock);
    let mut out = if vpn { st.vpn.augment_xml(&env, op, &params, &xml) } else { xml };
    st.ec2_visibility.created(&env, op, &out);
    out = st.ec2_visibility.filter(&env, op, &out);
    with_body(resp, out)
}

/// EC2 route propagation (`ec2_routes`): the table and the gateway are looked
/// up in the upstream, the propagation itself is kept here.
async fn ec2_routes(
    shared: &Shared,
    call: &Call,
    method: Method,
    uri: http::Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response<Full<Bytes>> {
    use crate::ec2_routes::{attached_to, first_text};
    if call.operation == "DescribeRouteTables" {
        let resp = forward(shared, call, method, uri, headers, body).await;
        if !resp.status().is_success() {
            return resp;
        }
        let (resp, bytes) = body_text(resp).await;
        let out = shared.lock().routes.augment_describe(&call.region, &String::from_utf8_lossy(&bytes));
        return with_body(resp, out);
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .chain(form_urlencoded::parse(&body))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (Some(table), Some(gateway)) = (get("RouteTableId"), get("GatewayId")) else {
        return render_error(
            &call.wire,
            &ApiError::new(400, "MissingParameter", "The request must contain the parameters RouteTableId and GatewayId"),
        );
    };
    // The same signed headers, another body: the upstream does not check signatures.
    let mut ask_headers = headers.clone();
    ask_headers.remove(http::header::CONTENT_LENGTH);
    let ask = |action: &str, key: &str, id: &str| {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("Action", action)
            .append_pair("Version", "2016-11-15")
            .append_pair(key, id)
            .finish();
        forward(shared, call, Method::POST, http::Uri::from_static("/"), &ask_headers, Bytes::from(body))
    };
    let rt = ask("DescribeRouteTables", "RouteTableId.1", &table).await;
    if !rt.status().is_success() {
        return rt;
    }
    let (_, rt_body) = body_text(rt).await;
    let rt_xml = String::from_utf8_lossy(&rt_body).into_owned();
    let gw = ask("DescribeVpnGateways", "VpnGatewayId.1", &gateway).await;
    if !gw.status().is_success() {
        return gw;
    }
    let (_, gw_body) = body_text(gw).await;
    let gw_xml = String::from_utf8_lossy(&gw_body).into_owned();
    let enable = call.operation == "EnableVgwRoutePropagation";
    if enable {
        // "The virtual private gateway must be attached to the same VPC that
        // the routing tables are associated with."
        // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableVgwRoutePropagation.html
        let vpc = first_text(&rt_xml, "vpcId").unwrap_or_default();
        if !attached_to(&gw_xml, vpc) {
            return render_error(
                &call.wire,
                &ApiError::new(
                    400,
                    "Gateway.NotAttached",
                    format!("resource {gateway} is not attached to the VPC {vpc} of route table {table}"),
                ),
            );
        }
        shared.lock().routes.enable(&call.region, &table, &gateway);
    } else {
        shared.lock().routes.disable(&call.region, &table, &gateway);
    }
    let op = &call.operation;
    respond(
        200,
        &[("content-type", "text/xml;charset=UTF-8".to_string())],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{op}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>{}</requestId><return>true</return></{op}Response>", request_id()),
    )
}

/// Counts a call, then plays its response delay and any injected fault:
/// the error to answer with (in the caller's format), or a dropped
/// connection (reset, or held past the client's timeout first).
async fn count_and_inject(shared: &Shared, service: &str, operation: &str, region: &str) -> Result<Option<ApiError>, std::io::Error> {
    let (action, delay) = {
        let mut st = shared.lock();
        st.accounting.record(service, operation, region);
        let delay = crate::latency::response_delay(&st.delays, st.latency.scale, service, operation, region);
        (st.faults.check(service, operation, region), delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match action {
        Some(FaultAction::Error(e)) => Ok(Some(e)),
        Some(FaultAction::Reset) => Err(dropped("injected connection reset")),
        Some(FaultAction::Hold(d)) => {
            tokio::time::sleep(d).await;
            Err(dropped("injected timeout"))
        }
        None => Ok(None),
    }
}

/// Compute Engine v1 (`gcp::Compute`); selfLinks point back at this server.
async fn compute(
    shared: &Shared,
    method: &str,
    rest: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let host = headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let base = format!("http://{host}");
    // Accounting by collection and verb (`networks.POST`), scope as the region.
    let segs: Vec<&str> = rest.split('?').next().unwrap_or_default().split('/').collect();
    let (scope, collection) = match segs.get(1).copied() {
        Some("regions") => (segs.get(2).copied().unwrap_or("?"), segs.get(3).copied().unwrap_or("?")),
        _ => ("global", segs.get(2).copied().unwrap_or("?")),
    };
    let json = |status: u16, v: serde_json::Value| {
        respond(status, &[("content-type", "application/json; charset=UTF-8".to_string())], v.to_string())
    };
    // Google's throttling and server errors (faults::throttling_error /
    // server_error for "compute"), in Google's error body.
    if let Some(e) = count_and_inject(shared, "compute", &format!("{collection}.{method}"), scope).await? {
        return Ok(json(e.status, crate::gcp::error_body(e.status, &e.code, &e.message)));
    }
    // The latency model with the consistency rules: GET after an insert may answer 404 for a while.
    let latency = shared.lock().clock();
    let reply = shared.lock().compute.handle(&latency, Instant::now(), method, rest, body, &base);
    let (status, value) = match reply {
        crate::gcp::Reply::Json(s, v) => (s, v),
        crate::gcp::Reply::WaitThen(d, op) => {
            tokio::time::sleep(d).await;
            match shared.lock().compute.handle(&latency, Instant::now(), "GET", &op, b"", &base) {
                crate::gcp::Reply::Json(s, v) => (s, v),
                crate::gcp::Reply::WaitThen(..) => (500, crate::gcp::error_body(500, "backendError", "wait loop")),
            }
        }
    };
    Ok(json(status, value))
}

/// Serves an awsJson call from local state.
fn serve_json(
    shared: &Shared,
    call: &Call,
    body: &[u8],
    f: impl FnOnce(&mut SimState, &SimEnv, &Value) -> Result<Value, ApiError>,
) -> Response<Full<Bytes>> {
    let input: Value = if body.iter().all(|b| b.is_ascii_whitespace()) {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return render_error(&call.wire, &ApiError::new(400, "SerializationException", format!("request body is not JSON: {e}")))
            }
        }
    };
    let mut st = shared.lock();
    let clock = st.clock();
    let env = SimEnv { region: &call.region, account: ACCOUNT_ID, now: Instant::now(), latency: &clock };
    match f(&mut st, &env, &input) {
        Ok(v) => {
            let ct = match &call.wire {
                Wire::AwsJson(ct) => ct.clone(),
                _ => "application/json".to_string(),
            };
            respond(200, &[("content-type", ct), ("x-amzn-RequestId", request_id())], v.to_string())
        }
        Err(e) => render_error(&call.wire, &e),
    }
}

fn serve_connect(shared: &Shared, call: &Call, method: &Method, path: &str, query: &str, body: &[u8]) -> Option<Response<Full<Bytes>>> {
    let segs = connect::segments(path);
    let op = connect::operation(method, &segs)?;
    let input: Value = if body.iter().all(|b| b.is_ascii_whitespace()) {
        Value::Object(Default::default())
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return Some(render_error(
                    &Wire::RestJson,
                    &ApiError::new(400, "SerializationException", format!("request body is not JSON: {e}")),
                ))
            }
        }
    };
    let query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let req = connect::RestRequest { segments: segs, query, body: input };
    let mut st = shared.lock();
    let SimState { latency, consistency, connect, .. } = &mut *st;
    let model = crate::latency::Model { latency, consistency };
    let env = SimEnv { region: &call.region, account: ACCOUNT_ID, now: Instant::now(), latency: &model };
    Some(match connect.handle(&env, op, &req) {
        Ok(v) => json_response(200, &v),
        Err(e) => render_error(&Wire::RestJson, &e),
    })
}

async fn forward(shared: &Shared, call: &Call, method: Method, uri: http::Uri, headers: &HeaderMap, body: Bytes) -> Response<Full<Bytes>> {
    let Some(up) = &shared.upstream else {
        return render_error(
            &call.wire,
            &ApiError::new(
                501,
                "NotImplemented",
                format!(
                    "tandem sandbox does not serve {} {} and no upstream is configured (start it with --moto or --upstream URL)",
                    call.service, call.operation
                ),
            ),
        );
    };
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    match up.forward(method, pq, headers, body).await {
        Ok(f) => {
            let mut resp = Response::new(Full::new(f.body));
            *resp.status_mut() = f.status;
            *resp.headers_mut() = f.headers;
            resp
        }
        Err(e) => render_error(
            &call.wire,
            &ApiError::new(502, "BadGateway", format!("forwarding {} {} upstream failed: {e:#}", call.service, call.operation)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }
    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-2/SERVICE/aws4_request, SignedHeaders=host, Signature=abc";

    #[test]
    fn identifies_each_protocol() {
        let h = headers(&[("authorization", &AUTH.replace("SERVICE", "connect"))]);
        let c = identify(
            &Method::PUT,
            "/traffic-distribution/arn%3Aaws%3Aconnect%3Aus-east-1%3A1%3Atraffic-distribution-group%2Fx",
            "",
            &h,
            b"{}",
        );
        assert_eq!(
            (c.service.as_str(), c.region.as_str(), c.operation.as_str(), c.wire),
            ("connect", "eu-west-2", "UpdateTrafficDistribution", Wire::RestJson)
        );

        let h = headers(&[
            ("authorization", &AUTH.replace("SERVICE", "dynamodb")),
            ("x-amz-target", "DynamoDB_20120810.UpdateTable"),
            ("content-type", "application/x-amz-json-1.0"),
        ]);
        let c = identify(&Method::POST, "/", "", &h, b"{}");
        assert_eq!((c.service.as_str(), c.operation.as_str()), ("dynamodb", "UpdateTable"));
        assert_eq!(c.wire, Wire::AwsJson("application/x-amz-json-1.0".into()));

        let h = headers(&[
            ("authorization", &AUTH.replace("SERVICE", "ec2")),
            ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
        ]);
        let c = identify(&Method::POST, "/", "", &h, b"Action=CreateVpnConnection&Version=2016-11-15");
        assert_eq!((c.service.as_str(), c.operation.as_str(), c.wire), ("ec2", "CreateVpnConnection", Wire::Ec2Query));

        let h = headers(&[("authorization", &AUTH.replace("SERVICE", "monitoring")), ("smithy-protocol", "rpc-v2-cbor")]);
        let c = identify(&Method::POST, "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm", "", &h, b"");
        assert_eq!((c.operation.as_str(), c.wire), ("PutMetricAlarm", Wire::RpcV2Cbor));

        // Unsigned: default region, service from the target prefix.
        let h = headers(&[("x-amz-target", "OvertureService.DescribeConnections")]);
        let c = identify(&Method::POST, "/", "", &h, b"{}");
        assert_eq!((c.service.as_str(), c.region.as_str()), ("directconnect", "us-east-1"));
        // Presigned query credential.
        let c = identify(
            &Method::GET,
            "/bucket/key",
            "X-Amz-Credential=AKID%2F20250101%2Fus-west-2%2Fs3%2Faws4_request",
            &HeaderMap::new(),
            b"",
        );
        assert_eq!((c.service.as_str(), c.region.as_str(), c.wire), ("s3", "us-west-2", Wire::RestXml));
    }

    #[test]
    fn cbor_error_is_a_two_entry_text_map() {
        let resp = render_error(&Wire::RpcV2Cbor, &ApiError::new(400, "Throttling", "Rate exceeded"));
        assert_eq!(resp.headers()["smithy-protocol"], "rpc-v2-cbor");
        assert_eq!(resp.status().as_u16(), 400);
    }
}
