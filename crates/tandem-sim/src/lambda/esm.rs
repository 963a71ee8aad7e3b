//! Kinesis event source mappings, served by the sandbox (moto would try to
//! run the function in Docker): Create / Get / List / Update /
//! DeleteEventSourceMapping, and a poller per mapping that reads the stream
//! from moto and invokes the function, as
//! https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html describes:
//! - records in order per shard, in batches of at most BatchSize, from
//!   StartingPosition (TRIM_HORIZON, LATEST, AT_TIMESTAMP);
//! - a failed batch is retried, the shard waiting meanwhile, until it
//!   succeeds or MaximumRetryAttempts / MaximumRecordAgeInSeconds run out
//!   (then it is skipped); with BisectBatchOnFunctionError a failed batch is
//!   split in two, which does not count against the retries;
//! - the checkpoint moves past a batch once it succeeded or was skipped.
//!
//! API: https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;
use serde_json::{json, Value};

use super::{function_name, now_ms, upstream_headers, InvocationType, Lambda};
use crate::error::ApiError;

#[derive(Debug, Clone)]
pub struct Mapping {
    pub uuid: String,
    pub region: String,
    pub function_arn: String,
    pub event_source_arn: String,
    pub batch_size: i64,
    pub window_s: i64,
    pub starting_position: String,
    pub starting_position_timestamp: Option<f64>,
    pub enabled: bool,
    pub max_retry: i64,
    pub max_age_s: i64,
    pub bisect: bool,
    pub parallelization: i64,
    pub state: &'static str,
    pub last_result: String,
    pub last_modified: f64,
    /// Shard id -> the iterator to read next.
    pub iterators: BTreeMap<String, String>,
    pub delivered: u64,
    pub failed_invocations: u64,
}

fn invalid(m: impl Into<String>) -> ApiError {
    ApiError::new(400, "InvalidParameterValueException", m)
}

fn int(body: &Value, k: &str, default: i64, lo: i64, hi: i64, extra_ok: Option<i64>) -> Result<i64, ApiError> {
    match body.get(k) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => {
            let n = v.as_i64().ok_or_else(|| invalid(format!("{k} must be an integer")))?;
            if (lo..=hi).contains(&n) || extra_ok == Some(n) {
                Ok(n)
            } else {
                Err(invalid(format!("{k} {n} is outside {lo}..{hi}")))
            }
        }
    }
}

impl Mapping {
    pub fn describe(&self) -> Value {
        let mut v = json!({
            "UUID": self.uuid,
            "EventSourceMappingArn": format!("arn:aws:lambda:{}:{}:event-source-mapping:{}", self.region, super::ACCOUNT, self.uuid),
            "FunctionArn": self.function_arn,
            "EventSourceArn": self.event_source_arn,
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.window_s,
            "StartingPosition": self.starting_position,
            "ParallelizationFactor": self.parallelization,
            "MaximumRetryAttempts": self.max_retry,
            "MaximumRecordAgeInSeconds": self.max_age_s,
            "BisectBatchOnFunctionError": self.bisect,
            "State": self.state,
            "StateTransitionReason": "User action",
            "LastProcessingResult": self.last_result,
            "LastModified": self.last_modified,
            "FunctionResponseTypes": [],
        });
        if let Some(t) = self.starting_position_timestamp {
            v["StartingPositionTimestamp"] = json!(t);
        }
        v
    }
}

impl Lambda {
    async fn kinesis(&self, region: &str, op: &str, body: Value) -> Result<Value, String> {
        let up = self.upstream.as_ref().ok_or("no upstream")?;
        let f = up
            .forward(
                Method::POST,
                "/",
                &upstream_headers("kinesis", region, Some(&format!("Kinesis_20131202.{op}")), "1.1"),
                Bytes::from(body.to_string()),
            )
            .await
            .map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_slice(&f.body).unwrap_or(Value::Null);
        if !f.status.is_success() {
            return Err(format!("{op}: {}", v.get("message").or_else(|| v.get("Message")).and_then(Value::as_str).unwrap_or("failed")));
        }
        Ok(v)
    }

