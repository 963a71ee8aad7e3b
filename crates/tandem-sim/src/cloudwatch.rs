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
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ciborium::Value as Cbor;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::{Map, Value};

use crate::error::ApiError;

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

// ---------------------------------------------------------------- CBOR <-> JSON

/// A request body as JSON: tag 1 timestamps become epoch seconds, byte
/// strings become lists of numbers (no operation served here has blobs).
pub fn cbor_to_json(v: &Cbor) -> Value {
    match v {
        Cbor::Integer(i) => {
            let i: i128 = (*i).into();
            if let Ok(n) = i64::try_from(i) {
                Value::from(n)
            } else if let Ok(n) = u64::try_from(i) {
                Value::from(n)
            } else {
                Value::from(i as f64)
            }
        }
        // Smithy's JSON spelling of the non-finite doubles.
        Cbor::Float(f) if f.is_nan() => Value::String("NaN".into()),
        Cbor::Float(f) if f.is_infinite() => Value::String(if *f > 0.0 { "Infinity" } else { "-Infinity" }.into()),
        Cbor::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
        Cbor::Text(s) => Value::String(s.clone()),
        Cbor::Bool(b) => Value::Bool(*b),
        Cbor::Null => Value::Null,
        Cbor::Bytes(b) => Value::Array(b.iter().map(|x| Value::from(*x)).collect()),
        Cbor::Tag(_, inner) => cbor_to_json(inner),
        Cbor::Array(a) => Value::Array(a.iter().map(cbor_to_json).collect()),
        Cbor::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Cbor::Text(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                // Smithy: a null member is an absent member.
                if !v.is_null() {
                    out.insert(key, cbor_to_json(v));
                }
            }
            Value::Object(out)
        }
        _ => Value::Null,
    }
}

/// Decodes a request body: empty = empty input; otherwise it must be a CBOR map.
pub fn decode_input(body: &[u8]) -> Result<Value, CwError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let v: Cbor =
        ciborium::de::from_reader(body).map_err(|e| err(400, "SerializationException", format!("request body is not CBOR: {e}")))?;
    match cbor_to_json(&v) {
        Value::Object(m) => Ok(Value::Object(m)),
        _ => Err(err(400, "SerializationException", "request body must be a CBOR map")),
    }
}

fn text(s: &str) -> Cbor {
    Cbor::Text(s.to_string())
}
/// A timestamp: tag 1, epoch seconds (float, millisecond precision).
fn ts(secs: f64) -> Cbor {
    Cbor::Tag(1, Box::new(Cbor::Float((secs * 1000.0).floor() / 1000.0)))
}
fn map(entries: Vec<(&str, Cbor)>) -> Cbor {
    Cbor::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}
fn int(n: i64) -> Cbor {
    Cbor::Integer(n.into())
}

/// Generic JSON -> CBOR (stored inputs echoed back: Dimensions, Metrics, actions).
fn json_to_cbor(v: &Value) -> Cbor {
    match v {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => int(i),
            (_, Some(u)) => Cbor::Integer(u.into()),
            _ => Cbor::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => text(s),
        Value::Array(a) => Cbor::Array(a.iter().map(json_to_cbor).collect()),
        Value::Object(o) => Cbor::Map(o.iter().map(|(k, v)| (text(k), json_to_cbor(v))).collect()),
    }
}

pub fn encode(v: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = ciborium::ser::into_writer(v, &mut out);
    out
}

// ---------------------------------------------------------------- input helpers

fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

fn opt_str<'a>(input: &'a Value, member: &str) -> Result<Option<&'a str>, CwError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(err(400, "SerializationException", format!("{member} must be a string, not {other}"))),
    }
}
fn opt_int(input: &Value, member: &str) -> Result<Option<i64>, CwError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| err(400, "SerializationException", format!("{member} must be an integer"))),
    }
}
fn opt_f64(input: &Value, member: &str) -> Result<Option<f64>, CwError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => as_f64(v).map(Some).ok_or_else(|| err(400, "SerializationException", format!("{member} must be a number"))),
    }
}
/// A double: a number, or Smithy's "NaN" / "Infinity" / "-Infinity".
fn as_f64(v: &Value) -> Option<f64> {
    match v.as_str() {
        Some("NaN") => Some(f64::NAN),
        Some("Infinity") => Some(f64::INFINITY),
        Some("-Infinity") => Some(f64::NEG_INFINITY),
        _ => v.as_f64(),
    }
}
fn list<'a>(input: &'a Value, member: &str) -> Result<&'a [Value], CwError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(err(400, "SerializationException", format!("{member} must be a list"))),
    }
}
fn str_list(input: &Value, member: &str) -> Result<Vec<String>, CwError> {
    list(input, member)?
        .iter()
        .map(|v| {
            v.as_str().map(str::to_string).ok_or_else(|| err(400, "SerializationException", format!("{member} must be a list of strings")))
        })
        .collect()
}
fn length(member: &str, s: &str, min: usize, max: usize) -> Result<(), CwError> {
    let n = s.chars().count();
    if n < min {
        return Err(constraint(member, s, &format!("Member must have length greater than or equal to {min}")));
    }
    if n > max {
        return Err(constraint(member, s, &format!("Member must have length less than or equal to {max}")));
    }
    Ok(())
}
fn one_of(member: &str, s: &str, allowed: &[&str]) -> Result<(), CwError> {
    if allowed.contains(&s) {
        Ok(())
    } else {
        Err(constraint(member, s, &format!("Member must satisfy enum value set: [{}]", allowed.join(", "))))
    }
}

