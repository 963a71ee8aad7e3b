use http::{HeaderMap, HeaderValue, Method};

use super::identify::{identify, Wire};
use super::wire::render_error;
use crate::error::ApiError;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
    }
    h
}
const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-2/SERVICE/aws4_request, SignedHeaders=host, Signature=abc";

#[test]
fn identifies_each_protocol() {
    let h = headers(&[("authorization", &AUTH.replace("SERVICE", "connect"))]);
    let c =
        identify(&Method::PUT, "/traffic-distribution/arn%3Aaws%3Aconnect%3Aus-east-1%3A1%3Atraffic-distribution-group%2Fx", "", &h, b"{}");
    assert_eq!(
        (c.service.as_str(), c.region.as_str(), c.operation.as_str(), c.wire),
        ("connect", "eu-west-2", "UpdateTrafficDistribution", Wire::RestJson)
    );

    let h = headers(&[
        ("authorization", &AUTH.replace("SERVICE", "dynamodb")),
        ("x-amz-target", "DynamoDB_20120810.UpdateTable"),
        ("content-type", "application/x-amz-json-1.0"),
    ]);
    let c = identify(&Method::POST, "/", "", &h, b"{}");
    assert_eq!((c.service.as_str(), c.operation.as_str()), ("dynamodb", "UpdateTable"));
    assert_eq!(c.wire, Wire::AwsJson("application/x-amz-json-1.0".into()));

    let h = headers(&[
        ("authorization", &AUTH.replace("SERVICE", "ec2")),
        ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
    ]);
    let c = identify(&Method::POST, "/", "", &h, b"Action=CreateVpnConnection&Version=2016-11-15");
    assert_eq!((c.service.as_str(), c.operation.as_str(), c.wire), ("ec2", "CreateVpnConnection", Wire::Ec2Query));

    let h = headers(&[("authorization", &AUTH.replace("SERVICE", "monitoring")), ("smithy-protocol", "rpc-v2-cbor")]);
    let c = identify(&Method::POST, "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm", "", &h, b"");
    assert_eq!((c.operation.as_str(), c.wire), ("PutMetricAlarm", Wire::RpcV2Cbor));

    // Unsigned: default region, service from the target prefix.
    let h = headers(&[("x-amz-target", "OvertureService.DescribeConnections")]);
    let c = identify(&Method::POST, "/", "", &h, b"{}");
    assert_eq!((c.service.as_str(), c.region.as_str()), ("directconnect", "us-east-1"));
    // Presigned query credential.
    let c =
        identify(&Method::GET, "/bucket/key", "X-Amz-Credential=AKID%2F20250101%2Fus-west-2%2Fs3%2Faws4_request", &HeaderMap::new(), b"");
    assert_eq!((c.service.as_str(), c.region.as_str(), c.wire), ("s3", "us-west-2", Wire::RestXml));
}

#[test]
fn cbor_error_is_a_two_entry_text_map() {
    let resp = render_error(&Wire::RpcV2Cbor, &ApiError::new(400, "Throttling", "Rate exceeded"));
    assert_eq!(resp.headers()["smithy-protocol"], "rpc-v2-cbor");
    assert_eq!(resp.status().as_u16(), 400);
}

/// The RPC v2 CBOR error body as a CBOR decoder reads it (long messages
/// included: their length takes the two-byte form), byte for byte what the
/// hand-written writer it replaced produced: a two-entry map (0xA2) of text
/// strings with the shortest length headers.
#[tokio::test]
async fn cbor_error_body_decodes_to_type_and_message() {
    use http_body_util::BodyExt;
    let long = "x".repeat(300);
    let medium = "y".repeat(100);
    for message in ["Rate exceeded", medium.as_str(), long.as_str()] {
        let resp = render_error(&Wire::RpcV2Cbor, &ApiError::new(400, "Throttling", message));
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let v: ciborium::Value = ciborium::de::from_reader(&body[..]).unwrap();
        let text = |s: &str| ciborium::Value::Text(s.to_string());
        assert_eq!(v, ciborium::Value::Map(vec![(text("__type"), text("Throttling")), (text("message"), text(message))]));
        let mut want = vec![0xA2, 0x66];
        want.extend(b"__type");
        want.push(0x6A);
        want.extend(b"Throttling");
        want.push(0x67);
        want.extend(b"message");
        match message.len() {
            n if n < 24 => want.push(0x60 | n as u8),
            n if n < 256 => want.extend([0x78, n as u8]),
            n => {
                want.push(0x79);
                want.extend((n as u16).to_be_bytes());
            }
        }
        want.extend(message.as_bytes());
        assert_eq!(body[..], want[..]);
    }
}