    /// Iterators at the mapping's starting position, one per shard.
    async fn start_iterators(&self, m: &Mapping) -> Result<BTreeMap<String, String>, String> {
        let stream = m.event_source_arn.rsplit('/').next().unwrap_or_default();
        let shards = self.kinesis(&m.region, "ListShards", json!({ "StreamName": stream })).await?;
        let mut out = BTreeMap::new();
        for s in shards["Shards"].as_array().into_iter().flatten() {
            let id = s["ShardId"].as_str().unwrap_or_default().to_string();
            let mut req = json!({ "StreamName": stream, "ShardId": id, "ShardIteratorType": m.starting_position });
            if let Some(t) = m.starting_position_timestamp {
                req["Timestamp"] = json!(t);
            }
            let it = self.kinesis(&m.region, "GetShardIterator", req).await?;
            if let Some(i) = it["ShardIterator"].as_str() {
                out.insert(id, i.to_string());
            }
        }
        Ok(out)
    }

    /// CreateEventSourceMapping (Kinesis streams).
    pub async fn create_mapping(self: &Arc<Self>, region: &str, body: &Value) -> Result<Value, ApiError> {
        let fname = body.get("FunctionName").and_then(Value::as_str).ok_or_else(|| invalid("FunctionName is required"))?;
        let source = body.get("EventSourceArn").and_then(Value::as_str).ok_or_else(|| invalid("EventSourceArn is required"))?;
        if !source.starts_with("arn:aws:kinesis:") || !source.contains(":stream/") {
            return Err(invalid(format!("the sandbox serves Kinesis event sources; {source} is not a Kinesis stream ARN")));
        }
        let cfg = self.config(region, function_name(fname)).await?;
        let stream = source.rsplit('/').next().unwrap_or_default();
        self.kinesis(region, "DescribeStreamSummary", json!({ "StreamName": stream }))
            .await
            .map_err(|_| invalid(format!("Stream not found: {source}")))?;
        let starting = body
            .get("StartingPosition")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("StartingPosition is required for a Kinesis event source"))?;
        if !["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"].contains(&starting) {
            return Err(invalid(format!("StartingPosition {starting} is not TRIM_HORIZON, LATEST or AT_TIMESTAMP")));
        }
        let ts = body.get("StartingPositionTimestamp").and_then(Value::as_f64);
        if starting == "AT_TIMESTAMP" && ts.is_none() {
            return Err(invalid("StartingPositionTimestamp is required with AT_TIMESTAMP"));
        }
        let exists = self
            .mappings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .any(|m| m.function_arn == cfg.arn && m.event_source_arn == source);
        if exists {
            return Err(ApiError::new(
                409,
                "ResourceConflictException",
                format!("An event source mapping with event source ({source}) and function ({}) already exists", cfg.name),
            ));
        }
        let mut m = Mapping {
            uuid: uuid::Uuid::new_v4().to_string(),
            region: region.to_string(),
            function_arn: cfg.arn.clone(),
            event_source_arn: source.to_string(),
            batch_size: int(body, "BatchSize", 100, 1, 10_000, None)?,
            window_s: int(body, "MaximumBatchingWindowInSeconds", 0, 0, 300, None)?,
            starting_position: starting.to_string(),
            starting_position_timestamp: ts,
            enabled: body.get("Enabled").and_then(Value::as_bool).unwrap_or(true),
            max_retry: int(body, "MaximumRetryAttempts", -1, 0, 10_000, Some(-1))?,
            max_age_s: int(body, "MaximumRecordAgeInSeconds", -1, 60, 604_800, Some(-1))?,
            bisect: body.get("BisectBatchOnFunctionError").and_then(Value::as_bool).unwrap_or(false),
            parallelization: int(body, "ParallelizationFactor", 1, 1, 10, None)?,
            state: "Creating",
            last_result: "No records processed".into(),
            last_modified: now_ms() as f64 / 1000.0,
            iterators: BTreeMap::new(),
            delivered: 0,
            failed_invocations: 0,
        };
        // LATEST means what is put after the mapping is made: take the iterators now.
        m.iterators = self.start_iterators(&m).await.map_err(|e| ApiError::new(500, "ServiceException", e))?;
        let answer = m.describe();
        let uuid = m.uuid.clone();
        self.mappings.lock().unwrap_or_else(|e| e.into_inner()).insert(uuid.clone(), m);
        tokio::spawn(poll(self.clone(), uuid));
        Ok(answer)
    }

    pub fn get_mapping(&self, uuid: &str) -> Result<Value, ApiError> {
        let maps = self.mappings.lock().unwrap_or_else(|e| e.into_inner());
        maps.get(uuid).map(Mapping::describe).ok_or_else(|| {
            ApiError::not_found(format!(
                "The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: {uuid})"
            ))
        })
    }

    pub fn list_mappings(&self, region: &str, source: Option<&str>, function: Option<&str>) -> Value {
        let maps = self.mappings.lock().unwrap_or_else(|e| e.into_inner());
        let list: Vec<Value> = maps
            .values()
            .filter(|m| m.region == region)
            .filter(|m| source.is_none_or(|s| m.event_source_arn == s))
            .filter(|m| function.is_none_or(|f| function_name(&m.function_arn) == function_name(f)))
            .map(Mapping::describe)
            .collect();
        json!({ "EventSourceMappings": list })
    }

    /// UpdateEventSourceMapping: what the API lets change in place.
    pub fn update_mapping(&self, uuid: &str, body: &Value) -> Result<Value, ApiError> {
        let mut maps = self.mappings.lock().unwrap_or_else(|e| e.into_inner());
        let m = maps.get_mut(uuid).ok_or_else(|| ApiError::not_found(format!("The resource you requested does not exist: {uuid}")))?;
        m.batch_size = int(body, "BatchSize", m.batch_size, 1, 10_000, None)?;
        m.window_s = int(body, "MaximumBatchingWindowInSeconds", m.window_s, 0, 300, None)?;
        m.max_retry = int(body, "MaximumRetryAttempts", m.max_retry, 0, 10_000, Some(-1))?;
        m.max_age_s = int(body, "MaximumRecordAgeInSeconds", m.max_age_s, 60, 604_800, Some(-1))?;
        m.parallelization = int(body, "ParallelizationFactor", m.parallelization, 1, 10, None)?;
        if let Some(b) = body.get("BisectBatchOnFunctionError").and_then(Value::as_bool) {
            m.bisect = b;
        }
        if let Some(e) = body.get("Enabled").and_then(Value::as_bool) {
            m.enabled = e;
        }
        m.state = "Updating";
        m.last_modified = now_ms() as f64 / 1000.0;
        Ok(m.describe())
    }

    pub fn delete_mapping(&self, uuid: &str) -> Result<Value, ApiError> {
        let mut maps = self.mappings.lock().unwrap_or_else(|e| e.into_inner());
        let mut m = maps.remove(uuid).ok_or_else(|| ApiError::not_found(format!("The resource you requested does not exist: {uuid}")))?;
        m.state = "Deleting";
        Ok(m.describe())
    }

    fn settle_state(&self, uuid: &str) -> Option<Mapping> {
        let mut maps = self.mappings.lock().unwrap_or_else(|e| e.into_inner());
        let m = maps.get_mut(uuid)?;
        m.state = if m.enabled { "Enabled" } else { "Disabled" };
        Some(m.clone())
    }
}

