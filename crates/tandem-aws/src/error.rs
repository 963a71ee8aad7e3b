//! SDK errors as the engine understands them: retryable or not, gone or
//! refused, with the cloud's code kept and a message that says what failed.

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use tandem_provider::{ErrorClass, ProviderError};

const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "SlowDown",
];

/// Classify an SDK error from `operation` on `what` (e.g. "vpc-123").
pub fn classify<E>(operation: &str, what: &str, e: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (class, code, message) = match &e {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("").to_string();
            let msg = se.err().message().unwrap_or("").to_string();
            let status = se.raw().status().as_u16();
            let class = if THROTTLING.contains(&code.as_str()) || status >= 500 || code == "LimitExceededException" {
                ErrorClass::Transient
            } else if code.contains("NotFound") || code == "ResourceNotFoundException" {
                ErrorClass::NotFound
            } else if matches!(code.as_str(), "ResourceInUseException" | "DependencyViolation" | "InvalidParameterValue.InUse") {
                ErrorClass::Conflict
            } else if matches!(
                code.as_str(),
                "AuthFailure" | "UnauthorizedOperation" | "AccessDeniedException" | "AccessDenied" | "UnrecognizedClientException" | "InvalidClientTokenId" | "ExpiredToken"
            ) {
                ErrorClass::Auth
            } else if code.starts_with("Invalid") || code.contains("Validation") || code.contains("Malformed") || status == 400 {
                ErrorClass::Invalid
            } else {
                ErrorClass::Other
            };
            (class, Some(code), msg)
        }
        SdkError::TimeoutError(_) => (ErrorClass::Transient, None, "the request timed out".to_string()),
        SdkError::DispatchFailure(d) => (
            ErrorClass::Transient,
            None,
            format!("could not reach the endpoint ({})", if d.is_io() { "connection failed" } else if d.is_timeout() { "timeout" } else { "dispatch failure" }),
        ),
        SdkError::ResponseError(_) => (ErrorClass::Transient, None, "the response could not be read".to_string()),
        _ => (ErrorClass::Other, None, format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&e))),
    };
    let hint = match class {
        ErrorClass::Auth => "; check the AWS credentials and the permissions of the identity tandem runs as",
        ErrorClass::Transient => "; retried without success, try again later",
        _ => "",
    };
    let text = match &code {
        Some(c) if !c.is_empty() => format!("{operation} {what}: {c}: {message}{hint}"),
        _ => format!("{operation} {what}: {message}{hint}"),
    };
    let mut err = ProviderError::new(class, text);
    if let Some(c) = code.filter(|c| !c.is_empty()) {
        err = err.with_code(c);
    }
    err
}
