//! AWS Lambda, run: moto stores functions but cannot run them (it needs a
//! Docker engine). The sandbox keeps each function's deployment package as it
//! goes by (CreateFunction, UpdateFunctionCode), answers `Invoke` itself by
//! running custom-runtime functions (provided.al2023, provided.al2: a
//! `bootstrap` executable) in execution environments on this machine
//! (`host`), fires EventBridge schedules at their Lambda targets
//! (`schedule`), and delivers Kinesis records through event source mappings
//! (`esm`). Functions of other runtimes stay stored, not run, and Invoke says
//! so. Everything else of Lambda is moto's.
//!
//! Invoke: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html —
//! RequestResponse answers 200 with the function's response (or its error
//! document and `X-Amz-Function-Error: Unhandled`), Event answers 202 and
//! runs later, DryRun answers 204; `X-Amz-Log-Type: Tail` returns the last
//! 4 KB of the invocation's log, base64, in `X-Amz-Log-Result`.

pub mod esm;
mod host;
pub mod schedule;
mod unzip;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use serde::Serialize;
use serde_json::{json, Value};

pub use host::{FunctionConfig, Outcome};

use crate::error::ApiError;
use crate::upstream::Upstream;

/// The sandbox's (and moto's) account.
const ACCOUNT: &str = crate::server::ACCOUNT_ID;

/// How a caller wants a function run (`X-Amz-Invocation-Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

/// One invocation, as the admin view `/_tandem/lambda/invocations` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub request_id: String,
    pub function: String,
    pub region: String,
    /// `api`, `event`, `schedule:RULE`, `kinesis:UUID`.
    pub source: String,
    pub started_ms: u128,
    pub duration_ms: u128,
    /// `ok`, `error` (the function's or the runtime's), or `not_run`.
    pub status: String,
    pub error: Option<Value>,
    pub response: Option<String>,
    pub logs: String,
}

/// What Invoke answers.
pub struct Answer {
    pub status: u16,
    pub payload: Bytes,
    pub function_error: bool,
    pub log_tail: Option<String>,
}

/// Lambda execution for the sandbox. Lives beside the simulated state (not
/// under its lock): invocations wait on processes.
pub struct Lambda {
    pub(crate) upstream: Option<Upstream>,
    url: OnceLock<String>,
    code: Mutex<HashMap<(String, String), Arc<Vec<u8>>>>,
    hosts: Mutex<HashMap<(String, String), Arc<host::Host>>>,
    records: Mutex<VecDeque<Record>>,
    pub(crate) mappings: Mutex<BTreeMap<String, esm::Mapping>>,
    pub(crate) schedules: Mutex<schedule::Schedules>,
}

const KEEP_RECORDS: usize = 2000;

pub(crate) fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default()
}

/// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` or a name -> the name.
pub fn function_name(name_or_arn: &str) -> &str {
    if name_or_arn.starts_with("arn:") {
        name_or_arn.split(':').nth(6).unwrap_or(name_or_arn)
    } else {
        name_or_arn.split(':').next().unwrap_or(name_or_arn)
    }
}

