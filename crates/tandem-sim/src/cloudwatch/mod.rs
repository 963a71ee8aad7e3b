//! Amazon CloudWatch over the Smithy RPC v2 CBOR protocol (what aws-sdk-rust
//! speaks to CloudWatch; moto answers XML) and over awsJson 1.0 (what
//! botocore 1.44 picks from the model's `protocols`), from one state: alarms,
//! metric data and dashboards.
//!
//! Wire (Smithy `smithy.protocols#rpcv2Cbor`): `POST
//! /service/GraniteServiceVersion20100801/operation/<Op>` with
//! `smithy-protocol: rpc-v2-cbor` and a CBOR map body (an empty body is an
//! empty input). Answers carry `smithy-protocol: rpc-v2-cbor`; an output is a
//! CBOR map with `Content-Type: application/cbor`; operations without output
//! answer 200 with an empty body. Timestamps are tag 1 epoch seconds.
//! Errors are a CBOR map with `__type` (the error shape id) and `message`,
//! the modeled status, and, because CloudWatch is `awsQueryCompatible`, the
//! header `x-amzn-query-error: <query code>;Sender` which both the Rust SDK
//! and botocore read for the error code (`ResourceNotFound`,
//! `InvalidParameterValue`, ...).
//!
//! Members, error codes and rules follow the CloudWatch API Reference
//! (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/) and
//! the service model (botocore `cloudwatch/2010-08-01`). Alarms and metric
//! data live per account and region; dashboards per account (their ARN,
//! `arn:aws:cloudwatch::ACCOUNT:dashboard/NAME`, has no region, as in AWS).
//!
//! Scope: metric alarms only (no composite alarms, no anomaly detectors);
//! alarms are not evaluated against metric data — their state changes only by
//! `SetAlarmState` (how a drill makes a region unhealthy). `GetMetricData`
//! evaluates `MetricStat` queries (Sum, Average, Maximum, Minimum,
//! SampleCount, pNN); metric math `Expression`s are rejected. Every answer is
//! one page except DescribeAlarms (`MaxRecords` / numeric `NextToken`).

use std::collections::BTreeMap;

use bytes::Bytes;
use ciborium::Value as Cbor;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::{Map, Value};

use crate::error::ApiError;

mod alarms;
mod cbor;
mod dashboards;
mod input;
mod metrics;

use cbor::*;
pub use cbor::{cbor_to_json, decode_input, encode};
use input::*;
use metrics::*;

/// The operations `handle` serves.
pub const OPERATIONS: &[&str] = &[
    "PutMetricAlarm",
    "DescribeAlarms",
    "DeleteAlarms",
    "SetAlarmState",
    "PutMetricData",
    "GetMetricData",
    "PutDashboard",
    "GetDashboard",
    "DeleteDashboards",
    "ListDashboards",
];

/// The signing name (credential scope service) of CloudWatch.
pub const SERVICE: &str = "monitoring";
/// The Smithy service name in rpcv2Cbor paths.
pub const SMITHY_SERVICE: &str = "GraniteServiceVersion20100801";

const COMPARISON_OPERATORS: &[&str] = &[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
];
/// Comparison operators of anomaly-detection alarms (they need `ThresholdMetricId`).
const BAND_OPERATORS: &[&str] = &["LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"];
const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
const STATES: &[&str] = &["OK", "ALARM", "INSUFFICIENT_DATA"];
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];
const TREAT_MISSING: &[&str] = &["breaching", "notBreaching", "ignore", "missing"];

// ---------------------------------------------------------------- errors

/// Error shape ids by query-compatible code (service model `error.code`).
fn shape_of(code: &str) -> &'static str {
    match code {
        "ResourceNotFound" => "ResourceNotFound",
        "InvalidParameterValue" => "InvalidParameterValueException",
        "InvalidParameterCombination" => "InvalidParameterCombinationException",
        "MissingParameter" => "MissingRequiredParameterException",
        "InvalidParameterInput" => "DashboardInvalidInputError",
        "InvalidFormat" => "InvalidFormatFault",
        "InvalidNextToken" => "InvalidNextToken",
        "LimitExceeded" => "LimitExceededFault",
        "ResourceConflict" => "ResourceConflict",
        "InternalServiceError" => "InternalServiceFault",
        "SerializationException" => "SerializationException",
        "UnknownOperationException" => "UnknownOperationException",
        _ => "ValidationException",
    }
}

