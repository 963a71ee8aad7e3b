//! Google API errors as the engine understands them. Compute Engine answers
//! errors as `{"error": {"code", "message", "errors": [{"reason"}], "status"}}`;
//! the reason (`resourceInUseByAnotherResource`, `conditionNotMet`) says more
//! than the HTTP status, so it becomes the error's code.
//! https://cloud.google.com/compute/docs/api/handle-api-errors

use google_cloud_gax::error::rpc::StatusDetails;
use google_cloud_gax::error::Error;
use tandem_provider::{ErrorClass, ProviderError};

/// `errors[0].reason` of a Google error body: the client keeps it as an
/// ErrorInfo detail of the status.
fn reason(e: &Error) -> Option<String> {
    e.status()?.details.iter().find_map(|d| match d {
        StatusDetails::ErrorInfo(info) if !info.reason.is_empty() => Some(info.reason.clone()),
        _ => None,
    })
}

/// The request id Google attached (a RequestInfo detail), for a support case.
fn request_id(e: &Error) -> Option<String> {
    e.status()?.details.iter().find_map(|d| match d {
        StatusDetails::RequestInfo(info) if !info.request_id.is_empty() => Some(info.request_id.clone()),
        _ => None,
    })
}

pub fn is_not_found(e: &Error) -> bool {
    e.http_status_code() == Some(404) || e.status().is_some_and(|s| s.code == google_cloud_gax::error::rpc::Code::NotFound)
}

/// `verb` what failed ("insert"), `what` the resource path.
pub fn classify(verb: &str, what: &str, e: Error) -> ProviderError {
    let status = e.http_status_code();
    let reason = reason(&e);
    let message = e.status().map(|s| s.message.clone()).filter(|m| !m.is_empty()).unwrap_or_else(|| e.to_string());
    let class = match (status, reason.as_deref()) {
        (Some(404), _) => ErrorClass::NotFound,
        (Some(401 | 403), _) => ErrorClass::Auth,
        // A resource busy with an earlier operation (a Cloud Router being
        // changed) takes the next change once that one is done.
        (_, Some("resourceNotReady")) => ErrorClass::Transient,
        (Some(409), _) | (Some(412), _) | (_, Some("resourceInUseByAnotherResource" | "conditionNotMet")) => ErrorClass::Conflict,
        (Some(429), _) | (Some(500..=599), _) | (_, Some("rateLimitExceeded" | "userRateLimitExceeded" | "backendError")) => {
            ErrorClass::Transient
        }
        (Some(400), _) => ErrorClass::Invalid,
        (None, _) if e.is_io() || e.is_connect() || e.is_timeout() || e.is_transport() => ErrorClass::Transient,
        (None, _) if e.is_authentication() => ErrorClass::Auth,
        _ => ErrorClass::Other,
    };
    let help = match class {
        ErrorClass::Auth => {
            "; check Application Default Credentials (gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS)"
        }
        ErrorClass::Invalid => "; fix the spec and plan again",
        _ => "",
    };
    let mut err = ProviderError::new(class, format!("{verb} {what}: {message}{help}"));
    if let Some(r) = reason {
        err = err.with_code(r);
    }
    if let Some(id) = request_id(&e) {
        err = err.with_request_id(id);
    }
    err
}