/// Headers for a call the sandbox makes to moto as if from `region`
/// (moto reads the region from the credential scope).
pub(crate) fn upstream_headers(service: &str, region: &str, target: Option<&str>, json_version: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    let auth = format!("AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0");
    if let Ok(v) = HeaderValue::from_str(&auth) {
        h.insert(http::header::AUTHORIZATION, v);
    }
    if let Some(t) = target.and_then(|t| HeaderValue::from_str(t).ok()) {
        h.insert("x-amz-target", t);
        if let Ok(v) = HeaderValue::from_str(&format!("application/x-amz-json-{json_version}")) {
            h.insert(http::header::CONTENT_TYPE, v);
        }
    } else {
        h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    h
}

impl Lambda {
    pub fn new(upstream: Option<Upstream>) -> Lambda {
        Lambda {
            upstream,
            url: OnceLock::new(),
            code: Mutex::new(HashMap::new()),
            hosts: Mutex::new(HashMap::new()),
            records: Mutex::new(VecDeque::new()),
            mappings: Mutex::new(BTreeMap::new()),
            schedules: Mutex::new(schedule::Schedules::default()),
        }
    }

    pub(crate) fn set_url(&self, url: String) {
        let _ = self.url.set(url);
    }

    /// Everything back to empty (admin reset): environments stopped.
    pub fn reset(&self) {
        for (_, h) in self.hosts.lock().unwrap_or_else(|e| e.into_inner()).drain() {
            h.shutdown();
        }
        self.code.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.records.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.mappings.lock().unwrap_or_else(|e| e.into_inner()).clear();
        *self.schedules.lock().unwrap_or_else(|e| e.into_inner()) = schedule::Schedules::default();
    }

    /// The deployment package of a CreateFunction or UpdateFunctionCode
    /// request that moto accepted (`Code.ZipFile` / `ZipFile`, base64).
    pub fn keep_code(&self, region: &str, name: &str, request: &Value) {
        let zip = request.pointer("/Code/ZipFile").or_else(|| request.get("ZipFile")).and_then(Value::as_str);
        let Some(zip) = zip.and_then(|z| base64::engine::general_purpose::STANDARD.decode(z).ok()) else { return };
        self.code.lock().unwrap_or_else(|e| e.into_inner()).insert((region.to_string(), name.to_string()), Arc::new(zip));
    }

    /// The function is gone (DeleteFunction): its environments stop.
    pub fn forget(&self, region: &str, name: &str) {
        self.code.lock().unwrap_or_else(|e| e.into_inner()).remove(&(region.to_string(), name.to_string()));
        if let Some(h) = self.hosts.lock().unwrap_or_else(|e| e.into_inner()).remove(&(region.to_string(), name.to_string())) {
            h.shutdown();
        }
    }

    /// moto's GetFunction: the configuration to run with.
    pub(crate) async fn config(&self, region: &str, name: &str) -> Result<FunctionConfig, ApiError> {
        let up = self.upstream.as_ref().ok_or_else(|| {
            ApiError::new(501, "ServiceException", "the sandbox runs functions only with an upstream (moto) that stores them")
        })?;
        let path = format!("/2015-03-31/functions/{}", percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC));
        let f = up
            .forward(Method::GET, &path, &upstream_headers("lambda", region, None, ""), Bytes::new())
            .await
            .map_err(|e| ApiError::new(502, "ServiceException", e.to_string()))?;
        if f.status.as_u16() == 404 {
            return Err(ApiError::not_found(format!("Function not found: arn:aws:lambda:{region}:{ACCOUNT}:function:{name}")));
        }
        let v: Value = serde_json::from_slice(&f.body).map_err(|e| ApiError::new(502, "ServiceException", format!("GetFunction: {e}")))?;
        let c = &v["Configuration"];
        let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let env = c
            .pointer("/Environment/Variables")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        Ok(FunctionConfig {
            name: s("FunctionName"),
            arn: s("FunctionArn"),
            region: region.to_string(),
            runtime: s("Runtime"),
            handler: s("Handler"),
            timeout: Duration::from_secs(c.get("Timeout").and_then(Value::as_u64).unwrap_or(3)),
            memory: c.get("MemorySize").and_then(Value::as_i64).unwrap_or(128),
            role: s("Role"),
            code_sha: s("CodeSha256"),
            env,
        })
    }

    /// Runs `name` (a name or ARN) in `region` with `payload`.
    pub async fn invoke(
        self: &Arc<Self>,
        region: &str,
        name: &str,
        payload: Bytes,
        kind: InvocationType,
        tail: bool,
        source: &str,
    ) -> Result<Answer, ApiError> {
        let name = function_name(name).to_string();
        let cfg = self.config(region, &name).await?;
        // https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: at most 6 MB synchronously, 256 KB asynchronously.
        let limit = if kind == InvocationType::Event { 256 * 1024 } else { 6 * 1024 * 1024 };
        if payload.len() > limit {
            return Err(ApiError::new(
                413,
                "RequestTooLargeException",
                format!("Request must be smaller than {limit} bytes for the Invoke operation"),
            ));
        }
        if kind == InvocationType::DryRun {
            return Ok(Answer { status: 204, payload: Bytes::new(), function_error: false, log_tail: None });
        }
        if !cfg.runtime.starts_with("provided") {
            let message = format!(
                "tandem sandbox runs custom-runtime functions (provided.al2023, provided.al2: a bootstrap executable); {} is {}: stored, not run",
                cfg.name, cfg.runtime
            );
            self.record(Record {
                request_id: uuid::Uuid::new_v4().to_string(),
                function: cfg.name.clone(),
                region: region.into(),
                source: source.into(),
                started_ms: now_ms(),
                duration_ms: 0,
                status: "not_run".into(),
                error: Some(json!(message)),
                response: None,
                logs: String::new(),
            });
            return Err(ApiError::new(502, "InvalidRuntimeException", message));
        }
        let host = self.host(&cfg)?;
        let request_id = uuid::Uuid::new_v4().to_string();
        if kind == InvocationType::Event {
            let (me, source, region) = (self.clone(), source.to_string(), region.to_string());
            tokio::spawn(async move {
                let started = now_ms();
                let f = host.invoke(request_id, payload).await;
                me.finished(&host.cfg, &region, &source, started, f);
            });
            return Ok(Answer { status: 202, payload: Bytes::new(), function_error: false, log_tail: None });
        }
        let started = now_ms();
        let f = host.invoke(request_id, payload).await;
        let rec = self.finished(&host.cfg, region, source, started, f.clone());
        let log_tail = tail.then(|| {
            let bytes = rec.logs.as_bytes();
            base64::engine::general_purpose::STANDARD.encode(&bytes[bytes.len().saturating_sub(4096)..])
        });
        Ok(match f.outcome {
            Outcome::Ok(b) => Answer { status: 200, payload: b, function_error: false, log_tail },
            Outcome::Error(b) => Answer { status: 200, payload: b, function_error: true, log_tail },
        })
    }

    /// The warm environments of this configuration (a new configuration or
    /// new code stops the old ones).
    fn host(&self, cfg: &FunctionConfig) -> Result<Arc<host::Host>, ApiError> {
        let key = (cfg.region.clone(), cfg.name.clone());
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = hosts.get(&key) {
            if h.cfg == *cfg {
                return Ok(h.clone());
            }
            h.shutdown();
        }
        let zip = self.code.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned().ok_or_else(|| {
            ApiError::new(
                500,
                "ServiceException",
                format!(
                    "the sandbox did not see {}'s deployment package (created before this sandbox started?); update its code to run it",
                    cfg.name
                ),
            )
        })?;
        let url = self.url.get().cloned().unwrap_or_default();
        let h = host::Host::new(cfg.clone(), &zip, &url).map_err(|e| ApiError::new(502, "InvalidZipFileException", e))?;
        hosts.insert(key, h.clone());
        Ok(h)
    }

    fn finished(&self, cfg: &FunctionConfig, region: &str, source: &str, started: u128, f: host::Finished) -> Record {
        let (status, error, response) = match &f.outcome {
            Outcome::Ok(b) => ("ok", None, Some(String::from_utf8_lossy(b).into_owned())),
            Outcome::Error(b) => ("error", Some(serde_json::from_slice(b).unwrap_or_else(|_| json!(String::from_utf8_lossy(b)))), None),
        };
        let rec = Record {
            request_id: f.request_id,
            function: cfg.name.clone(),
            region: region.to_string(),
            source: source.to_string(),
            started_ms: started,
            duration_ms: f.duration.as_millis(),
            status: status.into(),
            error,
            response,
            logs: f.logs,
        };
        self.record(rec.clone());
        rec
    }

    fn record(&self, r: Record) {
        tracing::debug!(function = %r.function, status = %r.status, "invocation");
        let mut recs = self.records.lock().unwrap_or_else(|e| e.into_inner());
        recs.push_back(r);
        while recs.len() > KEEP_RECORDS {
            recs.pop_front();
        }
    }

    /// The invocations kept (newest last), of one function when given.
    pub fn records(&self, function: Option<&str>, region: Option<&str>) -> Vec<Record> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|r| function.is_none_or(|f| r.function == f) && region.is_none_or(|g| r.region == g))
            .cloned()
            .collect()
    }

    /// Does the function's resource-based policy let `service` invoke it for
    /// `source_arn`? (moto's GetPolicy.)
    pub(crate) async fn allows(&self, region: &str, function: &str, service: &str, source_arn: &str) -> bool {
        let Some(up) = &self.upstream else { return false };
        let path = format!(
            "/2015-03-31/functions/{}/policy",
            percent_encoding::utf8_percent_encode(function_name(function), percent_encoding::NON_ALPHANUMERIC)
        );
        let Ok(f) = up.forward(Method::GET, &path, &upstream_headers("lambda", region, None, ""), Bytes::new()).await else { return false };
        let Ok(v) = serde_json::from_slice::<Value>(&f.body) else { return false };
        let Some(doc) = v.get("Policy").and_then(Value::as_str).and_then(|p| serde_json::from_str::<Value>(p).ok()) else { return false };
        doc["Statement"].as_array().into_iter().flatten().any(|st| {
            let principal =
                st.pointer("/Principal/Service").and_then(Value::as_str).or_else(|| st.get("Principal").and_then(Value::as_str));
            let action_ok = st.get("Action").and_then(Value::as_str).is_some_and(|a| a == "lambda:InvokeFunction" || a == "lambda:*");
            let arn_cond = st
                .pointer("/Condition/ArnLike/AWS:SourceArn")
                .or_else(|| st.pointer("/Condition/ArnEquals/AWS:SourceArn"))
                .and_then(Value::as_str);
            st.get("Effect").and_then(Value::as_str) == Some("Allow")
                && principal == Some(service)
                && action_ok
                && arn_cond.is_none_or(|a| a == source_arn)
        })
    }
}

