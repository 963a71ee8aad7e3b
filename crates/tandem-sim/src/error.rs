//! API errors as each AWS protocol puts them on the wire.

use serde_json::json;

/// The wire protocol of a service, which decides how errors are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Connect: `x-amzn-ErrorType` header + JSON body `{"message": ...}`.
    RestJson1,
    /// Direct Connect, DynamoDB, Kinesis: JSON body `{"__type": ..., "message": ...}`.
    AwsJson,
    /// EC2: `<Response><Errors><Error><Code>..`.
    Ec2Query,
    /// CloudWatch (Smithy RPC v2 CBOR): `__type` in a CBOR map.
    RpcV2Cbor,
}

/// An error a handler returns; the server renders it for the protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    /// The API Reference's error name (`InvalidRequestException`).
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError { status, code: code.to_string(), message: message.into() }
    }
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequestException", message)
    }
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidParameterException", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "ResourceNotFoundException", message)
    }
    pub fn in_use(message: impl Into<String>) -> Self {
        Self::new(409, "ResourceInUseException", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "ResourceConflictException", message)
    }
    pub fn duplicate(message: impl Into<String>) -> Self {
        Self::new(409, "DuplicateResourceException", message)
    }
    pub fn throttling(message: impl Into<String>) -> Self {
        Self::new(429, "ThrottlingException", message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalServiceException", message)
    }

    /// JSON body for the JSON protocols (the restJson1 header is set by the server).
    pub fn json_body(&self, protocol: Protocol) -> serde_json::Value {
        match protocol {
            Protocol::RestJson1 => json!({ "message": self.message, "Message": self.message }),
            _ => json!({ "__type": self.code, "message": self.message }),
        }
    }
}
