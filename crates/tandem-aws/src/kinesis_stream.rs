//! `aws.kinesis.stream`: a Kinesis data stream (CreateStream /
//! DescribeStreamSummary / UpdateShardCount / UpdateStreamMode /
//! Increase|DecreaseStreamRetentionPeriod / Start|StopStreamEncryption /
//! AddTagsToStream / RemoveTagsFromStream / DeleteStream).
//! https://docs.aws.amazon.com/kinesis/latest/APIReference/API_CreateStream.html

use crate::{classify, tags, AwsContext};
use async_trait::async_trait;
use aws_sdk_kinesis::types::{EncryptionType, ScalingType, StreamMode, StreamModeDetails, StreamStatus};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{
    prop_i64, prop_str, wait_until, Ctx, ErrorClass, Found, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome, Waiter, only_in_place, gone_is_none, delete_and_wait,
};
use tandem_schema::{Check, Field, OutputDef, Type};

pub struct Stream {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

impl Stream {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.kinesis.stream",
            doc: "A Kinesis data stream (contact trace records, agent events).",
            api_reference: "https://docs.aws.amazon.com/kinesis/latest/APIReference/API_CreateStream.html",
            regional: true,
            properties: vec![
                Field::new("stream_name", Type::String)
                    .required()
                    .force_new()
                    .check(Check::Length(1, 128))
                    .doc("StreamName; defaults to the resource key."),
                Field::new("shard_count", Type::Integer)
                    .computed()
                    .check(Check::Range(1, 10000))
                    .doc("ShardCount, for PROVISIONED streams; changed with UpdateShardCount (uniform scaling)."),
                Field::new(
                    "stream_mode_details",
                    Type::Object(vec![Field::new("stream_mode", Type::enumeration(&["PROVISIONED", "ON_DEMAND"])).required()]),
                )
                .computed()
                .doc("StreamModeDetails.StreamMode; changed with UpdateStreamMode."),
                Field::new("retention_period_hours", Type::Integer)
                    .computed()
                    .check(Check::Range(24, 8760))
                    .doc("Retention, 24 to 8760 hours."),
                Field::new("encryption_type", Type::enumeration(&["NONE", "KMS"])).computed().doc("Server-side encryption."),
                Field::new("key_id", Type::String).doc("The KMS key for KMS encryption (alias/aws/kinesis for the AWS managed key)."),
                Field::new("tags", Type::map(Type::String)).doc("Tags."),
            ],
            outputs: vec![OutputDef::new("arn", "The stream ARN."), OutputDef::new("name", "The stream name.")],
            name_field: Some("stream_name"),
            import_id: "the stream name or ARN",
        };
        Stream { aws, schema }
    }

    async fn wait_active(&self, ctx: &Ctx, client: &aws_sdk_kinesis::Client, name: &str) -> Result<()> {
        wait_until(ctx, "stream", Waiter::default(), || async {
            let d =
                client.describe_stream_summary().stream_name(name).send().await.map_err(|e| classify("DescribeStreamSummary", name, e))?;
            Ok(match d.stream_description_summary().map(|s| s.stream_status()) {
                Some(StreamStatus::Active) => WaitOutcome::Ready(()),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Pending("not visible yet".into()),
            })
        })
        .await
    }

    async fn set_retention(&self, client: &aws_sdk_kinesis::Client, name: &str, from: i64, to: i64) -> Result<()> {
        let to32 = i32::try_from(to).map_err(|_| ProviderError::invalid("retention_period_hours is out of range"))?;
        if to > from {
            client
                .increase_stream_retention_period()
                .stream_name(name)
                .retention_period_hours(to32)
                .send()
                .await
                .map_err(|e| classify("IncreaseStreamRetentionPeriod", name, e))?;
        } else if to < from {
            client
                .decrease_stream_retention_period()
                .stream_name(name)
                .retention_period_hours(to32)
                .send()
                .await
                .map_err(|e| classify("DecreaseStreamRetentionPeriod", name, e))?;
        }
        Ok(())
    }

    /// Start, change or stop server-side encryption.
    /// StartStreamEncryption also changes the key of an encrypted stream; StopStreamEncryption
    /// needs the key the stream is encrypted with now.
    /// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_StartStreamEncryption.html
    /// https://docs.aws.amazon.com/kinesis/latest/APIReference/API_StopStreamEncryption.html
    async fn set_encryption(
        &self,
        client: &aws_sdk_kinesis::Client,
        name: &str,
        desired: &Map<String, Value>,
        current_type: Option<&str>,
        current_key: Option<&str>,
    ) -> Result<()> {
        let want = prop_str(desired, "encryption_type").unwrap_or("NONE");
        if want == "KMS" {
            let key = prop_str(desired, "key_id").unwrap_or(DEFAULT_KEY);
            if current_type == Some("KMS") && current_key == Some(key) {
                return Ok(());
            }
            client
                .start_stream_encryption()
                .stream_name(name)
                .encryption_type(EncryptionType::Kms)
                .key_id(key)
                .send()
                .await
                .map_err(|e| classify("StartStreamEncryption", name, e))?;
        } else if current_type == Some("KMS") {
            let key = current_key.unwrap_or(DEFAULT_KEY);
            client
                .stop_stream_encryption()
                .stream_name(name)
                .encryption_type(EncryptionType::Kms)
                .key_id(key)
                .send()
                .await
                .map_err(|e| classify("StopStreamEncryption", name, e))?;
        }
        Ok(())
    }

    async fn set_tags(
        &self,
        client: &aws_sdk_kinesis::Client,
        name: &str,
        current: &BTreeMap<String, String>,
        desired: &BTreeMap<String, String>,
    ) -> Result<()> {
        let (set, remove) = tags::delta(current, desired);
        if !set.is_empty() {
            client
                .add_tags_to_stream()
                .stream_name(name)
                .set_tags(Some(set.into_iter().collect()))
                .send()
                .await
                .map_err(|e| classify("AddTagsToStream", name, e))?;
        }
        if !remove.is_empty() {
            client
                .remove_tags_from_stream()
                .stream_name(name)
                .set_tag_keys(Some(remove))
                .send()
                .await
                .map_err(|e| classify("RemoveTagsFromStream", name, e))?;
        }
        Ok(())
    }
}

