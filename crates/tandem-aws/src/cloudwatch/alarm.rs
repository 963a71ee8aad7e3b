//! `aws.cloudwatch.alarm`: a metric alarm (PutMetricAlarm / DescribeAlarms /
//! DeleteAlarms). PutMetricAlarm creates or replaces the whole alarm, so an
//! update is the same call with every property.
//! https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html

use crate::{classify, AwsContext};
use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{prop_i64, prop_str, Ctx, ErrorClass, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result};
use tandem_schema::{Check, Field, OutputDef, Type};

const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
const OPERATORS: &[&str] = &["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"];
const MISSING: &[&str] = &["breaching", "notBreaching", "ignore", "missing"];

pub struct Alarm {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

impl Alarm {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.cloudwatch.alarm",
            doc: "A CloudWatch metric alarm (for example on a Connect instance's ToInstancePacketLossRate, ThrottledCalls or MissedCalls); the failover controller reads its state as region health.",
            api_reference: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
            regional: true,
            properties: vec![
                Field::new("alarm_name", Type::String).required().force_new().check(Check::Length(1, 255)).doc("AlarmName; defaults to the resource key."),
                Field::new("alarm_description", Type::String).check(Check::Length(0, 1024)).doc("AlarmDescription."),
                Field::new("namespace", Type::String).required().doc("Namespace, e.g. AWS/Connect."),
                Field::new("metric_name", Type::String).required().doc("MetricName, e.g. ToInstancePacketLossRate."),
                Field::new(
                    "dimensions",
                    Type::list(Type::Object(vec![Field::new("name", Type::String).required(), Field::new("value", Type::String).required()])),
                )
                .unordered()
                .doc("Dimensions, e.g. InstanceId, MetricGroup."),
                Field::new("statistic", Type::enumeration(STATISTICS)).required().doc("Statistic."),
                Field::new("period", Type::Integer).required().check(Check::Range(10, 86400)).doc("Period in seconds: 10, 30 or a multiple of 60."),
                Field::new("evaluation_periods", Type::Integer).required().check(Check::Range(1, 100000)).doc("EvaluationPeriods."),
                Field::new("datapoints_to_alarm", Type::Integer).computed().check(Check::Range(1, 100000)).doc("DatapointsToAlarm (at most evaluation_periods)."),
                Field::new("threshold", Type::Number).required().doc("Threshold."),
                Field::new("comparison_operator", Type::enumeration(OPERATORS)).required().doc("ComparisonOperator."),
                Field::new("treat_missing_data", Type::enumeration(MISSING)).computed().doc("TreatMissingData."),
                Field::new("actions_enabled", Type::Boolean).computed().doc("ActionsEnabled."),
                Field::new("alarm_actions", Type::list(Type::String)).unordered().doc("AlarmActions: ARNs notified on ALARM."),
            ],
            outputs: vec![OutputDef::new("arn", "The alarm ARN."), OutputDef::new("name", "The alarm name.")],
            name_field: Some("alarm_name"),
            import_id: "the alarm name",
        };
        Alarm { aws, schema }
    }

    async fn put(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<String> {
        let client = self.aws.cloudwatch(ctx.region()?).await;
        let name = prop_str(props, "alarm_name").unwrap_or(&ctx.name).to_string();
        let int = |k: &str| prop_i64(props, k).and_then(|v| i32::try_from(v).ok());
        let mut req = client
            .put_metric_alarm()
            .alarm_name(&name)
            .set_alarm_description(prop_str(props, "alarm_description").map(str::to_string))
            .set_namespace(prop_str(props, "namespace").map(str::to_string))
            .set_metric_name(prop_str(props, "metric_name").map(str::to_string))
            .set_statistic(prop_str(props, "statistic").map(Statistic::from))
            .set_period(int("period"))
            .set_evaluation_periods(int("evaluation_periods"))
            .set_datapoints_to_alarm(int("datapoints_to_alarm"))
            .set_threshold(props.get("threshold").and_then(Value::as_f64))
            .set_comparison_operator(prop_str(props, "comparison_operator").map(ComparisonOperator::from))
            .set_treat_missing_data(prop_str(props, "treat_missing_data").map(str::to_string))
            .set_actions_enabled(props.get("actions_enabled").and_then(Value::as_bool));
        for d in props.get("dimensions").and_then(Value::as_array).into_iter().flatten() {
            req = req.dimensions(
                Dimension::builder()
                    .name(d.get("name").and_then(Value::as_str).unwrap_or_default())
                    .value(d.get("value").and_then(Value::as_str).unwrap_or_default())
                    .build(),
            );
        }
        for a in props.get("alarm_actions").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            req = req.alarm_actions(a);
        }
        req.send().await.map_err(|e| classify("PutMetricAlarm", &name, e))?;
        Ok(name)
    }
}