/// A CloudWatch error: the API error plus extra members of its shape
/// (`dashboardValidationMessages`).
#[derive(Debug, Clone, PartialEq)]
pub struct CwError {
    pub error: ApiError,
    pub extra: Vec<(String, Cbor)>,
}

impl From<ApiError> for CwError {
    fn from(error: ApiError) -> Self {
        CwError { error, extra: Vec::new() }
    }
}

fn err(status: u16, code: &str, message: impl Into<String>) -> CwError {
    ApiError::new(status, code, message).into()
}
/// `ValidationError` (400): a member violates its modeled constraint.
fn validation(message: impl Into<String>) -> CwError {
    err(400, "ValidationError", message)
}
fn invalid_value(message: impl Into<String>) -> CwError {
    err(400, "InvalidParameterValue", message)
}
fn combination(message: impl Into<String>) -> CwError {
    err(400, "InvalidParameterCombination", message)
}
fn missing(message: impl Into<String>) -> CwError {
    err(400, "MissingParameter", message)
}
fn not_found(message: impl Into<String>) -> CwError {
    err(404, "ResourceNotFound", message)
}
/// The AWS wording for a constraint violation of one member.
fn constraint(member: &str, value: &str, rule: &str) -> CwError {
    validation(format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"))
}
fn required(member: &str) -> CwError {
    validation(format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"))
}

// ---------------------------------------------------------------- state

#[derive(Debug, Clone)]
struct Alarm {
    name: String,
    arn: String,
    /// The PutMetricAlarm input as given (configuration members).
    config: Value,
    dimensions: Vec<(String, String)>,
    state: String,
    reason: String,
    reason_data: Option<String>,
    state_updated: f64,
    state_transitioned: f64,
    config_updated: f64,
}

#[derive(Debug, Clone)]
struct Datapoint {
    namespace: String,
    metric: String,
    dimensions: Vec<(String, String)>,
    timestamp: f64,
    unit: Option<String>,
    /// (value, count) samples.
    samples: Vec<(f64, f64)>,
    /// A `StatisticSet` (SampleCount, Sum, Minimum, Maximum) instead of samples.
    set: Option<(f64, f64, f64, f64)>,
}

#[derive(Debug, Clone)]
struct Dashboard {
    body: String,
    modified: f64,
}

#[derive(Debug, Default)]
struct Region {
    alarms: BTreeMap<String, Alarm>,
    data: Vec<Datapoint>,
}

/// All CloudWatch state of the sandbox.
#[derive(Debug, Default)]
pub struct CloudWatch {
    /// (account, region) -> alarms and metric data.
    regions: BTreeMap<(String, String), Region>,
    /// (account, name) -> dashboard.
    dashboards: BTreeMap<(String, String), Dashboard>,
}

impl CloudWatch {
    /// Serves one operation. `input` is the decoded request; the answer is
    /// the output structure (`None` for operations without output).
    pub fn handle(&mut self, account: &str, region: &str, op: &str, input: &Value) -> Result<Option<Cbor>, CwError> {
        let now = now_secs();
        match op {
            "PutMetricAlarm" => self.put_metric_alarm(account, region, input, now).map(|_| None),
            "DescribeAlarms" => self.describe_alarms(account, region, input).map(Some),
            "DeleteAlarms" => self.delete_alarms(account, region, input).map(|_| None),
            "SetAlarmState" => self.set_alarm_state(account, region, input, now).map(|_| None),
            "PutMetricData" => self.put_metric_data(account, region, input, now).map(|_| None),
            "GetMetricData" => self.get_metric_data(account, region, input).map(Some),
            "PutDashboard" => self.put_dashboard(account, input, now).map(Some),
            "GetDashboard" => self.get_dashboard(account, input).map(Some),
            "DeleteDashboards" => self.delete_dashboards(account, input).map(Some),
            "ListDashboards" => self.list_dashboards(account, input).map(Some),
            _ => Err(err(404, "UnknownOperationException", format!("tandem sandbox does not serve CloudWatch {op}"))),
        }
    }

    fn region(&mut self, account: &str, region: &str) -> &mut Region {
        self.regions.entry((account.to_string(), region.to_string())).or_default()
    }
}

// ---------------------------------------------------------------- wire

/// The two protocols of CloudWatch's service model that clients use: Smithy
/// RPC v2 CBOR (aws-sdk-rust) and awsJson 1.0 (`X-Amz-Target:
/// GraniteServiceVersion20100801.<Op>`, what botocore 1.44 picks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CwWire {
    RpcV2Cbor,
    AwsJson10,
}

fn respond(wire: CwWire, status: u16, content_type: bool, extra: &[(&str, String)], body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    match wire {
        CwWire::RpcV2Cbor => {
            h.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
            if content_type {
                h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/cbor"));
            }
        }
        CwWire::AwsJson10 => {
            h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.0"));
        }
    }
    h.insert("x-amzn-requestid", HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).unwrap_or(HeaderValue::from_static("0")));
    for (k, v) in extra {
        if let (Ok(name), Ok(val)) = (http::HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            h.insert(name, val);
        }
    }
    resp
}

