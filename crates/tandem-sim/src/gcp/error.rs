//! Google's JSON error bodies, as the Compute REST API answers them.

use serde_json::{json, Value};

/// GCP's error: HTTP status, errors[].reason, message.
#[derive(Debug, Clone, PartialEq)]
pub struct GcpError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
}

impl GcpError {
    pub(super) fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        GcpError { code, reason, message: message.into() }
    }
    pub(super) fn not_found(what: &str) -> Self {
        Self::new(404, "notFound", format!("The resource '{what}' was not found"))
    }
    pub(super) fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "invalid", message)
    }

    /// The body Google APIs answer errors with.
    pub fn body(&self) -> Value {
        error_body(self.code, self.reason, &self.message)
    }
}

/// Google's JSON error body: code, message, errors[].reason, status.
/// https://cloud.google.com/apis/design/errors#http_mapping
pub fn error_body(code: u16, reason: &str, message: &str) -> Value {
    let status = match code {
        400 => "INVALID_ARGUMENT",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        412 => "FAILED_PRECONDITION",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        _ => "UNKNOWN",
    };
    json!({ "error": { "code": code, "message": message, "errors": [{ "message": message, "domain": "global", "reason": reason }], "status": status } })
}
