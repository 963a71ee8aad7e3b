//! SDK errors as the engine understands them: retryable or not, gone or
//! refused, with the cloud's code kept and a message that says what failed
//! (operation and resource) and what to do about it.
//!
//! Codes follow the services' "Common Errors" pages:
//! https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
//! https://docs.aws.amazon.com/kinesis/latest/APIReference/CommonErrors.html
//! https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use tandem_provider::{ErrorClass, ProviderError};

/// Throttling: slow down and try again.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceededException",
    // Kinesis control plane: too many simultaneous stream operations (CreateStream,
    // UpdateShardCount...); DynamoDB control plane: too many concurrent table operations.
    "LimitExceededException",
    "SlowDown",
];

/// Server-side trouble that a later attempt may not meet.
const SERVER: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServerErrorException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "Unavailable",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// The request is fine but collides with the state of this or another object.
const CONFLICT: &[&str] = &[
    "ResourceInUseException",
    "DependencyViolation",
    "InvalidParameterValue.InUse",
    "IncorrectState",
    "IncorrectInstanceState",
    "IdempotentParameterMismatch",
    "ConditionalCheckFailedException",
    "TransactionConflictException",
];

const AUTH: &[&str] = &[
    "AuthFailure",
    "UnauthorizedOperation",
    "AccessDenied",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "ExpiredToken",
    "ExpiredTokenException",
    "OptInRequired",
    "Blocked",
];

/// The class of a cloud error code (with the HTTP status as a fallback).
pub fn class_of(code: &str, status: u16) -> ErrorClass {
    if THROTTLING.contains(&code) || SERVER.contains(&code) {
        ErrorClass::Transient
    } else if AUTH.contains(&code) {
        ErrorClass::Auth
    } else if code.contains("NotFound") || code.ends_with(".Unknown") {
        // ResourceNotFoundException, InvalidVpcID.NotFound, InvalidSubnetID.NotFound, ...
        ErrorClass::NotFound
    } else if CONFLICT.contains(&code) {
        ErrorClass::Conflict
    } else if code.starts_with("Invalid")
        || code.contains("Validation")
        || code.contains("Malformed")
        || code.starts_with("MissingParameter")
        || code.starts_with("UnknownParameter")
        || code.ends_with("LimitExceeded")
    {
        // InvalidParameterValue, InvalidArgumentException, ValidationException,
        // VpcLimitExceeded (a quota: raising it is a human's job, not a retry's).
        ErrorClass::Invalid
    } else if status >= 500 {
        ErrorClass::Transient
    } else if status == 401 || status == 403 {
        ErrorClass::Auth
    } else if status == 404 {
        ErrorClass::NotFound
    } else if status == 409 {
        ErrorClass::Conflict
    } else if status == 429 {
        ErrorClass::Transient
    } else if status == 400 {
        ErrorClass::Invalid
    } else {
        ErrorClass::Other
    }
}

/// The class of a service's answer: its code, and for the services whose
/// code alone cannot tell "does not exist" apart, its message.
///
/// Direct Connect answers every client-side problem, a missing object
/// included, with `DirectConnectClientException` (HTTP 400, "One or more
/// parameters are not valid"); only the message says "... does not exist".
/// The Terraform AWS provider tells them apart the same way (its Direct
/// Connect resources match `ErrCodeClientException` with "does not exist").
/// https://docs.aws.amazon.com/directconnect/latest/APIReference/CommonErrors.html
/// https://docs.aws.amazon.com/botocore/latest/reference/services/directconnect/client/exceptions/DirectConnectClientException.html
fn class_of_answer(code: &str, message: &str, status: u16) -> ErrorClass {
    if code == "DirectConnectClientException" && (message.contains("does not exist") || message.contains("not found")) {
        return ErrorClass::NotFound;
    }
    class_of(code, status)
}

fn hint(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Auth => "; check the AWS credentials and the permissions of the identity tandem runs as",
        ErrorClass::Transient => "; AWS is throttling or unavailable and retries did not get through, try again later",
        ErrorClass::Conflict => {
            "; another object depends on it or a change is still in progress: remove the dependency or wait, then re-run"
        }
        ErrorClass::Invalid => "; the request was refused as invalid: fix the resource's properties",
        ErrorClass::NotFound => "; it does not exist (deleted outside tandem, or a wrong id or region)",
        _ => "",
    }
}

/// The toolkit's NotFound-is-None, where the network kinds import it from.
pub(crate) use tandem_provider::gone_is_none;

