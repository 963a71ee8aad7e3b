//! `aws.connect.replica`: the replica of an Amazon Connect instance in a
//! second region, for Connect Global Resiliency (ReplicateInstance /
//! DescribeInstance / DeleteInstance). The resource's `region` is the SOURCE
//! region; the replica lives in `replica_region`.
//! https://docs.aws.amazon.com/connect/latest/APIReference/API_ReplicateInstance.html

use super::instance::{arn_region, client_token, found, fresh_token, id_of};
use crate::{classify, AwsContext};
use async_trait::async_trait;
use aws_sdk_connect::types::InstanceStatus;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{prop_str, wait_until, Ctx, ErrorClass, KindSchema, Observed, ProviderError, ResourceKind, Result, WaitOutcome, Waiter};
use tandem_schema::{Check, Field, OutputDef, Type};

/// The region pairs Connect Global Resiliency allows, source -> replica:
/// US East (N. Virginia) <-> US West (Oregon), Europe (Frankfurt) <-> Europe
/// (London), Asia Pacific (Tokyo) -> Asia Pacific (Osaka).
/// https://docs.aws.amazon.com/connect/latest/adminguide/setup-connect-global-resiliency.html
/// https://docs.aws.amazon.com/connect/latest/APIReference/API_ReplicateInstance.html
const PAIRS: &[(&str, &str)] = &[
    ("us-east-1", "us-west-2"),
    ("us-west-2", "us-east-1"),
    ("eu-central-1", "eu-west-2"),
    ("eu-west-2", "eu-central-1"),
    ("ap-northeast-1", "ap-northeast-3"),
];

/// May an instance in `source` be replicated into `replica`?
pub fn allowed_replica_pair(source: &str, replica: &str) -> bool {
    PAIRS.contains(&(source, replica))
}

fn allowed_from(source: &str) -> Vec<&'static str> {
    PAIRS.iter().filter(|(s, _)| *s == source).map(|(_, r)| *r).collect()
}

pub struct Replica {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

impl Replica {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.connect.replica",
            doc: "The replica of a Connect instance in a second region (Global Resiliency). `region` is the source instance's region. Replicating also makes the default traffic distribution group.",
            api_reference: "https://docs.aws.amazon.com/connect/latest/APIReference/API_ReplicateInstance.html",
            regional: true,
            properties: vec![
                Field::new("instance_id", Type::String).required().force_new().refers_to(&["aws.connect.instance"]).doc("InstanceId: the id or ARN of the source instance (in `region`)."),
                Field::new("replica_region", Type::String).required().force_new().doc("ReplicaRegion: us-east-1 <-> us-west-2, eu-central-1 <-> eu-west-2, ap-northeast-1 -> ap-northeast-3."),
                Field::new("replica_alias", Type::String).required().force_new().check(Check::Length(1, 45)).doc("ReplicaAlias: the replica instance's alias, unique like any instance alias."),
            ],
            outputs: vec![
                OutputDef::new("id", "The replica instance's id (the same as the source instance's)."),
                OutputDef::new("arn", "The replica instance's ARN (in the replica region)."),
                OutputDef::new("replica_region", "The replica's region."),
            ],
            name_field: None,
            import_id: "the replica instance's ARN (arn:aws:connect:REPLICA_REGION:ACCOUNT:instance/ID)",
        };
        Replica { aws, schema }
    }

    /// DescribeInstance in the replica region until the replica is ACTIVE.
    async fn wait_active(&self, ctx: &Ctx, client: &aws_sdk_connect::Client, arn: &str) -> Result<()> {
        wait_until(ctx, "replica instance", Waiter::default(), || async {
            let d = found(client.describe_instance().instance_id(arn).send().await.map_err(|e| classify("DescribeInstance", arn, e)))?;
            Ok(match d.as_ref().and_then(|d| d.instance()).and_then(|i| i.instance_status()) {
                Some(InstanceStatus::Active) => WaitOutcome::Ready(()),
                Some(InstanceStatus::CreationFailed) => WaitOutcome::Failed("CREATION_FAILED".into()),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Pending("not visible yet".into()),
            })
        })
        .await
    }
}

/// The replica's region from its ARN (the resource id).
fn replica_region_of(id: &str) -> Result<&str> {
    arn_region(id).ok_or_else(|| ProviderError::invalid(format!("{id} is not a Connect instance ARN: a replica is identified by its ARN in the replica region")))
}