/// Dimensions: at most 30, names 1-255, values 1-1024, no name twice.
/// Returns them sorted by name (CloudWatch identifies a metric by the set).
fn dimensions(v: &Value, member: &str) -> Result<Vec<(String, String)>, CwError> {
    let dims = list(v, "Dimensions")?;
    if dims.len() > 30 {
        return Err(validation(format!("1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to 30")));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for d in dims {
        let name = opt_str(d, "Name")?.ok_or_else(|| required(&format!("{member}.member.name")))?;
        let value = opt_str(d, "Value")?.ok_or_else(|| required(&format!("{member}.member.value")))?;
        length(&format!("{member}.member.name"), name, 1, 255)?;
        length(&format!("{member}.member.value"), value, 1, 1024)?;
        if out.iter().any(|(n, _)| n == name) {
            return Err(invalid_value(format!("The dimension {name} is specified more than once.")));
        }
        out.push((name.to_string(), value.to_string()));
    }
    out.sort();
    Ok(out)
}

fn dims_cbor(dims: &[(String, String)]) -> Cbor {
    Cbor::Array(dims.iter().map(|(n, v)| map(vec![("Name", text(n)), ("Value", text(v))])).collect())
}

/// `p99`, `p99.9`, `p0.0`..`p100` (the percentiles tandem uses; trimmed
/// means and other extended statistics are not emulated).
fn percentile(stat: &str) -> Option<f64> {
    let n = stat.strip_prefix('p')?;
    if n.is_empty()
        || !n.chars().all(|c| c.is_ascii_digit() || c == '.')
        || n.starts_with('.')
        || n.ends_with('.')
        || n.matches('.').count() > 1
    {
        return None;
    }
    let p: f64 = n.parse().ok()?;
    (0.0..=100.0).contains(&p).then_some(p)
}

/// Alarm and metric periods: 1, 5, 10, 20, 30 (high resolution) or a multiple of 60.
fn valid_period(p: i64, alarm: bool) -> bool {
    if p >= 60 {
        return p % 60 == 0;
    }
    if alarm {
        matches!(p, 10 | 20 | 30)
    } else {
        matches!(p, 1 | 5 | 10 | 20 | 30)
    }
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

    // ------------------------------------------------------------ alarms

    fn put_metric_alarm(&mut self, account: &str, region: &str, input: &Value, now: f64) -> Result<(), CwError> {
        let name = opt_str(input, "AlarmName")?.ok_or_else(|| required("alarmName"))?;
        length("alarmName", name, 1, 255)?;
        if let Some(d) = opt_str(input, "AlarmDescription")? {
            length("alarmDescription", d, 0, 1024)?;
        }
        for (member, wire) in
            [("OKActions", "oKActions"), ("AlarmActions", "alarmActions"), ("InsufficientDataActions", "insufficientDataActions")]
        {
            let actions = str_list(input, member)?;
            if actions.len() > 5 {
                return Err(validation(format!("1 validation error detected: Value at '{wire}' failed to satisfy constraint: Member must have length less than or equal to 5")));
            }
            for a in &actions {
                length(&format!("{wire}.member"), a, 1, 1024)?;
            }
        }
        let op = opt_str(input, "ComparisonOperator")?.ok_or_else(|| required("comparisonOperator"))?;
        one_of("comparisonOperator", op, COMPARISON_OPERATORS)?;
        let eval = opt_int(input, "EvaluationPeriods")?.ok_or_else(|| required("evaluationPeriods"))?;
        if eval < 1 {
            return Err(constraint("evaluationPeriods", &eval.to_string(), "Member must have value greater than or equal to 1"));
        }
        if let Some(dp) = opt_int(input, "DatapointsToAlarm")? {
            if dp < 1 {
                return Err(constraint("datapointsToAlarm", &dp.to_string(), "Member must have value greater than or equal to 1"));
            }
            if dp > eval {
                return Err(validation("DatapointsToAlarm must be less than or equal to EvaluationPeriods."));
            }
        }
        if let Some(t) = opt_str(input, "TreatMissingData")? {
            one_of("treatMissingData", t, TREAT_MISSING)?;
        }
        if let Some(u) = opt_str(input, "Unit")? {
            one_of("unit", u, UNITS)?;
        }
        let threshold = opt_f64(input, "Threshold")?;
        let threshold_metric = opt_str(input, "ThresholdMetricId")?;
        if BAND_OPERATORS.contains(&op) {
            if threshold_metric.is_none() {
                return Err(validation(format!(
                    "ComparisonOperator {op} is only valid with ThresholdMetricId (an anomaly detection band)."
                )));
            }
            if threshold.is_some() {
                return Err(combination("Threshold must not be set for an anomaly detection alarm (ThresholdMetricId)."));
            }
        } else if threshold_metric.is_some() {
            return Err(validation(format!(
                "ThresholdMetricId is only valid with the comparison operators {}.",
                BAND_OPERATORS.join(", ")
            )));
        } else if threshold.is_none() {
            return Err(validation("Threshold is required for a static threshold alarm."));
        }

        let metrics = list(input, "Metrics")?;
        let statistic = opt_str(input, "Statistic")?;
        let extended = opt_str(input, "ExtendedStatistic")?;
        let period = opt_int(input, "Period")?;
        let mut dims = Vec::new();
        if !metrics.is_empty() {
            for m in ["MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Period", "Dimensions", "Unit"] {
                if input.get(m).is_some_and(|v| !v.is_null() && v != &Value::Array(vec![])) {
                    return Err(combination(format!("{m} must not be specified together with Metrics.")));
                }
            }
            let mut ids = Vec::new();
            let mut returning = 0;
            for q in metrics {
                let id = query_id(q, "metrics")?;
                if ids.contains(&id) {
                    return Err(validation(format!("The value {id} for Metrics.Id is not unique.")));
                }
                ids.push(id);
                if q.get("ReturnData").and_then(Value::as_bool).unwrap_or(true) {
                    returning += 1;
                }
                match (q.get("MetricStat"), q.get("Expression")) {
                    (Some(ms), None) => {
                        metric_stat(ms, true)?;
                    }
                    (None, Some(_)) => {}
                    _ => return Err(combination("Exactly one of MetricStat and Expression must be specified in each element of Metrics.")),
                }
            }
            if threshold_metric.is_none() && returning != 1 {
                return Err(validation("Exactly one element of the metrics list should return data."));
            }
        } else {
            let metric =
                opt_str(input, "MetricName")?.ok_or_else(|| combination("Exactly one of MetricName and Metrics must be specified."))?;
            length("metricName", metric, 1, 255)?;
            let ns = opt_str(input, "Namespace")?.ok_or_else(|| required("namespace"))?;
            namespace_ok(ns)?;
            match (statistic, extended) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err(combination("Exactly one of Statistic and ExtendedStatistic must be specified."))
                }
                (Some(s), None) => one_of("statistic", s, STATISTICS)?,
                (None, Some(e)) => {
                    if percentile(e).is_none() {
                        return Err(invalid_value(format!("The value {e} for parameter ExtendedStatistic is not supported.")));
                    }
                }
            }
            let period = period.ok_or_else(|| required("period"))?;
            if period < 1 {
                return Err(constraint("period", &period.to_string(), "Member must have value greater than or equal to 1"));
            }
            if !valid_period(period, true) {
                return Err(invalid_value("The parameter Period must be 10, 20, 30 or a multiple of 60."));
            }
            let total = period.saturating_mul(eval);
            if total > 604_800 || (period < 3600 && total > 86_400) {
                return Err(validation(
                    "Period multiplied by EvaluationPeriods must be 86,400 seconds or less (604,800 for periods of an hour or more).",
                ));
            }
            dims = dimensions(input, "dimensions")?;
        }
        if let Some(e) = opt_str(input, "EvaluateLowSampleCountPercentile")? {
            one_of("evaluateLowSampleCountPercentile", e, &["evaluate", "ignore"])?;
            if extended.is_none() {
                return Err(combination("EvaluateLowSampleCountPercentile is only valid with ExtendedStatistic."));
            }
        }

        let arn = format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}");
        let r = self.region(account, region);
        let mut config = input.clone();
        if let Value::Object(o) = &mut config {
            o.remove("Tags");
        }
        match r.alarms.get_mut(name) {
            Some(a) => {
                a.config = config;
                a.dimensions = dims;
                a.config_updated = now;
            }
            None => {
                r.alarms.insert(
                    name.to_string(),
                    Alarm {
                        name: name.to_string(),
                        arn,
                        config,
                        dimensions: dims,
                        state: "INSUFFICIENT_DATA".into(),
                        reason: "Unchecked: Initial alarm creation".into(),
                        reason_data: None,
                        state_updated: now,
                        state_transitioned: now,
                        config_updated: now,
                    },
                );
            }
        }
        Ok(())
    }

    fn describe_alarms(&mut self, account: &str, region: &str, input: &Value) -> Result<Cbor, CwError> {
        let names = str_list(input, "AlarmNames")?;
        if names.len() > 100 {
            return Err(validation("1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100"));
        }
        let prefix = opt_str(input, "AlarmNamePrefix")?;
        if let Some(p) = prefix {
            length("alarmNamePrefix", p, 1, 255)?;
            if !names.is_empty() {
                return Err(combination("AlarmNames and AlarmNamePrefix are mutually exclusive."));
            }
        }
        let state = opt_str(input, "StateValue")?;
        if let Some(s) = state {
            one_of("stateValue", s, STATES)?;
        }
        let action_prefix = opt_str(input, "ActionPrefix")?;
        let types = str_list(input, "AlarmTypes")?;
        for t in &types {
            one_of("alarmTypes.member", t, &["CompositeAlarm", "MetricAlarm"])?;
        }
        let max = opt_int(input, "MaxRecords")?.unwrap_or(50);
        if !(1..=100).contains(&max) {
            return Err(constraint("maxRecords", &max.to_string(), "Member must have value between 1 and 100"));
        }
        let start = match opt_str(input, "NextToken")? {
            None => 0,
            Some(t) => t.parse::<usize>().map_err(|_| err(400, "InvalidNextToken", "The service returned an invalid NextToken."))?,
        };
        let want_metric = types.is_empty() || types.iter().any(|t| t == "MetricAlarm");
        let r = self.region(account, region);
        let matching: Vec<&Alarm> = r
            .alarms
            .values()
            .filter(|_| want_metric)
            .filter(|a| names.is_empty() || names.contains(&a.name))
            .filter(|a| prefix.is_none_or(|p| a.name.starts_with(p)))
            .filter(|a| state.is_none_or(|s| a.state == s))
            .filter(|a| {
                action_prefix.is_none_or(|p| {
                    ["OKActions", "AlarmActions", "InsufficientDataActions"]
                        .iter()
                        .any(|m| list(&a.config, m).unwrap_or(&[]).iter().any(|v| v.as_str().is_some_and(|s| s.starts_with(p))))
                })
            })
            .collect();
        if start > matching.len() {
            return Err(err(400, "InvalidNextToken", "The service returned an invalid NextToken."));
        }
        let end = (start + max as usize).min(matching.len());
        let page: Vec<Cbor> = matching[start..end].iter().map(|a| render_alarm(a)).collect();
        let mut out = vec![("MetricAlarms", Cbor::Array(page)), ("CompositeAlarms", Cbor::Array(vec![]))];
        if end < matching.len() {
            out.push(("NextToken", text(&end.to_string())));
        }
        Ok(map(out))
    }

    fn delete_alarms(&mut self, account: &str, region: &str, input: &Value) -> Result<(), CwError> {
        let names = str_list(input, "AlarmNames")?;
        if input.get("AlarmNames").is_none() {
            return Err(required("alarmNames"));
        }
        if names.len() > 100 {
            return Err(validation("1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100"));
        }
        let r = self.region(account, region);
        // "If you specify an incorrect alarm name ... no alarms are deleted."
        if let Some(unknown) = names.iter().find(|n| !r.alarms.contains_key(*n)) {
            return Err(not_found(format!("Alarm {unknown} does not exist; no alarms were deleted.")));
        }
        for n in &names {
            r.alarms.remove(n);
        }
        Ok(())
    }

    fn set_alarm_state(&mut self, account: &str, region: &str, input: &Value, now: f64) -> Result<(), CwError> {
        let name = opt_str(input, "AlarmName")?.ok_or_else(|| required("alarmName"))?;
        length("alarmName", name, 1, 255)?;
        let state = opt_str(input, "StateValue")?.ok_or_else(|| required("stateValue"))?;
        one_of("stateValue", state, STATES)?;
        let reason = opt_str(input, "StateReason")?.ok_or_else(|| required("stateReason"))?;
        length("stateReason", reason, 0, 1023)?;
        let data = opt_str(input, "StateReasonData")?;
        if let Some(d) = data {
            length("stateReasonData", d, 0, 4000)?;
            if serde_json::from_str::<Value>(d).is_err() {
                return Err(err(400, "InvalidFormat", "StateReasonData must be valid JSON."));
            }
        }
        let r = self.region(account, region);
        let a = r.alarms.get_mut(name).ok_or_else(|| not_found(format!("Alarm {name} not found")))?;
        if a.state != state {
            a.state_transitioned = now;
        }
        a.state = state.to_string();
        a.reason = reason.to_string();
        a.reason_data = data.map(str::to_string);
        a.state_updated = now;
        Ok(())
    }

    // ------------------------------------------------------------ metrics

    fn put_metric_data(&mut self, account: &str, region: &str, input: &Value, now: f64) -> Result<(), CwError> {
        let ns = opt_str(input, "Namespace")?.ok_or_else(|| missing("The parameter Namespace is required."))?;
        namespace_ok(ns)?;
        if ns.starts_with("AWS/") {
            return Err(invalid_value(format!(
                "The value {ns} for parameter Namespace is invalid: the AWS/ prefix is reserved for AWS services."
            )));
        }
        let data = list(input, "MetricData")?;
        if data.is_empty() && input.get("EntityMetricData").is_none() {
            return Err(missing("The parameter MetricData is required."));
        }
        if data.len() > 1000 {
            return Err(invalid_value("The collection MetricData must not have a size greater than 1000."));
        }
        let mut points = Vec::new();
        for (i, d) in data.iter().enumerate() {
            let n = i + 1;
            let metric =
                opt_str(d, "MetricName")?.ok_or_else(|| missing(format!("The parameter MetricData.member.{n}.MetricName is required.")))?;
            length(&format!("metricData.{n}.member.metricName"), metric, 1, 255)?;
            let dims = dimensions(d, &format!("metricData.{n}.member.dimensions"))?;
            let unit = opt_str(d, "Unit")?;
            if let Some(u) = unit {
                one_of(&format!("metricData.{n}.member.unit"), u, UNITS)?;
            }
            let value = opt_f64(d, "Value")?;
            let values: Vec<f64> = list(d, "Values")?.iter().map(|v| as_f64(v).unwrap_or(f64::NAN)).collect();
            let counts: Vec<f64> = list(d, "Counts")?.iter().map(|v| as_f64(v).unwrap_or(f64::NAN)).collect();
            let set = match d.get("StatisticValues") {
                None | Some(Value::Null) => None,
                Some(s) => {
                    let get = |m: &str| -> Result<f64, CwError> {
                        opt_f64(s, m)?
                            .ok_or_else(|| missing(format!("The parameter MetricData.member.{n}.StatisticValues.{m} is required.")))
                    };
                    let set = (get("SampleCount")?, get("Sum")?, get("Minimum")?, get("Maximum")?);
                    if set.0 <= 0.0 || set.2 > set.3 {
                        return Err(invalid_value(format!(
                            "The StatisticValues of MetricData.member.{n} are inconsistent (SampleCount > 0, Minimum <= Maximum)."
                        )));
                    }
                    Some(set)
                }
            };
            let given = [value.is_some(), !values.is_empty(), set.is_some()].iter().filter(|b| **b).count();
            if given > 1 {
                return Err(combination(format!("The parameters MetricData.member.{n}.Value, MetricData.member.{n}.Values and MetricData.member.{n}.StatisticValues are mutually exclusive.")));
            }
            if given == 0 {
                return Err(missing(format!("One of the parameters MetricData.member.{n}.Value, Values or StatisticValues is required.")));
            }
            if !counts.is_empty() && counts.len() != values.len() {
                return Err(invalid_value(format!(
                    "The parameters MetricData.member.{n}.Values and MetricData.member.{n}.Counts must be of the same size."
                )));
            }
            if values.len() > 150 {
                return Err(invalid_value(format!("The collection MetricData.member.{n}.Values must not have a size greater than 150.")));
            }
            let mut samples: Vec<(f64, f64)> = match value {
                Some(v) => vec![(v, 1.0)],
                None => values.iter().enumerate().map(|(i, v)| (*v, counts.get(i).copied().unwrap_or(1.0))).collect(),
            };
            let all = samples.iter().flat_map(|(v, c)| [*v, *c]).chain(set.iter().flat_map(|s| [s.0, s.1, s.2, s.3]));
            for x in all {
                if !x.is_finite() || x.abs() > 2f64.powi(360) || (x != 0.0 && x.abs() < 2f64.powi(-260)) {
                    return Err(invalid_value(format!(
                        "The value {x} for parameter MetricData.member.{n} is invalid (not a number, infinite, or out of range)."
                    )));
                }
            }
            samples.retain(|(_, c)| *c > 0.0);
            let timestamp = opt_f64(d, "Timestamp")?.unwrap_or(now);
            if timestamp < now - 14.0 * 86_400.0 || timestamp > now + 2.0 * 3600.0 {
                return Err(invalid_value(format!(
                    "The parameter MetricData.member.{n}.Timestamp must be at most two weeks in the past and two hours in the future."
                )));
            }
            points.push(Datapoint {
                namespace: ns.to_string(),
                metric: metric.to_string(),
                dimensions: dims,
                timestamp,
                unit: unit.map(str::to_string),
                samples,
                set,
            });
        }
        self.region(account, region).data.extend(points);
        Ok(())
    }

    fn get_metric_data(&mut self, account: &str, region: &str, input: &Value) -> Result<Cbor, CwError> {
        let queries = list(input, "MetricDataQueries")?;
        if input.get("MetricDataQueries").is_none() {
            return Err(required("metricDataQueries"));
        }
        if queries.len() > 500 {
            return Err(validation("1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must have length less than or equal to 500"));
        }
        let start = opt_f64(input, "StartTime")?.ok_or_else(|| required("startTime"))?;
        let end = opt_f64(input, "EndTime")?.ok_or_else(|| required("endTime"))?;
        if start >= end {
            return Err(validation("The parameter StartTime must be less than the parameter EndTime."));
        }
        let ascending = match opt_str(input, "ScanBy")? {
            None => false,
            Some(s) => {
                one_of("scanBy", s, &["TimestampDescending", "TimestampAscending"])?;
                s == "TimestampAscending"
            }
        };
        let mut ids = Vec::new();
        let mut parsed = Vec::new();
        for q in queries {
            let id = query_id(q, "metricDataQueries")?;
            if ids.contains(&id) {
                return Err(validation(format!("The value {id} for MetricDataQueries.Id is not unique.")));
            }
            ids.push(id.clone());
            let stat = match (q.get("MetricStat"), q.get("Expression")) {
                (Some(ms), None) => metric_stat(ms, false)?,
                (None, Some(_)) => {
                    return Err(validation(format!(
                        "MetricDataQuery {id}: metric math expressions are not evaluated by the tandem sandbox."
                    )))
                }
                _ => {
                    return Err(combination(format!("Exactly one of MetricStat and Expression must be specified in MetricDataQuery {id}.")))
                }
            };
            parsed.push((id, q, stat));
        }
        let r = self.region(account, region);
        let mut results = Vec::new();
        for (id, q, s) in parsed {
            if !q.get("ReturnData").and_then(Value::as_bool).unwrap_or(true) {
                continue;
            }
            let period = s.period as f64;
            // Buckets aligned to the period (from the epoch), each [t, t + period).
            let mut buckets: BTreeMap<i64, Vec<&Datapoint>> = BTreeMap::new();
            for p in &r.data {
                if p.namespace == s.namespace
                    && p.metric == s.metric
                    && p.dimensions == s.dimensions
                    && p.timestamp >= start
                    && p.timestamp < end
                    && s.unit.as_ref().is_none_or(|u| p.unit.as_deref().unwrap_or("None") == u)
                {
                    buckets.entry((p.timestamp / period).floor() as i64).or_default().push(p);
                }
            }
            let mut rows: Vec<(f64, f64)> =
                buckets.into_iter().filter_map(|(b, ps)| aggregate(&ps, &s.stat).map(|v| (b as f64 * period, v))).collect();
            if !ascending {
                rows.reverse();
            }
            let label = q.get("Label").and_then(Value::as_str).unwrap_or(&s.metric).to_string();
            results.push(map(vec![
                ("Id", text(&id)),
                ("Label", text(&label)),
                ("Timestamps", Cbor::Array(rows.iter().map(|(t, _)| ts(*t)).collect())),
                ("Values", Cbor::Array(rows.iter().map(|(_, v)| Cbor::Float(*v)).collect())),
                ("StatusCode", text("Complete")),
                ("Messages", Cbor::Array(vec![])),
            ]));
        }
        Ok(map(vec![("MetricDataResults", Cbor::Array(results)), ("Messages", Cbor::Array(vec![]))]))
    }

    // ------------------------------------------------------------ dashboards

    fn put_dashboard(&mut self, account: &str, input: &Value, now: f64) -> Result<Cbor, CwError> {
        let name = opt_str(input, "DashboardName")?.ok_or_else(|| required("dashboardName"))?;
        let body = opt_str(input, "DashboardBody")?.ok_or_else(|| required("dashboardBody"))?;
        if name.is_empty() || name.len() > 255 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(invalid_input(
                "The value for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).",
                vec![("/DashboardName", "Must be 1-255 characters of alphanumerics, dash (-) and underscore (_)")],
            ));
        }
        let messages = validate_dashboard_body(body);
        if !messages.is_empty() {
            let n = messages.len();
            return Err(invalid_input(&format!("The dashboard body is invalid, there are {n} validation errors"), messages));
        }
        self.dashboards.insert((account.to_string(), name.to_string()), Dashboard { body: body.to_string(), modified: now });
        Ok(map(vec![("DashboardValidationMessages", Cbor::Array(vec![]))]))
    }

    fn get_dashboard(&mut self, account: &str, input: &Value) -> Result<Cbor, CwError> {
        let name = opt_str(input, "DashboardName")?.ok_or_else(|| required("dashboardName"))?;
        let d = self
            .dashboards
            .get(&(account.to_string(), name.to_string()))
            .ok_or_else(|| not_found(format!("Dashboard {name} does not exist")))?;
        Ok(map(vec![
            ("DashboardArn", text(&dashboard_arn(account, name))),
            ("DashboardBody", text(&d.body)),
            ("DashboardName", text(name)),
        ]))
    }

    fn delete_dashboards(&mut self, account: &str, input: &Value) -> Result<Cbor, CwError> {
        if input.get("DashboardNames").is_none() {
            return Err(required("dashboardNames"));
        }
        let names = str_list(input, "DashboardNames")?;
        // All or nothing, as for DeleteAlarms.
        if let Some(unknown) = names.iter().find(|n| !self.dashboards.contains_key(&(account.to_string(), (*n).clone()))) {
            return Err(not_found(format!("Dashboard {unknown} does not exist")));
        }
        for n in &names {
            self.dashboards.remove(&(account.to_string(), n.clone()));
        }
        Ok(map(vec![]))
    }

    fn list_dashboards(&mut self, account: &str, input: &Value) -> Result<Cbor, CwError> {
        let prefix = opt_str(input, "DashboardNamePrefix")?.unwrap_or("");
        let entries: Vec<Cbor> = self
            .dashboards
            .iter()
            .filter(|((a, n), _)| a == account && n.starts_with(prefix))
            .map(|((_, n), d)| {
                map(vec![
                    ("DashboardName", text(n)),
                    ("DashboardArn", text(&dashboard_arn(account, n))),
                    ("LastModified", ts(d.modified)),
                    ("Size", int(d.body.len() as i64)),
                ])
            })
            .collect();
        Ok(map(vec![("DashboardEntries", Cbor::Array(entries))]))
    }
}

