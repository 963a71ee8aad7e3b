//! `aws.lambda.event_source_mapping`: a Kinesis stream feeding a function
//! (CreateEventSourceMapping / GetEventSourceMapping /
//! ListEventSourceMappings / UpdateEventSourceMapping /
//! DeleteEventSourceMapping). States go Creating -> Enabled (or Disabled);
//! Updating and Deleting in between.
//! https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html
//! https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html

use crate::{classify, AwsContext};
use async_trait::async_trait;
use aws_sdk_lambda::types::EventSourcePosition;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{delete_and_wait, gone_is_none, 
    await_visible, prop_i64, prop_str, wait_until, Ctx, ErrorClass, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result,
    WaitOutcome, Waiter,
};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct EventSourceMapping {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

/// The fields UpdateEventSourceMapping changes in place.
const IN_PLACE: &[&str] = &[
    "batch_size",
    "maximum_batching_window_in_seconds",
    "maximum_retry_attempts",
    "maximum_record_age_in_seconds",
    "bisect_batch_on_function_error",
    "parallelization_factor",
    "enabled",
];

impl EventSourceMapping {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.lambda.event_source_mapping",
            doc: "A Kinesis stream feeding a Lambda function: batches of records, in order per shard, from the starting position; a failing batch is retried (the shard waits) until it succeeds or the retry and age limits run out.",
            api_reference: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html",
            regional: true,
            properties: vec![
                Field::new("function_name", Type::String).required().force_new().refers_to(&["aws.lambda.function"]).doc("FunctionName: the function's name (`${fn.id}`), in this region."),
                Field::new("event_source_arn", Type::String).required().force_new().refers_to(&["aws.kinesis.stream"]).doc("EventSourceArn: the Kinesis stream's ARN, in this region."),
                Field::new("starting_position", Type::enumeration(&["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"])).required().force_new().doc("StartingPosition: where a new mapping starts reading."),
                Field::new("batch_size", Type::Integer).computed().check(Check::Range(1, 10_000)).doc("BatchSize: records per invocation at most (default 100)."),
                Field::new("maximum_batching_window_in_seconds", Type::Integer).computed().check(Check::Range(0, 300)).doc("MaximumBatchingWindowInSeconds (default 0)."),
                Field::new("maximum_retry_attempts", Type::Integer).computed().check(Check::Range(-1, 10_000)).doc("MaximumRetryAttempts: -1 (default) retries until the records expire."),
                Field::new("maximum_record_age_in_seconds", Type::Integer).computed().check(Check::Range(-1, 604_800)).doc("MaximumRecordAgeInSeconds: -1 (default) or 60-604800."),
                Field::new("bisect_batch_on_function_error", Type::Boolean).computed().doc("BisectBatchOnFunctionError: split a failing batch in two (not counted as a retry)."),
                Field::new("parallelization_factor", Type::Integer).computed().check(Check::Range(1, 10)).doc("ParallelizationFactor (default 1): batches per shard at once."),
                Field::new("enabled", Type::Boolean).computed().doc("Enabled (default true)."),
            ],
            outputs: vec![OutputDef::new("id", "The mapping's UUID."), OutputDef::new("state", "Its State (Enabled, Disabled, ...).")],
            name_field: None,
            import_id: "the mapping's UUID",
        };
        EventSourceMapping { aws, schema }
    }

    async fn wait_settled(&self, ctx: &Ctx, c: &aws_sdk_lambda::Client, uuid: &str) -> Result<()> {
        wait_until(ctx, "event source mapping", Waiter::default(), || async {
            let Some(m) =
                gone_is_none(c.get_event_source_mapping().uuid(uuid).send().await.map_err(|e| classify("GetEventSourceMapping", uuid, e)))?
            else {
                return Ok(WaitOutcome::Pending("not visible yet".into()));
            };
            Ok(match m.state() {
                Some("Enabled" | "Disabled") => WaitOutcome::Ready(()),
                Some(s) => WaitOutcome::Pending(s.to_string()),
                None => WaitOutcome::Pending("no state yet".into()),
            })
        })
        .await
    }
}

