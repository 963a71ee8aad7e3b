//! The upstream emulator (moto): requests forwarded unchanged, and the
//! sandbox's own awsJson calls to it.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response};
use http_body_util::Full;
use serde_json::Value;

use super::identify::{header, Call};
use super::wire::{body_text, render_error};
use super::Shared;
use crate::error::ApiError;

pub(super) async fn forward(
    shared: &Shared,
    call: &Call,
    method: Method,
    uri: http::Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response<Full<Bytes>> {
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

/// One awsJson call to the upstream as `service` in `region`, with the
/// caller's credentials (the upstream reads service and region from the
/// SigV4 credential scope and does not check signatures). None when the
/// upstream is unreachable or answers no JSON.
pub(super) async fn upstream_json(
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