fn dashboard_arn(account: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch::{account}:dashboard/{name}")
}

fn invalid_input(message: &str, messages: Vec<(&str, &str)>) -> CwError {
    CwError {
        error: ApiError::new(400, "InvalidParameterInput", message),
        extra: vec![(
            "dashboardValidationMessages".to_string(),
            Cbor::Array(messages.into_iter().map(|(p, m)| map(vec![("DataPath", text(p)), ("Message", text(m))])).collect()),
        )],
    }
}

/// The dashboard body structure rules that tandem's dashboards touch: a JSON
/// object with a `widgets` array of objects, each with a `type` and
/// `properties` (except `type: text`, which needs `properties.markdown`).
fn validate_dashboard_body(body: &str) -> Vec<(&'static str, &'static str)> {
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => return vec![("/", "The dashboard body is not valid JSON")],
    };
    let Some(o) = v.as_object() else { return vec![("/", "Should be of type object")] };
    let Some(widgets) = o.get("widgets") else { return vec![("/", "Should have required property 'widgets'")] };
    let Some(widgets) = widgets.as_array() else { return vec![("/widgets", "Should be of type array")] };
    let mut out = Vec::new();
    for w in widgets {
        let Some(w) = w.as_object() else {
            out.push(("/widgets", "Each widget should be of type object"));
            continue;
        };
        match w.get("type").and_then(Value::as_str) {
            None => out.push(("/widgets", "Each widget should have required property 'type'")),
            Some("text") => {
                if w.get("properties").and_then(|p| p.get("markdown")).is_none() {
                    out.push(("/widgets", "A text widget should have required property 'properties.markdown'"));
                }
            }
            Some(_) => {
                if !w.get("properties").is_some_and(Value::is_object) {
                    out.push(("/widgets", "Each widget should have required property 'properties'"));
                }
            }
        }
    }
    out
}