#[async_trait]
impl ResourceKind for Replica {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let source = ctx.region()?;
        let instance = prop_str(props, "instance_id").ok_or_else(|| ProviderError::invalid("instance_id is required"))?;
        let replica_region = prop_str(props, "replica_region").ok_or_else(|| ProviderError::invalid("replica_region is required"))?;
        let alias = prop_str(props, "replica_alias").ok_or_else(|| ProviderError::invalid("replica_alias is required"))?;
        if !allowed_replica_pair(source, replica_region) {
            let allowed = allowed_from(source);
            return Err(ProviderError::invalid(format!(
                "{}: Connect Global Resiliency cannot replicate an instance from {source} to {replica_region}; {}",
                ctx.address,
                if allowed.is_empty() { format!("{source} is not a source region (sources: us-east-1, us-west-2, eu-central-1, eu-west-2, ap-northeast-1)") } else { format!("from {source} the replica region must be {}", allowed.join(" or ")) }
            )));
        }
        let client = self.aws.connect(source).await;
        let replica_client = self.aws.connect(replica_region).await;
        let input = json!({ "instance": instance, "replica_region": replica_region, "alias": alias });
        let send = |token: String| client.replicate_instance().instance_id(instance).replica_region(replica_region).replica_alias(alias).client_token(token).send();
        // The same ClientToken after a crash returns the replica the crashed run started.
        let out = send(client_token(ctx, "ReplicateInstance", &input)).await.map_err(|e| classify("ReplicateInstance", instance, e))?;
        let mut arn = out.arn().unwrap_or_default().to_string();
        if found(replica_client.describe_instance().instance_id(&arn).send().await.map_err(|e| classify("DescribeInstance", &arn, e)))?.is_none() {
            ctx.report(format!("replica {arn} from an earlier run is gone; replicating again"));
            let out = send(fresh_token(ctx, "ReplicateInstance", &input)).await.map_err(|e| classify("ReplicateInstance", instance, e))?;
            arn = out.arn().unwrap_or_default().to_string();
        }
        if arn_region(&arn) != Some(replica_region) {
            return Err(ProviderError::new(ErrorClass::Other, format!("ReplicateInstance {instance}: the answer's ARN {arn:?} is not in {replica_region}")));
        }
        let partial = Observed { id: arn.clone(), ..Default::default() };
        self.wait_active(ctx, &replica_client, &arn).await.map_err(|e| e.with_partial(partial.clone()))?;
        self.read(ctx, &arn).await?.ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("replica {arn} vanished right after creation")).with_partial(partial))
    }

    /// DescribeInstance of the replica in its region. `instance_id` is not read
    /// back: the spec may name the source by id or ARN, and the replica keeps
    /// the source's id whichever it was.
    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let replica_region = replica_region_of(id)?;
        let client = self.aws.connect(replica_region).await;
        let Some(d) = found(client.describe_instance().instance_id(id).send().await.map_err(|e| classify("DescribeInstance", id, e)))? else { return Ok(None) };
        let Some(i) = d.instance() else { return Ok(None) };
        // What answers must be a replica of an instance in this resource's region.
        let source = d.replication_configuration().and_then(|r| r.source_region());
        if let (Some(source), Ok(region)) = (source, ctx.region()) {
            if source != region {
                return Err(ProviderError::invalid(format!("{id} is a replica of an instance in {source}, not in {region}")));
            }
        }
        let mut p = Map::new();
        p.insert("replica_region".into(), json!(replica_region));
        if let Some(a) = i.instance_alias() {
            p.insert("replica_alias".into(), json!(a));
        }
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(i.id().unwrap_or(id_of(id))));
        outputs.insert("arn".into(), json!(i.arn().unwrap_or(id)));
        outputs.insert("replica_region".into(), json!(replica_region));
        Ok(Some(Observed { id: i.arn().unwrap_or(id).to_string(), properties: p, outputs }))
    }

    async fn update(&self, _ctx: &Ctx, id: &str, _prior: &Map<String, Value>, _desired: &Map<String, Value>, changed: &[String]) -> Result<Observed> {
        // Every property forces a new replica; nothing changes in place.
        Err(ProviderError::invalid(format!("{} of replica {id} cannot be changed in place", changed.join(", "))))
    }

    /// DeleteInstance of the replica, in the replica region (a replica is
    /// deleted in its own region), then wait until it is gone.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DeleteInstance.html
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.connect(replica_region_of(id)?).await;
        if found(client.delete_instance().instance_id(id).send().await.map_err(|e| classify("DeleteInstance", id, e)))?.is_none() {
            return Ok(());
        }
        wait_until(ctx, "replica deletion", Waiter::default(), || async {
            match found(client.describe_instance().instance_id(id).send().await.map_err(|e| classify("DescribeInstance", id, e)))? {
                None => Ok(WaitOutcome::Ready(())),
                Some(d) => Ok(WaitOutcome::Pending(d.instance().and_then(|i| i.instance_status()).map(|s| s.as_str().to_string()).unwrap_or_else(|| "deleting".into()))),
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_global_resiliency_pairs() {
        assert!(allowed_replica_pair("us-east-1", "us-west-2"));
        assert!(allowed_replica_pair("us-west-2", "us-east-1"));
        assert!(allowed_replica_pair("eu-central-1", "eu-west-2"));
        assert!(allowed_replica_pair("eu-west-2", "eu-central-1"));
        assert!(allowed_replica_pair("ap-northeast-1", "ap-northeast-3"));
        assert!(!allowed_replica_pair("ap-northeast-3", "ap-northeast-1"));
        assert!(!allowed_replica_pair("us-east-1", "eu-west-2"));
        assert!(!allowed_replica_pair("us-east-1", "us-east-1"));
    }
}