/// The Kinesis event Lambda gives the function.
fn event(m: &Mapping, shard: &str, records: &[Value]) -> Value {
    let recs: Vec<Value> = records
        .iter()
        .map(|r| {
            let seq = r["SequenceNumber"].as_str().unwrap_or_default();
            json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r["PartitionKey"],
                    "sequenceNumber": seq,
                    "data": r["Data"],
                    "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"],
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("{shard}:{seq}"),
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": format!("arn:aws:iam::{}:role/lambda-execution", super::ACCOUNT),
                "awsRegion": m.region,
                "eventSourceARN": m.event_source_arn,
            })
        })
        .collect();
    json!({ "Records": recs })
}

/// Delivers `records` (one shard, in order); false when they were skipped.
async fn deliver(lambda: &Arc<Lambda>, uuid: &str, shard: &str, records: &[Value]) -> bool {
    let mut attempts: i64 = 0;
    let first_arrival = records.first().and_then(|r| r["ApproximateArrivalTimestamp"].as_f64()).unwrap_or(now_ms() as f64 / 1000.0);
    loop {
        let Some(m) = lambda.mappings.lock().unwrap_or_else(|e| e.into_inner()).get(uuid).cloned() else { return false };
        let payload = Bytes::from(event(&m, shard, records).to_string());
        let ok = match lambda
            .invoke(&m.region, &m.function_arn, payload, InvocationType::RequestResponse, false, &format!("kinesis:{uuid}"))
            .await
        {
            Ok(a) => !a.function_error,
            Err(_) => false,
        };
        let (bisect, max_retry, max_age) = {
            let mut maps = lambda.mappings.lock().unwrap_or_else(|e| e.into_inner());
            let Some(mm) = maps.get_mut(uuid) else { return false };
            if ok {
                mm.last_result = "OK".into();
                mm.delivered += records.len() as u64;
                return true;
            }
            mm.last_result = "PROBLEM: Function call failed".into();
            mm.failed_invocations += 1;
            (mm.bisect, mm.max_retry, mm.max_age_s)
        };
        if bisect && records.len() > 1 {
            let (a, b) = records.split_at(records.len() / 2);
            let ra = Box::pin(deliver(lambda, uuid, shard, a)).await;
            let rb = Box::pin(deliver(lambda, uuid, shard, b)).await;
            return ra && rb;
        }
        attempts += 1;
        let too_old = max_age >= 0 && (now_ms() as f64 / 1000.0 - first_arrival) > max_age as f64;
        if (max_retry >= 0 && attempts > max_retry) || too_old {
            return false;
        }
        tokio::time::sleep(Duration::from_millis((100 * attempts.min(10)) as u64)).await;
    }
}