/// Lambda's REST operations the sandbox looks at, by method and path.
pub fn operation(method: &Method, path: &str) -> Option<&'static str> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    Some(match (method.as_str(), segs.as_slice()) {
        ("POST", ["2015-03-31", "functions"]) => "CreateFunction",
        ("GET", ["2015-03-31", "functions"]) => "ListFunctions",
        ("GET", ["2015-03-31", "functions", _]) => "GetFunction",
        ("DELETE", ["2015-03-31", "functions", _]) => "DeleteFunction",
        ("PUT", ["2015-03-31", "functions", _, "code"]) => "UpdateFunctionCode",
        ("PUT", ["2015-03-31", "functions", _, "configuration"]) => "UpdateFunctionConfiguration",
        ("GET", ["2015-03-31", "functions", _, "configuration"]) => "GetFunctionConfiguration",
        ("POST", ["2015-03-31", "functions", _, "invocations"]) => "Invoke",
        ("POST", ["2015-03-31", "functions", _, "policy"]) => "AddPermission",
        ("GET", ["2015-03-31", "functions", _, "policy"]) => "GetPolicy",
        ("DELETE", ["2015-03-31", "functions", _, "policy", _]) => "RemovePermission",
        ("POST", ["2015-03-31", "event-source-mappings"]) => "CreateEventSourceMapping",
        ("GET", ["2015-03-31", "event-source-mappings"]) => "ListEventSourceMappings",
        ("GET", ["2015-03-31", "event-source-mappings", _]) => "GetEventSourceMapping",
        ("PUT", ["2015-03-31", "event-source-mappings", _]) => "UpdateEventSourceMapping",
        ("DELETE", ["2015-03-31", "event-source-mappings", _]) => "DeleteEventSourceMapping",
        _ => return None,
    })
}

/// The function name in a `/2015-03-31/functions/{name}/...` path (decoded).
pub fn path_function(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    segs.get(2).map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()).map(|n| function_name(&n).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_operations() {
        assert_eq!(function_name("arn:aws:lambda:us-east-1:123456789012:function:ctl"), "ctl");
        assert_eq!(function_name("arn:aws:lambda:us-east-1:123456789012:function:ctl:$LATEST"), "ctl");
        assert_eq!(function_name("ctl"), "ctl");
        assert_eq!(operation(&Method::POST, "/2015-03-31/functions/ctl/invocations"), Some("Invoke"));
        assert_eq!(operation(&Method::POST, "/2015-03-31/event-source-mappings/"), Some("CreateEventSourceMapping"));
        assert_eq!(
            path_function("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Actl/invocations").as_deref(),
            Some("ctl")
        );
    }
}