#[async_trait]
impl ResourceKind for EventSourceMapping {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "lambda:CreateEventSourceMapping",
            "lambda:GetEventSourceMapping",
            "lambda:ListEventSourceMappings",
            "lambda:UpdateEventSourceMapping",
            "lambda:DeleteEventSourceMapping",
        ]
    }

    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        if prop_str(props, "function_name").is_some_and(|f| f.starts_with("arn:")) {
            out.push(Invalid::new("function_name", "give the function's name (`${fn.id}`), which is what reads back"));
        }
        if prop_i64(props, "maximum_record_age_in_seconds").is_some_and(|a| a != -1 && a < 60) {
            out.push(Invalid::new("maximum_record_age_in_seconds", "-1 (no limit) or 60 to 604800 seconds"));
        }
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let c = self.aws.lambda(ctx.region()?).await;
        let function = prop_str(props, "function_name").ok_or_else(|| ProviderError::invalid("function_name is required"))?;
        let source = prop_str(props, "event_source_arn").ok_or_else(|| ProviderError::invalid("event_source_arn is required"))?;
        // One mapping per function and stream: one that exists is a crashed run's (no client token here).
        let existing = c
            .list_event_source_mappings()
            .function_name(function)
            .event_source_arn(source)
            .send()
            .await
            .map_err(|e| classify("ListEventSourceMappings", function, e))?;
        let uuid = match existing.event_source_mappings().first().and_then(|m| m.uuid()) {
            Some(u) => {
                ctx.report(format!("a mapping of {source} to {function} exists already (an earlier interrupted run?); adopting {u}"));
                u.to_string()
            }
            None => {
                let out = c
                    .create_event_source_mapping()
                    .function_name(function)
                    .event_source_arn(source)
                    .starting_position(EventSourcePosition::from(prop_str(props, "starting_position").unwrap_or("LATEST")))
                    .set_batch_size(prop_i64(props, "batch_size").map(|n| n as i32))
                    .set_maximum_batching_window_in_seconds(prop_i64(props, "maximum_batching_window_in_seconds").map(|n| n as i32))
                    .set_maximum_retry_attempts(prop_i64(props, "maximum_retry_attempts").map(|n| n as i32))
                    .set_maximum_record_age_in_seconds(prop_i64(props, "maximum_record_age_in_seconds").map(|n| n as i32))
                    .set_bisect_batch_on_function_error(props.get("bisect_batch_on_function_error").and_then(Value::as_bool))
                    .set_parallelization_factor(prop_i64(props, "parallelization_factor").map(|n| n as i32))
                    .set_enabled(props.get("enabled").and_then(Value::as_bool))
                    .send()
                    .await
                    .map_err(|e| classify("CreateEventSourceMapping", &format!("{source} -> {function}"), e))?;
                out.uuid()
                    .map(str::to_string)
                    .ok_or_else(|| ProviderError::new(ErrorClass::Other, "CreateEventSourceMapping answered without a UUID"))?
            }
        };
        let partial = Observed { id: uuid.clone(), ..Default::default() };
        await_visible(ctx, "event source mapping", ctx.consistency, || async {
            gone_is_none(c.get_event_source_mapping().uuid(&uuid).send().await.map_err(|e| classify("GetEventSourceMapping", &uuid, e)))
        })
        .await
        .map_err(|e| e.with_partial(partial.clone()))?;
        self.wait_settled(ctx, &c, &uuid).await.map_err(|e| e.with_partial(partial.clone()))?;
        self.read(ctx, &uuid).await?.ok_or_else(|| {
            ProviderError::new(ErrorClass::Other, format!("mapping {uuid} vanished right after creation")).with_partial(partial)
        })
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let c = self.aws.lambda(ctx.region()?).await;
        let Some(m) = gone_is_none(c.get_event_source_mapping().uuid(id).send().await.map_err(|e| classify("GetEventSourceMapping", id, e)))?
        else {
            return Ok(None);
        };
        if m.state() == Some("Deleting") {
            return Ok(None);
        }
        let mut p = Map::new();
        if let Some(f) = m.function_arn() {
            p.insert("function_name".into(), json!(f.split(':').nth(6).unwrap_or(f)));
        }
        if let Some(s) = m.event_source_arn() {
            p.insert("event_source_arn".into(), json!(s));
        }
        if let Some(s) = m.starting_position() {
            p.insert("starting_position".into(), json!(s.as_str()));
        }
        for (k, v) in [
            ("batch_size", m.batch_size()),
            ("maximum_batching_window_in_seconds", m.maximum_batching_window_in_seconds()),
            ("maximum_retry_attempts", m.maximum_retry_attempts()),
            ("maximum_record_age_in_seconds", m.maximum_record_age_in_seconds()),
            ("parallelization_factor", m.parallelization_factor()),
        ] {
            if let Some(v) = v {
                p.insert(k.into(), json!(v));
            }
        }
        if let Some(b) = m.bisect_batch_on_function_error() {
            p.insert("bisect_batch_on_function_error".into(), json!(b));
        }
        p.insert("enabled".into(), json!(m.state() != Some("Disabled") && m.state() != Some("Disabling")));
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(id));
        outputs.insert("state".into(), json!(m.state().unwrap_or_default()));
        Ok(Some(Observed { id: id.to_string(), properties: p, outputs }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        if let Some(f) = changed.iter().find(|f| !IN_PLACE.contains(&f.as_str())) {
            return Err(ProviderError::invalid(format!("{f} of mapping {id} cannot change in place")));
        }
        let c = self.aws.lambda(ctx.region()?).await;
        let has = |f: &str| changed.iter().any(|c| c == f);
        let int = |f: &str| if has(f) { prop_i64(desired, f).map(|n| n as i32) } else { None };
        c.update_event_source_mapping()
            .uuid(id)
            .set_batch_size(int("batch_size"))
            .set_maximum_batching_window_in_seconds(int("maximum_batching_window_in_seconds"))
            .set_maximum_retry_attempts(int("maximum_retry_attempts"))
            .set_maximum_record_age_in_seconds(int("maximum_record_age_in_seconds"))
            .set_parallelization_factor(int("parallelization_factor"))
            .set_bisect_batch_on_function_error(if has("bisect_batch_on_function_error") {
                desired.get("bisect_batch_on_function_error").and_then(Value::as_bool)
            } else {
                None
            })
            .set_enabled(if has("enabled") { Some(desired.get("enabled").and_then(Value::as_bool).unwrap_or(true)) } else { None })
            .send()
            .await
            .map_err(|e| classify("UpdateEventSourceMapping", id, e))?;
        self.wait_settled(ctx, &c, id).await?;
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("mapping {id} is gone")))
    }

    async fn delete(&self, ctx: &Ctx, id: &str, _prior: &Map<String, Value>) -> Result<()> {
        let c = self.aws.lambda(ctx.region()?).await;
        let delete = async { c.delete_event_source_mapping().uuid(id).send().await.map_err(|e| classify("DeleteEventSourceMapping", id, e)) };
        delete_and_wait(ctx, "event source mapping deletion", delete, || async {
            let m = c.get_event_source_mapping().uuid(id).send().await.map_err(|e| classify("GetEventSourceMapping", id, e))?;
            Ok(Some(m.state().unwrap_or("deleting").to_string()))
        })
        .await
    }
}