/// Reads the mapping's shards and delivers until the mapping is deleted.
async fn poll(lambda: Arc<Lambda>, uuid: String) {
    loop {
        // About once a second on AWS; faster here.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let Some(m) = lambda.settle_state(&uuid) else { return };
        if !m.enabled {
            continue;
        }
        let started = Instant::now();
        for (shard, iterator) in &m.iterators {
            let limit = m.batch_size.min(10_000);
            let Ok(got) = lambda.kinesis(&m.region, "GetRecords", json!({ "ShardIterator": iterator, "Limit": limit })).await else {
                continue;
            };
            let records: Vec<Value> = got["Records"].as_array().cloned().unwrap_or_default();
            if !records.is_empty() {
                deliver(&lambda, &uuid, shard, &records).await;
            }
            if let Some(next) = got["NextShardIterator"].as_str() {
                if let Some(mm) = lambda.mappings.lock().unwrap_or_else(|e| e.into_inner()).get_mut(&uuid) {
                    mm.iterators.insert(shard.clone(), next.to_string());
                }
            }
        }
        tracing::trace!(%uuid, ms = started.elapsed().as_millis() as u64, "polled");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_checked() {
        let b = json!({ "BatchSize": 0, "MaximumRetryAttempts": -1 });
        assert!(int(&b, "BatchSize", 100, 1, 10_000, None).is_err());
        assert_eq!(int(&b, "MaximumRetryAttempts", 5, 0, 10_000, Some(-1)).unwrap(), -1);
        assert_eq!(int(&b, "ParallelizationFactor", 1, 1, 10, None).unwrap(), 1);
    }

    #[test]
    fn kinesis_events_carry_shard_and_sequence() {
        let m = Mapping {
            uuid: "u".into(),
            region: "us-east-1".into(),
            function_arn: "arn:aws:lambda:us-east-1:1:function:f".into(),
            event_source_arn: "arn:aws:kinesis:us-east-1:1:stream/s".into(),
            batch_size: 100,
            window_s: 0,
            starting_position: "TRIM_HORIZON".into(),
            starting_position_timestamp: None,
            enabled: true,
            max_retry: -1,
            max_age_s: -1,
            bisect: false,
            parallelization: 1,
            state: "Enabled",
            last_result: String::new(),
            last_modified: 0.0,
            iterators: BTreeMap::new(),
            delivered: 0,
            failed_invocations: 0,
        };
        let e = event(
            &m,
            "shardId-000000000000",
            &[json!({ "SequenceNumber": "42", "PartitionKey": "k", "Data": "aGk=", "ApproximateArrivalTimestamp": 1.5 })],
        );
        assert_eq!(e["Records"][0]["eventID"], "shardId-000000000000:42");
        assert_eq!(e["Records"][0]["kinesis"]["data"], "aGk=");
        assert_eq!(e["Records"][0]["eventSourceARN"], "arn:aws:kinesis:us-east-1:1:stream/s");
    }
}