fn namespace_ok(ns: &str) -> Result<(), CwError> {
    length("namespace", ns, 1, 255)?;
    if ns.starts_with(':') {
        return Err(constraint("namespace", ns, "Member must satisfy regular expression pattern: [^:].*"));
    }
    Ok(())
}

/// A query `Id`: starts with a lowercase letter, then letters, digits, `_`.
fn query_id(q: &Value, member: &str) -> Result<String, CwError> {
    let id = opt_str(q, "Id")?.ok_or_else(|| required(&format!("{member}.member.id")))?;
    length(&format!("{member}.member.id"), id, 1, 255)?;
    let mut chars = id.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(validation(format!("The value {id} for parameter Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.")));
    }
    Ok(id.to_string())
}

struct Stat {
    namespace: String,
    metric: String,
    dimensions: Vec<(String, String)>,
    period: i64,
    stat: String,
    unit: Option<String>,
}

fn metric_stat(ms: &Value, alarm: bool) -> Result<Stat, CwError> {
    let metric = ms.get("Metric").ok_or_else(|| required("metricStat.metric"))?;
    let name = opt_str(metric, "MetricName")?.ok_or_else(|| required("metricStat.metric.metricName"))?;
    let ns = opt_str(metric, "Namespace")?.ok_or_else(|| required("metricStat.metric.namespace"))?;
    namespace_ok(ns)?;
    let dims = dimensions(metric, "metricStat.metric.dimensions")?;
    let period = opt_int(ms, "Period")?.ok_or_else(|| required("metricStat.period"))?;
    if period < 1 || !valid_period(period, alarm) {
        return Err(invalid_value(format!(
            "The value {period} for parameter MetricStat.Period is invalid: it must be 1, 5, 10, 20, 30 or a multiple of 60."
        )));
    }
    let stat = opt_str(ms, "Stat")?.ok_or_else(|| required("metricStat.stat"))?;
    if !STATISTICS.contains(&stat) && percentile(stat).is_none() {
        return Err(invalid_value(format!(
            "The value {stat} for parameter MetricStat.Stat is not supported (Sum, Average, Maximum, Minimum, SampleCount, pNN)."
        )));
    }
    let unit = opt_str(ms, "Unit")?;
    if let Some(u) = unit {
        one_of("metricStat.unit", u, UNITS)?;
    }
    Ok(Stat { namespace: ns.into(), metric: name.into(), dimensions: dims, period, stat: stat.into(), unit: unit.map(str::to_string) })
}

