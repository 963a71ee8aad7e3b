//! Compute Engine v1 through the sandbox: counted and faulted like AWS calls,
//! errors in Google's body.

use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Response};
use http_body_util::Full;

use super::inject::count_and_inject;
use super::wire::respond;
use super::Shared;

/// Compute Engine v1 (`gcp::Compute`); selfLinks point back at this server.
pub(super) async fn compute(
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