/// Renders a CloudWatch error: `__type` = the error shape id, `message`, the
/// shape's extra members, and `x-amzn-query-error: <code>;<Sender|Receiver>`.
pub fn render_error(wire: CwWire, e: &CwError) -> Response<Full<Bytes>> {
    let mut m = vec![
        (text("__type"), text(&format!("com.amazonaws.cloudwatch#{}", shape_of(&e.error.code)))),
        (text("message"), text(&e.error.message)),
    ];
    m.extend(e.extra.iter().map(|(k, v)| (text(k), v.clone())));
    let fault = if e.error.status >= 500 { "Receiver" } else { "Sender" };
    let body = Cbor::Map(m);
    let body = match wire {
        CwWire::RpcV2Cbor => encode(&body),
        CwWire::AwsJson10 => cbor_to_json(&body).to_string().into_bytes(),
    };
    respond(wire, e.error.status, true, &[("x-amzn-query-error", format!("{};{fault}", e.error.code))], body)
}

/// Serves one request body in its wire protocol. awsJson answers carry
/// timestamps as epoch-second numbers and `{}` for operations without output.
pub fn serve(cw: &mut CloudWatch, wire: CwWire, account: &str, region: &str, op: &str, body: &[u8]) -> Response<Full<Bytes>> {
    let input = match wire {
        CwWire::RpcV2Cbor => decode_input(body),
        CwWire::AwsJson10 if body.iter().all(u8::is_ascii_whitespace) => Ok(Value::Object(Map::new())),
        CwWire::AwsJson10 => match serde_json::from_slice::<Value>(body) {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(_) => Err(err(400, "SerializationException", "request body must be a JSON object")),
            Err(e) => Err(err(400, "SerializationException", format!("request body is not JSON: {e}"))),
        },
    };
    match (wire, input.and_then(|input| cw.handle(account, region, op, &input))) {
        (CwWire::RpcV2Cbor, Ok(Some(out))) => respond(wire, 200, true, &[], encode(&out)),
        (CwWire::RpcV2Cbor, Ok(None)) => respond(wire, 200, false, &[], Vec::new()),
        (CwWire::AwsJson10, Ok(out)) => {
            respond(wire, 200, true, &[], out.map(|o| cbor_to_json(&o)).unwrap_or(Value::Object(Map::new())).to_string().into_bytes())
        }
        (_, Err(e)) => render_error(wire, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cw_call(cw: &mut CloudWatch, region: &str, op: &str, input: Value) -> Result<Option<Cbor>, CwError> {
        cw.handle("123456789012", region, op, &input)
    }

    #[test]
    fn alarm_rules_and_states() {
        let mut cw = CloudWatch::default();
        let ok = json!({"AlarmName":"a","MetricName":"m","Namespace":"N","Statistic":"Sum","Period":60,"EvaluationPeriods":1,"Threshold":1.0,"ComparisonOperator":"GreaterThanThreshold"});
        cw_call(&mut cw, "us-east-1", "PutMetricAlarm", ok.clone()).unwrap();
        let mut both = ok.clone();
        both["ExtendedStatistic"] = json!("p99");
        assert_eq!(cw_call(&mut cw, "us-east-1", "PutMetricAlarm", both).unwrap_err().error.code, "InvalidParameterCombination");
        let mut bad = ok.clone();
        bad["Period"] = json!(45);
        assert_eq!(cw_call(&mut cw, "us-east-1", "PutMetricAlarm", bad).unwrap_err().error.code, "InvalidParameterValue");
        let mut bad = ok.clone();
        bad["ComparisonOperator"] = json!("Bigger");
        assert_eq!(cw_call(&mut cw, "us-east-1", "PutMetricAlarm", bad).unwrap_err().error.code, "ValidationError");
        let e = cw_call(&mut cw, "us-west-2", "SetAlarmState", json!({"AlarmName":"a","StateValue":"ALARM","StateReason":"drill"}))
            .unwrap_err();
        assert_eq!((e.error.status, e.error.code.as_str()), (404, "ResourceNotFound"));
        cw_call(&mut cw, "us-east-1", "SetAlarmState", json!({"AlarmName":"a","StateValue":"ALARM","StateReason":"drill"})).unwrap();
        let out = cw_call(&mut cw, "us-east-1", "DescribeAlarms", json!({"StateValue":"ALARM"})).unwrap().unwrap();
        let v = cbor_to_json(&out);
        assert_eq!(v["MetricAlarms"][0]["StateValue"], "ALARM");
    }

    #[test]
    fn aggregates_per_period() {
        let mut cw = CloudWatch::default();
        let t = (now_secs() / 60.0).floor() * 60.0 - 600.0;
        cw_call(
            &mut cw,
            "us-east-1",
            "PutMetricData",
            json!({"Namespace":"N","MetricData":[
            {"MetricName":"m","Value":1.0,"Timestamp":t},
            {"MetricName":"m","Values":[2.0,4.0],"Counts":[1.0,3.0],"Timestamp":t+10.0},
            {"MetricName":"m","Value":10.0,"Timestamp":t+60.0}]}),
        )
        .unwrap();
        let q = |stat: &str| json!({"MetricDataQueries":[{"Id":"q","MetricStat":{"Metric":{"Namespace":"N","MetricName":"m"},"Period":60,"Stat":stat}}],"StartTime":t-60.0,"EndTime":t+600.0,"ScanBy":"TimestampAscending"});
        let v = cbor_to_json(&cw_call(&mut cw, "us-east-1", "GetMetricData", q("Sum")).unwrap().unwrap());
        assert_eq!(v["MetricDataResults"][0]["Values"], json!([15.0, 10.0]));
        let v = cbor_to_json(&cw_call(&mut cw, "us-east-1", "GetMetricData", q("SampleCount")).unwrap().unwrap());
        assert_eq!(v["MetricDataResults"][0]["Values"], json!([5.0, 1.0]));
        let v = cbor_to_json(&cw_call(&mut cw, "us-east-1", "GetMetricData", q("p50")).unwrap().unwrap());
        assert_eq!(v["MetricDataResults"][0]["Values"], json!([4.0, 10.0]));
    }

    #[test]
    fn errors_carry_the_query_code() {
        let resp = render_error(CwWire::RpcV2Cbor, &not_found("x"));
        assert_eq!(resp.status().as_u16(), 404);
        assert_eq!(resp.headers()["x-amzn-query-error"], "ResourceNotFound;Sender");
        assert_eq!(resp.headers()["content-type"], "application/cbor");
    }
}