/// One statistic over the datapoints of a period; `None` when it has no samples.
fn aggregate(points: &[&Datapoint], stat: &str) -> Option<f64> {
    let (mut count, mut sum, mut min, mut max) = (0.0f64, 0.0f64, f64::INFINITY, f64::NEG_INFINITY);
    let mut samples: Vec<(f64, f64)> = Vec::new();
    for p in points {
        if let Some((c, s, lo, hi)) = p.set {
            count += c;
            sum += s;
            min = min.min(lo);
            max = max.max(hi);
            // A statistic set gives no distribution: its mean stands in for percentiles.
            samples.push((s / c, c));
        }
        for (v, c) in &p.samples {
            count += c;
            sum += v * c;
            min = min.min(*v);
            max = max.max(*v);
            samples.push((*v, *c));
        }
    }
    if count <= 0.0 {
        return None;
    }
    Some(match stat {
        "Sum" => sum,
        "Average" => sum / count,
        "Maximum" => max,
        "Minimum" => min,
        "SampleCount" => count,
        other => {
            let p = percentile(other)?;
            samples.sort_by(|a, b| a.0.total_cmp(&b.0));
            // Nearest rank over the weighted samples.
            let rank = (p / 100.0 * count).ceil().max(1.0);
            let mut seen = 0.0;
            let mut out = samples.last()?.0;
            for (v, c) in &samples {
                seen += c;
                if seen >= rank {
                    out = *v;
                    break;
                }
            }
            out
        }
    })
}

