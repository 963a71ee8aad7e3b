//! What a request is: service and region from the SigV4 credential scope,
//! operation and wire protocol from the request's shape.

use http::{HeaderMap, Method};

use super::DEFAULT_REGION;
use crate::connect;

/// How a call's answers (and errors) are put on the wire.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Wire {
    RestJson,
    /// awsJson 1.0/1.1 with the request's content type.
    AwsJson(String),
    Ec2Query,
    AwsQuery,
    RestXml,
    RpcV2Cbor,
}

/// What a request is: service, region, operation, wire protocol.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub service: String,
    pub region: String,
    pub operation: String,
    pub wire: Wire,
}

/// Service and region from a SigV4 credential scope
/// (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`), header or presigned query.
fn credential_scope(headers: &HeaderMap, query: &str) -> Option<(String, String)> {
    let cred = if let Some(auth) = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let i = auth.find("Credential=")?;
        auth[i + "Credential=".len()..].split([',', ' ']).next()?.to_string()
    } else {
        form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "X-Amz-Credential")?.1.into_owned()
    };
    let parts: Vec<&str> = cred.split('/').collect();
    if parts.len() >= 5 {
        Some((parts[3].to_string(), parts[2].to_string()))
    } else {
        None
    }
}

pub(super) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) fn identify(method: &Method, path: &str, query: &str, headers: &HeaderMap, body: &[u8]) -> Call {
    let target = header(headers, "x-amz-target");
    let (mut service, region) = credential_scope(headers, query).unwrap_or_default();
    let region = if region.is_empty() { DEFAULT_REGION.to_string() } else { region };
    if service.is_empty() {
        service = match target.and_then(|t| t.split('.').next()) {
            Some("OvertureService") => "directconnect".into(),
            Some(p) if p.starts_with("DynamoDB") => "dynamodb".into(),
            Some(p) if p.starts_with("Kinesis") => "kinesis".into(),
            _ if connect::operation(method, &connect::segments(path)).is_some() => "connect".into(),
            Some(crate::cloudwatch::SMITHY_SERVICE) => crate::cloudwatch::SERVICE.into(),
            _ if path.starts_with(&format!("/service/{}/", crate::cloudwatch::SMITHY_SERVICE)) => crate::cloudwatch::SERVICE.into(),
            _ => "unknown".into(),
        };
    }
    if header(headers, "smithy-protocol") == Some("rpc-v2-cbor") {
        let op = path.rsplit('/').next().unwrap_or("").to_string();
        return Call { service, region, operation: op, wire: Wire::RpcV2Cbor };
    }
    if let Some(t) = target {
        let ct = header(headers, "content-type").unwrap_or("application/x-amz-json-1.1").to_string();
        let op = t.rsplit('.').next().unwrap_or(t).to_string();
        return Call { service, region, operation: op, wire: Wire::AwsJson(ct) };
    }
    let form = header(headers, "content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let action = form_urlencoded::parse(query.as_bytes())
        .chain(if form { form_urlencoded::parse(body) } else { form_urlencoded::parse(b"") })
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.into_owned());
    if let Some(action) = action {
        let wire = if service == "ec2" { Wire::Ec2Query } else { Wire::AwsQuery };
        return Call { service, region, operation: action, wire };
    }
    if service == "connect" {
        let op = connect::operation(method, &connect::segments(path)).unwrap_or("Unknown").to_string();
        return Call { service, region, operation: op, wire: Wire::RestJson };
    }
    if let (true, Some(op)) = (service == "lambda", crate::lambda::operation(method, path)) {
        return Call { service, region, operation: op.to_string(), wire: Wire::RestJson };
    }
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let wire = if service == "s3" { Wire::RestXml } else { Wire::RestJson };
    Call { service, region, operation: format!("{method} /{first}"), wire }
}