/// Classify an SDK error from `operation` on `what` (e.g. "vpc-123").
pub fn classify<E>(operation: &str, what: &str, e: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut request_id = None;
    let (class, code, message) = match &e {
        SdkError::ServiceError(se) => {
            // The SDK keeps the id the service sent (header or body) in the
            // error's metadata; S3 names its header differently.
            request_id = se
                .err()
                .meta()
                .extra("aws_request_id")
                .or_else(|| se.raw().headers().get("x-amzn-requestid"))
                .or_else(|| se.raw().headers().get("x-amz-request-id"))
                .map(str::to_string);
            let code = se.err().code().unwrap_or("").to_string();
            let msg = se.err().message().unwrap_or("").to_string();
            let status = se.raw().status().as_u16();
            (class_of_answer(&code, &msg, status), Some(code), msg)
        }
        SdkError::TimeoutError(_) => (ErrorClass::Transient, None, "the request timed out".to_string()),
        SdkError::DispatchFailure(d) => (
            if d.is_user() { ErrorClass::Other } else { ErrorClass::Transient },
            None,
            format!(
                "could not reach the AWS endpoint ({})",
                if d.is_io() {
                    "connection failed"
                } else if d.is_timeout() {
                    "timeout"
                } else {
                    "dispatch failure"
                }
            ),
        ),
        SdkError::ResponseError(_) => (ErrorClass::Transient, None, "the response could not be read".to_string()),
        // Construction failures (no credentials, no region): the SDK says what is missing.
        _ => (ErrorClass::Other, None, format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&e))),
    };
    let text = match &code {
        Some(c) if !c.is_empty() => format!("{operation} {what}: {c}: {message}{}", hint(class)),
        _ => format!("{operation} {what}: {message}{}", hint(class)),
    };
    let mut err = ProviderError::new(class, text);
    if let Some(c) = code.filter(|c| !c.is_empty()) {
        err = err.with_code(c);
    }
    if let Some(id) = request_id.filter(|id| !id.is_empty()) {
        err = err.with_request_id(id);
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kinesis::operation::describe_stream_summary::DescribeStreamSummaryError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(code: &str, status: u16) -> ProviderError {
        let err = DescribeStreamSummaryError::generic(ErrorMetadata::builder().code(code).message("it went wrong").build());
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        classify("DescribeStreamSummary", "ctr", SdkError::service_error(err, raw))
    }

    #[test]
    fn classes_of_common_codes() {
        for (code, status, class) in [
            ("ThrottlingException", 400, ErrorClass::Transient),
            ("RequestLimitExceeded", 503, ErrorClass::Transient),
            ("LimitExceededException", 400, ErrorClass::Transient),
            ("ProvisionedThroughputExceededException", 400, ErrorClass::Transient),
            ("InternalFailure", 500, ErrorClass::Transient),
            ("Whatever", 502, ErrorClass::Transient),
            ("ResourceNotFoundException", 400, ErrorClass::NotFound),
            ("InvalidVpcID.NotFound", 400, ErrorClass::NotFound),
            ("InvalidSubnetID.NotFound", 400, ErrorClass::NotFound),
            ("ResourceInUseException", 400, ErrorClass::Conflict),
            ("DependencyViolation", 400, ErrorClass::Conflict),
            ("InvalidParameterValue", 400, ErrorClass::Invalid),
            ("InvalidArgumentException", 400, ErrorClass::Invalid),
            ("ValidationException", 400, ErrorClass::Invalid),
            ("VpcLimitExceeded", 400, ErrorClass::Invalid),
            ("UnrecognizedClientException", 400, ErrorClass::Auth),
            ("AuthFailure", 401, ErrorClass::Auth),
            ("AccessDeniedException", 400, ErrorClass::Auth),
            ("SomethingNew", 418, ErrorClass::Other),
        ] {
            assert_eq!(class_of(code, status), class, "{code} {status}");
        }
    }

    #[test]
    fn a_direct_connect_answer_is_not_found_only_when_it_says_so() {
        use aws_sdk_directconnect::operation::describe_virtual_interfaces::DescribeVirtualInterfacesError;
        let dx = |message: &str| {
            let err = DescribeVirtualInterfacesError::generic(
                ErrorMetadata::builder().code("DirectConnectClientException").message(message).build(),
            );
            let raw = HttpResponse::new(400.try_into().unwrap(), SdkBody::empty());
            classify("DescribeVirtualInterfaces", "dxvif-1", SdkError::service_error(err, raw))
        };
        for gone in ["Virtual interface dxvif-1 does not exist", "Direct Connect gateway 5f2d not found"] {
            let e = dx(gone);
            assert_eq!(e.class, ErrorClass::NotFound, "{gone}");
            assert_eq!(e.code.as_deref(), Some("DirectConnectClientException"));
            assert_eq!(gone_is_none::<()>(Err(e)).unwrap(), None, "{gone}");
        }
        for refused in ["Connection ID fake-connection has an invalid format", "The ASN 7224 is not a private ASN", ""] {
            let e = dx(refused);
            assert_eq!(e.class, ErrorClass::Invalid, "{refused:?}");
            assert!(gone_is_none::<()>(Err(e)).is_err(), "{refused:?}");
        }
        // The message decides only for Direct Connect's catch-all code.
        assert_eq!(class_of_answer("InvalidParameterValue", "vpc-1 does not exist", 400), ErrorClass::Invalid);
        assert_eq!(class_of_answer("DirectConnectServerException", "gateway not found", 500), ErrorClass::Transient);
    }

    #[test]
    fn message_names_operation_resource_code_and_a_way_out() {
        let e = service_error("ResourceInUseException", 400);
        assert_eq!(e.class, ErrorClass::Conflict);
        assert_eq!(e.code.as_deref(), Some("ResourceInUseException"));
        assert!(e.message.starts_with("DescribeStreamSummary ctr: ResourceInUseException: it went wrong"), "{}", e.message);
        assert!(e.message.contains("re-run"), "{}", e.message);
        let e = service_error("ThrottlingException", 400);
        assert!(e.is_retryable());
        let e = service_error("", 400);
        assert_eq!(e.code, None);
        assert_eq!(e.class, ErrorClass::Invalid);
    }
}