fn render_alarm(a: &Alarm) -> Cbor {
    let c = &a.config;
    let mut m: Vec<(&str, Cbor)> = vec![
        ("AlarmName", text(&a.name)),
        ("AlarmArn", text(&a.arn)),
        ("AlarmConfigurationUpdatedTimestamp", ts(a.config_updated)),
        ("ActionsEnabled", Cbor::Bool(c.get("ActionsEnabled").and_then(Value::as_bool).unwrap_or(true))),
    ];
    if let Some(d) = c.get("AlarmDescription").and_then(Value::as_str) {
        m.push(("AlarmDescription", text(d)));
    }
    for k in ["OKActions", "AlarmActions", "InsufficientDataActions"] {
        m.push((k, json_to_cbor(c.get(k).unwrap_or(&Value::Array(vec![])))));
    }
    m.push(("StateValue", text(&a.state)));
    m.push(("StateReason", text(&a.reason)));
    if let Some(d) = &a.reason_data {
        m.push(("StateReasonData", text(d)));
    }
    m.push(("StateUpdatedTimestamp", ts(a.state_updated)));
    m.push(("StateTransitionedTimestamp", ts(a.state_transitioned)));
    for k in [
        "MetricName",
        "Namespace",
        "Statistic",
        "ExtendedStatistic",
        "Unit",
        "ComparisonOperator",
        "TreatMissingData",
        "EvaluateLowSampleCountPercentile",
        "ThresholdMetricId",
    ] {
        if let Some(v) = c.get(k).and_then(Value::as_str) {
            m.push((k, text(v)));
        }
    }
    if c.get("Metrics").is_none() {
        m.push(("Dimensions", dims_cbor(&a.dimensions)));
    }
    for k in ["Period", "EvaluationPeriods", "DatapointsToAlarm"] {
        if let Some(v) = c.get(k).and_then(Value::as_i64) {
            m.push((k, int(v)));
        }
    }
    if let Some(t) = c.get("Threshold").and_then(Value::as_f64) {
        m.push(("Threshold", Cbor::Float(t)));
    }
    if let Some(metrics) = c.get("Metrics") {
        m.push(("Metrics", json_to_cbor(metrics)));
    }
    map(m)
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
