//! Answers and errors in each protocol's wire format: restJson1, awsJson,
//! EC2 query XML, awsQuery XML, S3 XML and RPC v2 CBOR.

use bytes::Bytes;
use ciborium::Value as Cbor;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;

use super::identify::{Call, Wire};
use crate::error::{ApiError, Protocol};
use crate::support::cbor::encode;

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub(super) fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(super) fn respond(status: u16, headers: &[(&str, String)], body: impl Into<Bytes>) -> Response<Full<Bytes>> {
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
            let text = |s: &str| Cbor::Text(s.to_string());
            let body = encode(&Cbor::Map(vec![(text("__type"), text(&e.code)), (text("message"), text(&e.message))]));
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

/// A 200 answer in the call's JSON dialect.
pub(super) fn json_like(call: &Call, v: &Value) -> Response<Full<Bytes>> {
    let ct = match &call.wire {
        Wire::AwsJson(ct) => ct.clone(),
        _ => "application/json".to_string(),
    };
    respond(200, &[("content-type", ct), ("x-amzn-RequestId", request_id())], v.to_string())
}

pub(super) fn with_body(mut resp: Response<Full<Bytes>>, body: String) -> Response<Full<Bytes>> {
    // The body changed: its length and upstream's checksum no longer apply.
    resp.headers_mut().remove(http::header::CONTENT_LENGTH);
    resp.headers_mut().remove("x-amz-crc32");
    *resp.body_mut() = Full::new(Bytes::from(body));
    resp
}

pub(super) async fn body_text(resp: Response<Full<Bytes>>) -> (Response<Full<Bytes>>, Bytes) {
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    (Response::from_parts(parts, Full::new(bytes.clone())), bytes)
}
