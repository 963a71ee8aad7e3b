//! Every request to what serves it: the admin API, Compute Engine, then by
//! AWS service, after the call is counted and its faults applied; what the
//! sandbox does not serve goes upstream unchanged.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::Value;

use super::compute::compute;
use super::dynamodb::dynamodb;
use super::ec2::ec2;
use super::forward::forward;
use super::identify::{identify, Call, Wire};
use super::inject::{count_and_inject, dropped};
use super::lambda::lambda_call;
use super::wire::{body_text, json_like, json_response, render_error};
use super::{Shared, SimState, ACCOUNT_ID};
use crate::connect;
use crate::env::SimEnv;
use crate::error::ApiError;

pub(super) async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, std::io::Error> {
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

pub(super) fn env_for<'a>(call: &'a Call, latency: &'a dyn crate::env::LatencyModel) -> SimEnv<'a> {
    SimEnv { region: &call.region, account: ACCOUNT_ID, now: Instant::now(), latency }
}

/// Serves an awsJson call from local state.
pub(super) fn serve_json(
    shared: &Shared,
    call: &Call,
    body: &[u8],
    f: impl FnOnce(&mut SimState, &SimEnv, &Value) -> Result<Value, ApiError>,
) -> Response<Full<Bytes>> {
    let input = match json_input(body) {
        Ok(v) => v,
        Err(e) => return render_error(&call.wire, &e),
    };
    let mut st = shared.lock();
    let clock = st.clock();
    let env = SimEnv { region: &call.region, account: ACCOUNT_ID, now: Instant::now(), latency: &clock };
    match f(&mut st, &env, &input) {
        Ok(v) => json_like(call, &v),
        Err(e) => render_error(&call.wire, &e),
    }
}

/// A JSON request body; an empty one is an empty input.
fn json_input(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::new(400, "SerializationException", format!("request body is not JSON: {e}")))
}

fn serve_connect(shared: &Shared, call: &Call, method: &Method, path: &str, query: &str, body: &[u8]) -> Option<Response<Full<Bytes>>> {
    let segs = connect::segments(path);
    let op = connect::operation(method, &segs)?;
    let input = match json_input(body) {
        Ok(v) => v,
        Err(e) => return Some(render_error(&Wire::RestJson, &e)),
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