/// The AWS managed key for Kinesis, used when KMS encryption names no key.
const DEFAULT_KEY: &str = "alias/aws/kinesis";

fn mode(props: &Map<String, Value>) -> Option<&str> {
    props.get("stream_mode_details").and_then(|m| m.get("stream_mode")).and_then(Value::as_str)
}

/// The next shard count on the way from `current` to `target`: at most double,
/// at least half (rounded up) of `current`.
fn shard_step(current: i64, target: i64) -> i64 {
    if target > current {
        target.min(current.max(1) * 2)
    } else {
        target.max((current + 1) / 2)
    }
}

/// Accept a stream ARN where a name is expected (`arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`).
fn name_of(id: &str) -> &str {
    id.rsplit_once(":stream/").map(|(_, n)| n).unwrap_or(id)
}

#[async_trait]
impl ResourceKind for Stream {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "kinesis:CreateStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:DeleteStream",
            "kinesis:UpdateShardCount",
            "kinesis:UpdateStreamMode",
            "kinesis:IncreaseStreamRetentionPeriod",
            "kinesis:DecreaseStreamRetentionPeriod",
            "kinesis:StartStreamEncryption",
            "kinesis:StopStreamEncryption",
            "kinesis:AddTagsToStream",
            "kinesis:RemoveTagsFromStream",
            "kinesis:ListTagsForStream",
        ]
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let client = self.aws.kinesis(ctx.region()?).await;
        let name = prop_str(props, "stream_name").unwrap_or(&ctx.name).to_string();
        let mut req = client.create_stream().stream_name(&name);
        let on_demand = mode(props) == Some("ON_DEMAND");
        if let Some(m) = mode(props) {
            let details =
                StreamModeDetails::builder().stream_mode(StreamMode::from(m)).build().map_err(|e| ProviderError::invalid(e.to_string()))?;
            req = req.stream_mode_details(details);
        }
        // ShardCount is for PROVISIONED streams; ON_DEMAND streams scale themselves.
        if !on_demand {
            let shards = prop_i64(props, "shard_count").unwrap_or(1);
            req = req.shard_count(i32::try_from(shards).map_err(|_| ProviderError::invalid("shard_count is out of range"))?);
        }
        match req.send().await {
            Ok(_) => {}
            // Stream names are unique per account and region (CreateStream gives
            // ResourceInUseException for a taken name): a stream a crashed run
            // made is ours to finish. CreateStream is asynchronous: wait for ACTIVE.
            // https://docs.aws.amazon.com/kinesis/latest/APIReference/API_CreateStream.html
            Err(e) => {
                let e = classify("CreateStream", &name, e);
                if e.code.as_deref() != Some("ResourceInUseException") {
                    return Err(e);
                }
                ctx.report(format!("stream {name} exists already (an earlier interrupted run?); adopting it"));
            }
        }
        ctx.made(&name).await;
        let partial = Observed { id: name.clone(), ..Default::default() };
        self.wait_active(ctx, &client, &name).await.map_err(|e| e.with_partial(partial.clone()))?;
        let finish = async {
            if let Some(h) = prop_i64(props, "retention_period_hours") {
                self.set_retention(&client, &name, 24, h).await?;
                self.wait_active(ctx, &client, &name).await?;
            }
            if prop_str(props, "encryption_type") == Some("KMS") {
                self.set_encryption(&client, &name, props, None, None).await?;
                self.wait_active(ctx, &client, &name).await?;
            }
            let t = tags::desired(props);
            if !t.is_empty() {
                self.set_tags(&client, &name, &BTreeMap::new(), &t).await?;
            }
            Ok::<(), ProviderError>(())
        };
        finish.await.map_err(|e| e.with_partial(partial.clone()))?;
        self.read(ctx, &name)
            .await?
            .ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("{name} vanished right after creation")).with_partial(partial))
    }

    /// Names are unique per account and region: an interrupted create's
    /// object is the one with its name.
    async fn find(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Found> {
        match prop_str(props, "stream_name") {
            Some(name) => Ok(self.read(ctx, name).await?.into()),
            None => Ok(Found::CannotTell),
        }
    }

    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let client = self.aws.kinesis(ctx.region()?).await;
        let name = name_of(id);
        let Some(d) = gone_is_none(client.describe_stream_summary().stream_name(name).send().await.map_err(|e| classify("DescribeStreamSummary", name, e)))? else { return Ok(None) };
        let Some(s) = d.stream_description_summary() else { return Ok(None) };
        if s.stream_status() == &StreamStatus::Deleting {
            return Ok(None);
        }
        let mut p = Map::new();
        p.insert("stream_name".into(), json!(s.stream_name()));
        p.insert("retention_period_hours".into(), json!(s.retention_period_hours()));
        let stream_mode = s.stream_mode_details().map(|m| m.stream_mode().as_str().to_string());
        if let Some(m) = &stream_mode {
            p.insert("stream_mode_details".into(), json!({ "stream_mode": m }));
        }
        if stream_mode.as_deref() != Some("ON_DEMAND") {
            p.insert("shard_count".into(), json!(s.open_shard_count()));
        }
        let enc = s.encryption_type().map(|e| e.as_str().to_string()).unwrap_or_else(|| "NONE".into());
        p.insert("encryption_type".into(), json!(enc));
        // The key only means something while the stream is encrypted.
        if let Some(k) = s.key_id().filter(|_| enc == "KMS") {
            p.insert("key_id".into(), json!(k));
        }
        // DescribeStreamSummary has no tags: a second call, made only when
        // the caller compares them.
        if ctx.wants("tags") {
            let t = client.list_tags_for_stream().stream_name(name).send().await.map_err(|e| classify("ListTagsForStream", name, e))?;
            p.insert("tags".into(), tags::to_value(t.tags().iter().map(|t| (t.key().to_string(), t.value().unwrap_or("").to_string()))));
        }
        let mut outputs = BTreeMap::new();
        outputs.insert("arn".into(), json!(s.stream_arn()));
        outputs.insert("name".into(), json!(s.stream_name()));
        Ok(Some(Observed { id: s.stream_name().to_string(), properties: p, outputs }))
    }

    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        let client = self.aws.kinesis(ctx.region()?).await;
        let name = name_of(id).to_string();
        // What the stream is now decides the calls (increase or decrease, stop with which key).
        let now = self
            .read(ctx, &name)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("UpdateStream {name}: the stream is gone; re-run plan to create it")))?;
        let now_str = |k: &str| now.properties.get(k).and_then(Value::as_str).map(str::to_string);
        only_in_place(
            &format!("stream {name}"),
            changed,
            &["stream_mode_details", "shard_count", "retention_period_hours", "encryption_type", "key_id", "tags"],
        )?;
        let has = |f: &str| changed.iter().any(|c| c == f);
        // Mode first: a shard count only applies to a PROVISIONED stream.
        // UpdateStreamMode takes the ARN, not the name.
        // https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateStreamMode.html
        if has("stream_mode_details") {
            if let Some(m) = mode(desired).filter(|m| mode(&now.properties) != Some(*m)) {
                let arn = now.outputs.get("arn").and_then(Value::as_str).unwrap_or_default();
                let details = StreamModeDetails::builder()
                    .stream_mode(StreamMode::from(m))
                    .build()
                    .map_err(|e| ProviderError::invalid(e.to_string()))?;
                client
                    .update_stream_mode()
                    .stream_arn(arn)
                    .stream_mode_details(details)
                    .send()
                    .await
                    .map_err(|e| classify("UpdateStreamMode", &name, e))?;
                self.wait_active(ctx, &client, &name).await?;
            }
        }
        // UpdateShardCount works on PROVISIONED streams only; UNIFORM_SCALING is its one
        // scaling type, and one call may at most double or halve the open shards, so a
        // larger change goes in steps, each waited to ACTIVE.
        // https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateShardCount.html
        let on_demand = mode(desired).or(mode(&now.properties)) == Some("ON_DEMAND");
        if has("shard_count") && !on_demand {
            if let (Some(target), Some(mut current)) = (prop_i64(desired, "shard_count"), prop_i64(&now.properties, "shard_count")) {
                while current != target {
                    let step = shard_step(current, target);
                    let n = i32::try_from(step).map_err(|_| ProviderError::invalid("shard_count is out of range"))?;
                    ctx.report(format!("resharding {name}: {current} -> {step} shards"));
                    client
                        .update_shard_count()
                        .stream_name(&name)
                        .target_shard_count(n)
                        .scaling_type(ScalingType::UniformScaling)
                        .send()
                        .await
                        .map_err(|e| classify("UpdateShardCount", &name, e))?;
                    self.wait_active(ctx, &client, &name).await?;
                    current = step;
                }
            }
        }
        // Increase/DecreaseStreamRetentionPeriod: the new value must be above / below the current one.
        // https://docs.aws.amazon.com/kinesis/latest/APIReference/API_IncreaseStreamRetentionPeriod.html
        if has("retention_period_hours") {
            let from = prop_i64(&now.properties, "retention_period_hours").unwrap_or(24);
            let to = prop_i64(desired, "retention_period_hours").unwrap_or(24);
            if from != to {
                self.set_retention(&client, &name, from, to).await?;
                self.wait_active(ctx, &client, &name).await?;
            }
        }
        if has("encryption_type") || has("key_id") {
            self.set_encryption(&client, &name, desired, now_str("encryption_type").as_deref(), now_str("key_id").as_deref()).await?;
            self.wait_active(ctx, &client, &name).await?;
        }
        if has("tags") {
            self.set_tags(&client, &name, &tandem_provider::prop_tags(&now.properties, "tags"), &tags::desired(desired)).await?;
        }
        self.read(ctx, &name).await?.ok_or_else(|| ProviderError::not_found(format!("{name} is gone")))
    }

    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.kinesis(ctx.region()?).await;
        let name = name_of(id).to_string();
        let delete = async {
            client.delete_stream().stream_name(&name).enforce_consumer_deletion(true).send().await.map_err(|e| classify("DeleteStream", &name, e))
        };
        delete_and_wait(ctx, "stream deletion", delete, || async {
            let d = client.describe_stream_summary().stream_name(&name).send().await.map_err(|e| classify("DescribeStreamSummary", &name, e))?;
            Ok(Some(d.stream_description_summary().map(|s| s.stream_status().as_str().to_string()).unwrap_or_default()))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshards_by_at_most_double_or_half() {
        let path = |mut c: i64, t: i64| {
            let mut steps = vec![];
            while c != t {
                c = shard_step(c, t);
                steps.push(c);
            }
            steps
        };
        assert_eq!(path(1, 2), [2]);
        assert_eq!(path(1, 5), [2, 4, 5]);
        assert_eq!(path(10, 2), [5, 3, 2]);
        assert_eq!(path(3, 1), [2, 1]);
        assert_eq!(path(4, 3), [3]);
    }

    #[test]
    fn arn_or_name() {
        assert_eq!(name_of("arn:aws:kinesis:us-east-1:123456789012:stream/ctr"), "ctr");
        assert_eq!(name_of("ctr"), "ctr");
    }
}
