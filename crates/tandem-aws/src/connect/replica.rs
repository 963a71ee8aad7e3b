//! `aws.connect.replica`: the replica of an Amazon Connect instance in a
//! second region, for Connect Global Resiliency (ReplicateInstance /
//! DescribeInstance / DeleteInstance), with the settings replication does not
//! copy: the replica's own storage configs and flow logs. The resource's
//! `region` is the SOURCE region; the replica lives in `replica_region`.
//! https://docs.aws.amazon.com/connect/latest/APIReference/API_ReplicateInstance.html
//! https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html

use super::instance::{arn_region, attribute, client_token, fresh_token, id_of, set_attribute, set_storage, storage, STORAGE};
use super::linked;
use crate::{classify, AwsContext};
use async_trait::async_trait;
use aws_sdk_connect::types::InstanceStatus;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tandem_provider::{only_in_place, required_id, delete_and_wait, gone_is_none, 
    await_visible, prop_str, wait_until, Ctx, ErrorClass, Finding, Invalid, KindSchema, Observed, ProviderError, ResourceKind, Result,
    SpecResource, SpecView, WaitOutcome, Waiter,
};
use tandem_schema::{Check, Field, OutputDef, Type};

/// The region pairs Connect Global Resiliency allows, source -> replica:
/// "You can only create a replica in the US East (N. Virginia) Region if your
/// source is US West (Oregon), or the other way around", the same for Europe
/// (Frankfurt) and Europe (London), and "You can only create a replica in
/// Asia Pacific (Osaka) Region if your source is Asia Pacific (Tokyo)".
/// https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html
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

/// What is wrong with replicating from `source` into `replica`, if anything.
pub(super) fn pair_problem(source: &str, replica: &str) -> Option<String> {
    if allowed_replica_pair(source, replica) {
        return None;
    }
    let allowed = allowed_from(source);
    Some(format!(
        "Connect Global Resiliency cannot replicate an instance from {source} to {replica}; {}",
        if allowed.is_empty() {
            format!("{source} is not a source region (sources: us-east-1, us-west-2, eu-central-1, eu-west-2, ap-northeast-1)")
        } else {
            format!("from {source} the replica region must be {}", allowed.join(" or "))
        }
    ))
}

pub struct Replica {
    aws: Arc<AwsContext>,
    schema: KindSchema,
}