#[async_trait]
impl ResourceKind for Alarm {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:DeleteAlarms",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
            "cloudwatch:ListTagsForResource",
        ]
    }

    // PutMetricAlarm: "DatapointsToAlarm ... must be less than or equal to EvaluationPeriods";
    // Period is 10, 30 or a multiple of 60.
    fn validate(&self, _region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        let mut out = Vec::new();
        if let (Some(d), Some(e)) = (prop_i64(props, "datapoints_to_alarm"), prop_i64(props, "evaluation_periods")) {
            if d > e {
                out.push(Invalid::new(
                    "datapoints_to_alarm",
                    format!("datapoints_to_alarm ({d}) must not exceed evaluation_periods ({e})"),
                ));
            }
        }
        if let Some(p) = prop_i64(props, "period") {
            if p != 10 && p != 30 && p % 60 != 0 {
                out.push(Invalid::new("period", format!("period must be 10, 30 or a multiple of 60 seconds, not {p}")));
            }
        }
        out
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let name = self.put(ctx, props).await?;
        self.read(ctx, &name)
            .await?
            .ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("alarm {name} is not visible after PutMetricAlarm")))
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let client = self.aws.cloudwatch(ctx.region()?).await;
        let out = client.describe_alarms().alarm_names(id).send().await.map_err(|e| classify("DescribeAlarms", id, e))?;
        let Some(a) = out.metric_alarms().iter().find(|a| a.alarm_name() == Some(id)) else { return Ok(None) };
        let mut p = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                p.insert(k.to_string(), v);
            }
        };
        put("alarm_name", a.alarm_name().map(|v| json!(v)));
        put("alarm_description", a.alarm_description().map(|v| json!(v)));
        put("namespace", a.namespace().map(|v| json!(v)));
        put("metric_name", a.metric_name().map(|v| json!(v)));
        put("statistic", a.statistic().map(|v| json!(v.as_str())));
        put("period", a.period().map(|v| json!(v)));
        put("evaluation_periods", a.evaluation_periods().map(|v| json!(v)));
        put("datapoints_to_alarm", a.datapoints_to_alarm().map(|v| json!(v)));
        put("threshold", a.threshold().map(|v| json!(v)));
        put("comparison_operator", a.comparison_operator().map(|v| json!(v.as_str())));
        put("treat_missing_data", a.treat_missing_data().map(|v| json!(v)));
        put("actions_enabled", a.actions_enabled().map(|v| json!(v)));
        put("dimensions", Some(Value::Array(a.dimensions().iter().map(|d| json!({"name": d.name(), "value": d.value()})).collect())));
        put("alarm_actions", Some(Value::Array(a.alarm_actions().iter().map(|s| json!(s)).collect())));
        let mut outputs = BTreeMap::new();
        outputs.insert("arn".into(), json!(a.alarm_arn().unwrap_or_default()));
        outputs.insert("name".into(), json!(id));
        Ok(Some(Observed { id: id.to_string(), properties: p, outputs }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        _changed: &[String],
    ) -> Result<Observed> {
        self.put(ctx, desired).await?;
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("alarm {id} is gone")))
    }

    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.cloudwatch(ctx.region()?).await;
        match client.delete_alarms().alarm_names(id).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = classify("DeleteAlarms", id, e);
                if e.class == ErrorClass::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}
