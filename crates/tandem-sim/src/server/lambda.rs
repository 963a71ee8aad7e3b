//! Lambda through the sandbox: functions run here from the packages moto keeps.

use bytes::Bytes;
use http::{HeaderMap, Method, Response};
use http_body_util::Full;
use serde_json::Value;

use super::forward::forward;
use super::identify::{header, Call, Wire};
use super::wire::{body_text, json_response, render_error, request_id, respond};
use super::Shared;
use crate::error::ApiError;

/// Lambda: Invoke and event source mappings served here; the package of
/// CreateFunction / UpdateFunctionCode kept as moto accepts it; everything
/// else (and those, first) moto's. `None`: forward unchanged.
pub(super) async fn lambda_call(
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