impl Replica {
    pub fn new(aws: Arc<AwsContext>) -> Self {
        let schema = KindSchema {
            type_name: "aws.connect.replica",
            doc: "The replica of a Connect instance in a second region (Global Resiliency). `region` is the source instance's region; the source must use SAML and have an alias. Replicating makes the default traffic distribution group and copies the configuration (hours, queues, flows, routing profiles, users, security profiles, number-to-flow associations), which Global Resiliency then keeps in sync both ways. Storage configs and flow logs are per region: set the replica's here.",
            api_reference: "https://docs.aws.amazon.com/connect/latest/APIReference/API_ReplicateInstance.html",
            regional: true,
            properties: vec![
                Field::new("instance_id", Type::String)
                    .required()
                    .force_new()
                    .arn_or_id()
                    .refers_to(&["aws.connect.instance"])
                    .doc("InstanceId: the id or ARN of the source instance (in `region`); it must use SAML identity management."),
                Field::new("replica_region", Type::String).required().force_new().doc("ReplicaRegion: us-east-1 <-> us-west-2, eu-central-1 <-> eu-west-2, ap-northeast-1 -> ap-northeast-3."),
                Field::new("replica_alias", Type::String).required().force_new().check(Check::Length(1, 45)).doc("ReplicaAlias: the replica instance's alias, unique like any instance alias."),
                Field::new("contact_flow_logs", Type::Boolean).computed().doc("The replica's CONTACTFLOW_LOGS instance attribute (not mirrored from the source)."),
                Field::new("contact_trace_records_stream_arn", Type::String)
                    .refers_to(&["aws.kinesis.stream"])
                    .doc("The Kinesis stream (in replica_region) for the replica's contact trace records (storage config CONTACT_TRACE_RECORDS); storage configs are not mirrored."),
                Field::new("agent_events_stream_arn", Type::String)
                    .refers_to(&["aws.kinesis.stream"])
                    .doc("The Kinesis stream (in replica_region) for the replica's agent events (storage config AGENT_EVENTS)."),
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

    /// Until the source reports INSTANCE_REPLICATION_COMPLETE for the replica
    /// region and the replica is ACTIVE; INSTANCE_REPLICATION_FAILED is final,
    /// with its ReplicationStatusReason.
    async fn wait_replicated(&self, ctx: &Ctx, source: &str, replica_region: &str, id: &str) -> Result<()> {
        let replica = self.aws.connect(replica_region).await;
        wait_until(ctx, "replica instance", Waiter::default(), || async {
            let Some(l) = linked::linked(&self.aws, source, id).await? else {
                return Ok(WaitOutcome::Pending("replication not reported yet".into()));
            };
            match l.status.as_str() {
                "INSTANCE_REPLICATION_COMPLETE" => {}
                "INSTANCE_REPLICATION_FAILED" => {
                    return Ok(WaitOutcome::Failed(format!(
                        "INSTANCE_REPLICATION_FAILED: {}; delete the replica (`tandem destroy --target {}`) and apply again",
                        l.reason.unwrap_or_else(|| "no reason given".into()),
                        ctx.address
                    )))
                }
                other => return Ok(WaitOutcome::Pending(other.to_string())),
            }
            let d = gone_is_none(replica.describe_instance().instance_id(id).send().await.map_err(|e| classify("DescribeInstance", id, e)))?;
            Ok(match d.as_ref().and_then(|d| d.instance()).and_then(|i| i.instance_status()) {
                Some(InstanceStatus::Active) => WaitOutcome::Ready(()),
                Some(InstanceStatus::CreationFailed) => WaitOutcome::Failed("the replica instance is CREATION_FAILED".into()),
                Some(s) => WaitOutcome::Pending(s.as_str().to_string()),
                None => WaitOutcome::Pending("not visible yet".into()),
            })
        })
        .await
    }

    /// The replica's own settings: flow logs and storage configs.
    async fn configure(
        &self,
        ctx: &Ctx,
        replica_region: &str,
        id: &str,
        props: &Map<String, Value>,
        only: Option<&[String]>,
    ) -> Result<()> {
        let client = self.aws.connect(replica_region).await;
        let wanted = |f: &str| only.is_none_or(|o| o.iter().any(|c| c == f));
        if wanted("contact_flow_logs") {
            if let Some(v) = props.get("contact_flow_logs").and_then(Value::as_bool) {
                set_attribute(&client, id, "CONTACTFLOW_LOGS", v).await?;
            } else if only.is_some() {
                set_attribute(&client, id, "CONTACTFLOW_LOGS", false).await?;
            }
        }
        for (prop, resource_type) in STORAGE {
            if wanted(prop) && (only.is_some() || props.get(*prop).is_some_and(|v| !v.is_null())) {
                set_storage(ctx, &client, id, resource_type, prop_str(props, prop)).await?;
            }
        }
        Ok(())
    }
}

/// The replica's region from its ARN (the resource id).
fn replica_region_of(id: &str) -> Result<&str> {
    arn_region(id).ok_or_else(|| {
        ProviderError::invalid(format!("{id} is not a Connect instance ARN: a replica is identified by its ARN in the replica region"))
    })
}

#[async_trait]
impl ResourceKind for Replica {
    fn schema(&self) -> &KindSchema {
        &self.schema
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "connect:ReplicateInstance",
            "connect:DescribeInstance",
            "connect:DeleteInstance",
            "connect:UpdateInstanceAttribute",
            "connect:DescribeInstanceAttribute",
            "connect:AssociateInstanceStorageConfig",
            "connect:DisassociateInstanceStorageConfig",
            "connect:ListInstanceStorageConfigs",
            "ds:CheckAlias",
            "ds:CreateAlias",
            "ds:CreateIdentityPoolDirectory",
            "ds:DeleteDirectory",
            "ds:DescribeDirectories",
            "ds:UnauthorizeApplication",
            "iam:CreateServiceLinkedRole",
            "iam:PutRolePolicy",
            "kinesis:DescribeStream",
        ]
    }

    fn validate(&self, region: Option<&str>, props: &Map<String, Value>) -> Vec<Invalid> {
        match (region, prop_str(props, "replica_region")) {
            (Some(source), Some(replica)) => {
                pair_problem(source, replica).map(|m| vec![Invalid::new("replica_region", m)]).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }

    /// Before any call: the documented reasons ReplicateInstance fails with
    /// InvalidRequestException that the spec already shows ("does not have
    /// SAML enabled", "does not have an alias", same or disallowed region),
    /// and the replica's streams in the replica's region.
    /// https://docs.aws.amazon.com/connect/latest/adminguide/create-replica-connect-instance.html#why-replicateinstance-fails
    fn validate_in(&self, me: &SpecResource<'_>, spec: &dyn SpecView) -> Vec<Invalid> {
        let mut out = self.validate(me.region, me.props);
        if let Some(source) = me.referenced("instance_id").and_then(|a| spec.get(a)) {
            let idm = prop_str(source.props, "identity_management_type");
            if idm.is_some_and(|t| t != "SAML") {
                out.push(Invalid::new(
                    "instance_id",
                    format!(
                        "`{}` uses {} identity management, but Global Resiliency replicates only SAML instances (ReplicateInstance fails with InvalidRequestException): set `identity_management_type: SAML` on `{}`",
                        source.address,
                        idm.unwrap_or_default(),
                        source.address
                    ),
                ));
            }
            if !source.props.contains_key("instance_alias") {
                out.push(Invalid::new(
                    "instance_id",
                    format!(
                        "`{}` has no instance_alias, and an instance without an alias cannot be replicated: give it one",
                        source.address
                    ),
                ));
            }
            if source.region.is_some() && source.region != me.region {
                out.push(Invalid::new(
                    "instance_id",
                    format!(
                        "the replica's `region` is the source instance's region ({}), where ReplicateInstance is called",
                        source.region.unwrap_or_default()
                    ),
                ));
            }
        }
        if let Some(replica) = prop_str(me.props, "replica_region") {
            for prop in ["contact_trace_records_stream_arn", "agent_events_stream_arn"] {
                let region = match me.referenced(prop).and_then(|a| spec.get(a)) {
                    Some(stream) => stream.region.map(str::to_string),
                    None => prop_str(me.props, prop).and_then(|arn| arn.split(':').nth(3)).map(str::to_string),
                };
                if let Some(r) = region.filter(|r| r != replica) {
                    out.push(Invalid::new(
                        prop,
                        format!("the replica in {replica} writes to a stream in its own region; this stream is in {r}"),
                    ));
                }
            }
        }
        out
    }

    async fn preflight(&self, ctx: &Ctx, me: &SpecResource<'_>, spec: &dyn SpecView) -> Vec<Finding> {
        super::preflight::replica(&self.aws, ctx, me, spec).await
    }

    async fn create(&self, ctx: &Ctx, props: &Map<String, Value>) -> Result<Observed> {
        let source = ctx.region()?;
        let instance = prop_str(props, "instance_id").ok_or_else(|| ProviderError::invalid("instance_id is required"))?;
        let replica_region = prop_str(props, "replica_region").ok_or_else(|| ProviderError::invalid("replica_region is required"))?;
        let alias = prop_str(props, "replica_alias").ok_or_else(|| ProviderError::invalid("replica_alias is required"))?;
        if let Some(m) = pair_problem(source, replica_region) {
            return Err(ProviderError::invalid(format!("{}: {m}", ctx.address)));
        }
        let id = id_of(instance).to_string();
        let client = self.aws.connect(source).await;
        let input = json!({ "instance": id, "replica_region": replica_region, "alias": alias });
        let send = |token: String| {
            client.replicate_instance().instance_id(instance).replica_region(replica_region).replica_alias(alias).client_token(token).send()
        };
        // The same ClientToken after a crash returns the replica the crashed run started.
        let out = send(client_token(ctx, "ReplicateInstance", &input)).await.map_err(|e| classify("ReplicateInstance", instance, e))?;
        let mut arn = out
            .arn()
            .map(str::to_string)
            .ok_or_else(|| ProviderError::new(ErrorClass::Other, format!("ReplicateInstance {instance}: the answer has no Arn")))?;
        // The source lists the replica's region once replication started;
        // right after the call it may not yet (eventual consistency).
        let listed = await_visible(ctx, "replication", ctx.consistency, || async {
            Ok(linked::linked(&self.aws, source, &id).await?.filter(|l| l.peer_region == replica_region))
        })
        .await?;
        if listed.is_none() {
            // The token's first answer was a replica deleted since.
            ctx.report(format!("replica {arn} from an earlier run is gone; replicating again"));
            let out = send(fresh_token(ctx, "ReplicateInstance", &input)).await.map_err(|e| classify("ReplicateInstance", instance, e))?;
            arn = required_id("aws.connect.replica", "ReplicateInstance", out.arn())?;
        }
        if arn_region(&arn) != Some(replica_region) {
            return Err(ProviderError::new(
                ErrorClass::Other,
                format!("ReplicateInstance {instance}: the answer's ARN {arn:?} is not in {replica_region}"),
            ));
        }
        ctx.made(&arn).await;
        let partial = Observed { id: arn.clone(), ..Default::default() };
        self.wait_replicated(ctx, source, replica_region, &id).await.map_err(|e| e.with_partial(partial.clone()))?;
        self.configure(ctx, replica_region, &id, props, None).await.map_err(|e| e.with_partial(partial.clone()))?;
        self.read(ctx, &arn).await?.ok_or_else(|| {
            ProviderError::new(ErrorClass::Other, format!("replica {arn} vanished right after creation")).with_partial(partial)
        })
    }

    /// DescribeInstance of the replica in its region, by id (the replica keeps
    /// the source's id; operations outside Global Resiliency take ids).
    async fn read(&self, ctx: &Ctx, id: &str) -> Result<Option<Observed>> {
        let replica_region = replica_region_of(id)?;
        let iid = id_of(id);
        let client = self.aws.connect(replica_region).await;
        let Some(d) = gone_is_none(client.describe_instance().instance_id(iid).send().await.map_err(|e| classify("DescribeInstance", iid, e)))?
        else {
            return Ok(None);
        };
        let Some(i) = d.instance() else { return Ok(None) };
        // What answers must be a replica of an instance in this resource's region.
        let source = d.replication_configuration().and_then(|r| r.source_region());
        if let (Some(source), Ok(region)) = (source, ctx.region()) {
            if source != region {
                return Err(ProviderError::invalid(format!("{id} is a replica of an instance in {source}, not in {region}")));
            }
        }
        if let Some(s) = d
            .replication_configuration()
            .and_then(|r| r.replication_status_summary_list().iter().find(|s| s.region() == Some(replica_region)))
        {
            if s.replication_status().is_some_and(|st| st.as_str() == "INSTANCE_REPLICATION_FAILED") {
                ctx.remark(format!(
                    "replication to {replica_region} FAILED: {}",
                    s.replication_status_reason().unwrap_or("no reason given")
                ));
            }
        }
        let mut p = Map::new();
        p.insert("instance_id".into(), json!(iid));
        p.insert("replica_region".into(), json!(replica_region));
        if let Some(a) = i.instance_alias() {
            p.insert("replica_alias".into(), json!(a));
        }
        if i.instance_status() == Some(&InstanceStatus::Active) {
            if let Some(v) = attribute(&client, iid, "CONTACTFLOW_LOGS").await? {
                p.insert("contact_flow_logs".into(), json!(v));
            }
            for (prop, resource_type) in STORAGE {
                if let Some((_, Some(arn))) = storage(&client, iid, resource_type).await?.into_iter().next() {
                    p.insert((*prop).into(), json!(arn));
                }
            }
        }
        let arn = i.arn().unwrap_or(id).to_string();
        let mut outputs = BTreeMap::new();
        outputs.insert("id".into(), json!(i.id().unwrap_or(iid)));
        outputs.insert("arn".into(), json!(arn));
        outputs.insert("replica_region".into(), json!(replica_region));
        Ok(Some(Observed { id: arn, properties: p, outputs }))
    }

    /// The replica's own settings change in place; anything else makes a new replica.
    async fn update(
        &self,
        ctx: &Ctx,
        id: &str,
        _prior: &Map<String, Value>,
        desired: &Map<String, Value>,
        changed: &[String],
    ) -> Result<Observed> {
        let in_place = ["contact_flow_logs", "contact_trace_records_stream_arn", "agent_events_stream_arn"];
        only_in_place(&format!("replica {id}"), changed, &in_place)?;
        self.configure(ctx, replica_region_of(id)?, id_of(id), desired, Some(changed)).await?;
        self.read(ctx, id).await?.ok_or_else(|| ProviderError::not_found(format!("replica {id} is gone")))
    }

    /// DeleteInstance of the replica, by id, in the replica region (a replica
    /// is deleted in its own region; the default group goes with it), then
    /// wait until it is gone.
    /// https://docs.aws.amazon.com/connect/latest/APIReference/API_DeleteInstance.html
    async fn delete(&self, ctx: &Ctx, id: &str, _: &Map<String, Value>) -> Result<()> {
        let client = self.aws.connect(replica_region_of(id)?).await;
        let iid = id_of(id).to_string();
        linked::forget(&iid);
        let delete = async { client.delete_instance().instance_id(&iid).send().await.map_err(|e| classify("DeleteInstance", &iid, e)) };
        let result = delete_and_wait(ctx, "replica deletion", delete, || async {
            let d = client.describe_instance().instance_id(&iid).send().await.map_err(|e| classify("DescribeInstance", &iid, e))?;
            Ok(Some(d.instance().and_then(|i| i.instance_status()).map(|s| s.as_str().to_string()).unwrap_or_else(|| "deleting".into())))
        })
        .await;
        linked::forget(&iid);
        result
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
        assert!(pair_problem("us-east-1", "eu-west-1").unwrap().contains("must be us-west-2"));
    }
}
